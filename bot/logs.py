"""Logging set-up. Secrets are scrubbed from every record, user text cannot forge a line, and Slack
libraries never log payloads."""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import datetime, timezone

_TOKEN = re.compile(r"\b(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+)")
# Control characters (C0, DEL, C1) and the Unicode line and paragraph separators: any of them in user
# text could start what looks like a new log line, or rewrite the terminal that shows the log.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Each line of a traceback is indented, so that no line of one can pass for a record of its own.
TRACEBACK_INDENT = "    "


def escape_controls(text: str) -> str:
    return _CONTROL.sub(lambda match: _NAMED_ESCAPES.get(match.group(), f"\\x{ord(match.group()):02x}"
                                                        if ord(match.group()) < 0x100 else
                                                        f"\\u{ord(match.group()):04x}"), text)


class SecretScrubber(logging.Filter):
    """Takes the secrets out of each record, and the control characters out of its message."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def scrub(self, text: str) -> str:
        text = _TOKEN.sub("[token]", text)
        for secret in self.secrets:
            text = text.replace(secret, "[secret]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = escape_controls(self.scrub(record.getMessage())), None
        if record.exc_info and record.exc_info[1] is not None:
            # Formatted now, so that the scrubbed text is what every handler prints.
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record)
        line = self.formatMessage(record)
        traceback = record.exc_text or (
            self.formatException(record.exc_info) if record.exc_info and record.exc_info[1] is not None else "")
        return f"{line}\n{_indented(traceback)}" if traceback else line


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log shippers; the correlation id a field of its own when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        ref = getattr(record, "correlation_id", None)
        if ref:
            entry["correlation_id"] = ref
        if record.exc_info and record.exc_info[1] is not None:
            entry["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["traceback"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def _indented(text: str) -> str:
    return "\n".join(TRACEBACK_INDENT + line for line in text.splitlines())


def configure_logging(level: str = "INFO", secrets: list[str] | None = None, log_format: str = "text") -> None:
    root = logging.getLogger()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(SecretScrubber(secrets or []))
    root.handlers = [handler]
    root.setLevel(level)
    # At DEBUG these libraries print request and response bodies, which carry user content.
    for noisy in ("slack_bolt", "slack_sdk", "urllib3", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLevelName(level)))


def correlation_id() -> str:
    return uuid.uuid4().hex[:10]

"""Logging set-up. Secrets are scrubbed from every record, and Slack libraries never log payloads."""

from __future__ import annotations

import logging
import re
import uuid

_TOKEN = re.compile(r"\b(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+)")


class SecretScrubber(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def scrub(self, text: str) -> str:
        text = _TOKEN.sub("[token]", text)
        for secret in self.secrets:
            text = text.replace(secret, "[secret]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = self.scrub(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Format the traceback now so the scrubbed text is what every handler prints.
            scrubbed += "\n" + self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = scrubbed, None
        return True


def configure_logging(level: str = "INFO", secrets: list[str] | None = None) -> None:
    root = logging.getLogger()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretScrubber(secrets or []))
    root.handlers = [handler]
    root.setLevel(level)
    # At DEBUG these libraries print request and response bodies, which carry user content.
    for noisy in ("slack_bolt", "slack_sdk", "urllib3", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLevelName(level)))


def correlation_id() -> str:
    return uuid.uuid4().hex[:10]

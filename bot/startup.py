"""What a long-running mode checks before it starts, so that a bad setting is one short block naming
it and its fix, and exit code 2, instead of a traceback (or, under gunicorn, workers that boot-loop)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from slack_sdk import WebClient

from bot import doctor
from bot.config import Settings
from bot.errors import ConfigError

# Findings that no start can get past; the rest (a missing scope, a channel without the bot, a
# scheduler that has not ticked) are for `epos doctor`.
FATAL = {("Database", "reachable"), ("Slack", "bot token"), ("Slack", "workspace"), ("Slack", "app")}


def check(settings: Settings, client: WebClient | None) -> None:
    """Raise ConfigError listing every fatal problem at once; return quietly when there is none."""
    findings = doctor.database_reachable(settings)
    if client is not None:
        with _quiet("slack_sdk", "bot.revocation"):
            findings += doctor.slack_identity(settings, client)
    fatal = [f for f in findings if f.ok is False and (f.area, f.name) in FATAL]
    if not fatal:
        return
    lines = [f"{_setting_of(f)}: {f.detail}; {f.fix}" for f in fatal]
    raise ConfigError(lines[0] if len(lines) == 1 else "\n  ".join(["cannot start:", *lines]))


def _setting_of(finding: doctor.Finding) -> str:
    return {"Database": "DATABASE_URL", "workspace": "SLACK_TEAM_ID", "app": "SLACK_APP_ID"}.get(
        finding.area if finding.area == "Database" else finding.name, "SLACK_BOT_TOKEN")


@contextmanager
def _quiet(*logger_names: str) -> Iterator[None]:
    """The client logs each failed try of the check at ERROR; the check's own line says it once, better."""
    loggers = [logging.getLogger(name) for name in logger_names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)

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

INTERNAL_CHANNELS = ("DIGEST_CHANNEL", "DEVREL_CHANNEL")
SHARED_CHANNEL = ("{variable}: {where}, and epos posts only internal content there; set it to a channel only "
                  "your organisation is in (see README › Settings)")
log = logging.getLogger(__name__)

# Findings that no start can get past; the rest (a missing scope, a channel without the bot, a
# scheduler that has not ticked) are for `epos doctor`.
FATAL = {("Database", "reachable"), ("Slack", "bot token"), ("Slack", "workspace"), ("Slack", "app")}


def check(settings: Settings, client: WebClient | None) -> None:
    """Raise ConfigError listing every fatal problem at once; return quietly when there is none."""
    findings = doctor.database_reachable(settings)
    if client is not None:
        with _quiet("slack_sdk", "bot.revocation"):
            findings += doctor.slack_identity(settings, client)
    for finding in doctor.link_previews(settings):
        if finding.ok is False:
            # Not fatal: everything else works, and only the previews of some links are missing.
            log.warning("link previews: %s; %s", finding.detail, finding.fix)
    fatal = [f for f in findings if f.ok is False and (f.area, f.name) in FATAL]
    lines = [f"{_setting_of(f)}: {f.detail}; {f.fix}" for f in fatal]
    if client is not None and not any(f.area == "Slack" for f in fatal):
        lines += shared_internal_channels(settings, client)
    if lines:
        raise ConfigError(lines[0] if len(lines) == 1 else "\n  ".join(["cannot start:", *lines]))


def warn_of_an_open_gate(settings: Settings) -> None:
    """EPOS_PILOT_ONLY with no pilot running keeps nobody out; said at start as `epos doctor` says it, since
    an admin who set it expects the gate to hold. Once running, the middleware logs each change."""
    if not settings.epos_pilot_only:
        return
    from bot import clock
    from bot.services import pilots

    warning = pilots.open_gate(clock.now().astimezone(settings.timezone).date())
    if warning is not None:
        log.warning("%s", warning.line)


def check_internal_channels(settings: Settings, client: WebClient) -> None:
    """ConfigError when the digest or DevRel lead channel is shared with another organisation."""
    problems = shared_internal_channels(settings, client)
    if problems:
        raise ConfigError(problems[0] if len(problems) == 1 else "\n  ".join(["cannot post:", *problems]))


def shared_internal_channels(settings: Settings, client: WebClient) -> list[str]:
    """The digest and DevRel lead channels carry internal content: one shared with another organisation is
    a setting to fix. When Slack cannot say (the bot not yet in a private channel, say), epos starts, and
    every post checks again."""
    from slack_sdk.errors import SlackApiError

    from bot import sharing

    problems = []
    for variable in INTERNAL_CHANNELS:
        channel = getattr(settings, variable.lower())
        if not channel:
            continue
        try:
            found = sharing.sharing(client, channel)
        except (SlackApiError, OSError) as error:
            reason = error.response.get("error") if isinstance(error, SlackApiError) else str(error)
            log.warning("could not check whether %s is shared with another organisation (%s); each post checks "
                        "again", variable, reason)
            continue
        if found.external:
            problems.append(SHARED_CHANNEL.format(variable=variable, where=found.describe().replace(
                f"<#{channel}>", channel)))
    return problems


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

"""Whether Slack still takes our bot token, in this process.

Once Slack says the token is gone (the `tokens_revoked` or `app_uninstalled` event, or a call answered
`invalid_auth`, `token_revoked` or `account_inactive`), every further call would fail the same way and
fill the log, so epos stops calling Slack, the scheduler pauses its posts (they wait, claimed by nobody,
for a later tick), and `/healthz` says why. A new token in the settings and a restart bring it back.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

# What Slack answers when the token itself is no good, as opposed to a refusal of one call.
TOKEN_GONE = frozenset({"invalid_auth", "token_revoked", "account_inactive", "not_authed"})

_lock = threading.Lock()
_reason: str | None = None


def revoked() -> str | None:
    """Why Slack no longer takes the token, or None while it does."""
    return _reason


def mark(reason: str) -> None:
    global _reason
    with _lock:
        if _reason is not None:
            return
        _reason = reason
    log.error("Slack no longer accepts the bot token (%s): epos stops calling Slack and pauses scheduled posts "
              "until it is restarted with a valid SLACK_BOT_TOKEN", reason)


def reset() -> None:
    """For tests, and for a process that starts afresh."""
    global _reason
    with _lock:
        _reason = None

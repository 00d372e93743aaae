"""Whether a conversation is shared with another organisation (Slack Connect), and the one check every
post of internal content goes through before it reaches a conversation.

Deal channels are often shared with the customer. Playbooks, engagement cards, close announcements,
DevRel requests, the digest and nudges are written for our own people: some of it (who decides, what
is held in reserve for the negotiation) must never reach the customer. `check` asks Slack
(`conversations.info`) before such a post and raises `SharedConversation` when the conversation is
shared, or about to be, with another organisation; callers then send it somewhere internal instead.

What Slack says is kept for a few minutes per conversation, so a burst of posts costs one call; the
`channel_shared` / `channel_unshared` events drop the entry at once in the process that receives them,
and the short lifetime bounds how long any other process can go on believing an old answer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

log = logging.getLogger(__name__)

FRESH_FOR = 300.0
SHARED = "shared_with_another_organisation"


class Sharing(BaseModel, frozen=True):
    """What Slack says about who is in a conversation, organisation-wise."""

    channel_id: str
    # Shared with another organisation, or an invitation to share it is pending (it may be accepted any moment).
    external: bool = False
    pending: bool = False
    # Shared between workspaces of our own Enterprise Grid organisation: still internal.
    org_shared: bool = False
    organisations: tuple[str, ...] = ()

    @property
    def names(self) -> str:
        """The other organisations, for a sentence: "Acme Robotics", "Acme and Globex"."""
        names = list(self.organisations) or ["another organisation"]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

    def describe(self) -> str:
        where = f"<#{self.channel_id}>"
        if self.pending and not self.organisations:
            return f"{where} has a pending invitation to share it with another organisation"
        return f"{where} is shared with {self.names}"


class SharedConversation(Exception):
    """Internal content was about to be posted into a conversation another organisation can read."""

    code = SHARED

    def __init__(self, sharing: Sharing) -> None:
        super().__init__(sharing.describe())
        self.sharing = sharing


_lock = threading.Lock()
_known: dict[tuple[str, str], tuple[Sharing, float]] = {}


def is_person_or_dm(channel: str) -> bool:
    """A user id (posting to it opens the bot's DM) or a direct-message id: no organisation to check."""
    return channel[:1] in ("U", "W", "D")


def _key(client: WebClient, channel: str) -> tuple[str, str]:
    # Keyed by the Web API too, so two installations (or two test servers) never share an answer.
    return (str(client.base_url), channel)


def forget(channel: str) -> None:
    """Slack announced a change of sharing: ask again next time."""
    with _lock:
        for key in [k for k in _known if k[1] == channel]:
            del _known[key]


def sharing(client: WebClient, channel: str, *, monotonic: Callable[[], float] = time.monotonic) -> Sharing:
    """Whether `channel` is shared with another organisation. Slack's refusal (`channel_not_found`,
    `missing_scope`, ...) reaches the caller as SlackApiError: not knowing is never taken as internal."""
    if is_person_or_dm(channel):
        return Sharing(channel_id=channel)
    key = _key(client, channel)
    with _lock:
        entry = _known.get(key)
        if entry is not None and monotonic() - entry[1] < FRESH_FOR:
            return entry[0]
    info = client.conversations_info(channel=channel)["channel"]
    found = read(channel, info, name_team=lambda team_id: _team_name(client, team_id))
    with _lock:
        _known[key] = (found, monotonic())
    return found


def read(channel: str, info: Mapping[str, Any], *, name_team: Callable[[str], str] | None = None) -> Sharing:
    """The sharing a `conversations.info` answer describes. The other organisations are named only when
    `name_team` is given (a `team.info` call each)."""
    own_team = str(info.get("context_team_id") or "")
    other_teams = [t for t in (info.get("connected_team_ids") or info.get("shared_team_ids") or [])
                   if t and t != own_team and t not in (info.get("internal_team_ids") or [])]
    pending = bool(info.get("is_pending_ext_shared"))
    external = bool(info.get("is_ext_shared")) or pending
    named = external and name_team is not None
    return Sharing(channel_id=channel, external=external, pending=pending,
                   org_shared=bool(info.get("is_org_shared")),
                   organisations=tuple(name_team(t) for t in other_teams) if named else ())


def _team_name(client: WebClient, team_id: str) -> str:
    try:
        return str(client.team_info(team=team_id)["team"].get("name") or team_id)
    except SlackApiError as error:
        log.info("team.info could not name a connected organisation: %s", error.response.get("error"))
        return "another organisation"


def check(client: WebClient, channel: str) -> Sharing:
    """Raise SharedConversation when internal content must not go into `channel`."""
    found = sharing(client, channel)
    if found.external:
        log.info("kept internal content out of a conversation shared with another organisation")
        raise SharedConversation(found)
    return found


def post(client: WebClient, channel: str, **message: Any) -> SlackResponse:
    """`chat.postMessage` of internal content, after `check`."""
    check(client, channel)
    return client.chat_postMessage(channel=channel, **message)


def update(client: WebClient, channel: str, ts: str, **message: Any) -> SlackResponse:
    """`chat.update` of internal content: a conversation shared since the first post gets no more of it."""
    check(client, channel)
    return client.chat_update(channel=channel, ts=ts, **message)

"""Which timezone a person sees epos's times in, answered one way for handlers and jobs alike.

A DevRel person's is the one on the roster (they set it for their working hours); anyone else's is the
one Slack shows on their profile, read through the people cache; failing both, EPOS_TIMEZONE."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot import clock, slack_people
from bot.services import people


def named(name: str | None, default: ZoneInfo) -> ZoneInfo:
    """A timezone kept by name (on the roster, in a form's metadata); `default` when there is none or
    it is not one epos knows."""
    return clock.zone_named(name) or default


def cached_name(user_id: str) -> str | None:
    """The person's timezone as last read from Slack, without asking Slack again: for the moments Slack's
    3 seconds do not allow a call (before a form opens, while a form waits for its answer)."""
    known = people.cached(user_id)
    return known.timezone if known and known.timezone else None


def slack_name(client: WebClient, user_id: str) -> str | None:
    """The person's timezone as Slack shows it now (through the cache); None when Slack does not say."""
    return slack_people.person(client, user_id).timezone or None


class Zones:
    """The timezones of the people one message, one click or one tick is about, each looked up once.

    `roster`: timezone names by Slack id, for DevRel people; `client=None` reads the cache alone (a
    dry run)."""

    def __init__(self, client: WebClient | None, default: ZoneInfo, *, roster: Mapping[str, str | None] | None = None) -> None:
        self.default = default
        self.roster = dict(roster or {})
        self.directory = slack_people.Directory(client)
        self._known: dict[str, ZoneInfo] = {}

    def of(self, user_id: str | None) -> ZoneInfo:
        if not user_id:
            return self.default
        if user_id not in self._known:
            kept = self.roster.get(user_id)
            name = kept if kept else self.directory.person(user_id).timezone
            self._known[user_id] = named(name, self.default)
        return self._known[user_id]

    __call__ = of

    def prefetch(self, user_ids: Iterable[str]) -> None:
        """Read the cache for many people in one query (a tick over a thousand SEs), not one each."""
        self.directory.prefetch(user_ids)

    def of_all(self, user_ids: Iterable[str | None]) -> dict[str, ZoneInfo]:
        return {user: self.of(user) for user in user_ids if user}

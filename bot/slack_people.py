"""Looking people up in Slack (`users.info`), through the cache in `services.people`."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import clock
from bot.services import people
from bot.services.people import Person

log = logging.getLogger(__name__)


def person(client: WebClient, user_id: str) -> Person:
    """Name and timezone of a user. When Slack cannot tell, a person with no timezone (callers fall back
    to EPOS_TIMEZONE) is returned rather than failing the whole message."""
    known = people.cached(user_id)
    if known is not None:
        return known
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as error:
        log.warning("users.info failed for a user: %s", error.response.get("error"))
        return Person(user_id=user_id, name=user_id, timezone="")
    name = (user.get("profile") or {}).get("display_name") or user.get("real_name") or user.get("name") or user_id
    return people.remember(user_id, name=name, timezone=user.get("tz") or "")


# users.info is Tier 4, about 100 calls a minute: a scheduled run refreshes at most this many stale entries.
REFRESH_PER_RUN = 50


class Directory:
    """People for one scheduled run (a nudge tick, a digest): each looked up once per run; someone cached
    at any age is used at once, and only REFRESH_PER_RUN stale entries per run ask Slack again.

    The cache entries of an organisation's SEs are fetched together on the first 09:00 and go stale
    together a week later; asking Slack for all of them then would hold the burst for ten minutes behind
    users.info's rate limit, for timezones and names that rarely change. People never seen are always
    asked for. Without a client (`epos digest --dry-run`), the cache alone answers."""

    def __init__(self, client: WebClient | None, *, refresh: int | None = None) -> None:
        self.client = client
        self.refresh_left = REFRESH_PER_RUN if refresh is None else refresh
        self._known: dict[str, Person] = {}
        self._read: dict[str, tuple[Person, datetime]] = {}

    def prefetch(self, user_ids: Iterable[str]) -> None:
        """Read the cache for many people at once, rather than one query each."""
        self._read.update(people.cached_many([u for u in user_ids if u not in self._known and u not in self._read]))

    def person(self, user_id: str) -> Person:
        if user_id not in self._known:
            self._known[user_id] = self._look_up(user_id)
        return self._known[user_id]

    def _look_up(self, user_id: str) -> Person:
        if user_id in self._read:
            entry, fetched_at = self._read[user_id]
            if clock.now() - fetched_at <= people.FRESH_FOR:
                return entry
            stale: Person | None = entry
        else:
            fresh = people.cached(user_id)
            if fresh is not None:
                return fresh
            stale = people.cached(user_id, fresh_for=None)
        if self.client is None:
            return stale or Person(user_id=user_id, name=user_id, timezone="")
        if stale is not None:
            if self.refresh_left <= 0:
                return stale
            self.refresh_left -= 1
        found = person(self.client, user_id)
        # Slack could not tell (rate-limited, say): what we knew is better than nothing.
        return stale if stale is not None and not found.timezone else found

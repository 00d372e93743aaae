"""Looking people up in Slack (`users.info`), through the cache in `services.people`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import clock
from bot.services import people
from bot.services.people import Person

log = logging.getLogger(__name__)


# Answers meaning Slack does not show us this user: they stand outside, whatever Slack's health.
NOT_VISIBLE = {"user_not_found", "user_not_visible", "account_inactive"}
# Someone Slack does not show us is asked about again only after this long: the scheduler looks people
# up every minute, and each refusal was a call and a warning. A passing fault (rate limit) is not kept.
NOT_ASKED_AGAIN_FOR = timedelta(hours=1)
_refused: dict[str, datetime] = {}
_refused_lock = threading.Lock()


def forget_refusals() -> None:
    with _refused_lock:
        _refused.clear()


def person(client: WebClient, user_id: str) -> Person:
    """Name and timezone of a user. When Slack cannot tell, a person with no timezone (callers fall back
    to EPOS_TIMEZONE) is returned rather than failing the whole message."""
    known = people.cached(user_id)
    if known is not None:
        return known
    unknown = Person(user_id=user_id, name=user_id, timezone="")
    with _refused_lock:
        refused_at = _refused.get(user_id)
    if refused_at is not None and clock.now() - refused_at < NOT_ASKED_AGAIN_FOR:
        return unknown
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as error:
        code = error.response.get("error")
        log.warning("users.info failed for a user: %s", code)
        if code in NOT_VISIBLE:
            with _refused_lock:
                _refused[user_id] = clock.now()
        return unknown
    name = (user.get("profile") or {}).get("display_name") or user.get("real_name") or user.get("name") or user_id
    return people.remember(user_id, name=name, timezone=user.get("tz") or "")


def has_left(client: WebClient, user_id: str) -> bool:
    """Whether Slack says this person was deactivated (`users.info` `deleted`). Asked afresh, not from the
    cache: it is asked rarely (before a scheduled DM) and a wrong "still here" would lose their work.
    When Slack cannot say, they are taken to be still here; their DM then fails and is retried."""
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as error:
        log.warning("users.info failed for a user: %s", error.response.get("error"))
        return False
    except OSError as error:
        log.warning("users.info could not be reached: %s", error)
        return False
    return bool(user.get("deleted"))


class SlackUnavailable(Exception):
    """Slack could not say who a user is just now (down, slow, rate-limited), and nothing recent is known."""



def standing(
    client: WebClient, cache: people.StandingCache, user_id: str, *, team_id: str | None, enterprise_id: str | None
) -> people.Standing:
    """Where `user_id` stands towards our workspace: from the cache while fresh, else from `users.info`.

    When Slack cannot be asked, the last standing seen in the past hour is used, so our members keep
    working through a short outage; with nothing that recent it raises SlackUnavailable rather than
    guessing (see README › Security)."""
    known = cache.fresh(user_id)
    if known is not None:
        return known
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as error:
        code = error.response.get("error")
        if code in NOT_VISIBLE:
            return cache.remember(user_id, people.Standing.unknown)
        log.warning("users.info failed while checking who is asking: %s", code)
        return _last_seen(cache, user_id)
    except OSError as error:
        log.warning("users.info could not be reached while checking who is asking: %s", error)
        return _last_seen(cache, user_id)
    return cache.remember(user_id, people.standing_of(user, team_id=team_id, enterprise_id=enterprise_id))


def _last_seen(cache: people.StandingCache, user_id: str) -> people.Standing:
    last = cache.stale(user_id)
    if last is None:
        raise SlackUnavailable(user_id)
    return last


_refreshing: set[str] = set()
_refreshing_lock = threading.Lock()


def refresh_group(client: WebClient, group_id: str) -> None:
    """Keep a user group's members (`usergroups.users.list`) fresh, without holding a request's ack: a
    group never read is read now (until then, its members would be turned away); an old copy serves this
    request while it is read again in the background. On failure the old copy stays, and the next try
    waits its turn: a reader is not locked out by a Slack hiccup, nor let in by one."""
    if people.group_is_fresh(group_id):
        return
    if not people.group_was_read(group_id):
        _read_group(client, group_id)
        return
    with _refreshing_lock:
        if group_id in _refreshing:
            return
        _refreshing.add(group_id)
    threading.Thread(target=_read_group, args=(client, group_id), name="epos-reader-group", daemon=True).start()


def _read_group(client: WebClient, group_id: str) -> None:
    try:
        members = client.usergroups_users_list(usergroup=group_id).get("users") or []
    except (SlackApiError, OSError) as error:
        log.warning("could not read the members of a reader user group: %s", error)
        people.tried_group(group_id)
        return
    finally:
        with _refreshing_lock:
            _refreshing.discard(group_id)
    people.remember_group(group_id, [str(member) for member in members])


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

"""Looking people up in Slack (`users.info`), through the cache in `services.people`."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

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

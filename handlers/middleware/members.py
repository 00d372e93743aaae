"""Only full members of our workspace are served: anyone else (a guest, another organisation, a deactivated
account, a bot) is refused with one answer shaped for what they did, and nothing is written."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot import clock, revocation, slack_people
from bot.blocks import access
from bot.blocks import pilots as pilot_blocks
from bot.config import Settings
from bot.services import people, pilots
from bot.services.actors import actor_for
from bot.slack_client import EposWebClient
from handlers import payload

log = logging.getLogger(__name__)

# The actor is looked up before the ack, so the lookup gets a share of Slack's 3 s, never all of it: with
# the second `/asset` may then spend on its answer (handlers/answers.py), the ack still leaves in time.
ACTOR_LOOKUP_SECONDS = 1.5
# Events in which `user` is the person acting (in others, such as user_change, it is who changed).
ACTING_EVENTS = {"app_home_opened", "link_shared", "app_mention", "message"}


def acting_user(body: dict[str, Any]) -> str | None:
    """The signed payload's actor, for every kind of request a person can make; None for the rest."""
    if body.get("command"):
        return str(body.get("user_id") or "") or None
    if body.get("type") == "event_callback":
        event = body.get("event") or {}
        user = event.get("user")
        return user if event.get("type") in ACTING_EVENTS and isinstance(user, str) and user else None
    user = body.get("user")
    if isinstance(user, dict) and user.get("id"):
        return str(user["id"])
    return None


def _in_background(work: Callable[[], object]) -> None:
    """After the answer to Slack has gone: a refusal must not hold the ack."""

    def run() -> None:
        try:
            work()
        except Exception:
            log.warning("could not tell someone epos is not available to them", exc_info=True)

    threading.Thread(target=run, name="epos-refusal", daemon=True).start()


def refusal(body: dict[str, Any], client: WebClient, text: str, *, over_the_home: bool = True) -> BoltResponse:
    """The one answer for someone epos does not serve, shaped for what they did. Nothing is written.
    `over_the_home`: replace the App Home they open, which may still show what they saw as a member."""
    kind = body.get("type")
    if body.get("command"):
        return BoltResponse(status=200, body=access.message(text))
    if kind == "view_submission":
        return BoltResponse(status=200, body={"response_action": "update", "view": access.modal(text)})
    if kind == "block_suggestion":
        return BoltResponse(status=200, body={"options": []})
    if kind == "event_callback":
        event = body.get("event") or {}
        if over_the_home and event.get("type") == "app_home_opened" and event.get("tab", "home") == "home":
            _in_background(lambda: client.views_publish(user_id=str(event["user"]), view=access.home(text)))
        return BoltResponse(status=200, body="")
    url = payload.response_url(body)
    if url:
        _in_background(lambda: WebhookClient(url).send(
            text=text, response_type="ephemeral", replace_original=False))
    elif kind == "shortcut" and body.get("trigger_id"):
        _in_background(lambda: client.views_open(trigger_id=str(body["trigger_id"]), view=access.modal(text)))
    return BoltResponse(status=200, body="")


def only_our_members(settings: Settings, client: WebClient) -> Any:
    """The middleware that lets through only full members of our workspace (or Enterprise Grid org).

    Guests, users of other organisations, deactivated accounts and bots get `access.NOT_AVAILABLE`
    whatever they try. It runs before the delivery is recorded, so a refused request writes nothing."""
    lookup = EposWebClient(token=client.token, base_url=client.base_url, timeout=ACTOR_LOOKUP_SECONDS,
                           retry_handlers=[])
    standings = people.StandingCache()

    def refuse_all_but_our_members(
        body: dict[str, Any], context: BoltContext, next: Callable[[], None]
    ) -> BoltResponse | None:
        user_id = acting_user(body)
        if user_id is None:
            next()
            return None
        if revocation.revoked() is not None:
            return refusal(body, client, access.TOKEN_GONE, over_the_home=False)
        authorized = context.authorize_result
        team_id = settings.slack_team_id or (authorized.team_id if authorized else None)
        enterprise_id = authorized.enterprise_id if authorized else None
        try:
            standing = slack_people.standing(lookup, standings, user_id, team_id=team_id, enterprise_id=enterprise_id)
        except slack_people.SlackUnavailable:
            log.warning("could not check who is asking; the request was turned away")
            # A member's Home stays as it was: they may well be let in on the next try.
            return refusal(body, client, access.CANNOT_CHECK, over_the_home=False)
        if standing is not people.Standing.member:
            log.info("turned away a request from a user who is not a full member (%s)", standing.value)
            return refusal(body, client, access.NOT_AVAILABLE)
        for group in settings.reader_groups:
            slack_people.refresh_group(lookup, group)
        next()
        return None

    return refuse_all_but_our_members


def only_the_pilot_audience(settings: Settings, client: WebClient) -> Any:
    """With EPOS_PILOT_ONLY, while a pilot runs: everyone outside its audience gets the rollout note. With no
    pilot running everyone is answered (nobody is locked out); the start-up says so, and the log each time it
    changes (a pilot ends, or one starts)."""
    ask = settings.epos_managers or settings.epos_admins
    # Whether the last request found a pilot holding the gate; None before the first.
    holding: list[bool | None] = [None]

    def refuse_all_but_the_pilot(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        user_id = acting_user(body)
        if user_id is None:
            next()
            return None
        today = clock.now().astimezone(settings.timezone).date()
        members = pilots.members_of_running_pilots(today)
        if holding[0] is not None and holding[0] is not bool(members):
            warning = None if members else pilots.open_gate(today)
            if warning:
                log.warning("%s", warning.line)
            elif members:
                log.info("a pilot runs: epos answers only its audience (EPOS_PILOT_ONLY)")
        holding[0] = bool(members)
        if pilots.in_rollout_audience(actor_for(settings, user_id), members):
            next()
            return None
        return refusal(body, client, pilot_blocks.rollout_note(list(ask)))

    return refuse_all_but_the_pilot

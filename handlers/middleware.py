"""Global middleware: refuse other workspaces' requests and anyone who is not a full member of ours, and
handle each delivery only once."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.listener.listener_completion_handler import ListenerCompletionHandler
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot import clock, revocation, slack_people
from bot.blocks import access
from bot.blocks import pilots as pilot_blocks
from bot.config import Settings
from bot.ids import AssetIds, DevRelIds, EngagementIds, HomeIds
from bot.services import deliveries, people, pilots
from bot.services.deliveries import Claim, Seen
from bot.slack_client import EposWebClient

log = logging.getLogger(__name__)

# Buttons whose listeners only look things up, show them or open a form. Handling one of these twice
# changes nothing, so they are not claimed: a claim is a write, and a look must not queue behind a
# long write elsewhere (an import) for a lock it does not need.
READ_ONLY_ACTIONS = frozenset({
    AssetIds.next_page, AssetIds.previous_page, AssetIds.rerun, AssetIds.add_open, AssetIds.edit,
    EngagementIds.change_stage, EngagementIds.close, EngagementIds.add_note, EngagementIds.show_card,
    EngagementIds.new, EngagementIds.list_page, EngagementIds.esat_comment,
    HomeIds.next_page, HomeIds.previous_page, HomeIds.refresh, HomeIds.find_asset, HomeIds.request_devrel,
    DevRelIds.roster_add, DevRelIds.roster_edit,
})
STILL_SAVING = ("epos is still saving this form from a moment ago. Wait a few seconds and submit it again: "
                "if it was saved, the form closes; if not, it is saved then.")
CLAIM = "delivery_claim"
# The claims being handled in this process, for the places that learn of a failure from the payload
# alone; an entry lives as long as its request does.
_in_flight: weakref.WeakValueDictionary[str, Claim] = weakref.WeakValueDictionary()


def delivery_key(body: dict[str, Any]) -> str | None:
    """What makes one Slack delivery unique, for the kinds Slack may send twice."""
    kind = body.get("type")
    if body.get("command") and body.get("trigger_id"):
        # Slack gives every slash command invocation its own trigger_id and repeats it on a redelivery.
        return f"command:{body['trigger_id']}"
    if kind == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    if kind == "block_actions" and body.get("actions"):
        action = body["actions"][0]
        user = (body.get("user") or {}).get("id", "")
        return f"action:{user}:{action.get('action_id')}:{action.get('action_ts')}"
    if kind == "view_submission" and body.get("view"):
        view = body["view"]
        # The same view is submitted again, unchanged, after an answer with field errors; the values
        # tell a corrected submission from a double click.
        values = json.dumps((view.get("state") or {}).get("values") or {}, sort_keys=True)
        digest = hashlib.sha256(values.encode()).hexdigest()[:16]
        return f"view:{view.get('id')}:{view.get('hash')}:{digest}"
    return None


class _SettledAck(Ack):
    """An ack that, once sent, stays sent.

    When a listener raises after `ack()`, Bolt's thread runner (1.30, process_before_response off)
    sets the ack's response back to None. If its 10 ms poll had not yet seen the ack, the request
    then waits out the 3 s ack timeout and is answered 404, so Slack shows the person a failure on
    top of the message the error handler sends. A sent answer is what Slack must receive."""

    @property  # type: ignore[override]
    def response(self) -> BoltResponse | None:
        return getattr(self, "_response", None)

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if value is None and self.response is not None:
            return
        self._response = value


def onto_the_form(errors: dict[str, str], view: dict[str, Any]) -> dict[str, str]:
    """Field errors placed on input blocks the submitted form has. Slack refuses a whole errors answer
    that names any other block (the person then sees only "trouble connecting"), so a message meant
    for a block this form lacks (a mangled form, a field another variant has) goes on its first input."""
    inputs = [b["block_id"] for b in view.get("blocks") or [] if b.get("type") == "input" and b.get("block_id")]
    if not inputs:
        return errors
    placed: dict[str, str] = {}
    for block_id, message in errors.items():
        target = block_id if block_id in inputs else inputs[0]
        placed[target] = f"{placed[target]} {message}" if target in placed else message
    return placed


# What giving a form's claim back may add to its answer; past it, it is given back in the background.
GIVE_BACK_SECONDS = 0.3


class _ForgettingAck(_SettledAck):
    """An ack that gives the delivery's claim back when it answers with field errors: nothing was done,
    so the same values submitted again (say, after a "submit again to confirm" warning) must be handled."""

    def __init__(self, claim: Claim | None, view: dict[str, Any]) -> None:
        super().__init__()
        self.claim = claim
        self.view = view

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        if kwargs.get("response_action") == "errors":
            if isinstance(kwargs.get("errors"), dict):
                kwargs["errors"] = onto_the_form(kwargs["errors"], self.view)
            # Before the answer leaves: once Slack has it, the person may submit again at once.
            if self.claim is not None:
                self.claim.failed(within=GIVE_BACK_SECONDS)
        return super().__call__(*args, **kwargs)


def read_only(body: dict[str, Any]) -> bool:
    if body.get("type") != "block_actions" or not body.get("actions"):
        return False
    # Listeners also take these ids with a `:suffix`, so one message may hold several alike.
    action_id = str(body["actions"][0].get("action_id") or "").split(":", 1)[0]
    return action_id in READ_ONLY_ACTIONS


def delivery_failed(body: dict[str, Any]) -> None:
    """The delivery's handling failed and changed nothing: the same delivery sent again is handled."""
    key = delivery_key(body)
    claim = _in_flight.get(key[:255]) if key is not None else None
    if claim is not None:
        claim.failed()


class _SettleDelivery(ListenerCompletionHandler):
    """Marks a delivery handled once its listener has returned, unless the handling failed meanwhile."""

    def handle(self, request: BoltRequest, response: BoltResponse | None) -> None:
        claim = request.context.get(CLAIM)
        if isinstance(claim, Claim):
            claim.succeeded()


def _still_saving(view: dict[str, Any]) -> BoltResponse:
    errors = onto_the_form({"": STILL_SAVING}, view)
    if "" in errors:  # a form without inputs, where an errors answer has nowhere to go
        return BoltResponse(status=200, body="")
    return BoltResponse(status=200, body=json.dumps({"response_action": "errors", "errors": errors}),
                        headers={"content-type": ["application/json;charset=utf-8"]})


def without_nul(node: Any) -> Any:
    """The payload with every U+0000 removed from its strings, in place; without recursion, so no
    nesting depth can exhaust the stack."""
    if isinstance(node, str):
        return node.replace("\x00", "")
    stack = [node] if isinstance(node, dict | list) else []
    while stack:
        container = stack.pop()
        slots = container.items() if isinstance(container, dict) else enumerate(container)
        for slot, value in list(slots):
            if isinstance(value, str):
                if "\x00" in value:
                    container[slot] = value.replace("\x00", "")
            elif isinstance(value, dict | list):
                stack.append(value)
    return node


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
    response_url = body.get("response_url") or next(
        (u.get("response_url") for u in body.get("response_urls") or []), None
    )
    if response_url:
        _in_background(lambda: WebhookClient(response_url).send(
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
    """With EPOS_PILOT_ONLY, while a pilot runs: everyone outside its audience gets the rollout note."""
    ask = settings.epos_managers or settings.epos_admins

    def refuse_all_but_the_pilot(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        user_id = acting_user(body)
        if user_id is None or pilots.in_rollout_audience(
                user_id, admin=settings.is_admin(user_id), manager=settings.is_manager(user_id),
                today=clock.now().astimezone(settings.timezone).date()):
            next()
            return None
        return refusal(body, client, pilot_blocks.rollout_note(list(ask)))

    return refuse_all_but_the_pilot


def register(app: App, settings: Settings) -> None:
    @app.middleware
    def refuse_other_installations(
        request: BoltRequest, context: BoltContext, body: dict[str, Any], next: Callable[[], None]
    ) -> BoltResponse | None:
        expected_team = settings.slack_team_id or (context.authorize_result.team_id if context.authorize_result else None)
        expected_enterprise = context.authorize_result.enterprise_id if context.authorize_result else None
        team, enterprise, app_id = context.team_id, context.enterprise_id, body.get("api_app_id")
        mismatch = (
            (expected_team and team and team != expected_team)
            or (expected_enterprise and enterprise and enterprise != expected_enterprise)
            or (settings.slack_app_id and app_id and app_id != settings.slack_app_id)
            or (not team and not enterprise)
        )
        if mismatch:
            log.warning(
                "refused a request for another installation: team=%s enterprise=%s app=%s", team, enterprise, app_id
            )
            if request.mode == "socket_mode":
                # Bolt acknowledges an envelope only for a 200: any other answer leaves it unacknowledged,
                # and Slack sends it again and shows the person a failure. Acked empty, it is simply dropped.
                return BoltResponse(status=200, body="")
            return BoltResponse(status=403, body="")
        next()
        return None

    @app.middleware
    def drop_nul_characters(body: dict[str, Any], next: Callable[[], None]) -> None:
        # PostgreSQL text cannot hold U+0000, so a note or a name carrying one would fail to save; no
        # person means it, and listeners read the payload after this, so it is removed here for all.
        without_nul(body)
        next()

    # Before the delivery is recorded: a refused request leaves nothing behind.
    app.middleware(only_our_members(settings, app.client))
    if settings.epos_pilot_only:
        app.middleware(only_the_pilot_audience(settings, app.client))
    # Bolt offers no public hook for "the listener has returned"; its runner's completion handler is
    # that hook, called on the listener's thread after the listener and after any error handler.
    app._listener_runner.listener_completion_handler = _SettleDelivery()

    @app.middleware
    def handle_each_delivery_once(
        body: dict[str, Any], context: BoltContext, next: Callable[[], None]
    ) -> BoltResponse | None:
        key = delivery_key(body)
        claim = deliveries.claim(key) if key is not None and not read_only(body) else None
        if claim is not None and claim.seen in (Seen.HANDLED, Seen.HANDLING):
            log.info("ignored a repeated delivery (%s%s)", claim.kind,
                     ", still being handled" if claim.seen is Seen.HANDLING else "")
            if claim.seen is Seen.HANDLING and body.get("type") == "view_submission":
                # Closing the form now would say "saved" before anyone knows.
                return _still_saving(body.get("view") or {})
            return BoltResponse(status=200, body="")
        if claim is not None:
            context[CLAIM] = claim
            _in_flight[claim.key] = claim
        if body.get("type") == "view_submission":
            context["ack"] = _ForgettingAck(claim, body.get("view") or {})
        else:
            context["ack"] = _SettledAck()
        next()
        return None

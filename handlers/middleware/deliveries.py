"""Each Slack delivery handled once: a delivery Slack sends again (a retry, a double click, a form submitted
twice) is recognised by its key and answered without being handled a second time."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.listener.listener_completion_handler import ListenerCompletionHandler
from slack_bolt.listener.listener_start_handler import ListenerStartHandler

from bot import db
from bot.ids import AssetIds, DevRelIds, EngagementIds, HomeIds
from bot.services import deliveries
from bot.services.deliveries import Claim, Seen
from handlers.middleware.acks import ForgettingAck, SettledAck, onto_the_form

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
# Slack sends an event again only when it took the first delivery for failed (no answer within 3 s, an
# error), and stops once one is answered 2xx. Answered 200 while the first is still being handled, an
# event whose handling then fails would be lost; answered 503, Slack sends it again (a minute later, then
# five), when the first has either succeeded (then 200, nothing done) or given its claim back (then
# handled). This happens only to a repeat that overlaps a slow first delivery, far from the share of
# failures (most deliveries in an hour) at which Slack disables an app's events. In Socket Mode, Bolt
# acknowledges nothing but a 200: the envelope is left unacknowledged, which Slack likewise delivers
# again, as it does those left when `epos run` stops.
EVENT_NOT_YET_STATUS = 503


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


def read_only(body: dict[str, Any]) -> bool:
    if body.get("type") != "block_actions" or not body.get("actions"):
        return False
    # Listeners also take these ids with a `:suffix`, so one message may hold several alike.
    action_id = str(body["actions"][0].get("action_id") or "").split(":", 1)[0]
    return action_id in READ_ONLY_ACTIONS


def delivery_failed(body: dict[str, Any], context: BoltContext | None = None) -> None:
    """The delivery's handling failed and changed nothing: the same delivery sent again is handled. With the
    request's context, its own claim; without (a place that has only the payload), the one this process
    holds for the delivery."""
    claim = context.get(CLAIM) if context is not None else None
    if claim is None and context is None:
        key = delivery_key(body)
        claim = deliveries.in_flight(key) if key is not None else None
    if isinstance(claim, Claim):
        claim.failed()


class _CheckBeforeWriting(ListenerStartHandler):
    """On the listener's thread, before it runs: its writes wait for a claim the database has not yet
    answered, so a copy of a delivery handled elsewhere (another replica, or here before a slow database
    could say) changes nothing even when it was let through unchecked."""

    def handle(self, request: BoltRequest, response: BoltResponse | None) -> None:
        claim = request.context.get(CLAIM)
        db.check_before_writing(claim.settle_before_writing if isinstance(claim, Claim) else None)


class _SettleDelivery(ListenerCompletionHandler):
    """Marks a delivery handled once its listener has returned, unless the handling failed meanwhile."""

    def handle(self, request: BoltRequest, response: BoltResponse | None) -> None:
        db.check_before_writing(None)  # the thread goes on to other deliveries
        claim = request.context.get(CLAIM)
        if isinstance(claim, Claim):
            claim.succeeded()


def repeated(body: dict[str, Any], seen: Seen) -> BoltResponse:
    """The answer to a copy of a delivery that was handled, or is being handled, elsewhere."""
    if seen is Seen.HANDLING and body.get("type") == "view_submission":
        # Closing the form now would say "saved" before anyone knows.
        return _still_saving(body.get("view") or {})
    if seen is Seen.HANDLING and body.get("type") == "event_callback":
        return BoltResponse(status=EVENT_NOT_YET_STATUS, body="")
    return BoltResponse(status=200, body="")


def _still_saving(view: dict[str, Any]) -> BoltResponse:
    errors = onto_the_form({"": STILL_SAVING}, view)
    if "" in errors:  # a form without inputs, where an errors answer has nowhere to go
        return BoltResponse(status=200, body="")
    return BoltResponse(status=200, body=json.dumps({"response_action": "errors", "errors": errors}),
                        headers={"content-type": ["application/json;charset=utf-8"]})


def register(app: App) -> None:
    # Bolt offers no public hooks for "the listener starts" and "the listener has returned"; its runner's
    # start and completion handlers are those, called on the listener's thread before the listener, and
    # after it and any error handler.
    app._listener_runner.listener_start_handler = _CheckBeforeWriting()
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
            return repeated(body, claim.seen)
        if claim is not None:
            context[CLAIM] = claim
        if body.get("type") == "view_submission":
            context["ack"] = ForgettingAck(claim, body.get("view") or {})
        else:
            context["ack"] = SettledAck()
        next()
        return None

"""The DevRel forms as submitted: the request, the decline with its reason, the hand back with its
reason, and the roster entry.

What cannot be read or what the service refuses is answered on the form, on the field at fault."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot import clock, notify
from bot.blocks import devrel as blocks
from bot.codecs import DeclineForm, RequestForm, RosterForm
from bot.errors import Forbidden, InvalidInput, NotFound
from bot.ids import DevRelIds
from bot.notify import devrel as tell
from bot.notify import home as homes
from bot.notify import zones
from bot.services import devrel, devrel_absence, devrel_practice, roster
from handlers import common
from handlers.common import answered_on_the_form
from handlers.devrel.commands import roster_view
from models.schemas.devrel import RequestDraft, RosterEntry

log = logging.getLogger(__name__)

NO_SUCH_TIME = "{time} does not exist on that day in {zone} (the clocks change). Pick another time."
FORM_GONE = "That person is no longer on the roster. Close this form and open `/devrel roster` again."


def _value(values: dict[str, Any], block: DevRelIds, action: DevRelIds) -> dict[str, Any]:
    return (values.get(block) or {}).get(action) or {}


def _text(values: dict[str, Any], block: DevRelIds, action: DevRelIds) -> str:
    return str(_value(values, block, action).get("value") or "").strip()


def parse_request_form(values: dict[str, Any], zone: ZoneInfo) -> tuple[RequestDraft, dict[str, str]]:
    """The request form as a draft, plus errors by block id for what could not even be read."""
    errors: dict[str, str] = {}
    selected = _value(values, DevRelIds.engagement_block, DevRelIds.engagement_select).get("selected_option") or {}
    engagement_id: int | None = None
    if selected.get("value"):
        try:
            engagement_id = int(selected["value"])
        except ValueError:
            errors[DevRelIds.engagement_block] = "Pick the engagement again from the list."
    meeting_start: datetime | None = None
    day_text = _value(values, DevRelIds.date_block, DevRelIds.date_picker).get("selected_date")
    time_text = _value(values, DevRelIds.time_block, DevRelIds.time_picker).get("selected_time")
    if not day_text:
        errors[DevRelIds.date_block] = "Pick the date of the meeting."
    if not time_text:
        errors[DevRelIds.time_block] = "Pick the time the meeting starts."
    if day_text and time_text:
        try:
            local = datetime.combine(date.fromisoformat(day_text), time.fromisoformat(time_text), tzinfo=zone)
        except ValueError:
            errors[DevRelIds.date_block] = "Pick the date and time again; they could not be read."
        else:
            if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
                errors[DevRelIds.time_block] = NO_SUCH_TIME.format(time=time_text, zone=zone.key)
            else:
                meeting_start = local.astimezone(UTC)
    duration = _value(values, DevRelIds.duration_block, DevRelIds.duration_select).get("selected_option") or {}
    try:
        duration_minutes = int(duration.get("value") or 60)
    except ValueError:
        duration_minutes = 0
    draft = RequestDraft(
        engagement_id=engagement_id,
        meeting_start=meeting_start,
        duration_minutes=duration_minutes,
        topics=_text(values, DevRelIds.topics_block, DevRelIds.topics_input),
        meeting_link=_text(values, DevRelIds.link_block, DevRelIds.link_input),
        customer_asked=_text(values, DevRelIds.asked_block, DevRelIds.asked_input),
        promised=_text(values, DevRelIds.promised_block, DevRelIds.promised_input),
        held_in_reserve=_text(values, DevRelIds.reserve_block, DevRelIds.reserve_input),
    )
    return draft, errors


def request_errors(problems: dict[str, str], draft: RequestDraft, zone: ZoneInfo, now: datetime) -> dict[str, str]:
    """Service problems by field, placed on the form's blocks (a past date points at the date, else the time)."""
    errors: dict[str, str] = {}
    for field, message in problems.items():
        block = blocks.REQUEST_FIELD_BLOCKS.get(field, DevRelIds.engagement_block)
        if field == "meeting_start" and draft.meeting_start is not None:
            if draft.meeting_start.astimezone(zone).date() != now.astimezone(zone).date():
                block = DevRelIds.date_block
        errors[block] = message
    return errors


def parse_roster_form(values: dict[str, Any], *, slack_id: str | None, active: bool) -> tuple[RosterEntry | None, dict[str, str]]:
    picked = _value(values, DevRelIds.roster_person_block, DevRelIds.roster_person_select).get("selected_user")
    start = _value(values, DevRelIds.roster_start_block, DevRelIds.roster_start_picker).get("selected_time")
    end = _value(values, DevRelIds.roster_end_block, DevRelIds.roster_end_picker).get("selected_time")
    raw: dict[str, Any] = {
        "slack_id": slack_id or picked or "",
        "name": _text(values, DevRelIds.roster_name_block, DevRelIds.roster_name_input),
        "topics": _text(values, DevRelIds.roster_topics_block, DevRelIds.roster_topics_input),
        "timezone": _text(values, DevRelIds.roster_timezone_block, DevRelIds.roster_timezone_input),
        "work_start": start or "",
        "work_end": end or "",
        "weekly_capacity": _text(values, DevRelIds.roster_capacity_block, DevRelIds.roster_capacity_input),
        "active": active,
        "out_of_office_until": _value(values, DevRelIds.roster_ooo_block, DevRelIds.roster_ooo_picker).get("selected_date"),
    }
    try:
        return RosterEntry(**raw), {}
    except ValidationError as error:
        errors: dict[str, str] = {}
        for detail in error.errors():
            field, message = roster.describe_error(dict(detail))
            if field == "weekly_capacity":
                message = "Give a whole number of meetings per week, from 0 to 50."
            block = blocks.ROSTER_FIELD_BLOCKS.get(field, DevRelIds.roster_end_block)
            if field == "slack_id" and slack_id:
                block = DevRelIds.roster_name_block
            errors.setdefault(block, message[:150] if len(message) <= 150 else message[:149] + "…")
        return None, errors


@answered_on_the_form
def request_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                      context: BoltContext) -> None:
    settings = common.settings_of(context)
    who = common.actor(context, body)
    zone_name = RequestForm.decode(view.get("private_metadata")).timezone
    if not zone_name:
        # The form's update with a timezone did not reach Slack. Asking Slack again here would hold
        # the answer past Slack's 3 seconds when Slack is slow, so what is known is used: the
        # cached timezone, else the team's (as the form says when Slack gives none).
        zone_name = zones.cached_name(who.user_id)
    zone = zones.named(zone_name, settings.timezone)
    now = clock.now()
    draft, errors = parse_request_form(view.get("state", {}).get("values", {}), zone)
    if not errors:
        errors = request_errors(devrel.request_problems(who, draft, now=now), draft, zone, now)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    practice = devrel_practice.answer(who, draft, now=now)
    if practice is not None:
        notify.dm(client, who.user_id, blocks.practice_accepted(practice, zone=zone))
        return
    update = devrel.create_request(who, draft, policy=devrel.policy_for(settings), now=now)
    tell.publish(client, settings, update, now=now)


@answered_on_the_form
def decline_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                      context: BoltContext) -> None:
    ack()
    settings = common.settings_of(context)
    who = common.actor(context, body)
    meta = DeclineForm.decode(view.get("private_metadata"))
    reason = _text(view.get("state", {}).get("values", {}), DevRelIds.reason_block, DevRelIds.reason_input)
    update = devrel.decline(who, meta.request_id, meta.version, reason, policy=devrel.policy_for(settings))
    tell.publish(client, settings, update)
    if not update.changed and update.note:
        notify.dm(client, who.user_id, blocks.plain(update.note))


HAND_BACK_NEEDS_REASON = "Say why you hand it back; the requester reads it."


@answered_on_the_form
def hand_back_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                        context: BoltContext) -> None:
    settings = common.settings_of(context)
    reason = _text(view.get("state", {}).get("values", {}), DevRelIds.hand_back_block, DevRelIds.hand_back_input)
    if not reason.strip():
        ack(response_action="errors", errors={DevRelIds.hand_back_block: HAND_BACK_NEEDS_REASON})
        return
    ack()
    who = common.actor(context, body)
    meta = DeclineForm.decode(view.get("private_metadata"))
    update = devrel.hand_back(who, meta.request_id, meta.version, reason, policy=devrel.policy_for(settings))
    tell.publish(client, settings, update)
    if update.changed:
        homes.refresh(client, settings, (who.user_id, update.request.requester_id))
    elif update.note:
        notify.dm(client, who.user_id, blocks.plain(update.note))


@answered_on_the_form
def roster_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                     context: BoltContext) -> None:
    who = common.actor(context, body)
    meta = RosterForm.decode(view.get("private_metadata"))
    adding = meta.mode != "edit"
    slack_id = None if adding else meta.slack_id or ""
    active = True
    if not adding:
        try:
            active = roster.get_member(slack_id or "").active
        except NotFound:
            ack(response_action="errors", errors={DevRelIds.roster_name_block: FORM_GONE})
            return
    entry, errors = parse_roster_form(view.get("state", {}).get("values", {}), slack_id=slack_id, active=active)
    if entry is None:
        ack(response_action="errors", errors=errors)
        return
    try:
        roster.save_member(who, entry, adding=adding)
    except (InvalidInput, Forbidden, NotFound) as error:
        field = getattr(error, "field", None) or "name"
        block = blocks.ROSTER_FIELD_BLOCKS.get(field, DevRelIds.roster_name_block)
        if block is DevRelIds.roster_person_block and not adding:
            block = DevRelIds.roster_name_block
        ack(response_action="errors", errors={block: str(error)[:150]})
        return
    ack()
    settings = common.settings_of(context)
    note = None
    if entry.out_of_office_until is not None or not entry.active:
        updates = devrel_absence.release_absent(policy=devrel.policy_for(settings), slack_id=entry.slack_id,
                                                actor_id=who.user_id)
        tell.publish_released(client, settings, updates)
        note = blocks.sent_on_note(updates)
    if meta.response_url:
        try:
            answer = WebhookClient(meta.response_url)
            answer.send(**roster_view(settings, who), response_type="ephemeral", replace_original=True)
            if note is not None:
                answer.send(**note, response_type="ephemeral", replace_original=False)
        except Exception:
            log.info("could not redraw the roster list after an edit", exc_info=True)
    elif note is not None:
        notify.dm(client, who.user_id, note)


VIEWS = {
    DevRelIds.request_modal: request_submitted,
    DevRelIds.decline_modal: decline_submitted,
    DevRelIds.hand_back_modal: hand_back_submitted,
    DevRelIds.roster_modal: roster_submitted,
}


def register(app: App) -> None:
    common.listen(app, views=VIEWS)

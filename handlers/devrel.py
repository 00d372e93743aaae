"""Listeners for `/devrel`: the request form, Accept / Decline / Take it / Cancel, and the roster."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot import clock
from bot.blocks import devrel as blocks
from bot.config import Settings
from bot.errors import Forbidden, InvalidInput, NotFound
from bot.ids import DevRelIds
from bot.notify import zones
from bot.notify.devrel import publish
from bot.services import devrel, people, roster
from bot.services.actors import Actor, actor_for
from bot.slack_people import person
from handlers import common
from handlers.common import answered_on_the_form, command_text
from models.schemas.devrel import RequestDraft, RosterEntry

log = logging.getLogger(__name__)

STALE_BUTTON = "That button is out of date. Look for the newest message about this request, or run `/devrel` again."
NO_SUCH_TIME = "{time} does not exist on that day in {zone} (the clocks change). Pick another time."
FORM_GONE = "That person is no longer on the roster. Close this form and open `/devrel roster` again."



def request_button(body: dict[str, Any]) -> tuple[int, int]:
    """(request id, version; -1 when the button has none) from a request button; stale-button error otherwise."""
    try:
        request_id, version = blocks.parse_button_value(str(body["actions"][0].get("value") or ""))
    except (ValueError, KeyError, IndexError):
        raise InvalidInput(STALE_BUTTON) from None
    return request_id, version if version is not None else -1


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _value(values: dict[str, Any], block: DevRelIds, action: DevRelIds) -> dict[str, Any]:
    return (values.get(block) or {}).get(action) or {}


def _text(values: dict[str, Any], block: DevRelIds, action: DevRelIds) -> str:
    return str(_value(values, block, action).get("value") or "").strip()



# ----- parsing the forms --------------------------------------------------------------------------


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


# ----- opening the request form -------------------------------------------------------------------


def open_request_modal(client: WebClient, settings: Settings, *, user_id: str, trigger_id: str, typed: str = "",
                       respond: Respond | None = None) -> None:
    """Open the request form for `user_id` (also used by App Home). Work before `views.open` stays a quick
    database read; the requester's timezone, if not cached, is fetched after and shown by `views.update`."""
    choices = devrel.open_engagements(user_id)
    if not choices:
        if respond is not None:
            common.ephemeral(respond, blocks.no_engagements())
        else:
            common.dm(client, user_id, blocks.no_engagements())
        return
    selected = devrel.best_engagement(choices, typed)
    known = people.cached(user_id)
    zone_name = known.timezone if known and known.timezone else None
    opened = client.views_open(trigger_id=trigger_id, view=blocks.request_modal(
        choices, selected=selected, typed=typed, timezone_name=zone_name, metadata={"tz": zone_name}))
    if zone_name:
        return
    found = person(client, user_id)
    zone = zones.named(found.timezone, settings.timezone)
    try:
        client.views_update(view_id=opened["view"]["id"], hash=opened["view"].get("hash"), view=blocks.request_modal(
            choices, selected=selected, typed=typed, timezone_name=zone.key, assumed_timezone=not found.timezone,
            metadata={"tz": zone.key}))
    except SlackApiError as error:
        # The form already works without it: on submit, the cached or the team's timezone is used.
        log.info("could not show the timezone on the DevRel form: %s", error.response.get("error"))


def register(app: App, settings: Settings) -> None:
    policy = devrel.policy_for(settings)

    def actor(body: dict[str, Any]) -> Actor:
        return actor_for(settings, common.user_id(body))

    def today() -> date:
        return clock.now().astimezone(settings.timezone).date()

    def roster_view(who: Actor) -> dict[str, Any]:
        return blocks.roster_message(roster.list_roster(), admin=who.admin, today=today())

    @app.command("/devrel")
    def devrel_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        text = " ".join(command_text(command).split())
        word = text.split(" ", 1)[0].lower() if text else ""
        who = actor_for(settings, str(command.get("user_id") or ""))
        if word in ("help", "?"):
            common.ephemeral(respond, blocks.help_message())
        elif word == "roster":
            common.ephemeral(respond, roster_view(who))
        else:
            open_request_modal(client, settings, user_id=who.user_id,
                               trigger_id=str(command.get("trigger_id") or ""), typed=text, respond=respond)

    @app.view(DevRelIds.request_modal)
    @answered_on_the_form
    def request_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        who = actor(body)
        zone_name = _metadata(view).get("tz")
        if not zone_name:
            # The form's update with a timezone did not reach Slack. Asking Slack again here would hold
            # the answer past Slack's 3 seconds when Slack is slow, so what is known is used: the
            # cached timezone, else the team's (as the form says when Slack gives none).
            known = people.cached(who.user_id)
            zone_name = known.timezone if known and known.timezone else None
        zone = zones.named(zone_name, settings.timezone)
        now = clock.now()
        draft, errors = parse_request_form(view.get("state", {}).get("values", {}), zone)
        if not errors:
            errors = request_errors(devrel.request_problems(who, draft, now=now), draft, zone, now)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        update = devrel.create_request(who, draft, policy=policy, now=now)
        publish(client, settings, update, now=now)

    def answer_click(body: dict[str, Any], respond: Respond, client: WebClient, transition: Any) -> None:
        request_id, version = request_button(body)
        now = clock.now()
        update = transition(actor(body), request_id, version, policy=policy, now=now)
        # Also when nothing changed: the message is redrawn as it stands, its buttons still live.
        publish(client, settings, update, now=now)
        zone = zones.named(update.actor_timezone, settings.timezone)
        if update.overlapping is not None:
            common.ephemeral(respond, blocks.overlap_refusal(update.request, update.overlapping, zone=zone, now=now))
        elif not update.changed and update.note:
            common.ephemeral(respond, blocks.plain(update.note))
        elif update.over_capacity is not None:
            common.ephemeral(respond, blocks.over_capacity_note(update.request, update.over_capacity))

    @app.action(DevRelIds.accept)
    def accept_clicked(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        answer_click(body, respond, client, devrel.accept)

    @app.action(DevRelIds.take)
    def take_clicked(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        answer_click(body, respond, client, devrel.take)

    @app.action(DevRelIds.decline)
    def decline_clicked(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        who = actor(body)
        request_id, version = request_button(body)
        check = devrel.check_decline(who, request_id, version, policy=policy)
        if check.note:
            publish(client, settings, check)
            common.ephemeral(respond, blocks.plain(check.note))
            return
        zone = zones.named(check.request.timezones.get(who.user_id), settings.timezone)
        client.views_open(trigger_id=body["trigger_id"], view=blocks.decline_modal(
            check.request, zone=zone, metadata={"request_id": request_id, "version": version}))

    @app.view(DevRelIds.decline_modal)
    @answered_on_the_form
    def decline_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        ack()
        who = actor(body)
        meta = _metadata(view)
        try:
            request_id, version = int(meta["request_id"]), int(meta["version"])
        except (KeyError, TypeError, ValueError):
            raise InvalidInput(STALE_BUTTON) from None
        if not (0 < request_id <= 2**31 - 1 and 0 <= version <= 2**31 - 1):  # PostgreSQL integers
            raise InvalidInput(STALE_BUTTON)
        reason = _text(view.get("state", {}).get("values", {}), DevRelIds.reason_block, DevRelIds.reason_input)
        update = devrel.decline(who, request_id, version, reason, policy=policy)
        publish(client, settings, update)
        if not update.changed and update.note:
            common.dm(client, who.user_id, blocks.plain(update.note))

    @app.action(DevRelIds.cancel)
    def cancel_clicked(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        request_id, _ = request_button(body)
        update = devrel.cancel(actor(body), request_id)
        publish(client, settings, update)
        if not update.changed and update.note:
            common.ephemeral(respond, blocks.plain(update.note))

    # ----- the roster -----------------------------------------------------------------------------

    @app.action(DevRelIds.roster_add)
    def roster_add_clicked(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        roster.require_admin(actor(body))
        client.views_open(trigger_id=body["trigger_id"], view=blocks.roster_modal(
            None, metadata={"mode": "add", "response_url": body.get("response_url")}))

    @app.action(DevRelIds.roster_edit)
    def roster_edit_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        roster.require_admin(actor(body))
        member = roster.get_member(str(action.get("value") or ""))
        client.views_open(trigger_id=body["trigger_id"], view=blocks.roster_modal(
            member, metadata={"mode": "edit", "slack_id": member.slack_id, "response_url": body.get("response_url")}))

    def set_active(body: dict[str, Any], action: dict[str, Any], respond: Respond, active: bool) -> None:
        who = actor(body)
        roster.set_active(who, str(action.get("value") or ""), active)
        common.ephemeral(respond, roster_view(who), replace=True)

    @app.action(DevRelIds.roster_deactivate)
    def roster_deactivate_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                                  client: WebClient) -> None:
        ack()
        set_active(body, action, respond, False)

    @app.action(DevRelIds.roster_reactivate)
    def roster_reactivate_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                                  client: WebClient) -> None:
        ack()
        set_active(body, action, respond, True)

    @app.view(DevRelIds.roster_modal)
    @answered_on_the_form
    def roster_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        who = actor(body)
        meta = _metadata(view)
        adding = meta.get("mode") != "edit"
        slack_id = None if adding else str(meta.get("slack_id") or "")
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
        response_url = meta.get("response_url")
        if response_url:
            try:
                WebhookClient(str(response_url)).send(**roster_view(who), response_type="ephemeral", replace_original=True)
            except Exception:
                log.info("could not redraw the roster list after an edit", exc_info=True)

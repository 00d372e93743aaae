"""Listeners for `/engagement`: the command, the card's buttons (also used by nudges and the App Home),
pickers, Undo, the forms (new, change stage, close, note) and the ESAT question."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot import clock
from bot.blocks import engagements as blocks
from bot.config import Settings
from bot.errors import EposError, InvalidInput
from bot.notify import engagements as notify
from bot.notify import zones
from bot.notify.zones import Zones
from bot.ids import EngagementIds
from bot.services import engagements, esat, playbooks
from bot.services.actors import Actor, actor_for
from handlers import common
from handlers.common import answered_on_the_form, command_text
from models.enums import Outcome, Stage
from models.schemas.engagements import StageChangeResult

log = logging.getLogger(__name__)

Reply = Callable[[dict[str, Any]], None]

STALE_BUTTON = "That button is out of date. Open the engagement again with `/engagement ACCOUNT`."
LIST_USAGE = "Use `/engagement list` for yours, or `/engagement list all` (managers) for everyone's."
STATS_USAGE = "Use `/engagement stats` or `/engagement stats --weeks N`, with N from 1 to 104 (default 12)."
DEFAULT_WEEKS = 12
MAX_WEEKS = 104
FORM_GONE = "This engagement no longer exists. Close the form; `/engagement list` shows yours."


def _suffixed(action_id: str) -> re.Pattern[str]:
    """An action id, alone or with a `:suffix` (several buttons of one kind in one actions block)."""
    return re.compile(rf"^{re.escape(action_id)}(:.*)?$")



# Row ids are PostgreSQL integers: a larger number on a button was mangled or forged, and would make
# the database driver fail rather than find nothing.
LARGEST_ID = 2**31 - 1


def _number(text: str) -> bool:
    """Plain ASCII digits only (`str.isdigit` also accepts the likes of `²`, which `int` refuses), and
    no larger than a row id can be."""
    return text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= LARGEST_ID


def _button_id(action: dict[str, Any]) -> int:
    value = str(action.get("value") or "")
    head = value.split(":", 1)[0]
    if not _number(head):
        raise InvalidInput(STALE_BUTTON)
    return int(head)


def _in_modal(body: dict[str, Any]) -> bool:
    return (body.get("container") or {}).get("type") == "view" and (body.get("view") or {}).get("type") == "modal"


def _open_view(client: WebClient, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Open a modal, or push it when the button sits in a modal already."""
    if _in_modal(body):
        client.views_push(trigger_id=body["trigger_id"], view=view)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=view)




def parse_weeks(text: str) -> int:
    """`--weeks 8`, `--weeks=8`, `-w 8` or `8`; anything else is refused with the usage."""
    words = text.replace("=", " ").split()
    if not words:
        return DEFAULT_WEEKS
    if words[0] in ("--weeks", "-w", "weeks") and len(words) == 2:
        words = words[1:]
    if len(words) == 1 and _number(words[0]) and 1 <= int(words[0]) <= MAX_WEEKS:
        return int(words[0])
    raise InvalidInput(STATS_USAGE)


def split_close(text: str) -> tuple[str, Outcome | None, str]:
    """`ACCOUNT OUTCOME [note]` → account words, outcome, note (the first outcome word splits them)."""
    words = text.split()
    for index in range(1, len(words)):
        for length in (2, 1):
            outcome = engagements.parse_outcome(" ".join(words[index:index + length]))
            if outcome is not None and index + length <= len(words):
                return " ".join(words[:index]), outcome, " ".join(words[index + length:])
    return text.strip(), None, ""


def register(app: App, settings: Settings) -> None:
    # A team's playbook file is checked at start: a bad one stops epos with a line naming file and field.
    playbooks.configure(settings.epos_playbooks)

    def actor(body: dict[str, Any]) -> Actor:
        return actor_for(settings, common.user_id(body))

    def zone_of(client: WebClient, user_id: str) -> ZoneInfo:
        return Zones(client, settings.timezone).of(user_id)

    def today_in(zone: ZoneInfo) -> date:
        return clock.now().astimezone(zone).date()

    def metadata_zone(meta: dict[str, Any]) -> ZoneInfo:
        return zones.named(meta.get("tz"), settings.timezone)

    def webhook_reply(response_url: str | None, client: WebClient, user_id: str, *, replace: bool = False) -> Reply:
        """Answer in the conversation the person acted in (via response_url), else by DM."""

        def reply(message: dict[str, Any]) -> None:
            if response_url:
                try:
                    options: dict[str, Any] = {"replace_original": True} if replace else {
                        "response_type": "ephemeral", "replace_original": False}
                    response = WebhookClient(response_url).send(**message, **options)
                    if response.status_code < 300:
                        return
                    log.warning("response_url answered %s; sending a DM instead", response.status_code)
                except Exception:
                    log.warning("response_url reply failed; sending a DM instead", exc_info=True)
            common.dm(client, user_id, message)

        return reply

    def respond_reply(respond: Respond, *, replace: bool = False) -> Reply:
        def reply(message: dict[str, Any]) -> None:
            if replace:
                respond(**message, replace_original=True)
            else:
                respond(**message, response_type="ephemeral", replace_original=False)

        return reply

    def after_change(client: WebClient, result: StageChangeResult, who: Actor, reply: Reply) -> None:
        """The change is committed: tell the actor first, then everyone else."""
        reply(notify.confirmation(client, result, who))
        notify.after_change(client, settings, result, who)

    # ----- opening forms -------------------------------------------------------------------------------
    def open_new_form(client: WebClient, body: dict[str, Any], user_id: str, account: str = "") -> None:
        zone = zone_of(client, user_id)
        view = blocks.new_form(today=today_in(zone), metadata=blocks.encode({"tz": zone.key}), account=account)
        _open_view(client, body, view)

    def form_meta(body: dict[str, Any], engagement_id: int, zone: ZoneInfo) -> str:
        data: dict[str, Any] = {"e": engagement_id, "tz": zone.key}
        if body.get("response_url"):
            data["r"] = body["response_url"]
        return blocks.encode(data)

    # ----- the command -----------------------------------------------------------------------------------
    @app.command("/engagement")
    def engagement_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        who = actor_for(settings, command["user_id"])
        reply = respond_reply(respond)
        text = " ".join(command_text(command).split())
        word, _, rest = text.partition(" ")
        word = word.lower()
        if not text or (word in ("help", "?", "--help", "-h") and not rest):
            reply(blocks.help_message())
        elif word == "new":
            open_new_form(client, command, who.user_id, rest)
        elif word == "list":
            if rest.lower() not in ("", "all", "mine"):
                raise InvalidInput(LIST_USAGE)
            scope = "all" if rest.lower() == "all" else "mine"
            reply(blocks.list_message(engagements.list_engagements(who, scope=scope)))
        elif word == "stats":
            show_stats(who, rest, reply)
        elif word == "close":
            close_command(who, rest, reply, client)
        else:
            stage_or_card(who, text, reply, client)

    def show_stats(who: Actor, rest: str, reply: Reply) -> None:
        mine_only = rest.lower().startswith("mine")
        weeks = parse_weeks(rest[4:] if mine_only else rest)
        figures, scope = engagements.figures(who, weeks=weeks, mine_only=mine_only)
        reply(blocks.stats_message(figures, scope=scope, weeks=weeks))

    def close_command(who: Actor, rest: str, reply: Reply, client: WebClient) -> None:
        account_text, outcome, note = split_close(rest)
        if not account_text:
            raise InvalidInput(blocks.CLOSE_USAGE)
        match = engagements.match_account(who, account_text)
        if match.kind == "none":
            closed = engagements.match_account(who, account_text, open_only=False)
            if closed.kind == "exact" and outcome is not None:
                # Let the service say it is closed already, and how to reopen.
                engagements.close(who, closed.candidates[0].id, outcome, note=note)
            reply(blocks.not_found_message(account_text, engagements.suggestions(account_text)))
            return
        if outcome is None:
            if match.kind == "exact":
                reply(blocks.closing_choice(match.candidates[0], note))
            else:
                reply(blocks.pick_for_card(match))
            return
        if match.kind != "exact":
            reply(blocks.pick_for_close(match, outcome, note))
            return
        result = engagements.close(who, match.candidates[0].id, outcome, note=note)
        after_change(client, result, who, reply)

    def stage_or_card(who: Actor, text: str, reply: Reply, client: WebClient) -> None:
        reading = engagements.interpret(who, text)
        match = reading.account
        if reading.kind == "card" or reading.stage is None:
            if match.kind == "exact":
                reply(notify.card_message(client, engagements.card(match.candidates[0].id, viewer=who)))
            elif match.kind in ("ambiguous", "unsure"):
                reply(blocks.pick_for_card(match))
            else:
                reply(blocks.not_found_message(text, engagements.suggestions(text), open_only=False))
            return
        if reading.kind == "closing":
            outcome = engagements.parse_outcome(reading.stage.query)
            if match.kind == "exact":
                reply(blocks.closing_choice(match.candidates[0], reading.note, outcome))
            elif match.kind != "none" and outcome is not None:
                reply(blocks.pick_for_close(match, outcome, reading.note))
            elif match.kind != "none":
                reply(blocks.pick_for_card(match))
            else:
                reply(blocks.not_found_message(match.query, engagements.suggestions(match.query)))
            return
        stage = reading.stage.stage
        assert stage is not None
        if match.kind == "none":
            reply(blocks.not_found_message(match.query, engagements.suggestions(match.query)))
        elif reading.stage.kind == "unsure":
            reply(blocks.pick_for_change(match, stage, reading.note, unsure_stage=True))
        elif match.kind != "exact":
            reply(blocks.pick_for_change(match, stage, reading.note))
        else:
            zone = settings.timezone
            result = engagements.change_stage(who, match.candidates[0].id, stage, note=reading.note, tz=zone)
            after_change(client, result, who, reply)

    # ----- buttons that carry an engagement id (card, nudge DM, App Home, playbook post) ---------------------
    @app.action(_suffixed(EngagementIds.change_stage))
    def open_stage_form(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        who = actor(body)
        engagement = engagements.for_change(who, _button_id(action))
        zone = zone_of(client, who.user_id)
        _open_view(client, body, blocks.stage_form(engagement, today=today_in(zone),
                                                   metadata=form_meta(body, engagement.id, zone)))

    @app.action(_suffixed(EngagementIds.close))
    def open_close_form(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        who = actor(body)
        engagement = engagements.for_change(who, _button_id(action))
        zone = zone_of(client, who.user_id)
        _open_view(client, body, blocks.close_form(engagement, today=today_in(zone),
                                                   metadata=form_meta(body, engagement.id, zone)))

    @app.action(_suffixed(EngagementIds.add_note))
    def open_note_form(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        who = actor(body)
        engagement = engagements.for_change(who, _button_id(action), closed_ok=True)
        zone = settings.timezone
        _open_view(client, body, blocks.note_form(engagement, metadata=form_meta(body, engagement.id, zone)))

    @app.action(_suffixed(EngagementIds.set_channel))
    def open_channel_form(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        who = actor(body)
        engagement = engagements.for_change(who, _button_id(action), closed_ok=True)
        _open_view(client, body, blocks.channel_form(engagement, metadata=form_meta(body, engagement.id,
                                                                                      settings.timezone)))

    @app.action(_suffixed(EngagementIds.reopen))
    def reopen(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        who = actor(body)
        result = engagements.reopen(who, _button_id(action))
        after_change(client, result, who, reply_for(body, respond, client))

    @app.action(_suffixed(EngagementIds.show_card))
    def show_card(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        card = engagements.card(_button_id(action), viewer=actor(body))
        if (body.get("container") or {}).get("type") == "view":
            # No Slack call before views.open: its trigger_id lasts 3 seconds.
            _open_view(client, body, blocks.card_modal(card))
        else:
            respond(**notify.card_message(client, card), response_type="ephemeral", replace_original=False)

    @app.action(_suffixed(EngagementIds.new))
    def open_new(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        open_new_form(client, body, common.user_id(body))

    def reply_for(body: dict[str, Any], respond: Respond, client: WebClient, *, replace: bool = False) -> Reply:
        if body.get("response_url"):
            return respond_reply(respond, replace=replace)
        return webhook_reply(None, client, common.user_id(body))

    # ----- pickers, undo, paging ----------------------------------------------------------------------------
    @app.action(_suffixed(EngagementIds.confirm_change))
    def confirm_change(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                       client: WebClient) -> None:
        ack()
        who = actor(body)
        data = blocks.decode(str(action.get("value") or ""))
        try:
            engagement_id, stage, note = int(data["e"]), Stage(data["s"]), str(data.get("n") or "")
        except (KeyError, ValueError, TypeError):
            raise InvalidInput(STALE_BUTTON) from None
        if not 0 < engagement_id <= LARGEST_ID:
            raise InvalidInput(STALE_BUTTON)
        result = engagements.change_stage(who, engagement_id, stage, note=note, tz=settings.timezone)
        after_change(client, result, who, reply_for(body, respond, client, replace=True))

    @app.action(_suffixed(EngagementIds.confirm_close))
    def confirm_close(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                      client: WebClient) -> None:
        ack()
        who = actor(body)
        data = blocks.decode(str(action.get("value") or ""))
        try:
            engagement_id, outcome, note = int(data["e"]), Outcome(data["o"]), str(data.get("n") or "")
        except (KeyError, ValueError, TypeError):
            raise InvalidInput(STALE_BUTTON) from None
        if not 0 < engagement_id <= LARGEST_ID:
            raise InvalidInput(STALE_BUTTON)
        result = engagements.close(who, engagement_id, outcome, note=note)
        after_change(client, result, who, reply_for(body, respond, client, replace=True))

    @app.action(_suffixed(EngagementIds.undo))
    def undo(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        who = actor(body)
        result = engagements.undo(who, _button_id(action))
        after_change(client, result, who, reply_for(body, respond, client, replace=True))

    @app.action(_suffixed(EngagementIds.list_page))
    def list_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        data = blocks.decode(str(action.get("value") or ""))
        scope = "all" if data.get("scope") == "all" else "mine"
        page = int(data["page"]) if _number(str(data.get("page", ""))) else 0
        listing = engagements.list_engagements(actor(body), scope=scope, page=page)
        respond(**blocks.list_message(listing), response_type="ephemeral", replace_original=True)

    # ----- ESAT ----------------------------------------------------------------------------------------------
    @app.action(_suffixed(EngagementIds.esat_score))
    def esat_score(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        suffix = str(action.get("action_id", "")).rpartition(":")[2]
        if not _number(suffix):
            raise InvalidInput(STALE_BUTTON)
        prompt = esat.answer(common.user_id(body), _button_id(action), int(suffix))
        respond(**blocks.esat_message(prompt, answered=True), replace_original=True)

    @app.action(_suffixed(EngagementIds.esat_comment))
    def esat_comment(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        prompt = esat.prompt(_button_id(action))
        if prompt.owner_id != common.user_id(body):
            raise InvalidInput(f"Only <@{prompt.owner_id}>, who owned this engagement, rates it.")
        meta: dict[str, Any] = {"s": prompt.survey_id}
        if body.get("response_url"):
            meta["r"] = body["response_url"]
        _open_view(client, body, blocks.esat_form(prompt, metadata=blocks.encode(meta)))

    # ----- form submissions ------------------------------------------------------------------------------------
    def refuse(ack: Ack, error: EposError, default_block: str, field_blocks: dict[str, str] | None = None) -> None:
        field = error.field if isinstance(error, InvalidInput) else None
        ack(response_action="errors",
            errors=blocks.form_errors(field, str(error), default_block=default_block, blocks=field_blocks))

    @app.view(EngagementIds.new_modal)
    @answered_on_the_form
    def new_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        who = actor(body)
        meta = blocks.decode(view.get("private_metadata") or "")
        values = (view.get("state") or {}).get("values") or {}
        try:
            data = blocks.read_new_form(values)
            result = engagements.create(who, data, tz=metadata_zone(meta))
        except EposError as error:
            refuse(ack, error, EngagementIds.account_block)
            return
        ack()
        after_change(client, result, who, webhook_reply(None, client, who.user_id))

    def submitted_change(view: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], int]:
        meta = blocks.decode(view.get("private_metadata") or "")
        values = (view.get("state") or {}).get("values") or {}
        engagement_id = meta.get("e")
        if not isinstance(engagement_id, int) or not 0 < engagement_id <= LARGEST_ID:
            raise InvalidInput(FORM_GONE)
        return meta, values, engagement_id

    @app.view(EngagementIds.stage_modal)
    @answered_on_the_form
    def stage_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        who = actor(body)
        field_blocks = {"stage": EngagementIds.target_stage_block}
        try:
            meta, values, engagement_id = submitted_change(view)
            stage_value = blocks.submitted(values, EngagementIds.target_stage_block)
            if stage_value not in {s.value for s in Stage}:
                raise InvalidInput("Pick the stage to move to.", field="stage")
            result = engagements.change_stage(
                who, engagement_id, Stage(stage_value),
                note=blocks.submitted(values, EngagementIds.note_block) or "",
                effective_on=blocks.parse_day(blocks.submitted(values, EngagementIds.effective_date_block)),
                tz=metadata_zone(meta),
            )
        except EposError as error:
            refuse(ack, error, EngagementIds.target_stage_block, field_blocks)
            return
        ack()
        after_change(client, result, who, webhook_reply(meta.get("r"), client, who.user_id))

    @app.view(EngagementIds.close_modal)
    @answered_on_the_form
    def close_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        who = actor(body)
        try:
            meta, values, engagement_id = submitted_change(view)
            outcome_value = blocks.submitted(values, EngagementIds.outcome_block)
            if outcome_value not in {o.value for o in Outcome}:
                raise InvalidInput("Pick the outcome: won, lost or no decision.", field="outcome")
            result = engagements.close(
                who, engagement_id, Outcome(outcome_value),
                note=blocks.submitted(values, EngagementIds.note_block) or "",
                effective_on=blocks.parse_day(blocks.submitted(values, EngagementIds.effective_date_block)),
                tz=metadata_zone(meta),
            )
        except EposError as error:
            refuse(ack, error, EngagementIds.outcome_block, {"outcome": EngagementIds.outcome_block})
            return
        ack()
        after_change(client, result, who, webhook_reply(meta.get("r"), client, who.user_id))

    @app.view(EngagementIds.note_modal)
    @answered_on_the_form
    def note_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        who = actor(body)
        try:
            meta, values, engagement_id = submitted_change(view)
            result = engagements.add_note(who, engagement_id, blocks.submitted(values, EngagementIds.note_block) or "")
        except EposError as error:
            refuse(ack, error, EngagementIds.note_block)
            return
        ack()
        webhook_reply(meta.get("r"), client, who.user_id)(blocks.note_result_message(result))
        try:
            notify.refresh_homes(client, settings, result.engagement, who)
        except Exception:
            log.exception("could not refresh the App Home after a note")

    @app.view(EngagementIds.channel_modal)
    def channel_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        who = actor(body)
        try:
            meta, values, engagement_id = submitted_change(view)
            engagement, changed = engagements.set_channel(
                who, engagement_id, blocks.submitted(values, EngagementIds.channel_block) or None)
        except EposError as error:
            refuse(ack, error, EngagementIds.channel_block)
            return
        ack()
        answer = blocks.channel_result_message(engagement, changed=changed,
                                               shared=notify.deal_sharing(client, engagement.channel_id))
        webhook_reply(meta.get("r"), client, who.user_id)(answer)

    @app.view(EngagementIds.esat_comment_modal)
    @answered_on_the_form
    def esat_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        user_id = common.user_id(body)
        meta = blocks.decode(view.get("private_metadata") or "")
        values = (view.get("state") or {}).get("values") or {}
        score = blocks.submitted(values, EngagementIds.outcome_block)
        try:
            survey_id = meta.get("s")
            if not isinstance(survey_id, int) or not 0 < survey_id <= LARGEST_ID:
                raise InvalidInput(STALE_BUTTON)
            prompt = esat.answer(user_id, survey_id, int(score) if score and _number(str(score)) else None,
                                 comment=blocks.submitted(values, EngagementIds.comment_block) or "")
        except EposError as error:
            refuse(ack, error, EngagementIds.outcome_block)
            return
        ack()
        webhook_reply(meta.get("r"), client, user_id, replace=True)(blocks.esat_message(prompt, answered=True))


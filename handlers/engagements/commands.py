"""`/engagement` and its words: help, new, list, stats, close, a stage change, or a card."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks import engagements as blocks
from bot.codecs import number
from bot.errors import InvalidInput
from bot.notify import engagements as tell
from bot.services import engagements
from bot.services.actors import Actor, require_presales
from handlers import common
from handlers.engagements.replies import Reply, changed, closed_answer, open_new_form, respond_reply

LIST_USAGE = "Use `/engagement list` for yours, or `/engagement list all` (managers) for everyone's."
STATS_USAGE = "Use `/engagement stats` or `/engagement stats --weeks N`, with N from 1 to 104 (default 12)."
DEFAULT_WEEKS = 12
MAX_WEEKS = 104


def parse_weeks(text: str) -> int:
    """`--weeks 8`, `--weeks=8`, `-w 8` or `8`; anything else is refused with the usage."""
    words = text.replace("=", " ").split()
    if not words:
        return DEFAULT_WEEKS
    if words[0] in ("--weeks", "-w", "weeks") and len(words) == 2:
        words = words[1:]
    weeks = number(words[0]) if len(words) == 1 else None
    if weeks is not None and 1 <= weeks <= MAX_WEEKS:
        return weeks
    raise InvalidInput(STATS_USAGE)


def engagement_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient,
                       context: BoltContext) -> None:
    ack()
    who = common.actor(context, command)
    reply = respond_reply(respond)
    text = " ".join(common.command_text(command).split())
    word, _, rest = text.partition(" ")
    word = word.lower()
    if not text or (word in ("help", "?", "--help", "-h") and not rest):
        reply(blocks.help_message())
    elif word == "new":
        open_new_form(context, client, command, who.user_id, rest)
    elif word == "list":
        if rest.lower() not in ("", "all", "mine"):
            raise InvalidInput(LIST_USAGE)
        scope = "all" if rest.lower() == "all" else "mine"
        reply(blocks.list_message(engagements.list_engagements(who, scope=scope)))
    elif word == "stats":
        show_stats(who, rest, reply)
    elif word == "close":
        close_command(context, who, rest, reply, client)
    else:
        stage_or_card(context, who, text, reply, client)


def show_stats(who: Actor, rest: str, reply: Reply) -> None:
    mine_only = rest.lower().startswith("mine")
    weeks = parse_weeks(rest[4:] if mine_only else rest)
    figures, scope = engagements.figures(who, weeks=weeks, mine_only=mine_only)
    reply(blocks.stats_message(figures, scope=scope, weeks=weeks))


def close_command(context: BoltContext, who: Actor, rest: str, reply: Reply, client: WebClient) -> None:
    account_text, outcome, note = engagements.split_close(rest)
    if not account_text:
        # The usage's example names an account: someone outside presales is told whom to ask instead.
        require_presales(who)
        raise InvalidInput(blocks.CLOSE_USAGE)
    match = engagements.match_account(who, account_text)
    if match.kind in ("none", "unsure"):
        closed = engagements.closed_named(who, account_text)
        if closed is not None:
            reply(blocks.already_closed_message(closed))
            return
        typed = engagements.unknown_outcome(who, account_text) if outcome is None else None
        if typed is not None:
            raise InvalidInput(blocks.not_an_outcome(typed[1], typed[0]))
    if match.kind == "none":
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
    with closed_answer(reply):
        result = engagements.close(who, match.candidates[0].id, outcome, note=note)
        changed(context, client, result, who, reply)


def stage_or_card(context: BoltContext, who: Actor, text: str, reply: Reply, client: WebClient) -> None:
    reading = engagements.interpret(who, text)
    match = reading.account
    if reading.kind == "card" or reading.stage is None:
        if match.kind == "exact":
            reply(tell.card_message(client, engagements.card(match.candidates[0].id, viewer=who)))
        elif match.kind in ("ambiguous", "unsure"):
            reply(blocks.pick_for_card(match))
        else:
            reply(blocks.not_found_message(text, engagements.suggestions(text)))
        return
    if match.kind == "exact" and not match.candidates[0].is_open:
        reply(blocks.already_closed_message(match.candidates[0]))
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
        zone = common.settings_of(context).timezone
        with closed_answer(reply):
            result = engagements.change_stage(who, match.candidates[0].id, stage, note=reading.note, tz=zone)
            changed(context, client, result, who, reply)


def register(app: App) -> None:
    app.command("/engagement")(engagement_command)

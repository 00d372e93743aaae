"""`epos webhooks`: the stage webhook calls that fail or that epos gave up on, and sending given-up ones again."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot import clock, db
from bot.blocks.text import plural
from bot.cli.output import add_json_option
from bot.config import Settings
from bot.errors import NotFound
from bot.services import hooks
from models.schemas.hooks import HookCall

ACTOR = "cli"
NONE_FAILING = "No stage webhook call is failing, and epos gave up on none in the last week."
NONE_GIVEN_UP = "epos gave up on no stage webhook call in the last week: nothing to send again."


def _line(call: HookCall, zone: Any) -> str:
    last = call.last_attempt_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if call.last_attempt_at else "never"
    return (f"  {call.delivery_id}  {call.stage.label} ({call.event}) for {call.account} · {call.opportunity} "
            f"to {call.url}: {plural(call.attempts, 'attempt')}, the last {last}, {call.last_error or 'no answer'}")


def _as_json(call: HookCall) -> dict[str, Any]:
    return {"delivery_id": call.delivery_id, "engagement_id": call.engagement_id, "account": call.account,
            "stage": call.stage.value, "event": call.event, "url": call.url, "attempts": call.attempts,
            "last_attempt_at": call.last_attempt_at.isoformat() if call.last_attempt_at else None,
            "last_error": call.last_error}


def list_calls(args: argparse.Namespace, settings: Settings) -> int:
    _open(settings)
    given_up, retrying = hooks.failing(clock.now())
    if args.json:
        print(json.dumps({"given_up": [_as_json(c) for c in given_up], "retrying": [_as_json(c) for c in retrying]},
                         indent=2))
        return 0
    if not given_up and not retrying:
        print(NONE_FAILING)
        return 0
    if given_up:
        print(f"Given up ({len(given_up)}, the last week; `epos webhooks send-again ID` or `--all` tries again):")
        print("\n".join(_line(call, settings.timezone) for call in given_up))
    if retrying:
        print(f"Failing and being retried ({len(retrying)}, given up after {hooks.MAX_ATTEMPTS} attempts):")
        print("\n".join(_line(call, settings.timezone) for call in retrying))
    return 0


def send_again(args: argparse.Namespace, settings: Settings) -> int:
    if bool(args.ids) == args.all:
        print("epos webhooks send-again: name the calls by their delivery ids (`epos webhooks` lists them), "
              "or give --all", file=sys.stderr)
        return 1
    _open(settings)
    try:
        calls = hooks.send_again(None if args.all else list(dict.fromkeys(args.ids)), actor_id=ACTOR, now=clock.now())
    except NotFound as error:
        print(f"epos webhooks send-again: {error}; nothing was changed", file=sys.stderr)
        return 1
    if not calls:
        print(NONE_GIVEN_UP)
        return 0
    print(f"{plural(len(calls), 'webhook call')} will be sent again at the scheduler's next tick, with the same "
          "delivery id (a receiver that got one drops it):")
    print("\n".join(_line(call, settings.timezone) for call in calls))
    return 0


def _open(settings: Settings) -> None:
    db.upgrade(settings.database_url)
    db.configure(settings.database_url)


def add_commands(commands: Any) -> None:
    parser = commands.add_parser(
        "webhooks", help="stage webhook calls that fail, and sending given-up ones again",
        description="Lists the stage webhook calls being retried and those epos gave up on in the last week "
        "(README › Stage webhooks); `send-again` gives given-up calls a fresh round of attempts.")
    add_json_option(parser, "the calls")
    parser.set_defaults(handler=list_calls)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    again = actions.add_parser("send-again", help="send given-up calls again from the next tick",
                               description="Each call named (or --all of the last week's) is sent again by the "
                               "scheduler, with its delivery id and body unchanged, up to "
                               f"{hooks.MAX_ATTEMPTS} more attempts. Audited.")
    again.add_argument("ids", nargs="*", metavar="ID", help="a delivery id, as `epos webhooks` lists it")
    again.add_argument("--all", action="store_true", help="every call epos gave up on in the last week")
    again.set_defaults(handler=send_again)

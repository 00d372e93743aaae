"""The DM admins get when epos gives up on a stage webhook call."""

from __future__ import annotations

from datetime import tzinfo

from slack_sdk.models.blocks import ContextBlock, SectionBlock

from bot.blocks import kit
from bot.blocks.kit import Message
from bot.blocks.text import clip, plural, safe, slack_moment
from models.schemas.hooks import HookCall

GAVE_UP = ("⚠️ epos gave up on the *{stage}* webhook for *{account}* · {opportunity}: {attempts} to {url} failed, "
           "the last {when}, with “{error}”.")
WHAT_NOW = ("The receiver never got this call (the engagement {event} {stage}), so whatever it starts (a Zap, a "
            "CRM update) has not happened for this change. Check the receiver and its secret, then have whoever "
            "runs epos send it again (`epos webhooks send-again {call}`), or do that step by hand.")
EVENT = {"entered": "entering", "left": "leaving"}


def gave_up_message(call: HookCall, tz: tzinfo) -> Message:
    when = slack_moment(call.last_attempt_at, tz) if call.last_attempt_at else "just now"
    lead = GAVE_UP.format(stage=call.stage.label, account=safe(call.account, 200), opportunity=safe(call.opportunity, 200),
                          attempts=plural(call.attempts, "call"), url=safe(clip(call.url, 300)), when=when,
                          error=safe(call.last_error or "no answer", 500))
    blocks = [SectionBlock(text=kit.md(lead)),
              ContextBlock(elements=[kit.md(WHAT_NOW.format(event=EVENT[call.event], stage=call.stage.label,
                                                             call=call.delivery_id))])]
    fallback = f"Gave up on the {call.stage.label} webhook for {call.account} · {call.opportunity}"
    return kit.message(fallback, blocks)

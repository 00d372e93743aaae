"""The stale-engagement DM: one message per SE listing every stale engagement with its buttons.

Each engagement is two blocks, a section (`nudge_line:<id>`) and its buttons (`nudge_line_actions:<id>`),
so a Snooze or an Undo redraws just that engagement's line in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import dates
from bot.blocks import kit
from bot.blocks.text import HEADER_TEXT, MESSAGE_BLOCKS, SECTION_TEXT, clip, safe
from bot.charts import stage_label
from bot.codecs import EngagementButton, NudgeButton
from bot.ids import EngagementIds, NudgeIds
from models.schemas.engagements import StaleEngagement
from models.schemas.nudges import SeNudge, SnoozeResult

HEADER_ONE = "One of your engagements has gone quiet"
HEADER_MANY = "{count} of your engagements have gone quiet"
INTRO = (
    "No stage change or note for longer than its stage's playbook allows. Move it on, add a note, "
    "or snooze it for a week if it is waiting on the customer."
)
LINE = "*{account}* ({opportunity})\n{stage} · idle *{days} days* (limit {limit}) · last activity {last}"
SNOOZED = "*{account}* ({opportunity})\n:zzz: Snoozed until {until}: no nudges about it until then."
CLOSED = "*{account}* ({opportunity})"
CLOSED_NOTE = "Closed since this nudge: nothing more to do here."
GONE = "This engagement no longer exists."
GONE_NOTE = "See your open engagements with `/engagement list`."
MORE = "…and {count} more stale engagements: see them on the App Home tab or with `/engagement list`."
FOOTER = "One nudge a day at most; each engagement at most every {cooldown} days. `/engagement help` for more."
FALLBACK = "{count} stale engagements need an update: {accounts}"
FALLBACK_ONE = "A stale engagement needs an update: {accounts}"
SNOOZED_REPLY = "Snoozed *{account}* until {until}: no nudges about it until then."
UNSNOOZED_REPLY = "Snooze undone for *{account}*: it will be in your next nudge while it stays idle."
BUTTON_STAGE = "Update stage"
BUTTON_NOTE = "Add note"
BUTTON_SNOOZE = "Snooze 7 days"
BUTTON_CLOSE = "Close"
BUTTON_UNDO = "Undo"

# Header, intro, the "more" line and the footer; the rest is two blocks per engagement.
FIXED_BLOCKS = 4
MAX_LINES = (MESSAGE_BLOCKS - FIXED_BLOCKS) // 2


def when(moment: datetime, tz: ZoneInfo) -> str:
    return dates.short_day(moment, tz)




def line_block_id(engagement_id: int) -> str:
    return f"{NudgeIds.line}:{engagement_id}"


def actions_block_id(engagement_id: int) -> str:
    return f"{NudgeIds.line_actions}:{engagement_id}"


def _names(account: str, opportunity: str) -> dict[str, str]:
    return {"account": safe(account, 200), "opportunity": safe(opportunity, 200)}


def line_blocks(line: StaleEngagement, tz: ZoneInfo) -> list[Block]:
    text = LINE.format(
        **_names(line.account, line.opportunity), stage=stage_label(line.stage), days=line.days_idle,
        limit=line.stale_after_days, last=when(line.last_activity_at, tz),
    )
    return [
        SectionBlock(block_id=line_block_id(line.id), text=MarkdownTextObject(text=clip(text, SECTION_TEXT))),
        ActionsBlock(block_id=actions_block_id(line.id), elements=[
            kit.button(BUTTON_STAGE, EngagementIds.change_stage, EngagementButton(id=line.id).encode(), style="primary"),
            kit.button(BUTTON_NOTE, EngagementIds.add_note, EngagementButton(id=line.id).encode()),
            kit.button(BUTTON_SNOOZE, NudgeIds.snooze, NudgeButton(id=line.id).encode()),
            kit.button(BUTTON_CLOSE, EngagementIds.close, EngagementButton(id=line.id).encode()),
        ]),
    ]


def snoozed_blocks(result: SnoozeResult, tz: ZoneInfo) -> list[Block]:
    until = when(result.snoozed_until, tz) if result.snoozed_until else "–"
    text = SNOOZED.format(**_names(result.account, result.opportunity), until=until)
    return [
        SectionBlock(block_id=line_block_id(result.engagement_id), text=MarkdownTextObject(text=clip(text, SECTION_TEXT))),
        ActionsBlock(block_id=actions_block_id(result.engagement_id), elements=[
            kit.button(BUTTON_UNDO, NudgeIds.undo_snooze, str(result.engagement_id)),
        ]),
    ]


def snoozed_reply(result: SnoozeResult, tz: ZoneInfo) -> str:
    until = when(result.snoozed_until, tz) if result.snoozed_until else "–"
    return SNOOZED_REPLY.format(account=safe(result.account, 200), until=until)


def unsnoozed_reply(result: SnoozeResult) -> str:
    return UNSNOOZED_REPLY.format(account=safe(result.account, 200))


def closed_blocks(result: SnoozeResult | None, engagement_id: int) -> list[Block]:
    """An engagement that was closed (or deleted) since the nudge: no buttons left to press."""
    text = CLOSED.format(**_names(result.account, result.opportunity)) if result else GONE
    note = CLOSED_NOTE if result else GONE_NOTE
    return [
        SectionBlock(block_id=line_block_id(engagement_id), text=MarkdownTextObject(text=clip(text, SECTION_TEXT))),
        ContextBlock(block_id=actions_block_id(engagement_id), elements=[MarkdownTextObject(text=note)]),
    ]


def nudge_message(nudge: SeNudge, tz: ZoneInfo, *, cooldown_days: int) -> tuple[list[Block], str]:
    """The DM for one SE: most overdue first; beyond what fits in one message, "and N more"."""
    count = len(nudge.lines)
    shown = nudge.lines[:MAX_LINES]
    blocks: list[Block] = [
        HeaderBlock(text=clip(HEADER_ONE if count == 1 else HEADER_MANY.format(count=count), HEADER_TEXT)),
        ContextBlock(elements=[MarkdownTextObject(text=INTRO)]),
    ]
    for line in shown:
        blocks.extend(line_blocks(line, tz))
    if count > len(shown):
        blocks.append(ContextBlock(block_id=NudgeIds.more.value,
                                   elements=[MarkdownTextObject(text=MORE.format(count=count - len(shown)))]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=FOOTER.format(cooldown=cooldown_days))]))
    accounts = ", ".join(line.account for line in shown[:5]) + ("…" if count > 5 else "")
    fallback = FALLBACK_ONE.format(accounts=accounts) if count == 1 else FALLBACK.format(count=count, accounts=accounts)
    return blocks, clip(fallback, 300)


def replace_line(
    message_blocks: Sequence[dict[str, Any]], engagement_id: int, new_blocks: Sequence[Block]
) -> list[dict[str, Any]] | None:
    """The DM's blocks with one engagement's line swapped for `new_blocks`; None if the line isn't there."""
    wanted = {line_block_id(engagement_id), actions_block_id(engagement_id)}
    positions = [i for i, block in enumerate(message_blocks) if block.get("block_id") in wanted]
    if not positions:
        return None
    result = [dict(block) for block in message_blocks]
    first, last = positions[0], positions[-1]
    return result[:first] + [block.to_dict() for block in new_blocks] + result[last + 1:]

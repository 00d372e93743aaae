"""How a DevRel request is written wherever it shows: meeting times in the reader's zone, the brief,
headers and fields."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.blocks.text import FIELD_TEXT, HEADER_TEXT, SECTION_TEXT, clip, escape, link, safe
from models.enums import RequestState
from models.schemas.devrel import DevRelRequestView

STATE_EMOJI = {
    RequestState.asking: ":hourglass_flowing_sand:",
    RequestState.in_channel: ":loudspeaker:",
    RequestState.accepted: ":white_check_mark:",
    RequestState.cancelled: ":no_entry_sign:",
    RequestState.expired: ":warning:",
}
EMPTY = "—"



def when(start: datetime, minutes: int, zone: ZoneInfo, *, with_zone: bool = True) -> str:
    """`Wed 14 Oct 2026, 15:00–16:00 (Europe/Berlin)` in the reader's timezone."""
    local = start.astimezone(zone)
    end = (start + timedelta(minutes=minutes)).astimezone(zone)
    text = f"{local:%a %-d %b %Y}, {local:%H:%M}–{end:%H:%M}"
    return f"{text} ({zone.key})" if with_zone else text


def clock_time(moment: datetime, zone: ZoneInfo, *, today: date | None = None) -> str:
    local = moment.astimezone(zone)
    if today is not None and local.date() == today:
        return f"{local:%H:%M}"
    return f"{local:%a %-d %b}, {local:%H:%M}"


def slack_date(moment: datetime, fallback: str) -> str:
    """A time every reader sees in their own timezone (Slack's date formatting)."""
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{escape(fallback)}>"


def engagement_line(request: DevRelRequestView) -> str:
    engagement = request.engagement
    return f"{safe(engagement.opportunity, 500)} · {engagement.stage.label}"


def topics_text(topics: Sequence[str]) -> str:
    return safe(", ".join(topics), 1000) if topics else EMPTY


def link_text(url: str) -> str:
    return link(url, clip(url, 200)) if url else EMPTY


def brief_blocks(request: DevRelRequestView, *, include_reserve: bool) -> list[Block]:
    parts = [
        ("What the customer asked", request.customer_asked),
        ("What has been promised", request.promised),
    ]
    if include_reserve:
        parts.append(("Held in reserve by the seller", request.held_in_reserve))
    blocks: list[Block] = []
    for title, body in parts:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*{title}*\n{safe(body, SECTION_TEXT - 100) if body else EMPTY}")))
    return blocks


def history_line(request: DevRelRequestView) -> str | None:
    items: list[str] = []
    for event in request.history:
        name = escape(request.name_of(event.subject_id)) if event.subject_id else ""
        if event.kind == "declined":
            reason = f" ({safe(event.detail, 200)})" if event.detail else ""
            items.append(f"{name} declined{reason}")
        elif event.kind == "handed_back":
            items.append(f"{name} handed it back ({safe(event.detail, 200)})")
        elif event.kind == "released":
            items.append(f"{name}: {safe(event.detail, 200)}")
        elif event.kind == "escalated" and event.subject_id:
            items.append(f"{name}: {safe(event.detail, 100) or 'no answer in time'}")
    if not items:
        return None
    return clip("History: " + " · ".join(items), 2900)


def header_block(text: str) -> HeaderBlock:
    return HeaderBlock(text=clip(text, HEADER_TEXT))


def fields_block(pairs: Sequence[tuple[str, str]]) -> SectionBlock:
    return SectionBlock(fields=[MarkdownTextObject(text=clip(f"*{k}*\n{v}", FIELD_TEXT)) for k, v in pairs[:10]])

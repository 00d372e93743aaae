"""The weekly digest as Block Kit: the channel post, the per-SE thread reply, and plain text for the CLI.

Whatever the data, the post stays within Slack's limits: a fixed number of blocks (≤ 16), every
list clipped to what fits in one section's 3,000 characters with "and N more", at most 10 fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import dates
from bot.blocks import pilots as pilot_blocks
from bot.blocks.interactions import interactions_section
from bot.blocks.stage_checklist import deliverables_section
from bot.blocks import adoption
from bot.blocks import asset_outcomes
from bot.blocks.text import FIELD_TEXT, HEADER_TEXT, MESSAGE_BLOCKS, SECTION_TEXT, clip, link, safe, slack_day
from bot.blocks.text import plural
from bot.charts import day_count, stage_label
from bot.services.digest import MIN_CLOSES_TO_COMPARE
from models.schemas.digest import DevRelFigures, Digest, MeanMedian, OwnerFigures, SearchGap, StaleLine

TITLE = "Weekly presales digest · {week}"
SUBTITLE = "{start} – {end} ({tz}) · per-SE breakdown and chart in the thread"
MTTC_TITLE = "*Time to close (MTTC)*"
OUTCOME_TITLE = "*Closed this week*"
FUNNEL_TITLE = "*Funnel: open engagements and median days in stage*"
FUNNEL_ROW = "{stage} · *{count}* open · median {days} in stage"
FUNNEL_ROW_NONE = "{stage} · *{count}* open · none left it this week"
SLOWEST = "Slowest stage: *{stage}* (median {days} in stage)."
NO_DWELL = "No engagement left a stage this week."
STALE_TITLE = "*Stale engagements* ({shown} of {total}, most overdue first)"
SNOOZED = " · snoozed until {until}"
NO_STALE = "*Stale engagements*\nNone: every open engagement moved within its stage's limit. :tada:"
DEVREL_TITLE = "*DevRel coverage*"
NO_DEVREL = "*DevRel coverage*\nNo requests this week."
ESAT_TITLE = "*Customer satisfaction (ESAT)*"
NO_ESAT = "*Customer satisfaction (ESAT)*\nNo ratings this week."
ASSETS_TITLE = "*Most shared assets*"
NO_ASSETS = "*Most shared assets*\nNo assets were shared this week."
OVERDUE_TITLE = "*Assets overdue for review* ({total}; `epos assets due` lists them all)"
NO_OVERDUE = "*Assets overdue for review*\nNone: every asset was verified in time."
OVERDUE_LINE = "{title} · verifier {verifier} · due {due} ({days} overdue)"
GAPS_TITLE = "*Searches that found nothing* (content gaps; add one with `/asset add`)"
NO_GAPS = "*Searches that found nothing*\nNone: every search found something."
PARTIAL_GAPS_TITLE = "*Searches that found only part of what was asked* (the best answer missed some words)"
PARTIAL_GAP = "“{query}” · {count}× · nothing on *{unmatched}*, found {matched}"
MORE = "…and {count} more"
NEXT_STEP = "All figures: `epos digest --week {week} --json`. Your own engagements: `/engagement list`."
FALLBACK = "Weekly presales digest {week}: {closed} closed ({won} won), MTTC {mttc}, {stale} stale engagements."

THREAD_TITLE = "*Per SE · {week}*"
THREAD_NONE = "No SE had an open or closed engagement in {week}."
THREAD_MORE = "…and {count} more SEs; `epos digest --week {week} --json` lists everyone."
THREAD_FALLBACK = "Per-SE breakdown of the {week} digest"
CHART_TITLE = "MTTC trend (12 weeks) and median days in stage · {week}"
CHART_ALT = "Line chart of weekly mean and median days to close over 12 weeks, and bars of median days per stage."

# A thread reply of sections of SE lines; the last block is kept for "and N more".
THREAD_BLOCKS = MESSAGE_BLOCKS - 2

NameOf = Callable[[str], str]


def days(value: float | None) -> str:
    return "–" if value is None else day_count(value)


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def mean_median(figures: MeanMedian) -> str:
    if not figures.count:
        return "no engagements closed"
    return f"mean {days(figures.mean)} · median {days(figures.median)}, from {plural(figures.count, 'close')}"


NOT_COMPARED = "not compared: {closes} this week, {needed} needed"


def versus(week: MeanMedian, baseline: MeanMedian) -> str:
    """How this week's mean compares with a trailing mean: "▼ 7.9 days faster"; not compared while either
    rests on fewer than MIN_CLOSES_TO_COMPARE closes."""
    if week.mean is None or baseline.mean is None:
        return ""
    if week.count < MIN_CLOSES_TO_COMPARE or baseline.count < MIN_CLOSES_TO_COMPARE:
        return NOT_COMPARED.format(closes=plural(week.count, "close"), needed=MIN_CLOSES_TO_COMPARE)
    delta = week.mean - baseline.mean
    if abs(delta) < 0.05:
        return "about the same"
    return f"▲ {days(delta)} slower" if delta > 0 else f"▼ {days(-delta)} faster"


def bullets(lines: Sequence[str], *, title: str, limit: int = SECTION_TEXT) -> str:
    """`title` and as many bullet lines as fit in `limit` characters, then "…and N more"."""
    text = title
    for index, line in enumerate(lines):
        candidate = f"{text}\n• {line}"
        rest = len(lines) - index - 1
        reserve = len("\n" + MORE.format(count=len(lines))) if rest else 0
        if len(candidate) + reserve > limit:
            return f"{text}\n{MORE.format(count=len(lines) - index)}"
        text = candidate
    return text


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_TEXT)))


def _fields(*texts: str) -> SectionBlock:
    return SectionBlock(fields=[MarkdownTextObject(text=clip(t, FIELD_TEXT)) for t in texts[:10]])


def _name(name_of: NameOf, user_id: str) -> str:
    return safe(name_of(user_id), 80)


def digest_message(digest: Digest, name_of: NameOf) -> tuple[list[Block], str]:
    """The channel post and its fallback text."""
    tz = ZoneInfo(digest.timezone)
    start = digest.since.astimezone(tz)
    end = (digest.until.astimezone(tz) - timedelta(days=1)).date()
    blocks: list[Block] = [
        HeaderBlock(text=clip(TITLE.format(week=digest.week), HEADER_TEXT)),
        ContextBlock(elements=[MarkdownTextObject(
            text=SUBTITLE.format(start=f"{start:%-d %b}", end=f"{end:%-d %b %Y}", tz=digest.timezone))]),
        _section(MTTC_TITLE),
        _fields(
            f"*This week*\n{mean_median(digest.mttc_days)}",
            f"*Trailing 4 weeks*\n{mean_median(digest.mttc_days_trailing_4w)}"
            f"{_versus_line(digest.mttc_days, digest.mttc_days_trailing_4w)}",
            f"*Trailing 12 weeks*\n{mean_median(digest.mttc_days_trailing_12w)}"
            f"{_versus_line(digest.mttc_days, digest.mttc_days_trailing_12w)}",
        ),
        _section(OUTCOME_TITLE),
        _fields(
            f"*Won*\n{digest.closed.won}",
            f"*Lost*\n{digest.closed.lost}",
            f"*No decision*\n{digest.closed.no_decision}",
            f"*Win rate*\n{percent(digest.win_rate)}",
        ),
        DividerBlock(),
        _section(_funnel(digest)),
        _section(_stale(digest, name_of)),
        DividerBlock(),
        _section(_devrel(digest)),
        _section(_esat(digest)),
        _section(_assets(digest)),
        _section(_gaps(digest)),
        *([_section(asset_outcomes.digest_section(
            digest.won_assets, asset_outcomes.quarter_name(digest.quarter_since, tz)))] if digest.quarter_since else []),
        _section(_overdue(digest, name_of)),
        *([_section(pilot_blocks.digest_section(digest.pilot))] if digest.pilot else []),
        *([_section(interactions_section(digest.interactions, weeks=len(digest.trend)))] if digest.interactions else []),
        *([_section(deliverables_section(digest.deliverables, weeks=len(digest.trend)))] if digest.deliverables else []),
        *([adoption.digest_section(digest.adoption, name_of)] if digest.adoption else []),
        ContextBlock(elements=[MarkdownTextObject(text=NEXT_STEP.format(week=digest.week))]),
    ]
    fallback = FALLBACK.format(
        week=digest.week, closed=digest.closed.total, won=digest.closed.won,
        mttc=days(digest.mttc_days.mean) if digest.mttc_days.count else "–", stale=digest.stale_total,
    )
    return blocks, fallback


def _versus_line(week: MeanMedian, baseline: MeanMedian) -> str:
    comparison = versus(week, baseline)
    return f"\nThis week: {comparison}" if comparison else ""


def _funnel(digest: Digest) -> str:
    lines = []
    for stage, count in digest.open_by_stage.items():
        dwell = digest.stage_dwell_days_median.get(stage)
        row = FUNNEL_ROW_NONE if dwell is None else FUNNEL_ROW
        lines.append(row.format(stage=stage_label(stage), count=count, days=days(dwell)))
    text = bullets(lines, title=FUNNEL_TITLE, limit=SECTION_TEXT - 200)
    if digest.slowest_stage is not None:
        slowest_days = digest.stage_dwell_days_median.get(digest.slowest_stage)
        text += "\n" + SLOWEST.format(stage=stage_label(digest.slowest_stage), days=days(slowest_days))
    else:
        text += "\n" + NO_DWELL
    return text


def _stale(digest: Digest, name_of: NameOf) -> str:
    if not digest.stale:
        return NO_STALE
    tz = ZoneInfo(digest.timezone)
    lines = [stale_line(line, _name(name_of, line.owner_id), tz) for line in digest.stale]
    text = bullets(lines, title=STALE_TITLE.format(shown=len(digest.stale), total=digest.stale_total))
    return text


def stale_line(line: StaleLine, who: str, tz: ZoneInfo) -> str:
    """One stale engagement: account, stage, days idle against its limit, its SE (`who`, already mrkdwn)."""
    return (
        f"*{safe(line.account, 200)}* ({safe(line.opportunity, 200)}) · {stage_label(line.stage)} · "
        f"{line.days} days idle (limit {line.threshold_days}) · {who}"
        + (SNOOZED.format(until=dates.short_day(line.snoozed_until, tz)) if line.snoozed_until else "")
    )


def _devrel(digest: Digest) -> str:
    if digest.devrel.requests == 0:
        return NO_DEVREL
    return f"{DEVREL_TITLE}\n{devrel_line(digest.devrel)}"


def devrel_line(devrel: DevRelFigures) -> str:
    """DevRel coverage of some requests as one sentence."""
    median = "–" if devrel.median_minutes_to_accept is None else _minutes(devrel.median_minutes_to_accept)
    return (
        f"{devrel.requests} requests · {devrel.accepted} accepted ({percent(devrel.accept_rate)}) · "
        f"median time to accept {median} · {devrel.unanswered} unanswered"
    )


def _minutes(value: float) -> str:
    if value < 90:
        return f"{value:.0f} min"
    return f"{value / 60:.1f} h"


def _esat(digest: Digest) -> str:
    if not digest.esat.count or digest.esat.mean is None:
        return NO_ESAT
    ratings = "1 rating" if digest.esat.count == 1 else f"{digest.esat.count} ratings"
    return f"{ESAT_TITLE}\n{digest.esat.mean:.1f} / 5 from {ratings}"


def _assets(digest: Digest) -> str:
    if not digest.top_assets:
        return NO_ASSETS
    lines = [f"{link(a.url, clip(a.title, 150))} · {a.shares} {'share' if a.shares == 1 else 'shares'}"
             for a in digest.top_assets]
    return bullets(lines, title=ASSETS_TITLE)


def _overdue(digest: Digest, name_of: NameOf) -> str:
    if not digest.overdue_assets:
        return NO_OVERDUE
    lines = [OVERDUE_LINE.format(title=link(a.url, clip(a.title, 150)), verifier=_name(name_of, a.verifier_id),
                                 due=slack_day(a.due_at), days=plural(a.days_overdue, "day"))
             for a in digest.overdue_assets]
    return bullets(lines, title=OVERDUE_TITLE.format(total=digest.overdue_assets_total))


def _gaps(digest: Digest) -> str:
    """Both kinds of content gap in one section: searches that found nothing, then those whose best
    answer matched only some words, each list in half the section when both are there."""
    partial = digest.searches_partly_answered
    room = (SECTION_TEXT - 2) // 2 if partial else SECTION_TEXT
    if not digest.searches_without_results:
        text = NO_GAPS
    else:
        lines = [f"“{safe(gap.query, 150)}” · {gap.count}×" for gap in digest.searches_without_results]
        text = bullets(lines, title=GAPS_TITLE, limit=room)
    if partial:
        text += "\n\n" + bullets([partial_gap_line(gap) for gap in partial], title=PARTIAL_GAPS_TITLE, limit=room)
    return text


def partial_gap_line(gap: SearchGap) -> str:
    return PARTIAL_GAP.format(query=safe(gap.query, 150), count=gap.count,
                              unmatched=safe(" ".join(gap.unmatched), 100), matched=safe(" ".join(gap.matched), 100))


# ----- the thread reply ----------------------------------------------------------------------------
def owner_line(owner: OwnerFigures, name_of: NameOf) -> str:
    closed = owner.closed
    parts = [f"*{_name(name_of, owner.owner_id)}*", f"{owner.open} open"]
    if closed.total:
        parts.append(f"{closed.total} closed ({closed.won} won, {closed.lost} lost, {closed.no_decision} no decision)")
        parts.append(f"MTTC {days(owner.mttc_days.mean)}")
    else:
        parts.append("none closed")
    parts.append(f"{owner.stale} stale" if owner.stale else "nothing stale")
    return " · ".join(parts)


def breakdown_message(digest: Digest, name_of: NameOf) -> tuple[list[Block], str]:
    """The per-SE thread reply: sections of one line per SE, within the message block limit."""
    fallback = THREAD_FALLBACK.format(week=digest.week)
    if not digest.owners:
        return [_section(THREAD_NONE.format(week=digest.week))], fallback
    blocks: list[Block] = []
    text = THREAD_TITLE.format(week=digest.week)
    shown = 0
    for owner in digest.owners:
        line = "\n• " + owner_line(owner, name_of)
        if len(text) + len(line) > SECTION_TEXT:
            if len(blocks) + 1 >= THREAD_BLOCKS:
                break
            blocks.append(_section(text))
            text = line.lstrip("\n")
        else:
            text += line
        shown += 1
    blocks.append(_section(text))
    if shown < len(digest.owners):
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=THREAD_MORE.format(count=len(digest.owners) - shown, week=digest.week))]))
    return blocks, fallback


# ----- plain text, for `epos digest --dry-run` -----------------------------------------------------
def digest_text(digest: Digest, name_of: NameOf) -> str:
    """The digest as someone reads it in a terminal: the post, then the thread."""
    blocks, _ = digest_message(digest, name_of)
    thread, _ = breakdown_message(digest, name_of)
    out = [_plain(block.to_dict()) for block in blocks]
    out.append("")
    out.append("--- thread ---")
    out.extend(_plain(block.to_dict()) for block in thread)
    out.append("[chart: " + CHART_TITLE.format(week=digest.week) + "]")
    return "\n".join(line for line in out if line is not None)


def _plain(block: Mapping[str, Any]) -> str:
    kind = block.get("type")
    if kind == "divider":
        return "-" * 60
    if kind == "header":
        title = str(block["text"]["text"])
        return f"{title}\n{'=' * len(title)}"
    if kind == "context":
        return " ".join(_unmark(e.get("text", "")) for e in block.get("elements", []))
    parts = []
    if block.get("text"):
        parts.append(_unmark(block["text"]["text"]))
    for field in block.get("fields") or []:
        parts.append("  " + _unmark(field["text"]).replace("\n", ": ", 1).replace("\n", "\n  "))
    return "\n".join(parts)


def _unmark(text: str) -> str:
    """mrkdwn to plain text: links show their label and address, entities are unescaped."""
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    text = text.replace("*", "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

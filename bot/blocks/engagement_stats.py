"""Team and personal figures: `/engagement stats` and the lines the App Home shows."""

from __future__ import annotations

from typing import Literal

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, SectionBlock

from bot.blocks import kit
from bot.blocks.engagement_text import day, days_text, share_text
from bot.blocks.kit import Message
from bot.blocks.text import FIELD_TEXT, HEADER_TEXT
from models.enums import OPEN_STAGES, Stage
from models.schemas.engagements import TeamMetrics

STATS_TITLE = {"mine": "Your figures", "team": "Team figures"}
STATS_WINDOW = "{since} – {until} (last {weeks} weeks) · an engagement counts here if it closed in this window"
STATS_NONE = "No engagement closed in this window yet."


def figures_lines(metrics: TeamMetrics) -> list[str]:
    """The figures as a few mrkdwn lines; shared by `/engagement stats` and the App Home."""
    closed = metrics.closed
    lines = [
        f"*Closed* {metrics.closed_total}: {closed['won']} won · {closed['lost']} lost · "
        f"{closed['no_decision']} no decision · win rate {share_text(metrics.win_rate)}",
    ]
    if metrics.mttc_days.count:
        won = metrics.mttc_by_outcome["won"]
        lines.append(
            f"*MTTC* mean {days_text(metrics.mttc_days.mean)}, median {days_text(metrics.mttc_days.median)}"
            f" · won: mean {days_text(won.mean)}, median {days_text(won.median)}"
        )
    else:
        lines.append(f"*MTTC* — {STATS_NONE}")
    esat = f"{metrics.esat.mean:.1f}/5 from {metrics.esat.count}" if metrics.esat.count else "no ratings yet"
    lines.append(f"*ESAT* {esat}")
    return lines


def stats_message(metrics: TeamMetrics, *, scope: Literal["mine", "team"], weeks: int) -> Message:
    window = STATS_WINDOW.format(since=day(metrics.since), until=day(metrics.until), weeks=weeks)
    slowest = metrics.slowest_stage
    dwell_rows, conversion_rows, open_rows = [], [], []
    for stage in OPEN_STAGES:
        dwell = metrics.stage_dwell_days_median[stage.value]
        mark = " 🐢 slowest" if stage.value == slowest else ""
        dwell_rows.append(f"{stage.label}: {days_text(dwell)}{mark}")
        conversion_rows.append(f"{stage.label}: {share_text(metrics.stage_conversion[stage.value])}")
        open_rows.append(f"{stage.label}: {metrics.open_by_stage[stage.value]}")
    blocks: list[Block] = [
        HeaderBlock(text=kit.plain_text(STATS_TITLE[scope], HEADER_TEXT)),
        ContextBlock(elements=[kit.md(window)]),
        SectionBlock(text=kit.md("\n".join(figures_lines(metrics)))),
        SectionBlock(fields=[
            kit.md("*Median days in stage*\n" + "\n".join(dwell_rows), FIELD_TEXT),
            kit.md("*Moved on from stage*\n" + "\n".join(conversion_rows), FIELD_TEXT),
            kit.md(f"*Open now* ({sum(metrics.open_by_stage.values())})\n" + "\n".join(open_rows), FIELD_TEXT),
        ]),
    ]
    if slowest:
        blocks.append(ContextBlock(elements=[kit.md(
            f"Slowest stage: *{Stage(slowest).label}* "
            f"(median {days_text(metrics.stage_dwell_days_median[slowest])}). "
            "Its playbook, posted when a deal enters it, lists what moves a deal on."
        )]))
    fallback = (f"{STATS_TITLE[scope]}: {metrics.closed_total} closed, MTTC median "
                f"{days_text(metrics.mttc_days.median)}")
    return kit.message(fallback, blocks)

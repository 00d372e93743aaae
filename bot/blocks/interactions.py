"""The kind word after a second heavy interaction, with the team's own figures by interactions used."""

from __future__ import annotations

from slack_sdk.models.blocks import SectionBlock

from bot.blocks.kit import Message, md, message
from bot.blocks.text import escape
from bot.services.interactions import FIGURES_WEEKS, SecondHeavy
from models.schemas.pilots import InteractionFigures

SECOND_HEAVY = (
    "That is the second Proofshop or Workshop for *{account}*. A friendly word from the field guide: most deals "
    "need only one interaction, some none at all, and an extra one can sometimes slow a deal down. {figures}"
)
FIGURES = "The team over the last {weeks} weeks: with one interaction, {one}; with two or more, {more}."
NO_FIGURES = "The team has too few closes yet to say whether that holds here."


def interaction_figure(figures: InteractionFigures) -> str:
    if not figures.closed or figures.mttc_days_median is None or figures.win_rate is None:
        return "no closes yet"
    return (f"a median of {figures.mttc_days_median:.1f} days to close and {figures.win_rate:.0%} won "
            f"({figures.closed} closed)")


def second_heavy_message(note: SecondHeavy) -> Message:
    one, more = note.figures["1"], note.figures["2+"]
    figures = (FIGURES.format(weeks=FIGURES_WEEKS, one=interaction_figure(one), more=interaction_figure(more))
               if one.closed or more.closed else NO_FIGURES)
    text = SECOND_HEAVY.format(account=escape(note.account), figures=figures)
    return message(text, [SectionBlock(text=md(text))])


INTERACTIONS_TITLE = "*Interactions per engagement* (closed in the last {weeks} weeks; the field guide: one is usually enough)"
BUCKET_LABELS = {"0": "No interaction", "1": "One", "2+": "Two or more"}


def interactions_section(figures: dict[str, InteractionFigures], *, weeks: int) -> str:
    lines = [INTERACTIONS_TITLE.format(weeks=weeks)]
    lines += [f"• {BUCKET_LABELS[bucket]}: {interaction_figure(figure)}" for bucket, figure in figures.items()]
    return "\n".join(lines)

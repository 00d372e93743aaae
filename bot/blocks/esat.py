"""The ESAT question sent after an engagement closes, and its answers."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, SectionBlock

from bot.blocks import kit
from bot.blocks.engagement_text import BUTTON
from bot.blocks.kit import Message
from bot.blocks.text import escape, safe
from bot.ids import EngagementIds
from models.schemas.engagements import OUTCOME_LABELS, EsatPrompt

ESAT_QUESTION = (
    "{label} closed as *{outcome}*. How satisfied are you with how this engagement went? "
    "1 = poor, 5 = excellent. It takes one click; a comment is optional."
)

ESAT_REMINDER = "Reminder, and the last one: " + ESAT_QUESTION
ESAT_THANKS = "Thanks! You rated {label} *{score}/5*.{comment} Press another number to change it."
ESAT_COMMENT_SHOWN = " Your comment: _{comment}_."
ESAT_FALLBACK = "How did the {account} engagement go? Rate it 1–5."


def esat_message(prompt: EsatPrompt, *, answered: bool = False) -> Message:
    name = f"*{safe(prompt.account, 200)}* ({safe(prompt.opportunity, 200)})"
    outcome = OUTCOME_LABELS[prompt.outcome] if prompt.outcome else "closed"
    if answered and prompt.score is not None:
        comment = ESAT_COMMENT_SHOWN.format(comment=safe(prompt.comment, 500)) if prompt.comment else ""
        text = ESAT_THANKS.format(label=name, score=prompt.score, comment=comment)
    else:
        text = (ESAT_REMINDER if prompt.reminder else ESAT_QUESTION).format(label=name, outcome=outcome)
    scores = [
        kit.button(f"{'★ ' if prompt.score == score else ''}{score}", f"{EngagementIds.esat_score}:{score}",
                   str(prompt.survey_id), style="primary" if prompt.score == score else None)
        for score in range(1, 6)
    ]
    blocks: list[Block] = [
        SectionBlock(text=kit.md(text)),
        ActionsBlock(elements=scores),
        ActionsBlock(elements=[kit.button(BUTTON["change_comment" if prompt.comment else "comment"],
                                          EngagementIds.esat_comment, str(prompt.survey_id))]),
    ]
    return kit.message(ESAT_FALLBACK.format(account=escape(prompt.account)), blocks)

"""How an engagement is written wherever it shows: its label, stage line, dates, figures and button labels."""

from __future__ import annotations

import re
from datetime import datetime

from bot.blocks.text import clip, escape, link, plural, safe, slack_day
from models.schemas.engagements import EngagementSummary, StageTool

STALE_BADGE = "⚠️ stale"
PRACTICE_BADGE = "🎓 practice"
BUTTON = {
    "change_stage": "Change stage",
    "close": "Close",
    "add_note": "Add note",
    "channel": "Deal channel",
    "reopen": "Reopen",
    "undo": "Undo",
    "card": "View card",
    "new": "New engagement",
    "next": "Next ›",
    "previous": "‹ Previous",
    "open": "Open",
    "comment": "Add a comment",
    "change_comment": "Change your comment",
    "delete": "Delete",
}
TOOLS_TITLE = "*Tools for {stage}*"


def tools_text(tools: list[StageTool], stage: str) -> str:
    """The stage's tools as linked lines, for the stage post and the card ("" when it has none)."""
    lines = [f"• {link(tool.url, clip(tool.name, 80))}" + (f": {safe(tool.purpose, 200)}" if tool.purpose else "")
             for tool in tools]
    return TOOLS_TITLE.format(stage=stage) + "\n" + "\n".join(lines) if lines else ""


_DATE_TOKEN = re.compile(r"<!date\^\d+\^[^|]*\|([^>]*)>")


def day(moment: datetime) -> str:
    """A date Slack shows in the reader's own timezone."""
    return slack_day(moment)


def label(engagement: EngagementSummary, limit: int = 300) -> str:
    """*Account* (opportunity), mrkdwn-safe; a practice engagement marked as such."""
    practice = f" · {PRACTICE_BADGE}" if engagement.practice else ""
    return f"*{safe(engagement.account, limit)}* ({safe(engagement.opportunity, limit)}){practice}"


def plain_label(engagement: EngagementSummary) -> str:
    """Account (opportunity) for a message's fallback `text`, which Slack reads as mrkdwn too."""
    practice = " (practice)" if engagement.practice else ""
    return escape(f"{engagement.account} ({engagement.opportunity}){practice}")


def stage_line(engagement: EngagementSummary) -> str:
    if not engagement.is_open:
        closed = f" on {day(engagement.closed_at)}" if engagement.closed_at else ""
        return f"*{engagement.stage_label}*{closed}"
    stale = f" · {STALE_BADGE}" if engagement.stale else ""
    if engagement.days_in_stage < 1:
        return f"*{engagement.stage.label}* for less than a day{stale}"
    return f"*{engagement.stage.label}* for {plural(engagement.days_in_stage, 'day')}{stale}"


def days_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} d"


def share_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def fallback_text(text: str) -> str:
    """Plain text for notifications: mrkdwn marks and Slack date tokens dropped."""
    return _DATE_TOKEN.sub(r"\1", text).replace("*", "")

"""What a DevRel request starts from: the requester's open engagements, and the checks on a draft."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from rapidfuzz import fuzz, process, utils
from sqlalchemy import or_, select

from bot import clock, db
from bot.errors import InvalidInput
from bot.services.actors import Actor
from models import Engagement
from models.enums import Stage
from models.schemas.devrel import (
    MAX_TOPICS,
    MEETING_DURATIONS,
    EngagementChoice,
    RequestDraft,
)

MAX_AHEAD = timedelta(days=366)
MAX_BRIEF = 2000
MAX_LINK = 2000
MAX_ENGAGEMENT_CHOICES = 100
ENGAGEMENT_MATCH_CUTOFF = 60


def engagement_choice(row: Engagement) -> EngagementChoice:
    return EngagementChoice(
        id=row.id, account=row.account, opportunity=row.opportunity, stage=Stage(row.stage), focus=row.focus,
        owner_id=row.owner_id, seller_id=row.seller_id, channel_id=row.channel_id, practice=row.practice,
    )


def open_engagements_query(requester_id: str) -> Any:
    return select(Engagement).where(
        or_(Engagement.owner_id == requester_id, Engagement.seller_id == requester_id),
        Engagement.stage != Stage.closed,
    )


def open_engagements(requester_id: str) -> list[EngagementChoice]:
    """The requester's open engagements (as SE or seller), most recently active first."""
    with db.reading() as session:
        rows = session.scalars(
            open_engagements_query(requester_id)
            .order_by(Engagement.last_activity_at.desc(), Engagement.id.desc())
            .limit(MAX_ENGAGEMENT_CHOICES)
        ).all()
        return [engagement_choice(row) for row in rows]


def best_engagement(choices: Sequence[EngagementChoice], text: str) -> EngagementChoice | None:
    """The engagement whose account (or opportunity) best matches what was typed, if any matches well."""
    text = text.strip()
    if not text or not choices:
        return None
    labels = {index: f"{c.account} {c.opportunity}" for index, c in enumerate(choices)}
    accounts = {index: c.account for index, c in enumerate(choices)}
    best = process.extractOne(text, accounts, scorer=fuzz.WRatio, processor=utils.default_process,
                              score_cutoff=ENGAGEMENT_MATCH_CUTOFF)
    if best is None:
        best = process.extractOne(text, labels, scorer=fuzz.token_set_ratio, processor=utils.default_process,
                                  score_cutoff=ENGAGEMENT_MATCH_CUTOFF + 15)
    return choices[best[2]] if best is not None else None


# ----- validation --------------------------------------------------------------------------------


def _link_problem(link: str) -> str | None:
    if not link:
        return None
    parsed = urlparse(link)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or any(c.isspace() for c in link):
        return "Give the meeting link as a full web address starting with https://, like https://meet.example.com/abc-defg."
    if len(link) > MAX_LINK:
        return f"The meeting link is longer than {MAX_LINK} characters; use a shorter link."
    return None


def request_problems(actor: Actor, draft: RequestDraft, *, now: datetime | None = None) -> dict[str, str]:
    """Every problem with a draft, by field (`engagement_id`, `meeting_start`, …); empty when it may be sent."""
    now = now or clock.now()
    problems: dict[str, str] = {}
    if draft.engagement_id is None:
        problems["engagement_id"] = "Pick the engagement this meeting is for."
    else:
        with db.reading() as session:
            found = session.scalar(
                open_engagements_query(actor.user_id).where(Engagement.id == draft.engagement_id)
            )
        if found is None:
            problems["engagement_id"] = (
                "That engagement is closed or is not one of yours. Pick one of your open engagements."
            )
    if draft.meeting_start is None:
        problems["meeting_start"] = "Pick the date and time the meeting starts."
    elif draft.meeting_start <= now:
        problems["meeting_start"] = "That time has already passed. Pick when the meeting starts, in the future."
    elif draft.meeting_start - now > MAX_AHEAD:
        problems["meeting_start"] = "That is more than a year away. Check the year of the meeting date."
    if draft.duration_minutes not in MEETING_DURATIONS:
        allowed = ", ".join(str(m) for m in MEETING_DURATIONS)
        problems["duration_minutes"] = f"Pick a duration of {allowed} minutes."
    if len(draft.topics) > MAX_TOPICS:
        problems["topics"] = f"List at most {MAX_TOPICS} topics, separated by commas."
    link_problem = _link_problem(draft.meeting_link)
    if link_problem:
        problems["meeting_link"] = link_problem
    for name in ("customer_asked", "promised", "held_in_reserve"):
        if len(getattr(draft, name)) > MAX_BRIEF:
            problems[name] = f"Keep this under {MAX_BRIEF} characters; link a document for more."
    return problems


def raise_first(problems: dict[str, str]) -> None:
    if problems:
        field_name, message = next(iter(problems.items()))
        raise InvalidInput(message, field=field_name)

"""ESAT: the owner's 1–5 satisfaction rating of an engagement, asked by DM on close.

One question per engagement, one reminder two days later if unanswered, then nothing more. Answering
again changes the rating (the latest answer counts); a comment can be added at any time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from bot import clock, db
from bot.errors import Forbidden, InvalidInput, NotFound
from bot.services import audit
from models import Engagement, EsatSurvey
from models.enums import Outcome, Stage
from models.schemas.engagements import EsatPrompt

ENTITY = "esat"
COMMENT_LIMIT = 2000
SCORES = range(1, 6)
REMINDER_BATCH = 50


def _prompt(survey: EsatSurvey, engagement: Engagement, *, reminder: bool = False) -> EsatPrompt:
    return EsatPrompt(
        survey_id=survey.id, engagement_id=engagement.id, account=engagement.account,
        opportunity=engagement.opportunity, owner_id=survey.owner_id,
        outcome=Outcome(engagement.outcome) if engagement.outcome else None, score=survey.score,
        comment=survey.comment or "", reminder=reminder,
    )


def prompt(survey_id: int) -> EsatPrompt:
    with db.reading() as session:
        return _prompt(*_survey(session, survey_id))


def _survey(session, survey_id: int) -> tuple[EsatSurvey, Engagement]:  # type: ignore[no-untyped-def]
    row = session.execute(
        select(EsatSurvey, Engagement).join(Engagement, Engagement.id == EsatSurvey.engagement_id)
        .where(EsatSurvey.id == survey_id)
    ).first()
    if row is None:
        raise NotFound("That rating request no longer exists; its engagement was removed.")
    survey, engagement = row
    return survey, engagement


def _owned_survey(session, user_id: str, survey_id: int) -> tuple[EsatSurvey, Engagement]:  # type: ignore[no-untyped-def]
    survey, engagement = _survey(session, survey_id)
    if survey.owner_id != user_id:
        raise Forbidden(f"Only <@{survey.owner_id}>, who owned this engagement, rates it.")
    return survey, engagement


def answer(
    user_id: str, survey_id: int, score: int | None = None, *, comment: str | None = None, now: datetime | None = None
) -> EsatPrompt:
    """Record a rating (1–5) and/or a comment. Only the engagement's owner may answer."""
    now = now or clock.now()
    if score is not None and score not in SCORES:
        raise InvalidInput("Rate from 1 (poor) to 5 (excellent).", field="score")
    if comment is not None:
        comment = comment.strip()
        if len(comment) > COMMENT_LIMIT:
            raise InvalidInput(f"Keep the comment under {COMMENT_LIMIT} characters.", field="comment")
    with db.transaction() as session:
        survey, engagement = _owned_survey(session, user_id, survey_id)
        if score is None and survey.score is None:
            raise InvalidInput("Pick a rating from 1 to 5 first.", field="score")
        if score is not None:
            survey.score = score
        if comment is not None:
            survey.comment = comment
        survey.answered_at = now
        audit.record(session, actor_id=user_id, entity=ENTITY, entity_id=survey.id, action="answer", at=now,
                     engagement_id=engagement.id, score=survey.score, commented=bool(survey.comment))
        session.flush()
        return _prompt(survey, engagement)


def due_reminders(now: datetime, *, limit: int = REMINDER_BATCH) -> list[EsatPrompt]:
    """Unanswered questions whose reminder is due and not yet sent, for engagements still closed."""
    with db.reading() as session:
        rows = session.execute(
            select(EsatSurvey, Engagement).join(Engagement, Engagement.id == EsatSurvey.engagement_id)
            .where(
                EsatSurvey.answered_at.is_(None),
                EsatSurvey.reminded_at.is_(None),
                EsatSurvey.remind_at.is_not(None),
                EsatSurvey.remind_at <= now,
                Engagement.stage == Stage.closed.value,
            )
            .order_by(EsatSurvey.remind_at, EsatSurvey.id)
            .limit(limit)
        ).all()
        return [_prompt(survey, engagement, reminder=True) for survey, engagement in rows]


def claim_reminder(survey_id: int, now: datetime) -> bool:
    """Take the one reminder of a survey. Atomic: of several replicas ticking at once, one wins."""
    with db.transaction() as session:
        claimed = session.execute(
            update(EsatSurvey)
            .where(EsatSurvey.id == survey_id, EsatSurvey.reminded_at.is_(None), EsatSurvey.answered_at.is_(None))
            .values(reminded_at=now)
        ).rowcount
        return claimed == 1

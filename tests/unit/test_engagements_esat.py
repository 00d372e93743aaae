"""ESAT: one question on close, the owner's rating (changeable), one reminder after two days, then nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import db
from bot.errors import Forbidden, InvalidInput
from bot.services import engagements, esat
from models import EsatSurvey
from models.enums import Outcome
from tests.conftest import SE, SELLER
from tests.engagements_helpers import SE_ACTOR, close, open_engagement, utc


def closed_engagement(account: str = "Acme", when: str = "2026-10-10") -> int:
    engagement_id = open_engagement(account, "2026-10-01")
    result = close(engagement_id, Outcome.won, when)
    assert result.esat_survey_id is not None
    return result.esat_survey_id


def test_only_the_owner_rates_from_one_to_five_and_may_change_the_rating(database_url: str) -> None:
    survey_id = closed_engagement()
    with pytest.raises(Forbidden, match=f"<@{SE}>"):
        esat.answer(SELLER, survey_id, 5)
    for bad in (0, 6):
        with pytest.raises(InvalidInput):
            esat.answer(SE, survey_id, bad)
    with pytest.raises(InvalidInput, match="rating from 1 to 5 first"):
        esat.answer(SE, survey_id, None, comment="no score yet")

    assert esat.answer(SE, survey_id, 2, now=utc("2026-10-11")).score == 2
    changed = esat.answer(SE, survey_id, 4, now=utc("2026-10-12"))
    commented = esat.answer(SE, survey_id, None, comment="  smooth PoC  ", now=utc("2026-10-12"))
    assert (changed.score, commented.score, commented.comment) == (4, 4, "smooth PoC")


def test_one_reminder_after_two_days_only_while_unanswered_and_closed(database_url: str) -> None:
    first = closed_engagement("Acme", "2026-10-10")
    answered = closed_engagement("Bravo", "2026-10-10")
    esat.answer(SE, answered, 5)
    reopened_id = open_engagement("Charlie", "2026-10-01")
    close(reopened_id, Outcome.lost, "2026-10-10")
    engagements.reopen(SE_ACTOR, reopened_id, now=utc("2026-10-11"))

    # `close` ran at its effective time, so questions were asked on 10-10 and are due on 10-12.
    assert esat.due_reminders(utc("2026-10-11 23:00")) == []
    due = esat.due_reminders(utc("2026-10-12 00:01"))
    assert [p.survey_id for p in due] == [first] and due[0].reminder

    assert esat.claim_reminder(first, utc("2026-10-12 00:01"))
    assert not esat.claim_reminder(first, utc("2026-10-12 00:01"))  # a second replica gets nothing
    assert esat.due_reminders(utc("2026-10-20")) == []


def test_an_answer_after_the_reminder_still_counts(database_url: str) -> None:
    survey_id = closed_engagement()
    assert esat.claim_reminder(survey_id, utc("2026-10-12 01:00"))
    esat.answer(SE, survey_id, 3, now=utc("2026-10-15"))
    with db.reading() as session:
        row = session.execute(select(EsatSurvey.score, EsatSurvey.reminded_at)).one()
    assert row == (3, utc("2026-10-12 01:00"))
    assert not esat.claim_reminder(survey_id, utc("2026-10-16") + timedelta(days=1))

"""DevRel coverage for the digest: requests, accept rate, median time to accept, unanswered."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.services import devrel
from bot.services.actors import Actor
from models.schemas.devrel import RequestDraft
from tests.conftest import SE
from tests.devrel_helpers import LENA, MEETING, NOW, POLICY, add_engagement, load_roster

REQUESTER = Actor(user_id=SE)


@pytest.fixture(autouse=True)
def roster(database_url: str) -> None:
    load_roster()


def request(*, created: timedelta, meeting: timedelta = timedelta(0)) -> tuple[int, int]:
    engagement_id = add_engagement()
    update = devrel.create_request(
        REQUESTER, RequestDraft(engagement_id=engagement_id, meeting_start=MEETING + meeting, topics=["observability"]),
        policy=POLICY, now=NOW + created,
    )
    return update.request.id, update.request.version


def accept_after(minutes: int, *, created: timedelta) -> None:
    request_id, version = request(created=created, meeting=timedelta(days=int(created.total_seconds() // 3600)))
    devrel.accept(Actor(user_id=LENA), request_id, version, now=NOW + created + timedelta(minutes=minutes))


def test_coverage_counts_the_window_and_rates_what_needed_an_answer() -> None:
    accept_after(30, created=timedelta(0))
    accept_after(90, created=timedelta(hours=1))
    accept_after(45, created=timedelta(hours=2))
    cancelled_id, _ = request(created=timedelta(hours=3))
    devrel.cancel(REQUESTER, cancelled_id, now=NOW + timedelta(hours=3))
    expired_id, expired_version = request(created=timedelta(hours=4))
    devrel.expire(expired_id, expired_version, now=MEETING)
    request(created=timedelta(hours=5))  # still waiting, its meeting started before the window ends
    request(created=timedelta(days=-3))  # before the window

    figures = devrel.coverage(NOW - timedelta(days=1), MEETING + timedelta(days=1))
    assert (figures.requests, figures.accepted, figures.cancelled, figures.unanswered) == (6, 3, 1, 2)
    assert figures.accept_rate == pytest.approx(3 / 5, abs=1e-4)
    assert figures.median_minutes_to_accept == pytest.approx(45.0)


def test_even_number_of_accepts_takes_the_mean_of_the_middle_two() -> None:
    accept_after(30, created=timedelta(0))
    accept_after(90, created=timedelta(hours=1))
    figures = devrel.coverage(NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert figures.median_minutes_to_accept == pytest.approx(60.0)


def test_a_request_still_waiting_before_its_meeting_is_not_unanswered() -> None:
    request(created=timedelta(0))
    figures = devrel.coverage(NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert (figures.requests, figures.unanswered, figures.accepted) == (1, 0, 0)
    assert figures.accept_rate == 0.0 and figures.median_minutes_to_accept is None


def test_an_empty_window_has_no_rates() -> None:
    figures = devrel.coverage(NOW - timedelta(days=7), NOW)
    assert figures.requests == 0 and figures.accept_rate is None and figures.median_minutes_to_accept is None

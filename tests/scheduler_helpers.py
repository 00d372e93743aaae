"""Building engagements, shares and searches straight in the database, for the scheduler's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot import db
from bot.services import stints
from models import Asset, AssetShare, DevRelRequest, Engagement, EsatSurvey, SearchMiss, StageChange
from models.enums import AssetStatus, AssetType, Cycle, Depth, Interactivity, Outcome, Scope, Stage
from tests.conftest import SE, SELLER

SE2 = "U0B2C3D4E"


def utc(text: str) -> datetime:
    """`2026-11-18 10:00` as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_engagement(
    account: str,
    owner: str,
    history: list[tuple[str, str]],
    *,
    closed: tuple[str, str] | None = None,
    last_activity: str | None = None,
    seller: str = SELLER,
    snoozed_until: datetime | None = None,
    last_nudged_at: datetime | None = None,
    esat: int | None = None,
) -> int:
    """An engagement with its stage log: `history` is [(stage, "YYYY-MM-DD HH:MM" UTC)], the first entry
    opening it; `closed` is (outcome, when)."""
    opened_at = utc(history[0][1])
    steps = [(Stage(stage), utc(when), None) for stage, when in history]
    if closed is not None:
        steps.append((Stage.closed, utc(closed[1]), Outcome(closed[0])))
    stage, entered, outcome = steps[-1]
    activity = utc(last_activity) if last_activity else entered
    with db.transaction() as session:
        engagement = Engagement(
            account=account, opportunity=f"{account} opportunity"[:200], owner_id=owner, seller_id=seller, focus="observability",
            business_challenge="", technical_needs="", channel_id=None, opened_at=opened_at, stage=stage.value,
            stage_entered_at=entered, last_activity_at=activity, closed_at=entered if closed else None,
            outcome=outcome.value if outcome else None, snoozed_until=snoozed_until, last_nudged_at=last_nudged_at,
            created_by=owner, created_at=opened_at, updated_at=activity,
        )
        session.add(engagement)
        session.flush()
        previous = None
        for to_stage, when, step_outcome in steps:
            session.add(StageChange(
                engagement_id=engagement.id, from_stage=previous, to_stage=to_stage.value,
                outcome=step_outcome.value if step_outcome else None, actor_id=owner, logged_at=when,
                effective_at=when, note="",
            ))
            previous = to_stage.value
        session.flush()
        stints.refresh(session, [engagement.id])
        if esat is not None and closed is not None:
            session.add(EsatSurvey(engagement_id=engagement.id, owner_id=owner, asked_at=entered, remind_at=None,
                                   reminded_at=None, score=esat, comment="", answered_at=entered))
        return engagement.id


def add_asset(title: str, *, shared_at: list[str] = ()) -> int:  # type: ignore[assignment]
    now = utc("2026-01-01 00:00")
    with db.transaction() as session:
        asset = Asset(
            title=title, type=AssetType.demo.value, summary="", url=f"https://assets.example/{title.lower().replace(' ', '-')}",
            topics=[], products=[], depth=Depth.low.value, scope=Scope.broad.value,
            interactivity=Interactivity.presentation.value, cycle=Cycle.early.value, owner_id=SELLER,
            status=AssetStatus.published.value, created_at=now, updated_at=now, share_count=len(shared_at),
        )
        session.add(asset)
        session.flush()
        for when in shared_at:
            session.add(AssetShare(asset_id=asset.id, user_id=SELLER, channel_id="C0DEALS01", engagement_id=None,
                                   shared_at=utc(when)))
        return asset.id


def add_devrel_request(engagement_id: int, created: str, *, state: str, accepted_after_minutes: int | None = None,
                       meeting: str = "2026-12-01 10:00") -> None:
    created_at = utc(created)
    with db.transaction() as session:
        session.add(DevRelRequest(
            engagement_id=engagement_id, requester_id=SE, meeting_start=utc(meeting), duration_minutes=60, topics=[],
            state=state, version=0, asked_ids=[], created_at=created_at,
            assignee_id="U0DEVREL1" if accepted_after_minutes is not None else None,
            accepted_at=created_at + timedelta(minutes=accepted_after_minutes) if accepted_after_minutes is not None else None,
        ))


def add_search_miss(query: str, when: str, user_id: str = SELLER) -> None:
    with db.transaction() as session:
        session.add(SearchMiss(query=query, user_id=user_id, searched_at=utc(when)))


def engagement(engagement_id: int) -> Engagement:
    with db.reading() as session:
        row = session.get(Engagement, engagement_id)
        assert row is not None
        session.expunge(row)
        return row


def days(n: float) -> timedelta:
    return timedelta(days=n)


def hand_computed_week() -> None:
    """Week 2026-W47 in Europe/Berlin, with figures worked out by hand in tests/unit/test_digest_figures.py."""
    # Closed in W47 (16-22 Nov): MTTC 48, 32 and 20 days.
    add_engagement("Northbeam", SE, [("preparation", "2026-10-01 10:00"), ("discovery", "2026-10-05 10:00"),
                                     ("demo", "2026-10-12 10:00"), ("poc", "2026-10-20 10:00")],
                   closed=("won", "2026-11-18 10:00"), esat=5)
    add_engagement("Bluefin", SE2, [("preparation", "2026-10-19 10:00"), ("discovery", "2026-10-26 10:00")],
                   closed=("lost", "2026-11-20 10:00"), esat=3)
    add_engagement("Cobalt", SE, [("preparation", "2026-11-01 10:00")], closed=("no_decision", "2026-11-21 10:00"))
    # Closed earlier: W45 (65 days, in the trailing 4 and 12 weeks), W38 (45 days, trailing 12 only), June (none).
    add_engagement("Dunmore", SE2, [("discovery", "2026-09-01 10:00")], closed=("won", "2026-11-05 10:00"), esat=1)
    add_engagement("Elmwood", SE, [("discovery", "2026-08-01 10:00")], closed=("lost", "2026-09-15 10:00"))
    add_engagement("Foxglove", SE, [("discovery", "2026-05-01 10:00")], closed=("won", "2026-06-01 10:00"))
    # Open at the end of the week.
    add_engagement("Granite", SE, [("preparation", "2026-10-01 10:00"), ("discovery", "2026-10-02 10:00"),
                                   ("poc", "2026-10-20 10:00")])  # stale: 33 days in POC (limit 21)
    harbor = add_engagement("Harbor", SE2, [("preparation", "2026-11-10 10:00"), ("discovery", "2026-11-17 10:00")])
    add_engagement("Ironwood", SE2, [("discovery", "2026-10-05 10:00")], last_activity="2026-11-01 10:00")  # stale: 21 d
    # Shares and searches: in the week, and just outside it on both sides.
    add_asset("Kubernetes demo", shared_at=["2026-11-16 09:00", "2026-11-17 12:00", "2026-11-22 22:30", "2026-11-15 22:00"])
    add_asset("SIEM walkthrough", shared_at=["2026-11-19 09:00"])
    add_asset("Sizing proofshop", shared_at=["2026-11-22 23:30"])  # Monday 00:30 in Berlin: next week
    add_search_miss("Kafka sizing", "2026-11-17 10:00")
    add_search_miss("kafka   SIZING", "2026-11-18 10:00")
    add_search_miss("SAP", "2026-11-19 10:00")
    add_search_miss("mainframe", "2026-11-10 10:00")
    # DevRel requests made in the week: accepted after 30 and 50 minutes, one expired; one from the week before.
    add_devrel_request(harbor, "2026-11-17 09:00", state="accepted", accepted_after_minutes=30)
    add_devrel_request(harbor, "2026-11-18 09:00", state="accepted", accepted_after_minutes=50)
    add_devrel_request(harbor, "2026-11-19 09:00", state="expired")
    add_devrel_request(harbor, "2026-11-12 09:00", state="accepted", accepted_after_minutes=5)


DIGEST_CHANNEL = "C0DIGEST1"


def hand_computed_team(slack: Any) -> None:
    """`hand_computed_week`, with its two SEs known to Slack by name."""
    slack.add_user(SE, name="Dana Reyes", tz="Europe/Berlin")
    slack.add_user(SE2, name="Sam Okafor", tz="Europe/Berlin")
    hand_computed_week()


def digest_posts(slack: Any) -> list[Any]:
    """The digests posted to their channel: not the breakdown in their thread, nor a try Slack failed."""
    return [c for c in slack.calls_to("chat.postMessage")
            if c.params.get("channel") == DIGEST_CHANNEL and not c.params.get("thread_ts") and "_fault" not in c.params]

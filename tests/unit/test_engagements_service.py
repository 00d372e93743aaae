"""The engagement service: opening, moving, closing, notes, undo, authorization, card and lists."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot import db
from bot.errors import Conflict, Forbidden, InvalidInput
from bot.services import engagements
from bot.services.actors import Actor
from models import Asset, AssetShare, AuditEntry, DevRelRequest, Engagement, EngagementNote, EsatSurvey, StageChange
from models.enums import AssetStatus, AssetType, Cycle, Depth, Interactivity, Outcome, RequestState, Scope, Stage
from models.schemas.engagements import NewEngagementIn
from tests.conftest import SE, SELLER, STRANGER
from tests.engagements_helpers import (
    ADMIN_ACTOR,
    MANAGER_ACTOR,
    SE_ACTOR,
    SELLER_ACTOR,
    close,
    move,
    open_engagement,
    utc,
)

BERLIN = ZoneInfo("Europe/Berlin")


def changes_of(engagement_id: int) -> list[tuple[str | None, str, str | None]]:
    with db.reading() as session:
        rows = session.execute(
            select(StageChange.from_stage, StageChange.to_stage, StageChange.outcome)
            .where(StageChange.engagement_id == engagement_id).order_by(StageChange.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def row(engagement_id: int) -> dict:
    with db.reading() as session:
        engagement = session.get(Engagement, engagement_id)
        assert engagement is not None
        return {c: getattr(engagement, c) for c in ("stage", "stage_entered_at", "last_activity_at", "closed_at", "outcome")}


def form(**overrides: object) -> NewEngagementIn:
    values: dict[str, object] = {"account": "Northbeam Logistics", "opportunity": "Fleet observability",
                                 "seller_id": SELLER, "focus": "observability"}
    values.update(overrides)
    return NewEngagementIn(**values)  # type: ignore[arg-type]


# ----- opening --------------------------------------------------------------------------------------
def test_opening_logs_the_starting_stage_and_makes_the_actor_owner(database_url: str) -> None:
    result = engagements.create(SE_ACTOR, form(stage=Stage.discovery, channel_id="C0DEAL001"), now=utc("2026-10-01 09:00"))

    card = result.engagement
    assert (card.owner_id, card.seller_id, card.stage, card.channel_id) == (SE, SELLER, Stage.discovery, "C0DEAL001")
    assert card.opened_at == utc("2026-10-01 09:00")
    assert changes_of(card.id) == [(None, "discovery", None)]
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "open")) == 1


def test_a_past_opening_date_is_noon_in_the_actors_timezone(database_url: str) -> None:
    result = engagements.create(SE_ACTOR, form(opened_on=date(2026, 9, 28)), tz=BERLIN, now=utc("2026-10-01 09:00"))
    assert result.engagement.opened_at == utc("2026-09-28 10:00")  # 12:00 CEST


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"account": "  "}, "account"),
        ({"opportunity": ""}, "opportunity"),
        ({"account": "x" * 201}, "account"),
        ({"seller_id": "not a user"}, "seller"),
        ({"focus": " "}, "focus"),
        ({"business_challenge": "y" * 3001}, "business_challenge"),
        ({"channel_id": "#deals"}, "channel"),
        ({"stage": Stage.closed}, "stage"),
        ({"opened_on": date(2026, 10, 2)}, "opened_on"),
    ],
)
def test_bad_form_input_names_the_field_and_writes_nothing(database_url: str, overrides: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        engagements.create(SE_ACTOR, form(**overrides), now=utc("2026-10-01 09:00"))
    assert caught.value.field == field
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Engagement)) == 0


def test_a_second_open_engagement_for_the_same_account_and_opportunity_is_refused(database_url: str) -> None:
    first = engagements.create(SE_ACTOR, form(), now=utc("2026-10-01")).engagement.id
    with pytest.raises(InvalidInput) as caught:
        engagements.create(SELLER_ACTOR, form(account="northbeam logistics", opportunity="FLEET observability"),
                           now=utc("2026-10-02"))
    assert caught.value.field == "opportunity" and "already open" in str(caught.value)
    close(first, Outcome.lost, "2026-10-03")
    assert engagements.create(SE_ACTOR, form(), now=utc("2026-10-04")).engagement.id != first


# ----- stage changes ----------------------------------------------------------------------------------
def test_forward_skip_and_backward_moves_are_all_appended(database_url: str) -> None:
    engagement_id = open_engagement("Acme", "2026-10-01")
    move(engagement_id, Stage.discovery, "2026-10-02")
    move(engagement_id, Stage.poc, "2026-10-05")          # skips demo
    result = move(engagement_id, Stage.discovery, "2026-10-06", note="new head of platform")  # backward

    assert changes_of(engagement_id) == [
        (None, "preparation", None), ("preparation", "discovery", None), ("discovery", "poc", None),
        ("poc", "discovery", None),
    ]
    assert (result.from_stage, result.to_stage, result.note) == (Stage.poc, Stage.discovery, "new head of platform")
    assert row(engagement_id)["stage_entered_at"] == utc("2026-10-06")


def test_moving_to_the_current_stage_is_a_clear_no_op(database_url: str) -> None:
    engagement_id = open_engagement("Acme", "2026-10-01")
    with pytest.raises(Conflict, match="already in Preparation"):
        move(engagement_id, Stage.preparation, "2026-10-02")
    assert len(changes_of(engagement_id)) == 1


def test_a_backdated_change_counts_at_noon_of_the_chosen_day_and_is_flagged(database_url: str) -> None:
    engagement_id = open_engagement("Acme", "2026-10-01 07:00")
    result = engagements.change_stage(SE_ACTOR, engagement_id, Stage.discovery, effective_on=date(2026, 10, 3),
                                      tz=BERLIN, now=utc("2026-10-06 15:00"))
    assert result.effective_at == utc("2026-10-03 10:00")
    assert result.backdated
    assert row(engagement_id)["last_activity_at"] == utc("2026-10-06 15:00")
    timeline = engagements.card(engagement_id, now=utc("2026-10-06 15:00")).timeline
    assert timeline[0].backdated and timeline[0].to_stage is Stage.discovery


@pytest.mark.parametrize(
    ("day", "reason"),
    [(date(2026, 10, 7), "future"), (date(2026, 9, 30), "or later")],
)
def test_effective_dates_are_not_in_the_future_nor_before_the_last_change(database_url: str, day: date, reason: str) -> None:
    engagement_id = open_engagement("Acme", "2026-10-01")
    with pytest.raises(InvalidInput, match=reason) as caught:
        engagements.change_stage(SE_ACTOR, engagement_id, Stage.demo, effective_on=day, now=utc("2026-10-06"))
    assert caught.value.field == "effective_date"
    move(engagement_id, Stage.discovery, "2026-10-04")
    with pytest.raises(InvalidInput, match="or later"):
        engagements.change_stage(SE_ACTOR, engagement_id, Stage.demo, effective_on=date(2026, 10, 3), now=utc("2026-10-06"))


def test_a_past_day_on_the_day_of_the_last_change_is_never_before_it(database_url: str) -> None:
    engagement_id = open_engagement("Acme", "2026-10-01 18:00")
    result = engagements.change_stage(SE_ACTOR, engagement_id, Stage.discovery, effective_on=date(2026, 10, 1),
                                      now=utc("2026-10-03"))
    assert result.effective_at == utc("2026-10-01 18:00")


# ----- who may change ---------------------------------------------------------------------------------
@pytest.mark.parametrize("actor", [SE_ACTOR, SELLER_ACTOR, MANAGER_ACTOR, ADMIN_ACTOR])
def test_owner_seller_managers_and_admins_may_change(database_url: str, actor: Actor) -> None:
    engagement_id = open_engagement("Acme", "2026-10-01")
    move(engagement_id, Stage.discovery, "2026-10-02", actor=actor)
    engagements.add_note(actor, engagement_id, "met the CTO", now=utc("2026-10-03"))
    close(engagement_id, Outcome.won, "2026-10-04", actor=actor)
    assert row(engagement_id)["outcome"] == "won"


def test_a_stranger_may_neither_read_nor_change_and_nothing_is_written(database_url: str) -> None:
    engagement_id = open_engagement("Acme", "2026-10-01")
    stranger = Actor(user_id=STRANGER)
    before = changes_of(engagement_id)
    for attempt in (
        lambda: engagements.change_stage(stranger, engagement_id, Stage.demo, now=utc("2026-10-02")),
        lambda: engagements.close(stranger, engagement_id, Outcome.lost, now=utc("2026-10-02")),
        lambda: engagements.add_note(stranger, engagement_id, "hello", now=utc("2026-10-02")),
    ):
        with pytest.raises(Forbidden, match=f"<@{SE}>"):
            attempt()
    slip = move(engagement_id, Stage.discovery, "2026-10-03")
    with pytest.raises(Forbidden):
        engagements.undo(stranger, slip.change_id, now=utc("2026-10-03"))
    assert changes_of(engagement_id) == [*before, ("preparation", "discovery", None)]
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(EngagementNote)) == 0
    # Reading is for the presales team now; a reader (EPOS_READERS) reads, and still changes nothing.
    with pytest.raises(Forbidden, match="Engagements are for the presales team"):
        engagements.card(engagement_id, viewer=stranger)
    card = engagements.card(engagement_id, viewer=Actor(user_id=STRANGER, reader=True))
    assert card.engagement.account == "Acme" and not card.viewer_may_change


# ----- closing, undo, reopen ----------------------------------------------------------------------------
def test_closing_records_the_outcome_and_asks_for_esat_once(database_url: str) -> None:
    engagement_id = open_engagement("Acme", "2026-10-01")
    result = close(engagement_id, Outcome.no_decision, "2026-10-10", logged="2026-10-11")

    assert result.esat_survey_id is not None
    state = row(engagement_id)
    assert (state["stage"], state["outcome"], state["closed_at"]) == ("closed", "no_decision", utc("2026-10-10"))
    with db.reading() as session:
        survey = session.execute(select(EsatSurvey.owner_id, EsatSurvey.remind_at)).one()
    assert survey == (SE, utc("2026-10-13"))
    with pytest.raises(Conflict, match="already closed"):
        close(engagement_id, Outcome.won, "2026-10-12")
    with pytest.raises(Conflict, match="closed"):
        move(engagement_id, Stage.demo, "2026-10-12")


def test_undo_takes_back_the_latest_change_with_a_compensating_row(database_url: str) -> None:
    engagement_id = open_engagement("Acme", "2026-10-01")
    move(engagement_id, Stage.discovery, "2026-10-03")
    slip = move(engagement_id, Stage.sizing, "2026-10-05")

    result = engagements.undo(SE_ACTOR, slip.change_id, now=utc("2026-10-05 00:01"))

    assert (result.from_stage, result.to_stage, result.undo) == (Stage.sizing, Stage.discovery, True)
    assert changes_of(engagement_id)[-1] == ("sizing", "discovery", None)
    assert len(changes_of(engagement_id)) == 4  # nothing deleted
    assert row(engagement_id)["stage_entered_at"] == utc("2026-10-03")  # days in stage continue from discovery
    with pytest.raises(Conflict, match="already an undo"):
        engagements.undo(SE_ACTOR, result.change_id)
    timeline = engagements.card(engagement_id).timeline
    assert [(entry.undo, entry.undone) for entry in timeline[:2]] == [(True, False), (False, True)]


def test_only_the_latest_change_can_be_undone(database_url: str) -> None:
    engagement_id = open_engagement("Acme", "2026-10-01")
    first = move(engagement_id, Stage.discovery, "2026-10-03")
    move(engagement_id, Stage.demo, "2026-10-04")
    with pytest.raises(Conflict, match="changed since"):
        engagements.undo(SE_ACTOR, first.change_id, now=utc("2026-10-05"))
    opening = engagements.card(engagement_id)
    with db.reading() as session:
        opening_id = session.scalar(select(func.min(StageChange.id)))
    assert opening.engagement.stage is Stage.demo
    with pytest.raises(Conflict):
        engagements.undo(SE_ACTOR, opening_id, now=utc("2026-10-05"))


def test_reopen_takes_back_the_close_and_a_later_close_asks_again_only_if_unanswered(database_url: str) -> None:
    engagement_id = open_engagement("Acme", "2026-10-01")
    move(engagement_id, Stage.poc, "2026-10-02")
    close(engagement_id, Outcome.lost, "2026-10-05")

    reopened = engagements.reopen(SE_ACTOR, engagement_id, now=utc("2026-10-06"))

    assert reopened.to_stage is Stage.poc
    state = row(engagement_id)
    assert (state["stage"], state["outcome"], state["closed_at"], state["stage_entered_at"]) == (
        "poc", None, None, utc("2026-10-02"))
    again = close(engagement_id, Outcome.won, "2026-10-07")
    assert again.esat_survey_id is not None
    with pytest.raises(Conflict, match="nothing to reopen"):
        engagements.reopen(SE_ACTOR, open_engagement("Other", "2026-10-01"))


# ----- notes -----------------------------------------------------------------------------------------------
def test_a_note_is_activity_and_an_empty_one_is_refused(database_url: str) -> None:
    engagement_id = open_engagement("Acme", "2026-10-01")
    engagements.add_note(SELLER_ACTOR, engagement_id, "  budget confirmed <!channel>  ", now=utc("2026-10-04"))
    assert row(engagement_id)["last_activity_at"] == utc("2026-10-04")
    assert engagements.card(engagement_id).timeline[0].note == "budget confirmed <!channel>"
    with pytest.raises(InvalidInput) as caught:
        engagements.add_note(SE_ACTOR, engagement_id, "   ")
    assert caught.value.field == "note"
    with pytest.raises(InvalidInput):
        engagements.add_note(SE_ACTOR, engagement_id, "x" * 2001)


# ----- the card ----------------------------------------------------------------------------------------------
def test_the_card_shows_days_in_stage_timeline_shares_and_devrel_requests(database_url: str) -> None:
    engagement_id = open_engagement("Acme", "2026-10-01")
    move(engagement_id, Stage.demo, "2026-10-03")
    engagements.add_note(SE_ACTOR, engagement_id, "demo went well", now=utc("2026-10-04"))
    with db.transaction() as session:
        asset = Asset(title="Kubernetes demo", type=AssetType.demo, summary="", url="https://assets.example/k8s",
                      topics=[], products=[], depth=Depth.low, scope=Scope.broad, interactivity=Interactivity.presentation,
                      cycle=Cycle.early, owner_id=SE, status=AssetStatus.published, created_at=utc("2026-09-01"),
                      updated_at=utc("2026-09-01"))
        session.add(asset)
        session.flush()
        session.add(AssetShare(asset_id=asset.id, user_id=SE, channel_id="C0DEAL001", engagement_id=engagement_id,
                               shared_at=utc("2026-10-03")))
        session.add(DevRelRequest(engagement_id=engagement_id, requester_id=SE, meeting_start=utc("2026-10-09 14:00"),
                                  duration_minutes=60, topics=["kubernetes"], state=RequestState.asking,
                                  candidate_id="U0DEVREL1", asked_ids=["U0DEVREL1"], created_at=utc("2026-10-04")))

    card = engagements.card(engagement_id, viewer=SE_ACTOR, now=utc("2026-10-08"))

    assert card.engagement.days_in_stage == 5
    assert [e.kind for e in card.timeline] == ["note", "stage", "stage"]
    assert card.timeline_total == 3
    assert [(s.title, s.type) for s in card.shares] == [("Kubernetes demo", AssetType.demo)]
    assert [(d.state, d.candidate_id) for d in card.devrel] == [(RequestState.asking, "U0DEVREL1")]
    assert card.viewer_may_change


# ----- lists -------------------------------------------------------------------------------------------------------
def test_my_list_holds_what_i_own_or_sell_open_first(database_url: str) -> None:
    mine_open = open_engagement("Beta", "2026-10-01")
    mine_closed = open_engagement("Alpha", "2026-10-01")
    close(mine_closed, Outcome.won, "2026-10-02")
    as_seller = open_engagement("Gamma", "2026-10-01", owner="U0OTHER01", seller=SE)
    open_engagement("Delta", "2026-10-01", owner="U0OTHER01", seller="U0OTHER02")

    page = engagements.list_engagements(SE_ACTOR, now=utc("2026-10-20"))

    assert [item.id for item in page.items] == [mine_open, as_seller, mine_closed]
    assert (page.total, page.open_total, page.pages) == (3, 2, 1)
    assert page.items[0].stale  # 19 days idle in preparation (threshold 7)
    assert engagements.list_engagements(MANAGER_ACTOR, scope="all").total == 4
    with pytest.raises(Forbidden, match="managers"):
        engagements.list_engagements(SE_ACTOR, scope="all")


def test_lists_are_paged(database_url: str) -> None:
    for index in range(engagements.PAGE_SIZE + 3):
        open_engagement(f"Account {index:02d}", "2026-10-01")
    first = engagements.list_engagements(SE_ACTOR)
    last = engagements.list_engagements(SE_ACTOR, page=5)
    assert (len(first.items), first.pages) == (engagements.PAGE_SIZE, 2)
    assert (last.page, len(last.items)) == (1, 3)


# ----- home ----------------------------------------------------------------------------------------------------------
def test_home_data_holds_my_open_engagements_and_devrel_requests_i_made_or_must_answer(database_url: str) -> None:
    engagement_id = open_engagement("Acme", "2026-10-01")
    other = open_engagement("Other", "2026-10-01", owner="U0OTHER01", seller="U0OTHER02")
    now = utc("2026-10-05")
    with db.transaction() as session:
        session.add(DevRelRequest(engagement_id=engagement_id, requester_id=SE, meeting_start=now + timedelta(days=2),
                                  duration_minutes=30, topics=[], state=RequestState.asking, candidate_id="U0DEVREL1",
                                  asked_ids=[], created_at=now))
        session.add(DevRelRequest(engagement_id=other, requester_id="U0OTHER01", meeting_start=now + timedelta(days=1),
                                  duration_minutes=30, topics=[], state=RequestState.asking, candidate_id=SE,
                                  asked_ids=[SE], created_at=now))
        session.add(DevRelRequest(engagement_id=other, requester_id=SE, meeting_start=now - timedelta(days=3),
                                  duration_minutes=30, topics=[], state=RequestState.expired, asked_ids=[],
                                  created_at=now - timedelta(days=5)))

    data = engagements.home(SE_ACTOR, now=now)

    assert [e.account for e in data.engagements] == ["Acme"]
    assert [(d.account, d.state) for d in data.devrel_requested] == [("Acme", RequestState.asking)]
    assert [d.account for d in data.devrel_to_answer] == ["Other"]
    assert not data.is_new and not data.manager
    assert engagements.home(Actor(user_id=STRANGER), now=now).is_new

"""Adoption against a hand-computed fixture, on SQLite and PostgreSQL: each role's people, who used epos
in the window and how, who never has; and each person's getting-started checklist."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot import db
from bot.services import adoption, assets, digest, engagements, esat, people, usage
from bot.services.actors import Actor
from models import AssetShare, AuditEntry, DevRelRequestEvent, EsatSurvey
from models.enums import Outcome, RequestEventKind, Stage
from models.schemas.adoption import Feature, Role
from tests.conftest import MANAGER, SE, SELLER, STRANGER
from tests.devrel_helpers import DIEGO, LENA, MARCUS, ROSTER, load_roster
from tests.engagements_helpers import SELLER_ACTOR, close, move, open_engagement, utc
from tests.scheduler_helpers import add_asset, add_devrel_request, add_engagement, add_search_miss

SINCE, UNTIL = utc("2026-11-01 00:00"), utc("2026-11-15 00:00")
MANAGER_2 = "U0MANAGE2"
SE_2, SE_3 = "U0SE00002", "U0SE00003"
SELLER_2 = "U0SELL002"


def hand_computed() -> int:
    """Who did what, when; the expected figures are in the test below."""
    load_roster([entry for entry in ROSTER if entry.slack_id in (LENA, MARCUS, DIEGO)])  # Diego is inactive
    # SE: opens an engagement and moves it on in the window.
    northbeam = open_engagement("Northbeam", "2026-11-03 10:00")
    move(northbeam, Stage.discovery, "2026-11-05 10:00")
    # SE_3 opened one in October and has done nothing since: used epos, but not in the window.
    open_engagement("Kestrel", "2026-10-01 10:00", owner=SE_3)
    # SE_2's engagement was imported with SELLER_2 as its seller: neither has used epos.
    add_engagement("Polaris", SE_2, [("discovery", "2026-10-20 10:00")], seller=SELLER_2)
    # The seller searches (found something) and adds a note.
    usage.note(SELLER, usage.SEARCH, now=utc("2026-11-04 09:00"))
    usage.note(SELLER, usage.SEARCH, now=utc("2026-11-04 15:00"))  # the same day: still one use
    engagements.add_note(SELLER_ACTOR, northbeam, "Budget confirmed", now=utc("2026-11-06 10:00"))
    # Lena shares an asset and accepts an ask; a system event is nobody's use.
    asset = add_asset("Tracing demo")
    add_devrel_request(northbeam, "2026-11-07 10:00", state="accepted")
    with db.transaction() as session:
        session.add(AssetShare(asset_id=asset, user_id=LENA, channel_id="C0DEALS01", engagement_id=northbeam,
                               shared_at=utc("2026-11-08 10:00")))
        session.add_all([
            DevRelRequestEvent(request_id=1, kind=RequestEventKind.accepted, actor_id=LENA, subject_id=LENA,
                               at=utc("2026-11-07 11:00")),
            DevRelRequestEvent(request_id=1, kind=RequestEventKind.asked, actor_id="epos", subject_id=MARCUS,
                               at=utc("2026-11-07 10:00")),
        ])
    # The manager looked at the figures; a second manager never used epos.
    usage.note(MANAGER, usage.FIGURES, now=utc("2026-11-10 08:00"))
    # Someone in no role searched and found nothing.
    add_search_miss("quantum", "2026-11-12 10:00", user_id=STRANGER)
    # After the window: counted neither as a use in it nor as having used epos by its end.
    with db.transaction() as session:
        session.add(AuditEntry(at=utc("2026-11-20 10:00"), actor_id=SE_2, entity="engagement", entity_id="9",
                               action="stage", detail={}))
    return northbeam


def by_role(report) -> dict[Role, tuple[int, dict[str, list[str]], list[str]]]:
    return {
        r.role: (r.people, {p.user_id: [f.value for f in p.features] for p in r.used}, r.not_yet)
        for r in report.roles
    }


def test_each_role_counts_who_used_epos_how_and_who_never_has(database_url: str) -> None:
    hand_computed()

    report = adoption.report(SINCE, UNTIL, managers=[MANAGER, MANAGER_2])

    # The SE opened and moved an engagement and asked for DevRel in the window; SE_3 used epos before
    # it; SE_2 never has, nor had by its end.
    assert by_role(report) == {
        Role.se: (3, {SE: ["open", "stage_change", "devrel_request"]}, [SE_2]),
        Role.seller: (2, {SELLER: ["search", "note"]}, [SELLER_2]),
        Role.devrel: (2, {LENA: ["share", "devrel_answer"]}, [MARCUS]),
        Role.manager: (2, {MANAGER: ["figures"]}, [MANAGER_2]),
        Role.other: (1, {STRANGER: ["search"]}, []),
    }
    assert report.role(Role.se).feature_counts() == {Feature.open: 1, Feature.stage_change: 1, Feature.devrel_request: 1}
    # The roster's names are known without asking Slack.
    assert report.names[MARCUS] == "Marcus Reed"


def test_a_window_before_everything_has_nobody_using_epos_and_nobody_yet(database_url: str) -> None:
    hand_computed()

    report = adoption.report(utc("2026-09-01 00:00"), utc("2026-09-30 00:00"), managers=[MANAGER])

    assert [(r.role, r.people, len(r.used)) for r in report.roles] == [
        (Role.se, 3, 0), (Role.seller, 2, 0), (Role.devrel, 2, 0), (Role.manager, 1, 0), (Role.other, 0, 0)]
    # Nobody had used epos by the end of September.
    assert report.role(Role.se).not_yet == sorted([SE, SE_2, SE_3])


def test_names_come_from_the_people_cache(database_url: str) -> None:
    hand_computed()
    people.remember(SE_2, name="Dana Novak", timezone="Europe/Berlin")

    assert adoption.report(SINCE, UNTIL, managers=[]).names[SE_2] == "Dana Novak"


def test_a_search_from_slack_is_a_use_and_one_from_the_command_line_is_not(database_url: str) -> None:
    add_asset("Tracing demo")
    assets.search("tracing", now=utc("2026-11-02 10:00"))
    assets.search("tracing", actor=Actor(user_id=SELLER), now=utc("2026-11-02 10:00"))

    report = adoption.report(SINCE, UNTIL, managers=[])

    assert [p.user_id for p in report.role(Role.other).used] == [SELLER]


def test_the_checklist_ticks_what_an_se_really_did(database_url: str) -> None:
    assert [(s.feature, s.done) for s in adoption.checklist(SE, managers=[]).steps] == [
        (Feature.share, False), (Feature.open, False), (Feature.stage_change, False),
        (Feature.devrel_request, False), (Feature.esat, False)]

    northbeam = open_engagement("Northbeam", "2026-11-03 10:00")
    close(northbeam, Outcome.won, "2026-11-05 10:00")
    checklist = adoption.checklist(SE, managers=[])
    assert checklist.role is Role.se and checklist.done == 2 and not checklist.complete
    assert [s.feature for s in checklist.steps if s.done] == [Feature.open, Feature.stage_change]

    with db.reading() as session:
        survey_id = session.scalars(select(EsatSurvey.id).where(EsatSurvey.engagement_id == northbeam)).one()
    esat.answer(SE, survey_id, 4, now=utc("2026-11-06 10:00"))
    assert [s.feature for s in adoption.checklist(SE, managers=[]).steps if s.done] == [
        Feature.open, Feature.stage_change, Feature.esat]


def test_each_role_gets_its_own_checklist(database_url: str) -> None:
    load_roster([entry for entry in ROSTER if entry.slack_id == LENA])
    add_engagement("Polaris", SE_2, [("discovery", "2026-10-20 10:00")], seller=SELLER_2)

    assert adoption.checklist(MANAGER, managers=[MANAGER]).role is Role.manager
    assert adoption.checklist(LENA, managers=[]).role is Role.devrel
    assert adoption.checklist(SELLER_2, managers=[]).role is Role.seller
    assert adoption.checklist(SE_2, managers=[]).role is Role.se
    # Someone new starts as an SE does.
    assert adoption.checklist(STRANGER, managers=[]).role is Role.se
    assert [s.feature for s in adoption.checklist(MANAGER, managers=[MANAGER]).steps] == [
        Feature.figures, Feature.search, Feature.note]


def test_the_digest_reports_adoption_for_its_week(database_url: str) -> None:
    hand_computed()

    # 2026-W45 in Berlin: 2 Nov 00:00 to 9 Nov 00:00 local time, before the manager's look (10 Nov).
    week = digest.compute("2026-W45", tz=ZoneInfo("Europe/Berlin"), now=UNTIL, managers=[MANAGER])

    assert week.adoption is not None
    assert [(r.role, len(r.used)) for r in week.adoption.roles] == [
        (Role.se, 1), (Role.seller, 1), (Role.devrel, 1), (Role.manager, 0), (Role.other, 0)]
    assert week.figures()["adoption"]["roles"]["devrel"]["not_yet"] == [{"user_id": MARCUS, "name": "Marcus Reed"}]


def test_a_use_waits_for_no_writer_and_is_written_once_the_writer_is_done(database_url: str) -> None:
    """A search is a read: an import's batch holding the database must not hold it up or fail it."""
    import threading

    from tests.support.locks import writes_locked_out
    from tests.support.waiting import eventually

    outcome: list[object] = []
    noting = threading.Thread(target=lambda: outcome.append(usage.note(SELLER, usage.SEARCH, now=UNTIL)))
    with writes_locked_out(database_url, "usage_days"):
        noting.start()
        noting.join(timeout=5)
        assert outcome == [None], "the search waited for the writer, or failed"
        assert (SELLER, usage.SEARCH) not in _uses()
    assert eventually(lambda: _uses() == [(SELLER, usage.SEARCH)], timeout=30)


def _uses() -> list[tuple[str, str]]:
    from models import UsageDay

    with db.reading() as session:
        return [(row.user_id, row.feature) for row in session.execute(select(UsageDay.user_id, UsageDay.feature))]

"""The DevRel roster: file import (all-or-nothing), export, listing with load, and admin edits."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import db
from bot.errors import Forbidden, InvalidInput
from bot.services import devrel, roster
from bot.services.actors import Actor
from bot.services.importing import ImportInvalid
from models import AuditEntry, DevRelPerson
from models.schemas.devrel import RosterEntry
from tests.conftest import ADMIN, SE
from tests.devrel_helpers import LENA, MEETING, NOW, POLICY, ROSTER, add_engagement, load_roster

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ADMIN_ACTOR = Actor(user_id=ADMIN, admin=True)


def people_count() -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(DevRelPerson)) or 0


@pytest.mark.parametrize("name", ["roster.yaml", "roster.csv"])
def test_the_example_roster_imports_and_a_second_import_changes_nothing(name: str, database_url: str) -> None:
    entries = roster.read_roster_file(EXAMPLES / name)
    assert len(entries) == 6
    first = roster.import_roster(entries, now=NOW)
    assert len(first.added) == 6 and first.updated == [] and first.unchanged == []
    second = roster.import_roster(entries, now=NOW)
    assert second.added == [] and second.updated == [] and len(second.unchanged) == 6
    members = {m.slack_id: m for m in roster.list_roster(now=NOW)}
    assert members["U0DRN5P6Q"].active is False
    assert members["U0DR7E8F9"].out_of_office_until == date(2026, 12, 1)
    assert members["U0DR1A2B3"].work_end == time(17, 30) and members["U0DR1A2B3"].topics[0] == "observability"


def test_yaml_and_csv_examples_describe_the_same_roster() -> None:
    assert roster.read_roster_file(EXAMPLES / "roster.yaml") == roster.read_roster_file(EXAMPLES / "roster.csv")


def test_an_import_updates_changed_people_by_slack_id(database_url: str) -> None:
    load_roster()
    changed = [e.model_copy(update={"weekly_capacity": 9}) if e.slack_id == LENA else e for e in ROSTER]
    result = roster.import_roster(changed, now=NOW)
    assert result.updated == [LENA] and len(result.unchanged) == len(ROSTER) - 1
    with db.reading() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "devrel_person",
                                                         AuditEntry.action == "updated")).one()
        assert entry.entity_id == LENA and entry.detail["changes"] == {"weekly_capacity": ["4", "9"]}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_in(path: Path) -> list[str]:
    """The lines `epos roster import` prints for a file it refuses."""
    with pytest.raises(ImportInvalid) as refused:
        roster.read_roster_file(path)
    return [problem.line(str(path)) for problem in refused.value.problems]


def test_a_bad_yaml_file_names_item_and_field_and_writes_nothing(tmp_path: Path, database_url: str) -> None:
    path = write(tmp_path, "roster.yaml", """
- slack_id: U0GOOD001
  name: Good Person
  topics: [observability]
  timezone: Europe/Berlin
  work_start: "09:00"
  work_end: "17:00"
  weekly_capacity: 3
- slack_id: lena
  name: Bad Person
  timezone: Mars/Olympus
  work_start: "18:00"
  work_end: "09:00"
  weekly_capacity: -1
  favourite_colour: blue
- slack_id: U0GOOD001
  name: Twin
  timezone: UTC
  work_start: "09:00"
  work_end: "10:00"
  weekly_capacity: 1
""")
    text = "\n".join(problems_in(path))
    assert f"{path}: item 2, field slack_id: 'lena' is not a Slack user id" in text
    assert f"{path}: item 2, field timezone: 'Mars/Olympus' is not an IANA timezone" in text
    assert f"{path}: item 2, field weekly_capacity: must be between 0 and 50" in text
    assert f"{path}: item 2, field favourite_colour: is not a roster field" in text
    assert f"{path}: item 3, field slack_id: U0GOOD001 is already listed at item 1" in text
    assert people_count() == 0


def test_hours_must_be_in_order(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "slack_id,name,topics,timezone,work_start,work_end,weekly_capacity\n"
                                    "U0LATE001,Late,a,UTC,18:00,09:00,2\n")
    assert problems_in(path) == [f"{path}: line 2, field work_start: work_start 18:00 must be before work_end 09:00"]


def test_unquoted_yaml_times_are_read_as_times_not_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", "- {slack_id: U0TIME001, name: T, timezone: UTC, work_start: 9:00,"
                                     " work_end: 17:30, weekly_capacity: 2, active: true, out_of_office_until: null}\n")
    entries = roster.read_roster_file(path)
    assert (entries[0].work_start, entries[0].work_end, entries[0].out_of_office_until) == (time(9), time(17, 30), None)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("r.yaml", "- slack_id: [unclosed\n", "is not valid YAML"),
        ("r.yaml", "slack_id: U0ONE0001\n", "expected a list of people"),
        ("r.yaml", "", "holds no roster entries"),
        ("r.csv", "slack_id,name\nU0X,Y\n",
         "line 1: missing columns timezone, work_start, work_end, weekly_capacity; the columns are slack_id, name, "),
        ("r.csv", "slack_id,name,timezone,work_start,work_end,weekly_capacity\nU0ABC1234,A,UTC,25:00,26:00,1\n",
         "line 2, field work_start: '25:00' is not a time like 09:00"),
        ("r.txt", "whatever", "give a .yaml, .yml or .csv file"),
    ],
)
def test_unusable_files_get_one_clear_line(tmp_path: Path, name: str, text: str, expected: str) -> None:
    problems = problems_in(write(tmp_path, name, text))
    assert problems and expected in problems[0]


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    assert problems_in(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: no such file"]


def test_export_round_trips_through_both_formats(tmp_path: Path, database_url: str) -> None:
    load_roster()
    exported = roster.export_roster()
    for name, text in (("out.yaml", roster.to_yaml(exported)), ("out.csv", roster.to_csv(exported))):
        assert roster.read_roster_file(write(tmp_path, name, text)) == exported


def test_the_list_shows_load_this_week_and_status(database_url: str) -> None:
    load_roster()
    engagement_id = add_engagement()
    from models.schemas.devrel import RequestDraft

    update = devrel.create_request(Actor(user_id=SE), RequestDraft(engagement_id=engagement_id, meeting_start=MEETING,
                                                                   topics=["observability"]), policy=POLICY, now=NOW)
    devrel.accept(Actor(user_id=LENA), update.request.id, update.request.version, now=NOW)
    members = {m.slack_id: m for m in roster.list_roster(now=NOW)}
    assert members[LENA].load_this_week == 1
    assert members["U0DR4C5D6"].load_this_week == 0
    assert roster.list_roster(now=NOW + timedelta(days=7))[0].load_this_week == 0
    assert members["U0DRN5P6Q"].status_on(NOW.date()) == "inactive"
    away = members[LENA].model_copy(update={"out_of_office_until": date(2026, 10, 20)})
    assert away.status_on(NOW.date()) == "out of office until Tue 20 Oct 2026"
    assert away.status_on(date(2026, 10, 21)) == "active"
    # Inactive people are listed last.
    assert list(members)[-1] == "U0DRN5P6Q"


def test_only_admins_edit_the_roster_and_every_edit_is_audited(database_url: str) -> None:
    load_roster()
    entry = RosterEntry(slack_id="U0NEWDR01", name="New Person", topics=["ai"], timezone="UTC",
                        work_start="08:00", work_end="16:00", weekly_capacity=3)
    with pytest.raises(Forbidden):
        roster.save_member(Actor(user_id=SE), entry, adding=True, now=NOW)
    with pytest.raises(Forbidden):
        roster.set_active(Actor(user_id=SE), LENA, False, now=NOW)
    added = roster.save_member(ADMIN_ACTOR, entry, adding=True, now=NOW)
    assert added.slack_id == "U0NEWDR01" and added.active
    with pytest.raises(InvalidInput) as duplicate:
        roster.save_member(ADMIN_ACTOR, entry, adding=True, now=NOW)
    assert duplicate.value.field == "slack_id" and "already on the roster" in str(duplicate.value)
    roster.save_member(ADMIN_ACTOR, entry.model_copy(update={"weekly_capacity": 5}), adding=False, now=NOW)
    assert roster.get_member("U0NEWDR01").weekly_capacity == 5
    assert roster.set_active(ADMIN_ACTOR, "U0NEWDR01", False, now=NOW).active is False
    assert roster.get_member("U0NEWDR01").active is False
    assert roster.set_active(ADMIN_ACTOR, "U0NEWDR01", True, now=NOW).active is True
    with db.reading() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == "U0NEWDR01")
                                  .order_by(AuditEntry.id)).all()
        actors = set(session.scalars(select(AuditEntry.actor_id).where(AuditEntry.entity_id == "U0NEWDR01")).all())
    assert actions == ["added", "updated", "deactivated", "reactivated"]
    assert actors == {ADMIN}


def test_entries_normalise_topics_and_reject_bad_values() -> None:
    entry = RosterEntry(slack_id="U0NORM001", name="  Ann   Lee ", topics="APM; apm, tracing ,", timezone="UTC",
                        work_start="9:00", work_end="17:00", weekly_capacity=0)
    assert entry.name == "Ann Lee" and entry.topics == ["APM", "tracing"]
    with pytest.raises(ValueError):
        RosterEntry(slack_id="U0NORM001", name="A", timezone="UTC", work_start="09:00", work_end="09:00", weekly_capacity=1)

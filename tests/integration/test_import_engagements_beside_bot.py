"""`epos engagements import` and `epos roster import` of large files beside the live bot: every command
and Home is answered in time, and nothing of an import is seen before it has all gone in (nothing at all
when it fails, and the rows of a killed import are cleared)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dt_time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import clock, db
from bot.errors import Conflict
from bot.services import engagements, roster, staging
from bot.services.actors import Actor
from bot.services.importing import WRITE_BATCH
from bot.slackmock import MockSlack
from bot.ids import DevRelIds
from bot.wire import SlackWire
from models import AuditEntry, DataImport, DevRelPerson, Engagement, StageChange, StageStint
from models.schemas.devrel import RosterEntry
from models.schemas.engagement_records import EngagementRecord
from tests.conftest import ADMIN, SE, SELLER
from tests.devrel_helpers import LENA
from tests.integration.test_devrel_roster import form_values
from tests.integration.test_import_beside_bot import SLACK_ACK_SECONDS, SORRY, apologies
from tests.reliability_helpers import error_log
from tests.support.importing import in_background, paused
from tests.support.text import message_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MANAGER = Actor(user_id=ADMIN, admin=True, manager=True)
# Ten write batches and seconds of writing, small enough for every CI run on either database.
ROWS = 1000


@pytest.fixture
def team(database_url: str) -> None:
    roster.import_roster(roster.read_roster_file(EXAMPLES / "roster.yaml"))
    engagements.import_records(engagements.parse_import((EXAMPLES / "engagements.yaml").read_text(), "yaml"))


def write_engagements_csv(path: Path, rows: int, *, bad_last: bool = False) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("account,opportunity,owner,seller,focus,opened_at,history\n")
        for n in range(rows):
            owner = "nobody" if bad_last and n == rows - 1 else SE
            out.write(f"Bulkco {n},Bulkco {n} platform,{owner},{SELLER},observability,2026-08-03T09:15:00Z,"
                      "preparation@2026-08-03T09:15:00Z; discovery@2026-08-07T14:00:00Z\n")
    return path


def write_roster_csv(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("slack_id,name,topics,timezone,work_start,work_end,weekly_capacity\n")
        for n in range(rows):
            out.write(f"U0BULK{n:05d},Bulk Person {n},kubernetes,Europe/Berlin,09:00,17:00,5\n")
    return path


@dataclass
class Load:
    """Engagement commands, lists and Home tabs sent over signed HTTP from a few threads until stopped."""

    wire: SlackWire
    stop: threading.Event = field(default_factory=threading.Event)
    slow: list[str] = field(default_factory=list)
    answered: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, worker: int) -> None:
        for n in itertools.count():
            if self.stop.is_set():
                return
            kind = ("command", "home", "list")[n % 3]
            started = time.monotonic()
            if kind == "command":
                response = self.wire.command("/engagement", "northbeam discovery", user_id=SE)
            elif kind == "home":
                response = self.wire.event({"type": "app_home_opened", "user": SE, "channel": "D0HOME01",
                                            "tab": "home", "event_ts": f"{worker}.{n}"})
            else:
                response = self.wire.command("/engagement", "list", user_id=SE)
            took = time.monotonic() - started
            with self.lock:
                self.answered += 1
                if response.status != 200 or took >= SLACK_ACK_SECONDS or SORRY.encode() in response.body:
                    self.slow.append(f"{kind}: HTTP {response.status} after {took:.2f} s: {response.body[:120]!r}")
            # People, not a flood: the server shares this process (and its GIL) with the clients.
            time.sleep(0.05)

    def __enter__(self) -> Load:
        self.threads = [threading.Thread(target=self.run, args=(worker,), daemon=True) for worker in range(4)]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
        time.sleep(1.0)  # the listeners still at work after their acks


def run_cli(database_url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.Popen([sys.executable, "-m", "bot", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def bulk_engagements(*, pending_too: bool = False) -> int:
    reader = staging.reading if pending_too else db.reading
    with reader() as session:
        return session.scalar(select(func.count()).select_from(Engagement)
                              .where(Engagement.account.like("Bulkco %"))) or 0


def bulk_people(*, pending_too: bool = False) -> int:
    reader = staging.reading if pending_too else db.reading
    with reader() as session:
        return session.scalar(select(func.count()).select_from(DevRelPerson)
                              .where(DevRelPerson.slack_id.like("U0BULK%"))) or 0


def test_a_large_engagement_import_beside_the_bot_keeps_every_answer_in_time_and_goes_live_at_once(
    team: None, wire: SlackWire, slack: MockSlack, database_url: str, tmp_path: Path
) -> None:
    path = write_engagements_csv(tmp_path / "bulk.csv", ROWS)
    seen: list[int] = []
    with error_log() as errors, Load(wire) as load:
        importer = run_cli(database_url, "engagements", "import", str(path))
        while importer.poll() is None:
            seen.append(bulk_engagements())
            time.sleep(0.05)
        out, err = importer.communicate(timeout=300)
    assert importer.returncode == 0, err
    assert out.strip() == f"{ROWS} imported, 0 skipped (already there)"
    assert "database is locked" not in err
    assert load.answered > 20 and load.slow == []
    assert apologies(slack) == [] and errors.records == [], errors.describe()
    # Looked at again and again while it was written: none of the import, or all of it, never a part.
    assert set(seen) <= {0, ROWS}
    assert bulk_engagements() == ROWS


def test_an_engagement_file_with_a_bad_last_row_is_refused_whole_while_the_bot_answers(
    team: None, wire: SlackWire, slack: MockSlack, database_url: str, tmp_path: Path
) -> None:
    path = write_engagements_csv(tmp_path / "bulk.csv", ROWS, bad_last=True)
    with error_log() as errors, Load(wire) as load:
        importer = run_cli(database_url, "engagements", "import", str(path))
        _, err = importer.communicate(timeout=300)
    assert importer.returncode == 1
    assert f"line {ROWS + 1}, field owner" in err and "nothing imported" in err
    assert load.slow == [] and apologies(slack) == [] and errors.records == [], errors.describe()
    assert bulk_engagements(pending_too=True) == 0


def test_a_large_roster_import_beside_the_bot_goes_live_at_once(
    team: None, wire: SlackWire, slack: MockSlack, database_url: str, tmp_path: Path
) -> None:
    path = write_roster_csv(tmp_path / "roster.csv", ROWS)
    seen: list[int] = []
    with error_log() as errors, Load(wire) as load:
        importer = run_cli(database_url, "roster", "import", str(path))
        while importer.poll() is None:
            seen.append(bulk_people())
            time.sleep(0.05)
        out, err = importer.communicate(timeout=300)
    assert importer.returncode == 0, err
    assert out.strip() == f"{ROWS} added, 0 updated, 0 unchanged"
    assert "database is locked" not in err
    assert load.answered > 20 and load.slow == []
    assert apologies(slack) == [] and errors.records == [], errors.describe()
    assert set(seen) <= {0, ROWS}
    assert bulk_people() == ROWS


def engagement_records(count: int) -> Iterator[EngagementRecord]:
    for n in range(count):
        yield EngagementRecord.model_validate({
            "account": f"Bulkco {n}", "opportunity": f"Bulkco {n} platform", "owner": SE, "seller": SELLER,
            "focus": "observability", "opened_at": "2026-08-03T09:15:00Z",
            "history": [{"stage": "preparation", "at": "2026-08-03T09:15:00Z"},
                        {"stage": "discovery", "at": "2026-08-07T14:00:00Z"}]})


# A fixed moment, so that two looks differ only by what they found.
NOW = clock.now()


def everything_se_sees(now: datetime = NOW) -> str:
    return " ".join(str(part) for part in (
        engagements.home(Actor(user_id=SE), now=now),
        engagements.list_engagements(MANAGER, scope="all", now=now),
        engagements.figures(MANAGER, weeks=52, now=now),
        engagements.interpret(Actor(user_id=SE), "bulkco 7 demo", now=now),
        engagements.export_records(),
    ))


@pytest.mark.parametrize("then_fail", [False, True], ids=["succeeds", "fails"])
def test_an_engagement_import_half_written_is_seen_by_nobody(then_fail: bool, team: None) -> None:
    count = 3 * WRITE_BATCH
    halfway, resume = threading.Event(), threading.Event()
    before = everything_se_sees()
    worker, outcome = in_background(lambda: engagements.import_records(
        paused(engagement_records(count), halfway, resume, then_fail=then_fail)))
    try:
        assert halfway.wait(60)
        assert bulk_engagements(pending_too=True) == 2 * WRITE_BATCH  # really written, in batches…
        assert bulk_engagements() == 0  # …and seen by no read:
        assert everything_se_sees() == before  # not the Home, a list, the figures, a search or an export
        with db.reading() as session:
            pending = select(DataImport.id).where(DataImport.live_at.is_(None))
            for model in (StageChange, StageStint):  # nor its stage log, which the figures read directly
                assert session.scalar(select(func.count()).select_from(model).where(model.import_id.in_(pending))) == 0
    finally:
        resume.set()
        worker.join(60)
    if then_fail:
        assert isinstance(outcome[0], OSError)
        assert bulk_engagements(pending_too=True) == 0
        with db.reading() as session:
            assert session.scalar(select(func.count()).select_from(DataImport).where(DataImport.live_at.is_(None))) == 0
        assert everything_se_sees() == before
    else:
        assert outcome[0].imported == count  # type: ignore[attr-defined]
        assert bulk_engagements() == count
        assert "Bulkco 7" in everything_se_sees()


def roster_entries(count: int) -> Iterator[RosterEntry]:
    yield from (RosterEntry(slack_id=f"U0BULK{n:05d}", name=f"Bulk Person {n}", topics=["kubernetes"],
                            timezone="Europe/Berlin", work_start="09:00", work_end="17:00", weekly_capacity=5)
                for n in range(count))


@pytest.mark.parametrize("then_fail", [False, True], ids=["succeeds", "fails"])
def test_a_roster_import_half_written_is_seen_by_nobody(then_fail: bool, team: None) -> None:
    count = 3 * WRITE_BATCH
    first = roster.list_roster()[0]
    renamed = first.model_copy(update={"name": "Renamed by the import"})
    halfway, resume = threading.Event(), threading.Event()
    entries = itertools.chain([RosterEntry(**renamed.model_dump(include=set(RosterEntry.model_fields)))],
                              roster_entries(count))
    worker, outcome = in_background(lambda: roster.import_roster(
        paused(entries, halfway, resume, then_fail=then_fail)))
    try:
        assert halfway.wait(60)
        assert bulk_people(pending_too=True) == 2 * WRITE_BATCH - 1
        names = [member.name for member in roster.list_roster()]
        assert bulk_people() == 0 and first.name in names and "Renamed by the import" not in names
    finally:
        resume.set()
        worker.join(60)
    names = [member.name for member in roster.list_roster()]
    if then_fail:
        assert isinstance(outcome[0], OSError)
        assert bulk_people(pending_too=True) == 0 and first.name in names
    else:
        assert (len(outcome[0].added), outcome[0].updated) == (count, [first.slack_id])  # type: ignore[attr-defined]
        assert bulk_people() == count and "Renamed by the import" in names


def test_the_rows_of_an_engagement_import_whose_process_was_killed_are_cleared_by_a_later_import(team: None) -> None:
    started = clock.now() - staging.ABANDONED_AFTER - timedelta(minutes=1)
    with staging.writing() as session:
        session.add(DataImport(id="killed", kind="engagements", started_at=started))
        session.add(Engagement(account="Left by a killed import", opportunity="x", owner_id=SE, seller_id=SELLER,
                               focus="observability", opened_at=started, stage="discovery", stage_entered_at=started,
                               last_activity_at=started, created_by="import", created_at=started,
                               updated_at=started, import_id="killed"))
    assert "Left by a killed import" not in everything_se_sees()
    roster.import_roster(roster_entries(2))
    with staging.reading() as session:
        assert session.scalar(select(func.count()).select_from(Engagement).where(Engagement.import_id == "killed")) == 0
        assert session.get(DataImport, "killed") is None


@pytest.mark.parametrize("meanwhile", ["edited", "deactivated", "someone else edited"])
def test_a_person_changed_in_slack_while_the_roster_import_ran_is_not_overwritten(meanwhile: str, team: None) -> None:
    first, other = roster.list_roster()[:2]
    in_file = RosterEntry(**first.model_dump(include=set(RosterEntry.model_fields))).model_copy(
        update={"weekly_capacity": first.weekly_capacity + 1})
    halfway, resume = threading.Event(), threading.Event()
    entries = itertools.chain([in_file], roster_entries(3 * WRITE_BATCH))
    worker, outcome = in_background(lambda: roster.import_roster(
        paused(entries, halfway, resume, then_fail=False)))
    try:
        assert halfway.wait(60)  # the file's change to the first person is set aside
        changed = first if meanwhile != "someone else edited" else other
        if meanwhile == "deactivated":
            roster.set_active(MANAGER, changed.slack_id, False)
        else:
            edited = RosterEntry(**changed.model_dump(include=set(RosterEntry.model_fields)))
            roster.save_member(MANAGER, edited.model_copy(update={"name": "Edited in Slack"}), adding=False)
    finally:
        resume.set()
        worker.join(60)
    after = {member.slack_id: member for member in roster.list_roster()}
    if meanwhile == "someone else edited":
        # Nobody the file changes was touched: the import goes live, and the edit stays.
        assert outcome[0].updated == [first.slack_id]  # type: ignore[attr-defined]
        assert after[first.slack_id].weekly_capacity == first.weekly_capacity + 1
        assert after[other.slack_id].name == "Edited in Slack"
        return
    assert isinstance(outcome[0], Conflict)
    name = "Edited in Slack" if meanwhile == "edited" else first.name
    assert str(outcome[0]) == (f"{name} ({first.slack_id}) was changed in Slack while the file was being imported; "
                               "nothing was imported, so that change stays. Compare the file with it, then run the "
                               "import again.")
    assert after[first.slack_id].weekly_capacity == first.weekly_capacity
    assert after[first.slack_id].active is (meanwhile != "deactivated")
    assert bulk_people(pending_too=True) == 0


def test_a_person_the_roster_import_is_adding_cannot_be_added_by_hand_meanwhile(
    team: None, wire: SlackWire, slack: MockSlack
) -> None:
    count = 3 * WRITE_BATCH
    halfway, resume = threading.Event(), threading.Event()
    worker, outcome = in_background(lambda: roster.import_roster(
        paused(roster_entries(count), halfway, resume, then_fail=False)))
    try:
        assert halfway.wait(60)  # Bulk Person 0 is written, out of sight
        with error_log() as errors:
            assert wire.block_action(DevRelIds.roster_add, user_id=ADMIN, value="add").status == 200
            form = slack.wait_for("views.open")[-1].params["view"]
            answer = wire.view_submission(form, form_values(person_id="U0BULK00000", name="Added by hand"),
                                          user_id=ADMIN)
        assert answer.status == 200 and answer.json["response_action"] == "errors"
        assert answer.json["errors"] == {DevRelIds.roster_person_block: (
            "Bulk Person 0 is being added by a roster import that is still running, so nothing was saved. "
            "Close this form and try again when it has finished.")}
        assert apologies(slack) == [] and errors.records == [], errors.describe()
    finally:
        resume.set()
        worker.join(60)
    # The import went in whole, as the file has it; nothing of the form was written.
    assert len(outcome[0].added) == count  # type: ignore[attr-defined]
    assert bulk_people() == count
    assert roster.get_member("U0BULK00000").name == "Bulk Person 0"
    with db.reading() as session:
        assert session.scalars(select(AuditEntry.actor_id).where(
            AuditEntry.entity == "devrel_person", AuditEntry.entity_id == "U0BULK00000")).all() == ["epos-cli"]


def test_a_person_added_by_hand_just_before_the_import_writes_them_fails_the_import_whole(
    team: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_hand = RosterEntry(slack_id="U0BULK00004", name="Added by hand", topics=["apm"], timezone="Asia/Tokyo",
                          work_start="10:00", work_end="18:00", weekly_capacity=2)
    batch_writer, saved = staging.writing, []

    @contextmanager
    def admin_first() -> Iterator[Session]:
        # The admin's form is saved after the import read its first batch and before it writes it.
        if not saved:
            saved.append(roster.save_member(MANAGER, by_hand, adding=True))
        with batch_writer() as session:
            yield session

    monkeypatch.setattr(staging, "writing", admin_first)
    with pytest.raises(Conflict) as refused:
        roster.import_roster(roster_entries(3 * WRITE_BATCH))
    assert str(refused.value) == ("Added by hand (U0BULK00004) was added to the roster in Slack while the file was "
                                  "being imported; nothing was imported, so they stay as added. Run the import again.")
    assert bulk_people(pending_too=True) == 1
    assert roster.get_member("U0BULK00004").name == "Added by hand"


@pytest.mark.parametrize("meanwhile", ["edited in the form", "deactivated with the button"])
def test_a_person_changed_in_slack_is_not_overwritten_when_the_importing_machine_runs_ahead(
    meanwhile: str, team: None, wire: SlackWire, slack: MockSlack
) -> None:
    lena = roster.get_member(LENA)
    in_file = RosterEntry(**lena.model_dump(include=set(RosterEntry.model_fields))).model_copy(
        update={"weekly_capacity": 6})
    # The machine running `epos roster import` has a clock a minute ahead of the bot's.
    ahead = clock.now() + timedelta(minutes=1)
    halfway, resume = threading.Event(), threading.Event()
    entries = itertools.chain([in_file], roster_entries(3 * WRITE_BATCH))
    worker, outcome = in_background(lambda: roster.import_roster(
        paused(entries, halfway, resume, then_fail=False), now=ahead))  # type: ignore[arg-type]
    try:
        assert halfway.wait(60)  # the file's change to Lena is set aside
        with error_log() as errors:
            if meanwhile == "edited in the form":
                assert wire.block_action(DevRelIds.roster_edit, user_id=ADMIN, value=LENA).status == 200
                form = slack.wait_for("views.open")[-1].params["view"]
                saved = wire.view_submission(form, form_values(name="Edited in Slack"), user_id=ADMIN)
                assert saved.status == 200 and not saved.body
            else:
                assert wire.block_action(DevRelIds.roster_deactivate, user_id=ADMIN, value=LENA).status == 200
                assert "inactive" in message_text(slack.wait_for("response_url")[-1].params)
        assert apologies(slack) == [] and errors.records == [], errors.describe()
    finally:
        resume.set()
        worker.join(60)
    name = "Edited in Slack" if meanwhile == "edited in the form" else "Lena Hoffmann"
    assert isinstance(outcome[0], Conflict)
    assert str(outcome[0]) == (f"{name} ({LENA}) was changed in Slack while the file was being imported; nothing "
                               "was imported, so that change stays. Compare the file with it, then run the import "
                               "again.")
    after = roster.get_member(LENA)
    assert (after.name, after.active, after.weekly_capacity) == (name, meanwhile != "deactivated with the button", 4)
    assert bulk_people(pending_too=True) == 0


def test_a_person_another_running_import_writes_first_fails_this_import_whole_naming_them(
    team: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_writer, written = staging.writing, []

    @contextmanager
    def other_import_first() -> Iterator[Session]:
        # Another import, still running, writes U0BULK00004 after this one read it and before it writes it.
        if not written:
            written.append(True)
            with batch_writer() as session:
                session.add(DataImport(id="other", kind="roster", started_at=clock.now()))
                session.flush()
                session.add(DevRelPerson(slack_id="U0BULK00004", name="From the other file", topics=[],
                                         timezone="UTC", work_start=dt_time(9), work_end=dt_time(17),
                                         weekly_capacity=1, active=True, created_at=clock.now(),
                                         updated_at=clock.now(), import_id="other"))
        with batch_writer() as session:
            yield session

    monkeypatch.setattr(staging, "writing", other_import_first)
    with pytest.raises(Conflict) as refused:
        roster.import_roster(roster_entries(3 * WRITE_BATCH))
    assert str(refused.value) == ("From the other file (U0BULK00004) is being added by another import that is still "
                                  "running; run this one again when it has finished.")
    assert bulk_people(pending_too=True) == 1 and bulk_people() == 0

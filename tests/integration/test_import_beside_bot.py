"""`epos assets import` of a large file beside the live bot: every click and search is answered in time,
and nothing of an import is seen before it has all gone in (nothing at all when it fails)."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import clock, db
from bot.errors import Conflict, InvalidInput
from bot.services import asset_review, assets
from bot.services.actors import Actor
from bot.services.importing import WRITE_BATCH
from handlers.errors import APOLOGY
from models.assets import Asset, AssetImport
from models.ops import AuditEntry
from models.schemas.assets import AssetFields, AssetRecord
from tests.assets_helpers import ask, asset_by_title, blocks_of, card_titles, write_catalogue_csv
from tests.conftest import SE
from tests.reliability_helpers import error_log
from tests.support.importing import in_background, paused
from tests.support.slack import MockSlack
from tests.support.waiting import eventually
from tests.support.wire import SlackWire

SLACK_ACK_SECONDS = 3.0
SORRY = APOLOGY.split("{", 1)[0]
SAMPLE_DEMO = "Observability in 15 minutes: from alert to root cause"
# Big enough for several write batches and seconds of writing, small enough for every CI run.
ROWS = 3000
# Long enough to be killed while it stages (at least a hundred batches, each followed by a pause).
KILLED_ROWS = 4 * ROWS


@dataclass
class Load:
    """Searches, votes and shares sent over signed HTTP from a few threads until stopped."""

    wire: SlackWire
    slack: MockSlack
    asset_id: int
    stop: threading.Event = field(default_factory=threading.Event)
    slow: list[str] = field(default_factory=list)
    answered: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, worker: int) -> None:
        for n in itertools.count():
            if self.stop.is_set():
                return
            user = f"U0LOAD{worker}{n % 7}"
            kind = ("search", "useful", "not_useful", "share")[n % 4]
            started = time.monotonic()
            if kind == "search":
                response = self.wire.command("/asset", "demo observability", user_id=user)
            elif kind == "share":
                response = self.wire.block_action("asset_share", user_id=user, value=str(self.asset_id),
                                                  channel_id="C0ACME001", response_name=f"load{worker}")
            else:
                response = self.wire.block_action(f"asset_{kind}", user_id=user, value=str(self.asset_id),
                                                  response_name=f"load{worker}")
            took = time.monotonic() - started
            with self.lock:
                self.answered += 1
                if response.status != 200 or took >= SLACK_ACK_SECONDS or SORRY.encode() in response.body:
                    self.slow.append(f"{kind}: HTTP {response.status} after {took:.2f} s: {response.body[:120]!r}")

    def __enter__(self) -> Load:
        self.threads = [threading.Thread(target=self.run, args=(worker,), daemon=True) for worker in range(4)]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
        self.settle()

    def settle(self) -> None:
        """Wait for the listeners still at work after their acks, so their answers are all in."""
        slack, quiet_since, deadline = self.slack, time.monotonic(), time.monotonic() + 20
        seen = len(slack.calls)
        while time.monotonic() - quiet_since < 1.0 and time.monotonic() < deadline:
            time.sleep(0.1)
            if len(slack.calls) != seen:
                seen, quiet_since = len(slack.calls), time.monotonic()


def apologies(slack: MockSlack) -> list[str]:
    sent = [str(call.params.get("text", "")) for call in list(slack.calls)]
    return [text for text in sent if text.startswith(SORRY)]


def run_import(database_url: str, path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.Popen([sys.executable, "-m", "bot", "assets", "import", str(path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def bulk_count() -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(Asset).where(Asset.url.like("%/bulk/%"))) or 0


def test_a_large_import_beside_the_bot_keeps_every_answer_in_time_and_goes_live_at_once(
    catalogue: None, wire: SlackWire, slack: MockSlack, database_url: str, tmp_path: Path
) -> None:
    path = write_catalogue_csv(tmp_path / "bulk.csv", ROWS)
    with error_log() as errors, Load(wire, slack, asset_by_title(SAMPLE_DEMO).id) as load:
        importer = run_import(database_url, path)
        out, err = importer.communicate(timeout=300)
        seen_before_the_end = card_titles(blocks_of(ask(wire, "bulkstuff", user_id=SE)))
    assert importer.returncode == 0, err
    assert out.strip() == f"{ROWS} added, 0 updated, 0 unchanged"
    assert "database is locked" not in err
    assert load.answered > 20 and load.slow == []
    assert apologies(slack) == [] and errors.records == [], errors.describe()
    # A search made while the last batches were written saw none or all of the import, never a part.
    assert len(seen_before_the_end) in (0, min(ROWS, assets.PAGE_SIZE))
    answer = ask(wire, "bulkstuff", user_id=SE)
    assert f"of {ROWS}" in answer.params["text"] or len(card_titles(blocks_of(answer))) == assets.PAGE_SIZE
    assert assets.search("bulkstuff").total == ROWS


def test_a_file_with_a_bad_last_row_is_refused_whole_while_the_bot_answers(
    catalogue: None, wire: SlackWire, slack: MockSlack, database_url: str, tmp_path: Path
) -> None:
    path = write_catalogue_csv(tmp_path / "bulk.csv", ROWS, bad_last=True)
    with error_log() as errors, Load(wire, slack, asset_by_title(SAMPLE_DEMO).id) as load:
        importer = run_import(database_url, path)
        _, err = importer.communicate(timeout=300)
    assert importer.returncode == 1
    assert f"line {ROWS + 1}, field url" in err and "nothing imported" in err
    assert load.slow == [] and apologies(slack) == [] and errors.records == [], errors.describe()
    assert bulk_count() == 0
    assert card_titles(blocks_of(ask(wire, "bulkstuff", user_id=SE))) == []


RETITLED = "Observability in 15 minutes, retitled by the import"


def records(count: int, first: AssetRecord | None = None) -> Iterator[AssetRecord]:
    """A change to the sample demo (`first`, else retitling it), then `count - 1` new assets."""
    sample = asset_by_title(SAMPLE_DEMO)
    yield first or AssetRecord.model_validate({"title": RETITLED, "type": "demo", "url": sample.url,
                                               "topics": list(sample.topics), "owner": sample.owner_id})
    for n in range(count - 1):
        yield AssetRecord.model_validate({
            "title": f"Staged generated asset {n}", "type": "demo", "url": f"https://assets.example.com/staged/{n}",
            "topics": ["stagedstuff"], "owner": SE,
        })


@pytest.mark.parametrize("then_fail", [False, True], ids=["succeeds", "fails"])
def test_an_import_half_written_is_seen_by_nobody(
    then_fail: bool, catalogue: None, wire: SlackWire, slack: MockSlack
) -> None:
    count = 3 * WRITE_BATCH
    halfway, resume = threading.Event(), threading.Event()
    worker, outcome = in_background(
        lambda: assets.import_records(paused(records(count), halfway, resume, then_fail=then_fail)))
    try:
        assert halfway.wait(60)
        with db.reading() as session:
            written = session.scalar(select(func.count()).select_from(Asset).where(Asset.url.like("%/staged/%")))
        assert written == 2 * WRITE_BATCH - 1  # really written, in batches (the first record is a change)…
        # …and seen by no search, no list of one's own assets, no card.
        assert card_titles(blocks_of(ask(wire, "stagedstuff", user_id=SE))) == []
        assert "Staged generated asset" not in str(ask(wire, "mine", user_id=SE).params)
        # The change to an asset already in the catalogue waits too.
        assert SAMPLE_DEMO in card_titles(blocks_of(ask(wire, "demo observability", user_id=SE)))
    finally:
        resume.set()
        worker.join(60)
    if then_fail:
        assert isinstance(outcome[0], OSError)
        with db.reading() as session:
            assert session.scalar(select(func.count()).select_from(Asset).where(Asset.url.like("%/staged/%"))) == 0
        assert card_titles(blocks_of(ask(wire, "stagedstuff", user_id=SE))) == []
        assert SAMPLE_DEMO in card_titles(blocks_of(ask(wire, "demo observability", user_id=SE)))
    else:
        assert (outcome[0].added, outcome[0].updated) == (count - 1, 1)  # type: ignore[attr-defined]
        shown = card_titles(blocks_of(ask(wire, "demo observability", user_id=SE)))
        assert RETITLED in shown and SAMPLE_DEMO not in shown
        assert assets.search("stagedstuff").total == count - 1
        assert len(card_titles(blocks_of(ask(wire, "stagedstuff", user_id=SE)))) == assets.PAGE_SIZE
    assert apologies(slack) == []


def test_a_link_the_import_is_writing_cannot_be_added_from_slack_meanwhile(
    catalogue: None, wire: SlackWire, slack: MockSlack
) -> None:
    count = 3 * WRITE_BATCH
    halfway, resume = threading.Event(), threading.Event()
    worker, outcome = in_background(
        lambda: assets.import_records(paused(records(count), halfway, resume, then_fail=False)))
    try:
        assert halfway.wait(60)
        pending = "https://assets.example.com/staged/5"
        fields = AssetFields.model_validate({"title": "Added by hand meanwhile", "type": "demo", "url": pending,
                                             "topics": ["stagedstuff"], "owner_id": SE})
        with pytest.raises(InvalidInput) as refused:
            assets.create(fields, Actor(user_id=SE), admins_configured=False)
        assert refused.value.field == "url"
        assert str(refused.value).startswith("Someone added this link a moment ago.")
    finally:
        resume.set()
        worker.join(60)
    assert outcome[0].added == count - 1  # type: ignore[attr-defined]
    assert "Added by hand meanwhile" not in card_titles(blocks_of(ask(wire, "stagedstuff", user_id=SE)))


def pending_count() -> int:
    """Assets written by imports not live yet, seen by nobody."""
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(Asset).join(AssetImport)
                              .where(AssetImport.revision.is_(None))) or 0


def test_an_import_killed_midway_is_cleared_by_the_next_import_once_it_has_been_quiet_a_while(
    catalogue: None, database_url: str, tmp_path: Path
) -> None:
    path = write_catalogue_csv(tmp_path / "bulk.csv", KILLED_ROWS)
    victim = run_import(database_url, path)
    try:
        assert eventually(lambda: pending_count() >= 2 * WRITE_BATCH or victim.poll() is not None, timeout=120)
        assert victim.poll() is None, "the import finished before it could be killed"
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(30)
    finally:
        if victim.poll() is None:
            victim.kill()
    assert victim.returncode == -signal.SIGKILL
    staged = pending_count()
    assert staged >= 2 * WRITE_BATCH and assets.search("bulkstuff").total == 0

    # At once, nobody can tell a killed import from a slow one: the next is refused, and told when
    # that import wrote last and when a stopped one is cleared.
    again = run_import(database_url, path)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 1
    assert "https://assets.example.com/bulk/0 is being added by another import, which wrote last" in err
    assert "an import that stopped is cleared 2 minutes after its last write" in err
    assert pending_count() == staged

    # A few minutes on (not a day), the next import clears it away and goes in whole.
    clock.advance(assets.ABANDONED_AFTER + timedelta(seconds=30))
    report = assets.import_file(path, "csv")
    assert (report.added, report.updated) == (KILLED_ROWS, 0)
    assert pending_count() == 0 and assets.search("bulkstuff").total == KILLED_ROWS
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(AssetImport).where(AssetImport.revision.is_(None))) == 0


def test_an_import_still_running_is_never_cleared_and_one_taken_for_abandoned_cannot_go_live(
    catalogue: None, wire: SlackWire
) -> None:
    count = 3 * WRITE_BATCH
    halfway, resume = threading.Event(), threading.Event()
    worker, outcome = in_background(
        lambda: assets.import_records(paused(records(count), halfway, resume, then_fail=False)))
    try:
        assert halfway.wait(60)
        # Paused for a moment, it is running: another import of the same links is refused.
        with pytest.raises(Conflict, match="is being added by another import, which wrote last"):
            assets.import_records(records(count))
        # Quiet for longer than ABANDONED_AFTER, it is taken for abandoned and cleared.
        clock.advance(assets.ABANDONED_AFTER + timedelta(seconds=30))
        second = assets.import_records(records(count))
        assert (second.added, second.updated) == (count - 1, 1)
    finally:
        resume.set()
        worker.join(60)
    # The first one, woken up, learns it was cleared, and none of it shows.
    assert isinstance(outcome[0], Conflict) and "was taken for abandoned; nothing was imported" in str(outcome[0])
    assert pending_count() == 0
    assert assets.search("stagedstuff").total == count - 1
    assert len(card_titles(blocks_of(ask(wire, "stagedstuff", user_id=SE)))) == assets.PAGE_SIZE


def edit_summary(asset_id: int, owner: str) -> None:
    row = assets.get(asset_id).card
    fields = AssetFields(**row.model_dump(include=set(AssetFields.model_fields)) | {
        "summary": "Edited in Slack while the import ran", "owner_id": owner})
    assets.update(asset_id, fields, Actor(user_id=owner), admins_configured=False)


@pytest.mark.parametrize("meanwhile", ["edited", "archived", "voted"])
def test_an_asset_changed_in_slack_while_the_import_ran_is_not_overwritten(
    meanwhile: str, catalogue: None, wire: SlackWire
) -> None:
    count = 3 * WRITE_BATCH
    sample = asset_by_title(SAMPLE_DEMO)
    halfway, resume = threading.Event(), threading.Event()
    worker, outcome = in_background(
        lambda: assets.import_records(paused(records(count), halfway, resume, then_fail=False)))
    try:
        assert halfway.wait(60)  # the import's change to this asset is staged
        if meanwhile == "edited":
            edit_summary(sample.id, sample.owner_id)
        elif meanwhile == "archived":
            assets.archive(sample.id, Actor(user_id=sample.owner_id))
        else:
            assets.vote(sample.id, SE, useful=True)
    finally:
        resume.set()
        worker.join(60)
    after = asset_by_title(SAMPLE_DEMO if meanwhile != "voted" else RETITLED)
    if meanwhile == "voted":
        # A vote changes nothing the file holds: the import goes live, and the vote stays.
        assert (outcome[0].added, outcome[0].updated) == (count - 1, 1)  # type: ignore[attr-defined]
        assert after.useful_count == sample.useful_count + 1
        return
    assert isinstance(outcome[0], Conflict)
    assert str(outcome[0]) == (f"{SAMPLE_DEMO} ({sample.url}) was changed in Slack while the file was being "
                               "imported; nothing was imported, so that change stays. Compare the file with it, "
                               "then run the import again.")
    if meanwhile == "edited":
        assert after.summary == "Edited in Slack while the import ran" and after.status == "published"
    else:
        assert after.status == "archived" and after.summary == sample.summary
    assert pending_count() == 0 and assets.search("stagedstuff").total == 0
    assert card_titles(blocks_of(ask(wire, "stagedstuff", user_id=SE))) == []


@pytest.mark.parametrize("retitled", [True, False], ids=["and-retitled", "only-reverified"])
def test_a_verification_in_slack_while_the_import_ran_is_never_moved_back(retitled: bool, catalogue: None) -> None:
    count = 3 * WRITE_BATCH
    sample = asset_by_title(SAMPLE_DEMO)
    assert sample.verified_at is not None
    clock.advance(timedelta(days=3))
    # The file's verification is later than the catalogue's when the import reads it, earlier than the one
    # made in Slack while the import runs.
    card = assets.get(sample.id).card
    first = AssetRecord(**card.model_dump(include=set(AssetRecord.model_fields))
                        | {"title": RETITLED if retitled else card.title,
                           "verified_at": sample.verified_at + timedelta(days=1)})
    halfway, resume = threading.Event(), threading.Event()
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(
        assets.import_records(paused(records(count, first), halfway, resume, then_fail=False))))
    worker.start()
    try:
        assert halfway.wait(60)
        verified = clock.now()
        asset_review.verify(sample.id, Actor(user_id=sample.owner_id), now=verified)
    finally:
        resume.set()
        worker.join(60)
    report = outcome[0]
    assert (report.added, report.updated, report.unchanged) == (count - 1, int(retitled), int(not retitled))  # type: ignore[attr-defined]
    after = assets.get(sample.id).card
    assert (after.verified_at, after.verified_by) == (verified, sample.owner_id)
    assert after.title == (RETITLED if retitled else SAMPLE_DEMO)
    with db.reading() as session:
        audited = session.scalars(select(AuditEntry.detail).where(
            AuditEntry.entity == "asset", AuditEntry.entity_id == str(sample.id), AuditEntry.action == "updated")).all()
    # The audit says what the import changed: the title, not a verification it left alone.
    assert audited == ([{"changed": ["title"], "before": {"title": SAMPLE_DEMO}, "source": "import"}]
                       if retitled else [])

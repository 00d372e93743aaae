"""`epos assets import` of a large file beside the live bot: every click and search is answered in time,
and nothing of an import is seen before it has all gone in (nothing at all when it fails)."""

from __future__ import annotations

import itertools
import os
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
from bot.errors import InvalidInput
from bot.services import assets
from bot.services.actors import Actor
from bot.services.importing import WRITE_BATCH
from handlers.errors import APOLOGY
from models.assets import Asset, AssetImport
from models.schemas.assets import AssetFields, AssetRecord
from tests.assets_helpers import ask, asset_by_title, blocks_of, card_titles, write_catalogue_csv
from tests.conftest import SE
from tests.reliability_helpers import error_log
from tests.support.slack import MockSlack
from tests.support.wire import SlackWire

SLACK_ACK_SECONDS = 3.0
SORRY = APOLOGY.split("{", 1)[0]
SAMPLE_DEMO = "Observability in 15 minutes: from alert to root cause"
# Big enough for several write batches and seconds of writing, small enough for every CI run.
ROWS = 3000


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


def records(count: int) -> Iterator[AssetRecord]:
    sample = asset_by_title(SAMPLE_DEMO)
    yield AssetRecord.model_validate({"title": RETITLED, "type": "demo", "url": sample.url,
                                      "topics": list(sample.topics), "owner": sample.owner_id})
    for n in range(count - 1):
        yield AssetRecord.model_validate({
            "title": f"Staged generated asset {n}", "type": "demo", "url": f"https://assets.example.com/staged/{n}",
            "topics": ["stagedstuff"], "owner": SE,
        })


def paused(count: int, halfway: threading.Event, resume: threading.Event, *, then_fail: bool) -> Iterator[AssetRecord]:
    """The records of a file, stopping after two write batches until told to go on, then failing if asked to."""
    for n, record in enumerate(records(count)):
        if n == 2 * WRITE_BATCH:
            halfway.set()
            assert resume.wait(60)
            if then_fail:
                raise OSError("the disk holding the file went away")
        yield record


@pytest.mark.parametrize("then_fail", [False, True], ids=["succeeds", "fails"])
def test_an_import_half_written_is_seen_by_nobody(
    then_fail: bool, catalogue: None, wire: SlackWire, slack: MockSlack
) -> None:
    count = 3 * WRITE_BATCH
    halfway, resume = threading.Event(), threading.Event()
    outcome: list[object] = []

    def importing() -> None:
        try:
            outcome.append(assets.import_records(paused(count, halfway, resume, then_fail=then_fail)))
        except OSError as error:
            outcome.append(error)

    worker = threading.Thread(target=importing)
    worker.start()
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
    outcome: list[object] = []
    worker = threading.Thread(
        target=lambda: outcome.append(assets.import_records(paused(count, halfway, resume, then_fail=False))))
    worker.start()
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


def test_the_rows_of_an_import_whose_process_was_killed_are_cleared_by_a_later_import(catalogue: None) -> None:
    started = clock.now() - assets.ABANDONED_AFTER - timedelta(minutes=1)
    with db.transaction() as session:
        session.add(AssetImport(id="killed", started_at=started))
        session.flush()
        session.add(Asset(title="Left by a killed import", type="demo", summary="", url="https://assets.example.com/killed",
                          topics=[], products=[], depth="low", scope="broad", interactivity="presentation",
                          cycle="early", owner_id=SE, status="published", created_at=started, updated_at=started,
                          revision=0, import_id="killed"))
    assert assets.search("killed import").total == 0
    assets.import_records(records(3))
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Asset).where(Asset.import_id == "killed")) == 0
        assert session.get(AssetImport, "killed") is None

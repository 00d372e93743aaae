"""The database hangs (PostgreSQL behind a proxy that holds every byte) or is locked (SQLite, another
writer holding the lock): /healthz says so within a second, every Slack request is answered within
Slack's 3 seconds with a clear message, and what a person is told is true once the database is back.
"""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot import db
from bot.codecs import EngagementForm
from bot.ids import EngagementIds
from models import Engagement, EngagementNote
from models.enums import Stage
from tests.conftest import PG_URL, SE
from tests.engagements_helpers import open_engagement, text_value
from tests.reliability_helpers import HangingProxy
from tests.support.slack import MockSlack
from tests.support.wire import LoopbackServer, SlackWire

SLACK_DEADLINE = 3.0
HEALTH_DEADLINE = 1.0
NOT_SAVED = "did not answer in time, so nothing was changed"

pg_only = pytest.mark.skipif(not PG_URL, reason="a hung network connection applies to PostgreSQL")
sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="SQLite's write lock")


@pytest.fixture
def proxy(database_url: str) -> Iterator[HangingProxy]:
    """The bot's connections to PostgreSQL go through a proxy the test can hold and heal."""
    url = make_url(database_url)
    hanging = HangingProxy(url.host or "127.0.0.1", url.port or 5432).start()
    db.configure(url.set(host="127.0.0.1", port=hanging.port).render_as_string(hide_password=False), db.Limits())
    yield hanging
    hanging.heal()
    db.configure(database_url)
    hanging.stop()


@pytest.fixture
def limited(database_url: str) -> None:
    """The bot's database settings, as `epos serve` applies them (the defaults)."""
    db.configure(database_url, db.Limits())


@pytest.fixture
def write_lock(database_url: str) -> Iterator[sqlite3.Connection]:
    """Another process's transaction holding SQLite's write lock."""
    holder = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield holder
    holder.close()


def health(server: LoopbackServer) -> tuple[int, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(server.url + "/healthz", timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic() - started


def notes(engagement_id: int) -> list[str]:
    with db.reading() as session:
        return list(session.scalars(select(EngagementNote.text).where(EngagementNote.engagement_id == engagement_id)))


def stage_of(engagement_id: int) -> Stage:
    with db.reading() as session:
        return Stage(session.scalar(select(Engagement.stage).where(Engagement.id == engagement_id)))


def note_form(engagement_id: int) -> dict:
    return {"callback_id": EngagementIds.note_modal, "private_metadata": EngagementForm(engagement_id=engagement_id).encode(),
            "blocks": [{"type": "input", "block_id": EngagementIds.note_block,
                        "element": {"type": "plain_text_input", "action_id": EngagementIds.field},
                        "label": {"type": "plain_text", "text": "Note"}}]}


def submit_note(wire: SlackWire, engagement_id: int, text: str) -> tuple[dict, float]:
    values = {EngagementIds.note_block: {EngagementIds.field: text_value(text)}}
    started = time.monotonic()
    response = wire.view_submission(note_form(engagement_id), values, user_id=SE, timeout=15)
    elapsed = time.monotonic() - started
    assert response.status == 200
    return json.loads(response.body or b"{}"), elapsed


# ----- PostgreSQL behind a hung network ----------------------------------------------------------------
@pg_only
def test_healthz_answers_503_within_a_second_while_the_database_hangs(proxy: HangingProxy,
                                                                     server: LoopbackServer) -> None:
    assert health(server)[0] == 200
    proxy.hold()
    for _ in range(3):  # later checks are not held up behind earlier ones
        status, elapsed = health(server)
        assert status == 503
        assert elapsed < HEALTH_DEADLINE
    proxy.heal()
    deadline = time.monotonic() + 15
    while health(server)[0] != 200:
        assert time.monotonic() < deadline, "healthz did not recover after the database did"
        time.sleep(0.2)


@pg_only
def test_a_command_is_answered_in_time_and_told_nothing_was_changed(proxy: HangingProxy, wire: SlackWire,
                                                                    slack: MockSlack) -> None:
    engagement_id = open_engagement("Northbeam Logistics", "2026-11-02", owner=SE)
    proxy.hold()
    started = time.monotonic()
    response = wire.command("/engagement", "northbeam logistics tech qa pricing call went well", user_id=SE)
    assert response.status == 200
    assert time.monotonic() - started < SLACK_DEADLINE
    told = slack.wait_for("response_url", timeout=20)[0].params["text"]
    assert NOT_SAVED in told
    proxy.heal()
    time.sleep(1)  # whatever the proxy held has reached the server
    assert stage_of(engagement_id) == Stage.preparation
    assert notes(engagement_id) == []


@pg_only
def test_a_form_is_answered_in_time_on_the_form_and_nothing_is_saved(proxy: HangingProxy, wire: SlackWire) -> None:
    engagement_id = open_engagement("Northbeam Logistics", "2026-11-02", owner=SE)
    proxy.hold()
    answer, elapsed = submit_note(wire, engagement_id, "Customer asked about SSO")
    assert elapsed < SLACK_DEADLINE
    assert answer["response_action"] == "errors"
    assert NOT_SAVED in answer["errors"][EngagementIds.note_block]
    proxy.heal()
    time.sleep(1)
    assert notes(engagement_id) == []
    # Once the database answers again, the same note is saved.
    answer, _ = submit_note(wire, engagement_id, "Customer asked about SSO, again")
    assert answer.get("response_action") != "errors", answer
    assert notes(engagement_id) == ["Customer asked about SSO, again"]


# ----- SQLite with its write lock held -----------------------------------------------------------------
@sqlite_only
def test_healthz_stays_up_while_another_writer_holds_the_lock(limited: None, write_lock: sqlite3.Connection,
                                                              server: LoopbackServer) -> None:
    status, elapsed = health(server)
    assert status == 200 and elapsed < HEALTH_DEADLINE


@sqlite_only
def test_a_form_waiting_on_the_lock_is_answered_in_time_and_nothing_is_saved(
        database_url: str, limited: None, wire: SlackWire) -> None:
    engagement_id = open_engagement("Northbeam Logistics", "2026-11-02", owner=SE)
    holder = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        answer, elapsed = submit_note(wire, engagement_id, "Customer asked about SSO")
    finally:
        holder.rollback()
        holder.close()
    assert elapsed < SLACK_DEADLINE
    assert answer["response_action"] == "errors"
    assert NOT_SAVED in answer["errors"][EngagementIds.note_block]
    assert notes(engagement_id) == []
    answer, _ = submit_note(wire, engagement_id, "Customer asked about SSO, again")
    assert notes(engagement_id) == ["Customer asked about SSO, again"]


# ----- the limits themselves -----------------------------------------------------------------------------
def test_the_bots_connections_carry_its_limits(limited: None) -> None:
    with db.engine().connect() as connection:
        if PG_URL:
            shown = {name: connection.exec_driver_sql(f"SHOW {name}").scalar()
                     for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")}
            assert shown == {"statement_timeout": "5s", "lock_timeout": "2s",
                             "idle_in_transaction_session_timeout": "5s"}
        else:
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2000

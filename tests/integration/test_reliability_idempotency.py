"""Retries and double clicks on the real listeners change nothing the second time; requests for another
installation are refused and logged."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select

from bot import db
from models import AssetFeedback, AuditEntry, Engagement, EngagementNote, ProcessedDelivery, SearchMiss, StageChange
from tests.assets_helpers import asset_by_title, import_sample
from tests.conftest import SE, SELLER, STRANGER
from tests.reliability_helpers import first_delivery_fails
from tests.engagements_helpers import button, open_engagement
from tests.support.slack import MockSlack
from tests.support.waiting import eventually
from tests.support.locks import slow_claims, writes_locked_out
from tests.support.wire import SlackWire, input_value

HOME_EVENT = {"type": "app_home_opened", "user": SE, "channel": "D0HOME01", "tab": "home", "event_ts": "1700000000.1"}
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


def count(model: type, *where: object) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def together(clicks: list[Callable[[], int]]) -> list[int]:
    """Send the clicks at the same moment, as a double click does, and return their HTTP statuses."""
    barrier = threading.Barrier(len(clicks))
    statuses: list[int] = []

    def run(click: Callable[[], int]) -> None:
        barrier.wait()
        statuses.append(click())

    threads = [threading.Thread(target=run, args=(click,)) for click in clicks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_a_retried_app_home_opened_publishes_the_home_once(database_url: str, wire: SlackWire, slack: MockSlack) -> None:
    first = wire.event(HOME_EVENT, event_id="Ev0HOME001")
    slack.wait_for("views.publish", lambda c: c.params["user_id"] == SE)
    assert eventually(lambda: count(ProcessedDelivery, ProcessedDelivery.key == "event:Ev0HOME001",
                                    ProcessedDelivery.done_at.is_not(None)) == 1)
    retry = wire.event(HOME_EVENT, event_id="Ev0HOME001", headers=RETRY)
    second_retry = wire.event(HOME_EVENT, event_id="Ev0HOME001", headers={**RETRY, "X-Slack-Retry-Num": "2"})
    assert (first.status, retry.status, second_retry.status) == (200, 200, 200)
    # Another person's home, opened after the retries, is published; by then a repeat would have been too.
    assert wire.event({**HOME_EVENT, "user": STRANGER}, event_id="Ev0HOME002").status == 200
    slack.wait_for("views.publish", lambda c: c.params["user_id"] == STRANGER)
    assert [c.params["user_id"] for c in slack.calls_to("views.publish")].count(SE) == 1


def test_an_event_sent_again_while_its_first_delivery_is_handled_is_handled_when_that_one_fails(
    database_url: str, wire: SlackWire, monkeypatch: pytest.MonkeyPatch
) -> None:
    fails = first_delivery_fails(monkeypatch)
    shared = {"type": "channel_shared", "channel": "C0SHARED1", "connected_team_id": "T0OTHER", "event_ts": "1.0"}

    assert wire.event(shared, event_id="Ev0SHARE01").status == 200
    assert fails.running.wait(5)
    # Slack took the first delivery for failed (it answered late) and sends the event again: while the
    # first is still being handled, the answer asks Slack to send it once more, later.
    assert wire.event(shared, event_id="Ev0SHARE01", headers=RETRY).status == 503
    fails.may_fail.set()
    assert eventually(lambda: count(ProcessedDelivery, ProcessedDelivery.key == "event:Ev0SHARE01") == 0)

    later = {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"}
    assert wire.event(shared, event_id="Ev0SHARE01", headers=later).status == 200
    assert eventually(lambda: count(ProcessedDelivery, ProcessedDelivery.key == "event:Ev0SHARE01",
                                    ProcessedDelivery.done_at.is_not(None)) == 1)
    assert fails.handled == ["C0SHARED1"]
    # Handled now: the last retry is answered 200 and changes nothing.
    last = {"X-Slack-Retry-Num": "3", "X-Slack-Retry-Reason": "http_error"}
    assert wire.event(shared, event_id="Ev0SHARE01", headers=last).status == 200
    assert fails.handled == ["C0SHARED1"]


def test_a_double_clicked_undo_takes_the_change_back_once(database_url: str, wire: SlackWire, slack: MockSlack) -> None:
    engagement_id = open_engagement("Northbeam Logistics", "2026-01-05 10:00")
    assert wire.command("/engagement", "northbeam discovery", user_id=SE, response_name="moved").status == 200
    moved = slack.wait_for("response_url", lambda c: c.params["_name"] == "moved")[0].params
    undo = button(moved["blocks"], "engagement_undo")
    changes_before = count(StageChange, StageChange.engagement_id == engagement_id)

    def click(ts: str) -> Callable[[], int]:
        return lambda: wire.block_action(undo["action_id"], user_id=SE, value=undo["value"], action_ts=ts,
                                         response_name=f"undo-{ts}").status

    # Two clicks at once (each its own delivery), then Slack delivering the first one again.
    assert together([click("1700000200.000001"), click("1700000200.000002")]) == [200, 200]
    assert click("1700000200.000001")() == 200
    answers = slack.wait_for("response_url", lambda c: c.params["_name"].startswith("undo-"), count=2)
    texts = sorted(a.params.get("text", "") for a in answers)
    assert any("can't be undone" in t or "already" in t for t in texts), texts
    assert count(StageChange, StageChange.engagement_id == engagement_id) == changes_before + 1
    assert count(AuditEntry, AuditEntry.entity == "engagement", AuditEntry.action == "undo") == 1
    with db.reading() as session:
        assert session.get(Engagement, engagement_id).stage == "preparation"  # type: ignore[union-attr]


def test_a_double_clicked_useful_vote_counts_once(database_url: str, wire: SlackWire, slack: MockSlack) -> None:

    import_sample()
    asset = asset_by_title("Observability in 15 minutes: from alert to root cause")

    def click(ts: str) -> Callable[[], int]:
        return lambda: wire.block_action("asset_useful", user_id=SELLER, value=str(asset.id), action_ts=ts,
                                         response_name=f"vote-{ts}").status

    assert together([click("1700000300.000001"), click("1700000300.000002")]) == [200, 200]
    assert click("1700000300.000002")() == 200
    slack.wait_for("response_url", lambda c: c.params["_name"].startswith("vote-"), count=2)
    assert asset_by_title(asset.title).useful_count == asset.useful_count + 1
    assert count(AssetFeedback, AssetFeedback.asset_id == asset.id, AssetFeedback.user_id == SELLER) == 1


def test_a_retried_slash_command_answers_and_records_the_gap_once(database_url: str, wire: SlackWire,
                                                                    slack: MockSlack) -> None:

    import_sample()
    fields = wire.command_fields("/asset", "quantum blockchain", user_id=SE, response_name="gap")
    first = wire.post_form(fields)
    retry = wire.post_form(fields, headers=RETRY)
    assert (first.status, retry.status) == (200, 200)
    assert first.message and "No assets match" in first.message["text"]
    assert retry.message is None, "the retry was answered a second time"
    # Another search after the retry is recorded; by then a repeat of the first would have been too.
    assert wire.command("/asset", "quantum entanglement", user_id=SE).status == 200
    assert count(SearchMiss, SearchMiss.query == "quantum entanglement") == 1
    assert count(SearchMiss, SearchMiss.query == "quantum blockchain") == 1
    assert [c for c in slack.responses if c.params["_name"] == "gap"] == []


@pytest.mark.parametrize("kind", ["command", "event"])
def test_a_request_for_another_installation_is_refused_and_logged(kind: str, database_url: str, wire: SlackWire,
                                                                  slack: MockSlack,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="handlers.middleware")
    foreign = SlackWire(wire.url, wire.signing_secret, response_url_base=wire.response_url_base, team_id="T0OTHER99")
    if kind == "command":
        response = foreign.command("/engagement", "list", user_id=SE)
    else:
        response = foreign.event(HOME_EVENT, event_id="Ev0FOREIGN")
    assert response.status == 403
    refused = [r for r in caplog.records if "another installation" in r.getMessage()]
    assert refused and "team=T0OTHER99" in refused[0].getMessage()
    assert slack.responses == [] and slack.calls_to("views.publish") == []


# ----- a failed handling is not a handled delivery ---------------------------------------------------
@contextmanager
def database_fails_once(statement_start: str, *, broken: bool = False) -> Iterator[list[str]]:
    """The next statement starting with `statement_start` fails as a locked database does (or, `broken`,
    as one with an internal fault does)."""
    failed: list[str] = []
    engine = db.engine()
    error = engine.dialect.loaded_dbapi.InternalError if broken else engine.dialect.loaded_dbapi.OperationalError
    message = "internal error" if broken else "database is locked"

    def fail_once(_conn, _cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
        if not failed and statement.lstrip().upper().startswith(statement_start.upper()):
            failed.append(statement)
            raise error(message)

    event.listen(engine, "before_cursor_execute", fail_once)
    try:
        yield failed
    finally:
        event.remove(engine, "before_cursor_execute", fail_once)


def note_form(wire: SlackWire, slack: MockSlack, engagement_id: int) -> dict[str, Any]:
    wire.block_action("engagement_add_note", user_id=SE, value=str(engagement_id), response_name="note")
    slack.wait_for("views.open", lambda c: c.params["view"]["callback_id"] == "engagement_note")
    return next(v for v in reversed(list(slack.views.values())) if v["callback_id"] == "engagement_note")


def dms_to(slack: MockSlack, user_id: str) -> list[str]:
    return [str(c.params.get("text") or "") for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == user_id]


def test_a_form_that_failed_is_saved_when_submitted_again_unchanged(database_url: str, wire: SlackWire,
                                                                     slack: MockSlack) -> None:
    engagement_id = open_engagement("Northbeam Logistics", "2026-01-05 10:00")
    view = note_form(wire, slack, engagement_id)
    values = {"engagement_note_text": {"engagement_field": input_value("CFO joins next call")}}

    # A fault, not a slow database (that one is answered on the form: test_reliability_database.py).
    with database_fails_once("INSERT INTO engagement_notes", broken=True) as failed:
        first = wire.view_submission(view, values, user_id=SE)
    assert failed and first.status == 500  # Slack keeps the form open and says it could not connect
    apology = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == SE)[0].params["text"]
    assert "nothing was changed" in apology
    assert count(EngagementNote, EngagementNote.engagement_id == engagement_id) == 0

    # The person presses Submit again on the same form, with the same values.
    again = wire.view_submission(view, values, user_id=SE)
    assert again.status == 200 and not again.body.strip()  # Slack closes the form: it was saved
    told = slack.wait_for("response_url", lambda c: c.params["_name"] == "note")[0].params["text"]
    assert "Note added" in told
    assert count(EngagementNote, EngagementNote.engagement_id == engagement_id) == 1

    # The same submission delivered once more changes nothing and tells nothing new.
    assert wire.view_submission(view, values, user_id=SE).status == 200
    assert count(EngagementNote, EngagementNote.engagement_id == engagement_id) == 1
    assert count(AuditEntry, AuditEntry.entity == "engagement", AuditEntry.action == "note") == 1
    assert len([c for c in slack.responses if c.params.get("_name") == "note"]) == 1
    assert len(dms_to(slack, SE)) == 1


@contextmanager
def statement_held(fragment: str, seconds: float) -> Iterator[threading.Event]:
    """The next statement containing `fragment` waits `seconds` before it runs, as on a database too busy
    to answer; the event is set when it starts waiting."""
    engine, waiting, ran = db.engine(), threading.Event(), threading.Event()

    def hold(_conn, _cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
        if not waiting.is_set() and fragment in " ".join(statement.upper().split()):
            waiting.set()
            time.sleep(seconds)
            ran.set()

    event.listen(engine, "before_cursor_execute", hold)
    try:
        yield waiting
    finally:
        if waiting.is_set():
            ran.wait(seconds + 5)  # removed while it runs, SQLAlchemy's dispatch would fail that statement
        event.remove(engine, "before_cursor_execute", hold)


def test_a_copy_of_a_form_handled_while_the_database_was_slow_changes_nothing(
        database_url: str, wire: SlackWire, slack: MockSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.services import deliveries

    engagement_id = open_engagement("Northbeam Logistics", "2026-01-05 10:00")
    view = note_form(wire, slack, engagement_id)
    values = {"engagement_note_text": {"engagement_field": input_value("CFO joins next call")}}

    # The claim's answer comes after the person's answer was due, but before the form is saved; writing
    # down that it was handled is slow, and Slack sends the same submission again meanwhile.
    claim_now = deliveries._claim_now
    monkeypatch.setattr(deliveries, "_claim_now", lambda *args, **kwargs: time.sleep(1.0) or claim_now(*args, **kwargs))
    monkeypatch.setattr(deliveries, "SETTLE_BY_SECONDS", 6.0)  # lands in time, however loaded the machine
    with statement_held("UPDATE PROCESSED_DELIVERIES SET DONE_AT", 3.0) as recording:
        assert wire.view_submission(view, values, user_id=SE).status == 200
        assert "Note added" in slack.wait_for("response_url", lambda c: c.params["_name"] == "note")[0].params["text"]
        assert recording.wait(10)
        again = wire.view_submission(view, values, user_id=SE)
        assert again.status == 200 and not again.body.strip()  # the form closes: it was saved
        assert count(EngagementNote, EngagementNote.engagement_id == engagement_id) == 1
    monkeypatch.undo()
    assert eventually(lambda: count(ProcessedDelivery, ProcessedDelivery.done_at.is_not(None)) == 1, timeout=30)
    assert count(ProcessedDelivery, ProcessedDelivery.done_at.is_(None)) == 0
    # Once written down, a copy that reaches any process changes nothing either.
    assert wire.view_submission(view, values, user_id=SE).status == 200
    assert count(EngagementNote, EngagementNote.engagement_id == engagement_id) == 1
    assert len([c for c in slack.responses if c.params.get("_name") == "note"]) == 1


def test_a_copy_of_a_saved_form_reaching_a_replica_whose_database_is_slow_changes_nothing(
        database_url: str, wire: SlackWire, slack: MockSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    engagement_id = open_engagement("Northbeam Logistics", "2026-01-05 10:00")
    view = note_form(wire, slack, engagement_id)
    values = {"engagement_note_text": {"engagement_field": input_value("CFO joins next call")}}
    assert wire.view_submission(view, values, user_id=SE).status == 200
    assert eventually(lambda: count(ProcessedDelivery, ProcessedDelivery.done_at.is_not(None)) == 1)

    # Its claim answers after the person's answer was due, so the copy goes ahead unchecked; before it
    # writes, the claim lands and says the form was saved.
    slow_claims(monkeypatch, 1.0, landing=True)
    again = wire.view_submission(view, values, user_id=SE)
    assert again.status == 200 and not again.body.strip()  # the form closes: it was saved
    assert count(EngagementNote, EngagementNote.engagement_id == engagement_id) == 1
    assert count(AuditEntry, AuditEntry.entity == "engagement", AuditEntry.action == "note") == 1
    assert len([c for c in slack.responses if c.params.get("_name") == "note"]) == 1


def test_a_redelivered_command_reaching_a_replica_whose_database_is_slow_changes_nothing(
        database_url: str, wire: SlackWire, slack: MockSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    engagement_id = open_engagement("Northbeam Logistics", "2026-01-05 10:00")
    fields = wire.command_fields("/engagement", "northbeam logistics tech qa pricing call went well",
                                 user_id=SE, response_name="logged")
    assert wire.post_form(fields).status == 200
    assert eventually(lambda: count(ProcessedDelivery, ProcessedDelivery.done_at.is_not(None)) == 1)
    changes = count(StageChange, StageChange.engagement_id == engagement_id)
    notes = count(EngagementNote, EngagementNote.engagement_id == engagement_id)
    assert (changes, notes) != (0, 0)
    answers = len([c for c in slack.responses if c.params["_name"] == "logged"])

    slow_claims(monkeypatch, 1.0, landing=True)
    retry = wire.post_form(fields, headers=RETRY)
    assert retry.status == 200 and retry.message is None, "the redelivery was answered a second time"
    time.sleep(1.5)  # a second change, had there been one, would be written by now
    assert count(StageChange, StageChange.engagement_id == engagement_id) == changes
    assert count(EngagementNote, EngagementNote.engagement_id == engagement_id) == notes
    assert len([c for c in slack.responses if c.params["_name"] == "logged"]) == answers


def test_a_form_whose_claim_the_database_cannot_answer_is_told_nothing_was_saved(
        database_url: str, wire: SlackWire, slack: MockSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    engagement_id = open_engagement("Northbeam Logistics", "2026-01-05 10:00")
    view = note_form(wire, slack, engagement_id)
    values = {"engagement_note_text": {"engagement_field": input_value("CFO joins next call")}}

    # Never knowing whether this form was saved before, epos saves nothing rather than maybe twice.
    landed = slow_claims(monkeypatch, 2.5)
    answer = wire.view_submission(view, values, user_id=SE)
    assert answer.status == 200
    errors = json.loads(answer.body)["errors"]
    assert "nothing was changed" in " ".join(errors.values())
    assert count(EngagementNote, EngagementNote.engagement_id == engagement_id) == 0
    monkeypatch.undo()
    # The late claim, once it lands, is given back: the same values, submitted again, are saved.
    assert landed.wait(10)
    assert eventually(lambda: count(ProcessedDelivery) == 0, timeout=10)
    assert wire.view_submission(view, values, user_id=SE).status == 200
    assert count(EngagementNote, EngagementNote.engagement_id == engagement_id) == 1


def test_a_button_whose_handling_failed_is_handled_when_delivered_again(database_url: str, wire: SlackWire,
                                                                         slack: MockSlack) -> None:

    import_sample()
    asset = asset_by_title("Observability in 15 minutes: from alert to root cause")

    def click() -> int:
        return wire.block_action("asset_useful", user_id=SELLER, value=str(asset.id), action_ts="1700000400.000001",
                                 response_name="vote").status

    with database_fails_once("INSERT INTO asset_feedback") as failed:
        assert click() == 200
        apology = slack.wait_for("response_url", lambda c: c.params["_name"] == "vote")[0].params["text"]
    assert failed and "nothing was changed" in apology
    assert count(AssetFeedback, AssetFeedback.asset_id == asset.id) == 0

    # The very same delivery again (same action_ts): the failed one did not count as handled.
    assert click() == 200
    thanked = slack.wait_for("response_url", lambda c: c.params["_name"] == "vote", count=2)[1].params
    assert "nothing was changed" not in str(thanked)
    assert count(AssetFeedback, AssetFeedback.asset_id == asset.id, AssetFeedback.user_id == SELLER) == 1

    # Once handled, the same delivery changes nothing and says nothing.
    assert click() == 200
    assert count(AssetFeedback, AssetFeedback.asset_id == asset.id, AssetFeedback.user_id == SELLER) == 1
    assert asset_by_title(asset.title).useful_count == asset.useful_count + 1
    assert len([c for c in slack.responses if c.params.get("_name") == "vote"]) == 2


def test_opening_a_card_is_answered_while_another_connection_holds_the_write_lock(
    database_url: str, wire: SlackWire, slack: MockSlack
) -> None:
    engagement_id = open_engagement("Northbeam Logistics", "2026-01-05 10:00")
    with writes_locked_out(database_url, "processed_deliveries"):
        # Slack gives up after 3 seconds; the busy timeout a write would wait out is far longer.
        response = wire.block_action("engagement_show_card", user_id=SE, value=str(engagement_id),
                                     response_name="card", timeout=3)
        assert response.status == 200
        card = slack.wait_for("response_url", lambda c: c.params["_name"] == "card")[0].params
    assert "Northbeam Logistics" in str(card["blocks"])
    assert "something went wrong" not in str(card)


def test_a_form_submitted_again_while_the_first_is_being_saved_stays_open(database_url: str, wire: SlackWire,
                                                                           slack: MockSlack) -> None:
    from bot.services import deliveries
    from handlers.middleware import STILL_SAVING, delivery_key

    engagement_id = open_engagement("Northbeam Logistics", "2026-01-05 10:00")
    view = note_form(wire, slack, engagement_id)
    values = {"engagement_note_text": {"engagement_field": input_value("CFO joins next call")}}
    key = delivery_key({"type": "view_submission",
                        "view": {"id": view.get("id", "V0SUBMIT1"), "hash": view.get("hash", "h1"),
                                 "state": {"values": values}}})
    assert key is not None
    first = deliveries.claim(key)  # the first submission, still being handled elsewhere

    while_saving = wire.view_submission(view, values, user_id=SE)
    assert while_saving.status == 200
    assert while_saving.json == {"response_action": "errors", "errors": {"engagement_note_text": STILL_SAVING}}
    assert count(EngagementNote, EngagementNote.engagement_id == engagement_id) == 0

    first.failed()  # that handling failed and said so: the next press saves the note
    # (given back at once, or, were the test's own claim slow to land, as soon as it lands)
    assert eventually(lambda: count(ProcessedDelivery) == 0)
    assert wire.view_submission(view, values, user_id=SE).status == 200
    assert count(EngagementNote, EngagementNote.engagement_id == engagement_id) == 1

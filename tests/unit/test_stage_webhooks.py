"""Stage webhooks against a receiver on loopback: signed, retried with back-off until it is back, sent once
across replicas, given up after a bounded number of attempts and then told to the admins and the doctor."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot import clock, db, doctor, webhooks
from bot.app import make_client
from bot.cli import main
from bot.config import Settings
from bot.jobs.hooks import send_due_hooks
from bot.services import engagements, hooks, playbooks
from bot.services.engagements import practice
from models import AuditEntry
from models.enums import Outcome, Stage
from tests.conftest import ADMIN, SE
from tests.engagements_helpers import SE_ACTOR, close, move, open_engagement, utc
from tests.support.slack import MockSlack

SECRET = "a-shared-secret-of-the-receiver"
SECRET_ENV = "EPOS_TEST_HOOK_SECRET"
NOW = utc("2026-11-23 09:00")


class Receiver:
    """A webhook receiver on 127.0.0.1 that records each request; `status` is what it answers."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.status = 200
        self.delay = delay
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.requests.append((dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"receiver says no" if receiver.status >= 400 else b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def deliveries(self) -> list[str]:
        with self._lock:
            return [headers[webhooks.DELIVERY_HEADER] for headers, _ in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def with_hook(tmp_path: Path, stage: str, url: str, **hook: Any) -> None:
    data = yaml.safe_load(playbooks.DEFAULT_PLAYBOOKS.read_text())
    data[stage]["webhook"] = {"url": url, "secret_env": SECRET_ENV, **hook}
    path = tmp_path / "playbooks.yaml"
    path.write_text(yaml.safe_dump(data))
    playbooks.configure(path)


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    yield
    playbooks.configure(None)


def run(settings: Settings, at: Any, owner: str = "replica-1") -> int:
    return send_due_hooks(make_client(settings), settings, at, owner=owner, timeout=5.0)


def test_a_stage_change_calls_the_stages_webhook_with_a_signed_body(
        settings: Settings, receiver: Receiver, tmp_path: Path) -> None:
    with_hook(tmp_path, "discovery", receiver.url)
    engagement = open_engagement("Northbeam", "2026-11-23 08:00")
    move(engagement, Stage.discovery, "2026-11-23 08:30")
    assert run(settings, NOW) == 1
    [(headers, body)] = receiver.requests
    assert webhooks.verify(SECRET, headers[webhooks.TIMESTAMP_HEADER], headers[webhooks.SIGNATURE_HEADER], body,
                           now=NOW)
    assert not webhooks.verify("another secret", headers[webhooks.TIMESTAMP_HEADER],
                               headers[webhooks.SIGNATURE_HEADER], body, now=NOW)
    # A replay hours later is refused by the receiver's check of the timestamp.
    assert not webhooks.verify(SECRET, headers[webhooks.TIMESTAMP_HEADER], headers[webhooks.SIGNATURE_HEADER], body,
                               now=NOW + timedelta(hours=1))
    sent = json.loads(body)
    assert sent["delivery_id"] == headers[webhooks.DELIVERY_HEADER]
    assert sent["event"] == "stage.entered" and sent["stage"] == "discovery"
    assert sent["engagement"]["id"] == engagement and sent["engagement"]["account"] == "Northbeam"
    assert sent["change"]["by"] == SE and sent["change"]["from_stage"] == "preparation"
    assert sent["change"]["effective_at"].startswith("2026-11-23T08:30")
    # Leaving discovery calls it again, under its own delivery id; a later tick sends nothing twice.
    close(engagement, Outcome.won, "2026-11-23 09:10")
    assert run(settings, NOW + timedelta(minutes=15)) == 1
    assert run(settings, NOW + timedelta(minutes=30)) == 0
    assert [json.loads(b)["event"] for _, b in receiver.requests] == ["stage.entered", "stage.left"]
    assert len(set(receiver.deliveries())) == 2
    assert [call.status for call in hooks.calls_of(engagement)] == ["delivered", "delivered"]


def test_a_receiver_that_is_down_gets_the_call_once_it_is_back(
        settings: Settings, receiver: Receiver, tmp_path: Path) -> None:
    with_hook(tmp_path, "demo", receiver.url, events=["entered"])
    engagement = open_engagement("Kestrel", "2026-11-23 08:00", stage=Stage.discovery)
    move(engagement, Stage.demo, "2026-11-23 08:30")
    other = open_engagement("Lindqvist", "2026-11-23 08:00", stage=Stage.discovery)
    move(other, Stage.demo, "2026-11-23 08:40")
    receiver.status = 503
    # Once the address has failed, the tick does not try its other call: one failed request per tick.
    assert run(settings, NOW) == 0 and len(receiver.requests) == 1
    [call] = hooks.calls_of(engagement)
    assert call.status == "pending" and call.attempts == 1 and call.last_error.startswith("HTTP 503")
    assert hooks.calls_of(other)[0].attempts == 0
    # Each call backs off on its own: a minute after its first failure, then two more.
    assert run(settings, NOW + timedelta(seconds=30)) == 0 and len(receiver.requests) == 2
    assert run(settings, NOW + timedelta(seconds=50)) == 0 and len(receiver.requests) == 2
    assert run(settings, NOW + timedelta(minutes=1)) == 0 and len(receiver.requests) == 3
    assert run(settings, NOW + timedelta(minutes=2, seconds=30)) == 0 and len(receiver.requests) == 4
    receiver.status = 200
    assert run(settings, NOW + timedelta(minutes=3)) == 1
    [call] = hooks.calls_of(engagement)
    assert call.status == "delivered" and call.attempts == 3 and call.last_error == ""
    assert hooks.calls_of(other)[0].status == "pending"
    assert run(settings, NOW + timedelta(minutes=4, seconds=30)) == 1
    assert hooks.calls_of(other)[0].status == "delivered" and hooks.calls_of(other)[0].attempts == 3
    assert len(receiver.requests) == 6 and len(set(receiver.deliveries())) == 2


def test_two_replicas_ticking_together_send_each_call_once(database_url: str, tmp_path: Path,
                                                          slack: MockSlack) -> None:
    slow = Receiver(delay=0.1)
    try:
        with_hook(tmp_path, "poc", slow.url)
        for number in range(3):
            engagement = open_engagement(f"Account {number}", "2026-11-23 08:00", stage=Stage.demo)
            move(engagement, Stage.poc, "2026-11-23 08:30")
        settings = Settings(_env_file=None, database_url=database_url, slack_api_url=slack.api_url,  # type: ignore[call-arg]
                            slack_bot_token="xoxb-test")
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def replica(name: str) -> None:
            try:
                barrier.wait()
                run(settings, NOW, owner=name)
            except BaseException as error:  # surfaced below
                errors.append(error)

        threads = [threading.Thread(target=replica, args=(f"replica-{n}",)) for n in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(slow.deliveries()) == 3 and len(set(slow.deliveries())) == 3
    finally:
        slow.close()


def test_a_failing_receiver_is_given_up_and_told_to_the_admins_and_the_doctor(
        settings: Settings, slack: MockSlack, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on: every call is refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with_hook(tmp_path, "sizing", f"http://127.0.0.1:{port}/hook")
    engagement = open_engagement("Larkspur", "2026-11-23 08:00", stage=Stage.tech_qa)
    move(engagement, Stage.sizing, "2026-11-23 08:30")
    at = NOW
    for attempt in range(1, hooks.MAX_ATTEMPTS + 1):
        run(settings, at)
        [call] = hooks.calls_of(engagement)
        assert call.attempts == attempt
        at += hooks.pause_after(attempt)
    assert call.status == "gave_up" and "could not connect" in call.last_error
    assert at - NOW > timedelta(hours=3)
    dms = [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == ADMIN]
    assert len(dms) == 1 and "epos gave up on the *Sizing* webhook for *Larkspur*" in json.dumps(dms[0].params)
    # Given up is final: later ticks neither call it nor tell the admins again.
    run(settings, at + timedelta(hours=2))
    assert hooks.calls_of(engagement)[0].attempts == hooks.MAX_ATTEMPTS
    assert len([c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == ADMIN]) == 1
    found = {f.name: f for f in doctor._webhooks(at)}
    assert found["given up"].ok is False and "Larkspur" in found["given up"].detail
    assert found["sizing webhook"].ok is True


def test_practice_engagements_call_no_webhook_and_a_missing_secret_is_named(
        settings: Settings, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_hook(tmp_path, "preparation", receiver.url)
    started = practice.start(SE_ACTOR, now=NOW)
    engagements.change_stage(SE_ACTOR, started.engagement.id, Stage.discovery, now=NOW)
    assert hooks.calls_of(started.engagement.id) == []
    monkeypatch.delenv(SECRET_ENV)
    real = open_engagement("Ostrava", "2026-11-23 08:00")
    run(settings, NOW)
    assert receiver.requests == []
    [call] = hooks.calls_of(real)
    assert call.status == "pending" and SECRET_ENV in call.last_error
    assert {f.name: f for f in doctor._webhooks(NOW)}["preparation webhook"].ok is False


@pytest.mark.parametrize(
    ("stage_entry", "expected"),
    [
        ({"tools": [{"name": "Sizing calculator", "url": "sizing.example.com"}]},
         "field sizing.tools.0.url: 'sizing.example.com' is not a web address"),
        ({"tools": [{"name": "CRM", "url": "https://crm.example.com", "owner": "x"}]}, "field sizing.tools.0.owner"),
        ({"webhook": {"url": "http://hooks.example.com/x", "secret_env": "HOOK"}}, "field sizing.webhook.url"),
        ({"webhook": {"url": "https://hooks.example.com/x"}}, "give the webhook its secret"),
        ({"webhook": {"url": "https://hooks.example.com/x", "secret": "short"}}, "the secret must be 16 to 500"),
        ({"webhook": {"url": "https://hooks.example.com/x", "secret": "x" * 20, "secret_env": "HOOK"}}, "not both"),
        ({"webhook": {"url": "https://hooks.example.com/x", "secret_env": "not a name"}},
         "is not an environment variable name"),
        ({"webhook": {"url": "https://hooks.example.com/x", "secret_env": "HOOK", "events": ["closed"]}},
         "field sizing.webhook.events.0"),
    ],
)
def test_a_bad_tool_or_webhook_is_refused_naming_the_file_and_stage(tmp_path: Path, stage_entry: dict[str, Any],
                                                                   expected: str) -> None:
    data = yaml.safe_load(playbooks.DEFAULT_PLAYBOOKS.read_text())
    data["sizing"].update(stage_entry)
    path = tmp_path / "playbooks.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(playbooks.ConfigError) as refused:
        playbooks.load(path)
    assert str(path) in str(refused.value) and expected in str(refused.value)


def test_the_stages_tools_show_on_its_post_and_on_the_card(database_url: str) -> None:
    from bot.blocks import engagements as blocks

    engagement = open_engagement("Northbeam", "2026-11-23 08:00")
    move(engagement, Stage.sizing, "2026-11-23 08:30")
    post = json.dumps(blocks.playbook_message(engagements.playbook_post(engagement)))
    assert "*Tools for Sizing*" in post
    assert "<https://sizing.example.com|Sizing calculator>: Ingest, retention and tiers" in post
    card = json.dumps(blocks.card_message(engagements.card(engagement)))
    assert "*Tools for Sizing*" in card and "<https://sizing.example.com|Sizing calculator>" in card
    # A closed engagement has no stage to work in, so its card lists no tools.
    close(engagement, Outcome.lost, "2026-11-23 09:00")
    assert "Tools for" not in json.dumps(blocks.card_message(engagements.card(engagement)))


def test_the_readmes_recipe_verifies_a_call_as_epos_signs_it() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    recipe = readme.split("recorded call cannot be replayed. In Python:\n\n```python\n", 1)[1].split("```", 1)[0]
    scope: dict[str, Any] = {}
    exec(recipe, scope)  # noqa: S102 - the README's own example
    body = b'{"event":"stage.entered"}'
    sent = int(time.time())
    headers = {"X-Epos-Timestamp": str(sent), "X-Epos-Signature": webhooks.signature(SECRET, sent, body)}
    assert scope["genuine"](SECRET.encode(), headers, body)
    assert not scope["genuine"](SECRET.encode(), headers, body + b" ")


def test_a_literal_secret_signs_and_a_webhook_removed_from_the_playbooks_is_given_up_at_once(
        settings: Settings, receiver: Receiver, tmp_path: Path) -> None:
    data = yaml.safe_load(playbooks.DEFAULT_PLAYBOOKS.read_text())
    data["demo"]["webhook"] = {"url": receiver.url, "secret": SECRET}
    path = tmp_path / "playbooks.yaml"
    path.write_text(yaml.safe_dump(data))
    playbooks.configure(path)
    assert SECRET not in repr(playbooks.playbook(Stage.demo))
    first = open_engagement("Quillon", "2026-11-23 08:00", stage=Stage.demo)
    assert run(settings, NOW) == 1
    [(headers, body)] = receiver.requests
    assert webhooks.verify(SECRET, headers[webhooks.TIMESTAMP_HEADER], headers[webhooks.SIGNATURE_HEADER], body,
                           now=NOW)
    second = open_engagement("Ravel", "2026-11-23 08:00", stage=Stage.demo)
    playbooks.configure(None)
    run(settings, NOW + timedelta(minutes=1))
    [call] = hooks.calls_of(second)
    assert call.status == "gave_up" and call.attempts == 1 and "no webhook in the playbooks" in call.last_error
    assert len(receiver.requests) == 1 and hooks.calls_of(first)[0].status == "delivered"


def test_a_given_up_call_is_sent_again_when_an_operator_asks_with_its_delivery_id(
        settings: Settings, receiver: Receiver, tmp_path: Path, database_url: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with_hook(tmp_path, "sizing", receiver.url)
    monkeypatch.setenv("EPOS_PLAYBOOKS", str(tmp_path / "playbooks.yaml"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    engagement = open_engagement("Larkspur", "2026-11-23 08:00", stage=Stage.tech_qa)
    move(engagement, Stage.sizing, "2026-11-23 08:30")
    receiver.status = 503
    at = NOW
    for attempt in range(1, hooks.MAX_ATTEMPTS + 1):
        run(settings, at)
        at += hooks.pause_after(attempt)
    [call] = hooks.calls_of(engagement)
    assert call.status == "gave_up"
    clock.set_now(at)

    assert main(["webhooks"]) == 0
    assert call.delivery_id in capsys.readouterr().out
    # One id that names no given-up call refuses the lot, and changes nothing.
    assert main(["webhooks", "send-again", call.delivery_id, "no-such-call"]) == 1
    assert "no-such-call" in capsys.readouterr().err
    assert hooks.calls_of(engagement)[0].status == "gave_up"
    assert main(["webhooks", "send-again"]) == 1  # neither ids nor --all
    capsys.readouterr()

    receiver.status = 200
    assert main(["webhooks", "send-again", call.delivery_id]) == 0
    assert "1 webhook call will be sent again" in capsys.readouterr().out
    assert run(settings, clock.now() + timedelta(minutes=1)) == 1  # the next tick
    [again] = hooks.calls_of(engagement)
    assert again.status == "delivered" and again.attempts == 1
    assert receiver.deliveries()[-1] == call.delivery_id  # the same call, which a receiver can tell
    with db.reading() as session:
        audited = session.execute(select(AuditEntry.entity_id, AuditEntry.action)
                                  .where(AuditEntry.entity == "webhook")).all()
    assert [tuple(row) for row in audited] == [(call.delivery_id, "send_again")]
    assert main(["webhooks", "send-again", "--all"]) == 0
    assert "nothing to send again" in capsys.readouterr().out

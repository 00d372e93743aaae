"""`/metrics` for operators: the Prometheus text format, with counters that move with what epos does."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from bot import db
from bot.app import make_client
from bot.config import Settings
from bot.jobs import MINUTE_JOBS
from bot.scheduler import tick
from tests.conftest import SE, answer_to
from tests.integration.test_serve_process import served  # noqa: F401 - the real `epos serve` fixture
from tests.scheduler_helpers import utc
from tests.support.slack import MockSlack
from tests.support.wire import LoopbackServer, SlackWire


def scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(base + "/metrics", timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        body = response.read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(body) for sample in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_served_metrics_count_every_workers_requests(request: pytest.FixtureRequest, slack: MockSlack) -> None:
    wire, _ = request.getfixturevalue("served")
    base = wire.url.rsplit("/slack/events", 1)[0]
    before = scrape(base)
    # Gunicorn's workers take connections as they come; the counts must be the same whichever answered.
    for _ in range(6):
        answer_to(wire.command("/engagement", "help", user_id=SE), slack)
    unsigned = wire.post(b"{}", content_type="application/json", signature="v0=bad")
    assert unsigned.status == 401
    after = scrape(base)
    assert value(after, "epos_slack_requests_total", kind="command", outcome="acked") - \
        value(before, "epos_slack_requests_total", kind="command", outcome="acked") == 6
    assert value(after, "epos_ack_seconds_count", kind="command") - value(before, "epos_ack_seconds_count", kind="command") == 6
    assert value(after, "epos_slack_requests_total", kind="unverified", outcome="unsigned") - \
        value(before, "epos_slack_requests_total", kind="unverified", outcome="unsigned") == 1
    assert value(after, "epos_ack_seconds_bucket", kind="command", le="3.0") - \
        value(before, "epos_ack_seconds_bucket", kind="command", le="3.0") == 6


def test_slack_calls_retries_jobs_and_database_errors_are_counted(settings: Settings, slack: MockSlack) -> None:
    client = make_client(settings)
    calls = REGISTRY.get_sample_value("epos_slack_api_calls_total", {"method": "users.info", "result": "ok"}) or 0
    slack.add_user("U0COUNT01", name="Counted")
    slack.fail("users.info", retry_after=0)
    client.users_info(user="U0COUNT01")
    assert REGISTRY.get_sample_value("epos_slack_api_calls_total", {"method": "users.info", "result": "ok"}) == calls + 1
    assert (REGISTRY.get_sample_value("epos_slack_api_retries_total", {"reason": "ratelimited"}) or 0) >= 1

    ran = REGISTRY.get_sample_value("epos_scheduled_jobs_total", {"job": "housekeeping", "outcome": "did_something"}) or 0
    quiet = REGISTRY.get_sample_value("epos_scheduled_jobs_total", {"job": "housekeeping", "outcome": "nothing_due"}) or 0
    housekeeping = tuple(job for job in MINUTE_JOBS if job.name == "housekeeping")
    tick(client, settings, utc("2026-11-23 08:00"), jobs=housekeeping)
    tick(client, settings, utc("2026-11-23 08:01"), jobs=housekeeping)
    after_ran = REGISTRY.get_sample_value("epos_scheduled_jobs_total", {"job": "housekeeping", "outcome": "did_something"}) or 0
    after_quiet = REGISTRY.get_sample_value("epos_scheduled_jobs_total", {"job": "housekeeping", "outcome": "nothing_due"}) or 0
    assert (after_ran - ran) + (after_quiet - quiet) == 2

    errors = REGISTRY.get_sample_value("epos_database_errors_total", {"kind": "OperationalError"}) or 0
    errors += REGISTRY.get_sample_value("epos_database_errors_total", {"kind": "UndefinedTable"}) or 0
    with pytest.raises(Exception):
        with db.engine().connect() as connection:
            connection.execute(text("SELECT * FROM no_such_table"))
    later = (REGISTRY.get_sample_value("epos_database_errors_total", {"kind": "OperationalError"}) or 0) + \
        (REGISTRY.get_sample_value("epos_database_errors_total", {"kind": "UndefinedTable"}) or 0)
    assert later == errors + 1


def test_the_loopback_app_serves_metrics_with_searches_timed(server: LoopbackServer, wire: SlackWire, slack: MockSlack) -> None:
    searched = REGISTRY.get_sample_value("epos_search_seconds_count", {"kind": "assets"}) or 0
    answer_to(wire.command("/asset", "demo observability", user_id=SE), slack)
    samples = scrape(server.url)
    assert value(samples, "epos_search_seconds_count", kind="assets") == searched + 1


def test_the_scheduler_serves_metrics_on_metrics_port(database_url: str, slack: MockSlack, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import BOT_TOKEN
    from tests.integration.test_serve_process import free_port

    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "EPOS_", "DATABASE_", "METRICS_"))},
           "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.api_url, "DATABASE_URL": database_url,
           "METRICS_PORT": str(port)}
    process = subprocess.Popen([sys.executable, "-m", "bot", "scheduler"], env=env, cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                samples = scrape(f"http://127.0.0.1:{port}")
                # The first tick runs at start: once it is over, every job has run once.
                if sum(v for (name, _), v in samples.items() if name == "epos_scheduled_jobs_total") >= len(MINUTE_JOBS):
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "the scheduler did not serve its metrics"
            time.sleep(0.3)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

"""What operators scrape: Prometheus counters and histograms of what epos does, in the text format that
prometheus-client writes.

`epos serve` runs several worker processes behind one port, so a scrape must see them all:
prometheus-client's multiprocess mode has every worker write its values to files in one folder, which
any worker then reads to answer `/metrics`. `use_worker_processes()` turns it on before the workers
fork. `epos run` and `epos scheduler` are one process each and serve the same names on METRICS_PORT.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
    values,
)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter("epos_slack_requests", "Slack requests (commands, actions, forms, events), by kind and outcome",
                   ["kind", "outcome"])
ACK_SECONDS = Histogram("epos_ack_seconds", "Time from a Slack request's arrival to its ack", ["kind"],
                        buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0))
SLACK_CALLS = Counter("epos_slack_api_calls", "Web API calls, by method and result (ok, or Slack's error)",
                      ["method", "result"])
SLACK_RETRIES = Counter("epos_slack_api_retries", "Web API calls tried again, by reason", ["reason"])
JOBS = Counter("epos_scheduled_jobs", "Scheduled job runs, by job and outcome", ["job", "outcome"])
SEARCH_SECONDS = Histogram("epos_search_seconds", "Asset search time", ["kind"],
                           buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0))
DATABASE_ERRORS = Counter("epos_database_errors", "Errors the database driver raised, by kind", ["kind"])

OUTCOMES = {200: "acked", 400: "malformed", 401: "unsigned", 403: "refused", 404: "unhandled",
            413: "too_large"}


def request_kind(body: dict[str, Any]) -> str:
    kind = body.get("type")
    if body.get("command"):
        return "command"
    return {"block_actions": "action", "view_submission": "form", "view_closed": "form", "event_callback": "event",
            "shortcut": "shortcut", "message_action": "shortcut", "block_suggestion": "options"}.get(str(kind), "other")


def outcome_of(status: int) -> str:
    return OUTCOMES.get(status, "error" if status >= 500 else f"http_{status}")


def use_worker_processes() -> None:
    """Before gunicorn forks: every worker's values go to one folder, read whole by whichever worker is
    scraped. Values made later (each label set is made when first used) take the multiprocess kind."""
    if not os.environ.get(MULTIPROCESS_DIR):
        os.environ[MULTIPROCESS_DIR] = tempfile.mkdtemp(prefix="epos-metrics-")
    values.ValueClass = values.MultiProcessValue()


def worker_exited(pid: int) -> None:
    if os.environ.get(MULTIPROCESS_DIR):
        multiprocess.mark_process_dead(pid)


def forget_worker_files() -> None:
    folder = os.environ.get(MULTIPROCESS_DIR)
    if folder and os.path.basename(folder).startswith("epos-metrics-"):
        shutil.rmtree(folder, ignore_errors=True)


def exposition() -> tuple[bytes, str]:
    """The current values in the Prometheus text format, and its content type."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def serve_on(port: int | None, host: str = "0.0.0.0") -> None:
    """For one-process modes: `/metrics` on a port of its own (METRICS_PORT), when one is set."""
    if port is None:
        return
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        start_http_server(port, addr=host, registry=registry)
    else:
        start_http_server(port, addr=host)

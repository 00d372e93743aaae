"""Running the bot: `epos run` (Socket Mode), `epos serve` (HTTP mode), `epos db upgrade`."""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING, Any

from bot import db, telemetry
from bot.config import Settings, require
from bot.errors import ConfigError
from bot.logs import configure_logging

if TYPE_CHECKING:
    from bot.scheduler import Scheduler
    from bot.socket_mode import SocketModeRunner

log = logging.getLogger("epos")

# `epos run` stopped on a signal but had to cut work off when STOP_GRACE ran out.
EXIT_CUT_OFF = 1


def secrets_of(settings: Settings) -> list[str]:
    return [s.get_secret_value() for s in (settings.slack_bot_token, settings.slack_app_token, settings.slack_signing_secret) if s]


def prepare(settings: Settings, client: Any | None = None) -> None:
    """What every long-running mode does first: logging, the team's playbooks, a check that the database
    and Slack (through `client`) take its settings, the schema."""
    from bot import startup
    from bot.services import challenges, playbooks

    configure_logging(settings.log_level, secrets_of(settings), settings.log_format)
    # A bad EPOS_PLAYBOOKS file stops epos here, with one line naming the file and the field.
    playbooks.configure(settings.epos_playbooks)
    challenges.configure(settings.epos_challenges)
    startup.check(settings, client)
    db.upgrade(settings.database_url)
    db.configure(settings.database_url, db.Limits.of(settings))
    startup.warn_of_an_open_gate(settings)


def start_background(settings: Settings, client: Any) -> Scheduler | None:
    """Work that runs beside the Slack listener in every mode (the scheduler, the search index)."""
    from bot.scheduler import start_in_process
    from bot.services.assets import warm_index_in_background

    warm_index_in_background()
    return start_in_process(settings, client)


def stop_gracefully(runner: SocketModeRunner, scheduler: Scheduler | None, grace: float) -> int:
    """Stop taking envelopes and ticks, and wait up to `grace` seconds for the work in hand; what is left."""
    started = time.monotonic()
    ticking = None
    if scheduler is not None:
        # No new ticks; a tick in progress finishes (its claims stay consistent), alongside the listeners.
        ticking = threading.Thread(target=scheduler.shutdown, name="epos-scheduler-stop", daemon=True)
        ticking.start()
    unfinished = runner.stop(grace)
    if ticking is not None:
        ticking.join(max(0.0, grace - (time.monotonic() - started)))
        unfinished += ticking.is_alive()
    return unfinished


def stop_on_signals(then: str) -> threading.Event:
    """An event that SIGTERM or Ctrl-C sets, each logged with what happens `then`."""
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s; %s", signal.Signals(signum).name, then)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop


def run_socket_mode(args: argparse.Namespace, settings: Settings) -> int:
    require(settings, "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    from slack_sdk.errors import SlackApiError

    from bot.app import create_app, make_client
    from bot.socket_mode import SocketModeRunner

    client = make_client(settings)
    prepare(settings, client)
    telemetry.serve_on(settings.metrics_port)
    app = create_app(settings, client=client)
    assert settings.slack_app_token is not None
    runner = SocketModeRunner(app, settings.slack_app_token.get_secret_value())
    stop = stop_on_signals("finishing the work in hand, then stopping")
    log.info("epos is connecting to Slack in Socket Mode")
    try:
        runner.connect()
    except SlackApiError as error:
        raise ConfigError(
            f"Slack refused to open a Socket Mode connection ({error.response.get('error')}); check that "
            "SLACK_APP_TOKEN is the app-level token (xapp-…) with connections:write and that Socket Mode is on "
            "(see README › Create the Slack app)"
        ) from None
    scheduler = start_background(settings, app.client)
    log.info("epos is running in Socket Mode; stop it with Ctrl-C or SIGTERM")
    while not stop.wait(timeout=3600):
        pass
    grace = settings.stop_grace.total_seconds()
    unfinished = stop_gracefully(runner, scheduler, grace)
    if unfinished:
        log.warning("STOP_GRACE (%gs) ran out: stopping with unfinished work cut off (%d pending)", grace, unfinished)
        logging.shutdown()
        # The listeners' and the scheduler's threads would otherwise hold the exit until they end.
        os._exit(EXIT_CUT_OFF)
    log.info("epos stopped; all acknowledged work is done")
    return 0


def serve_http(args: argparse.Namespace, settings: Settings) -> int:
    require(settings, "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    from gunicorn import glogging
    from gunicorn.app.base import BaseApplication

    from bot.app import create_app, make_client
    from bot.web import EposWSGI
    from bot.worker_stop import StoppingWorker

    # First: every worker must count into the folder that any of them reads for a scrape.
    telemetry.use_worker_processes()
    # Checked here, before gunicorn forks: a bad token or database is one line, not workers that boot-loop.
    prepare(settings, make_client(settings))

    class EposServerLog(glogging.Logger):  # type: ignore[misc]
        """gunicorn's own lines (workers booting, a worker that died) go through epos's handler: one format
        for the whole log, LOG_FORMAT's, with secrets scrubbed."""

        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            for own in (self.error_log, self.access_log):
                for handler in list(own.handlers):
                    own.removeHandler(handler)
                own.propagate = True

    class EposServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            # gthread, but a request takes a thread only once it has arrived whole (bot/request_buffering.py),
            # and a worker told to stop, or left without its master, is gone within STOP_GRACE (bot/worker_stop.py).
            self.cfg.set("worker_class", StoppingWorker)
            self.cfg.set("threads", args.threads)
            self.cfg.set("timeout", 30)
            # gunicorn takes whole seconds.
            self.cfg.set("graceful_timeout", max(1, math.ceil(settings.stop_grace.total_seconds())))
            self.cfg.set("accesslog", None)
            self.cfg.set("logger_class", EposServerLog)
            self.cfg.set("child_exit", lambda _server, worker: telemetry.worker_exited(worker.pid))
            self.cfg.set("on_exit", lambda _server: telemetry.forget_worker_files())
            # Once the port is bound: the one it took, which `--port 0` leaves to the system to choose.
            self.cfg.set("when_ready", log_address)

        def load(self) -> EposWSGI:
            # Runs in each worker, after the fork: its own connections, its own background work.
            db.configure(settings.database_url, db.Limits.of(settings))
            app = create_app(settings)
            start_background(settings, app.client)
            return EposWSGI(app)

    EposServer().run()
    return 0


def log_address(server: Any) -> None:
    """Log where Slack reaches the server, from the socket it bound (gunicorn's `when_ready`)."""
    for listener in server.LISTENERS:
        host, port = listener.sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in str(host) else host
        log.info("epos serves Slack at http://%s:%s/slack/events", shown, port)


def upgrade_database(args: argparse.Namespace, settings: Settings) -> int:
    db.upgrade(settings.database_url)
    print("database is at the newest schema")
    return 0


def add_commands(commands: Any) -> None:
    run = commands.add_parser(
        "run", help="connect to Slack in Socket Mode (development)",
        description="Connect to Slack in Socket Mode: no public URL needed. Needs SLACK_BOT_TOKEN (xoxb-…) and "
        "SLACK_APP_TOKEN (xapp-…, with connections:write), and DATABASE_URL (default: sqlite:///epos.db, a file in this folder).")
    run.set_defaults(handler=run_socket_mode)

    serve = commands.add_parser(
        "serve", help="serve Slack's HTTP requests under gunicorn (production)",
        description="Serve Slack's requests at http://HOST:PORT/slack/events (and /healthz, /metrics), "
        "usually behind a TLS proxy. Needs SLACK_BOT_TOKEN (xoxb-…) and SLACK_SIGNING_SECRET, and DATABASE_URL (default: sqlite:///epos.db).")
    serve.add_argument("--port", metavar="PORT", type=int, default=3000,
                       help="the port to listen on; 0 picks a free one, which is logged (default: 3000)")
    serve.add_argument("--host", metavar="HOST", default="0.0.0.0",
                       help="the address to listen on; 127.0.0.1 behind a proxy on the same machine "
                            "(default: 0.0.0.0, every interface)")
    # Two processes of four threads: one Python process spends much of its CPU passing the GIL between
    # request and answer threads; split in two, each answer costs about half the CPU and acks stay
    # within 2x a bare Bolt app (docs/performance.md). Each process holds its own search index.
    serve.add_argument("--workers", metavar="N", type=int, default=2,
                       help="processes; each runs the scheduler and holds its own search index (default: 2)")
    serve.add_argument("--threads", metavar="N", type=int, default=4, help="request threads per process (default: 4)")
    serve.set_defaults(handler=serve_http)

    database = commands.add_parser("db", help="database maintenance")
    db_commands = database.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply schema migrations",
                           description="Bring the database at DATABASE_URL to the newest schema.",
                           ).set_defaults(handler=upgrade_database)

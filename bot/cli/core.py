"""Running the bot: `epos run` (Socket Mode), `epos serve` (HTTP mode), `epos db upgrade`."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from bot import db, telemetry
from bot.config import Settings, require
from bot.logs import configure_logging

log = logging.getLogger("epos")


def secrets_of(settings: Settings) -> list[str]:
    return [s.get_secret_value() for s in (settings.slack_bot_token, settings.slack_app_token, settings.slack_signing_secret) if s]


def prepare(settings: Settings, client: Any | None = None) -> None:
    """What every long-running mode does first: logging, the team's playbooks, a check that the database
    and Slack (through `client`) take its settings, the schema."""
    from bot import startup
    from bot.services import playbooks

    configure_logging(settings.log_level, secrets_of(settings), settings.log_format)
    telemetry.serve_on(settings.metrics_port)
    # A bad EPOS_PLAYBOOKS file stops epos here, with one line naming the file and the field.
    playbooks.configure(settings.epos_playbooks)
    startup.check(settings, client)
    db.upgrade(settings.database_url)
    db.configure(settings.database_url, db.Limits.of(settings))


def start_background(settings: Settings, client: Any) -> None:
    """Work that runs beside the Slack listener in every mode (the scheduler, the search index)."""
    from bot.scheduler import start_in_process
    from bot.services.assets import warm_index_in_background

    warm_index_in_background()
    start_in_process(settings, client)


def run_socket_mode(args: argparse.Namespace, settings: Settings) -> int:
    require(settings, "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import create_app, make_client

    client = make_client(settings)
    prepare(settings, client)
    app = create_app(settings, client=client)
    start_background(settings, app.client)
    assert settings.slack_app_token is not None
    log.info("epos is connecting to Slack in Socket Mode")
    SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()
    return 0


def serve_http(args: argparse.Namespace, settings: Settings) -> int:
    require(settings, "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    from gunicorn.app.base import BaseApplication

    from bot.app import create_app, make_client
    from bot.request_buffering import RequestBufferingWorker
    from bot.web import EposWSGI

    # First: every worker must count into the folder that any of them reads for a scrape.
    telemetry.use_worker_processes()
    # Checked here, before gunicorn forks: a bad token or database is one line, not workers that boot-loop.
    prepare(settings, make_client(settings))

    class EposServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            # gthread, but a request takes a thread only once it has arrived whole (bot/request_buffering.py).
            self.cfg.set("worker_class", RequestBufferingWorker)
            self.cfg.set("threads", args.threads)
            self.cfg.set("timeout", 30)
            self.cfg.set("accesslog", None)
            self.cfg.set("child_exit", lambda _server, worker: telemetry.worker_exited(worker.pid))
            self.cfg.set("on_exit", lambda _server: telemetry.forget_worker_files())

        def load(self) -> EposWSGI:
            # Runs in each worker, after the fork: its own connections, its own background work.
            db.configure(settings.database_url, db.Limits.of(settings))
            app = create_app(settings)
            start_background(settings, app.client)
            return EposWSGI(app)

    log.info("epos serves Slack at http://%s:%s/slack/events", args.host, args.port)
    EposServer().run()
    return 0


def upgrade_database(args: argparse.Namespace, settings: Settings) -> int:
    db.upgrade(settings.database_url)
    print("database is at the newest schema")
    return 0


def add_commands(commands: Any) -> None:
    run = commands.add_parser("run", help="connect to Slack in Socket Mode (development)")
    run.set_defaults(handler=run_socket_mode)

    serve = commands.add_parser("serve", help="serve Slack's HTTP requests under gunicorn (production)")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--host", default="0.0.0.0")
    # Two processes of four threads: one Python process spends much of its CPU passing the GIL between
    # request and answer threads; split in two, each answer costs about half the CPU and acks stay
    # within 2x a bare Bolt app (docs/performance.md). Each process holds its own search index.
    serve.add_argument("--workers", type=int, default=2,
                       help="processes (default 2; each runs the scheduler and holds its own search index)")
    serve.add_argument("--threads", type=int, default=4, help="request threads per process (default 4)")
    serve.set_defaults(handler=serve_http)

    database = commands.add_parser("db", help="database maintenance")
    db_commands = database.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply schema migrations").set_defaults(handler=upgrade_database)

"""Shared fixtures: a fresh database per test (SQLite, or PostgreSQL when EPOS_TEST_DATABASE_URL is
set), the mock Slack Web API, and the real App served over signed HTTP on loopback."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.engine import make_url

import models
from bot import clock, db, revocation, slack_people
from bot.app import create_app
from bot.config import Settings, load_settings
from bot.services import assets, deliveries
from bot.web import SLACK_PATH, EposWSGI
from tests.assets_helpers import import_sample
from tests.support.slack import Call, MockSlack
from tests.support.wire import LoopbackServer, SlackWire, WireResponse

SIGNING_SECRET = "test-signing-secret-8f2a"
BOT_TOKEN = "xoxb-test-0000-token"
ADMIN = "U0ADMIN01"
MANAGER = "U0MANAGE1"
SE = "U0A1B2C3D"
SELLER = "U0S1A2B3C"
STRANGER = "U0STRANGE"

PG_URL = os.environ.get("EPOS_TEST_DATABASE_URL", "")


def _create_pg_database(admin_url: str) -> str:
    name = f"epos_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # A test database need not outlive a crash of the server: commits do not wait for the disk.
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrated once per run: a SQLite template file, or a PostgreSQL database of this run's own."""
    if PG_URL:
        url = _create_pg_database(PG_URL)
        db.upgrade(url)
        yield url
        db.configure("sqlite://")  # release pooled connections before the drop
        _drop_pg_database(PG_URL, url)
    else:
        template = tmp_path_factory.mktemp("template") / "epos.db"
        db.upgrade(f"sqlite:///{template}")
        yield str(template)


def _truncate_all() -> None:
    """Empty every table and start its ids at 1 again. Row by row, children first: on tables this small
    that is a few milliseconds, where TRUNCATE costs about 80 (for every test of the run).
    A background thread of the previous test (a Home redrawn after its answer) may still be writing, and
    PostgreSQL may then pick this side of a deadlock to fail: try again."""
    for attempt in range(5):
        try:
            with db.engine().begin() as connection:
                for table in reversed(models.Base.metadata.sorted_tables):
                    connection.execute(table.delete())
                sequences = connection.execute(text("SELECT schemaname || '.' || sequencename FROM pg_sequences"))
                for (sequence,) in sequences.all():
                    connection.execute(text("SELECT setval(:sequence, 1, false)"), {"sequence": sequence})
            return
        except OperationalError as error:
            if "deadlock" not in str(error) or attempt == 4:
                raise


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> Iterator[str]:
    deliveries.reset_here()
    if PG_URL:
        db.configure(migrated_database)
        _truncate_all()
        yield migrated_database
    else:
        path = tmp_path / "epos.db"
        shutil.copy(migrated_database, path)
        url = f"sqlite:///{path}"
        db.configure(url)
        yield url


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    clock.reset()
    yield
    clock.reset()


@pytest.fixture(autouse=True)
def _slack_takes_the_token() -> Iterator[None]:
    """A test that makes Slack reject the token must not leave the next test's process unable to call Slack."""
    revocation.reset()
    slack_people.forget_refusals()
    yield
    revocation.reset()
    slack_people.forget_refusals()


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """A command that sets up logging points it at the stderr of its test, which pytest closes afterwards:
    a later test's log line would then fail to be written and spill a traceback into what it reads."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers, root.level = handlers, level


@pytest.fixture(autouse=True)
def _fresh_asset_index() -> Iterator[None]:
    """The asset search index lives in the process: each test's searches see its own database."""
    assets.reset_index()
    yield
    assets.reset_index()


@pytest.fixture
def catalogue(database_url: str) -> None:
    """The example asset catalogue (examples/assets.yaml), imported as an admin would."""
    import_sample()


@pytest.fixture
def slack() -> Iterator[MockSlack]:
    with MockSlack() as mock:
        for user_id, tz in ((SE, "Europe/Berlin"), (SELLER, "America/New_York"), (ADMIN, "UTC"), (MANAGER, "UTC"), (STRANGER, "UTC")):
            mock.add_user(user_id, tz=tz)
        yield mock


@pytest.fixture
def settings(database_url: str, slack: MockSlack) -> Settings:
    return load_settings(
        _env_file=None,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        database_url=database_url,
        epos_admins=[ADMIN],
        epos_managers=[MANAGER],
        epos_timezone="Europe/Berlin",
        digest_channel="C0DIGEST1",
        devrel_channel="C0DEVREL1",
    )


@pytest.fixture
def server(settings: Settings) -> Iterator[LoopbackServer]:
    app = create_app(settings)
    loopback = LoopbackServer(EposWSGI(app)).start()
    yield loopback
    # What the listeners go on with after their ack ends here, against this test's mock Slack and database:
    # left running, it would log its failures into whichever test comes next.
    app._listener_runner.listener_executor.wait_until_settled(10)
    loopback.stop()


@pytest.fixture
def wire(server: LoopbackServer, slack: MockSlack) -> SlackWire:
    return SlackWire(server.url + SLACK_PATH, SIGNING_SECRET, response_url_base=slack.base_url)


def answer_to(response: WireResponse, slack: MockSlack, name: str = "default") -> Call:
    """What a command showed its caller: the message its ack carried, else the one sent to its response_url."""
    assert response.status == 200
    if response.message:
        return Call("ack", response.message)
    return slack.wait_for("response_url", lambda c: c.params.get("_name") == name)[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, only the tests that use the database under test: through the fixtures, or in a module
    that picks its database itself (it reads the PostgreSQL test URL). The rest (blocks, parsers, `epos try`
    on its own scratch SQLite) run the same code on either database, and the SQLite run has them already."""
    if not PG_URL:
        return
    uses_database = {"database_url", "migrated_database"}
    reads_the_url: dict[Path, bool] = {}

    def kept(item: pytest.Item) -> bool:
        if uses_database & set(getattr(item, "fixturenames", ())):
            return True
        path = Path(str(item.fspath))
        if path not in reads_the_url:
            text = path.read_text(encoding="utf-8")
            reads_the_url[path] = "PG_URL" in text or "EPOS_TEST_DATABASE_URL" in text
        return reads_the_url[path]

    keep = [item for item in items if kept(item)]
    if len(keep) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep

"""Settings and the command line's answer to a bad or missing one."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import timedelta

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from bot.logs import SecretScrubber


def run_epos(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
def clean_env(tmp_path, monkeypatch) -> dict[str, str]:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    import os

    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "EPOS_", "DATABASE_", "DIGEST_", "DEVREL_"))}
    return {**keep, "DATABASE_URL": f"sqlite:///{tmp_path}/epos.db"}


def test_run_without_tokens_names_the_variable_and_exits_2(clean_env: dict[str, str]) -> None:
    result = run_epos("run", env=clean_env)
    assert result.returncode == 2
    assert result.stderr.strip() == "epos: SLACK_BOT_TOKEN is not set; it is needed for this command (see README › Settings)"
    assert "Traceback" not in result.stderr


def test_serve_needs_the_signing_secret(clean_env: dict[str, str]) -> None:
    result = run_epos("serve", "--port", "0", env={**clean_env, "SLACK_BOT_TOKEN": "xoxb-1-2"})
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET is not set" in result.stderr


def test_invalid_setting_is_one_clear_line(clean_env: dict[str, str]) -> None:
    result = run_epos("db", "upgrade", env={**clean_env, "EPOS_ADMINS": "U0ADMIN01,@dana"})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "EPOS_ADMINS: '@dana' is not a Slack user id" in result.stderr


def test_db_upgrade_creates_the_schema(clean_env: dict[str, str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = run_epos("db", "upgrade", env=clean_env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "epos.db").exists()


def test_lists_and_durations_parse_from_text() -> None:
    settings = load_settings(_env_file=None, epos_admins="U0AAA111, U0BBB222", devrel_escalate_after="90m")
    assert settings.epos_admins == ["U0AAA111", "U0BBB222"]
    assert settings.devrel_escalate_after == timedelta(minutes=90)
    with pytest.raises(ConfigError, match="DEVREL_ESCALATE_AFTER"):
        load_settings(_env_file=None, devrel_escalate_after="soon")


def test_postgres_url_gets_the_psycopg_driver() -> None:
    settings = load_settings(_env_file=None, database_url="postgresql://u@h/db")
    assert settings.database_url == "postgresql+psycopg://u@h/db"


def test_tokens_and_secret_are_scrubbed_from_log_lines() -> None:
    scrubber = SecretScrubber(["my-signing-secret"])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s secret %s", ("xoxb-123-abc", "my-signing-secret"), None)
    scrubber.filter(record)
    assert record.getMessage() == "token [token] secret [secret]"


def test_output_cut_short_by_the_reader_is_no_traceback(clean_env: dict[str, str]) -> None:
    upgrade = run_epos("db", "upgrade", env=clean_env)
    assert upgrade.returncode == 0, upgrade.stderr
    # The reader goes away before epos writes a byte, as `| head` does after its first lines.
    export = subprocess.Popen([sys.executable, "-m", "bot", "assets", "export"], env=clean_env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert export.stdout is not None
    export.stdout.close()
    _, errors = export.communicate(timeout=60)
    assert "Traceback" not in errors
    assert export.returncode == 0


def test_database_limits_come_from_the_settings_and_a_bad_one_is_named() -> None:
    from bot.db import Limits

    settings = load_settings(_env_file=None, database_connect_timeout="3", database_statement_timeout="1.5",
                             database_lock_timeout="4", database_pool_timeout="0.5", database_keepalive_idle="60")
    assert Limits.of(settings) == Limits(connect_seconds=3, statement_seconds=1.5, lock_seconds=4.0, pool_seconds=0.5,
                                         keepalive_idle_seconds=60)
    assert Limits.of(load_settings(_env_file=None)) == Limits()
    with pytest.raises(ConfigError, match="DATABASE_CONNECT_TIMEOUT"):
        load_settings(_env_file=None, database_connect_timeout="1")

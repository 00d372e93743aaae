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


def test_run_without_the_bot_token_names_it_and_exits_2(clean_env: dict[str, str]) -> None:
    result = run_epos("run", env={**clean_env, "SLACK_APP_TOKEN": "xapp-1-A0-0000"})
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


# ----- a start that cannot go on: one short block naming the setting and its fix, exit 2 ------------------
def one_line_exit_2(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def bad_token_slack():  # type: ignore[no-untyped-def]
    from tests.support.slack import MockSlack

    with MockSlack() as mock:
        mock.answers["auth.test"] = lambda _params: {"ok": False, "error": "invalid_auth"}
        yield mock


def test_run_without_either_token_names_both(clean_env: dict[str, str]) -> None:
    line = one_line_exit_2(run_epos("run", env=clean_env))
    assert line == ("epos: SLACK_BOT_TOKEN and SLACK_APP_TOKEN are not set; they are needed for this command "
                    "(see README › Settings)")


def test_several_bad_settings_are_listed_at_once(clean_env: dict[str, str]) -> None:
    result = run_epos("stats", env={**clean_env, "EPOS_TIMEZONE": "Mars/Olympus", "NUDGE_COOLDOWN_DAYS": "0"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "epos: 2 settings to fix (see README › Settings):"
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["EPOS_TIMEZONE", "NUDGE_COOLDOWN_DAYS"]


@pytest.mark.parametrize("mode", [["run"], ["serve", "--port", "0"], ["scheduler", "--once"]])
def test_a_rejected_bot_token_stops_every_mode_with_one_line(mode: list[str], clean_env: dict[str, str],
                                                            bad_token_slack) -> None:  # type: ignore[no-untyped-def]
    env = {**clean_env, "SLACK_BOT_TOKEN": "xoxb-revoked-0000", "SLACK_APP_TOKEN": "xapp-1-A0-0000",
           "SLACK_SIGNING_SECRET": "s3cret-signing", "SLACK_API_URL": bad_token_slack.api_url}
    line = one_line_exit_2(run_epos(*mode, env=env))
    assert line.startswith("epos: SLACK_BOT_TOKEN: auth.test failed: the token is not valid; copy the Bot User OAuth Token")
    # serve checked before gunicorn forked: no worker ever started, so no worker asked Slack again.
    assert len(bad_token_slack.calls_to("auth.test")) == 1


def test_slack_out_of_reach_is_one_line(clean_env: dict[str, str]) -> None:
    env = {**clean_env, "SLACK_BOT_TOKEN": "xoxb-1-2-3", "SLACK_APP_TOKEN": "xapp-1-A0-0000",
           "SLACK_API_URL": "http://127.0.0.1:1/api/"}
    line = one_line_exit_2(run_epos("run", env=env))
    assert line.startswith("epos: SLACK_BOT_TOKEN: auth.test failed: Slack could not be reached (")
    assert line.endswith("check SLACK_API_URL (http://127.0.0.1:1/api/) and that this host can reach it")


UNUSABLE_DATABASES = {
    "no such database": "postgresql+psycopg://postgres@127.0.0.1:5432/epos_no_such_database",
    "wrong port": "postgresql+psycopg://postgres@127.0.0.1:1/test",
    "no such user": "postgresql+psycopg://epos_no_such_role:wrong@127.0.0.1:5432/test",
    "unwritable SQLite path": "sqlite:////proc/epos/epos.db",
}


# Every kind of unusable database with one command, and every command with one kind: the line comes from
# where any command first touches the database.
ONE_LINE_CASES = [(url, ["stats"]) for url in UNUSABLE_DATABASES.values()] + [
    (UNUSABLE_DATABASES["no such database"], command)
    for command in (["assets", "import", "examples/assets.yaml"], ["db", "upgrade"], ["roster", "export"])]


@pytest.mark.parametrize(("url", "command"), ONE_LINE_CASES)
def test_an_unusable_database_is_one_line_from_any_command(url: str, command: list[str], clean_env: dict[str, str]) -> None:
    import os

    env = {**clean_env, "DATABASE_URL": url}
    examples = os.path.join(os.path.dirname(__file__), "..", "..")
    result = subprocess.run([sys.executable, "-m", "bot", *command], capture_output=True, text=True, env=env,
                            timeout=60, cwd=examples)
    line = one_line_exit_2(result)
    assert line.startswith("epos: the database could not be used (")
    assert "check DATABASE_URL" in line


@pytest.mark.parametrize("url", UNUSABLE_DATABASES.values(), ids=UNUSABLE_DATABASES.keys())
def test_an_unusable_database_stops_run_with_one_line(url: str, clean_env: dict[str, str]) -> None:
    from tests.support.slack import MockSlack

    with MockSlack() as slack:
        env = {**clean_env, "DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-1-2-3", "SLACK_APP_TOKEN": "xapp-1-A0-0000",
               "SLACK_API_URL": slack.api_url}
        line = one_line_exit_2(run_epos("run", env=env))
    assert line.startswith("epos: DATABASE_URL: ")
    assert "check DATABASE_URL" in line


def test_bolt_does_not_warn_that_the_token_is_unused(settings, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    from bot.app import create_app

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-0000-token")
    with caplog.at_level(logging.WARNING):
        create_app(settings)
    assert not [record for record in caplog.records if "will be unused" in record.getMessage()]


def test_env_example_lists_every_setting_and_loads_as_it_is(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from bot.config import Settings

    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    named = {line.lstrip("# ").split("=", 1)[0] for line in example.splitlines() if "=" in line and
             line.lstrip("# ").split("=", 1)[0].isupper()}
    assert named == {name.upper() for name in Settings.model_fields}
    # Copied to .env unchanged, it is a valid (if empty) configuration.
    (tmp_path / ".env").write_text(example)
    loaded = Settings(_env_file=tmp_path / ".env")  # type: ignore[call-arg]
    assert loaded.slack_bot_token is None and loaded.epos_admins == [] and loaded.database_url == "sqlite:///epos.db"


def test_database_limits_come_from_the_settings_and_a_bad_one_is_named() -> None:
    from bot.db import Limits

    settings = load_settings(_env_file=None, database_connect_timeout="3", database_statement_timeout="1.5",
                             database_lock_timeout="4", database_pool_timeout="0.5", database_keepalive_idle="60")
    assert Limits.of(settings) == Limits(connect_seconds=3, statement_seconds=1.5, lock_seconds=4.0, pool_seconds=0.5,
                                         keepalive_idle_seconds=60)
    assert Limits.of(load_settings(_env_file=None)) == Limits()
    with pytest.raises(ConfigError, match="DATABASE_CONNECT_TIMEOUT"):
        load_settings(_env_file=None, database_connect_timeout="1")

"""`epos doctor` against the mock Slack: a healthy installation passes, and each fault is named with its fix."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from pydantic import SecretStr

from bot import clock, db, doctor
from bot.app import make_client
from bot.cli.doctor import report
from bot.config import Settings
from bot.services import pilots, roster, ticks
from tests.assets_helpers import EXAMPLES, import_sample
from tests.conftest import ADMIN, MANAGER, SE
from tests.engagements_helpers import MANAGER_ACTOR
from tests.support.slack import MockSlack

CHANNEL_NAMES = {"C0DIGEST1": "presales-digest", "C0DEVREL1": "devrel"}


def channel_answer(member_of: set[str]):  # type: ignore[no-untyped-def]
    def answer(params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel"))
        if channel not in CHANNEL_NAMES:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": channel, "name": CHANNEL_NAMES[channel], "is_member": channel in member_of}}
    return answer


@pytest.fixture
def workspace(settings: Settings, slack: MockSlack) -> MockSlack:
    """A workspace with everything epos needs: scopes, channels with the bot in them, people, content, a tick."""
    slack.scopes = list(doctor.BOT_SCOPES)
    slack.unnamed_users_are_members = False
    slack.answers["conversations.info"] = channel_answer(set(CHANNEL_NAMES))
    slack.add_user(ADMIN, name="Ada Admin", tz="Europe/Berlin")
    slack.add_user(MANAGER, name="Maria Manager", tz="Europe/London")
    import_sample()
    roster.import_roster(roster.read_roster_file(EXAMPLES / "roster.yaml"))
    ticks.record("host:1", clock.now())
    return slack


def findings(settings: Settings) -> dict[str, doctor.Finding]:
    return {f"{f.area}/{f.name}": f for f in doctor.examine(settings, make_client(settings))}


def test_a_healthy_installation_passes_and_names_what_it_found(settings: Settings, workspace: MockSlack) -> None:
    found = doctor.examine(settings, make_client(settings))
    assert doctor.healthy(found), report(found)
    text = report(found)
    assert "✗" not in text
    assert "All good: epos has what it needs." in text
    assert "#presales-digest (C0DIGEST1), the bot is a member" in text
    # Names behind the ids an admin gave, with the timezone epos will use for them.
    assert "Ada Admin (U0ADMIN01, Europe/Berlin)" in text and "Maria Manager (U0MANAGE1, Europe/London)" in text
    assert "at the newest" in text and "a test write was accepted and rolled back" in text


def test_a_missing_scope_is_named_with_the_fix(settings: Settings, workspace: MockSlack) -> None:
    workspace.scopes = [scope for scope in doctor.BOT_SCOPES if scope != "files:write"] + ["reactions:read"]
    scopes = findings(settings)["Slack/scopes"]
    assert scopes.ok is False
    assert scopes.detail == "missing files:write"
    assert "reinstall the app" in scopes.fix


def test_scopes_granted_beyond_the_manifest_are_named_as_not_needed(settings: Settings, workspace: MockSlack) -> None:
    workspace.scopes = [*doctor.BOT_SCOPES, "reactions:read"]
    scopes = findings(settings)["Slack/scopes"]
    assert scopes.ok is True
    assert "not needed: reactions:read" in scopes.detail


def test_a_channel_without_the_bot_says_how_to_invite_it(settings: Settings, workspace: MockSlack) -> None:
    workspace.answers["conversations.info"] = channel_answer({"C0DIGEST1"})
    devrel = findings(settings)["Channels/DEVREL_CHANNEL"]
    assert devrel.ok is False
    assert devrel.detail == "#devrel (C0DEVREL1): the bot is not a member"
    assert devrel.fix == "type /invite @epos in #devrel"


def test_a_digest_channel_shared_with_a_customer_is_named(settings: Settings, workspace: MockSlack) -> None:
    workspace.answers.pop("conversations.info")
    workspace.share_channel("C0DIGEST1", "Northbeam Logistics")
    digest = findings(settings)["Channels/DIGEST_CHANNEL"]
    assert digest.ok is False
    assert "is shared with another organisation" in digest.detail
    assert digest.fix == "point DIGEST_CHANNEL at a channel only your organisation is in"


def test_an_unknown_or_deactivated_admin_is_named(settings: Settings, workspace: MockSlack) -> None:
    workspace.add_user("U0GONE001", name="Gone Person")
    workspace.users["U0GONE001"]["deleted"] = True
    settings = settings.model_copy(update={"epos_admins": [ADMIN, "U0NOBODY1", "U0GONE001"]})
    admins = doctor.examine(settings, make_client(settings))
    problem = next(f for f in admins if f.name == "EPOS_ADMINS" and f.ok is False)
    assert problem.detail == "U0NOBODY1: no such person in this workspace; Gone Person (U0GONE001) is deactivated"
    assert not doctor.healthy(admins)


def test_a_bad_token_is_named_and_the_slack_checks_that_need_it_are_left_out(settings: Settings, workspace: MockSlack) -> None:
    workspace.answers["auth.test"] = lambda _params: {"ok": False, "error": "invalid_auth"}
    found = findings(settings)
    assert found["Slack/bot token"].ok is False
    assert found["Slack/bot token"].detail == "auth.test failed: the token is not valid"
    assert "SLACK_BOT_TOKEN" in found["Slack/bot token"].fix
    assert "Channels/DIGEST_CHANNEL" not in found


def test_no_tick_for_an_hour_means_no_scheduler_is_running(settings: Settings, workspace: MockSlack) -> None:
    later = clock.now() + timedelta(hours=1, minutes=5)
    running = next(f for f in doctor.examine(settings, make_client(settings), now=later) if f.name == "running")
    assert running.ok is False
    assert running.detail.startswith("the last tick was 1 hour ago")


def test_a_database_a_migration_behind_is_reported_and_not_upgraded(settings: Settings, workspace: MockSlack, tmp_path: Path) -> None:
    behind = f"sqlite:///{tmp_path}/behind.db"
    command.upgrade(db.alembic_config(behind), "0005_stint_entries")
    found = doctor.examine(settings.model_copy(update={"database_url": behind}), make_client(settings))
    schema = next(f for f in found if f.name == "schema")
    assert schema.ok is False
    assert schema.detail.startswith("at 0005_stint_entries, not at the newest")
    assert "epos db upgrade" in schema.fix
    assert not any(f.area in ("Content", "Scheduler") for f in found), "nothing is read from a schema that is behind"


def test_a_database_that_cannot_be_reached_is_one_line_with_the_fix(settings: Settings, workspace: MockSlack) -> None:
    unreachable = "postgresql+psycopg://epos@127.0.0.1:1/epos?connect_timeout=2"
    found = doctor.examine(settings.model_copy(update={"database_url": unreachable}), make_client(settings))
    reachable = found[0]
    assert (reachable.area, reachable.name, reachable.ok) == ("Database", "reachable", False)
    assert reachable.detail.startswith("PostgreSQL database epos on 127.0.0.1:1: ")
    assert "DATABASE_URL" in reachable.fix


def test_the_command_prints_json_and_exits_1_on_a_problem(settings: Settings, workspace: MockSlack) -> None:
    workspace.answers["conversations.info"] = channel_answer({"C0DIGEST1"})
    env = {
        "PATH": "/usr/bin:/bin", "SLACK_BOT_TOKEN": "xoxb-test-0000-token", "SLACK_SIGNING_SECRET": "s3cret-signing",
        "SLACK_API_URL": workspace.api_url, "DATABASE_URL": settings.database_url, "EPOS_ADMINS": ADMIN,
        "EPOS_MANAGERS": MANAGER, "DIGEST_CHANNEL": "C0DIGEST1", "DEVREL_CHANNEL": "C0DEVREL1",
    }
    result = subprocess.run([sys.executable, "-m", "bot", "doctor", "--json"], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 1, result.stderr
    checks = json.loads(result.stdout)
    assert checks["ok"] is False
    failed = [check for check in checks["checks"] if check["ok"] is False]
    assert [(check["area"], check["name"]) for check in failed] == [("Channels", "DEVREL_CHANNEL")]
    assert "Traceback" not in result.stderr


def test_socket_mode_is_checked_with_the_app_token(settings: Settings, workspace: MockSlack) -> None:
    with_app_token = settings.model_copy(update={"slack_app_token": SecretStr("xapp-1-A0EPOS001-0000")})
    workspace.answers["apps.connections.open"] = lambda _params: {"ok": True, "url": "wss://127.0.0.1:1/link"}
    opened = findings(with_app_token)["Slack/Socket Mode"]
    assert (opened.ok, opened.detail) == (True, "the app token opens a connection (for `epos run`)")
    workspace.answers["apps.connections.open"] = lambda _params: {"ok": False, "error": "invalid_auth"}
    refused = findings(with_app_token)["Slack/Socket Mode"]
    assert refused.ok is False and refused.detail == "apps.connections.open failed: the token is not valid"
    assert "connections:write" in refused.fix and "SLACK_APP_TOKEN" in refused.fix


def test_neither_run_mode_set_up_is_named(settings: Settings, workspace: MockSlack) -> None:
    neither = settings.model_copy(update={"slack_signing_secret": None, "slack_app_token": None})
    mode = findings(neither)["Slack/run mode"]
    assert mode.ok is False and "SLACK_APP_TOKEN" in mode.fix and "SLACK_SIGNING_SECRET" in mode.fix


def test_epos_pilot_only_with_no_pilot_running_is_named_with_the_fix(settings: Settings, workspace: MockSlack) -> None:
    gated = settings.model_copy(update={"epos_pilot_only": True})
    today = clock.now().astimezone(settings.timezone).date()

    found = findings(gated)["Rollout/EPOS_PILOT_ONLY"]
    assert found.ok is False and found.detail == "EPOS_PILOT_ONLY is on, but no pilot runs, so epos answers everyone"
    assert "start a pilot" in found.fix and "unset EPOS_PILOT_ONLY" in found.fix
    assert "fix: start a pilot" in report(doctor.examine(gated, make_client(gated)))

    pilots.create(MANAGER_ACTOR, "Next quarter", today + timedelta(days=7), [SE])
    upcoming = findings(gated)["Rollout/EPOS_PILOT_ONLY"]
    assert upcoming.ok is None and "until the pilot 'Next quarter' starts on" in upcoming.detail

    pilots.create(MANAGER_ACTOR, "Guided path", today - timedelta(days=7), [SE])
    running = findings(gated)["Rollout/EPOS_PILOT_ONLY"]
    assert running.ok is True and "running pilot (Guided path)" in running.detail
    pilots.remove_members(MANAGER_ACTOR, "Guided path", [SE], on=today - timedelta(days=7))
    assert findings(gated)["Rollout/EPOS_PILOT_ONLY"].ok is False
    # Off (the default), there is nothing to say.
    assert "Rollout/EPOS_PILOT_ONLY" not in findings(settings)

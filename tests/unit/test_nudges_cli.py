"""`epos nudges`: who would be nudged and why, and nudging now (still once per SE per day)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot import clock, outbox
from bot.cli import main
from bot.config import Settings
from bot.services import nudges
from bot.services.actors import Actor
from tests.conftest import BOT_TOKEN, SE
from tests.scheduler_helpers import SE2, add_engagement, utc
from tests.support.slack import MockSlack

MONDAY_0700_BERLIN = utc("2026-11-23 06:00")


@pytest.fixture
def cli_env(settings: Settings, slack: MockSlack, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[dict[str, int]]:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    for key, value in {
        "DATABASE_URL": settings.database_url, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.api_url,
        "EPOS_TIMEZONE": "Europe/Berlin",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(clock, "now", lambda: MONDAY_0700_BERLIN)
    monkeypatch.setattr(outbox, "PACER", outbox.Pacer(0))
    slack.add_user(SE, name="Dana Reyes", tz="Europe/Berlin")
    slack.add_user(SE2, name="Sam Okafor", tz="America/New_York")
    deals = {
        "granite": add_engagement("Granite", SE, [("poc", "2026-10-20 10:00")]),
        "ironwood": add_engagement("Ironwood", SE, [("discovery", "2026-11-01 10:00")]),
        "juniper": add_engagement("Juniper", SE2, [("sizing", "2026-10-01 10:00")]),
    }
    nudges.snooze(Actor(user_id=SE), deals["ironwood"], now=MONDAY_0700_BERLIN - timedelta(days=1))
    yield deals


def dms(slack: MockSlack) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if "_fault" not in c.params]


def test_dry_run_lists_who_would_be_nudged_when_and_why(cli_env: dict[str, int], slack: MockSlack,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nudges", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == ("2 SEs have stale engagements; 0 would be nudged now (NUDGE_TIME 09:00 in each "
                                   "SE's timezone, weekdays; cooldown 3 days).")
    assert "Dana Reyes · Europe/Berlin · next nudge Mon 23 Nov 09:00" in out
    assert "  • Granite (Granite opportunity): POC, idle 33 days, limit 21" in out
    assert "  – Ironwood (Ironwood opportunity): Discovery, idle 21 days, limit 10 · snoozed until Sun 29 Nov" in out
    assert "Sam Okafor · America/New_York · next nudge Mon 23 Nov 09:00" in out
    assert dms(slack) == []


def test_dry_run_at_nine_says_due_now(cli_env: dict[str, int], monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(clock, "now", lambda: utc("2026-11-23 08:30"))
    assert main(["nudges", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "1 would be nudged now" in out and "Europe/Berlin · due now" in out


def test_dry_run_with_nothing_stale_names_the_thresholds(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert main(["nudges", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("No stale engagements: nobody would be nudged.")
    assert "POC 21 days" in out and "Discovery 10 days" in out


def test_nudging_now_sends_one_dm_per_se_whatever_the_hour_and_not_twice(
    cli_env: dict[str, int], slack: MockSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["nudges"]) == 0
    assert capsys.readouterr().out.strip() == "nudged 2 SEs: Dana Reyes, Sam Okafor"
    assert sorted(c.params["channel"] for c in dms(slack)) == [SE, SE2]
    assert main(["nudges"]) == 0
    assert "so not nudged: Dana Reyes, Sam Okafor (details: epos nudges --dry-run)" in capsys.readouterr().out
    assert len(dms(slack)) == 2


def test_an_se_already_nudged_today_is_not_nudged_again(cli_env: dict[str, int], slack: MockSlack,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nudges"]) == 0
    add_engagement("Laurel", SE, [("demo", "2026-10-01 10:00")])  # stale, never nudged
    monkeypatch.setattr(clock, "now", lambda: MONDAY_0700_BERLIN + timedelta(hours=2))
    assert main(["nudges"]) == 0
    assert "already nudged today, not sent again: Dana Reyes" in capsys.readouterr().out
    assert [c.params["channel"] for c in dms(slack)].count(SE) == 1


def test_a_failed_dm_is_reported_and_the_rest_are_sent(cli_env: dict[str, int], slack: MockSlack,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    slack.fail("chat.postMessage", error="user_not_found")
    assert main(["nudges"]) == 1
    captured = capsys.readouterr()
    assert "nudged 1 SE: Sam Okafor" in captured.out
    assert "the DM to Dana Reyes failed (user_not_found); the scheduler retries it later today" in captured.err

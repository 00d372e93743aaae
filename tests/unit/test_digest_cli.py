"""`epos digest`: preview, JSON figures, posting now (once per week), and clear answers to bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot import clock, outbox
from bot.cli import main
from bot.config import Settings
from tests.conftest import BOT_TOKEN, SE
from tests.scheduler_helpers import hand_computed_week, utc
from tests.support.slack import MockSlack

WEDNESDAY = utc("2026-11-25 10:00")


@pytest.fixture
def cli_env(settings: Settings, slack: MockSlack, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[None]:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    for key, value in {
        "DATABASE_URL": settings.database_url, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.api_url,
        "EPOS_TIMEZONE": "Europe/Berlin", "DIGEST_CHANNEL": "C0DIGEST1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(clock, "now", lambda: WEDNESDAY)
    monkeypatch.setattr(outbox, "PACER", outbox.Pacer(0))
    hand_computed_week()
    yield


def digest_posts(slack: MockSlack) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == "C0DIGEST1"
            and not c.params.get("thread_ts") and "_fault" not in c.params]


def test_json_prints_every_figure_the_issue_lists(cli_env: None, slack: MockSlack, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--json"]) == 0  # last week by default: 2026-W47
    figures = json.loads(capsys.readouterr().out)
    for key in ("week", "closed", "mttc_days", "mttc_days_trailing_4w", "open_by_stage", "stage_dwell_days_median",
                "stale", "devrel", "esat", "top_assets", "searches_without_results"):
        assert key in figures, key
    assert figures["week"] == "2026-W47"
    assert set(figures["closed"]) >= {"won", "lost", "no_decision"}
    assert set(figures["mttc_days"]) >= {"mean", "median"}
    assert set(figures["stale"][0]) >= {"account", "owner", "stage", "days"}
    assert set(figures["devrel"]) >= {"requests", "accepted", "accept_rate", "median_minutes_to_accept", "unanswered"}
    assert set(figures["esat"]) >= {"mean", "count"}
    assert set(figures["top_assets"][0]) >= {"title", "shares"}
    assert figures["searches_without_results"][0] == {"query": "Kafka sizing", "count": 2}
    assert digest_posts(slack) == []


def test_dry_run_prints_the_digest_and_posts_nothing(cli_env: None, slack: MockSlack,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--week", "2026-W47", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Weekly presales digest · 2026-W47\n")
    assert "This week: mean 33.3 days · median 32.0 days, from 3 closes" in out
    assert "--- thread ---" in out
    assert digest_posts(slack) == []


def test_dry_run_names_people_as_slack_shows_them(cli_env: None, slack: MockSlack,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    slack.add_user(SE, name="Sam Carter")
    assert main(["digest", "--week", "2026-W47", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Sam Carter" in out and SE not in out


def test_posting_now_posts_once_and_says_so_the_second_time(cli_env: None, slack: MockSlack,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--week", "2026-W47"]) == 0
    assert capsys.readouterr().out.strip() == "posted the 2026-W47 digest to C0DIGEST1"
    assert main(["digest", "--week", "2026-W47"]) == 0
    assert "was already posted on Wed 25 Nov 11:00; nothing was sent" in capsys.readouterr().out
    assert len(digest_posts(slack)) == 1


@pytest.mark.parametrize("week", ["2026-47", "W47", "2026-W60", "last"])
def test_a_bad_week_is_one_clear_line_and_exit_2(cli_env: None, week: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--week", week, "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "write it like 2026-W47" in err


def test_a_week_not_over_yet_can_be_previewed_but_not_posted(cli_env: None, slack: MockSlack,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--week", "2026-W48"]) == 1
    assert "2026-W48 is not over yet" in capsys.readouterr().err
    assert main(["digest", "--week", "2026-W48", "--dry-run"]) == 0
    assert main(["digest", "--week", "2026-W50", "--dry-run"]) == 2
    assert "has not started yet" in capsys.readouterr().err
    assert digest_posts(slack) == []


def test_posting_without_a_digest_channel_says_how_to_set_it(cli_env: None, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DIGEST_CHANNEL")
    assert main(["digest"]) == 2
    err = capsys.readouterr().err
    assert "DIGEST_CHANNEL is not set" in err and "--dry-run" in err


def test_a_refused_post_is_reported_and_left_for_the_scheduler(cli_env: None, slack: MockSlack,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    slack.fail("chat.postMessage", error="not_in_channel")
    assert main(["digest", "--week", "2026-W47"]) == 1
    assert "Slack did not take the 2026-W47 digest (not_in_channel)" in capsys.readouterr().err
    assert main(["digest", "--week", "2026-W47"]) == 0
    assert len(digest_posts(slack)) == 1


def test_shared_keys_mean_what_they_mean_in_epos_stats(cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--week", "2026-W47", "--json"]) == 0
    week = json.loads(capsys.readouterr().out)
    assert main(["stats", "--json", "--since", "2026-11-16", "--until", "2026-11-22"]) == 0
    stats = json.loads(capsys.readouterr().out)
    for key in ("closed", "win_rate", "mttc_days", "stage_dwell_days_median", "open_by_stage", "esat"):
        assert week[key] == stats[key], key


def test_posting_into_a_digest_channel_shared_with_another_organisation_is_refused_in_one_line(
    cli_env: None, slack: MockSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    slack.share_channel("C0DIGEST1", "Northbeam Logistics")
    assert main(["digest", "--week", "2026-W47"]) == 2
    err = capsys.readouterr().err
    assert err == ("epos: DIGEST_CHANNEL: C0DIGEST1 is shared with Northbeam Logistics, and epos posts only internal "
                   "content there; set it to a channel only your organisation is in (see README › Settings)\n")
    assert digest_posts(slack) == []

"""`epos try` drives the real App over signed HTTP against the mock Slack: commands, buttons, forms,
personas and the controlled clock, as a person at the terminal sees them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import clock
from bot.tryout.commands import parse_wait
from bot.tryout.session import DEFAULT_START, TrySession
from bot.tryout.timeline import next_boundary, step_for
from tests.support.tryout import run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DUPLICATE_LINK = "https://assets.example.com/demos/observability-alert-to-root-cause"


@pytest.fixture
def session(tmp_path: Path) -> Iterator[TrySession]:
    with TrySession(output_dir=tmp_path / "out", examples_dir=EXAMPLES) as opened:
        opened.open()
        yield opened


def test_start_loads_the_samples_and_sets_the_clock(tmp_path: Path) -> None:
    with TrySession(output_dir=tmp_path / "out", examples_dir=EXAMPLES) as session:
        welcome = "\n".join(session.open())
        assert "Loaded 40 assets, 6 DevRel people, 12 engagements" in welcome
        assert "Friday 13 November 2026, 10:00 (Europe/Berlin)" in welcome
        assert "You are sam (SE), typing in #deals" in welcome
        assert abs((clock.now() - DEFAULT_START).total_seconds()) < 60
    assert (tmp_path / "out" / "epos.log").is_file()


def test_slash_command_answer_is_shown_with_numbered_buttons(session: TrySession) -> None:
    shown = run(session, "/asset demo observability")
    assert "#1 · #deals · only visible to you" in shown
    assert "Observability in 15 minutes: from alert to root cause <https://assets.example.com/demos/" in shown
    assert "[1] Share in channel" in shown
    assert session.screen.get(1) is not None and session.screen.get(1).label == "Share in channel"  # type: ignore[union-attr]


def test_pressing_a_button_sends_block_actions_and_shows_the_channel_post(session: TrySession) -> None:
    run(session, "/asset demo observability")
    shown = run(session, "1")
    assert "· #deals ·" in shown and "only visible to you" not in shown.split("\n")[0]
    assert "Observability in 15 minutes" in shown
    posted = [p for p in session.workspace.posts if p.kind == "channel" and p.channel_id == "C0DEALS01"]
    assert len(posted) == 1


def test_pressing_by_label_and_unknown_buttons(session: TrySession) -> None:
    run(session, "/asset demo observability")
    assert "as useful" in run(session, ":press Useful")
    missing = session.handle("99")
    assert missing.error is not None and "no button 99 on screen" in missing.error
    assert session.handle(":press Frobnicate").error is not None


def test_unknown_commands_and_plain_text_get_a_way_forward(session: TrySession) -> None:
    assert "no /nosuch command" in (session.handle("/nosuch thing").error or "")
    assert ":help" in (session.handle(":frobnicate").error or "")
    assert "slash command" in (session.handle("hello bot").error or "")


def test_a_form_is_filled_and_the_apps_field_errors_come_back_next_to_the_field(session: TrySession) -> None:
    shown = run(session, "/asset add")
    assert "┌ Add an asset" in shown and "Title*: (empty)" in shown and "Owner*: @sam" in shown
    assert session.form_open
    run(session, ":fill Title = Alert to root cause, again")
    run(session, ":fill Type = Demo")
    run(session, ":fill Summary = The same story.")
    run(session, f":fill Link = {DUPLICATE_LINK}")
    step = session.handle(":submit")
    assert step.error is None and step.field_errors
    assert "epos sent the form back" in step.text and "! Link:" in step.text
    assert session.form_open
    run(session, ":fill Link = https://assets.example.com/demos/alert-to-root-cause-again")
    shown = run(session, ":submit")
    assert "(Add an asset sent)" in shown
    assert not session.form_open
    assert "DM from epos" in shown
    assert "new message for ada" in shown


def test_the_slack_client_refuses_an_incomplete_form_before_sending(session: TrySession) -> None:
    run(session, "/asset add")
    calls_before = len(session.slack.calls)  # type: ignore[union-attr]
    step = session.handle(":submit")
    assert step.field_errors and "Slack would not send the form yet" in step.text
    assert "! Title: Please complete this required field." in step.text
    assert len(session.slack.calls) == calls_before  # type: ignore[union-attr]


def test_cancel_closes_the_form_and_commands_wait_until_it_is_closed(session: TrySession) -> None:
    run(session, "/asset add")
    blocked = session.handle("/asset demo")
    assert blocked.error is not None and "form is open" in blocked.error
    assert "(Add an asset closed)" in run(session, ":cancel")
    assert not session.form_open
    assert session.handle(":cancel").error == "no form is open"


def test_personas_switch_and_see_what_they_missed(session: TrySession) -> None:
    run(session, "/asset add")
    for line in (":fill Title = Latency budgets", ":fill Type = Demo", ":fill Summary = x",
                 ":fill Link = https://assets.example.com/demos/latency-budgets"):
        run(session, line)
    run(session, ":submit")
    shown = run(session, ":as ada")
    assert "You are now ada (admin), Ada Novak" in shown
    assert "1 unread:" in shown and "Latency budgets" in shown
    assert session.prompt() == "ada (admin)> "
    assert "Latency budgets" in run(session, ":dm")
    assert "→ ada" in run(session, ":who")
    assert session.handle(":as nobody").error is not None


def test_wait_runs_the_scheduler_and_saves_the_digest_chart(tmp_path: Path) -> None:
    # From early Monday, a few hours take in the digest's slot (the tour waits from Friday to get there).
    monday = DEFAULT_START + timedelta(days=3) - timedelta(hours=2)
    with TrySession(output_dir=tmp_path / "out", examples_dir=EXAMPLES, start=monday) as session:
        session.open()
        shown = run(session, ":wait 3h")
        assert "→ Mon 16 Nov 11:00" in shown
        assert "#presales-digest" in shown and "Weekly presales digest" in shown
        saved = sorted((session.output_dir / "files").glob("*.png"))
        assert saved and saved[0].read_bytes().startswith(b"\x89PNG")
        assert str(saved[0]) in shown
        assert abs((clock.now() - (monday + parse_wait("3h"))).total_seconds()) < 60


def test_channels_list_and_show_posts(session: TrySession) -> None:
    run(session, "/asset demo observability")
    run(session, "1")
    assert "#deals" in run(session, ":channels")
    assert "Observability in 15 minutes" in run(session, ":channel deals")
    assert "has no posts" in run(session, ":channel devrel-lead")
    assert "Slash commands now go to #devrel-lead" in run(session, ":in #devrel-lead")


def test_expect_checks_the_last_output(session: TrySession) -> None:
    run(session, "/asset demo observability")
    assert session.handle(":expect observability IN 15 minutes").error is None
    failed = session.handle(":expect quantum blockchain")
    assert failed.error is not None and "quantum blockchain" in failed.error
    assert session.handle(":expect-not quantum blockchain").error is None


def test_interactive_forms_ask_each_field_and_ask_again_what_came_back(tmp_path: Path) -> None:
    with TrySession(output_dir=tmp_path / "out", examples_dir=EXAMPLES, interactive=True) as session:
        session.open()
        session.handle("/asset add")
        assert session.prompt().startswith("sam · Add an asset › Title*")
        for answer in ("Trace sampling", "dem", "Why tail sampling saves money.", DUPLICATE_LINK):
            assert session.handle(answer).error is None
        assert session.prompt().startswith("sam · Add an asset › Parts")
        assert session.handle("").error is None
        assert session.prompt().startswith("sam · Add an asset › Topics")
        # Enter keeps each remaining field as it is; after the last one the form is sent.
        for _ in range(10):  # the last three: Marketing partner, Verifier, Review every (days)
            session.handle("")
        last = session.handle("")
        assert last.field_errors and "! Link:" in last.text
        assert session.prompt().startswith("sam · Add an asset › Link*")
        # Enter keeps the refused link: it is sent again, and refused again.
        again = session.handle("")
        assert again.field_errors and session.prompt().startswith("sam · Add an asset › Link*")
        done = session.handle("https://assets.example.com/demos/trace-sampling")
        assert "(Add an asset sent)" in done.text
        assert session.prompt() == "sam (SE)> "


def test_wait_durations_and_steps() -> None:
    assert parse_wait("1d12h").total_seconds() == 36 * 3600
    for bad in ("", "3 weeks", "0m", "40d", "2x"):
        with pytest.raises(ValueError):
            parse_wait(bad)
    start = DEFAULT_START.replace(minute=7)
    assert step_for(parse_wait("2h")).total_seconds() == 60 and step_for(parse_wait("3h")).total_seconds() == 900
    assert next_boundary(start, step_for(parse_wait("1d"))) == start.replace(minute=15)
    assert next_boundary(start.replace(minute=15), step_for(parse_wait("1d"))) == start.replace(minute=30)
    assert next_boundary(start, step_for(parse_wait("30m"))) == start.replace(minute=8)


def test_wait_stops_at_stored_timers_between_quarter_hours(session: TrySession) -> None:
    run(session, "/engagement new")
    for line in (":fill Account = Acme Robotics", ":fill Opportunity = Acme - edge", ":fill Seller = sally",
                 ":fill Focus = Observability", ":submit", "/devrel acme", ":fill Meeting date = monday",
                 ":fill Start time = 15:00", ":submit"):
        run(session, line)
    asked_at = clock.now()
    # Nobody answers: the escalation is due two hours later, between two quarter hours.
    shown = run(session, ":wait 3h")
    assert "did not answer your DevRel request" in shown
    [escalated] = [p for p in session.workspace.posts if "did not answer" in p.text]
    assert abs((escalated.at - (asked_at + parse_wait("2h"))).total_seconds()) < 5


def test_unicode_digits_are_not_taken_for_button_or_message_numbers(session: TrySession) -> None:
    run(session, "/asset demo observability")
    assert "slash command" in (session.handle("²").error or "")
    assert "no message ²" in (session.handle(":open ²").error or "")
    assert "no button labelled '²'" in (session.handle(":press ²").error or "")


def test_wait_parser_refuses_anything_odd_with_a_value_error() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    @given(st.text(max_size=12))
    def check(text: str) -> None:
        try:
            parse_wait(text)
        except ValueError:
            pass

    check()
    with pytest.raises(ValueError, match="at most 31 days"):
        parse_wait("99999999999999d")


def test_buttons_keep_their_numbers_when_a_step_shows_more(session: TrySession) -> None:
    results = run(session, "/asset demo observability")
    assert "[7] 👍 Useful" in results  # the second result's
    shared = run(session, "1")  # Share in channel: the channel post's buttons are numbered after the results'
    assert "[20] 👍 Useful" in shared and "[1]" not in shared
    assert "you marked “Cutting observability costs with tiered storage” as useful" in run(session, "7")
    assert "you marked “Observability in 15 minutes: from alert to root cause” as useful" in run(session, "20")


def test_a_button_of_a_message_shown_again_says_where_its_new_number_is(session: TrySession) -> None:
    run(session, "/asset demo observability")
    run(session, ":open 1")  # the results again: their buttons get new numbers
    stale = session.handle("2")
    assert stale.error is not None
    assert stale.error.startswith("button 2 was on an earlier copy of message #1, which has changed since; "
                                  "press one of its new buttons below it (on screen: 20–38)")


def test_a_form_opened_from_a_dm_answers_in_the_dm_and_when_words_mean_the_last_day(session: TrySession) -> None:
    for line in (":home", ":press New engagement", ":fill Account = Acme Robotics", ":fill Opportunity = Acme - edge",
                 ":fill Seller = sally", ":fill Focus = Observability", ":submit", ":press Change stage"):
        run(session, line)
    # 13 November 2026 is a Friday: "friday" in "When" is today, not next week (which is refused as future).
    assert "When: 2026-11-13" in run(session, ":fill When = friday")
    answered = run(session, ":submit")
    assert "· DM with epos · only visible to you ·" in answered and "#U0" not in answered

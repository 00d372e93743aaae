"""The form filler: a modal's inputs answered as text become the state Slack submits; what the Slack
client would refuse is caught, and fields sent back with errors are the ones asked again."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.tryout.answers import choose, parse_day, parse_time
from bot.tryout.fields import REQUIRED, Field, FieldError
from bot.tryout.forms import Form
from bot.tryout.personas import Directory as People
from bot.tryout.viewer import Viewer

BERLIN = ZoneInfo("Europe/Berlin")
# Friday 13 November 2026, 10:00 in Berlin.
NOW = datetime(2026, 11, 13, 9, 0, tzinfo=UTC)


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


STAGES = [option("Preparation", "preparation"), option("Discovery", "discovery"), option("Demo", "demo"),
          option("POC", "poc"), option("Technical Q&A", "tech_qa")]


def field_block(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, **extra: Any) -> dict[str, Any]:
    return {"type": "input", "block_id": block_id, "optional": optional,
            "label": {"type": "plain_text", "text": label}, "element": {"action_id": "value", **element}, **extra}


def modal(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"type": "modal", "id": "V1", "callback_id": "cb", "title": {"type": "plain_text", "text": "Ask DevRel"},
            "submit": {"type": "plain_text", "text": "Send"}, "blocks": list(blocks)}


class FakeDirectory:
    """Personas and channels as `epos try` knows them; external selects answer from a fixed list."""

    def __init__(self, offered: list[dict[str, Any]] | None = None) -> None:
        self.people = People()
        self.offered = offered or []
        self.queries: list[str] = []

    def user_id(self, text: str) -> str | None:
        persona = self.people.persona(text)
        return persona.user_id if persona else None

    def channel_id(self, text: str) -> str | None:
        return self.people.channel_id(text)

    def suggest(self, form: Form, target: Field, query: str) -> list[dict[str, Any]]:
        self.queries.append(query)
        return [o for o in self.offered if query.casefold() in o["text"]["text"].casefold()]


def viewer() -> Viewer:
    people = People()
    return Viewer(user_name=people.user_name, channel_name=people.channel_name, timezone=BERLIN, now=lambda: NOW)


def form_of(*blocks: dict[str, Any]) -> Form:
    return Form(modal(*blocks), viewer())


def test_untouched_fields_submit_their_initial_values_in_slacks_shape() -> None:
    form = form_of(
        field_block("account", "Account", {"type": "plain_text_input", "initial_value": "Acme"}),
        field_block("stage", "Stage", {"type": "static_select", "options": STAGES, "initial_option": STAGES[1]}),
        field_block("day", "Meeting day", {"type": "datepicker", "initial_date": "2026-11-16"}),
        field_block("who", "Seller", {"type": "users_select", "initial_user": "U0S1A2B3C"}),
        field_block("note", "Note", {"type": "plain_text_input", "multiline": True}, optional=True),
    )
    assert form.state_values() == {
        "account": {"value": {"type": "plain_text_input", "value": "Acme"}},
        "stage": {"value": {"type": "static_select", "selected_option": {"text": STAGES[1]["text"], "value": "discovery"}}},
        "day": {"value": {"type": "datepicker", "selected_date": "2026-11-16"}},
        "who": {"value": {"type": "users_select", "selected_user": "U0S1A2B3C"}},
        "note": {"value": {"type": "plain_text_input", "value": None}},
    }
    assert form.shown_values() == {"account": "Acme", "stage": "Discovery", "day": "2026-11-16", "who": "@sally", "note": ""}
    assert form.problems() == {}


def test_enter_keeps_the_initial_value_and_text_replaces_it() -> None:
    form = form_of(field_block("account", "Account", {"type": "plain_text_input", "initial_value": "Acme"}))
    account = form.find("account")
    form.fill(account, "", FakeDirectory())
    assert account.state["value"] == "Acme"
    form.fill(account, "Acme <Corp>", FakeDirectory())
    assert account.state["value"] == "Acme <Corp>"


def test_multiline_answers_take_backslash_n_as_a_new_line() -> None:
    form = form_of(field_block("brief", "What the customer asked", {"type": "plain_text_input", "multiline": True}))
    form.fill(form.fields[0], "Retention?\\nCost per GB?", FakeDirectory())
    assert form.fields[0].state["value"] == "Retention?\nCost per GB?"


@pytest.mark.parametrize("typed", ["3", "demo", "Demo", "dem", "DEMO"])
def test_static_select_by_number_text_value_or_unique_start(typed: str) -> None:
    form = form_of(field_block("stage", "Stage", {"type": "static_select", "options": STAGES}))
    form.fill(form.fields[0], typed, FakeDirectory())
    assert form.fields[0].state["selected_option"]["value"] == "demo"


def test_static_select_refuses_unknown_and_ambiguous_answers_with_the_choices() -> None:
    form = form_of(field_block("stage", "Stage", {"type": "static_select", "options": STAGES}))
    with pytest.raises(FieldError, match="not an option; choose one of 1\\) Preparation"):
        form.fill(form.fields[0], "closing", FakeDirectory())
    with pytest.raises(FieldError, match="matches several options"):
        form.fill(form.fields[0], "p", FakeDirectory())
    assert form.fields[0].state["selected_option"] is None


def test_option_groups_multi_select_and_checkboxes() -> None:
    grouped = {"type": "multi_static_select", "option_groups": [
        {"label": {"type": "plain_text", "text": "Early"}, "options": STAGES[:2]},
        {"label": {"type": "plain_text", "text": "Later"}, "options": STAGES[2:]},
    ], "max_selected_items": 2}
    form = form_of(field_block("stages", "Stages", grouped),
                   field_block("extras", "Extras", {"type": "checkboxes", "options": STAGES[3:]}, optional=True))
    form.fill(form.fields[0], "1, poc", FakeDirectory())
    assert [o["value"] for o in form.fields[0].state["selected_options"]] == ["preparation", "poc"]
    with pytest.raises(FieldError, match="at most 2"):
        form.fill(form.fields[0], "1,2,3", FakeDirectory())
    form.fill(form.fields[1], "Technical", FakeDirectory())
    assert form.fields[1].state == {"type": "checkboxes", "selected_options": [{"text": STAGES[4]["text"], "value": "tech_qa"}]}


def test_people_and_channels_by_persona_name_or_channel_name() -> None:
    form = form_of(
        field_block("seller", "Seller", {"type": "users_select"}),
        field_block("team", "Also invite", {"type": "multi_users_select"}, optional=True),
        field_block("where", "Deal channel", {"type": "channels_select"}, optional=True),
    )
    directory = FakeDirectory()
    form.fill(form.fields[0], "sally", directory)
    form.fill(form.fields[1], "@lena, Marcus Reed", directory)
    form.fill(form.fields[2], "#deals", directory)
    assert form.fields[0].state["selected_user"] == "U0S1A2B3C"
    assert form.fields[1].state["selected_users"] == ["U0DR1A2B3", "U0DR4C5D6"]
    assert form.fields[2].state["selected_channel"] == "C0DEALS01"
    with pytest.raises(FieldError, match="not a persona"):
        form.fill(form.fields[0], "nobody", directory)


def test_dates_and_times_in_the_viewers_zone() -> None:
    form = form_of(
        field_block("day", "Day", {"type": "datepicker"}),
        field_block("at", "Time", {"type": "timepicker"}),
        field_block("when", "When", {"type": "datetimepicker"}, optional=True),
    )
    directory = FakeDirectory()
    form.fill(form.fields[0], "monday", directory)
    form.fill(form.fields[1], "9:05", directory)
    form.fill(form.fields[2], "2026-11-16 15:00", directory)
    assert form.fields[0].state["selected_date"] == "2026-11-16"
    assert form.fields[1].state["selected_time"] == "09:05"
    assert form.fields[2].state["selected_date_time"] == int(datetime(2026, 11, 16, 14, 0, tzinfo=UTC).timestamp())
    with pytest.raises(FieldError, match="YYYY-MM-DD"):
        form.fill(form.fields[0], "16/11/2026", directory)
    with pytest.raises(FieldError, match="HH:MM"):
        form.fill(form.fields[1], "25:00", directory)


def test_relative_days_count_from_the_viewers_today() -> None:
    assert parse_day("today", viewer()) == date(2026, 11, 13)
    assert parse_day("tomorrow", viewer()) == date(2026, 11, 14)
    assert parse_day("+3d", viewer()) == date(2026, 11, 16)
    assert parse_day("friday", viewer()) == date(2026, 11, 20)


def test_weekday_names_in_a_field_for_when_something_happened_mean_the_last_one() -> None:
    # 13 November 2026 is a Friday.
    assert parse_day("friday", viewer(), past=True) == date(2026, 11, 13)
    assert parse_day("wednesday", viewer(), past=True) == date(2026, 11, 11)
    assert parse_day("saturday", viewer(), past=True) == date(2026, 11, 7)
    assert parse_day("yesterday", viewer()) == date(2026, 11, 12)
    assert parse_day("-3d", viewer()) == date(2026, 11, 10)


def test_the_client_checks_slack_makes_before_sending() -> None:
    form = form_of(
        field_block("account", "Account", {"type": "plain_text_input", "min_length": 2, "max_length": 10}),
        field_block("count", "Attendees", {"type": "number_input", "is_decimal_allowed": False, "min_value": "1"}),
        field_block("mail", "E-mail", {"type": "email_text_input"}, optional=True),
        field_block("link", "Meeting link", {"type": "url_text_input"}, optional=True),
    )
    directory = FakeDirectory()
    assert form.problems() == {"account": REQUIRED, "count": REQUIRED}
    form.fill(form.fields[0], "A", directory)
    form.fill(form.fields[1], "2.5", directory)
    form.fill(form.fields[2], "not-an-address", directory)
    form.fill(form.fields[3], "meet.example/x", directory)
    assert set(form.problems()) == {"account", "count", "mail", "link"}
    form.fill(form.fields[0], "Acme", directory)
    form.fill(form.fields[1], "3", directory)
    form.fill(form.fields[2], "sam@example.com", directory)
    form.fill(form.fields[3], "https://meet.example/x", directory)
    assert form.problems() == {}


def test_fields_sent_back_with_errors_are_the_ones_asked_again() -> None:
    form = form_of(
        field_block("account", "Account", {"type": "plain_text_input"}),
        field_block("stage", "Stage", {"type": "static_select", "options": STAGES}),
        field_block("note", "Note", {"type": "plain_text_input"}, optional=True),
    )
    assert [f.block_id for f in form.needing_answers()] == ["account", "stage", "note"]
    form.errors = {"stage": "Pick a stage after Preparation"}
    assert [f.block_id for f in form.needing_answers()] == ["stage"]
    form.fill(form.fields[1], "demo", FakeDirectory())
    assert form.errors == {}


def test_an_updated_view_keeps_what_was_typed_into_surviving_blocks() -> None:
    first = form_of(field_block("account", "Account", {"type": "plain_text_input"}),
                    field_block("stage", "Stage", {"type": "static_select", "options": STAGES}))
    first.fill(first.fields[0], "Acme", FakeDirectory())
    updated = modal(field_block("account", "Account", {"type": "plain_text_input"}),
                    field_block("reason", "Reason", {"type": "plain_text_input"}))
    second = Form(updated, viewer(), previous=first)
    assert second.shown_values() == {"account": "Acme", "reason": ""}


def test_fields_are_found_by_label_start_block_id_or_action_id() -> None:
    form = form_of(field_block("meeting_start", "Meeting day", {"type": "datepicker"}),
                   field_block("meeting_time", "Meeting time", {"type": "timepicker"}))
    assert form.find("meeting day").block_id == "meeting_start"
    assert form.find("meeting_time").block_id == "meeting_time"
    with pytest.raises(FieldError, match="could mean Meeting day, Meeting time"):
        form.find("meeting")
    with pytest.raises(FieldError, match="has no field 'budget'; its fields: Meeting day, Meeting time"):
        form.find("budget")


def test_external_select_asks_the_app_and_takes_the_only_or_exact_match() -> None:
    offered = [option("Polaris Telecom · POC", "7"), option("Polaris Shipping · Demo", "9"), option("Acme · Discovery", "3")]
    directory = FakeDirectory(offered)
    form = form_of(field_block("engagement", "Engagement", {"type": "external_select"}))
    target = form.fields[0]
    form.fill(target, "acme", directory)
    assert target.state["selected_option"]["value"] == "3"
    with pytest.raises(FieldError, match="1\\) Polaris Telecom · POC  2\\) Polaris Shipping · Demo"):
        form.fill(target, "polaris", directory)
    form.fill(target, "2", directory)
    assert target.state["selected_option"]["value"] == "9"
    assert directory.queries == ["acme", "polaris"]


def test_choose_in_a_message_select_gives_the_action_state() -> None:
    element = {"type": "static_select", "action_id": "stage", "options": STAGES}
    assert choose(element, "b1", "poc", viewer(), FakeDirectory()) == {
        "selected_option": {"text": STAGES[3]["text"], "value": "poc"}}
    overflow = {"type": "overflow", "action_id": "more", "options": [option("Snooze 7 days", "snooze")]}
    assert choose(overflow, "b1", "1", viewer(), FakeDirectory())["selected_option"]["value"] == "snooze"
    assert choose({"type": "datepicker", "action_id": "d"}, "b", "tomorrow", viewer(), FakeDirectory()) == {
        "selected_date": "2026-11-14"}


@given(st.integers(min_value=0, max_value=23), st.integers(min_value=0, max_value=59))
def test_any_valid_time_round_trips(hour: int, minute: int) -> None:
    assert parse_time(f"{hour}:{minute:02d}").strftime("%H:%M") == f"{hour:02d}:{minute:02d}"


@given(st.text(max_size=12))
def test_time_parser_never_raises_anything_but_a_field_error(text: str) -> None:
    try:
        parse_time(text)
    except FieldError:
        pass


def test_a_conversations_select_offers_dms_only_when_its_filter_lets_it() -> None:
    channels_only = {"type": "conversations_select", "filter": {"include": ["public", "private"]}}
    anything = {"type": "conversations_select"}
    form = form_of(field_block("where", "Deal channel", channels_only), field_block("who", "Send to", anything))
    with pytest.raises(FieldError, match="not a channel"):
        form.fill(form.fields[0], "sally", FakeDirectory())
    form.fill(form.fields[1], "sally", FakeDirectory())
    assert form.fields[1].state["selected_conversation"] == "U0S1A2B3C"


@given(st.text(max_size=16))
def test_day_parser_and_option_picker_never_raise_anything_but_a_field_error(text: str) -> None:
    for attempt in (lambda: parse_day(text, viewer()), lambda: choose(
            {"type": "static_select", "action_id": "s", "options": STAGES}, "b", text, viewer(), FakeDirectory())):
        try:
            attempt()
        except FieldError:
            pass


def test_far_away_days_are_refused_plainly() -> None:
    with pytest.raises(FieldError):
        parse_day("+99999999999d", viewer())

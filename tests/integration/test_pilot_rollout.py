"""Rollout (EPOS_PILOT_ONLY): while a pilot runs, epos answers its members, the sellers on their deals,
DevRel, managers, admins and readers; everyone else gets a short note. With no pilot running everyone is
answered, and whoever runs epos is told so. Over signed HTTP against the mock Slack."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date

import pytest

from bot import clock, startup
from bot.blocks import pilots as pilot_blocks
from bot.cli.core import prepare
from bot.config import Settings
from bot.services import assets, people, pilots, roster
from tests.support.slack import MockSlack
from tests.support.wire import SlackWire
from tests.assets_helpers import import_sample
from tests.conftest import MANAGER, SE, SELLER, STRANGER, answer_to
from tests.devrel_helpers import LENA, ROSTER
from tests.engagements_helpers import MANAGER_ACTOR, open_engagement, utc

OTHER_SE = "U0OTHERSE"
OTHER_SELLER = "U0OTHSELL"
READER = "U0READER1"
GROUP_READER = "U0GREADER"
READER_GROUP = "S0READERS"
NOTE = pilot_blocks.rollout_note([MANAGER])
FOUND = "Observability in 15 minutes"


@pytest.fixture
def slack(slack: MockSlack) -> MockSlack:
    slack.add_user(OTHER_SE, name="Olga Other")
    slack.add_user(OTHER_SELLER, name="Sam Seller")
    slack.add_user(READER, name="Rita Reader")
    slack.add_user(GROUP_READER, name="Greg Groupie")
    slack.add_user(LENA, name="Lena Hoffmann")
    slack.add_user_group(READER_GROUP, [GROUP_READER])
    return slack


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"epos_pilot_only": True, "epos_readers": [READER, READER_GROUP]})


@pytest.fixture(autouse=True)
def _fresh_groups() -> Iterator[None]:
    people.forget_groups()
    yield
    people.forget_groups()


@pytest.fixture
def pilot(database_url: str) -> None:
    clock.set_now(utc("2026-01-20 09:00"))
    assets.reset_index()
    import_sample()
    open_engagement("Northbeam Logistics", "2026-01-05 10:00")
    open_engagement("Bluefin Retail", "2026-01-06 10:00", owner=OTHER_SE, seller=OTHER_SELLER)
    roster.import_roster(ROSTER)
    pilots.create(MANAGER_ACTOR, "Guided path", date(2026, 1, 1), [SE])


def test_someone_outside_the_pilot_gets_the_note_and_whom_to_ask(pilot: None, wire: SlackWire,
                                                                 slack: MockSlack) -> None:
    for user_id in (STRANGER, OTHER_SE, OTHER_SELLER):
        response = wire.command("/asset", "demo observability", user_id=user_id)
        assert response.message == {"response_type": "ephemeral", "text": NOTE}, user_id
    assert f"<@{MANAGER}>" in NOTE and "pilot" in NOTE
    wire.event({"type": "app_home_opened", "user": STRANGER, "tab": "home", "channel": "D0HOME01"})
    assert slack.wait_for("views.publish")[0].params["view"]["blocks"][0]["text"]["text"] == NOTE


def test_a_member_the_seller_on_their_deal_and_a_manager_are_answered(pilot: None, wire: SlackWire,
                                                                      slack: MockSlack) -> None:
    for user_id in (SE, SELLER, MANAGER):
        answer = answer_to(wire.command("/asset", "demo observability", user_id=user_id, response_name=user_id),
                           slack, user_id)
        assert FOUND in str(answer.params), user_id


def test_once_the_pilot_has_ended_everyone_is_answered(pilot: None, wire: SlackWire, slack: MockSlack) -> None:
    pilots.end(MANAGER_ACTOR, "Guided path", date(2026, 1, 19))

    answer = answer_to(wire.command("/asset", "demo observability", user_id=STRANGER), slack)

    assert FOUND in str(answer.params)


def test_devrel_on_the_roster_and_readers_are_answered(pilot: None, wire: SlackWire, slack: MockSlack) -> None:
    # EPOS_READERS names people who may read every engagement, the pilot's too: the pilot keeps them in.
    for user_id in (LENA, READER, GROUP_READER):
        answer = answer_to(wire.command("/asset", "demo observability", user_id=user_id, response_name=user_id),
                           slack, user_id)
        assert FOUND in str(answer.params), user_id
    response = wire.command("/engagement", "Northbeam Logistics", user_id=GROUP_READER, response_name="card")
    assert "Northbeam Logistics" in str(answer_to(response, slack, "card").params)


def test_with_no_pilot_running_everyone_is_answered_and_the_operator_is_told(
        database_url: str, settings: Settings, wire: SlackWire, slack: MockSlack,
        caplog: pytest.LogCaptureFixture) -> None:
    clock.set_now(utc("2026-01-20 09:00"))
    assets.reset_index()
    import_sample()

    with caplog.at_level(logging.WARNING):
        startup.warn_of_an_open_gate(settings)
    assert "EPOS_PILOT_ONLY is on, but no pilot runs, so epos answers everyone" in caplog.text
    assert "start a pilot" in caplog.text
    assert FOUND in str(answer_to(wire.command("/asset", "demo observability", user_id=STRANGER), slack).params)

    # A pilot that starts next week keeps nobody out yet, and the start-up says until when.
    pilots.create(MANAGER_ACTOR, "Guided path", date(2026, 1, 26), [SE])
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        startup.warn_of_an_open_gate(settings)
    assert "no pilot runs today, so epos answers everyone until the pilot 'Guided path' starts on 26 Jan 2026" \
        in caplog.text


def test_the_log_says_when_the_pilot_ends_and_everyone_is_answered(pilot: None, wire: SlackWire, slack: MockSlack,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    assert wire.command("/asset", "demo observability", user_id=STRANGER).message["text"] == NOTE
    pilots.end(MANAGER_ACTOR, "Guided path", date(2026, 1, 19))

    with caplog.at_level(logging.WARNING):
        answer = answer_to(wire.command("/asset", "demo observability", user_id=STRANGER), slack)

    assert FOUND in str(answer.params)
    assert "EPOS_PILOT_ONLY is on, but no pilot runs, so epos answers everyone" in caplog.text


def test_the_start_up_of_epos_run_and_serve_warns_of_it(database_url: str, settings: Settings,
                                                       capfd: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        prepare(settings)  # what `epos run` and `epos serve` do first (no client: Slack is not asked)
    finally:
        root.handlers, _ = handlers, root.setLevel(level)

    assert "EPOS_PILOT_ONLY is on, but no pilot runs, so epos answers everyone; start a pilot" in capfd.readouterr().err


def test_a_manager_is_told_who_the_pilot_keeps_out_instead_of_inviting_them_to_practise(
        pilot: None, wire: SlackWire, slack: MockSlack) -> None:
    form = {"id": "V0INVITE1", "type": "modal", "callback_id": "home_invite_modal", "hash": "h1",
            "blocks": [{"type": "input", "block_id": "home_invite_who"}]}
    picked = {"home_invite_who": {"home_invite_field": {"type": "multi_users_select",
                                                        "selected_users": [SE, STRANGER]}}}
    assert wire.view_submission(form, picked, user_id=MANAGER).status == 200

    told = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == MANAGER)[0].params["text"]
    assert told == (f"epos invited <@{SE}> to practise. <@{STRANGER}> is outside the running pilot, so epos does "
                    "not answer them yet and sent them nothing: add them to the pilot with *Manage pilot* on your "
                    "epos Home, then invite them again.")
    assert [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == STRANGER] == []
    assert [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == SE]

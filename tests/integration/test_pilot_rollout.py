"""Rollout (EPOS_PILOT_ONLY): while a pilot runs, epos answers its members, the sellers on their deals,
DevRel, managers and admins; everyone else gets a short note. Over signed HTTP against the mock Slack."""

from __future__ import annotations

from datetime import date

import pytest

from bot import clock
from bot.blocks import pilots as pilot_blocks
from bot.config import Settings
from bot.services import assets, pilots
from tests.support.slack import MockSlack
from tests.support.wire import SlackWire
from tests.assets_helpers import import_sample
from tests.conftest import MANAGER, SE, SELLER, STRANGER, answer_to
from tests.engagements_helpers import MANAGER_ACTOR, open_engagement, utc

OTHER_SE = "U0OTHERSE"
OTHER_SELLER = "U0OTHSELL"
NOTE = pilot_blocks.rollout_note([MANAGER])
FOUND = "Observability in 15 minutes"


@pytest.fixture
def slack(slack: MockSlack) -> MockSlack:
    slack.add_user(OTHER_SE, name="Olga Other")
    slack.add_user(OTHER_SELLER, name="Sam Seller")
    return slack


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"epos_pilot_only": True})


@pytest.fixture
def pilot(database_url: str) -> None:
    clock.set_now(utc("2026-01-20 09:00"))
    assets.reset_index()
    import_sample()
    open_engagement("Northbeam Logistics", "2026-01-05 10:00")
    open_engagement("Bluefin Retail", "2026-01-06 10:00", owner=OTHER_SE, seller=OTHER_SELLER)
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

"""A manager starts and changes a pilot from the App Home, over signed HTTP against the mock Slack."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot import clock, db
from bot.app import make_client
from bot.config import Settings
from bot.ids import PilotIds
from bot.notify import home as homes
from bot.services import pilots
from tests.support.slack import MockSlack
from tests.support.wire import SlackWire
from models import AuditEntry
from tests.support.text import all_text
from tests.conftest import MANAGER, SE, STRANGER
from tests.engagements_helpers import MANAGER_ACTOR, utc

LATE = "U0LATE001"


@pytest.fixture
def today(database_url: str) -> None:
    clock.set_now(utc("2026-10-05 09:00"))


def form_values(*, name: str | None = None, start: str | None = None, members: list[str], end: str | None = None) -> dict:
    values = {
        PilotIds.members_block: {PilotIds.field: {"type": "multi_users_select", "selected_users": members}},
        PilotIds.end_block: {PilotIds.field: {"type": "datepicker", "selected_date": end}},
    }
    if name is not None:
        values[PilotIds.name_block] = {PilotIds.field: {"type": "plain_text_input", "value": name}}
        values[PilotIds.start_block] = {PilotIds.field: {"type": "datepicker", "selected_date": start}}
    return values


def opened_form(wire: SlackWire, slack: MockSlack, value: str, count: int = 1) -> dict:
    assert wire.block_action(PilotIds.open, user_id=MANAGER, value=value).status == 200
    return slack.wait_for("views.open", lambda c: c.params["view"].get("callback_id") == PilotIds.modal,
                          count=count)[count - 1].params["view"]


def home_of(slack: MockSlack, user_id: str, count: int = 1) -> str:
    return all_text(slack.wait_for("views.publish", lambda c: c.params["user_id"] == user_id,
                                   count=count)[count - 1].params["view"]["blocks"])


def test_a_manager_starts_a_pilot_from_the_app_home(today: None, wire: SlackWire, slack: MockSlack) -> None:
    wire.event({"type": "app_home_opened", "user": MANAGER, "tab": "home", "channel": "D0HOME01"})
    assert "No pilot yet" in home_of(slack, MANAGER)
    view = opened_form(wire, slack, "")

    response = wire.view_submission(view, form_values(name="Q4 guided path", start="2026-10-01", members=[SE, LATE]),
                                    user_id=MANAGER)

    assert response.status == 200 and response.body in ("", b"")
    pilot = pilots.get("Q4 guided path")
    assert (pilot.start_on, pilot.current_members) == (date(2026, 10, 1), [SE, LATE])
    assert "*Q4 guided path*: median time to close" in home_of(slack, MANAGER, count=2)


def test_a_manager_changes_members_and_ends_the_pilot(today: None, wire: SlackWire, slack: MockSlack) -> None:
    pilots.create(MANAGER_ACTOR, "Q4", date(2026, 9, 1), [SE, LATE])
    view = opened_form(wire, slack, "Q4")
    assert view["blocks"][1]["element"]["initial_users"] == [SE, LATE]

    assert wire.view_submission(view, form_values(members=[SE], end="2026-10-31"), user_id=MANAGER).status == 200

    pilot = pilots.get("Q4")
    assert pilot.current_members == [SE] and pilot.end_on == date(2026, 10, 31)
    assert next(m for m in pilot.members if m.slack_id == LATE).left_on == date(2026, 10, 5)
    with db.reading() as session:
        assert session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "pilot")
                               .order_by(AuditEntry.id)).all() == ["create", "remove", "end"]


def test_bad_input_is_shown_beside_its_field_and_nothing_is_saved(today: None, wire: SlackWire,
                                                                  slack: MockSlack) -> None:
    pilots.create(MANAGER_ACTOR, "Q4", date(2026, 9, 1), [SE])
    view = opened_form(wire, slack, "Q4")

    response = wire.view_submission(view, form_values(members=[SE, LATE], end="2026-08-01"), user_id=MANAGER)

    assert response.json == {"response_action": "errors",
                               "errors": {PilotIds.end_block: "2026-08-01 is before the pilot started (2026-09-01)"}}
    assert pilots.get("Q4").current_members == [SE]  # the member added in the same form was not saved either
    new = opened_form(wire, slack, "", count=2)
    taken = wire.view_submission({**new, "id": "V0SECOND", "hash": "h2"}, form_values(name="Q4", start="2026-10-01", members=[SE]), user_id=MANAGER)
    assert list(taken.json["errors"]) == [PilotIds.name_block]


def test_only_managers_and_admins_see_and_use_the_pilot_form(today: None, wire: SlackWire, slack: MockSlack) -> None:
    wire.event({"type": "app_home_opened", "user": SE, "tab": "home", "channel": "D0HOME01"})
    assert "Pilot" not in home_of(slack, SE)
    view = {"callback_id": PilotIds.modal, "private_metadata": ""}

    response = wire.view_submission(view, form_values(name="Mine", start="2026-10-01", members=[SE]), user_id=STRANGER)

    assert "managers and admins" in str(response.json["errors"])
    assert pilots.list_pilots() == []


def test_emptying_the_last_day_lets_the_pilot_run_on(today: None, wire: SlackWire, slack: MockSlack) -> None:
    pilots.create(MANAGER_ACTOR, "Q4", date(2026, 9, 1), [SE])
    pilots.end(MANAGER_ACTOR, "Q4", date(2026, 9, 30))
    view = opened_form(wire, slack, "Q4")
    assert view["blocks"][2]["element"]["initial_date"] == "2026-09-30"

    assert wire.view_submission(view, form_values(members=[SE], end=None), user_id=MANAGER).status == 200

    assert pilots.get("Q4").end_on is None
    assert "Q4" in [pilot.name for pilot in pilots.running(date(2026, 10, 5))]
    with db.reading() as session:
        assert session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "pilot")
                               .order_by(AuditEntry.id)).all() == ["create", "end", "reopen"]


def test_a_managers_home_says_when_epos_pilot_only_keeps_nobody_out(today: None, settings: Settings,
                                                                   slack: MockSlack) -> None:
    gated, client = settings.model_copy(update={"epos_pilot_only": True}), make_client(settings)
    assert homes.publish(client, gated, MANAGER)
    assert ":warning: EPOS_PILOT_ONLY is on, but no pilot runs, so epos answers everyone" in home_of(slack, MANAGER)

    pilots.create(MANAGER_ACTOR, "Q4", date(2026, 10, 1), [SE])
    assert homes.publish(client, gated, MANAGER)
    assert "EPOS_PILOT_ONLY" not in home_of(slack, MANAGER, count=2)

    pilots.end(MANAGER_ACTOR, "Q4", date(2026, 10, 2))
    assert homes.publish(client, settings, MANAGER)
    assert "EPOS_PILOT_ONLY" not in home_of(slack, MANAGER, count=3)

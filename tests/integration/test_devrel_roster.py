"""`/devrel roster` over signed HTTP: everyone sees the list; only admins add, edit, deactivate and reactivate."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from sqlalchemy import select

from bot import db
from bot.config import Settings
from bot.ids import DevRelIds
from models import AuditEntry, DevRelPerson
from tests.conftest import ADMIN, SE
from tests.devrel_helpers import LENA, button_values, load_roster, time_value
from tests.support.slack import MockSlack
from tests.support.text import message_text
from tests.support.wire import SlackWire, input_value


@pytest.fixture(autouse=True)
def roster(settings: Settings) -> None:
    load_roster()


def person(slack_id: str) -> dict[str, Any] | None:
    with db.reading() as session:
        row = session.scalar(select(DevRelPerson).where(DevRelPerson.slack_id == slack_id))
        if row is None:
            return None
        return {"name": row.name, "capacity": row.weekly_capacity, "active": row.active, "topics": list(row.topics),
                "start": row.work_start, "end": row.work_end, "timezone": row.timezone}


def audit_actions(slack_id: str) -> list[tuple[str, str]]:
    with db.reading() as session:
        rows = session.execute(select(AuditEntry.action, AuditEntry.actor_id).where(AuditEntry.entity == "devrel_person",
                                                                                   AuditEntry.entity_id == slack_id)
                               .order_by(AuditEntry.id)).all()
        return [(a, b) for a, b in rows]


def roster_reply(wire: SlackWire, slack: MockSlack, user_id: str) -> dict[str, Any]:
    assert wire.command("/devrel", "roster", user_id=user_id).status == 200
    return slack.wait_for("response_url")[-1].params


def all_buttons(params: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["action_id"], e.get("value", "")) for b in params.get("blocks", []) for e in b.get("elements", []) or []
            if isinstance(e, dict) and e.get("type") == "button"]


def form_values(*, name: str = "Lena Hoffmann", topics: str = "observability, apm", timezone: str = "Europe/Berlin",
                start: str = "09:00", end: str = "17:30", capacity: str = "4", person_id: str | None = None) -> dict:
    values: dict[str, Any] = {
        DevRelIds.roster_name_block: {DevRelIds.roster_name_input: input_value(name)},
        DevRelIds.roster_topics_block: {DevRelIds.roster_topics_input: input_value(topics)},
        DevRelIds.roster_timezone_block: {DevRelIds.roster_timezone_input: input_value(timezone)},
        DevRelIds.roster_start_block: {DevRelIds.roster_start_picker: time_value(start)},
        DevRelIds.roster_end_block: {DevRelIds.roster_end_picker: time_value(end)},
        DevRelIds.roster_capacity_block: {DevRelIds.roster_capacity_input: {"type": "number_input", "value": capacity}},
        DevRelIds.roster_ooo_block: {DevRelIds.roster_ooo_picker: {"type": "datepicker", "selected_date": None}},
    }
    if person_id is not None:
        values[DevRelIds.roster_person_block] = {DevRelIds.roster_person_select: {"type": "users_select",
                                                                                  "selected_user": person_id}}
    return values


def test_everyone_sees_the_roster_with_load_and_status_but_no_admin_buttons(wire: SlackWire, slack: MockSlack) -> None:
    reply = roster_reply(wire, slack, SE)
    assert reply["response_type"] == "ephemeral"
    text = message_text(reply)
    assert "Lena Hoffmann" in text and "0/4 meetings this week" in text and "Europe/Berlin 09:00–17:30" in text
    assert "Diego Alvarez" in text and "inactive" in text
    assert all_buttons(reply) == []


def test_admins_see_add_edit_and_deactivate_buttons(wire: SlackWire, slack: MockSlack) -> None:
    buttons = all_buttons(roster_reply(wire, slack, ADMIN))
    assert (DevRelIds.roster_add, "add") in buttons
    assert (DevRelIds.roster_edit, LENA) in buttons and (DevRelIds.roster_deactivate, LENA) in buttons
    assert (DevRelIds.roster_reactivate, "U0DRN5P6Q") in buttons


@pytest.mark.parametrize("action", [DevRelIds.roster_add, DevRelIds.roster_edit, DevRelIds.roster_deactivate,
                                    DevRelIds.roster_reactivate])
def test_a_non_admin_pressing_a_roster_button_is_refused(wire: SlackWire, slack: MockSlack, action: str) -> None:
    assert wire.block_action(action, user_id=SE, value=LENA).status == 200
    refusal = slack.wait_for("response_url")[-1].params
    assert "Only epos admins can change the DevRel roster" in refusal["text"]
    assert refusal["response_type"] == "ephemeral"
    assert slack.calls_to("views.open") == []
    assert person(LENA)["active"] is True  # type: ignore[index]
    assert audit_actions(LENA) == [("added", "epos-cli")]


def test_an_admin_edits_a_person_through_the_form_and_the_list_is_redrawn(wire: SlackWire, slack: MockSlack) -> None:
    assert wire.block_action(DevRelIds.roster_edit, user_id=ADMIN, value=LENA, response_name="roster").status == 200
    form = slack.wait_for("views.open")[-1].params["view"]
    assert form["callback_id"] == DevRelIds.roster_modal
    topics = next(b for b in form["blocks"] if b.get("block_id") == DevRelIds.roster_topics_block)
    assert topics["element"]["initial_value"] == "observability, apm, opentelemetry"

    response = wire.view_submission(form, form_values(capacity="6", topics="observability, ebpf"), user_id=ADMIN)
    assert response.status == 200 and not response.body
    assert person(LENA)["capacity"] == 6 and person(LENA)["topics"] == ["observability", "ebpf"]  # type: ignore[index]
    assert audit_actions(LENA)[-1] == ("updated", ADMIN)
    redrawn = slack.wait_for("response_url", lambda c: c.params.get("_name") == "roster")[-1].params
    assert redrawn["replace_original"] is True and "0/6 meetings this week" in message_text(redrawn)


@pytest.mark.parametrize(
    ("values", "block", "words"),
    [
        ({"start": "18:00", "end": "09:00"}, DevRelIds.roster_end_block, "must be before"),
        ({"timezone": "Mars/Olympus"}, DevRelIds.roster_timezone_block, "not an IANA timezone"),
        ({"capacity": "-2"}, DevRelIds.roster_capacity_block, "whole number"),
        ({"name": "   "}, DevRelIds.roster_name_block, "cannot be empty"),
    ],
)
def test_bad_roster_form_input_is_shown_on_its_field_and_nothing_is_written(wire: SlackWire, slack: MockSlack,
                                                                           values: dict, block: str, words: str) -> None:
    wire.block_action(DevRelIds.roster_edit, user_id=ADMIN, value=LENA)
    form = slack.wait_for("views.open")[-1].params["view"]
    response = wire.view_submission(form, form_values(**values), user_id=ADMIN)
    assert response.status == 200 and response.json["response_action"] == "errors"
    assert words in response.json["errors"][block]
    assert person(LENA)["start"] == time(9) and person(LENA)["capacity"] == 4  # type: ignore[index]
    assert audit_actions(LENA) == [("added", "epos-cli")]


def test_an_admin_adds_a_person_and_cannot_add_them_twice(wire: SlackWire, slack: MockSlack) -> None:
    wire.block_action(DevRelIds.roster_add, user_id=ADMIN, value="add")
    form = slack.wait_for("views.open")[-1].params["view"]
    duplicate = wire.view_submission(form, form_values(person_id=LENA), user_id=ADMIN)
    assert duplicate.json["response_action"] == "errors"
    assert "already on the roster" in duplicate.json["errors"][DevRelIds.roster_person_block]

    form = {**form, "id": "V0ADDNEW1"}
    added = wire.view_submission(form, form_values(person_id="U0NEWDR01", name="Sam Lee", timezone="Asia/Tokyo"),
                                 user_id=ADMIN)
    assert added.status == 200 and not added.body
    assert person("U0NEWDR01") == {"name": "Sam Lee", "capacity": 4, "active": True, "topics": ["observability", "apm"],
                                   "start": time(9), "end": time(17, 30), "timezone": "Asia/Tokyo"}
    assert audit_actions("U0NEWDR01") == [("added", ADMIN)]


def test_deactivate_and_reactivate_redraw_the_list(wire: SlackWire, slack: MockSlack) -> None:
    assert wire.block_action(DevRelIds.roster_deactivate, user_id=ADMIN, value=LENA).status == 200
    redrawn = slack.wait_for("response_url")[-1].params
    assert redrawn["replace_original"] is True
    assert (DevRelIds.roster_reactivate, LENA) in all_buttons(redrawn)
    assert person(LENA)["active"] is False  # type: ignore[index]
    assert wire.block_action(DevRelIds.roster_reactivate, user_id=ADMIN, value=LENA).status == 200
    slack.wait_for("response_url", count=2)
    assert person(LENA)["active"] is True  # type: ignore[index]
    assert [a for a, _ in audit_actions(LENA)] == ["added", "deactivated", "reactivated"]
    assert button_values(redrawn)  # the list keeps its buttons for the admin

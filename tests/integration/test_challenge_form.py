"""The new-engagement form over the wire: a focus picked brings its challenges, a challenge its needs, and
the engagement opened keeps the chain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot import db
from models import Engagement
from tests.conftest import SE
from tests.engagements_helpers import FIELD, new_form_values
from tests.support.slack import MockSlack
from tests.support.wire import SlackWire


def _picked(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}}}


def _pick(wire: SlackWire, slack: MockSlack, view: dict[str, Any], block_id: str, value: str,
          values: dict[str, Any], *, update: int) -> dict[str, Any]:
    """Pick an option of a dispatching input, as Slack sends it; the view as epos's `update`th update left it."""
    shown = {**view, "state": {"values": values}}
    response = wire.block_action(FIELD, user_id=SE, block_id=block_id, view=shown,
                                 selected_option=_picked(value)["selected_option"])
    assert response.status == 200
    calls = slack.wait_for("views.update", lambda c: c.params.get("view_id") == view["id"], count=update)
    # Sent with the hash of the view picked on, so Slack refuses it if a later pick got there first.
    assert calls[-1].params.get("hash") == view["hash"]
    return slack.views[view["id"]]


def test_a_focus_brings_its_challenges_and_a_challenge_its_needs(wire: SlackWire, slack: MockSlack) -> None:
    assert wire.command("/engagement", "new", user_id=SE).status == 200
    slack.wait_for("views.open", lambda c: c.params["view"]["callback_id"] == "engagement_new")
    view = next(v for v in slack.views.values() if v["callback_id"] == "engagement_new")
    values = new_form_values(focus="security", challenge="", needs="")

    view = _pick(wire, slack, view, "engagement_focus", "security", values, update=1)
    pick = next(b for b in view["blocks"] if b.get("block_id") == "engagement_challenge_pick:security")
    assert "Limited visibility and blind spots in cloud workloads" in [o["text"]["text"] for o in pick["element"]["options"]]

    values["engagement_challenge_pick:security"] = {FIELD: _picked("cloud-blind-spots")}
    view = _pick(wire, slack, view, "engagement_challenge_pick:security", "cloud-blind-spots", values, update=2)
    needs = next(b for b in view["blocks"] if b.get("block_id") == "engagement_needs_pick:cloud-blind-spots")
    assert [o["value"] for o in needs["element"]["options"]] == ["cloud-posture", "central-security-logs",
                                                                 "detection-coverage"]

    values["engagement_needs_pick:cloud-blind-spots"] = {FIELD: {"type": "checkboxes", "selected_options": [
        {"value": "cloud-posture", "text": {"type": "plain_text", "text": "Posture"}},
        {"value": "detection-coverage", "text": {"type": "plain_text", "text": "Detection"}}]}}
    response = wire.view_submission(view, values, user_id=SE)

    assert response.status == 200 and not response.body
    with db.reading() as session:
        row = session.scalars(select(Engagement)).one()
        assert (row.focus, row.challenge_id, row.need_ids) == ("security", "cloud-blind-spots",
                                                               ["cloud-posture", "detection-coverage"])

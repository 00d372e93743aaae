"""Modals in `epos try` behave as in Slack: pushed views stack and keep their answers, `update` and
`errors` answers, inputs that dispatch on change, options loaded from the App, and `view_closed`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import Ack
from slack_sdk import WebClient

from bot.tryout.session import TrySession

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def text_input(block_id: str, label: str, *, optional: bool = False, dispatch: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "input", "block_id": block_id, "optional": optional,
                             "label": {"type": "plain_text", "text": label},
                             "element": {"type": "plain_text_input", "action_id": "value"}}
    if dispatch:
        block["dispatch_action"] = True
    return block


def modal(callback_id: str, title: str, blocks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "callback_id": callback_id, "title": {"type": "plain_text", "text": title},
            "submit": {"type": "plain_text", "text": "Save"}, "close": {"type": "plain_text", "text": "Back"},
            "blocks": blocks, **extra}


PUSH_BUTTON = {"type": "actions", "block_id": "more", "elements": [
    {"type": "button", "action_id": "try_push", "text": {"type": "plain_text", "text": "Add a contact"}}]}


@pytest.fixture
def session(tmp_path: Path) -> Iterator[TrySession]:
    with TrySession(output_dir=tmp_path / "out", examples_dir=EXAMPLES) as opened:
        opened.open()
        seen: dict[str, Any] = {}
        opened.seen = seen  # type: ignore[attr-defined]
        app = opened.app

        @app.command("/trydeal")
        def open_deal(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            ack()
            client.views_open(trigger_id=body["trigger_id"], view=modal(
                "try_deal", "Deal", [text_input("account", "Account"), PUSH_BUTTON,
                                     text_input("region", "Region", optional=True, dispatch=True)],
                notify_on_close=True, private_metadata="deal-7"))

        @app.action("try_push")
        def push(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            ack()
            seen["push_state"] = body["view"]["state"]["values"]
            client.views_push(trigger_id=body["trigger_id"], view=modal("try_contact", "Contact",
                                                                       [text_input("name", "Name")]))

        @app.action("value")
        def region_changed(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            ack()
            seen["dispatched"] = body["actions"][0]
            view = body["view"]
            client.views_update(view_id=view["id"], hash=view["hash"], view=modal(
                "try_deal", "Deal", [text_input("account", "Account"), PUSH_BUTTON,
                                     text_input("region", "Region", optional=True, dispatch=True),
                                     text_input("office", "Office in region")],
                notify_on_close=True, private_metadata="deal-7"))

        @app.view("try_contact")
        def contact_saved(ack: Ack, view: dict[str, Any]) -> None:
            name = view["state"]["values"]["name"]["value"]["value"]
            if name == "nobody":
                ack(response_action="errors", errors={"name": "Give a real name"})
                return
            ack()

        @app.view("try_deal")
        def deal_saved(ack: Ack, view: dict[str, Any], body: dict[str, Any]) -> None:
            seen["deal"] = view
            ack(response_action="update", view=modal("try_done", "Saved", [
                {"type": "section", "text": {"type": "mrkdwn", "text": "*Saved* the deal."}}]))

        @app.view_closed("try_deal")
        def deal_closed(ack: Ack, body: dict[str, Any]) -> None:
            ack()
            seen["closed"] = body

        @app.command("/trypick")
        def open_pick(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            ack()
            client.views_open(trigger_id=body["trigger_id"], view=modal("try_pick", "Pick", [{
                "type": "input", "block_id": "who", "label": {"type": "plain_text", "text": "Account"},
                "element": {"type": "external_select", "action_id": "try_account", "min_query_length": 1}}]))

        @app.options("try_account")
        def offer(ack: Ack, body: dict[str, Any]) -> None:
            seen.setdefault("queries", []).append(body["value"])
            accounts = ["Polaris Telecom", "Polaris Shipping", "Acme Robotics"]
            ack(options=[{"text": {"type": "plain_text", "text": a}, "value": a.lower()}
                         for a in accounts if body["value"].casefold() in a.casefold()])

        @app.view("try_pick")
        def picked(ack: Ack, view: dict[str, Any]) -> None:
            seen["picked"] = view["state"]["values"]["who"]["try_account"]["selected_option"]
            ack()

        yield opened


def ok(session: TrySession, line: str) -> str:
    step = session.handle(line)
    assert step.error is None, step.error
    return step.text


def test_a_pushed_view_stacks_and_the_view_under_it_keeps_its_answers(session: TrySession) -> None:
    ok(session, "/trydeal")
    ok(session, ":fill Account = Acme")
    shown = ok(session, ":press Add a contact")
    assert "┌ Contact" in shown
    assert session.seen["push_state"]["account"]["value"]["value"] == "Acme"  # type: ignore[attr-defined]
    ok(session, ":fill Name = nobody")
    refused = session.handle(":submit")
    assert refused.field_errors and "! Name: Give a real name" in refused.text
    ok(session, ":fill Name = Ana")
    back = ok(session, ":submit")
    assert "(Contact sent)" in back and "┌ Deal" in back and "Account*: Acme" in back


def test_an_update_answer_replaces_the_form_and_private_metadata_travels(session: TrySession) -> None:
    ok(session, "/trydeal")
    ok(session, ":fill Account = Acme")
    saved = ok(session, ":submit")
    assert "┌ Saved" in saved and "Saved the deal." in saved
    deal = session.seen["deal"]  # type: ignore[attr-defined]
    assert deal["private_metadata"] == "deal-7" and deal["callback_id"] == "try_deal"
    assert deal["state"]["values"]["region"]["value"] == {"type": "plain_text_input", "value": None}
    assert session.form is not None and session.form.title == "Saved"


def test_a_dispatching_input_tells_the_app_which_updates_the_form(session: TrySession) -> None:
    ok(session, "/trydeal")
    ok(session, ":fill Account = Acme")
    shown = ok(session, ":fill Region = EMEA")
    assert session.seen["dispatched"]["value"] == "EMEA"  # type: ignore[attr-defined]
    assert "Office in region*" in shown
    assert session.form is not None and session.form.shown_values()["account"] == "Acme"


def test_closing_a_form_that_asks_to_be_told_sends_view_closed(session: TrySession) -> None:
    ok(session, "/trydeal")
    assert "(Deal closed)" in ok(session, ":cancel")
    closed = session.seen["closed"]  # type: ignore[attr-defined]
    assert closed["type"] == "view_closed" and closed["view"]["callback_id"] == "try_deal"


def test_messages_behind_an_open_form_cannot_be_pressed(session: TrySession) -> None:
    ok(session, "/asset demo observability")
    ok(session, "/trypick")
    blocked = session.handle(":press Share in channel")
    assert blocked.error is not None and "a form is open (Pick)" in blocked.error
    assert session.handle("1").error == blocked.error


def test_an_external_select_asks_the_app_for_options(session: TrySession) -> None:
    ok(session, "/trypick")
    ambiguous = session.handle(":fill Account = polaris")
    assert ambiguous.error is not None and "1) Polaris Telecom  2) Polaris Shipping" in ambiguous.error
    ok(session, ":fill Account = acme")
    ok(session, ":submit")
    assert session.seen["picked"]["value"] == "acme robotics"  # type: ignore[attr-defined]
    assert session.seen["queries"] == ["polaris", "acme"]  # type: ignore[attr-defined]

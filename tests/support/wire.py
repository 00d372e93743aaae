"""Slack's requests as the integration tests send them: slash commands, buttons, form submissions and
events, shaped as Slack sends them and signed (`bot.wire.SlackWire` does the signing and posting)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from bot import wire
from bot.slackmock import APP_ID, TEAM_ID
from bot.wire import LoopbackServer, WireResponse, sign

__all__ = ["LoopbackServer", "SlackWire", "WireResponse", "input_value", "multi_select_value", "select_value", "sign"]


class SlackWire(wire.SlackWire):
    """Builds Slack's payloads and posts them signed to an epos HTTP endpoint; response URLs point at the
    mock Slack's sink (`response_url_base`)."""

    def __init__(self, url: str, signing_secret: str, *, response_url_base: str = "", team_id: str = TEAM_ID) -> None:
        super().__init__(url, signing_secret)
        self.response_url_base = response_url_base
        self.team_id = team_id
        self._trigger = 0
        self._wire_id = uuid.uuid4().hex[:12]

    def next_trigger_id(self) -> str:
        # Unique across wires, as Slack's are: a repeated trigger_id is a redelivery of the same command.
        self._trigger += 1
        return f"{self._trigger}.{self._wire_id}.trigger"

    def interaction(self, kind: str, user_id: str, **fields: Any) -> dict[str, Any]:
        """What every interaction payload (a button, a form, a shortcut) carries: who, in which team, with
        a fresh trigger_id; `fields` are the kind's own."""
        return {
            "type": kind,
            "token": "legacy-unused",
            "team": {"id": self.team_id, "domain": "epos-test"},
            "user": {"id": user_id, "username": user_id.lower(), "team_id": self.team_id},
            "api_app_id": APP_ID,
            "trigger_id": self.next_trigger_id(),
            **fields,
        }

    def command_fields(self, command: str, text: str, *, user_id: str, channel_id: str = "C0DEALS01",
                       response_name: str = "default") -> dict[str, str]:
        return {
            "token": "legacy-unused",
            "team_id": self.team_id,
            "team_domain": "epos-test",
            "channel_id": channel_id,
            "channel_name": "deals",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": f"{self.response_url_base}response/{response_name}",
            "trigger_id": self.next_trigger_id(),
        }

    def command(self, command: str, text: str = "", *, user_id: str, **kwargs: Any) -> WireResponse:
        post_kwargs = {k: kwargs.pop(k) for k in ("timestamp", "signature", "headers") if k in kwargs}
        return self.post_form(self.command_fields(command, text, user_id=user_id, **kwargs), **post_kwargs)

    def block_action(
        self,
        action_id: str,
        *,
        user_id: str,
        value: str = "",
        block_id: str = "b",
        channel_id: str = "C0DEALS01",
        message_ts: str = "1700000000.000001",
        view: dict[str, Any] | None = None,
        selected_option: dict[str, Any] | None = None,
        selected_options: list[dict[str, Any]] | None = None,
        action_ts: str | None = None,
        response_name: str = "action",
        **post_kwargs: Any,
    ) -> WireResponse:
        action: dict[str, Any] = {
            "type": "static_select" if selected_option else "button",
            "action_id": action_id,
            "block_id": block_id,
            "action_ts": action_ts or f"{time.time():.6f}",
        }
        if selected_options is not None:
            # A checkboxes element: Slack sends every option ticked in it after the click.
            action["type"] = "checkboxes"
            action["selected_options"] = selected_options
        elif selected_option is not None:
            action["selected_option"] = selected_option
        else:
            action["value"] = value
        payload = self.interaction("block_actions", user_id, actions=[action])
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id", "V0")}
            payload["view"] = view
        else:
            payload["container"] = {"type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": False}
            payload["channel"] = {"id": channel_id, "name": "deals"}
            payload["message"] = {"type": "message", "ts": message_ts, "text": ""}
            payload["response_url"] = f"{self.response_url_base}response/{response_name}"
        return self.post_payload(payload, **post_kwargs)

    def view_submission(
        self,
        view: dict[str, Any],
        values: dict[str, dict[str, dict[str, Any]]],
        *,
        user_id: str,
        **post_kwargs: Any,
    ) -> WireResponse:
        """`view` is the view as epos opened it (callback_id, private_metadata); `values` as Slack sends them."""
        submitted = {
            "id": view.get("id", "V0SUBMIT1"),
            "hash": view.get("hash", "h1"),
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view.get("private_metadata", ""),
            "blocks": view.get("blocks", []),
            "state": {"values": values},
            "title": view.get("title", {"type": "plain_text", "text": "epos"}),
        }
        payload = self.interaction("view_submission", user_id, view=submitted)
        return self.post_payload(payload, **post_kwargs)

    def message_shortcut(self, callback_id: str, *, user_id: str, text: str, author_id: str = "U0AUTHOR1",
                         channel_id: str = "C0DEALS01", message_ts: str = "1700000000.000100",
                         response_name: str = "shortcut", **post_kwargs: Any) -> WireResponse:
        """A shortcut from a message's menu, as Slack sends it (`message_action`)."""
        payload = self.interaction(
            "message_action", user_id, action_ts=f"{time.time():.6f}", channel={"id": channel_id, "name": "deals"},
            callback_id=callback_id, message_ts=message_ts,
            message={"type": "message", "user": author_id, "ts": message_ts, "text": text},
            response_url=f"{self.response_url_base}response/{response_name}")
        return self.post_payload(payload, **post_kwargs)

    def global_shortcut(self, callback_id: str, *, user_id: str, **post_kwargs: Any) -> WireResponse:
        """A shortcut from the shortcuts menu (`shortcut`): no conversation, no response_url."""
        payload = self.interaction("shortcut", user_id, action_ts=f"{time.time():.6f}", callback_id=callback_id)
        return self.post_payload(payload, **post_kwargs)

    def event(self, event: dict[str, Any], *, event_id: str | None = None, **post_kwargs: Any) -> WireResponse:
        envelope = {
            "token": "legacy-unused",
            "team_id": self.team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{int(time.time() * 1e6)}",
            "event_time": int(time.time()),
        }
        return self.post_event(envelope, **post_kwargs)


def input_value(text: str) -> dict[str, Any]:
    """A plain_text_input's submitted state."""
    return {"type": "plain_text_input", "value": text}


def select_value(value: str | None) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": None if value is None else {"value": value, "text": {"type": "plain_text", "text": value}}}


def multi_select_value(values: list[str]) -> dict[str, Any]:
    return {"type": "multi_static_select", "selected_options": [{"value": v, "text": {"type": "plain_text", "text": v}} for v in values]}

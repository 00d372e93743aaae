"""The requests Slack would send for what a person does in the terminal, shaped as Slack documents them:
slash commands, `block_actions` from a message, a modal or the App Home, `view_submission`,
`view_closed`, `block_suggestion` (options for an external select), `app_home_opened`, `link_shared` and
shortcuts."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.slackmock import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID

TEAM_DOMAIN = "epos-try"


@dataclass(frozen=True)
class Person:
    user_id: str
    handle: str


@dataclass(frozen=True)
class MessageRef:
    """The message a button sits in, as its container names it."""

    channel_id: str
    channel_name: str
    ts: str
    ephemeral: bool
    text: str
    blocks: list[dict[str, Any]]
    response_url: str
    thread_ts: str | None = None


class Payloads:
    """Builds payloads with fresh trigger ids, action timestamps and event ids (Slack never repeats them)."""

    def __init__(self, team_id: str = TEAM_ID) -> None:
        self.team_id = team_id
        self._counter = itertools.count(1)
        self._last_action = 0.0

    def _next(self) -> int:
        return next(self._counter)

    def trigger_id(self) -> str:
        return f"{self._next()}.{int(time.time())}.try"

    def action_ts(self) -> str:
        # Strictly increasing, so two presses within one microsecond are still two deliveries.
        self._last_action = max(time.time(), self._last_action + 0.000001)
        return f"{self._last_action:.6f}"

    def _team(self) -> dict[str, str]:
        return {"id": self.team_id, "domain": TEAM_DOMAIN}

    def _user(self, person: Person) -> dict[str, str]:
        return {"id": person.user_id, "username": person.handle, "name": person.handle, "team_id": self.team_id}

    # ----- slash command --------------------------------------------------------------------------
    def command(self, person: Person, command: str, text: str, *, channel_id: str, channel_name: str,
                response_url: str, trigger_id: str) -> dict[str, str]:
        return {
            "token": "legacy-unused",
            "team_id": self.team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": person.user_id,
            "user_name": person.handle,
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }

    # ----- block_actions --------------------------------------------------------------------------
    def action(self, element: dict[str, Any], block_id: str, chosen: dict[str, Any] | None = None) -> dict[str, Any]:
        """One entry of `actions`: what was pressed or chosen, and its new value for stateful elements."""
        kind = str(element.get("type", "button"))
        action: dict[str, Any] = {
            "type": kind,
            "action_id": element.get("action_id", ""),
            "block_id": block_id,
            "action_ts": self.action_ts(),
        }
        if kind == "button":
            action["text"] = element.get("text")
            if "value" in element:
                action["value"] = element["value"]
            if element.get("style"):
                action["style"] = element["style"]
        else:
            if element.get("placeholder"):
                action["placeholder"] = element["placeholder"]
            action.update(chosen or {})
        return action

    def message_action(self, person: Person, message: MessageRef, action: dict[str, Any], trigger_id: str,
                       state: dict[str, Any] | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(person),
            "api_app_id": APP_ID,
            "token": "legacy-unused",
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel_id,
                "is_ephemeral": message.ephemeral,
            },
            "trigger_id": trigger_id,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": message.channel_id, "name": message.channel_name},
            "state": {"values": state or {}},
            "response_url": message.response_url,
            "actions": [action],
        }
        if message.thread_ts:
            payload["container"]["thread_ts"] = message.thread_ts
        # Slack sends the message itself only when it is not ephemeral.
        if not message.ephemeral:
            payload["message"] = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "app_id": APP_ID,
                "ts": message.ts,
                "text": message.text,
                "blocks": message.blocks,
                **({"thread_ts": message.thread_ts} if message.thread_ts else {}),
            }
        return payload

    def view_action(self, person: Person, view: dict[str, Any], action: dict[str, Any], trigger_id: str,
                    state: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "type": "block_actions",
            "user": self._user(person),
            "api_app_id": APP_ID,
            "token": "legacy-unused",
            "container": {"type": "view", "view_id": view.get("id", "")},
            "trigger_id": trigger_id,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": self.view_document(view, state),
            "actions": [action],
        }

    # ----- views ----------------------------------------------------------------------------------
    def view_document(self, view: dict[str, Any], state: dict[str, Any] | None = None) -> dict[str, Any]:
        """A view as Slack includes it in payloads: what the App sent, plus ids and the current state."""
        document = {
            "team_id": self.team_id,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "app_installed_team_id": self.team_id,
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "root_view_id": view.get("id", ""),
            "previous_view_id": None,
            "clear_on_close": False,
            "notify_on_close": False,
            **view,
        }
        document["state"] = {"values": state or {}}
        return document

    def view_submission(self, person: Person, view: dict[str, Any], values: dict[str, Any], trigger_id: str) -> dict[str, Any]:
        return {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(person),
            "api_app_id": APP_ID,
            "token": "legacy-unused",
            "trigger_id": trigger_id,
            "view": self.view_document(view, values),
            "response_urls": [],
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def view_closed(self, person: Person, view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "view_closed",
            "team": self._team(),
            "user": self._user(person),
            "api_app_id": APP_ID,
            "token": "legacy-unused",
            "view": self.view_document(view, values),
            "is_cleared": False,
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def block_suggestion(self, person: Person, view: dict[str, Any], element: dict[str, Any], block_id: str,
                         query: str, values: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "block_suggestion",
            "user": self._user(person),
            "container": {"type": "view", "view_id": view.get("id", "")},
            "api_app_id": APP_ID,
            "token": "legacy-unused",
            "action_id": element.get("action_id", ""),
            "block_id": block_id,
            "value": query,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": self.view_document(view, values),
        }

    # ----- events ---------------------------------------------------------------------------------
    def app_home_opened(self, person: Person, dm_channel: str, home: dict[str, Any] | None) -> dict[str, Any]:
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": person.user_id,
            "channel": dm_channel,
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        if home is not None:
            event["view"] = self.view_document(home)
        return event

    def link_shared(self, person: Person, channel_id: str, ts: str, urls: list[str]) -> dict[str, Any]:
        """The links of a message a person posted, as Slack tells an app whose domains they are on."""
        return {
            "type": "link_shared",
            "channel": channel_id,
            "user": person.user_id,
            "message_ts": ts,
            "unfurl_id": f"{channel_id}.{ts}.try",
            "source": "conversations_history",
            "is_bot_user_member": True,
            "links": [{"domain": (urlsplit(url).hostname or ""), "url": url} for url in urls],
            "event_ts": ts,
        }

    def message_shortcut(self, person: Person, callback_id: str, message: MessageRef, author_id: str,
                         trigger_id: str) -> dict[str, Any]:
        """A shortcut from a message's ⋮ menu (`message_action`)."""
        return {
            "type": "message_action",
            "token": "legacy-unused",
            "action_ts": self.action_ts(),
            "team": self._team(),
            "user": self._user(person),
            "channel": {"id": message.channel_id, "name": message.channel_name},
            "callback_id": callback_id,
            "trigger_id": trigger_id,
            "message_ts": message.ts,
            "message": {"type": "message", "user": author_id, "ts": message.ts, "text": message.text},
            "response_url": message.response_url,
            "api_app_id": APP_ID,
        }

    def global_shortcut(self, person: Person, callback_id: str, trigger_id: str) -> dict[str, Any]:
        """A shortcut from the shortcuts menu (`shortcut`): no conversation, no response_url."""
        return {
            "type": "shortcut",
            "token": "legacy-unused",
            "action_ts": self.action_ts(),
            "team": self._team(),
            "user": self._user(person),
            "callback_id": callback_id,
            "trigger_id": trigger_id,
            "api_app_id": APP_ID,
        }

    def event_envelope(self, event: dict[str, Any]) -> dict[str, Any]:
        """An event as the Events API delivers it, with an event id of its own."""
        return {
            "token": "legacy-unused",
            "team_id": self.team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": f"EvTRY{self._next():08d}",
            "event_time": int(time.time()),
        }

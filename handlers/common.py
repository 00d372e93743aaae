"""What listeners share: the settings and who acted, a private answer, opening a form, reading one of its
inputs, a command's text read within bounds, and a form answered when the database does not."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from bot import db
from bot.config import Settings
from bot.errors import InvalidInput
from bot.services.actors import Actor, actor_for
from handlers.errors import report
from handlers.payload import user_id as user_id


# Longer than any command means: an account name (200), a stage and a note (2,000). Reading an account
# and a stage out of the text tries every split of it, so its cost grows with the square of its length;
# past this limit the text is refused before anything is parsed.
COMMAND_TEXT_LIMIT = 2_500
TOO_LONG = ("That is {length:,} characters after `{command}`; it takes at most {limit:,}. Nothing was done: "
            "shorten it and try again.")


def command_text(command: dict[str, Any]) -> str:
    """The text typed after a slash command, or InvalidInput saying it is too long and what the limit is."""
    text = str(command.get("text") or "")
    if len(text) > COMMAND_TEXT_LIMIT:
        raise InvalidInput(TOO_LONG.format(length=len(text), command=command.get("command") or "the command",
                                           limit=COMMAND_TEXT_LIMIT))
    return text


def answered_on_the_form(listener: Callable[..., None]) -> Callable[..., None]:
    """A form listener whose database does not answer in time answers the form, on its first field,
    with what happened (nothing was saved) while the person still waits on it.

    The error handler cannot: Bolt answers 500 to a form whose listener raised before acking, whatever
    the handler acks, and Slack then shows only "trouble connecting"."""

    @functools.wraps(listener)
    def answering(**kwargs: Any) -> None:
        try:
            listener(**kwargs)
        except Exception as error:
            ack, body = kwargs["ack"], kwargs["body"]
            field = first_input(body)
            if not db.unavailable(error) or ack.response is not None or field is None:
                raise
            ack(response_action="errors", errors={field: report(error, "view_submission")})

    return answering


def first_input(body: dict[str, Any]) -> str | None:
    blocks = (body.get("view") or {}).get("blocks") or []
    return next((b["block_id"] for b in blocks if b.get("type") == "input" and b.get("block_id")), None)


def ephemeral(respond: Respond, message: dict[str, Any], *, replace: bool = False) -> None:
    """Answer only the person who acted, in the conversation they acted in."""
    respond(**message, response_type="ephemeral", replace_original=replace)


SETTINGS = "epos_settings"


def give_settings(app: App, settings: Settings) -> None:
    """The one middleware that hands the settings to every listener, through its context."""

    @app.middleware
    def with_settings(context: BoltContext, next: Callable[[], None]) -> None:
        context[SETTINGS] = settings
        next()


def settings_of(context: BoltContext) -> Settings:
    settings = context[SETTINGS]
    assert isinstance(settings, Settings)
    return settings


def actor(context: BoltContext, body: dict[str, Any]) -> Actor:
    """Who acted, with the rights this deployment gives them."""
    return actor_for(settings_of(context), user_id(body))


def in_modal(body: dict[str, Any]) -> bool:
    return (body.get("container") or {}).get("type") == "view" and (body.get("view") or {}).get("type") == "modal"


def open_view(client: WebClient, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Open a modal, or push it when the button sits in a modal already."""
    if in_modal(body):
        client.views_push(trigger_id=body["trigger_id"], view=view)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=view)


Listener = Callable[..., None]


def listen(app: App, *, actions: Mapping[str | re.Pattern[str], Listener] | None = None,
           views: Mapping[str, Listener] | None = None, shortcuts: Mapping[str, Listener] | None = None,
           events: Mapping[str, Listener] | None = None) -> None:
    """Wire a surface's tables onto the App, each id (or pattern) to its listener, in the tables' order."""
    for action_id, listener in (actions or {}).items():
        app.action(action_id)(listener)
    for callback_id, listener in (views or {}).items():
        app.view(callback_id)(listener)
    for callback_id, listener in (shortcuts or {}).items():
        app.shortcut(callback_id)(listener)
    for event, listener in (events or {}).items():
        app.event(event)(listener)


def suffixed(action_id: str) -> re.Pattern[str]:
    """An action id, alone or with a `:suffix` (several buttons of one kind in one actions block)."""
    return re.compile(rf"^{re.escape(action_id)}(:.*)?$")


def values_of(view: dict[str, Any]) -> dict[str, Any]:
    """A submitted form's inputs by block id: what `submitted` reads one of."""
    return (view.get("state") or {}).get("values") or {}


def submitted(values: dict[str, Any], block_id: str, action_id: str) -> Any:
    """The raw value of one input of a submitted form (text, selected option value, user, conversation or
    date), or None."""
    element = (values.get(block_id) or {}).get(action_id) or {}
    kind = element.get("type")
    if kind == "static_select":
        option = element.get("selected_option") or {}
        return option.get("value")
    if kind == "users_select":
        return element.get("selected_user")
    if kind == "multi_users_select":
        return list(element.get("selected_users") or [])
    if kind == "conversations_select":
        return element.get("selected_conversation")
    if kind == "datepicker":
        return element.get("selected_date")
    if kind in ("checkboxes", "multi_static_select"):
        return [str(option.get("value")) for option in element.get("selected_options") or []]
    return element.get("value")


def shortcut_message_text(client: WebClient | None, shortcut: dict[str, Any]) -> str:
    """The text of the message a message shortcut was used on, as a person reads it: people by name
    (`users.info`, cached; none when `client` is None, for a search), links with their labels."""
    from bot import slack_people
    from bot.services.message_shortcuts import readable

    text = str((shortcut.get("message") or {}).get("text") or "")
    return readable(text, (lambda user: slack_people.person(client, user).name) if client else (lambda _user: ""))

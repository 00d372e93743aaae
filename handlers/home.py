"""The App Home tab: published on `app_home_opened`, after each change a person makes, and on paging."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import home as blocks
from bot.blocks.adoption import how_to_text
from bot.config import Settings
from bot.ids import HomeIds
from bot.jobs.devrel import publish
from bot.services import adoption, devrel, engagements
from bot.services.actors import actor_for
from handlers.devrel import after_ack, open_request_modal, request_button
from handlers.errors import tell_user

log = logging.getLogger(__name__)


def publish_home(client: WebClient, settings: Settings, user_id: str, *, page: int = 0, checklist: bool = False) -> bool:
    """Publish `user_id`'s App Home (`checklist`: the getting-started checklist unfolded although done).
    Best effort: a failure is logged, never raised to the caller, since the home is redrawn on the next open."""
    try:
        actor = actor_for(settings, user_id)
        data = engagements.home(actor, page=page).model_copy(update={
            "adoption": adoption.home(actor, managers=settings.epos_managers, expanded=checklist)})
        client.views_publish(user_id=user_id, view=blocks.home_view(data))
        return True
    except SlackApiError as error:
        log.warning("views.publish failed: %s", error.response.get("error"))
    except OSError as error:
        log.warning("views.publish could not reach Slack: %s", error)
    except Exception:
        log.exception("could not build the App Home")
    return False


def _page(action: dict[str, Any]) -> int:
    value = str(action.get("value") or "0")
    # A page number too long to be real (a mangled value) starts over at the first page.
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 6 else 0


def register(app: App, settings: Settings) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        publish_home(client, settings, str(event["user"]))

    @app.action(HomeIds.next_page)
    @app.action(HomeIds.previous_page)
    @app.action(HomeIds.refresh)
    def turn_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        publish_home(client, settings, str(body["user"]["id"]), page=_page(action))

    @app.action(HomeIds.find_asset)
    def asset_help(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=blocks.asset_help_modal())

    @app.action(HomeIds.request_devrel)
    def request_devrel(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        open_request_modal(client, settings, user_id=str(body["user"]["id"]), trigger_id=str(body["trigger_id"]))

    @app.action(HomeIds.how_to)
    def how_to(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=blocks.info_modal(*how_to_text(action.get("value"))))

    @app.action(HomeIds.checklist_show)
    @app.action(HomeIds.checklist_hide)
    def fold_checklist(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        publish_home(client, settings, str(body["user"]["id"]), checklist=action["action_id"] == HomeIds.checklist_show)

    @app.action(re.compile(rf"^{HomeIds.cancel_devrel}(:\d+)?$"))
    def cancel_devrel(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """The same cancel as on the request card: whoever was asked or joins is told, its messages redrawn."""
        ack()
        user_id = str(body["user"]["id"])
        with after_ack(client, body):
            request_id, _ = request_button(body)
            update = devrel.cancel(actor_for(settings, user_id), request_id)
            publish(client, settings, update)
            if not update.changed and update.note:
                tell_user(client, body, update.note)
        # Also after a refusal: the Home then shows the request as it now stands.
        publish_home(client, settings, user_id)

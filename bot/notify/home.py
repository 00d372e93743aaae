"""The App Home: republished when it is opened, paged, and after each change to what it shows."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import clock
from bot.blocks import home as blocks
from bot.blocks import pilots as pilot_blocks
from bot.config import Settings
from bot.services import adoption, cohorts, digest, engagements, pilots
from bot.services.actors import actor_for

log = logging.getLogger(__name__)


def publish(client: WebClient, settings: Settings, user_id: str, *, page: int = 0, checklist: bool = False) -> bool:
    """Publish `user_id`'s App Home (`checklist`: the getting-started checklist unfolded although done).
    Best effort: a failure is logged, never raised to the caller, since the home is redrawn on the next open."""
    try:
        actor = actor_for(settings, user_id)
        data = engagements.home(actor, page=page).model_copy(update={
            "adoption": adoption.home(actor, managers=settings.epos_managers, expanded=checklist)})
        team = digest.team_home(settings.timezone) if actor.manager or actor.admin else None
        view = blocks.home_view(data, team=team)
        if actor.manager or actor.admin:
            today = clock.now().astimezone(settings.timezone).date()
            gate = pilots.open_gate(today) if settings.epos_pilot_only else None
            pilot_blocks.add_to_home(view, pilot_blocks.home_blocks(cohorts.latest(settings.timezone),
                                                                    open_gate=gate.line if gate else None))
        client.views_publish(user_id=user_id, view=view)
        return True
    except SlackApiError as error:
        log.warning("views.publish failed: %s", error.response.get("error"))
    except OSError as error:
        log.warning("views.publish could not reach Slack: %s", error)
    except Exception:
        log.exception("could not build the App Home")
    return False


def refresh(client: WebClient, settings: Settings, user_ids: Iterable[str | None]) -> None:
    """Republish the Homes of everyone a change shows up for, each once."""
    for user_id in dict.fromkeys(u for u in user_ids if u):
        publish(client, settings, user_id)

"""The asset form as submitted, for a new asset or an edit: saved and confirmed by DM, and sent to the
admins for review when it needs it. What cannot be saved is answered on the form, on the field at fault."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import notify
from bot.blocks import assets as blocks
from bot.codecs import AssetForm
from bot.config import Settings
from bot.errors import Forbidden, InvalidInput, NotFound
from bot.ids import AssetIds
from bot.services import assets
from bot.services.actors import actor_for
from handlers import common
from handlers.common import answered_on_the_form
from models.schemas.assets import AssetCard, AssetFields, ViewedAsset, field_problems

FORM_GONE = "This asset no longer exists; close the form and search again with /asset."
FORM_FORBIDDEN = ("You can no longer edit this asset; only its owner, its verifier or an admin can. Close the form to "
                  "leave it as it is.")


def read_form(values: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """The submitted form as AssetFields input (validation happens there)."""

    def value(block: AssetIds) -> Any:
        return common.submitted(values, block, AssetIds.field)

    return {
        "title": value(AssetIds.title_block) or "",
        "type": value(AssetIds.type_block),
        "summary": value(AssetIds.summary_block) or "",
        "url": value(AssetIds.url_block) or "",
        "topics": value(AssetIds.topics_block) or "",
        "products": value(AssetIds.products_block) or "",
        "depth": value(AssetIds.depth_block),
        "scope": value(AssetIds.scope_block),
        "interactivity": value(AssetIds.interactivity_block),
        "cycle": value(AssetIds.cycle_block),
        "owner_id": value(AssetIds.owner_block) or "",
        "customer_facing": value(AssetIds.audience_block) == "customer_facing",
        "parts": value(AssetIds.parts_block) or "",
        "partner_id": value(AssetIds.partner_block),
        "verifier_id": value(AssetIds.verifier_block),
        "review_every_days": value(AssetIds.review_days_block),
    }


def submitted_fields(ack: Ack, view: dict[str, Any]) -> AssetFields | None:
    try:
        return AssetFields.model_validate(read_form(common.values_of(view)))
    except ValidationError as error:
        ack(response_action="errors", errors=blocks.form_errors(field_problems(error)))
        return None


def ask_admins_to_review(client: WebClient, settings: Settings, card: AssetCard,
                         message: Callable[[ViewedAsset], dict[str, Any]]) -> None:
    for admin_id in settings.epos_admins:
        reviewer = actor_for(settings, admin_id)
        notify.dm(client, admin_id, message(ViewedAsset(card=card, rights=assets.rights(card, reviewer))))


@answered_on_the_form
def add_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                  context: BoltContext) -> None:
    settings = common.settings_of(context)
    who = common.actor(context, body)
    fields = submitted_fields(ack, view)
    if fields is None:
        return
    try:
        result = assets.create(fields, who, admins_configured=bool(settings.epos_admins), confirm_token=view.get("id"))
    except InvalidInput as error:
        ack(response_action="errors", errors=blocks.form_errors([(error.field, str(error))]))
        return
    ack()
    viewed = ViewedAsset(card=result.card, rights=assets.rights(result.card, who))
    notify.dm(client, who.user_id, blocks.saved_message(result, viewed))
    if result.needs_review:
        ask_admins_to_review(client, settings, result.card, blocks.review_request)


@answered_on_the_form
def edit_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                   context: BoltContext) -> None:
    settings = common.settings_of(context)
    who = common.actor(context, body)
    asset_id = AssetForm.decode(view.get("private_metadata")).asset_id
    fields = submitted_fields(ack, view)
    if fields is None:
        return
    if asset_id is None:
        ack(response_action="errors", errors={AssetIds.title_block: FORM_GONE})
        return
    try:
        result = assets.update(asset_id, fields, who, admins_configured=bool(settings.epos_admins),
                               confirm_token=view.get("id"))
    except InvalidInput as error:
        ack(response_action="errors", errors=blocks.form_errors([(error.field, str(error))]))
        return
    except NotFound:
        ack(response_action="errors", errors={AssetIds.title_block: FORM_GONE})
        return
    except Forbidden:
        ack(response_action="errors", errors={AssetIds.title_block: FORM_FORBIDDEN})
        return
    ack()
    viewed = ViewedAsset(card=result.card, rights=assets.rights(result.card, who))
    notify.dm(client, who.user_id, blocks.saved_message(result, viewed))
    if result.needs_review and result.previous_url:
        previous_url = result.previous_url
        ask_admins_to_review(client, settings, result.card,
                             lambda shown: blocks.link_review_request(shown, previous_url, who.user_id))


VIEWS = {
    AssetIds.add_modal: add_submitted,
    AssetIds.edit_modal: edit_submitted,
}


def register(app: App) -> None:
    common.listen(app, views=VIEWS)

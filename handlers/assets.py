"""Listeners for `/asset`: search answers, cards' buttons, the add/edit form, curation."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import sharing
from bot.blocks import assets as blocks
from bot.blocks import interactions as interaction_blocks
from bot.config import Settings
from bot.errors import Forbidden, InvalidInput, NotFound
from bot.ids import AssetIds
from bot.services import assets, interactions
from bot.services.actors import Actor, actor_for
from handlers.answers import answer_command
from handlers.common import answered_on_the_form, command_text
from models.schemas.assets import AssetButton, AssetCard, AssetFields, CurationResult, ViewedAsset, field_problems

log = logging.getLogger(__name__)

STALE_BUTTON = "That button is out of date. Search again with `/asset`."
NO_CHANNEL = "I can only share into a channel or conversation; run `/asset` there and press Share again."
CHANNEL_PROBLEMS = {"not_in_channel", "channel_not_found", "is_archived"}
FORM_GONE = "This asset no longer exists; close the form and search again with /asset."
FORM_FORBIDDEN = "You can no longer edit this asset; only its owner or an admin can. Close the form to leave it as it is."


def _asset_id(body: dict[str, Any]) -> int:
    try:
        return AssetButton(asset_id=body["actions"][0].get("value")).asset_id
    except (ValidationError, KeyError, IndexError):
        raise InvalidInput(STALE_BUTTON) from None


def _user_id(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or body.get("user_id") or "")


def _ephemeral(respond: Respond, message: dict[str, Any], *, replace: bool = False) -> None:
    respond(**message, response_type="ephemeral", replace_original=replace)


def _dm(client: WebClient, user_id: str, message: dict[str, Any]) -> None:
    """A message from the bot to one person; best effort, since the action it reports already happened."""
    try:
        client.chat_postMessage(channel=user_id, **message)
    except SlackApiError as error:
        log.warning("could not message %s: %s", user_id, error.response.get("error"))


def register(app: App, settings: Settings) -> None:
    admins_configured = bool(settings.epos_admins)

    def actor(body: dict[str, Any]) -> Actor:
        return actor_for(settings, _user_id(body))

    def open_form(client: WebClient, trigger_id: str, who: Actor, title: str = "") -> None:
        initial = None
        if title:
            initial = AssetFields.model_construct(title=title[:200], type=None, summary="", url="", topics=[],
                                                  products=[], depth=None, scope=None, interactivity=None,
                                                  cycle=None, owner_id=who.user_id)
        view = blocks.asset_form(mode="add", owner_id=who.user_id, initial=initial,
                                 will_be_draft=admins_configured and not who.admin)
        client.views_open(trigger_id=trigger_id, view=view)

    def ask_admins_to_review(client: WebClient, card: AssetCard, message: Callable[[ViewedAsset], dict[str, Any]]) -> None:
        for admin_id in settings.epos_admins:
            reviewer = actor_for(settings, admin_id)
            _dm(client, admin_id, message(ViewedAsset(card=card, rights=assets.rights(card, reviewer))))

    def show_search(respond: Respond, who: Actor, query: str, offset: int = 0, *, replace: bool = False) -> None:
        page = assets.search(query, actor=who, offset=offset)
        _ephemeral(respond, blocks.results_message(page), replace=replace)

    # ----- the command -----------------------------------------------------------------------------

    @app.command("/asset")
    def asset_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        who = actor_for(settings, command["user_id"])
        try:
            text = command_text(command).strip()
        except InvalidInput as too_long:
            refusal = {"text": str(too_long)}
            answer_command(ack, respond, lambda: refusal)
            return
        word, _, rest = text.partition(" ")
        word, rest = word.lower(), rest.strip()
        if not text or (word == "help" and not rest):
            answer_command(ack, respond, blocks.help_message)
        elif word == "add":
            ack()
            open_form(client, command["trigger_id"], who, rest)
        elif word == "drafts" and not rest:
            answer_command(ack, respond, lambda: blocks.list_message(assets.drafts(who)))
        elif word == "mine" and not rest:
            answer_command(ack, respond, lambda: blocks.list_message(assets.owned_by(who)))
        else:
            answer_command(ack, respond, lambda: blocks.results_message(assets.search(text, actor=who)))

    # ----- buttons on results ----------------------------------------------------------------------

    @app.action(AssetIds.next_page)
    @app.action(AssetIds.previous_page)
    def turn_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        query, offset = blocks.read_page_value(action.get("value") or "")
        show_search(respond, actor(body), query, offset, replace=True)

    @app.action(re.compile(rf"^{AssetIds.rerun}(:\d+)?$"))
    def rerun_suggestion(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        show_search(respond, actor(body), action.get("value") or "", replace=True)

    @app.action(AssetIds.add_open)
    def open_add_form(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        open_form(client, body["trigger_id"], actor(body))

    def share_into(body: dict[str, Any], respond: Respond, client: WebClient, *, confirmed: bool) -> None:
        """Post the card where the person searched. Into a conversation shared with another organisation
        only a customer-facing asset goes, and only once they confirmed, seeing who is in it."""
        asset_id, user_id = _asset_id(body), _user_id(body)
        channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        if not channel_id:
            raise InvalidInput(NO_CHANNEL)
        card = assets.published(asset_id, for_what="shared")
        try:
            shared = sharing.sharing(client, channel_id)
            if shared.external:
                if not card.customer_facing:
                    _ephemeral(respond, blocks.share_internal_refused(card, shared), replace=confirmed)
                    return
                if not confirmed:
                    _ephemeral(respond, blocks.share_confirmation(card, shared))
                    return
                # Customer-facing: its link may be previewed for everyone there.
                client.chat_postMessage(channel=channel_id, **blocks.shared_message(card, user_id, vote=False))
            else:
                client.chat_postMessage(channel=channel_id, **blocks.shared_message(card, user_id))
        except SlackApiError as error:
            reason = error.response.get("error", "")
            if reason in CHANNEL_PROBLEMS:
                _ephemeral(respond, blocks.share_refused(reason), replace=confirmed)
                return
            raise
        assets.record_share(asset_id, user_id, channel_id)
        if (second_heavy := interactions.second_heavy(asset_id, channel_id)) is not None:
            _ephemeral(respond, interaction_blocks.second_heavy_message(second_heavy))
        if confirmed and shared.external:
            _ephemeral(respond, blocks.shared_externally(card, shared), replace=True)
        elif confirmed:
            # The channel stopped being shared meanwhile: the card went out as any internal share does.
            respond(delete_original=True)

    @app.action(AssetIds.share)
    def share(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        share_into(body, respond, client, confirmed=False)

    @app.action(AssetIds.share_confirmed)
    def share_confirmed(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        share_into(body, respond, client, confirmed=True)

    @app.action(AssetIds.share_cancelled)
    def share_cancelled(ack: Ack, respond: Respond) -> None:
        ack()
        _ephemeral(respond, blocks.share_done(blocks.SHARE_CANCELLED), replace=True)

    @app.action(AssetIds.useful)
    @app.action(AssetIds.not_useful)
    def rate(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        useful = action["action_id"] == AssetIds.useful
        result = assets.vote(_asset_id(body), _user_id(body), useful)
        _ephemeral(respond, blocks.vote_reply(result))

    @app.action(AssetIds.edit)
    def open_edit_form(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        who = actor(body)
        card = assets.editable(_asset_id(body), who)
        view = blocks.asset_form(mode="edit", owner_id=card.owner_id, initial=card, asset_id=card.id,
                                 link_change_needs_review=assets.link_change_needs_review(
                                     card.status, who, admins_configured=admins_configured))
        client.views_open(trigger_id=body["trigger_id"], view=view)

    # ----- curation --------------------------------------------------------------------------------

    def report_curation(result: CurationResult, who: Actor, respond: Respond, client: WebClient) -> None:
        viewed = ViewedAsset(card=result.card, rights=assets.rights(result.card, who))
        _ephemeral(respond, blocks.curated_message(result, viewed))
        if result.card.owner_id != who.user_id:
            _dm(client, result.card.owner_id, blocks.owner_notice(result, who.user_id))

    @app.action(AssetIds.publish)
    def publish(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        who = actor(body)
        report_curation(assets.publish(_asset_id(body), who), who, respond, client)

    @app.action(AssetIds.archive)
    def archive(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        who = actor(body)
        report_curation(assets.archive(_asset_id(body), who), who, respond, client)

    @app.action(AssetIds.restore)
    def restore(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        who = actor(body)
        result = assets.restore(_asset_id(body), who, admins_configured=admins_configured)
        report_curation(result, who, respond, client)

    # ----- the form --------------------------------------------------------------------------------

    def submitted_fields(ack: Ack, view: dict[str, Any]) -> AssetFields | None:
        try:
            return AssetFields.model_validate(blocks.read_form((view.get("state") or {}).get("values") or {}))
        except ValidationError as error:
            ack(response_action="errors", errors=blocks.form_errors(field_problems(error)))
            return None

    @app.view(AssetIds.add_modal)
    @answered_on_the_form
    def add_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        who = actor(body)
        fields = submitted_fields(ack, view)
        if fields is None:
            return
        try:
            result = assets.create(fields, who, admins_configured=admins_configured, confirm_token=view.get("id"))
        except InvalidInput as error:
            ack(response_action="errors", errors=blocks.form_errors([(error.field, str(error))]))
            return
        ack()
        viewed = ViewedAsset(card=result.card, rights=assets.rights(result.card, who))
        _dm(client, who.user_id, blocks.saved_message(result, viewed))
        if result.needs_review:
            ask_admins_to_review(client, result.card, blocks.review_request)

    @app.view(AssetIds.edit_modal)
    @answered_on_the_form
    def edit_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        who = actor(body)
        asset_id = blocks.form_asset_id(view.get("private_metadata") or "")
        fields = submitted_fields(ack, view)
        if fields is None:
            return
        if asset_id is None:
            ack(response_action="errors", errors={AssetIds.title_block: FORM_GONE})
            return
        try:
            result = assets.update(asset_id, fields, who, admins_configured=admins_configured,
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
        _dm(client, who.user_id, blocks.saved_message(result, viewed))
        if result.needs_review and result.previous_url:
            previous_url = result.previous_url
            ask_admins_to_review(client, result.card,
                                 lambda shown: blocks.link_review_request(shown, previous_url, who.user_id))

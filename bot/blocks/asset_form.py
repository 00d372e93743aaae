"""The modal to add or edit an asset."""

from __future__ import annotations

import functools
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)

from bot.blocks import kit
from bot.blocks.asset_card import AUDIENCE_LABELS, CYCLE_LABELS, DEPTH_LABELS, INTERACTIVITY_LABELS, SCOPE_LABELS
from bot.codecs import AssetForm
from bot.ids import AssetIds
from models.enums import ASSET_TYPE_LABELS, AssetType
from models.schemas.asset_values import SUGGESTED_PARTS, SUMMARY_MAX, TITLE_MAX, URL_MAX
from models.schemas.assets import AssetCard, AssetFields

FORM_TITLE = {"add": "Add an asset", "edit": "Edit asset"}
FORM_SUBMIT = "Save"
FORM_CLOSE = "Cancel"
FORM_INTRO = {
    "add": "Add a demo, walkthrough, proofshop or workshop so others can find it with `/asset`.",
    "edit": "Change what you need; the asset keeps its status.",
}
FORM_DRAFT_NOTE = "It starts as a draft until an admin publishes it."
FORM_LINK_REVIEW_NOTE = (
    "Change what you need. A new link sends the asset back to the drafts until an admin publishes it again; "
    "other changes keep it published."
)

USUAL_FOR_TYPE = "Usual for the type"
AXES_HINT = "Leave empty for what the type usually is (Demo: low, broad, presentation, early)."
VERIFIER_HINT = "Asked on a schedule whether the asset is still true. Leave empty for the owner."
REVIEW_DAYS_HINT = "How often, in days, the verifier is asked. Leave empty for the usual interval of the type."
AUDIENCE_HINT = ("Customer-facing assets may be shared into channels shared with a customer (Slack Connect); "
                 "internal ones never are.")
PARTS_LABEL = "Parts"
PARTS_HINT = "One per line: a label, then its link. Usual parts: {usual}."
PARTS_MAX_CHARS = 3000  # the most a text input holds
PARTNER_LABEL = "Marketing partner"
PARTNER_PLACEHOLDER = "Who in Marketing plans it with you"
PARTNER_HINT = "Marketing Workshops only: the person in Marketing it is planned with."
# Every field of the form answers under the same action_id; the block_id says which field it is.
_field_input = functools.partial(kit.text_input, action_id=AssetIds.field)


def _options(labels: dict[Any, str]) -> list[Option]:
    return [kit.option(label, str(getattr(key, "value", key))) for key, label in labels.items()]


def _select(block_id: AssetIds, label: str, labels: dict[Any, str], initial: Any, *, optional: bool,
            placeholder: str, hint: str | None = None) -> InputBlock:
    options = _options(labels)
    chosen = next((o for o in options if initial is not None and o.value == str(getattr(initial, "value", initial))), None)
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=StaticSelectElement(action_id=AssetIds.field, placeholder=PlainTextObject(text=placeholder),
                                    options=options, initial_option=chosen),
        optional=optional,
        hint=PlainTextObject(text=hint) if hint else None,
    )


def parts_text(parts: Any) -> str:
    """Parts as the form shows them: `Label: link`, one a line."""
    return "\n".join(f"{part.label}: {part.url}" for part in parts)


def _parts_hint() -> str:
    usual = "; ".join(f"{ASSET_TYPE_LABELS[t]}: {', '.join(labels)}" for t, labels in SUGGESTED_PARTS.items())
    return PARTS_HINT.format(usual=usual)


def _parts_placeholder(asset_type: AssetType | None) -> str:
    labels = SUGGESTED_PARTS[asset_type or AssetType.workshop]
    return f"{labels[0]}: https://…"


def _care_inputs(owner_id: str, initial: AssetCard | AssetFields | None) -> list[Block]:
    """Who looks after the asset, and how often it is checked."""
    return [
        InputBlock(
            block_id=AssetIds.owner_block,
            label=PlainTextObject(text="Owner"),
            element=UserSelectElement(action_id=AssetIds.field, initial_user=owner_id,
                                      placeholder=PlainTextObject(text="Who keeps it up to date")),
        ),
        InputBlock(
            block_id=AssetIds.partner_block,
            label=PlainTextObject(text=PARTNER_LABEL),
            element=UserSelectElement(action_id=AssetIds.field, initial_user=initial.partner_id if initial else None,
                                      placeholder=PlainTextObject(text=PARTNER_PLACEHOLDER)),
            optional=True,
            hint=PlainTextObject(text=PARTNER_HINT),
        ),
        InputBlock(
            block_id=AssetIds.verifier_block,
            label=PlainTextObject(text="Verifier"),
            element=UserSelectElement(action_id=AssetIds.field,
                                      initial_user=(initial.verifier_id or None) if initial else None,
                                      placeholder=PlainTextObject(text="The owner")),
            optional=True,
            hint=PlainTextObject(text=VERIFIER_HINT),
        ),
        _field_input(AssetIds.review_days_block, "Review every (days)",
                     initial=str(initial.review_every_days) if initial and initial.review_every_days else None,
                     max_length=4, optional=True, placeholder="90", hint=REVIEW_DAYS_HINT),
    ]


def asset_form(
    *, mode: str, owner_id: str, initial: AssetCard | AssetFields | None = None,
    asset_id: int | None = None, will_be_draft: bool = False, link_change_needs_review: bool = False,
) -> dict[str, Any]:
    """The modal to add an asset (`mode="add"`) or edit one (`mode="edit"`, prefilled from its card)."""
    intro = FORM_INTRO[mode] + (" " + FORM_DRAFT_NOTE if will_be_draft and mode == "add" else "")
    if link_change_needs_review and mode == "edit":
        intro = FORM_LINK_REVIEW_NOTE
    blocks: list[Block] = [
        SectionBlock(text=kit.md(intro)),
        _field_input(AssetIds.title_block, "Title", initial=initial.title if initial else None, max_length=TITLE_MAX,
                      placeholder="Observability in 15 minutes: from alert to root cause"),
        _select(AssetIds.type_block, "Type", ASSET_TYPE_LABELS, initial.type if initial else None,
                optional=False, placeholder="Choose a type"),
        _field_input(AssetIds.summary_block, "Summary", initial=initial.summary if initial else None, max_length=SUMMARY_MAX,
                      multiline=True, placeholder="What it shows, for whom, and when to use it"),
        _field_input(AssetIds.url_block, "Link", initial=initial.url if initial else None, max_length=URL_MAX,
                      placeholder="https://…", hint="Where the asset lives: an http:// or https:// link."),
        _field_input(AssetIds.parts_block, PARTS_LABEL, initial=parts_text(initial.parts) if initial else None,
                      max_length=PARTS_MAX_CHARS, optional=True, multiline=True,
                      placeholder=_parts_placeholder(initial.type if initial else None), hint=_parts_hint()),
        _field_input(AssetIds.topics_block, "Topics", initial=", ".join(initial.topics) if initial else None,
                      max_length=1000, optional=True, placeholder="observability, kubernetes, logging",
                      hint="Separated by commas. Search matches these strongly."),
        _field_input(AssetIds.products_block, "Products", initial=", ".join(initial.products) if initial else None,
                      max_length=1000, optional=True, placeholder="Observability, Security",
                      hint="Separated by commas."),
        _select(AssetIds.depth_block, "Depth", DEPTH_LABELS, initial.depth if initial else None,
                optional=True, placeholder=USUAL_FOR_TYPE, hint=AXES_HINT),
        _select(AssetIds.scope_block, "Scope", SCOPE_LABELS, initial.scope if initial else None,
                optional=True, placeholder=USUAL_FOR_TYPE),
        _select(AssetIds.interactivity_block, "Interactivity", INTERACTIVITY_LABELS,
                initial.interactivity if initial else None, optional=True, placeholder=USUAL_FOR_TYPE),
        _select(AssetIds.cycle_block, "Sales cycle", CYCLE_LABELS, initial.cycle if initial else None,
                optional=True, placeholder=USUAL_FOR_TYPE),
        _select(AssetIds.audience_block, "Audience", AUDIENCE_LABELS,
                ("customer_facing" if initial is not None and initial.customer_facing else "internal"),
                optional=False, placeholder="Who may see it", hint=AUDIENCE_HINT),
        *_care_inputs(owner_id, initial),
    ]
    return kit.modal(AssetIds.edit_modal if mode == "edit" else AssetIds.add_modal, FORM_TITLE[mode], blocks,
                     submit=FORM_SUBMIT, close=FORM_CLOSE,
                     metadata=AssetForm(asset_id=asset_id).encode())

"""The engagement modals: new, change stage, close, deal channel, note and ESAT comment."""

from __future__ import annotations

import functools
from datetime import date
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    DatePickerElement,
    InputBlock,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)

from bot.blocks import kit
from bot.blocks.engagement_text import label, stage_line
from bot.blocks.stage_checklist import before_leaving_text
from bot.blocks.text import clip, safe
from bot.ids import EngagementIds
from models.enums import OPEN_STAGES, Outcome, Stage
from models.schemas.engagements import EngagementSummary, EsatPrompt

if TYPE_CHECKING:
    from bot.services.challenges import ChallengeMap

FORM_TITLE = {"new": "New engagement", "stage": "Change stage", "close": "Close engagement", "note": "Add a note",
              "channel": "Deal channel",
              "esat": "Rate the engagement"}
FORM_SUBMIT = {"new": "Open", "stage": "Save", "close": "Close it", "note": "Add", "esat": "Save", "channel": "Save"}
FORM_CANCEL = "Cancel"
FOCUS_OPTIONS = {"observability": "Observability", "security": "Security", "other": "Other (describe below)"}
FOCUS_OTHER_HINT = "For Other: the topic, e.g. vector search, kubernetes monitoring"
OTHER_FOCUS = "other"
OTHER_FOCUS_TEXT = "Other (describe below)"
CHALLENGE_PICK_LABEL = "Business challenge (from the map)"
CHALLENGE_PICK_HINT = "The customer's problem in business words. Not listed? Describe it in the field below."
CHALLENGE_TEXT_LABEL = "Business challenge (top-down)"
CHALLENGE_OWN_WORDS_LABEL = "Business challenge in their words"
NEEDS_PICK_LABEL = "Technical needs it maps to"
NEEDS_PICK_HINT = "Untick a need the customer does not have; add others in the field below."
NEEDS_TEXT_LABEL = "Technical needs (bottom-up)"
NEEDS_OWN_WORDS_LABEL = "Other technical needs"
NEW_INTRO = "You'll own this engagement. The stage playbook is posted when it opens."
EFFECTIVE_HINT = "When it happened. Pick an earlier day if you're logging late."
CHANNEL_HINT = "Playbooks and news go here; leave empty to get them by DM."
CHANNEL_FORM_HINT = ("Playbooks and news of this engagement go here; leave empty to get them by DM. A channel shared "
                     "with another organisation gets none of them: they come to the owner by DM instead.")
OUTCOME_OPTIONS = {Outcome.won: "Won", Outcome.lost: "Lost", Outcome.no_decision: "No decision"}


def _modal(kind: str, callback_id: str, blocks: list[Block], metadata: str = "") -> dict[str, Any]:
    return kit.modal(callback_id, FORM_TITLE[kind], blocks, submit=FORM_SUBMIT[kind], close=FORM_CANCEL,
                     metadata=metadata)


# Every field of a form answers under the same action_id; the block_id says which field it is.
_field_input = functools.partial(kit.text_input, action_id=EngagementIds.field)


def _stage_select(block_id: str, label_text: str, stages: list[Stage], initial: Stage | None) -> InputBlock:
    options = [kit.option(stage.label, stage.value) for stage in stages]
    initial_option = next((o for o in options if initial and o.value == initial.value), None)
    element = StaticSelectElement(action_id=EngagementIds.field, options=options, initial_option=initial_option,
                                  placeholder=kit.plain_text("Pick a stage"))
    return InputBlock(block_id=block_id, label=kit.plain_text(label_text), element=element)


def _date_input(block_id: str, label_text: str, today: date, hint: str) -> InputBlock:
    element = DatePickerElement(action_id=EngagementIds.field, initial_date=today.isoformat())
    return InputBlock(block_id=block_id, label=kit.plain_text(label_text), element=element, hint=kit.plain_text(hint))


def focus_options(chart: ChallengeMap | None) -> dict[str, str]:
    """The focus areas to pick from: the challenge map's, then Other."""
    if chart is None:
        return dict(FOCUS_OPTIONS)
    return {**{key: area.label for key, area in chart.areas.items()}, OTHER_FOCUS: OTHER_FOCUS_TEXT}


def _map_blocks(chart: ChallengeMap | None, focus: str | None, challenge_id: str | None) -> list[Block]:
    """The challenge map's choices for the focus picked, and the needs of the challenge picked."""
    area = chart.areas.get(focus or "") if chart else None
    if area is None:
        return [
            _field_input(EngagementIds.challenge_block, CHALLENGE_TEXT_LABEL, multiline=True, optional=True,
                          max_length=3000, placeholder="Unknown cause of downtime hurts customer satisfaction"),
            _field_input(EngagementIds.needs_block, NEEDS_TEXT_LABEL, multiline=True, optional=True,
                          max_length=3000, placeholder="Correlate logs, metrics and traces from 120 services"),
        ]
    options = [kit.option(challenge.text, challenge.id) for challenge in area.challenges]
    blocks: list[Block] = [
        InputBlock(block_id=f"{EngagementIds.challenge_pick_block}:{focus}", label=kit.plain_text(CHALLENGE_PICK_LABEL),
                   optional=True, dispatch_action=True, hint=kit.plain_text(CHALLENGE_PICK_HINT),
                   element=StaticSelectElement(action_id=EngagementIds.field, options=options,
                                               placeholder=kit.plain_text("Pick the closest challenge"))),
        _field_input(EngagementIds.challenge_block, CHALLENGE_OWN_WORDS_LABEL, multiline=True, optional=True,
                      max_length=3000, placeholder=area.challenges[0].text),
    ]
    challenge = area.challenge(challenge_id or "")
    if challenge is not None:
        needs = [need for need in (area.need(need_id) for need_id in challenge.needs) if need is not None]
        need_options = [kit.option(need.text, need.id) for need in needs]
        blocks.append(InputBlock(
            block_id=f"{EngagementIds.needs_pick_block}:{challenge.id}", label=kit.plain_text(NEEDS_PICK_LABEL),
            optional=True, hint=kit.plain_text(NEEDS_PICK_HINT),
            element=CheckboxesElement(action_id=EngagementIds.field, options=need_options,
                                      initial_options=need_options)))
    blocks.append(_field_input(EngagementIds.needs_block, NEEDS_OWN_WORDS_LABEL if challenge else NEEDS_TEXT_LABEL,
                               multiline=True, optional=True, max_length=3000,
                               placeholder="Correlate logs, metrics and traces from 120 services"))
    return blocks


def new_form(*, today: date, metadata: str = "", account: str = "", chart: ChallengeMap | None = None,
             focus: str | None = None, challenge_id: str | None = None) -> dict[str, Any]:
    """The new-engagement form. With the challenge map: picking a focus offers its challenges, and picking
    a challenge offers the needs it maps to (the handler answers each pick with a views.update)."""
    choices = [kit.option(text, value) for value, text in focus_options(chart).items()]
    picked = next((o for o in choices if focus and o.value == focus), None)
    blocks: list[Block] = [
        ContextBlock(elements=[kit.md(NEW_INTRO)]),
        _field_input(EngagementIds.account_block, "Account (the customer)", placeholder="Northbeam Logistics",
                      initial=clip(account, 200)),
        _field_input(EngagementIds.opportunity_block, "Opportunity", placeholder="Fleet platform observability"),
        InputBlock(block_id=EngagementIds.seller_block, label=kit.plain_text("Seller"),
                   element=UserSelectElement(action_id=EngagementIds.field, placeholder=kit.plain_text("Who sells this deal"))),
        InputBlock(block_id=EngagementIds.focus_block, label=kit.plain_text("Focus"),
                   dispatch_action=chart is not None,
                   element=StaticSelectElement(action_id=EngagementIds.field, options=choices, initial_option=picked,
                                               placeholder=kit.plain_text("Observability, security or other"))),
        _field_input(EngagementIds.focus_other_block, "Other focus", optional=True, max_length=100,
                      placeholder="vector search", hint=FOCUS_OTHER_HINT),
        *_map_blocks(chart, focus, challenge_id),
        InputBlock(block_id=EngagementIds.channel_block, label=kit.plain_text("Deal channel"), optional=True,
                   hint=kit.plain_text(CHANNEL_HINT),
                   element=ConversationSelectElement(
                       action_id=EngagementIds.field, placeholder=kit.plain_text("Pick a channel"),
                       filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True))),
        _stage_select(EngagementIds.start_stage_block, "Starting stage", list(OPEN_STAGES), Stage.preparation),
        _date_input(EngagementIds.opened_block, "Opened on", today, "Not in the future."),
    ]
    return _modal("new", EngagementIds.new_modal, blocks, metadata)


def _engagement_context(engagement: EngagementSummary) -> ContextBlock:
    return ContextBlock(elements=[kit.md(f"{label(engagement, 200)} · {stage_line(engagement)}")])


def _next_stage(current: Stage) -> Stage | None:
    stages = list(OPEN_STAGES)
    if current not in stages:
        return None
    index = stages.index(current)
    return stages[index + 1] if index + 1 < len(stages) else None


def stage_form(engagement: EngagementSummary, *, today: date, metadata: str,
               open_deliverables: Sequence[str] = ()) -> dict[str, Any]:
    """`open_deliverables`: the current stage's, unticked; listed as a warning that does not stop the move."""
    choices = [stage for stage in OPEN_STAGES if stage is not engagement.stage]
    blocks: list[Block] = [
        _engagement_context(engagement),
        *([SectionBlock(text=kit.md(before_leaving_text(engagement.stage, list(open_deliverables))))]
          if open_deliverables else []),
        _stage_select(EngagementIds.target_stage_block, "Move to", choices, _next_stage(engagement.stage)),
        _date_input(EngagementIds.effective_date_block, "When", today, EFFECTIVE_HINT),
        _field_input(EngagementIds.note_block, "Note", multiline=True, optional=True, max_length=2000,
                      placeholder="What happened, what's next"),
    ]
    return _modal("stage", EngagementIds.stage_modal, blocks, metadata)


def close_form(engagement: EngagementSummary, *, today: date, metadata: str,
               outcome: Outcome | None = None) -> dict[str, Any]:
    options = [kit.option(text, value.value) for value, text in OUTCOME_OPTIONS.items()]
    initial = next((o for o in options if outcome and o.value == outcome.value), None)
    blocks: list[Block] = [
        _engagement_context(engagement),
        InputBlock(block_id=EngagementIds.outcome_block, label=kit.plain_text("Outcome"),
                   element=StaticSelectElement(action_id=EngagementIds.field, options=options, initial_option=initial,
                                               placeholder=kit.plain_text("Won, lost or no decision"))),
        _date_input(EngagementIds.effective_date_block, "Closed on", today, EFFECTIVE_HINT),
        _field_input(EngagementIds.note_block, "Note", multiline=True, optional=True, max_length=2000,
                      placeholder="Why it was won or lost"),
    ]
    return _modal("close", EngagementIds.close_modal, blocks, metadata)


def channel_form(engagement: EngagementSummary, *, metadata: str) -> dict[str, Any]:
    element = ConversationSelectElement(
        action_id=EngagementIds.field, placeholder=kit.plain_text("Pick a channel"), initial_conversation=engagement.channel_id,
        filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True))
    blocks: list[Block] = [
        _engagement_context(engagement),
        InputBlock(block_id=EngagementIds.channel_block, label=kit.plain_text("Deal channel"), optional=True,
                   hint=kit.plain_text(CHANNEL_FORM_HINT), element=element),
    ]
    return _modal("channel", EngagementIds.channel_modal, blocks, metadata)


def note_form(engagement: EngagementSummary, *, metadata: str) -> dict[str, Any]:
    blocks: list[Block] = [
        _engagement_context(engagement),
        _field_input(EngagementIds.note_block, "Note", multiline=True, max_length=2000,
                      placeholder="Customer asked about SSO; follow-up with DevRel on Tuesday"),
    ]
    return _modal("note", EngagementIds.note_modal, blocks, metadata)


def esat_form(prompt: EsatPrompt, *, metadata: str) -> dict[str, Any]:
    options = [kit.option(f"{score} of 5", str(score)) for score in range(1, 6)]
    initial = next((o for o in options if prompt.score is not None and o.value == str(prompt.score)), None)
    blocks: list[Block] = [
        ContextBlock(elements=[kit.md(f"*{safe(prompt.account, 200)}* ({safe(prompt.opportunity, 200)})")]),
        InputBlock(block_id=EngagementIds.outcome_block, label=kit.plain_text("Rating"),
                   element=StaticSelectElement(action_id=EngagementIds.field, options=options, initial_option=initial,
                                               placeholder=kit.plain_text("1 = poor, 5 = excellent"))),
        _field_input(EngagementIds.comment_block, "Comment", multiline=True, optional=True, max_length=2000,
                      initial=prompt.comment, placeholder="What went well, what would you change"),
    ]
    return _modal("esat", EngagementIds.esat_comment_modal, blocks, metadata)

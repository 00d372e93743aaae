"""What the message shortcuts answer: a message with nothing to search for, no open engagement to add a
message to, and the form that adds a message to an engagement as a note."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, InputBlock, StaticSelectElement

from bot.blocks import kit
from bot.blocks.devrel_forms import engagement_option
from bot.ids import EngagementIds
from bot.services.engagements import NOTE_LIMIT
from models.schemas.devrel import EngagementChoice

NOTHING_TO_SEARCH = ("This message has no words to search with (only files or attachments, perhaps). Search with "
                     "`/asset` and a few words instead, like `/asset demo observability`.")
NO_OPEN_ENGAGEMENTS = ("You have no open engagements to add this message to. Open one with `/engagement new` (or "
                       "start a practice one from epos's Home tab), then use *Add to an engagement* on the message "
                       "again.")
NOTE_FORM_TITLE = "Add to an engagement"
NOTE_FORM_SUBMIT = "Add note"
NOTE_FORM_INTRO = "Adds this message as a note on one of your open engagements, with a link back to it."
NOTE_FORM_CLIPPED = ("⚠️ The message is {length:,} characters and a note holds {limit:,}: it was clipped at the end, and the "
                     "note says so. Edit it below if another part matters more.")
PICK_ENGAGEMENT = "Pick the engagement to add the note to."


def nothing_to_search() -> dict[str, Any]:
    return kit.message(NOTHING_TO_SEARCH, [ContextBlock(elements=[kit.md(NOTHING_TO_SEARCH)])])


def no_open_engagements() -> dict[str, Any]:
    return kit.message(NO_OPEN_ENGAGEMENTS, [ContextBlock(elements=[kit.md(NO_OPEN_ENGAGEMENTS)])])


def message_note_form(choices: list[EngagementChoice], selected: EngagementChoice | None, note: str, *,
                      clipped_from: int | None, metadata: str) -> dict[str, Any]:
    """The engagement to add the message to (the deal channel's picked when it is one of the person's) and
    the note, prefilled with the message and its link, for the person to read before adding it."""
    options = [engagement_option(choice) for choice in choices[:100]]
    blocks: list[Block] = [ContextBlock(elements=[kit.md(NOTE_FORM_INTRO)])]
    if clipped_from is not None:
        warning = NOTE_FORM_CLIPPED.format(length=clipped_from, limit=NOTE_LIMIT)
        blocks.append(ContextBlock(elements=[kit.md(warning)]))
    blocks.append(InputBlock(
        block_id=EngagementIds.engagement_block, label=kit.plain_text("Engagement"),
        element=StaticSelectElement(action_id=EngagementIds.field, options=options,
                                    initial_option=engagement_option(selected) if selected else None,
                                    placeholder=kit.plain_text("Pick one of your open engagements"))))
    blocks.append(kit.text_input(EngagementIds.note_block, "Note", action_id=EngagementIds.field, initial=note,
                                 multiline=True, max_length=NOTE_LIMIT))
    return kit.modal(EngagementIds.message_note_modal, NOTE_FORM_TITLE, blocks, submit=NOTE_FORM_SUBMIT,
                     close="Cancel", metadata=metadata)

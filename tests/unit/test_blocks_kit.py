"""The shared Block Kit pieces: one rule for a message over Slack's 50 blocks, and limits applied alike."""

from __future__ import annotations

import pytest
from slack_sdk.models.blocks import DividerBlock, SectionBlock

from bot.blocks import kit
from bot.blocks.text import MESSAGE_BLOCKS


def test_a_message_of_fifty_blocks_keeps_every_block_in_order() -> None:
    blocks = [SectionBlock(text=kit.md(f"line {n}")) for n in range(MESSAGE_BLOCKS)]

    built = kit.message("fallback", blocks)

    assert [block["text"]["text"] for block in built["blocks"]] == [f"line {n}" for n in range(MESSAGE_BLOCKS)]
    assert built["text"] == "fallback"


def test_a_message_over_fifty_blocks_is_refused_rather_than_cut() -> None:
    # Cutting would drop the last blocks (buttons, "…and N more") unseen; Slack refuses the whole post anyway.
    blocks = [DividerBlock()] * (MESSAGE_BLOCKS + 1)

    with pytest.raises(ValueError, match="51 blocks"):
        kit.message("fallback", blocks)


def test_a_long_button_label_is_shortened_with_an_ellipsis_and_its_value_kept_within_the_limit() -> None:
    button = kit.button("Share " + "x" * 200, "share", "v" * 3000).to_dict()

    assert len(button["text"]["text"]) == 75 and button["text"]["text"].endswith("…")
    assert len(button["value"]) == 2000


def test_a_modal_title_and_buttons_are_clipped_to_slacks_24_characters() -> None:
    view = kit.modal("cb", "A title far longer than Slack allows", [SectionBlock(text=kit.md("hi"))],
                     submit="Save these changes right now", close="Cancel")

    assert view["title"]["text"] == "A title far longer than…"
    assert view["submit"]["text"] == "Save these changes righ…"
    assert view["close"]["text"] == "Cancel"
    assert view["callback_id"] == "cb"


def test_a_prefilled_text_input_never_holds_more_than_it_accepts() -> None:
    block = kit.text_input("title", "Title", action_id="field", initial="y" * 300, max_length=100).to_dict()

    assert block["element"]["initial_value"] == "y" * 100
    assert block["element"]["max_length"] == 100

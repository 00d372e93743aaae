"""Search answers reuse each card's checked Block Kit: never stale, never another viewer's buttons."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.blocks import assets as blocks
from bot.ids import AssetIds
from models.schemas.assets import AssetRights, ViewedAsset
from tests.unit.test_assets_blocks import card, page


def fresh(viewed: ViewedAsset) -> list[dict]:
    return [block.to_dict() for block in blocks.card_blocks(viewed)]


def action_ids(dicts: list[dict]) -> list[str]:
    return [element["action_id"] for block in dicts if block["type"] == "actions" for element in block["elements"]]


def test_a_page_of_results_is_the_cards_as_card_blocks_builds_them() -> None:
    answer = page(4)

    first = blocks.results_message(answer)
    again = blocks.results_message(answer)

    assert first == again
    cards = [fresh(item) for item in answer.items]
    shown = [block for block in first["blocks"] if block["type"] != "divider"][1:]
    assert shown[: sum(len(c) for c in cards)] == [block for c in cards for block in c]
    for block in Block.parse_all(first["blocks"]):
        block.validate_json()


def test_a_vote_or_an_edit_shows_at_once() -> None:
    before = ViewedAsset(card=card(7, useful_count=3))
    blocks.card_dicts(before)

    voted = blocks.card_dicts(ViewedAsset(card=card(7, useful_count=4)))
    edited = blocks.card_dicts(ViewedAsset(card=card(7, useful_count=3, title="Observability demo, revised")))

    assert "👍 4" in str(voted) and "👍 3" not in str(voted)
    assert "Observability demo, revised" in str(edited)


def test_the_owner_and_someone_else_see_their_own_buttons_for_the_same_card() -> None:
    same = card(9)
    owner = blocks.card_dicts(ViewedAsset(card=same, rights=AssetRights(edit=True, archive=True)))
    other = blocks.card_dicts(ViewedAsset(card=same))
    owner_again = blocks.card_dicts(ViewedAsset(card=same, rights=AssetRights(edit=True, archive=True)))

    assert AssetIds.edit in action_ids(owner) and AssetIds.archive in action_ids(owner)
    assert AssetIds.edit not in action_ids(other) and AssetIds.archive not in action_ids(other)
    assert owner_again == owner


def test_the_score_does_not_change_the_card_and_each_caller_gets_its_own_copy() -> None:
    high = blocks.card_dicts(ViewedAsset(card=card(11), score=99.0))
    high[0]["text"]["text"] = "changed by a caller"
    low = blocks.card_dicts(ViewedAsset(card=card(11), score=12.0))

    assert low == fresh(ViewedAsset(card=card(11)))


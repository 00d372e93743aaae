"""Block Kit builders for assets: what people see, escaped and within Slack's limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.blocks import assets as blocks
from bot.codecs import AssetForm, AssetPage
from bot.ids import AssetIds
from handlers.assets.forms import read_form
from models.enums import AssetStatus, AssetType
from models.schemas.assets import (
    AssetCard,
    AssetFields,
    AssetList,
    AssetRights,
    SearchPage,
    ViewedAsset,
    field_problems,
)
from tests.assets_helpers import buttons, card_titles, form_values
from tests.support.text import all_text

WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def card(asset_id: int = 7, **overrides: object) -> AssetCard:
    values: dict[str, object] = dict(
        id=asset_id, title=f"Observability demo {asset_id}", type="demo", summary="Alert to root cause.",
        url=f"https://assets.example.com/{asset_id}", topics=["observability", "apm"], products=["Observability"],
        depth="low", scope="broad", interactivity="presentation", cycle="early", owner_id="U0A1B2C3D",
        status="published", created_at=WHEN, updated_at=WHEN, share_count=2, useful_count=3, not_useful_count=1,
    )
    values.update(overrides)
    return AssetCard.model_validate(values)


def page(count: int, *, total: int | None = None, offset: int = 0, query: str = "demo observability",
         suggestions: list[str] | None = None, asset_type: AssetType | None = AssetType.demo,
         terms: list[str] | None = None, **extra: object) -> SearchPage:
    items = [ViewedAsset(card=card(offset + n + 1), score=90.0 - n) for n in range(count)]
    terms = ["observability"] if terms is None else terms
    return SearchPage(query=query, asset_type=asset_type, terms=terms, words=extra.pop("words", terms),
                      items=items, total=count if total is None else total, offset=offset, limit=10,
                      suggestions=suggestions or [], **extra)


def valid(message: dict) -> list[dict]:
    for block in Block.parse_all(message["blocks"]):
        block.validate_json()
    assert message["text"]
    return message["blocks"]


def test_a_card_links_its_title_and_shows_facts_and_owner() -> None:
    rendered = [b.to_dict() for b in blocks.card_blocks(ViewedAsset(card=card()))]
    assert rendered[0]["text"]["text"].startswith("*<https://assets.example.com/7|Observability demo 7>*\nAlert")
    facts = [e["text"] for e in rendered[1]["elements"]]
    assert facts[0] == "*Demo* · Low depth · Broad scope · Presentation · Early cycle · Internal only"
    assert facts[1] == "Owner <@U0A1B2C3D> · 👍 3 · 👎 1 · shared 2×"
    assert [b["action_id"] for b in rendered[2]["elements"]] == ["asset_share", "asset_useful", "asset_not_useful"]
    assert {b["value"] for b in rendered[2]["elements"]} == {"7"}


def test_a_card_says_when_an_asset_is_customer_facing() -> None:
    rendered = [b.to_dict() for b in blocks.card_blocks(ViewedAsset(card=card(customer_facing=True)))]
    assert rendered[1]["elements"][0]["text"].endswith("· Early cycle · Customer-facing")


def test_the_form_asks_for_the_audience_internal_by_default_and_keeps_it_on_edit() -> None:
    def audience(view: dict) -> dict:
        return next(b for b in view["blocks"] if b.get("block_id") == AssetIds.audience_block)

    added = audience(blocks.asset_form(mode="add", owner_id="U0A1B2C3D"))
    assert added["element"]["initial_option"]["value"] == "internal"
    edited = audience(blocks.asset_form(mode="edit", owner_id="U0A1B2C3D", initial=card(customer_facing=True), asset_id=7))
    assert edited["element"]["initial_option"]["value"] == "customer_facing"
    values = {AssetIds.audience_block: {AssetIds.field: {"type": "static_select",
                                                          "selected_option": {"value": "customer_facing"}}}}
    assert read_form(values)["customer_facing"] is True


def test_curation_buttons_follow_rights_and_archive_asks_first() -> None:
    viewed = ViewedAsset(card=card(status="draft"), rights=AssetRights(edit=True, publish=True, archive=True))
    actions = [b.to_dict() for b in blocks.card_blocks(viewed)][-1]["elements"]
    assert [b["action_id"] for b in actions] == ["asset_publish", "asset_edit_open", "asset_archive"]
    archive = actions[-1]
    assert archive["style"] == "danger" and archive["confirm"]["title"]["text"] == "Archive this asset?"
    restore = ViewedAsset(card=card(status="archived"), rights=AssetRights(edit=True, restore=True))
    assert [b["action_id"] for b in [x.to_dict() for x in blocks.card_blocks(restore)][-1]["elements"]] == [
        "asset_edit_open", "asset_restore"]


def test_user_text_is_escaped_everywhere_it_is_echoed() -> None:
    evil = card(title="<!channel> & <@U0BOSS> demo", summary="Click <https://evil.example|here> <!here>",
                topics=["<!everyone>"])
    text = all_text(valid(blocks.card_message(ViewedAsset(card=evil))))
    for raw in ("<!channel>", "<!here>", "<!everyone>", "<@U0BOSS>", "<https://evil"):
        assert raw not in text
    assert "&lt;!channel&gt; &amp; &lt;@U0BOSS&gt; demo" in text
    answer = blocks.results_message(page(0, query="<!channel> quantum"))
    assert "No assets match *&lt;!channel&gt; quantum*." in all_text(valid(answer))
    assert "<!channel>" not in all_text(answer["blocks"])


def test_results_show_at_most_ten_with_paging() -> None:
    first = valid(blocks.results_message(page(10, total=23)))
    assert len(card_titles(first)) == 10
    assert "*23* Demos for *observability* (showing 1–10)" in all_text(first)
    paging = [b for b in buttons(first) if b["action_id"] in ("asset_next_page", "asset_previous_page")]
    assert [(b["action_id"], (lambda v: (v.query, v.offset))(AssetPage.decode(b["value"]))) for b in paging] == [
        ("asset_next_page", ("demo observability", 10))]
    middle = valid(blocks.results_message(page(10, total=23, offset=10)))
    assert [AssetPage.decode(b["value"]).offset for b in buttons(middle) if "page" in b["action_id"]] == [0, 20]
    assert "Page 2 of 3" in all_text(middle)
    last = valid(blocks.results_message(page(3, total=23, offset=20)))
    assert [b["action_id"] for b in buttons(last) if "page" in b["action_id"]] == ["asset_previous_page"]


def test_a_page_that_fits_has_no_paging() -> None:
    rendered = valid(blocks.results_message(page(4)))
    assert not [b for b in buttons(rendered) if "page" in b["action_id"]]
    assert "*4* Demos for *observability*" in all_text(rendered)


def test_no_match_offers_suggestions_and_adding_an_asset() -> None:
    rendered = valid(blocks.results_message(page(0, query="demo obsrvbility", suggestions=["observability", "obs"])))
    actions = buttons(rendered)
    assert [(b["action_id"], b["value"]) for b in actions[:2]] == [
        ("asset_rerun:0", "demo observability"), ("asset_rerun:1", "demo obs")]
    assert actions[-1]["action_id"] == "asset_add_open"
    assert card_titles(rendered) == []


def test_a_query_with_nothing_to_search_for_says_so() -> None:
    rendered = valid(blocks.results_message(page(0, query="the of", asset_type=None, terms=[])))
    assert "epos found no asset type or topic in" in all_text(rendered)


def test_help_explains_the_grammar_and_the_four_types() -> None:
    text = all_text(valid(blocks.help_message()))
    assert "`/asset demo observability`" in text
    for label in ("Demo", "Feature Walkthrough", "Proofshop", "Marketing Workshop"):
        assert f"*{label}*:" in text
    assert "`/asset add`" in text and "`/asset drafts`" in text


def test_lists_stay_within_a_message() -> None:
    listing = AssetList(kind="drafts", items=[ViewedAsset(card=card(n, status="draft")) for n in range(1, 11)], total=14)
    rendered = valid(blocks.list_message(listing))
    assert len(rendered) <= 50
    assert "Showing 10 of 14." in all_text(rendered)
    assert "No drafts await review." in all_text(valid(blocks.list_message(AssetList(kind="drafts", items=[], total=0))))


def test_the_form_has_every_taxonomy_field_and_defaults_the_owner() -> None:
    view = blocks.asset_form(mode="add", owner_id="U0A1B2C3D", will_be_draft=True)
    View(**view).validate_json()
    ids = [b.get("block_id") for b in view["blocks"] if b["type"] == "input"]
    assert ids == ["asset_title", "asset_type", "asset_summary", "asset_url", "asset_parts", "asset_topics",
                   "asset_products", "asset_depth", "asset_scope", "asset_interactivity", "asset_cycle",
                   "asset_audience", "asset_owner", "asset_partner", "asset_verifier", "asset_review_days"]
    owner = next(b for b in view["blocks"] if b.get("block_id") == "asset_owner")["element"]
    assert owner == {**owner, "type": "users_select", "initial_user": "U0A1B2C3D"}
    assert view["callback_id"] == "asset_add" and "draft" in view["blocks"][0]["text"]["text"]


def test_the_edit_form_is_prefilled() -> None:
    view = blocks.asset_form(mode="edit", owner_id="U0B2C3D4E", initial=card(owner_id="U0B2C3D4E"), asset_id=7)
    by_id = {b.get("block_id"): b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert by_id["asset_title"]["initial_value"] == "Observability demo 7"
    assert by_id["asset_type"]["initial_option"]["value"] == "demo"
    assert by_id["asset_topics"]["initial_value"] == "observability, apm"
    assert by_id["asset_interactivity"]["initial_option"]["value"] == "presentation"
    assert AssetForm.decode(view["private_metadata"]).asset_id == 7 and view["callback_id"] == "asset_edit"


def test_submitted_form_reads_into_fields_and_errors_land_on_their_blocks() -> None:
    fields = AssetFields.model_validate(read_form(form_values(type="proofshop", interactivity="hands-on")))
    assert fields.type == AssetType.proofshop and fields.topics == ["observability", "tracing"]
    with pytest.raises(Exception) as failed:
        AssetFields.model_validate(read_form(form_values(title="  ", type=None, url="javascript:alert(1)")))
    errors = blocks.form_errors(field_problems(failed.value))
    assert errors == {
        AssetIds.title_block: "Give the asset a title.",
        AssetIds.type_block: "Choose the asset's type.",
        AssetIds.url_block: "The link must start with http:// or https:// and name a host, like https://example.com/demo.",
    }


def test_too_long_titles_and_links_are_refused_on_their_blocks() -> None:
    too_long = form_values(title="x" * 201, url="https://assets.example.com/" + "a" * 1990)
    with pytest.raises(Exception) as failed:
        AssetFields.model_validate(read_form(too_long))
    errors = blocks.form_errors(field_problems(failed.value))
    assert errors[AssetIds.title_block] == "The title is longer than 200 characters."
    assert errors[AssetIds.url_block] == "The link is 2017 characters long; at most 2000 are allowed."


@given(st.text(max_size=600))
def test_any_query_renders_a_valid_no_match_answer(query: str) -> None:
    rendered = blocks.results_message(page(0, query=query, suggestions=["observability"]))
    text = all_text(valid(rendered)) + rendered["text"]
    assert "<!" not in text and "<@" not in text


@given(st.text(min_size=1, max_size=400), st.text(max_size=4000))
def test_any_title_and_summary_make_a_valid_card(title: str, summary: str) -> None:
    everything = AssetRights(edit=True, publish=True, archive=True, restore=True)
    viewed = ViewedAsset(card=card(title=title, summary=summary, status=AssetStatus.draft), rights=everything)
    rendered = blocks.card_message(viewed)
    text = all_text(valid(rendered)) + rendered["text"]
    assert "<!" not in text and "<#" not in text


def test_an_edit_names_what_changed_in_the_forms_words_never_a_column_name() -> None:
    from bot.services.asset_curation import CONTENT_FIELDS

    assert [field for field in CONTENT_FIELDS if "_" in blocks.FIELD_WORDS.get(field, field)] == []

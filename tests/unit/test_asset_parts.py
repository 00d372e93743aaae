"""An asset's parts (labelled links besides its main link) and a Marketing Workshop's partner: the form,
the card, import and export, and search reading part labels lightly."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.blocks import assets as blocks
from bot.ids import AssetIds
from bot.search import AssetIndex, SearchDoc
from bot.services import assets
from bot.services.actors import Actor
from handlers.assets.forms import read_form
from models.schemas.assets import AssetFields, ViewedAsset, field_problems
from tests.assets_helpers import form_values
from tests.conftest import ADMIN, SE
from tests.support.text import all_text

CURATOR = Actor(user_id=ADMIN, admin=True)
PARTNER = "U0MKT0001"
PARTS = ("Student notebooks: https://assets.example.com/ws/notebooks\n"
         "Instructor deck | https://assets.example.com/ws/deck")


def workshop_form(**overrides: object) -> dict:
    values: dict[str, object] = dict(type="workshop", title="Fraud detection hands-on lab",
                                     url="https://assets.example.com/ws/fraud", parts=PARTS, partner=PARTNER)
    values.update(overrides)
    return form_values(**values)  # type: ignore[arg-type]


def form_errors(values: dict) -> dict[str, str]:
    with pytest.raises(ValidationError) as failed:
        AssetFields.model_validate(read_form(values))
    return blocks.form_errors(field_problems(failed.value))


def test_the_form_saves_parts_and_partner_and_the_edit_form_gives_them_back(database_url: str) -> None:
    fields = AssetFields.model_validate(read_form(workshop_form()))
    card = assets.create(fields, CURATOR, admins_configured=True).card
    assert [(p.label, p.url) for p in card.parts] == [
        ("Student notebooks", "https://assets.example.com/ws/notebooks"),
        ("Instructor deck", "https://assets.example.com/ws/deck")]
    assert card.partner_id == PARTNER

    view = blocks.asset_form(mode="edit", owner_id=SE, initial=assets.editable(card.id, CURATOR), asset_id=card.id)
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    shown_parts = inputs[AssetIds.parts_block]["initial_value"]
    assert shown_parts == ("Student notebooks: https://assets.example.com/ws/notebooks\n"
                           "Instructor deck: https://assets.example.com/ws/deck")
    assert inputs[AssetIds.partner_block]["initial_user"] == PARTNER
    # Submitted again unchanged, the form changes nothing.
    again = AssetFields.model_validate(read_form(workshop_form(parts=shown_parts)))
    assert assets.update(card.id, again, CURATOR, admins_configured=True).changed == []


def test_the_card_links_each_part_and_mentions_the_partner(database_url: str) -> None:
    card = assets.create(AssetFields.model_validate(read_form(workshop_form())), CURATOR, admins_configured=True).card
    text = all_text([b.to_dict() for b in blocks.card_blocks(ViewedAsset(card=card))])
    assert ("Parts: <https://assets.example.com/ws/notebooks|Student notebooks> · "
            "<https://assets.example.com/ws/deck|Instructor deck>") in text
    assert f"Marketing partner <@{PARTNER}>" in text


@pytest.mark.parametrize(("parts", "message"), [
    ("Script: ftp://assets.example.com/s",
     "The link of the part 'Script' must start with http:// or https:// and name a host, like https://example.com/demo."),
    ("https://assets.example.com/s",
     "Give the link 'https://assets.example.com/s' a label before it, like `Student notebooks: https://…`."),
    ("Success criteria",
     "Add the link after 'Success criteria', like `Student notebooks: https://…`."),
    ("Deck: https://a.example.com/1\ndeck: https://a.example.com/2",
     "Two parts are labelled 'deck'; give each part its own label."),
    ("x" * 61 + ": https://a.example.com/1", "The part label 'xxxxxxxxxxxxxxxxxxxx'… is longer than 60 characters."),
])
def test_a_bad_part_is_refused_on_the_parts_field_saying_what_to_fix(parts: str, message: str) -> None:
    assert form_errors(workshop_form(parts=parts)) == {AssetIds.parts_block: message}


def test_only_a_marketing_workshop_may_name_a_partner() -> None:
    assert form_errors(workshop_form(type="demo")) == {AssetIds.partner_block: (
        "Only a Marketing Workshop has a marketing partner; clear the partner, or make the type Marketing Workshop.")}


@pytest.mark.parametrize("fmt", ["yaml", "csv"])
def test_export_and_import_keep_parts_and_partner(fmt: str) -> None:
    record = {
        "title": "Fraud detection hands-on lab", "type": "workshop", "summary": "Lab.", "url": "https://a.example.com/ws",
        "topics": ["fraud"], "products": [], "depth": "low", "scope": "broad", "interactivity": "hands_on",
        "cycle": "early", "owner": SE, "status": "published", "customer_facing": False,
        "parts": [{"label": "Student notebooks", "url": "https://a.example.com/ws/nb?a=1;b=2"},
                  {"label": "Instructor deck", "url": "https://a.example.com/ws/deck"}],
        "partner": PARTNER,
    }
    text = assets.render_export([record], fmt)  # type: ignore[arg-type]
    [read] = assets.parse_catalogue(text, fmt)  # type: ignore[arg-type]
    assert [part.model_dump() for part in read.parts] == record["parts"]
    assert read.partner_id == PARTNER


def test_search_finds_a_part_label_but_ranks_it_below_a_title_match() -> None:
    index = AssetIndex([
        SearchDoc(id=1, title="Kubernetes monitoring lab", type="workshop", parts=("Student notebooks",)),
        SearchDoc(id=2, title="Notebooks for data scientists", type="workshop"),
        SearchDoc(id=3, title="Observability fundamentals", type="workshop"),
    ])
    result = index.search("notebooks")
    assert [hit.id for hit in result.hits] == [2, 1]
    assert result.hits[0].score > result.hits[1].score

"""Searches answered only in part are content gaps too, and a corrected typo is said out loud; headers
echo the topic without the type word."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot import db
from bot.blocks import assets as blocks
from bot.blocks import digest as digest_blocks
from bot.services import assets, digest
from bot.services.actors import Actor
from models.assets import SearchMiss
from models.enums import AssetType
from models.schemas.assets import AssetFields, SearchPage
from models.schemas.digest import SearchGap
from tests.conftest import ADMIN, SE
from tests.support.text import all_text
from tests.unit.test_digest_blocks import assert_within_limits, name_of, sample

SEARCHER = Actor(user_id=SE)
CURATOR = Actor(user_id=ADMIN, admin=True)
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def add(title: str, asset_type: str, topics: str) -> None:
    fields = AssetFields.model_validate({"title": title, "type": asset_type, "topics": topics, "owner_id": SE,
                                         "url": f"https://assets.example.com/{title.replace(' ', '-').lower()}"})
    assets.create(fields, CURATOR, admins_configured=True)


def gaps() -> list[tuple[str, list[str], list[str]]]:
    with db.reading() as session:
        return [(m.query, m.matched, m.unmatched) for m in session.scalars(select(SearchMiss).order_by(SearchMiss.id))]


def test_a_search_that_matched_only_a_minor_word_is_a_partial_gap_curators_see(database_url: str) -> None:
    add("Threat detection lab", "workshop", "security, detection")
    add("Observability in 15 minutes", "demo", "observability")

    page = assets.search("fraud detection workshop", actor=SEARCHER, now=NOW)
    assert [item.card.title for item in page.items] == ["Threat detection lab"]
    assert (page.matched, page.unmatched) == (["detection"], ["fraud"])
    header = all_text(blocks.results_message(page)["blocks"])
    assert "No asset matches all of *fraud detection*; the best match covers only *detection*." in header
    # The next page of the same search is not a second gap; a full answer is none at all.
    assets.search("fraud detection workshop", actor=SEARCHER, offset=10, now=NOW)
    assets.search("observability demo", actor=SEARCHER, now=NOW)
    assets.search("quantum workshop", actor=SEARCHER, now=NOW)
    assert gaps() == [("workshop fraud detection", ["detection"], ["fraud"]), ("workshop quantum", [], [])]

    week = NOW - timedelta(days=2), NOW + timedelta(days=5)
    assert digest.searches_without_results(*week) == [SearchGap(query="workshop quantum", count=1)]
    assert digest.searches_partly_answered(*week) == [
        SearchGap(query="workshop fraud detection", count=1, matched=["detection"], unmatched=["fraud"])]

    figures = sample(searches_without_results=digest.searches_without_results(*week),
                     searches_partly_answered=digest.searches_partly_answered(*week))
    rendered, _ = digest_blocks.digest_message(figures, name_of)
    assert_within_limits(rendered)
    text = all_text([b.to_dict() for b in rendered])
    assert "*Searches that found nothing*" in text and "“workshop quantum” · 1×" in text
    assert "“workshop fraud detection” · 1× · nothing on *fraud*, found detection" in text
    assert "nothing on fraud, found detection" in digest_blocks.digest_text(figures, name_of)
    assert figures.figures()["searches_partly_answered"] == [
        {"query": "workshop fraud detection", "count": 1, "matched": ["detection"], "unmatched": ["fraud"]}]
    assert figures.figures()["searches_without_results"] == [{"query": "workshop quantum", "count": 1}]


def test_many_gaps_of_both_kinds_share_one_section_within_limits() -> None:
    misses = [SearchGap(query=f"query {i} " + "x" * 140, count=1) for i in range(10)]
    partial = [SearchGap(query=f"half {i} " + "y" * 140, count=2, matched=["y" * 90], unmatched=["z" * 90])
               for i in range(10)]
    rendered, _ = digest_blocks.digest_message(
        sample(searches_without_results=misses, searches_partly_answered=partial), name_of)
    assert_within_limits(rendered)
    text = all_text([b.to_dict() for b in rendered])
    assert "*Searches that found only part of what was asked*" in text and "…and" in text


def test_a_corrected_typo_is_said_and_the_header_does_not_repeat_the_type_word(database_url: str) -> None:
    add("Observability in 15 minutes", "demo", "observability")
    page = assets.search("demo obervability", actor=SEARCHER)
    assert page.corrections == [["obervability", "observability"]]
    text = all_text(blocks.results_message(page)["blocks"])
    assert "*1* Demo for *obervability*" in text
    assert "Showing results for *observability* (you typed *obervability*)" in text
    # Spelled right, nothing is said about typing.
    assert "you typed" not in all_text(blocks.results_message(assets.search("demo observability"))["blocks"])


def test_headers_name_the_topic_without_the_type_word() -> None:
    def header(**values: object) -> str:
        page = SearchPage.model_validate({"asset_type": AssetType.demo, "terms": [], "items": [], "total": 5,
                                          "offset": 0, "limit": 10, "suggestions": []} | values)
        return blocks.results_header(page)

    assert header(query="demos for observability", terms=["observability"], words=["observability"]) == \
        "*5* Demos for *observability*"
    assert header(query="demos") == "*5* Demos"
    assert header(query="k8s demo", terms=["kubernetes"], words=["k8s"]) == "*5* Demos for *k8s*"

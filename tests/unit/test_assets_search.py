"""The search service: published assets only, content gaps recorded, and an index that follows every write."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select

from bot import db
from bot.services import asset_index, assets
from bot.services.actors import Actor
from models.assets import Asset, SearchMiss
from models.enums import AssetType
from models.schemas.assets import AssetCard, AssetFields
from tests.assets_helpers import asset_by_title
from tests.conftest import ADMIN, SE

SEARCHER = Actor(user_id=SE)
CURATOR = Actor(user_id=ADMIN, admin=True)
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def titles(page: assets.SearchPage) -> list[str]:
    return [item.card.title for item in page.items]


def misses() -> list[tuple[str, str, datetime]]:
    with db.reading() as session:
        return [(m.query, m.user_id, m.searched_at) for m in session.scalars(select(SearchMiss).order_by(SearchMiss.id))]


def test_demo_observability_gives_published_observability_demos_best_first(catalogue: None) -> None:
    page = assets.search("demo observability", actor=SEARCHER)
    assert page.asset_type == AssetType.demo and page.terms == ["observability"]
    assert page.total == len(page.items) >= 3
    for item in page.items:
        assert item.card.type == AssetType.demo
        assert item.card.status == "published"
        assert "observability" in [t.lower() for t in item.card.topics] + item.card.title.lower().split()
    scores = [item.score for item in page.items]
    assert scores == sorted(scores, reverse=True)
    # The archived demo about observability never shows, however well it matches.
    assert "Legacy monitoring dashboard tour (classic UI)" not in titles(page)
    assert titles(page)[0] == "Observability in 15 minutes: from alert to root cause"


@pytest.mark.parametrize(
    ("query", "asset_type", "topic"),
    [("k8s walk-throughs", AssetType.feature_walkthrough, "kubernetes"),
     ("obsrvability demos", AssetType.demo, "observability"),
     ("proof shop securty", AssetType.proofshop, "security")],
)
def test_type_words_abbreviations_and_typos(catalogue: None, query: str, asset_type: AssetType, topic: str) -> None:
    page = assets.search(query, actor=SEARCHER)
    assert page.items and page.asset_type == asset_type
    assert all(item.card.type == asset_type for item in page.items)
    assert topic in page.items[0].card.topics


def test_drafts_are_not_searchable(catalogue: None) -> None:
    page = assets.search("migrating self-managed logging stack", actor=SEARCHER)
    assert "Migrating from a self-managed logging stack in a day" not in titles(page)


def test_a_query_that_finds_nothing_is_recorded_once_normalised(catalogue: None) -> None:
    page = assets.search("Demos  Quantum BLOCKCHAIN", actor=SEARCHER, now=NOW)
    assert page.total == 0 and page.items == []
    assert misses() == [("demo quantum blockchain", SE, NOW)]


def test_the_command_line_and_empty_queries_record_no_miss(catalogue: None) -> None:
    assert assets.search("quantum blockchain").total == 0
    page = assets.search("the of and", actor=SEARCHER)
    assert not page.understood and page.total == 0
    assert misses() == []


def test_paging_walks_the_same_ranking(catalogue: None) -> None:
    everything = assets.search("observability", actor=SEARCHER, limit=50)
    assert everything.total > 10
    first = assets.search("observability", actor=SEARCHER)
    second = assets.search("observability", actor=SEARCHER, offset=10)
    assert len(first.items) == 10 and first.has_next and not first.has_previous
    assert second.has_previous and second.offset == 10
    assert titles(first) + titles(second) == titles(everything)[: len(first.items) + len(second.items)]


def test_the_index_follows_this_process_edits_and_archives(catalogue: None) -> None:
    row = asset_by_title("Kubernetes cluster health at a glance")
    assert "Kubernetes cluster health at a glance" in titles(assets.search("glance"))
    fields = AssetFields(
        title="Fleet health for container platforms", type=row.type, summary=row.summary, url=row.url,
        topics=["containers"], products=row.products, owner_id=row.owner_id,
    )
    assets.update(row.id, fields, CURATOR, admins_configured=True)
    assert "Fleet health for container platforms" in titles(assets.search("container platforms"))
    assert assets.search("glance").total == 0  # the old title's words left the index
    assets.archive(row.id, CURATOR)
    assert "Fleet health for container platforms" not in titles(assets.search("container platforms"))
    assets.restore(row.id, CURATOR, admins_configured=True)
    assert "Fleet health for container platforms" in titles(assets.search("container platforms"))


def test_the_index_catches_up_with_writes_from_another_process(catalogue: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert assets.warm_index() == 37
    row = asset_by_title("Kubernetes cluster health at a glance")
    draft = asset_by_title("Migrating from a self-managed logging stack in a day")
    # Another replica has an index of its own: its writes never touch ours, only the database.
    ours = asset_index._state
    monkeypatch.setattr(asset_index, "_state", asset_index._IndexState())
    assets.archive(row.id, CURATOR)
    assets.publish(draft.id, CURATOR)
    created = assets.create(
        AssetFields(title="Quantum-safe TLS rollout", type="proofshop", url="https://assets.example.com/pqc",
                    topics=["cryptography"], owner_id=ADMIN),
        CURATOR, admins_configured=True,
    )
    monkeypatch.setattr(asset_index, "_state", ours)
    assert ours.index is not None and len(ours.index) == 37  # not yet seen
    assert "Kubernetes cluster health at a glance" not in titles(assets.search("kubernetes"))
    assert titles(assets.search("migrating logging stack"))[0] == "Migrating from a self-managed logging stack in a day"
    assert titles(assets.search("proofshop cryptography")) == [created.card.title]
    assert len(ours.index) == 38


def test_votes_from_another_process_reach_the_ranking(catalogue: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assets.warm_index()
    ours = asset_index._state
    tied = [i for i in assets.search("security").items]
    underdog = tied[-1].card
    monkeypatch.setattr(asset_index, "_state", asset_index._IndexState())
    for voter in ("U0VOTER01", "U0VOTER02", "U0VOTER03"):
        assets.vote(underdog.id, voter, True)
    monkeypatch.setattr(asset_index, "_state", ours)
    after = {item.card.id: item.score for item in assets.search("security").items}
    assert after[underdog.id] > tied[-1].score


def test_recommend_picks_the_best_published_assets_of_the_given_types(catalogue: None) -> None:
    picks = assets.recommend("observability", [AssetType.demo, AssetType.proofshop], limit=3)
    assert len(picks) == 3
    assert {card.type for card in picks} <= {AssetType.demo, AssetType.proofshop}
    assert all(card.status == "published" for card in picks)
    assert picks[0].title == "Observability in 15 minutes: from alert to root cause"
    assert assets.recommend("quantum blockchain", [AssetType.demo]) == []
    assert misses() == []
    any_workshop = assets.recommend("", [AssetType.workshop], limit=2)
    assert len(any_workshop) == 2 and all(card.type == AssetType.workshop for card in any_workshop)


def test_the_index_can_be_built_off_the_request_path_at_start(catalogue: None) -> None:
    assets.reset_index()
    assets.warm_index_in_background().join(timeout=30)
    assert asset_index._state.index is not None and len(asset_index._state.index) == 37


# ----- the cards a process keeps beside its index ---------------------------------------------------

GLANCE = "Kubernetes cluster health at a glance"


def shown(query: str, title: str) -> AssetCard:
    return next(item.card for item in assets.search(query, actor=SEARCHER).items if item.card.title == title)


@contextmanager
def writes_from(elsewhere: bool, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Writes made here, or by another replica, whose index and cards are its own."""
    if not elsewhere:
        yield
        return
    ours = asset_index._state
    monkeypatch.setattr(asset_index, "_state", asset_index._IndexState())
    yield
    monkeypatch.setattr(asset_index, "_state", ours)


@pytest.mark.parametrize("elsewhere", [False, True], ids=["this process", "another process"])
def test_votes_shares_and_edits_show_on_the_next_search(
    catalogue: None, monkeypatch: pytest.MonkeyPatch, elsewhere: bool
) -> None:
    before = shown("glance", GLANCE)
    row = asset_by_title(GLANCE)
    with writes_from(elsewhere, monkeypatch):
        assets.vote(row.id, "U0VOTER01", True)
        assets.record_share(row.id, SE, "C0SHARES1")
    after = shown("glance", GLANCE)
    assert (after.useful_count, after.share_count) == (before.useful_count + 1, before.share_count + 1)
    with writes_from(elsewhere, monkeypatch):
        assets.update(row.id, AssetFields(
            title=row.title, type=row.type, summary="Node pressure, restarts and pending pods on one screen.",
            url=row.url, topics=row.topics, products=row.products, owner_id=row.owner_id,
        ), CURATOR, admins_configured=True)
    assert shown("glance", GLANCE).summary == "Node pressure, restarts and pending pods on one screen."
    with writes_from(elsewhere, monkeypatch):
        assets.archive(row.id, CURATOR)
    assert GLANCE not in titles(assets.search("glance", actor=SEARCHER))
    with writes_from(elsewhere, monkeypatch):
        assets.restore(row.id, CURATOR, admins_configured=True)
    assert shown("glance", GLANCE).summary == "Node pressure, restarts and pending pods on one screen."


def test_a_repeated_search_reads_no_asset_rows(catalogue: None) -> None:
    first = assets.search("observability", actor=SEARCHER)
    statements: list[str] = []

    def remember(_connection: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    event.listen(db.engine(), "before_cursor_execute", remember)
    try:
        again = assets.search("observability", actor=SEARCHER)
    finally:
        event.remove(db.engine(), "before_cursor_execute", remember)
    assert again.items == first.items
    assert statements and not [s for s in statements if "FROM assets" in s]


def test_a_vote_landing_while_cards_are_read_is_not_hidden_by_them(
    catalogue: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = asset_by_title(GLANCE)
    read_card = asset_index.card_of

    def vote_meanwhile(asset: Asset) -> AssetCard:
        card = read_card(asset)
        if asset.id == row.id and card.useful_count == row.useful_count:
            monkeypatch.setattr(asset_index, "card_of", read_card)
            assets.vote(row.id, "U0VOTER01", True)  # commits after this row was read
        return card

    monkeypatch.setattr(asset_index, "card_of", vote_meanwhile)
    shown("glance", GLANCE)
    assert shown("glance", GLANCE).useful_count == row.useful_count + 1


def test_a_process_keeps_a_bounded_number_of_cards(catalogue: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asset_index, "CARDS_KEPT", 3)
    first = assets.search("observability", actor=SEARCHER)
    assert len(first.items) == 10
    assert len(asset_index._state.cards) == 3
    assert assets.search("observability", actor=SEARCHER).items == first.items


def test_a_search_that_finds_nothing_waits_for_no_writer_and_its_gap_is_written_afterwards(
        catalogue: None, database_url: str) -> None:
    """A search is a read: an import's batch holding the database must not hold its answer up or fail it."""
    import threading

    from tests.support.locks import writes_locked_out
    from tests.support.waiting import eventually

    found: list[int] = []
    searching = threading.Thread(target=lambda: found.append(
        assets.search("quantum blockchain", actor=Actor(user_id=SE)).total))
    with writes_locked_out(database_url, "search_misses"):
        searching.start()
        searching.join(timeout=5)
        assert found == [0], "the search waited for the writer, or failed"
        assert misses() == []
    assert eventually(lambda: [query for query, _, _ in misses()] == ["quantum blockchain"], timeout=30)

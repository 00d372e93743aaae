"""Reading the asset catalogue: search, recommendations, one asset, the review and owner lists, and who
may do what to a card.

Search runs on one in-memory index per process, with the cards it has shown lately beside it; how both
stay in step with the catalogue is `bot.services.asset_index`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from bot import clock, db, telemetry
from bot.blocks.text import escape
from bot.errors import Forbidden, NotFound
from bot.search import Hit
from bot.services import usage
from bot.services.actors import Actor
from bot.services.asset_index import (
    VISIBLE,
    card_of,
    published_cards,
    synced_index,
)
from models.assets import Asset, SearchMiss
from models.enums import AssetStatus, AssetType
from models.schemas.assets import (
    AssetCard,
    AssetList,
    AssetRights,
    SearchPage,
    ViewedAsset,
)

PAGE_SIZE = 10
MAX_PAGE_SIZE = 50
SIMILAR_TITLE_RATIO = 90.0
MISS_QUERY_MAX = 200
LIST_MAX = 10  # four blocks a card: ten fit in one message (50 blocks)

NOT_FOUND = "That asset no longer exists. Search again with `/asset` to find what is there now."
NOT_PUBLISHED = "*{title}* is no longer published, so it can't be {what}. Search again with `/asset`."
EDIT_REFUSED = "Only the owner (<@{owner}>) or an admin can edit *{title}*. Ask them, or add your own with `/asset add`."
DRAFTS_REFUSED = "Only admins (set in EPOS_ADMINS) review drafts. Your own assets, drafts included, are under `/asset mine`."

# ----- reading -------------------------------------------------------------------------------------


def rights(card: AssetCard, actor: Actor | None) -> AssetRights:
    if actor is None:
        return AssetRights()
    # The verifier keeps the asset true, so they may edit and archive it as its owner may.
    may_manage = actor.admin or actor.user_id in (card.owner_id, card.verifier)
    return AssetRights(
        edit=may_manage,
        publish=actor.admin and card.status == AssetStatus.draft,
        archive=may_manage and card.status != AssetStatus.archived,
        restore=may_manage and card.status == AssetStatus.archived,
    )


def _viewed(card: AssetCard, actor: Actor | None, score: float | None = None) -> ViewedAsset:
    return ViewedAsset(card=card, rights=rights(card, actor), score=score, overdue=card.overdue_at(clock.now()))


def _miss_key(asset_type: str | None, terms: Sequence[str]) -> str:
    return " ".join(([asset_type] if asset_type else []) + list(terms))[:MISS_QUERY_MAX]


def search(
    text: str,
    *,
    actor: Actor | None = None,
    limit: int = PAGE_SIZE,
    offset: int = 0,
    now: datetime | None = None,
) -> SearchPage:
    """One page of published assets for a query, best first. With an actor (a search from Slack) a
    query that finds nothing is recorded as a content gap; the command line records nothing."""
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    offset = max(0, int(offset))
    with telemetry.SEARCH_SECONDS.labels("assets").time():
        result = synced_index().search(text, limit=limit, offset=offset)
        cards = published_cards([hit.id for hit in result.hits])
        items = [_viewed(cards[hit.id], actor, hit.score) for hit in result.hits if hit.id in cards]
    parsed = result.query
    asset_type = AssetType(parsed.type) if parsed.type else None
    if result.total == 0 and actor is not None and (parsed.terms or parsed.type):
        record_miss(_miss_key(parsed.type, parsed.terms), actor.user_id, now=now)
    elif actor is not None:
        usage.note(actor.user_id, usage.SEARCH, now=now)
    return SearchPage(
        query=text,
        asset_type=asset_type,
        terms=list(parsed.terms),
        items=items,
        total=result.total,
        offset=offset,
        limit=limit,
        suggestions=list(result.suggestions),
    )


def record_miss(query: str, user_id: str, *, now: datetime | None = None) -> None:
    """A content gap for the curators. Written beside a search's answer, which never waits for it."""
    miss = SearchMiss(query=query[:MISS_QUERY_MAX], user_id=user_id, searched_at=now or clock.now())
    db.write_soon(lambda session: session.add(miss), what="a search that found nothing")


def recommend(focus: str, asset_types: list[AssetType], limit: int = 3) -> list[AssetCard]:
    """The best published assets about `focus` among the given types (all types when none are given),
    ranked exactly as `/asset` ranks them. An empty focus gives the most popular of those types."""
    if limit <= 0:
        return []
    index = synced_index()
    hits: list[Hit] = []
    for asset_type in dict.fromkeys(asset_types or list(AssetType)):
        hits.extend(index.search(f"{AssetType(asset_type).value} {focus}", limit=limit).hits)
    hits.sort(key=lambda hit: (-hit.score, hit.id))
    cards = published_cards([hit.id for hit in hits[: limit * 2]])
    return [cards[hit.id] for hit in hits if hit.id in cards][:limit]


def get(asset_id: int, actor: Actor | None = None) -> ViewedAsset:
    with db.reading() as session:
        row = session.scalars(select(Asset).where(Asset.id == asset_id, VISIBLE)).first()
        if row is None:
            raise NotFound(NOT_FOUND)
        return _viewed(card_of(row), actor)


def published(asset_id: int, *, for_what: str = "shared") -> AssetCard:
    """A published asset's card, or a NotFound saying it was withdrawn."""
    card = get(asset_id).card
    if card.status != AssetStatus.published:
        raise NotFound(NOT_PUBLISHED.format(title=escape(card.title), what=for_what))
    return card


def editable(asset_id: int, actor: Actor) -> AssetCard:
    """The card to prefill the edit form with, for its owner or an admin."""
    viewed = get(asset_id, actor)
    if not viewed.rights.edit:
        raise Forbidden(EDIT_REFUSED.format(owner=viewed.card.owner_id, title=escape(viewed.card.title)))
    return viewed.card


def published_count() -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(Asset).where(Asset.status == AssetStatus.published)) or 0


def drafts(actor: Actor, *, limit: int = LIST_MAX) -> AssetList:
    """Drafts awaiting review, oldest first (admins only)."""
    if not actor.admin:
        raise Forbidden(DRAFTS_REFUSED)
    with db.reading() as session:
        where = (Asset.status == AssetStatus.draft) & VISIBLE
        total = session.scalar(select(func.count()).select_from(Asset).where(where)) or 0
        rows = session.scalars(select(Asset).where(where).order_by(Asset.created_at, Asset.id).limit(limit)).all()
        return AssetList(kind="drafts", items=[_viewed(card_of(r), actor) for r in rows], total=total)


def owned_by(actor: Actor, *, limit: int = LIST_MAX) -> AssetList:
    """The actor's own assets, drafts first, then published, then archived; newest first within each."""
    status_order = {AssetStatus.draft: 0, AssetStatus.published: 1, AssetStatus.archived: 2}
    with db.reading() as session:
        where = (Asset.owner_id == actor.user_id) & VISIBLE
        total = session.scalar(select(func.count()).select_from(Asset).where(where)) or 0
        rows = session.scalars(select(Asset).where(where)).all()
        ordered = sorted(rows, key=lambda r: (status_order[r.status], -r.updated_at.timestamp(), -r.id))[:limit]
        return AssetList(kind="mine", items=[_viewed(card_of(r), actor) for r in ordered], total=total)

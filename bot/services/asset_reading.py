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
from bot.services import asset_outcomes, usage
from bot.services.actors import Actor
from bot.services.asset_index import (
    VISIBLE,
    card_of,
    published_cards,
    synced_index,
)
from models.assets import Asset, SearchMiss
from models.enums import AssetStatus, AssetType
from models.schemas.asset_outcomes import DealUse
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
EDIT_REFUSED = "Only {keepers} or an admin can edit *{title}*. Ask them, or add your own with `/asset add`."


def keepers(owner_id: str, verifier_id: str | None) -> str:
    """Who looks after an asset besides the admins, for a refusal: its owner, and its verifier if another."""
    if verifier_id and verifier_id != owner_id:
        return f"the owner (<@{owner_id}>), the verifier (<@{verifier_id}>)"
    return f"the owner (<@{owner_id}>)"
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


def _viewed(card: AssetCard, actor: Actor | None, score: float | None = None,
            deals: DealUse | None = None) -> ViewedAsset:
    return ViewedAsset(card=card, rights=rights(card, actor), score=score, deals=deals,
                       overdue=card.overdue_at(clock.now()))


def _miss_key(asset_type: str | None, terms: Sequence[str]) -> str:
    return " ".join(([asset_type] if asset_type else []) + list(terms))[:MISS_QUERY_MAX]


def search(
    text: str,
    *,
    actor: Actor | None = None,
    limit: int = PAGE_SIZE,
    offset: int = 0,
    now: datetime | None = None,
    prefer_topics: Sequence[str] = (),
    from_message: bool = False,
) -> SearchPage:
    """One page of published assets for a query, best first. With an actor (a search from Slack) a
    query that finds nothing is recorded as a content gap, and one whose best answer matched only some
    of its words as a partial gap (once, from its first page); the command line records nothing.
    `prefer_topics` (the needs of the deal searched from): on each page, assets tagged with them first.
    `from_message`: the words of a Slack message, not a query someone typed: its chat words are no content
    gap, and the page does not say which of them went unmatched."""
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    offset = max(0, int(offset))
    with telemetry.SEARCH_SECONDS.labels("assets").time():
        result = synced_index().search(text, limit=limit, offset=offset)
        cards = published_cards([hit.id for hit in result.hits])
        # One grouped query for the page: the won engagements each card's asset was used in.
        deals = asset_outcomes.deal_use(list(cards))
        items = [_viewed(cards[hit.id], actor, hit.score, deals.get(hit.id)) for hit in result.hits if hit.id in cards]
        if prefer_topics:
            wanted = {" ".join(topic.split()).lower() for topic in prefer_topics}
            # Within the page only: each page still holds the same assets, so paging never repeats or skips one.
            items.sort(key=lambda item: -len(wanted & {" ".join(t.split()).lower() for t in item.card.topics}))
    parsed = result.query
    asset_type = AssetType(parsed.type) if parsed.type else None
    if result.total == 0 and actor is not None and (parsed.terms or parsed.type) and not from_message:
        record_miss(_miss_key(parsed.type, parsed.terms), actor.user_id, now=now)
    elif actor is not None:
        usage.note(actor.user_id, usage.SEARCH, now=now)
        if result.partial and offset == 0 and not from_message:
            record_miss(_miss_key(parsed.type, parsed.terms), actor.user_id, now=now,
                        matched=result.matched, unmatched=result.unmatched)
    return SearchPage(
        query=text,
        asset_type=asset_type,
        terms=list(parsed.terms),
        items=items,
        total=result.total,
        offset=offset,
        limit=limit,
        suggestions=list(result.suggestions),
        words=list(parsed.words),
        corrections=[list(pair) for pair in result.corrections],
        matched=[] if from_message else list(result.matched),
        unmatched=[] if from_message else list(result.unmatched),
    )


def record_miss(query: str, user_id: str, *, now: datetime | None = None,
                matched: Sequence[str] = (), unmatched: Sequence[str] = ()) -> None:
    """A content gap for the curators: a search that found nothing, or, with `unmatched` words, one whose
    best answer matched only `matched`. Written beside a search's answer, which never waits for it."""
    miss = SearchMiss(query=query[:MISS_QUERY_MAX], user_id=user_id, searched_at=now or clock.now(),
                      matched=list(matched), unmatched=list(unmatched))
    what = "a search that found only part of what was asked" if unmatched else "a search that found nothing"
    db.write_soon(lambda session: session.add(miss), what=what)


def recommend(focus: str, asset_types: list[AssetType], limit: int = 3, *,
              topics: Sequence[str] = ()) -> list[AssetCard]:
    """The best published assets about `focus` among the given types (all types when none are given),
    ranked exactly as `/asset` ranks them. An empty focus gives the most popular of those types.
    `topics` (an engagement's needs, from the challenge map): assets tagged with them come first."""
    if limit <= 0:
        return []
    first = with_topics(topics, asset_types, limit=limit) if topics else []
    index = synced_index()
    hits: list[Hit] = []
    for asset_type in dict.fromkeys(asset_types or list(AssetType)):
        hits.extend(index.search(f"{AssetType(asset_type).value} {focus}", limit=limit).hits)
    hits.sort(key=lambda hit: (-hit.score, hit.id))
    cards = published_cards([hit.id for hit in hits[: limit * 2]])
    taken = {card.id for card in first}
    return (first + [cards[hit.id] for hit in hits if hit.id in cards and hit.id not in taken])[:limit]


def with_topics(topics: Sequence[str], asset_types: Sequence[AssetType] = (), *, limit: int = 3) -> list[AssetCard]:
    """Published assets tagged with any of `topics` (of the given types, all when none are given): those
    tagged with more of them first, then as `/asset` ranks them."""
    wanted = {" ".join(topic.split()).lower() for topic in topics if topic.strip()}
    if limit <= 0 or not wanted:
        return []
    index = synced_index()
    scores: dict[int, float] = {}
    prefixes = [f"{AssetType(t).value} " for t in dict.fromkeys(asset_types)] or [""]
    for topic in sorted(wanted):
        for prefix in prefixes:
            for hit in index.search(f"{prefix}{topic}", limit=limit * 4).hits:
                scores[hit.id] = max(scores.get(hit.id, 0.0), hit.score)
    cards = published_cards(list(scores))
    tagged = []
    for asset_id, card in cards.items():
        matched = len(wanted & {" ".join(t.split()).lower() for t in card.topics})
        if matched and (not asset_types or card.type in asset_types):
            tagged.append((-matched, -scores[asset_id], asset_id, card))
    tagged.sort(key=lambda row: row[:3])
    return [row[3] for row in tagged[:limit]]


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
        raise Forbidden(EDIT_REFUSED.format(keepers=keepers(viewed.card.owner_id, viewed.card.verifier_id),
                                            title=escape(viewed.card.title)))
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
    """The assets the actor owns or verifies, drafts first, then published, then archived; newest first
    within each."""
    status_order = {AssetStatus.draft: 0, AssetStatus.published: 1, AssetStatus.archived: 2}
    with db.reading() as session:
        where = ((Asset.owner_id == actor.user_id) | (Asset.verifier_id == actor.user_id)) & VISIBLE
        total = session.scalar(select(func.count()).select_from(Asset).where(where)) or 0
        rows = session.scalars(select(Asset).where(where)).all()
        ordered = sorted(rows, key=lambda r: (status_order[r.status], -r.updated_at.timestamp(), -r.id))[:limit]
        return AssetList(kind="mine", items=[_viewed(card_of(r), actor) for r in ordered], total=total)

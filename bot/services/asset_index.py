"""The search index of this process and the cards it has shown lately, kept in step with the catalogue.

One in-memory index per process (`bot.search.AssetIndex`) holds the published assets. It is built
lazily (or by `warm_index()` at start), updated in place after every write this process commits
(`after_commit`), and kept in step with other processes through the catalogue revision: every
transaction that writes assets bumps one counter row (`bump_revision`) and stamps the rows it touched
with the new value, so a search first reads that counter (one row) and, when it moved, applies just the
rows stamped above the revision the index has seen.

Beside the index, each process keeps the cards of the assets it has shown lately (a bounded LRU, not
the whole catalogue), so a page of results reads no asset rows while nothing changed; whatever moves
an asset in or out of the index, or changes it there, drops its card too.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, not_, or_, select
from sqlalchemy.orm import Session

from bot import clock, db
from bot.services import asset_due
from bot.search import AssetIndex, SearchDoc
from models.assets import Asset, AssetCatalogue, AssetImport
from models.enums import AssetStatus
from models.schemas.assets import AssetCard

log = logging.getLogger(__name__)

CATALOGUE_ROW = 1
CARDS_KEPT = 2048  # shown cards a process keeps (as many as the blocks it remembers): about 5 MB
BUILD_BATCH = 1000  # rows fetched at a time while the search index is built
# How often a process looks for assets whose review fell due, to rank them as overdue: a few minutes late
# is nothing to a ranking that moves by days.
FALL_DUE_EVERY = timedelta(minutes=5)


class _IndexState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.engine: Engine | None = None
        # `engine` read-only, for the revision check every search makes (see `_revision_now`).
        self.reader: Engine | None = None
        self.index: AssetIndex | None = None
        # Every change up to this catalogue revision is in the index.
        self.revision = 0
        # Published assets' cards, least recently shown first. Guarded by `lock`.
        self.cards: OrderedDict[int, AssetCard] = OrderedDict()
        # Counts the times cards were dropped, so that rows read before a drop are not kept after it.
        self.card_drops = 0
        # When the index last judged which assets are overdue for review: those falling due since are
        # indexed again (`_fall_due`), since nothing is written to an asset when it falls due.
        self.due_checked: datetime | None = None

    def drop_cards(self, ids: Iterable[int] | None = None) -> None:
        """Forget the cards of these assets (all of them when None); the caller holds `lock`."""
        if ids is None:
            self.cards.clear()
        else:
            for asset_id in ids:
                self.cards.pop(asset_id, None)
        self.card_drops += 1


_state = _IndexState()

_DOC_COLUMNS = (
    Asset.id, Asset.title, Asset.type, Asset.summary, Asset.topics, Asset.products,
    Asset.useful_count, Asset.not_useful_count, Asset.share_count, Asset.parts,
    Asset.review_every_days, Asset.verified_at, Asset.created_at,
)


def _doc(row: Any, now: datetime | None = None) -> SearchDoc:
    due = asset_due.due_at(row.type, row.review_every_days, row.verified_at, row.created_at)
    overdue = due <= (now or clock.now())
    return SearchDoc(
        id=row.id,
        title=row.title,
        type=str(row.type),
        summary=row.summary or "",
        topics=tuple(row.topics or ()),
        products=tuple(row.products or ()),
        parts=tuple(str(part.get("label", "")) for part in row.parts or () if isinstance(part, dict)),
        useful=row.useful_count or 0,
        not_useful=row.not_useful_count or 0,
        shares=row.share_count or 0,
        overdue=overdue,
    )


_REVISION = select(AssetCatalogue.revision).where(AssetCatalogue.id == CATALOGUE_ROW)
# Assets anyone may see: all but those of an import still being written (see "import and export").
VISIBLE = or_(Asset.import_id.is_(None),
               Asset.import_id.in_(select(AssetImport.id).where(AssetImport.revision.is_not(None))))


def _changed_since(revision: int) -> Any:
    """Rows changed after `revision`: stamped above it, or added by an import that went live after it."""
    return or_(Asset.revision > revision,
               Asset.import_id.in_(select(AssetImport.id).where(AssetImport.revision > revision)))


def _read_revision(session: Session) -> int:
    return session.scalar(_REVISION) or 0


def _revision_now(reader: Engine) -> int:
    """`_read_revision` on a bare connection: every search asks, and a session costs twice the query."""
    with reader.connect() as connection:
        return connection.scalar(_REVISION) or 0


def bump_revision(session: Session) -> int:
    """The next catalogue revision. Taken before touching asset rows, so writers lock in one order."""
    statement = db.insert(AssetCatalogue).values(id=CATALOGUE_ROW, revision=1)
    statement = statement.on_conflict_do_update(
        index_elements=[AssetCatalogue.id], set_={"revision": AssetCatalogue.revision + 1}
    ).returning(AssetCatalogue.revision)
    return int(session.execute(statement).scalar_one())


def synced_index() -> AssetIndex:
    state, engine = _state, db.engine()
    reader = state.reader
    now = clock.now()
    if state.engine is engine and state.index is not None and reader is not None:
        if _revision_now(reader) == state.revision and not _falls_due(now):
            return state.index
    with state.lock:
        with db.reading() as session:
            current = _read_revision(session)
            if state.engine is not engine or state.index is None or current < state.revision:
                # Rows are indexed as they arrive, in batches, so the whole published catalogue is never held
                # as rows and as an index at once (the peak of a build at 100k assets).
                published = select(*_DOC_COLUMNS).where(Asset.status == AssetStatus.published, VISIBLE)
                state.due_checked = now
                with session.execute(published.execution_options(yield_per=BUILD_BATCH)) as rows:
                    state.index = AssetIndex(_doc(row, now) for row in rows)
                state.reader = engine.execution_options(**{db.READONLY_OPTION: True})
                state.engine, state.revision = engine, current
                state.drop_cards()
                log.info("search index built: %d published assets at revision %d", len(state.index), current)
            elif current > state.revision:
                changed = session.execute(
                    select(*_DOC_COLUMNS, Asset.status).where(_changed_since(state.revision))
                ).all()
                for row in changed:
                    if row.status == AssetStatus.published:
                        state.index.upsert(_doc(row))
                    else:
                        state.index.remove(row.id)
                state.drop_cards(row.id for row in changed)
                state.revision = current
            if _falls_due(now):
                _fall_due(session, now)
        return state.index


def _falls_due(now: datetime) -> bool:
    checked = _state.due_checked
    return checked is not None and now - checked >= FALL_DUE_EVERY


def _fall_due(session: Session, now: datetime) -> None:
    """Index again the published assets whose review fell due since the last look, so they rank as
    overdue; the caller holds the lock. One query every FALL_DUE_EVERY at most, and no memory per asset."""
    state = _state
    assert state.index is not None and state.due_checked is not None
    rows = session.execute(select(*_DOC_COLUMNS).where(
        Asset.status == AssetStatus.published, VISIBLE, asset_due.due_by(session, now),
        not_(asset_due.due_by(session, state.due_checked)))).all()
    for row in rows:
        state.index.upsert(_doc(row, now))
    state.drop_cards(row.id for row in rows)
    state.due_checked = now


def after_commit(rows: Iterable[Asset], revision: int) -> None:
    """Apply this process's own committed writes to the index without another query."""
    state = _state
    rows = list(rows)
    with state.lock:
        state.drop_cards(row.id for row in rows)
        if state.index is None or state.engine is not db.engine():
            return
        for row in rows:
            if row.status == AssetStatus.published:
                state.index.upsert(_doc(row))
            else:
                state.index.remove(row.id)
        # Only when no other process's revision sits in between may the watermark move.
        if revision == state.revision + 1:
            state.revision = revision


def warm_index() -> int:
    """Build the search index now (at start, off the request path); returns how many assets it holds."""
    return len(synced_index())


def warm_index_in_background() -> threading.Thread:
    """Build the index on a thread of its own, so start-up and the first search don't wait for it."""

    def warm() -> None:
        try:
            warm_index()
        except Exception:
            log.warning("could not build the search index at start; the first search will", exc_info=True)

    thread = threading.Thread(target=warm, name="epos-search-index", daemon=True)
    thread.start()
    return thread


def reset_index() -> None:
    """Forget the index; the next search rebuilds it from the database."""
    with _state.lock:
        _state.engine, _state.reader, _state.index, _state.revision = None, None, None, 0
        _state.due_checked = None
        _state.drop_cards()


# ----- the cards shown lately ----------------------------------------------------------------------


def card_of(row: Asset) -> AssetCard:
    return AssetCard(
        id=row.id,
        title=row.title,
        type=row.type,
        summary=row.summary or "",
        url=row.url,
        topics=list(row.topics or []),
        products=list(row.products or []),
        depth=row.depth,
        scope=row.scope,
        interactivity=row.interactivity,
        cycle=row.cycle,
        owner_id=row.owner_id,
        status=row.status,
        customer_facing=bool(row.customer_facing),
        parts=list(row.parts or []),
        partner_id=row.partner_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        share_count=row.share_count or 0,
        useful_count=row.useful_count or 0,
        not_useful_count=row.not_useful_count or 0,
        verifier_id=row.verifier_id or "",
        review_every_days=row.review_every_days,
        verified_at=row.verified_at,
        verified_by=row.verified_by,
        review_due_at=asset_due.due_at(row.type, row.review_every_days, row.verified_at, row.created_at),
    )


def published_cards(ids: Sequence[int]) -> dict[int, AssetCard]:
    """The cards of those of `ids` that are published: kept ones as they are, the rest read and kept.

    Call it after `synced_index()`, which drops the cards of whatever changed since the last search."""
    state = _state
    with state.lock:
        cards = {asset_id: state.cards[asset_id] for asset_id in ids if asset_id in state.cards}
        for asset_id in cards:
            state.cards.move_to_end(asset_id)
        drops = state.card_drops
    missing = [asset_id for asset_id in ids if asset_id not in cards]
    if not missing:
        return cards
    with db.reading() as session:
        rows = session.scalars(
            select(Asset).where(Asset.id.in_(missing), Asset.status == AssetStatus.published)
        ).all()
        read = {row.id: card_of(row) for row in rows}
    with state.lock:
        # A write dropped cards while these rows were read: they may predate it, so keep none of them.
        if state.card_drops == drops:
            state.cards.update(read)
            while len(state.cards) > CARDS_KEPT:
                state.cards.popitem(last=False)
    return cards | read

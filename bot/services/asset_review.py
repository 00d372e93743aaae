"""Keeping assets true: each published asset has a verifier (its owner unless someone else is named) who
is asked, once per review period, whether it still holds; Verify starts the period again.

An asset falls due one review interval (its own, else its type's) after it was last verified. Its verifier
is asked once per period (`review_reminded_at` later than the due date means asked); one overdue for
longer than ASSET_ARCHIVE_AFTER_DAYS is proposed to the admins for archiving, once per period too
(`archive_proposed_at`). Nothing is archived unless a person says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select, update

from bot import clock, db
from bot.blocks.text import escape
from bot.errors import Conflict, Forbidden, NotFound
from bot.services import asset_curation, asset_due, audit, claims
from bot.services.actors import Actor
from bot.services.asset_index import VISIBLE, after_commit, bump_revision, card_of
from bot.services.asset_reading import NOT_FOUND
from models.assets import Asset
from models.enums import AssetStatus, AssetType
from models.schemas.assets import CurationResult, DueAsset, VerifyResult

JOB = "asset-review"
ADMIN_JOB = "asset-admin-queue"
ENTITY = asset_curation.ENTITY
CLAIM_LEASE = timedelta(minutes=5)

VERIFY_REFUSED = "Only the verifier (<@{verifier}>), the owner or an admin can verify *{title}*."
VERIFY_ARCHIVED = "*{title}* is archived, so there is nothing to verify. Restore it first if it is still true."
ARCHIVE_PROPOSAL_REFUSED = ("Only admins (set in EPOS_ADMINS) can archive an asset from this proposal. "
                            "If *{title}* is yours, open it with `/asset mine`.")


_base = asset_due.verified_since
_due_by = asset_due.due_by


def _due_asset(row: Asset, now: datetime) -> DueAsset:
    due = asset_due.due_at(row.type, row.review_every_days, row.verified_at, row.created_at)
    return DueAsset(
        id=row.id, title=row.title, url=row.url, type=AssetType(row.type), owner_id=row.owner_id,
        verifier_id=row.verifier_id or row.owner_id, due_at=due, verified_at=row.verified_at,
        verified_by=row.verified_by, days_overdue=max(0, (now - due).days),
    )


def overdue(now: datetime | None = None, *, longer_than: timedelta = timedelta(0)) -> list[DueAsset]:
    """Published assets whose review is overdue (by more than `longer_than`), longest overdue first."""
    now = now or clock.now()
    with db.reading() as session:
        rows = session.scalars(select(Asset).where(
            Asset.status == AssetStatus.published, VISIBLE, _due_by(session, now - longer_than))).all()
        found = [_due_asset(row, now) for row in rows]
    return sorted(found, key=lambda item: (item.due_at, item.id))


def to_remind(now: datetime, *, verifier_id: str | None = None, asked_since: datetime | None = None) -> list[DueAsset]:
    """Overdue assets whose verifier was not asked about them this period (or was asked at or after
    `asked_since`: the admins' queue of one day shows the same to every admin)."""
    asked_since = asked_since or now + timedelta(days=1)
    with db.reading() as session:
        query = select(Asset).where(
            Asset.status == AssetStatus.published, VISIBLE, _due_by(session, now),
            or_(Asset.review_reminded_at.is_(None), Asset.review_reminded_at <= _base(),
                Asset.review_reminded_at >= asked_since),
        )
        if verifier_id is not None:
            query = query.where(or_(Asset.verifier_id == verifier_id,
                                    and_(Asset.verifier_id.is_(None), Asset.owner_id == verifier_id)))
        found = [(_due_asset(row, now), row.review_reminded_at) for row in session.scalars(query)]
    left = [item for item, asked in found if asked is None or asked < item.due_at or asked >= asked_since]
    return sorted(left, key=lambda item: (item.due_at, item.id))


def to_propose(now: datetime, *, after: timedelta, asked_since: datetime) -> list[DueAsset]:
    """Assets overdue for longer than `after` not yet proposed to the admins for archiving this period
    (or proposed at or after `asked_since`, the start of the admins' day)."""
    with db.reading() as session:
        rows = session.scalars(select(Asset).where(
            Asset.status == AssetStatus.published, VISIBLE, _due_by(session, now - after),
            or_(Asset.archive_proposed_at.is_(None), Asset.archive_proposed_at <= _base(),
                Asset.archive_proposed_at >= asked_since),
        )).all()
        found = [(_due_asset(row, now), row.archive_proposed_at) for row in rows]
    return sorted((item for item, proposed in found
                   if proposed is None or proposed < item.due_at or proposed >= asked_since),
                  key=lambda item: (item.due_at, item.id))


def record_reminded(job: str, period: str, asset_ids: Iterable[int], *, claimant: str, now: datetime,
                    proposed_ids: Iterable[int] = ()) -> bool:
    """The DM went out: note who was asked about which assets, and finish the claim, together."""
    asset_ids, proposed_ids = list(asset_ids), list(proposed_ids)
    with db.transaction() as session:
        # Not a change of the catalogue: no revision, the search index has nothing to learn from it.
        if asset_ids:
            session.execute(update(Asset).where(Asset.id.in_(asset_ids)).values(review_reminded_at=now)
                            .execution_options(synchronize_session=False))
        if proposed_ids:
            session.execute(update(Asset).where(Asset.id.in_(proposed_ids)).values(archive_proposed_at=now)
                            .execution_options(synchronize_session=False))
        return claims.complete_in(session, job, period, owner=claimant, now=now)


def period(user_id: str, day: date) -> str:
    return f"{user_id}:{day.isoformat()}"


def verify(asset_id: int, actor: Actor, *, now: datetime | None = None) -> VerifyResult:
    """The asset is still true: its review period starts again now."""
    now = now or clock.now()
    with db.transaction() as session:
        revision = bump_revision(session)
        row = session.scalars(select(Asset).where(Asset.id == asset_id, VISIBLE).with_for_update()).first()
        if row is None:
            raise NotFound(NOT_FOUND)
        verifier = row.verifier_id or row.owner_id
        if not (actor.admin or actor.user_id in (verifier, row.owner_id)):
            raise Forbidden(VERIFY_REFUSED.format(verifier=verifier, title=escape(row.title)))
        if row.status == AssetStatus.archived:
            raise Conflict(VERIFY_ARCHIVED.format(title=escape(row.title)))
        previous = asset_due.due_at(row.type, row.review_every_days, row.verified_at, row.created_at)
        row.verified_at, row.verified_by, row.revision = now, actor.user_id, revision
        audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=row.id, action="verified", at=now,
                     was_due=previous.isoformat())
        card = card_of(row)
    after_commit([row], revision)
    return VerifyResult(card=card, previous_due_at=previous)


def archive_proposed(asset_id: int, actor: Actor, *, now: datetime | None = None) -> CurationResult:
    """An admin accepts the proposal to archive an asset long overdue for review."""
    if not actor.admin:
        with db.reading() as session:
            row = session.get(Asset, asset_id)
            title = escape(row.title) if row is not None else "this asset"
        raise Forbidden(ARCHIVE_PROPOSAL_REFUSED.format(title=title))
    return asset_curation.archive(asset_id, actor, now=now)

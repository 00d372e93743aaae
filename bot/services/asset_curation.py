"""Adding, editing and curating assets: the duplicate checks, the owner's and the admins' rights, and the
status an asset moves through (draft, published, archived).

Every write takes the next catalogue revision first (`bump_revision`) and hands its committed rows to
`after_commit`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz, process, utils
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import clock, db
from bot.blocks.text import escape
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound
from bot.services import audit, deliveries
from bot.services.actors import Actor
from bot.services.asset_index import (
    VISIBLE,
    after_commit,
    bump_revision,
    card_of,
)
from bot.services.asset_reading import EDIT_REFUSED, NOT_FOUND, keepers, rights
from models.assets import Asset
from models.enums import AssetStatus
from models.schemas.assets import (
    AssetFields,
    CurationResult,
    SaveResult,
)

ENTITY = "asset"
SIMILAR_TITLE_RATIO = 90.0
CONTENT_FIELDS = (
    "title", "type", "summary", "url", "topics", "products",
    "depth", "scope", "interactivity", "cycle", "owner_id", "customer_facing", "parts", "partner_id", "verifier_id",
    "review_every_days",
)

# A change of these names another verifier (the owner verifies when nobody is named).
NEW_VERIFIER = {"verifier_id", "owner_id"}
PUBLISH_REFUSED = "Only admins (set in EPOS_ADMINS) can publish assets. Ask one of them to review *{title}*."
ARCHIVE_REFUSED = "Only {keepers} or an admin can archive *{title}*."
RESTORE_REFUSED = "Only {keepers} or an admin can restore *{title}*."
ALREADY = "*{title}* is already {status}."
DUPLICATE_URL = "This link is already in the catalogue as “{title}” ({status}). Search for it with /asset, or use a different link."
SIMILAR_TITLE = "An asset titled “{title}” already exists — change the title, or submit again to save anyway."

# ----- adding and editing --------------------------------------------------------------------------


def _url_variants(url: str) -> list[str]:
    bare = url.rstrip("/")
    return list(dict.fromkeys([url, bare, bare + "/"]))


def _same_url(session: Session, url: str, exclude_id: int | None) -> Asset | None:
    query = select(Asset).where(Asset.url.in_(_url_variants(url)), VISIBLE)
    if exclude_id is not None:
        query = query.where(Asset.id != exclude_id)
    return session.scalars(query.limit(1)).first()


def _similar_title(session: Session, title: str, exclude_id: int | None) -> str | None:
    query = select(Asset.id, Asset.title).where(VISIBLE)
    if exclude_id is not None:
        query = query.where(Asset.id != exclude_id)
    titles = {row.id: row.title for row in session.execute(query)}
    found = process.extractOne(
        title, titles, scorer=fuzz.ratio, processor=utils.default_process, score_cutoff=SIMILAR_TITLE_RATIO
    )
    return found[0] if found else None


def _title_warned_before(confirm_token: str | None, title: str) -> bool:
    """True when this form already warned about this very title, so submitting it again means "save anyway".

    The warning is answered with field errors, which cannot change the form's private_metadata; so the
    fact that it was shown is kept with the delivery keys, where every replica sees it."""
    if not confirm_token:
        return False
    digest = hashlib.sha256(utils.default_process(title).encode()).hexdigest()[:16]
    return not deliveries.first_time(f"asset-title-warning:{confirm_token}:{digest}")


def _check_duplicates(
    fields: AssetFields, *, exclude_id: int | None, confirm_token: str | None, check_title: bool
) -> None:
    """Refuse a link already in the catalogue, and warn once about a title close to an existing one.

    Runs before the writing transaction (the warning records itself in a transaction of its own); the
    unique index on the link still catches a race."""
    with db.reading() as session:
        same = _same_url(session, fields.url, exclude_id)
        if same is not None:
            raise InvalidInput(DUPLICATE_URL.format(title=same.title, status=plain(same.status)), field="url")
        similar = _similar_title(session, fields.title, exclude_id) if check_title else None
    if similar is not None and not _title_warned_before(confirm_token, fields.title):
        raise InvalidInput(SIMILAR_TITLE.format(title=similar), field="title")


def create(
    fields: AssetFields,
    actor: Actor,
    *,
    admins_configured: bool,
    confirm_token: str | None = None,
    now: datetime | None = None,
) -> SaveResult:
    """Add an asset. An admin's asset, or anyone's when no admins are configured, is published at once;
    anyone else's is a draft until an admin publishes it.

    A duplicate link is refused (field `url`). A title close to an existing one is refused (field
    `title`) the first time; submitting the same title again with the same `confirm_token` saves it."""
    now = now or clock.now()
    fields = fields.with_defaults()
    needs_review = admins_configured and not actor.admin
    status = AssetStatus.draft if needs_review else AssetStatus.published
    _check_duplicates(fields, exclude_id=None, confirm_token=confirm_token, check_title=True)
    with db.transaction() as session:
        revision = bump_revision(session)
        row = Asset(
            **content_of(fields),
            status=status,
            created_at=now,
            updated_at=now,
            share_count=0,
            useful_count=0,
            not_useful_count=0,
            revision=revision,
            # Whoever adds an asset vouches for it: its first review falls due one interval from now.
            verified_at=now,
            verified_by=actor.user_id,
        )
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            raise InvalidInput(
                "Someone added this link a moment ago. Search for it with /asset, or use a different link.",
                field="url",
            ) from None
        audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=row.id, action="created",
                     at=now, status=status.value, title=row.title)
        card = card_of(row)
    after_commit([row], revision)
    return SaveResult(card=card, created=True, changed=list(CONTENT_FIELDS), needs_review=needs_review)


def content_of(fields: AssetFields) -> dict[str, Any]:
    content = {name: getattr(fields, name) for name in CONTENT_FIELDS}
    # Parts are stored as plain JSON, in the form the row reads back.
    content["parts"] = [part.model_dump() for part in fields.parts]
    return content


def changed_fields(row: Asset, content: dict[str, Any]) -> list[str]:
    return [name for name, value in content.items() if getattr(row, name) != value]


def link_change_needs_review(status: AssetStatus, actor: Actor, *, admins_configured: bool) -> bool:
    """Whether this person changing the link of an asset in this status sends it back to the drafts."""
    return admins_configured and not actor.admin and status == AssetStatus.published


def update(
    asset_id: int,
    fields: AssetFields,
    actor: Actor,
    *,
    admins_configured: bool,
    confirm_token: str | None = None,
    now: datetime | None = None,
) -> SaveResult:
    """Edit an asset's fields (owner or admin); the audit log records what changed.

    The status stays as it is, with one exception: when someone other than an admin changes the link of
    a published asset (and there are admins), it goes back to the drafts for review. The card people
    find and share is reviewed above all for where it sends them; a new link is a new asset to them."""
    now = now or clock.now()
    fields = fields.with_defaults()
    content = content_of(fields)
    with db.reading() as session:
        current = session.get(Asset, asset_id)
        if current is None:
            raise NotFound(NOT_FOUND)
        if not rights(card_of(current), actor).edit:
            raise Forbidden(EDIT_REFUSED.format(keepers=keepers(current.owner_id, current.verifier_id),
                                                title=escape(current.title)))
        if not changed_fields(current, content):
            return SaveResult(card=card_of(current), created=False)
        retitled = utils.default_process(current.title) != utils.default_process(fields.title)
    _check_duplicates(fields, exclude_id=asset_id, confirm_token=confirm_token, check_title=retitled)
    with db.transaction() as session:
        revision = bump_revision(session)
        row = session.scalars(select(Asset).where(Asset.id == asset_id).with_for_update()).first()
        if row is None:
            raise NotFound(NOT_FOUND)
        if not rights(card_of(row), actor).edit:
            raise Forbidden(EDIT_REFUSED.format(keepers=keepers(row.owner_id, row.verifier_id), title=escape(row.title)))
        changed = changed_fields(row, content)
        before = {name: plain(getattr(row, name)) for name in changed}
        needs_review = "url" in changed and link_change_needs_review(
            AssetStatus(row.status), actor, admins_configured=admins_configured)
        for name in changed:
            setattr(row, name, content[name])
        if NEW_VERIFIER & set(changed):
            row.review_reminded_at = None  # the new verifier is asked afresh, even this review period
        if needs_review:
            before["status"] = plain(row.status)
            row.status = AssetStatus.draft
        row.updated_at, row.revision = now, revision
        try:
            session.flush()
        except IntegrityError:
            raise InvalidInput("Another asset took this link a moment ago; use a different link.", field="url") from None
        audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=row.id, action="updated", at=now,
                     changed=changed, before=before, status=plain(row.status))
        card = card_of(row)
    after_commit([row], revision)
    return SaveResult(card=card, created=False, changed=changed, needs_review=needs_review,
                      previous_url=before.get("url"))


def plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


# ----- curation ------------------------------------------------------------------------------------


def _set_status(
    asset_id: int, actor: Actor, *, action: str, to_status: AssetStatus, allowed: set[AssetStatus],
    admin_only: bool, refusal: str, now: datetime,
) -> CurationResult:
    with db.transaction() as session:
        revision = bump_revision(session)
        row = session.scalars(select(Asset).where(Asset.id == asset_id).with_for_update()).first()
        if row is None:
            raise NotFound(NOT_FOUND)
        permitted = actor.admin or (not admin_only and actor.user_id in (row.owner_id, row.verifier_id))
        if not permitted:
            raise Forbidden(refusal.format(keepers=keepers(row.owner_id, row.verifier_id), owner=row.owner_id, title=escape(row.title)))
        previous = AssetStatus(row.status)
        if previous not in allowed:
            raise Conflict(ALREADY.format(title=escape(row.title), status=previous.value))
        row.status, row.updated_at, row.revision = to_status, now, revision
        audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=row.id, action=action, at=now,
                     before=previous.value, after=to_status.value)
        card = card_of(row)
    after_commit([row], revision)
    return CurationResult(card=card, action=action, previous_status=previous)


def publish(asset_id: int, actor: Actor, *, now: datetime | None = None) -> CurationResult:
    """A draft becomes searchable (admins only)."""
    return _set_status(asset_id, actor, action="published", to_status=AssetStatus.published,
                       allowed={AssetStatus.draft}, admin_only=True, refusal=PUBLISH_REFUSED, now=now or clock.now())


def archive(asset_id: int, actor: Actor, *, now: datetime | None = None) -> CurationResult:
    """A draft or published asset leaves search (its owner or an admin); `restore` undoes it."""
    return _set_status(asset_id, actor, action="archived", to_status=AssetStatus.archived,
                       allowed={AssetStatus.draft, AssetStatus.published}, admin_only=False,
                       refusal=ARCHIVE_REFUSED, now=now or clock.now())


def restore(asset_id: int, actor: Actor, *, admins_configured: bool, now: datetime | None = None) -> CurationResult:
    """An archived asset comes back: published when an admin restores it (or nobody is admin), else as
    a draft awaiting review, as if its owner had just added it."""
    to_status = AssetStatus.draft if admins_configured and not actor.admin else AssetStatus.published
    return _set_status(asset_id, actor, action="restored", to_status=to_status, allowed={AssetStatus.archived},
                       admin_only=False, refusal=RESTORE_REFUSED, now=now or clock.now())

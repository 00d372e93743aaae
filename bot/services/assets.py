"""Field assets: search, the catalogue's curation, feedback and shares, import and export.

Search runs on one in-memory index per process, with the cards it has shown lately beside it; how both
stay in step with the catalogue is `bot.services.asset_index`. Every write here takes the next
catalogue revision first (`bump_revision`) and hands its committed rows to `after_commit`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError
from rapidfuzz import fuzz, process, utils
from sqlalchemy import delete, func, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import clock, db, telemetry
from bot.blocks.text import escape
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound
from bot.search import Hit
from bot.services import audit, deliveries, interactions, usage
from bot.services.actors import Actor
from bot.services.asset_index import (
    VISIBLE,
    after_commit,
    bump_revision,
    card_of,
    published_cards,
    synced_index,
)
from bot.services.asset_index import reset_index, warm_index, warm_index_in_background  # noqa: F401 - callers' names
from bot.services.importing import (
    EXTRA_CELLS,
    WRITE_BATCH,
    ImportInvalid,
    ItemRules,
    batched,
    checked,
    column_problem,
    csv_rows,
    open_csv,
    yaml_items,
)
from models.assets import Asset, AssetFeedback, AssetImport, AssetImportChange, AssetShare, SearchMiss
from models.enums import AssetStatus, AssetType
from models.ops import AuditEntry
from models.schemas.assets import (
    AssetCard,
    AssetFields,
    AssetList,
    AssetRecord,
    AssetRights,
    CurationResult,
    ImportReport,
    SaveResult,
    SearchPage,
    ViewedAsset,
    VoteResult,
    field_problems,
)
from models.schemas.importing import ImportProblem

log = logging.getLogger(__name__)

ENTITY = "asset"
PAGE_SIZE = 10
MAX_PAGE_SIZE = 50
SIMILAR_TITLE_RATIO = 90.0
MISS_QUERY_MAX = 200
LIST_MAX = 10  # four blocks a card: ten fit in one message (50 blocks)
EXPORT_FIELDS = (
    "title", "type", "summary", "url", "topics", "products",
    "depth", "scope", "interactivity", "cycle", "owner", "status", "customer_facing",
)
CONTENT_FIELDS = (
    "title", "type", "summary", "url", "topics", "products",
    "depth", "scope", "interactivity", "cycle", "owner_id", "customer_facing",
)

NOT_FOUND = "That asset no longer exists. Search again with `/asset` to find what is there now."
NOT_PUBLISHED = "*{title}* is no longer published, so it can't be {what}. Search again with `/asset`."
EDIT_REFUSED = "Only the owner (<@{owner}>) or an admin can edit *{title}*. Ask them, or add your own with `/asset add`."
PUBLISH_REFUSED = "Only admins (set in EPOS_ADMINS) can publish assets. Ask one of them to review *{title}*."
ARCHIVE_REFUSED = "Only the owner (<@{owner}>) or an admin can archive *{title}*."
RESTORE_REFUSED = "Only the owner (<@{owner}>) or an admin can restore *{title}*."
DRAFTS_REFUSED = "Only admins (set in EPOS_ADMINS) review drafts. Your own assets, drafts included, are under `/asset mine`."
ALREADY = "*{title}* is already {status}."
DUPLICATE_URL = "This link is already in the catalogue as “{title}” ({status}). Search for it with /asset, or use a different link."
SIMILAR_TITLE = "An asset titled “{title}” already exists — change the title, or submit again to save anyway."


# ----- reading -------------------------------------------------------------------------------------


def rights(card: AssetCard, actor: Actor | None) -> AssetRights:
    if actor is None:
        return AssetRights()
    may_manage = actor.admin or actor.user_id == card.owner_id
    return AssetRights(
        edit=may_manage,
        publish=actor.admin and card.status == AssetStatus.draft,
        archive=may_manage and card.status != AssetStatus.archived,
        restore=may_manage and card.status == AssetStatus.archived,
    )


def _viewed(card: AssetCard, actor: Actor | None, score: float | None = None) -> ViewedAsset:
    return ViewedAsset(card=card, rights=rights(card, actor), score=score)


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
    with db.transaction() as session:
        session.add(SearchMiss(query=query[:MISS_QUERY_MAX], user_id=user_id, searched_at=now or clock.now()))


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
            raise InvalidInput(DUPLICATE_URL.format(title=same.title, status=_plain(same.status)), field="url")
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
            **_content(fields),
            status=status,
            created_at=now,
            updated_at=now,
            share_count=0,
            useful_count=0,
            not_useful_count=0,
            revision=revision,
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


def _content(fields: AssetFields) -> dict[str, Any]:
    return {name: getattr(fields, name) for name in CONTENT_FIELDS}


def _changes(row: Asset, content: dict[str, Any]) -> list[str]:
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
    content = _content(fields)
    with db.reading() as session:
        current = session.get(Asset, asset_id)
        if current is None:
            raise NotFound(NOT_FOUND)
        if not rights(card_of(current), actor).edit:
            raise Forbidden(EDIT_REFUSED.format(owner=current.owner_id, title=escape(current.title)))
        if not _changes(current, content):
            return SaveResult(card=card_of(current), created=False)
        retitled = utils.default_process(current.title) != utils.default_process(fields.title)
    _check_duplicates(fields, exclude_id=asset_id, confirm_token=confirm_token, check_title=retitled)
    with db.transaction() as session:
        revision = bump_revision(session)
        row = session.scalars(select(Asset).where(Asset.id == asset_id).with_for_update()).first()
        if row is None:
            raise NotFound(NOT_FOUND)
        if not rights(card_of(row), actor).edit:
            raise Forbidden(EDIT_REFUSED.format(owner=row.owner_id, title=escape(row.title)))
        changed = _changes(row, content)
        before = {name: _plain(getattr(row, name)) for name in changed}
        needs_review = "url" in changed and link_change_needs_review(
            AssetStatus(row.status), actor, admins_configured=admins_configured)
        for name in changed:
            setattr(row, name, content[name])
        if needs_review:
            before["status"] = _plain(row.status)
            row.status = AssetStatus.draft
        row.updated_at, row.revision = now, revision
        try:
            session.flush()
        except IntegrityError:
            raise InvalidInput("Another asset took this link a moment ago; use a different link.", field="url") from None
        audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=row.id, action="updated", at=now,
                     changed=changed, before=before, status=_plain(row.status))
        card = card_of(row)
    after_commit([row], revision)
    return SaveResult(card=card, created=False, changed=changed, needs_review=needs_review,
                      previous_url=before.get("url"))


def _plain(value: Any) -> Any:
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
        permitted = actor.admin or (not admin_only and actor.user_id == row.owner_id)
        if not permitted:
            raise Forbidden(refusal.format(owner=row.owner_id, title=escape(row.title)))
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


# ----- feedback and shares ------------------------------------------------------------------------


def vote(asset_id: int, user_id: str, useful: bool, *, now: datetime | None = None) -> VoteResult:
    """One vote per person per asset; voting again the other way moves the vote, the same way changes nothing."""
    now = now or clock.now()
    with db.reading() as session:
        row = session.get(Asset, asset_id)
        if row is None:
            raise NotFound(NOT_FOUND)
        if row.status != AssetStatus.published:
            raise NotFound(NOT_PUBLISHED.format(title=escape(row.title), what="rated"))
        previous = session.scalar(
            select(AssetFeedback.useful).where(AssetFeedback.asset_id == asset_id, AssetFeedback.user_id == user_id)
        )
        if previous is not None and bool(previous) == useful:
            return VoteResult(card=card_of(row), useful=useful, changed=False, previous=bool(previous))
    with db.transaction() as session:
        revision = bump_revision(session)
        row = session.scalars(select(Asset).where(Asset.id == asset_id).with_for_update()).first()
        if row is None:
            raise NotFound(NOT_FOUND)
        feedback = session.scalars(
            select(AssetFeedback).where(AssetFeedback.asset_id == asset_id, AssetFeedback.user_id == user_id)
        ).first()
        previous = None if feedback is None else bool(feedback.useful)
        if previous == useful:
            return VoteResult(card=card_of(row), useful=useful, changed=False, previous=previous)
        if feedback is None:
            session.add(AssetFeedback(asset_id=asset_id, user_id=user_id, useful=useful, voted_at=now))
        else:
            feedback.useful, feedback.voted_at = useful, now
            if previous:
                row.useful_count = max(0, row.useful_count - 1)
            else:
                row.not_useful_count = max(0, row.not_useful_count - 1)
        if useful:
            row.useful_count += 1
        else:
            row.not_useful_count += 1
        row.revision = revision
        card = card_of(row)
    after_commit([row], revision)
    return VoteResult(card=card, useful=useful, changed=True, previous=previous)


def record_share(
    asset_id: int, user_id: str, channel_id: str, *, engagement_id: int | None = None, now: datetime | None = None
) -> AssetCard:
    """Count a share of a published asset into a channel (call it once the post went out). A share into an
    engagement's channel is one of that engagement's interactions."""
    now = now or clock.now()
    with db.transaction() as session:
        engagement_id = engagement_id or interactions.engagement_of_channel(session, channel_id)
        revision = bump_revision(session)
        row = session.scalars(select(Asset).where(Asset.id == asset_id).with_for_update()).first()
        if row is None:
            raise NotFound(NOT_FOUND)
        session.add(AssetShare(asset_id=asset_id, user_id=user_id, channel_id=channel_id,
                               engagement_id=engagement_id, shared_at=now))
        row.share_count += 1
        row.revision = revision
        card = card_of(row)
    after_commit([row], revision)
    return card


# ----- import and export --------------------------------------------------------------------------
#
# An import reads its file twice, a row at a time: first to check every row (nothing is written), then to
# write. New assets are written in short transactions tagged with a pending import, which every read of
# the catalogue leaves out; changes to existing assets wait beside them. One short transaction then takes
# the next catalogue revision, applies the waiting changes and marks the import live, so the whole file
# appears at once and the revision row is held only for that moment. A failed import's rows are deleted.
#
# An asset a person edits, publishes or archives in Slack between the staging of its change and the
# going live is not overwritten: the import fails whole, naming the asset, as it does when someone adds
# one of its links meanwhile. Skipping that one asset would leave the catalogue matching neither the file
# nor what anyone chose, and an import is all or nothing everywhere else; run again, the import then
# overwrites knowingly. Votes and shares move an asset's revision but nothing an import writes, so the
# check compares the fields themselves: a field still as staging read it, or already as the file has
# it, loses nobody's work.

YAML_SHAPE = "must be a list of assets, each starting with `- title: …`"
# A pending import stamps its row with every batch it writes, milliseconds apart; one not stamped for
# this long has stopped (its process killed, its machine gone), and the next import clears it away.
ABANDONED_AFTER = timedelta(minutes=2)
# What an import taken for abandoned is stamped with, so that it can never look alive again, whatever
# the clocks of the machines involved say.
_GIVEN_UP = datetime(2000, 1, 1, tzinfo=UTC)
CATALOGUE_CHANGED = ("{url} was added to the catalogue while the file was being imported; nothing was imported. "
                     "Run the import again.")
IMPORT_RUNNING = ("{url} is being added by another import, which wrote last {ago} ago; run this one again when it "
                  "has finished (an import that stopped is cleared {after} after its last write).")
EDITED_MEANWHILE = ("{title} ({url}) was changed in Slack while the file was being imported; nothing was imported, "
                    "so that change stays. Compare the file with it, then run the import again.")
IMPORT_STOPPED = ("The import stopped writing for more than {after} and was taken for abandoned; nothing was "
                  "imported. Run it again.")


def _problems_of(error: ValidationError, where: str) -> list[ImportProblem]:
    return [ImportProblem(where=where, field=field, message=message) for field, message in field_problems(error)]


_RULES = ItemRules[AssetRecord](
    build=AssetRecord.model_validate, problems_of=_problems_of, key=lambda record: record.url.rstrip("/"),
    not_a_mapping="is not a set of `field: value` pairs", duplicate_field="url",
    duplicate=lambda first: f"the same link as {first}")


def _checked(rows: Iterable[tuple[str, Any]], problems: list[ImportProblem]) -> Iterator[AssetRecord]:
    """The valid records among `rows`, in order; each problem found is added to `problems`."""
    return checked(rows, problems, _RULES)


def _csv_cell(value: Any) -> Any:
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _csv_items(source: str | Iterable[str], problems: list[ImportProblem]) -> Iterator[tuple[str, Any]]:
    header, rows_read = csv_rows(source)
    if not header:
        return
    if refusal := column_problem(header, EXPORT_FIELDS, ("title", "type", "url", "owner")):
        raise refusal
    for where, row in rows_read:
        if None in row:
            problems.append(ImportProblem(where=where, field=None, message=EXTRA_CELLS))
            continue
        cleaned = {str(key).strip(): _csv_cell(value) for key, value in row.items()}
        for tags in ("topics", "products"):
            if cleaned.get(tags) is not None:
                cleaned[tags] = str(cleaned[tags]).split(";")
        yield where, cleaned


def _items(source: str | Iterable[str], fmt: Literal["yaml", "csv"], problems: list[ImportProblem]) -> Iterator[tuple[str, Any]]:
    if fmt == "yaml":
        assert isinstance(source, str)
        return yaml_items(source, key="assets", shape=YAML_SHAPE)
    return _csv_items(source, problems)


def _read(source: str | Iterable[str], fmt: Literal["yaml", "csv"]) -> Iterator[AssetRecord]:
    """Every record of a file; raises ImportInvalid listing every problem once the whole file is read."""
    problems: list[ImportProblem] = []
    yield from _checked(_items(source, fmt, problems), problems)
    if problems:
        raise ImportInvalid(problems)


def parse_catalogue(text: str, fmt: Literal["yaml", "csv"]) -> list[AssetRecord]:
    """Validate a whole catalogue file held in memory; raises ImportInvalid listing every problem."""
    return list(_read(text, fmt))


@contextmanager
def _file_records(path: Path, fmt: Literal["yaml", "csv"]) -> Iterator[Iterator[AssetRecord]]:
    if fmt == "yaml":
        yield _read(path.read_text(encoding="utf-8-sig"), fmt)
        return
    with open_csv(path) as lines:
        yield _read(lines, fmt)


def check_file(path: Path, fmt: Literal["yaml", "csv"]) -> int:
    """Read a catalogue file row by row and check it all, writing nothing; how many assets it holds.
    Raises ImportInvalid listing every problem."""
    with _file_records(path, fmt) as records:
        return sum(1 for _ in records)


def import_file(path: Path, fmt: Literal["yaml", "csv"], *, actor_id: str = "cli", owner_id: str | None = None,
                now: datetime | None = None) -> ImportReport:
    """Check a whole catalogue file, then import it (see `import_records`); a file with any problem
    raises ImportInvalid and writes nothing. The file is read a row at a time, twice. With `owner_id`,
    every asset is owned by that person whatever the file says (the sample catalogue's owners are
    people of its own)."""
    check_file(path, fmt)
    with _file_records(path, fmt) as records:
        if owner_id is not None:
            records = (record.model_copy(update={"owner_id": owner_id}) for record in records)
        return import_records(records, actor_id=actor_id, now=now)


def import_records(records: Iterable[AssetRecord], *, actor_id: str = "cli", now: datetime | None = None) -> ImportReport:
    """Upsert by link, all or nothing as anyone sees it. Rows equal to what is stored are left alone
    (timestamps too), so importing the same file twice changes nothing. The writes are short
    transactions of WRITE_BATCH rows, invisible until one short last transaction makes them live."""
    now = now or clock.now()
    _clear_abandoned()
    import_id = uuid.uuid4().hex
    with db.transaction() as session:
        session.add(AssetImport(id=import_id, started_at=now, touched_at=clock.now()))
    added = updated = unchanged = 0
    live = False
    try:
        for batch in batched(records):
            new, changes, same = _stage(batch, import_id, actor_id=actor_id, now=now)
            added, updated, unchanged = added + new, updated + changes, unchanged + same
        if added or updated:
            _go_live(import_id, actor_id=actor_id, now=now)
            live = True
    finally:
        if not live:
            _discard(import_id)
    return ImportReport(added=added, updated=updated, unchanged=unchanged)


def _span(delta: timedelta) -> str:
    seconds = max(1, round(delta.total_seconds()))
    count, unit = (seconds, "second") if seconds < 120 else (seconds // 60, "minute")
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _touch(session: Session, import_id: str) -> None:
    """Stamp the import as still running, in the transaction of what it writes; an import that was
    taken for abandoned meanwhile (it stopped longer than ABANDONED_AFTER) stops here."""
    at = clock.now()
    alive = session.execute(
        sql_update(AssetImport)
        .where(AssetImport.id == import_id, AssetImport.revision.is_(None),
               AssetImport.touched_at >= at - ABANDONED_AFTER)
        .values(touched_at=at).returning(AssetImport.id)
    ).first()
    if alive is None:
        raise Conflict(IMPORT_STOPPED.format(after=_span(ABANDONED_AFTER)))


@dataclass
class _Batch:
    """One batch of a file read against the catalogue: what to insert, what to set aside, and the assets
    another pending import is adding."""

    new: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    pending: list[tuple[str, str]] = field(default_factory=list)  # (link, import)


def _stage(batch: list[AssetRecord], import_id: str, *, actor_id: str, now: datetime) -> tuple[int, int, int]:
    """Write one batch out of sight: new assets tagged with the import, changes to others set aside.

    Everything but the inserts happens before the writing transaction, which on SQLite holds the lock
    every other writer waits for; the unique link still catches an asset added in between."""
    read = _read_batch(batch, import_id, now=now)
    while read.pending:
        _refuse_or_clear(read.pending)
        read = _read_batch(batch, import_id, now=now)
    with db.transaction() as session:
        _touch(session, import_id)
        if read.new:
            try:
                ids = session.scalars(insert(Asset).returning(Asset.id, sort_by_parameter_order=True), read.new).all()
            except IntegrityError:
                raise Conflict(CATALOGUE_CHANGED.format(url=_first_taken([row["url"] for row in read.new]))) from None
            session.execute(insert(AuditEntry), [
                {"at": now, "actor_id": actor_id, "entity": ENTITY, "entity_id": str(asset_id), "action": "imported",
                 "detail": {"status": _plain(row["status"])}}
                for asset_id, row in zip(ids, read.new, strict=True)
            ])
        if read.changes:
            session.execute(insert(AssetImportChange), read.changes)
    return len(read.new), len(read.changes), read.unchanged


def _read_batch(batch: list[AssetRecord], import_id: str, *, now: datetime) -> _Batch:
    prepared = [(record.with_defaults(), record.status) for record in batch]
    read = _Batch()
    with db.reading() as session:
        found = session.execute(
            select(Asset, VISIBLE.label("visible")).where(Asset.url.in_([fields.url for fields, _ in prepared]))
        ).all()
        read.pending = [(match.Asset.url, match.Asset.import_id) for match in found if not match.visible]
        if read.pending:
            return read
        existing = {match.Asset.url: match.Asset for match in found}
        for fields, status in prepared:
            content = _content(fields)
            row = existing.get(fields.url)
            if row is None:
                read.new.append(content | {"status": status, "created_at": now, "updated_at": now, "share_count": 0,
                                           "useful_count": 0, "not_useful_count": 0, "revision": 0,
                                           "import_id": import_id})
                continue
            changed = _changes(row, content) + (["status"] if row.status != status else [])
            if not changed:
                read.unchanged += 1
                continue
            read.changes.append({
                "import_id": import_id, "asset_id": row.id, "changed": changed,
                "content": {name: _plain(value) for name, value in content.items()} | {"status": status.value},
                "before": {name: _plain(getattr(row, name)) for name in changed},
            })
    return read


def _refuse_or_clear(pending: list[tuple[str, str]]) -> None:
    """Links another pending import is adding: refused while it runs; once it has stopped, cleared away,
    so that the batch can be read again."""
    if _clear_abandoned():
        return
    with db.reading() as session:
        touched = session.scalar(select(func.max(AssetImport.touched_at))
                                 .where(AssetImport.id.in_({import_id for _, import_id in pending})))
    quiet = clock.now() - touched if touched is not None else timedelta(0)
    raise Conflict(IMPORT_RUNNING.format(url=pending[0][0], ago=_span(quiet), after=_span(ABANDONED_AFTER)))


def _first_taken(urls: list[str]) -> str:
    with db.reading() as session:
        return session.scalars(select(Asset.url).where(Asset.url.in_(urls))).first() or "A link in the file"


_EDITABLE = (*CONTENT_FIELDS, "status")


def _edited_meanwhile(current: Any, change: AssetImportChange) -> bool:
    """Whether going live would undo what someone did to the asset since its change was staged: a field
    neither as staging read it nor already as the file has it."""
    staged = change.content | change.before
    return any(_plain(getattr(current, name)) not in (staged[name], change.content[name]) for name in _EDITABLE)


def _go_live(import_id: str, *, actor_id: str, now: datetime) -> None:
    """The one transaction that holds the catalogue revision: the set-aside changes, then the import live."""
    with db.transaction() as session:
        _touch(session, import_id)
        revision = bump_revision(session)
        waiting = select(AssetImportChange).where(AssetImportChange.import_id == import_id)
        for changes in session.scalars(waiting.execution_options(yield_per=WRITE_BATCH)).partitions():
            current = {row.id: row for row in session.execute(
                select(Asset.id, *(getattr(Asset, name) for name in _EDITABLE))
                .where(Asset.id.in_([change.asset_id for change in changes])))}
            for change in changes:
                if _edited_meanwhile(current[change.asset_id], change):
                    row = current[change.asset_id]
                    raise Conflict(EDITED_MEANWHILE.format(title=row.title, url=row.url))
            session.execute(sql_update(Asset), [
                {"id": change.asset_id, **change.content, "updated_at": now, "revision": revision}
                for change in changes
            ])
            session.execute(insert(AuditEntry), [
                {"at": now, "actor_id": actor_id, "entity": ENTITY, "entity_id": str(change.asset_id),
                 "action": "updated", "detail": {"changed": change.changed, "before": change.before,
                                                 "source": "import"}}
                for change in changes
            ])
        session.execute(delete(AssetImportChange).where(AssetImportChange.import_id == import_id))
        session.execute(sql_update(AssetImport).where(AssetImport.id == import_id).values(revision=revision))


def _discard(import_id: str) -> None:
    """Delete a pending import's rows, a batch per transaction; nobody ever saw them."""
    while True:
        with db.transaction() as session:
            ids = session.scalars(select(Asset.id).where(Asset.import_id == import_id).limit(WRITE_BATCH)).all()
            if not ids:
                session.execute(delete(AssetImportChange).where(AssetImportChange.import_id == import_id))
                session.execute(delete(AssetImport).where(AssetImport.id == import_id))
                return
            session.execute(delete(AuditEntry).where(AuditEntry.entity == ENTITY,
                                                     AuditEntry.entity_id.in_([str(i) for i in ids])))
            session.execute(delete(Asset).where(Asset.id.in_(ids)))


def _clear_abandoned() -> int:
    """Clear away the imports that stopped before they finished; how many there were."""
    cutoff = clock.now() - ABANDONED_AFTER
    stopped = (AssetImport.revision.is_(None), AssetImport.touched_at < cutoff)
    with db.reading() as session:
        abandoned = session.scalars(select(AssetImport.id).where(*stopped)).all()
    cleared = 0
    for import_id in abandoned:
        # Taken over first, row locked: an import that was just going live has its revision by the time
        # this can look, and one taken over can never stamp itself alive again.
        with db.transaction() as session:
            taken = session.execute(sql_update(AssetImport).where(AssetImport.id == import_id, *stopped)
                                    .values(touched_at=_GIVEN_UP).returning(AssetImport.id)).first()
        if taken is None:
            continue
        log.info("clearing the rows of an import that stopped before it finished (%s)", import_id)
        _discard(import_id)
        cleared += 1
    return cleared


def export_records() -> list[dict[str, Any]]:
    """Every asset, in the import format (field order as EXPORT_FIELDS), oldest first."""
    with db.reading() as session:
        rows = session.scalars(select(Asset).where(VISIBLE).order_by(Asset.id)).all()
        return [
            {
                "title": row.title,
                "type": _plain(row.type),
                "summary": row.summary or "",
                "url": row.url,
                "topics": list(row.topics or []),
                "products": list(row.products or []),
                "depth": _plain(row.depth),
                "scope": _plain(row.scope),
                "interactivity": _plain(row.interactivity),
                "cycle": _plain(row.cycle),
                "owner": row.owner_id,
                "status": _plain(row.status),
                "customer_facing": bool(row.customer_facing),
            }
            for row in rows
        ]


def render_export(records: list[dict[str, Any]], fmt: Literal["yaml", "csv"]) -> str:
    if fmt == "yaml":
        return yaml.safe_dump(records, sort_keys=False, allow_unicode=True, width=100)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(EXPORT_FIELDS), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({**record, "topics": ";".join(record["topics"]), "products": ";".join(record["products"])})
    return out.getvalue()

"""The asset catalogue as a file: import (YAML or CSV, all or nothing) and export."""

from __future__ import annotations

import csv
import io
import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError
from sqlalchemy import case, cast, delete, func, insert, literal, null, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from bot import clock, db
from bot.errors import Conflict
from bot.services.asset_curation import CONTENT_FIELDS, ENTITY, NEW_VERIFIER, changed_fields, content_of, plain
from bot.services.asset_index import (
    VISIBLE,
    bump_revision,
)
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
from models.assets import Asset, AssetImport, AssetImportChange
from models.ops import AuditEntry
from models.schemas.assets import (
    AssetRecord,
    ImportReport,
    field_problems,
)
from models.schemas.importing import ImportProblem

log = logging.getLogger(__name__)

EXPORT_FIELDS = (
    "title", "type", "summary", "url", "topics", "products",
    "depth", "scope", "interactivity", "cycle", "owner", "status", "customer_facing", "parts", "partner",
    "verifier", "review_every_days", "verified_at",
)

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
# overwrites knowingly. Every write to an asset moves its revision, so an asset whose revision is still
# the one staging read goes live without a second look, by one statement for all of them. Votes, shares
# and verifications move the revision too but nothing an import writes, so for the assets whose revision
# moved the check compares the fields themselves: a field still as staging read it, or already as the
# file has it, loses nobody's work.

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
# Applied changes deleted a transaction, after an import went live: a few hundredths of a second each.
FORGET_BATCH = 5000
IMPORT_STOPPED = ("The import stopped writing for more than {after} and was taken for abandoned; nothing was "
                  "imported. Run it again.")


def _problems_of(error: ValidationError, where: str) -> list[ImportProblem]:
    return [ImportProblem(where=where, field=field, message=message) for field, message in field_problems(error)]


_RULES = ItemRules[AssetRecord](
    build=AssetRecord.model_validate, problems_of=_problems_of, key=lambda record: record.url.rstrip("/"),
    not_a_mapping="is not a set of `field: value` pairs", duplicate_field="url",
    duplicate=lambda _record, first: f"the same link as {first}")


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
        # An empty cell is a field left out: a required one is named as missing, an optional one (a
        # summary, a partner, an axis) takes its default, as the form and the YAML file give it.
        cleaned = {str(key).strip(): cell for key, value in row.items() if (cell := _csv_cell(value)) is not None}
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
    added = updated = unchanged = void = 0
    live = False
    try:
        for batch in batched(records):
            new, changes, same = _stage(batch, import_id, actor_id=actor_id, now=now)
            added, updated, unchanged = added + new, updated + changes, unchanged + same
        if added or updated:
            void = _go_live(import_id, actor_id=actor_id, now=now)
            updated, unchanged = updated - void, unchanged + void
            live = True
    finally:
        if not live:
            _discard(import_id)
    if updated or void:
        _forget_changes(import_id)
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
                 "detail": {"status": plain(row["status"])}}
                for asset_id, row in zip(ids, read.new, strict=True)
            ])
        if read.changes:
            session.execute(insert(AssetImportChange), read.changes)
    db.make_way()
    return len(read.new), len(read.changes), read.unchanged


def _read_batch(batch: list[AssetRecord], import_id: str, *, now: datetime) -> _Batch:
    prepared = [(record.with_defaults(), record.status, record.verified_at) for record in batch]
    read = _Batch()
    with db.reading() as session:
        found = session.execute(
            select(Asset, VISIBLE.label("visible")).where(Asset.url.in_([fields.url for fields, _, _ in prepared]))
        ).all()
        by_url = {match.Asset.url: match for match in found}
        # In the file's order, so the refusal names the first link of the file that is held up.
        read.pending = [(fields.url, by_url[fields.url].Asset.import_id) for fields, _, _ in prepared
                        if fields.url in by_url and not by_url[fields.url].visible]
        if read.pending:
            return read
        existing = {url: match.Asset for url, match in by_url.items()}
        for fields, status, verified_at in prepared:
            content = content_of(fields)
            row = existing.get(fields.url)
            if row is None:
                read.new.append(content | {"status": status, "created_at": now, "updated_at": now, "share_count": 0,
                                           "useful_count": 0, "not_useful_count": 0, "revision": 0,
                                           "import_id": import_id, "verified_at": verified_at or now})
                continue
            changed = changed_fields(row, content) + (["status"] if row.status != status else [])
            # A later verification in the file is taken; an earlier one (an old export) never undoes a newer.
            reverified = verified_at is not None and (row.verified_at is None or verified_at > row.verified_at)
            if not changed and not reverified:
                read.unchanged += 1
                continue
            before = {name: plain(getattr(row, name)) for name in changed}
            if reverified:
                changed.append("verified_at")
                before["verified_at"] = row.verified_at.isoformat() if row.verified_at else None
            read.changes.append(content | {
                "import_id": import_id, "asset_id": row.id, "status": status,
                "verified_at": verified_at if reverified else None,
                "new_verifier": bool(NEW_VERIFIER & set(changed)), "seen_revision": row.revision,
                "detail": {"changed": changed, "before": before, "source": "import"},
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
    content = {name: plain(getattr(change, name)) for name in _EDITABLE}
    staged = content | change.detail["before"]
    return any(plain(getattr(current, name)) not in (staged[name], content[name]) for name in _EDITABLE)


def _go_live(import_id: str, *, actor_id: str, now: datetime) -> int:
    """The one transaction that holds the catalogue revision: the set-aside changes applied by one statement
    for all of them, their audit lines by another, then the import live. A few statements whatever the
    file's size, so on SQLite it holds the write lock for a moment, not for as long as Python would take
    to apply the changes a hundred at a time. Returns how many changes turned out to change nothing."""
    mine = AssetImportChange.import_id == import_id
    staged = (mine, AssetImportChange.asset_id == Asset.id)
    with db.transaction() as session:
        _touch(session, import_id)
        # Taken first, as every write to the catalogue does: from here on nobody else changes an asset.
        revision = bump_revision(session)
        void = _look_again(session, import_id)
        expected = session.scalar(select(func.count()).select_from(AssetImportChange).where(mine)) or 0
        # Not the link, by which the import found the asset: setting it would rewrite its unique index.
        values: dict[str, Any] = {name: getattr(AssetImportChange, name) for name in _EDITABLE if name != "url"}
        applied = session.execute(
            sql_update(Asset)
            .where(*staged, Asset.revision == AssetImportChange.seen_revision)
            .values(**values, updated_at=now, revision=revision,
                    # Staged only when later than the asset's, which has not moved since (same revision).
                    verified_at=func.coalesce(AssetImportChange.verified_at, Asset.verified_at),
                    # The new verifier is asked afresh, even this review period.
                    review_reminded_at=case((AssetImportChange.new_verifier, null()), else_=Asset.review_reminded_at))
            .execution_options(synchronize_session=False)
        ).rowcount
        if applied != expected:
            # `_look_again` saw every asset that moved, under the revision no writer gets past; should one
            # have moved all the same, nothing is applied rather than someone's change undone unseen.
            row = session.execute(select(Asset.title, Asset.url).join(AssetImportChange, staged[1])
                                  .where(mine, Asset.revision != AssetImportChange.seen_revision)
                                  .order_by(Asset.id).limit(1)).one()
            raise Conflict(EDITED_MEANWHILE.format(title=row.title, url=row.url))
        session.execute(insert(AuditEntry).from_select(
            ["at", "actor_id", "entity", "entity_id", "action", "detail"],
            select(literal(now, AuditEntry.at.type), literal(actor_id), literal(ENTITY),
                   cast(AssetImportChange.asset_id, AuditEntry.entity_id.type), literal("updated"),
                   AssetImportChange.detail)
            .where(mine).order_by(AssetImportChange.asset_id)))
        session.execute(sql_update(AssetImport).where(AssetImport.id == import_id).values(revision=revision))
    return void


def _forget_changes(import_id: str) -> None:
    """Delete the changes of an import gone live, FORGET_BATCH a transaction: nobody reads them again, and
    deleted in the go-live transaction they would hold SQLite's write lock longer. Should this fail, the
    import is live all the same (and says so); the next import deletes what is left."""
    mine = AssetImportChange.import_id == import_id
    try:
        while True:
            with db.transaction() as session:
                done = session.execute(delete(AssetImportChange).where(mine, AssetImportChange.asset_id.in_(
                    select(AssetImportChange.asset_id).where(mine).limit(FORGET_BATCH)))).rowcount
            db.make_way()
            if done < FORGET_BATCH:
                return
    except SQLAlchemyError:
        log.warning("could not delete the applied changes of a live import (%s); the next import will",
                    import_id, exc_info=True)


def _look_again(session: Session, import_id: str) -> int:
    """The staged changes of assets whose revision moved since the import read them (an edit, a vote, a
    verification), weighed one by one: an edit the change would undo fails the import, naming the asset;
    otherwise the change is marked as seen again, less a verification no longer later than the asset's.
    Returns how many changes were thereby left with nothing to change (and deleted)."""
    pair = (AssetImportChange.import_id == import_id, AssetImportChange.asset_id == Asset.id)
    moved_ids = session.scalars(select(Asset.id).join(AssetImportChange, pair[1])
                                .where(pair[0], Asset.revision != AssetImportChange.seen_revision)
                                .order_by(Asset.id)).all()
    void = 0
    for ids in batched(moved_ids):
        rows = session.execute(
            select(AssetImportChange, *(getattr(Asset, name) for name in (*_EDITABLE, "verified_at", "revision")))
            .join(Asset, pair[1]).where(pair[0], Asset.id.in_(ids)).order_by(Asset.id)).all()
        seen, emptied = [], []
        for current in rows:
            change: AssetImportChange = current.AssetImportChange
            if _edited_meanwhile(current, change):
                raise Conflict(EDITED_MEANWHILE.format(title=current.title, url=current.url))
            verified_at, detail = change.verified_at, change.detail
            if verified_at is not None and current.verified_at is not None and verified_at <= current.verified_at:
                # Verified in Slack meanwhile, later than the file says: that verification stays.
                verified_at = None
                detail = {**detail, "changed": [name for name in detail["changed"] if name != "verified_at"],
                          "before": {k: v for k, v in detail["before"].items() if k != "verified_at"}}
            if not detail["changed"]:
                emptied.append(change.asset_id)
                continue
            seen.append({"import_id": import_id, "asset_id": change.asset_id, "seen_revision": current.revision,
                         "verified_at": verified_at, "detail": detail})
        if seen:
            session.execute(sql_update(AssetImportChange), seen)
        if emptied:
            session.execute(delete(AssetImportChange).where(pair[0], AssetImportChange.asset_id.in_(emptied)))
        void += len(emptied)
    return void


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
    """Clear away the imports that stopped before they finished, and what is left of the changes of imports
    gone live; how many imports had stopped."""
    cutoff = clock.now() - ABANDONED_AFTER
    stopped = (AssetImport.revision.is_(None), AssetImport.touched_at < cutoff)
    with db.reading() as session:
        abandoned = session.scalars(select(AssetImport.id).where(*stopped)).all()
        applied = session.scalars(select(AssetImportChange.import_id).distinct()
                                  .join(AssetImport, AssetImport.id == AssetImportChange.import_id)
                                  .where(AssetImport.revision.is_not(None))).all()
    for import_id in applied:
        _forget_changes(import_id)
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
                "type": plain(row.type),
                "summary": row.summary or "",
                "url": row.url,
                "topics": list(row.topics or []),
                "products": list(row.products or []),
                "depth": plain(row.depth),
                "scope": plain(row.scope),
                "interactivity": plain(row.interactivity),
                "cycle": plain(row.cycle),
                "owner": row.owner_id,
                "status": plain(row.status),
                "customer_facing": bool(row.customer_facing),
                "parts": [{"label": part["label"], "url": part["url"]} for part in row.parts or []],
                "partner": row.partner_id,
                "verifier": row.verifier_id or "",
                "review_every_days": row.review_every_days or "",
                "verified_at": row.verified_at.isoformat() if row.verified_at else "",
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
        writer.writerow({**record, "topics": ";".join(record["topics"]), "products": ";".join(record["products"]),
                         # One `Label: link` a line, as the form takes them; links may hold `;`.
                         "parts": "\n".join(f"{part['label']}: {part['url']}" for part in record["parts"])})
    return out.getvalue()

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
from sqlalchemy import delete, func, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
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
            content = {name: plain(value) for name, value in content.items()} | {"status": status.value}
            if reverified:
                assert verified_at is not None
                changed.append("verified_at")
                before["verified_at"] = row.verified_at.isoformat() if row.verified_at else None
                content["verified_at"] = verified_at.isoformat()
            read.changes.append({
                "import_id": import_id, "asset_id": row.id, "changed": changed, "content": content, "before": before,
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
    return any(plain(getattr(current, name)) not in (staged[name], change.content[name]) for name in _EDITABLE)


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
                {"id": change.asset_id, **_stored(change.content), "updated_at": now, "revision": revision}
                for change in changes
            ])
            if reassigned := [change.asset_id for change in changes if NEW_VERIFIER & set(change.changed)]:
                # The new verifier is asked afresh, even this review period.
                session.execute(sql_update(Asset).where(Asset.id.in_(reassigned)).values(review_reminded_at=None))
            session.execute(insert(AuditEntry), [
                {"at": now, "actor_id": actor_id, "entity": ENTITY, "entity_id": str(change.asset_id),
                 "action": "updated", "detail": {"changed": change.changed, "before": change.before,
                                                 "source": "import"}}
                for change in changes
            ])
        session.execute(delete(AssetImportChange).where(AssetImportChange.import_id == import_id))
        session.execute(sql_update(AssetImport).where(AssetImport.id == import_id).values(revision=revision))


def _stored(content: dict[str, Any]) -> dict[str, Any]:
    """A staged change's content as the asset row takes it (the file's verification time was kept as text)."""
    if content.get("verified_at"):
        return content | {"verified_at": datetime.fromisoformat(content["verified_at"])}
    return content


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

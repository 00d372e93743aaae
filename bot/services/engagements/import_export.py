"""Bulk import and export of engagements with their stage history, as YAML or CSV (`epos engagements
import|export`). An import is checked whole before anything is written, and goes live at once
(bot/services/staging.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError
from sqlalchemy import func, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from bot import clock, db
from bot.errors import Conflict
from bot.services import staging, stints
from bot.services.engagements.common import ENTITY, IMPORT_ACTOR
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
from bot.services.metrics import effective_changes
from models import AuditEntry, DataImport, Engagement, StageChange, StageStint
from models.engagements import counted
from models.enums import Stage
from models.schemas.engagement_records import EngagementRecord, ImportReport, record_problems
from models.schemas.importing import ImportProblem

EXPORT_FIELDS = ("account", "opportunity", "owner", "seller", "focus", "business_challenge", "technical_needs",
                 "channel", "opened_at", "history", "closed_at", "outcome")
REQUIRED_COLUMNS = ("account", "opportunity", "owner", "seller", "focus", "opened_at", "history")
HISTORY_SEPARATOR = ";"
HISTORY_AT = "@"
IMPORT_KIND = "engagements"
# An engagement is ten rows or so (itself, its stage log, its stints, an audit line): batches of 25 write
# about as many rows per transaction as an asset import's 100, so SQLite's write lock is held as briefly.
# At 100 a batch held it up to 3 s on a loaded machine (docs/performance.md).
ENGAGEMENT_BATCH = WRITE_BATCH // 4
YAML_SHAPE = "must be a list of engagements, each starting with `- account: …`"
IMPORT_RUNNING = ("{account} ({opportunity}) is being added by another import that is still running; "
                  "run this one again when it has finished.")


def _problems_of(error: ValidationError, where: str) -> list[ImportProblem]:
    found = []
    for item in error.errors():
        loc = [str(part + 1) if isinstance(part, int) else str(part) for part in item.get("loc") or ()]
        field = ".".join(loc) or None
        message = str(item.get("msg", "is not valid")).removeprefix("Value error, ")
        if item.get("type") == "missing":
            message = "is required"
        elif item.get("type") == "string_pattern_mismatch":
            message = ("is not a Slack channel id like C0123ABCD" if loc and loc[0] == "channel"
                       else "is not a Slack user id like U0123ABCD")
        elif item.get("type") == "extra_forbidden":
            message = f"is not a field of an engagement; the fields are {', '.join(EXPORT_FIELDS)}"
        found.append(ImportProblem(where=where, field=field, message=message))
    return found


def _checked(rows: Iterable[tuple[str, Any]], problems: list[ImportProblem], now: datetime) -> Iterator[EngagementRecord]:
    """The valid records among `rows`, in order (fields, history order, dates, duplicates in the file);
    each problem found is added to `problems`."""
    return checked(rows, problems, ItemRules[EngagementRecord](
        build=EngagementRecord.model_validate, problems_of=_problems_of, key=_key,
        not_a_mapping="must be a mapping with account, opportunity, owner, …", duplicate_field="opportunity",
        duplicate=lambda _record, first: f"repeats the account and opportunity of {first}",
        whole=lambda record: record_problems(record, now)))


def _key(record: EngagementRecord) -> tuple[str, str]:
    return record.account.casefold(), record.opportunity.casefold()


def _read(source: str | Iterable[str], fmt: Literal["yaml", "csv"], now: datetime) -> Iterator[EngagementRecord]:
    """Every record of a file, a row at a time; raises ImportInvalid listing every problem at the end."""
    problems: list[ImportProblem] = []
    if fmt == "yaml":
        assert isinstance(source, str)
        items = yaml_items(source, key="engagements", shape=YAML_SHAPE)
    else:
        items = _csv_items(source, problems)
    yield from _checked(items, problems, now)
    if problems:
        raise ImportInvalid(problems)


def validate_records(rows: list[tuple[str, Any]], *, now: datetime | None = None) -> list[EngagementRecord]:
    """Every row checked; raises ImportInvalid listing all problems at once."""
    problems: list[ImportProblem] = []
    records = list(_checked(rows, problems, now or clock.now()))
    if problems:
        raise ImportInvalid(problems)
    return records


def parse_import(text: str, fmt: Literal["yaml", "csv"], *, now: datetime | None = None) -> list[EngagementRecord]:
    """Read a YAML list or a CSV file of engagements; raises ImportInvalid listing every problem."""
    return list(_read(text, fmt, now or clock.now()))


def _history_cell(cell: str, where: str) -> list[dict[str, str]] | ImportProblem:
    entries = []
    for number, part in enumerate([p.strip() for p in cell.split(HISTORY_SEPARATOR) if p.strip()], start=1):
        stage, sep, moment = part.partition(HISTORY_AT)
        if not sep:
            return ImportProblem(where=where, field=f"history.{number}",
                                 message=f"{part!r} is not STAGE@DATE-TIME like discovery@2026-08-07T14:00:00Z")
        entries.append({"stage": stage.strip(), "at": moment.strip()})
    return entries


def _csv_items(source: str | Iterable[str], problems: list[ImportProblem]) -> Iterator[tuple[str, Any]]:
    names, rows_read = csv_rows(source)
    header = [name.strip() for name in names]
    if not header:
        return
    if refusal := column_problem(header, EXPORT_FIELDS, REQUIRED_COLUMNS):
        raise refusal
    for where, row in rows_read:
        if None in row:
            problems.append(ImportProblem(where=where, message=EXTRA_CELLS))
            continue
        values = {str(key).strip(): (value.strip() if isinstance(value, str) else value) for key, value in row.items()}
        if not any(values.values()):
            continue
        history = _history_cell(values.get("history") or "", where)
        if isinstance(history, ImportProblem):
            problems.append(history)
            continue
        values["history"] = history
        for optional in ("channel", "closed_at", "outcome", "business_challenge", "technical_needs"):
            if values.get(optional) in ("", None):
                values.pop(optional, None)
        yield where, values


@contextmanager
def _file_records(path: Path, fmt: Literal["yaml", "csv"], now: datetime) -> Iterator[Iterator[EngagementRecord]]:
    if fmt == "yaml":
        yield _read(path.read_text(encoding="utf-8-sig"), fmt, now)
        return
    with open_csv(path) as lines:
        yield _read(lines, fmt, now)


def check_file(path: Path, fmt: Literal["yaml", "csv"], *, now: datetime | None = None) -> int:
    """Read a file row by row and check it all, writing nothing; how many engagements it holds.
    Raises ImportInvalid listing every problem."""
    with _file_records(path, fmt, now or clock.now()) as records:
        return sum(1 for _ in records)


def import_file(path: Path, fmt: Literal["yaml", "csv"], *, now: datetime | None = None) -> ImportReport:
    """Check a whole file, then import it (see `import_records`); a file with any problem raises
    ImportInvalid and writes nothing. The file is read a row at a time, twice."""
    now = now or clock.now()
    check_file(path, fmt, now=now)
    with _file_records(path, fmt, now) as records:
        return import_records(records, now=now)


def import_records(records: Iterable[EngagementRecord], *, now: datetime | None = None) -> ImportReport:
    """Add every record, all or nothing as anyone sees it. An engagement whose account and opportunity
    (ignoring case) already exist is left as it is and counted as skipped, so importing the same file
    twice is harmless. The writes are short transactions of WRITE_BATCH engagements, invisible until
    one short last transaction makes them live (bot/services/staging.py)."""
    now = now or clock.now()
    imported = skipped = 0
    with staging.pending(IMPORT_KIND, now) as import_id:
        for batch in batched(records, ENGAGEMENT_BATCH):
            added, same = _stage(batch, import_id, now)
            imported, skipped = imported + added, skipped + same
        if imported:
            with db.transaction() as session:
                staging.go_live(session, import_id, now)
    return ImportReport(imported=imported, skipped=skipped)


def _stage(batch: list[EngagementRecord], import_id: str, now: datetime) -> tuple[int, int]:
    """Write one batch out of sight; (written, skipped as already there). The lookup of what is already
    there runs before the writing transaction, which on SQLite holds the lock every writer waits for."""
    with staging.reading() as session:
        # lower() finds the candidates by index (on SQLite it folds ASCII letters only); casefold decides.
        found = session.execute(
            select(Engagement.account, Engagement.opportunity, Engagement.import_id, DataImport.live_at)
            .outerjoin(DataImport, DataImport.id == Engagement.import_id)
            .where(func.lower(Engagement.account).in_({record.account.lower() for record in batch}))
        ).all()
    there = {(row.account.casefold(), row.opportunity.casefold()): row for row in found}
    fresh = []
    for record in batch:
        match = there.get(_key(record))
        if match is None:
            fresh.append(record)
        elif match.import_id is not None and match.import_id != import_id and match.live_at is None:
            raise Conflict(IMPORT_RUNNING.format(account=record.account, opportunity=record.opportunity))
    if fresh:
        with staging.writing() as session:
            _write_batch(session, fresh, import_id, now)
    return len(fresh), len(batch) - len(fresh)


def _write_batch(session: Session, records: list[EngagementRecord], import_id: str, now: datetime) -> None:
    ids = session.scalars(insert(Engagement).returning(Engagement.id, sort_by_parameter_order=True),
                          [_engagement_row(record, import_id, now) for record in records]).all()
    changes = [change for engagement_id, record in zip(ids, records, strict=True)
               for change in _change_rows(engagement_id, record, import_id, now)]
    # The table, not the entity: the ORM's bulk path splits rows by which values are None and sends each
    # group row by row on PostgreSQL, about ten times slower here.
    session.execute(insert(StageChange.__table__), changes)
    stints.refresh(session, ids)
    session.execute(sql_update(StageStint).where(StageStint.engagement_id.in_(ids)).values(import_id=import_id))
    session.execute(insert(AuditEntry.__table__), [
        {"at": now, "actor_id": IMPORT_ACTOR, "entity": ENTITY, "entity_id": str(engagement_id), "action": "import",
         "detail": {"account": record.account, "opportunity": record.opportunity}}
        for engagement_id, record in zip(ids, records, strict=True)
    ])


def _engagement_row(record: EngagementRecord, import_id: str, now: datetime) -> dict[str, Any]:
    last = record.history[-1]
    closed = record.closed_at is not None
    return {
        "account": record.account, "opportunity": record.opportunity, "owner_id": record.owner,
        "seller_id": record.seller, "focus": record.focus, "business_challenge": record.business_challenge,
        "technical_needs": record.technical_needs, "channel_id": record.channel, "opened_at": record.opened_at,
        "stage": Stage.closed if closed else last.stage,
        "stage_entered_at": record.closed_at if closed else last.at,
        "last_activity_at": record.closed_at if closed else last.at,
        "closed_at": record.closed_at, "outcome": record.outcome, "snoozed_until": None, "last_nudged_at": None,
        "created_by": IMPORT_ACTOR, "created_at": now, "updated_at": now, "import_id": import_id,
    }


def _change_rows(engagement_id: int, record: EngagementRecord, import_id: str, now: datetime) -> list[dict[str, Any]]:
    common = {"engagement_id": engagement_id, "actor_id": IMPORT_ACTOR, "logged_at": now, "note": "",
              "reverts_id": None, "import_id": import_id}
    rows = []
    previous: Stage | None = None
    for entry in record.history:
        rows.append(common | {"from_stage": previous, "to_stage": entry.stage, "outcome": None,
                              "effective_at": entry.at})
        previous = entry.stage
    if record.closed_at is not None:
        rows.append(common | {"from_stage": previous, "to_stage": Stage.closed, "outcome": record.outcome,
                              "effective_at": record.closed_at})
    return rows


def export_records() -> list[dict[str, Any]]:
    """Every engagement in the import shape, oldest first, practice ones left out. The history is the
    standing stage log (undone changes and their undo left out); notes are not part of it."""
    with db.reading() as session:
        rows = session.scalars(select(Engagement).where(counted()).order_by(Engagement.opened_at, Engagement.id)).all()
        standing = effective_changes().subquery()
        changes = session.execute(
            select(standing.c.engagement_id, standing.c.to_stage, standing.c.effective_at)
            .where(standing.c.to_stage != Stage.closed.value)
            .order_by(standing.c.engagement_id, standing.c.effective_at, standing.c.id)
        ).all()
        history: dict[int, list[dict[str, str]]] = {}
        for engagement_id, stage, moment in changes:
            history.setdefault(engagement_id, []).append({"stage": str(stage), "at": _iso(moment)})
        exported = []
        for row in rows:
            item: dict[str, Any] = {
                "account": row.account, "opportunity": row.opportunity, "owner": row.owner_id,
                "seller": row.seller_id, "focus": row.focus, "business_challenge": row.business_challenge,
                "technical_needs": row.technical_needs, "channel": row.channel_id, "opened_at": _iso(row.opened_at),
                "history": history.get(row.id, []),
                "closed_at": _iso(row.closed_at) if row.closed_at else None,
                "outcome": str(row.outcome) if row.outcome else None,
            }
            exported.append({key: value for key, value in item.items() if value not in (None, "")})
        return exported


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def render_export(records: list[dict[str, Any]], fmt: Literal["yaml", "csv"]) -> str:
    if fmt == "yaml":
        return yaml.safe_dump(records, sort_keys=False, allow_unicode=True, width=100)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        row = dict(record)
        row["history"] = f"{HISTORY_SEPARATOR} ".join(f"{h['stage']}{HISTORY_AT}{h['at']}" for h in record["history"])
        writer.writerow({field: row.get(field, "") for field in EXPORT_FIELDS})
    return out.getvalue()

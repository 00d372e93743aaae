"""The DevRel roster: who can be brought into the room, their expertise, hours and capacity.

Files (`epos roster import`) are validated whole before anything is written; admins edit single people
from Slack. Every change is written to the audit log.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import ValidationError
from sqlalchemy import delete, func, insert, literal, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import clock, db
from bot.blocks.text import clip
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound
from bot.services import audit, staging
from bot.services.actors import Actor
from bot.services.importing import (
    EXTRA_CELLS,
    ImportInvalid,
    ItemRules,
    batched,
    checked,
    column_problem,
    csv_rows,
    load_yaml,
    open_csv,
)
from bot.services.routing import load_in_week
from models import AuditEntry, DataImport, DevRelPerson, DevRelRequest, RosterImportChange
from models.enums import RequestState
from models.schemas.devrel import MAX_CAPACITY, SLACK_USER_ID, Booking, RosterEntry, RosterImportResult, RosterMember
from models.schemas.importing import ImportProblem

ENTITY = "devrel_person"
CLI_ACTOR = "epos-cli"
IMPORT_KIND = "roster"
ROSTER_FIELDS = tuple(RosterEntry.model_fields)
REQUIRED_COLUMNS = ("slack_id", "name", "timezone", "work_start", "work_end", "weekly_capacity")
ADMINS_ONLY = "Only epos admins can change the DevRel roster. Ask one of them (EPOS_ADMINS) to make this change."


# ----- reading files -----------------------------------------------------------------------------


def describe_error(error: dict[str, Any]) -> tuple[str, str]:
    """(field, message) from one pydantic error, worded for a person."""
    field = ".".join(str(part) for part in error.get("loc", ()) if not isinstance(part, int)) or "item"
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    kind = error.get("type")
    if kind == "missing":
        message = "is required"
    elif kind == "string_too_short":
        message = "cannot be empty"
    elif kind == "string_too_long":
        message = f"is longer than {(error.get('ctx') or {}).get('max_length', 'allowed')} characters"
    elif kind in ("int_parsing", "int_from_float"):
        message = f"{error.get('input')!r} is not a whole number"
    elif kind in ("greater_than_equal", "less_than_equal"):
        message = f"must be between 0 and {MAX_CAPACITY}"
    elif kind == "bool_parsing":
        message = f"{error.get('input')!r} is not true or false"
    elif kind in ("date_from_datetime_parsing", "date_parsing"):
        message = f"{error.get('input')!r} is not a date like 2026-12-01"
    elif error.get("type") == "extra_forbidden":
        message = f"is not a roster field (fields: {', '.join(ROSTER_FIELDS)})"
    return field, message


def _entry(raw: dict[Any, Any]) -> RosterEntry:
    return RosterEntry(**{key: value for key, value in raw.items() if key in ROSTER_FIELDS})


def _entry_problems(error: ValidationError, where: str) -> list[ImportProblem]:
    problems = []
    for detail in error.errors():
        field, message = describe_error(dict(detail))
        if field == "item":
            field = "work_start" if "work_start" in message else "item"
        problems.append(ImportProblem(where=where, field=field, message=message))
    return problems


def _unknown_fields(raw: dict[Any, Any]) -> list[tuple[str, str]]:
    return [(key, f"is not a roster field (fields: {', '.join(ROSTER_FIELDS)})")
            for key in sorted(str(k) for k in raw if k not in ROSTER_FIELDS)]


_RULES = ItemRules(
    build=_entry, problems_of=_entry_problems, key=lambda entry: entry.slack_id,
    not_a_mapping="expected a mapping of roster fields", duplicate_field="slack_id",
    duplicate=lambda entry, first: f"{entry.slack_id} is already listed at {first}",
    of_mapping=_unknown_fields)


def read_roster_file(path: Path) -> list[RosterEntry]:
    """Every person of a YAML or CSV roster; raises ImportInvalid listing every problem (then use nothing)."""
    return list(_read(path))


def check_roster_file(path: Path) -> int:
    """Read a roster file row by row and check it all, keeping no entry; how many people it holds. Raises
    ImportInvalid listing every problem."""
    return sum(1 for _ in _read(path))


def import_roster_file(path: Path, *, actor_id: str = CLI_ACTOR, now: datetime | None = None) -> RosterImportResult:
    """Import a file `check_roster_file` found no problem in, reading it a row at a time again. Should it
    have changed in between, the import fails whole (InvalidInput naming the first problem)."""

    def entries() -> Iterator[RosterEntry]:
        try:
            yield from _read(path)
        except ImportInvalid as changed:
            raise InvalidInput(f"{changed.problems[0].line(str(path))} (the file changed while it was being "
                               "imported; nothing was imported)") from None

    return import_roster(entries(), actor_id=actor_id, now=now)


def _read(path: Path) -> Iterator[RosterEntry]:
    """Every valid entry of a YAML or CSV roster, a row at a time for CSV, checked as every import file is
    (`importing.checked`); raises ImportInvalid listing every problem once the whole file is read."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml"):
        raise ImportInvalid([ImportProblem(where="", message="give a .yaml, .yml or .csv file")])
    problems: list[ImportProblem] = []
    found: list[bool] = []
    try:
        if suffix == ".csv":
            with open_csv(path) as lines:
                yield from checked(_counted(_csv_items(lines, problems), found), problems, _RULES)
        else:
            yield from checked(_counted(_yaml_items(path.read_text(encoding="utf-8-sig")), found), problems, _RULES)
    except FileNotFoundError:
        problems[:] = [ImportProblem(where="", message="no such file")]
    except (OSError, UnicodeDecodeError) as error:
        problems[:] = [ImportProblem(where="", message=f"cannot be read ({error})")]
    if not problems and not found:
        problems.append(ImportProblem(where="", message="holds no roster entries"))
    if problems:
        raise ImportInvalid(problems)


def _counted(items: Iterator[tuple[str, object]], found: list[bool]) -> Iterator[tuple[str, object]]:
    for item in items:
        if not found:
            found.append(True)
        yield item


def _yaml_items(text: str) -> Iterator[tuple[str, object]]:
    # Every scalar stays a string (text_only): YAML 1.1 would read an unquoted 17:30 as the number 1050.
    data = load_yaml(text, text_only=True)
    if data is None or data == "":
        return
    if not isinstance(data, list):
        raise ImportInvalid([ImportProblem(where="", message="expected a list of people (each starting with "
                                                             "`- slack_id: …`)")])
    yield from ((f"item {i}", item) for i, item in enumerate(data, start=1))


def _csv_items(lines: Iterable[str], problems: list[ImportProblem]) -> Iterator[tuple[str, object]]:
    header, rows = csv_rows(lines)
    if not header:
        return
    if refusal := column_problem(header, ROSTER_FIELDS, REQUIRED_COLUMNS):
        raise refusal
    for where, row in rows:
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        if None in row:
            problems.append(ImportProblem(where=where, message=EXTRA_CELLS))
            continue
        cleaned = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        if cleaned.get("active", "") == "":
            cleaned.pop("active", None)
        yield where, cleaned


# ----- writing files -----------------------------------------------------------------------------


def _plain(entry: RosterEntry) -> dict[str, Any]:
    return {
        "slack_id": entry.slack_id,
        "name": entry.name,
        "topics": list(entry.topics),
        "timezone": entry.timezone,
        "work_start": f"{entry.work_start:%H:%M}",
        "work_end": f"{entry.work_end:%H:%M}",
        "weekly_capacity": entry.weekly_capacity,
        "active": entry.active,
        "out_of_office_until": entry.out_of_office_until.isoformat() if entry.out_of_office_until else None,
    }


def to_yaml(entries: Iterable[RosterEntry]) -> str:
    return yaml.safe_dump([_plain(e) for e in entries], sort_keys=False, allow_unicode=True)


def to_csv(entries: Iterable[RosterEntry]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(ROSTER_FIELDS), lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        row = _plain(entry)
        row["topics"] = ";".join(entry.topics)
        row["active"] = "true" if entry.active else "false"
        row["out_of_office_until"] = row["out_of_office_until"] or ""
        writer.writerow(row)
    return out.getvalue()


# ----- the database ------------------------------------------------------------------------------


def _entry_of(row: DevRelPerson) -> RosterEntry:
    return RosterEntry(
        slack_id=row.slack_id, name=row.name, topics=list(row.topics or []), timezone=row.timezone,
        work_start=row.work_start, work_end=row.work_end, weekly_capacity=row.weekly_capacity,
        active=row.active, out_of_office_until=row.out_of_office_until,
    )


def member_of(row: DevRelPerson, load: int = 0) -> RosterMember:
    return RosterMember(**_entry_of(row).model_dump(), id=row.id, last_assigned_at=row.last_assigned_at,
                        load_this_week=load)


def bookings_between(session: Session, start: datetime, end: datetime, *, exclude_request: int | None = None) -> list[Booking]:
    """Accepted meetings starting in [start, end): the load and overlaps routing weighs."""
    query = select(DevRelRequest.id, DevRelRequest.assignee_id, DevRelRequest.meeting_start,
                   DevRelRequest.duration_minutes).where(
        DevRelRequest.state == RequestState.accepted,
        DevRelRequest.assignee_id.is_not(None),
        DevRelRequest.meeting_start >= start,
        DevRelRequest.meeting_start < end,
    )
    if exclude_request is not None:
        query = query.where(DevRelRequest.id != exclude_request)
    return [
        Booking(slack_id=assignee, start=begin, end=begin + timedelta(minutes=minutes), request_id=request_id)
        for request_id, assignee, begin, minutes in session.execute(query)
        if assignee
    ]


def _apply(row: DevRelPerson, entry: RosterEntry) -> None:
    row.name = entry.name
    row.topics = list(entry.topics)
    row.timezone = entry.timezone
    row.work_start = entry.work_start
    row.work_end = entry.work_end
    row.weekly_capacity = entry.weekly_capacity
    row.active = entry.active
    row.out_of_office_until = entry.out_of_office_until


def _changes(before: RosterEntry, after: RosterEntry) -> dict[str, list[str]]:
    old, new = _plain(before), _plain(after)
    return {key: [str(old[key]), str(new[key])] for key in ROSTER_FIELDS if old[key] != new[key]}


def list_roster(*, now: datetime | None = None) -> list[RosterMember]:
    """Everyone on the roster, active first, with accepted meetings in their current week."""
    now = now or clock.now()
    with db.reading() as session:
        rows = session.scalars(select(DevRelPerson)).all()
        bookings = bookings_between(session, now - timedelta(days=8), now + timedelta(days=8))
        members = [member_of(row, load_in_week(bookings, row.slack_id, now, ZoneInfo(row.timezone))) for row in rows]
    return sorted(members, key=lambda m: (not m.active, m.name.casefold(), m.slack_id))


def _not_on_roster(slack_id: str) -> NotFound:
    # The id comes from a button value: echo it only when it is a Slack id, so forged text (a mention,
    # 40,000 characters) never reaches the reply.
    who = slack_id if SLACK_USER_ID.fullmatch(slack_id) and len(slack_id) <= 32 else "That person"
    return NotFound(f"{who} is not on the DevRel roster. See who is with `/devrel roster`.")


def get_member(slack_id: str) -> RosterMember:
    with db.reading() as session:
        row = session.scalar(select(DevRelPerson).where(DevRelPerson.slack_id == slack_id))
        if row is None:
            raise _not_on_roster(slack_id)
        return member_of(row)


def require_admin(actor: Actor) -> None:
    if not actor.admin:
        raise Forbidden(ADMINS_ONLY)


# ----- importing ---------------------------------------------------------------------------------
#
# Written as engagements are (bot/services/staging.py): new people in short batches tagged with a pending
# import, changes to people already on the roster set aside in `roster_import_changes`; one short last
# transaction applies the changes and makes the new people visible, so routing never sees half a file.

ROSTER_CHANGED = ("{name} ({slack_id}) was added to the roster in Slack while the file was being imported; "
                  "nothing was imported, so they stay as added. Run the import again.")
IMPORT_RUNNING = ("{name} ({slack_id}) is being added by another import that is still running; run this one again "
                  "when it has finished.")
EDITED_MEANWHILE = ("{name} ({slack_id}) was changed in Slack while the file was being imported; nothing was imported, "
                    "so that change stays. Compare the file with it, then run the import again.")


def import_roster(entries: Iterable[RosterEntry], *, actor_id: str = CLI_ACTOR, now: datetime | None = None) -> RosterImportResult:
    """Upsert by Slack id, all or nothing as anyone sees it; running it twice changes nothing the second time."""
    now = now or clock.now()
    result = RosterImportResult()
    with staging.pending(IMPORT_KIND, now) as import_id:
        for batch in batched(entries):
            _stage(batch, import_id, result, actor_id=actor_id, now=now)
        if result.added or result.updated:
            _go_live(import_id, actor_id=actor_id, now=now)
    return result


def _stage(batch: list[RosterEntry], import_id: str, result: RosterImportResult, *, actor_id: str, now: datetime) -> None:
    with staging.reading() as session:
        found = session.execute(
            select(DevRelPerson, DataImport.live_at).outerjoin(DataImport, DataImport.id == DevRelPerson.import_id)
            .where(DevRelPerson.slack_id.in_([entry.slack_id for entry in batch]))
        ).all()
        existing = {match.DevRelPerson.slack_id: match for match in found}
        new: list[RosterEntry] = []
        changes: list[dict[str, Any]] = []
        for entry in batch:
            match = existing.get(entry.slack_id)
            if match is None:
                new.append(entry)
                continue
            row = match.DevRelPerson
            if row.import_id is not None and match.live_at is None:
                raise Conflict(IMPORT_RUNNING.format(name=entry.name, slack_id=entry.slack_id))
            if difference := _changes(_entry_of(row), entry):
                changes.append({"import_id": import_id, "person_id": row.id, **_fields(entry),
                                "seen_version": row.version, "detail": {"source": "import", "changes": difference}})
                result.updated.append(entry.slack_id)
            else:
                result.unchanged.append(entry.slack_id)
    if not new and not changes:
        return
    with staging.writing() as session:
        if new:
            try:
                session.execute(insert(DevRelPerson), [
                    _fields(entry) | {"slack_id": entry.slack_id, "created_at": now, "updated_at": now,
                                      "last_assigned_at": None, "import_id": import_id} for entry in new])
            except IntegrityError:
                raise _added_meanwhile([entry.slack_id for entry in new]) from None
            session.execute(insert(AuditEntry), [
                {"at": now, "actor_id": actor_id, "entity": ENTITY, "entity_id": entry.slack_id, "action": "added",
                 "detail": {"source": "import", **_plain(entry)}} for entry in new])
            result.added.extend(entry.slack_id for entry in new)
        if changes:
            session.execute(insert(RosterImportChange), changes)


def _added_meanwhile(slack_ids: list[str]) -> Conflict:
    """The refusal of a batch one of whose people was added after the batch was read: by an admin in Slack,
    or by another import (whose rows, pending, only an import sees)."""
    with staging.reading() as session:
        found = {row.slack_id: row for row in session.execute(
            select(DevRelPerson.slack_id, DevRelPerson.name, DevRelPerson.import_id, DataImport.live_at)
            .outerjoin(DataImport, DataImport.id == DevRelPerson.import_id)
            .where(DevRelPerson.slack_id.in_(slack_ids)))}
    slack_id = next((slack_id for slack_id in slack_ids if slack_id in found), slack_ids[0])
    holder = found.get(slack_id)
    if holder is not None and holder.import_id is not None and holder.live_at is None:
        return Conflict(IMPORT_RUNNING.format(name=holder.name, slack_id=slack_id))
    return Conflict(ROSTER_CHANGED.format(name=holder.name if holder else "A person in the file", slack_id=slack_id))


def _go_live(import_id: str, *, actor_id: str, now: datetime) -> None:
    """The one transaction that makes the import visible: the set-aside changes applied by one statement
    for all of them, their audit lines by another, then the import live. A few statements whatever the
    file's size, so on SQLite it holds the write lock for a moment, not for as long as Python would take
    to apply the changes a hundred at a time."""
    staged = (RosterImportChange.import_id == import_id, RosterImportChange.person_id == DevRelPerson.id)
    with staging.writing() as session:
        expected = session.scalar(select(func.count()).select_from(RosterImportChange)
                                  .where(RosterImportChange.import_id == import_id)) or 0
        # Only people no one changed since the import read them: on PostgreSQL a save that commits while
        # this runs is read again before the row is written, and then no longer matches.
        applied = session.execute(
            sql_update(DevRelPerson)
            .where(*staged, DevRelPerson.version == RosterImportChange.seen_version)
            .values(**{name: getattr(RosterImportChange, name) for name in _FIELDS}, updated_at=now,
                    version=DevRelPerson.version + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if applied != expected:
            # The file was read before that change; applying it now would undo an admin's edit unseen.
            edited = session.execute(
                select(DevRelPerson.name, DevRelPerson.slack_id).join(RosterImportChange, staged[1])
                .where(staged[0], DevRelPerson.version != RosterImportChange.seen_version)
                .order_by(DevRelPerson.name, DevRelPerson.slack_id).limit(1)).one()
            raise Conflict(EDITED_MEANWHILE.format(name=edited.name, slack_id=edited.slack_id))
        session.execute(insert(AuditEntry).from_select(
            ["at", "actor_id", "entity", "entity_id", "action", "detail"],
            select(literal(now, AuditEntry.at.type), literal(actor_id), literal(ENTITY), DevRelPerson.slack_id,
                   literal("updated"), RosterImportChange.detail)
            .join(RosterImportChange, staged[1]).where(staged[0])))
        session.execute(delete(RosterImportChange).where(staged[0]))
        staging.go_live(session, import_id, now)


# The columns of a person a file sets (all but the Slack id, which finds them).
_FIELDS = ("name", "topics", "timezone", "work_start", "work_end", "weekly_capacity", "active", "out_of_office_until")


def _fields(entry: RosterEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in _FIELDS} | {"topics": list(entry.topics)}


BEING_IMPORTED = ("{name} is being added by a roster import that is still running, so nothing was saved. "
                  "Close this form and try again when it has finished.")
ALREADY_ON_ROSTER = "{name} is already on the roster. Close this form and press Edit next to their name."
ADDED_AT_ONCE = "Someone else added this person at the same moment, so nothing was saved. Submit the form again."


def save_member(actor: Actor, entry: RosterEntry, *, adding: bool, now: datetime | None = None) -> RosterMember:
    """Add a person (adding=True) or change one, as an admin; the modal's field errors come from InvalidInput."""
    require_admin(actor)
    try:
        return _save_member(actor, entry, adding=adding, now=now or clock.now())
    except IntegrityError:
        # Only the Slack id is unique: the id was taken after this form's read, by a person a pending import
        # is writing (which no ordinary read sees) or by another admin. Nothing of the form was written.
        raise _taken(entry.slack_id) from None


def _taken(slack_id: str) -> InvalidInput:
    with staging.reading() as session:
        holder = session.execute(
            select(DevRelPerson.name, DevRelPerson.import_id, DataImport.live_at)
            .outerjoin(DataImport, DataImport.id == DevRelPerson.import_id)
            .where(DevRelPerson.slack_id == slack_id)).first()
    if holder is None:
        return InvalidInput(ADDED_AT_ONCE, field="slack_id")
    if holder.import_id is not None and holder.live_at is None:
        # The import goes in whole; the admin adds or edits them once it has, knowing what it wrote.
        return InvalidInput(BEING_IMPORTED.format(name=clip(holder.name, 40)), field="slack_id")
    return InvalidInput(ALREADY_ON_ROSTER.format(name=clip(holder.name, 40)), field="slack_id")


def _save_member(actor: Actor, entry: RosterEntry, *, adding: bool, now: datetime) -> RosterMember:
    with db.transaction() as session:
        row = session.scalar(select(DevRelPerson).where(DevRelPerson.slack_id == entry.slack_id))
        if adding and row is not None:
            raise InvalidInput(ALREADY_ON_ROSTER.format(name=row.name), field="slack_id")
        if row is None:
            if not adding:
                raise NotFound(f"{entry.slack_id} is no longer on the roster; add them again with Add person.")
            row = DevRelPerson(slack_id=entry.slack_id, created_at=now, updated_at=now, last_assigned_at=None)
            _apply(row, entry)
            session.add(row)
            session.flush()
            audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=entry.slack_id, action="added",
                         at=now, source="slack", **_plain(entry))
            return member_of(row)
        changes = _changes(_entry_of(row), entry)
        if changes:
            _apply(row, entry)
            row.updated_at = now
            # Counted by the database, not from the value read: a go-live committed meanwhile is not undone.
            row.version = DevRelPerson.version + 1
            audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=entry.slack_id, action="updated",
                         at=now, source="slack", changes=changes)
        return member_of(row)


def set_active(actor: Actor, slack_id: str, active: bool, *, now: datetime | None = None) -> RosterMember:
    """Deactivate (never asked again, history kept) or reactivate a person."""
    require_admin(actor)
    now = now or clock.now()
    with db.transaction() as session:
        row = session.scalar(select(DevRelPerson).where(DevRelPerson.slack_id == slack_id))
        if row is None:
            raise _not_on_roster(slack_id)
        if row.active != active:
            row.active = active
            row.updated_at = now
            # Counted by the database, not from the value read: a go-live committed meanwhile is not undone.
            row.version = DevRelPerson.version + 1
            audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=slack_id,
                         action="reactivated" if active else "deactivated", at=now, source="slack")
        return member_of(row)


def export_roster() -> list[RosterEntry]:
    with db.reading() as session:
        rows = session.scalars(select(DevRelPerson).order_by(DevRelPerson.name, DevRelPerson.slack_id)).all()
        return [_entry_of(row) for row in rows]

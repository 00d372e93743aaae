"""The life of an engagement or roster import: pending, then live in one short transaction, or cleared.

Rows an import writes carry its id and stay out of every read until it goes live (models/imports.py);
each batch is its own short transaction, so the bot's clicks and forms never wait long for the database.
A failed import's rows are deleted a batch at a time; nobody saw them. An import whose process was
killed leaves its rows pending; the next import of either kind clears them once they are old enough.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot import db
from bot.services.importing import WRITE_BATCH
from models import AuditEntry, DataImport, DevRelPerson, Engagement
from models.imports import SEE_PENDING

log = logging.getLogger(__name__)

# A pending import older than this was abandoned (its process killed): no import takes a day.
ABANDONED_AFTER = timedelta(days=1)


@contextmanager
def writing() -> Iterator[Session]:
    """A transaction that sees the rows of pending imports (the import's own among them); a batch of an
    import, so it makes way for other writers once it has committed."""
    with db.transaction() as session:
        session.info[SEE_PENDING] = True
        yield session
    db.make_way()


@contextmanager
def reading() -> Iterator[Session]:
    """A read-only unit of work that sees the rows of pending imports."""
    with db.reading() as session:
        session.info[SEE_PENDING] = True
        yield session


@contextmanager
def pending(kind: str, now: datetime) -> Iterator[str]:
    """A new pending import's id; its rows are discarded if the block fails before `go_live`."""
    clear_abandoned(now)
    import_id = uuid.uuid4().hex
    with db.transaction() as session:
        session.add(DataImport(id=import_id, kind=kind, started_at=now))
    try:
        yield import_id
    except BaseException:
        discard(import_id)
        raise
    with db.reading() as session:
        live = session.scalar(select(DataImport.live_at).where(DataImport.id == import_id)) is not None
    if not live:
        discard(import_id)  # nothing to show: an import that added nothing leaves nothing behind


def go_live(session: Session, import_id: str, now: datetime) -> None:
    """Within the caller's (short) transaction: every row of the import becomes visible at once."""
    session.execute(update(DataImport).where(DataImport.id == import_id).values(live_at=now))


def discard(import_id: str) -> None:
    """Delete a pending import's rows, a batch per transaction. Deleting an engagement takes its stage
    log and stints with it (ON DELETE CASCADE); the audit lines of what was never seen go too."""
    for model, entity, audit_key in ((Engagement, "engagement", Engagement.id),
                                     (DevRelPerson, "devrel_person", DevRelPerson.slack_id)):
        while True:
            with writing() as session:
                found = session.execute(select(model.id, audit_key).where(model.import_id == import_id)
                                        .limit(WRITE_BATCH)).all()
                if not found:
                    break
                session.execute(delete(AuditEntry).where(
                    AuditEntry.entity == entity, AuditEntry.entity_id.in_([str(key) for _, key in found])))
                session.execute(delete(model).where(model.id.in_([row_id for row_id, _ in found])))
    with writing() as session:
        session.execute(delete(DataImport).where(DataImport.id == import_id))


def clear_abandoned(now: datetime) -> None:
    with db.reading() as session:
        abandoned = session.scalars(select(DataImport.id).where(
            DataImport.live_at.is_(None), DataImport.started_at < now - ABANDONED_AFTER)).all()
    for import_id in abandoned:
        log.info("clearing the rows of an import abandoned before it finished (%s)", import_id)
        discard(import_id)

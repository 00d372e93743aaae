"""The audit log: who changed what, and when. Written inside the caller's unit of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models import AuditEntry


def record(session: Session, *, actor_id: str, entity: str, entity_id: object, action: str,
           at: datetime, **detail: Any) -> None:
    session.add(AuditEntry(at=at, actor_id=actor_id, entity=entity, entity_id=str(entity_id), action=action, detail=detail))

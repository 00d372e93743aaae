"""Stage webhooks: the calls a stage change owes, written with the change, and what became of each.

A stage whose playbook names a `webhook` is called when an engagement enters or leaves it. `enqueue` writes
the calls in the stage change's own transaction (an outbox), so a change is never saved without its calls
and no call exists for a change that was rolled back. The scheduler's job (bot/jobs/hooks.py) sends them:
each attempt is claimed in `job_claims` under the call's delivery id, so of several replicas one sends it;
a failed attempt is tried again after a growing pause, and after MAX_ATTEMPTS epos gives up and tells the
admins. Per engagement and address the calls go out in the order of the changes. Practice engagements and
imported history call nothing.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, delete, exists, select
from sqlalchemy.orm import Session, aliased

from bot import db
from bot.errors import NotFound
from bot.services import audit, claims, playbooks
from models import Engagement, StageChange, StageHookCall
from models.enums import Stage
from models.schemas.engagements import StageWebhook
from models.schemas.hooks import HookCall

log = logging.getLogger(__name__)

JOB = "stage-hook"
ALERT_JOB = "stage-hook-alert"
MAX_ATTEMPTS = 10
# An attempt takes at most the call's timeout; a holder silent for longer than this has died.
CLAIM_LEASE = timedelta(minutes=2)
LONGEST_PAUSE = timedelta(hours=1)
# Admins are told of a call given up within this long; after that `epos doctor` still lists it.
ALERT_WITHIN = timedelta(days=2)
LISTED_FOR = timedelta(days=7)
BODY_VERSION = 1


def pause_after(attempts: int) -> timedelta:
    """The wait before the next attempt after `attempts` failed ones: 1, 2, 4 … minutes, at most an hour.
    Ten attempts span about four hours, long enough for a receiver's restart or a short outage."""
    return min(timedelta(minutes=2 ** min(attempts - 1, 10)), LONGEST_PAUSE)


# ----- writing the calls with the change -------------------------------------------------------------
def _hook(stage: Stage | None) -> StageWebhook | None:
    if stage is None or stage is Stage.closed:
        return None
    return playbooks.playbook(stage).webhook


def _body(delivery_id: str, event: str, stage: Stage, engagement: Engagement, change: StageChange) -> str:
    from_stage = Stage(change.from_stage) if change.from_stage else None
    to_stage = Stage(change.to_stage)
    payload: dict[str, Any] = {
        "version": BODY_VERSION,
        "delivery_id": delivery_id,
        "event": f"stage.{event}",
        "stage": stage.value,
        "stage_label": stage.label,
        "engagement": {
            "id": engagement.id,
            "account": engagement.account,
            "opportunity": engagement.opportunity,
            "focus": engagement.focus,
            "owner": engagement.owner_id,
            "seller": engagement.seller_id,
        },
        "change": {
            "id": change.id,
            "from_stage": from_stage.value if from_stage else None,
            "to_stage": to_stage.value,
            "outcome": str(change.outcome) if change.outcome else None,
            "undo": change.reverts_id is not None,
            "by": change.actor_id,
            "effective_at": change.effective_at.isoformat(),
            "logged_at": change.logged_at.isoformat(),
        },
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def enqueue(session: Session, engagement: Engagement, change: StageChange, *, now: datetime) -> int:
    """Write the calls `change` owes (leaving its old stage, entering its new one) in the caller's unit of
    work. Returns how many."""
    if engagement.practice or engagement.import_id is not None:
        return 0
    owed: list[tuple[Literal["left", "entered"], Stage, StageWebhook]] = []
    left = Stage(change.from_stage) if change.from_stage else None
    entered = Stage(change.to_stage)
    for event, stage in (("left", left), ("entered", entered)):
        hook = _hook(stage)
        if hook is not None and stage is not None and hook.calls_on(event):
            owed.append((event, stage, hook))  # type: ignore[arg-type]
    for event, stage, hook in owed:
        delivery_id = str(uuid.uuid4())
        session.add(StageHookCall(
            delivery_id=delivery_id, engagement_id=engagement.id, change_id=change.id, stage=stage.value, event=event,
            url=hook.url, body=_body(delivery_id, event, stage, engagement, change), created_at=now,
            status="pending", attempts=0, next_attempt_at=now, last_error="",
        ))
    return len(owed)


def secret_for(stage: Stage) -> tuple[str | None, str, bool]:
    """(secret, problem, final) for a call of `stage` now: the secret is read at each attempt, so a rotated
    one counts after a restart. `final`: the stage has no webhook any more, so retrying cannot help."""
    hook = _hook(stage)
    if hook is None:
        return None, f"the {stage.label} stage has no webhook in the playbooks any more", True
    if hook.secret is not None:
        return hook.secret.get_secret_value(), "", False
    secret = os.environ.get(hook.secret_env or "", "")
    if not secret:
        return None, f"{hook.secret_env} is not set in epos's environment, so the call could not be signed", False
    return secret, "", False


# ----- the outbox, for the job ------------------------------------------------------------------------
def _dto(row: StageHookCall, account: str, opportunity: str) -> HookCall:
    return HookCall(
        delivery_id=row.delivery_id, engagement_id=row.engagement_id, account=account, opportunity=opportunity,
        stage=Stage(row.stage), event=row.event, url=row.url, body=row.body, status=row.status,  # type: ignore[arg-type]
        attempts=row.attempts, created_at=row.created_at, last_attempt_at=row.last_attempt_at,
        last_error=row.last_error,
    )


def _with_engagement():  # type: ignore[no-untyped-def]
    return select(StageHookCall, Engagement.account, Engagement.opportunity).join(
        Engagement, Engagement.id == StageHookCall.engagement_id)


def due(now: datetime, *, limit: int = 200) -> list[HookCall]:
    """Pending calls whose next attempt has come, oldest first, leaving out any that waits for an earlier
    call of the same engagement to the same address (so a receiver sees an engagement's changes in order).
    More than a tick sends: the job skips the other calls to an address that just failed, and those behind
    them must still be reached."""
    earlier = aliased(StageHookCall)
    waits = exists().where(and_(
        earlier.engagement_id == StageHookCall.engagement_id, earlier.url == StageHookCall.url,
        earlier.status == "pending", earlier.id < StageHookCall.id,
    ))
    query = (_with_engagement()
             .where(StageHookCall.status == "pending", StageHookCall.next_attempt_at <= now, ~waits)
             .order_by(StageHookCall.id).limit(limit))
    with db.reading() as session:
        return [_dto(row, account, opportunity) for row, account, opportunity in session.execute(query)]


def _row(session: Session, delivery_id: str) -> StageHookCall | None:
    return session.scalars(select(StageHookCall).where(StageHookCall.delivery_id == delivery_id)).one_or_none()


def delivered(delivery_id: str, *, owner: str, now: datetime) -> bool:
    """Record a call the receiver accepted, and finish its claim, together. False when this process had lost
    the claim meanwhile (logged: the call may then have been sent twice)."""
    with db.transaction() as session:
        row = _row(session, delivery_id)
        if row is None:
            return False  # its engagement was deleted meanwhile
        row.attempts += 1
        row.status, row.delivered_at, row.last_attempt_at, row.last_error = "delivered", now, now, ""
        held = claims.complete_in(session, JOB, delivery_id, owner=owner, now=now)
    if not held:
        log.warning("webhook call %s was delivered after this process's claim had lapsed", delivery_id)
    return held


def failed(delivery_id: str, error: str, *, owner: str, now: datetime,
           final: bool = False) -> Literal["retry", "gave_up"]:
    """Record a failed attempt. The call is tried again after `pause_after`, or given up (its claim finished,
    so no replica takes it again) after MAX_ATTEMPTS or when retrying cannot help (`final`)."""
    with db.transaction() as session:
        row = _row(session, delivery_id)
        if row is None:
            return "gave_up"
        row.attempts += 1
        row.last_attempt_at, row.last_error = now, error[: claims.ERROR_TEXT]
        if final or row.attempts >= MAX_ATTEMPTS:
            row.status = "gave_up"
            claims.complete_in(session, JOB, delivery_id, owner=owner, now=now)
            return "gave_up"
        row.next_attempt_at = now + pause_after(row.attempts)
        claims.release_in(session, JOB, delivery_id, error, owner=owner, until=row.next_attempt_at)
        return "retry"


# ----- for admins ---------------------------------------------------------------------------------------
def unalerted(now: datetime, *, limit: int = 20) -> list[HookCall]:
    """Calls given up lately whose admins have not all been told yet."""
    query = (_with_engagement()
             .where(StageHookCall.status == "gave_up", StageHookCall.alerted_at.is_(None),
                    StageHookCall.last_attempt_at >= now - ALERT_WITHIN)
             .order_by(StageHookCall.id).limit(limit))
    with db.reading() as session:
        return [_dto(row, account, opportunity) for row, account, opportunity in session.execute(query)]


def mark_alerted(delivery_id: str, now: datetime) -> None:
    with db.transaction() as session:
        row = _row(session, delivery_id)
        if row is not None:
            row.alerted_at = now


def failing(now: datetime, *, limit: int = 10) -> tuple[list[HookCall], list[HookCall]]:
    """(given up in the last week, failing and being retried): what `epos doctor` lists, newest first."""
    recent = StageHookCall.last_attempt_at >= now - LISTED_FOR
    with db.reading() as session:
        given_up = session.execute(_with_engagement().where(StageHookCall.status == "gave_up", recent)
                                   .order_by(StageHookCall.id.desc()).limit(limit)).all()
        retrying = session.execute(_with_engagement().where(StageHookCall.status == "pending",
                                                            StageHookCall.attempts > 0)
                                   .order_by(StageHookCall.id.desc()).limit(limit)).all()
        return ([_dto(row, a, o) for row, a, o in given_up], [_dto(row, a, o) for row, a, o in retrying])


NOT_GIVEN_UP = "{ids} {verb} not {what} epos gave up on; `epos webhooks` lists the calls it gave up on"


def send_again(delivery_ids: list[str] | None, *, actor_id: str, now: datetime) -> list[HookCall]:
    """Give calls epos gave up on (`delivery_ids`, or all of the last week's with None) a fresh round of
    attempts from the next tick, with the same delivery id and body, so a receiver that saw one drops it.
    Audited. All or none: an id that names no given-up call refuses the lot."""
    query = _with_engagement().where(StageHookCall.status == "gave_up")
    if delivery_ids is None:
        query = query.where(StageHookCall.last_attempt_at >= now - LISTED_FOR)
    else:
        query = query.where(StageHookCall.delivery_id.in_(delivery_ids))
    with db.transaction() as session:
        found = session.execute(query.order_by(StageHookCall.id)).all()
        missing = sorted(set(delivery_ids or ()) - {row.delivery_id for row, _, _ in found})
        if missing:
            raise NotFound(NOT_GIVEN_UP.format(ids=", ".join(missing), verb="is" if len(missing) == 1 else "are",
                                               what="a webhook call" if len(missing) == 1 else "webhook calls"))
        for row, _, _ in found:
            row.status, row.attempts, row.next_attempt_at, row.alerted_at = "pending", 0, now, None
            # Its attempts were claimed under its delivery id; the finished claim would keep the job off it.
            claims.reopen_in(session, JOB, row.delivery_id)
            audit.record(session, actor_id=actor_id, entity="webhook", entity_id=row.delivery_id,
                         action="send_again", at=now, engagement_id=row.engagement_id, stage=row.stage,
                         event=row.event, last_error=row.last_error)
        session.flush()
        return [_dto(row, account, opportunity) for row, account, opportunity in found]


def forget_before(cutoff: datetime) -> int:
    """Delete calls delivered or given up before `cutoff` (daily housekeeping)."""
    with db.transaction() as session:
        finished = StageHookCall.status.in_(("delivered", "gave_up"))
        statement = delete(StageHookCall).where(finished, StageHookCall.last_attempt_at < cutoff)
        return session.execute(statement).rowcount


def calls_of(engagement_id: int) -> list[HookCall]:
    """Every call of one engagement, oldest first (for tests and support)."""
    with db.reading() as session:
        rows = session.execute(_with_engagement().where(StageHookCall.engagement_id == engagement_id)
                               .order_by(StageHookCall.id)).all()
        return [_dto(row, a, o) for row, a, o in rows]

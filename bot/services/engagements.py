"""Engagements along the EPOS stages: opening, stage changes (append-only log), closing, notes, undo,
the card, lists, the App Home's data, and stale detection for nudges.

Who may change an engagement: its owner SE, its seller, EPOS_MANAGERS and EPOS_ADMINS. The presales team
(see `actors.in_presales`) may read cards, lists and figures. Every read and write checks this here,
whichever surface it came from.
"""

from __future__ import annotations

import csv
import gc
import io
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pathlib import Path

import yaml
from pydantic import ValidationError
from rapidfuzz import fuzz, process, utils
from sqlalchemy import ColumnElement, case, func, insert, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from bot import clock, db
from bot.blocks.text import escape
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound
from bot.services import audit, playbooks, staging, stints, usage
from bot.services.actors import Actor, require_presales
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
from bot.services.metrics import at, effective_changes, epoch_days, stage_rank, team_metrics
from models import (
    Asset,
    AssetShare,
    AuditEntry,
    DataImport,
    DevRelRequest,
    Engagement,
    EngagementNote,
    EsatSurvey,
    StageChange,
    StageStint,
)
from models.enums import OPEN_STAGES, AssetType, Outcome, RequestState, Stage
from models.schemas.devrel import CANCELLABLE_STATES
from models.schemas.engagements import (
    OUTCOME_LABELS,
    AccountMatch,
    AssetSuggestion,
    DevRelLine,
    EngagementCard,
    EngagementPage,
    EngagementRecord,
    EngagementSummary,
    HomeData,
    ImportReport,
    Interpretation,
    NewEngagementIn,
    NoteResult,
    PlaybookPost,
    SharedAsset,
    StageChangeResult,
    StageMatch,
    StaleEngagement,
    TeamMetrics,
    TimelineEntry,
    record_problems,
)
from models.schemas.importing import ImportProblem

log = logging.getLogger(__name__)

ENTITY = "engagement"
ESAT_REMIND_AFTER = timedelta(days=2)
BACKDATED_AFTER = timedelta(hours=1)
IMPORT_ACTOR = "import"
PAGE_SIZE = 10
HOME_PAGE_SIZE = 15
TIMELINE_LIMIT = 12
CARD_LIST_LIMIT = 5
NOTE_LIMIT = 2000
TEXT_LIMIT = 3000
NAME_LIMIT = 200
FOCUS_LIMIT = 100
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,31}$")
SLACK_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,31}$")

# Past dates picked in a date picker are taken as noon local time: a whole day's uncertainty either way.
BACKDATE_TIME = time(12, 0)


# ----- stages as people type them ------------------------------------------------------------------
STAGE_ALIASES: dict[str, Stage] = {
    "preparation": Stage.preparation, "prep": Stage.preparation, "prepare": Stage.preparation,
    "preparing": Stage.preparation,
    "discovery": Stage.discovery, "disco": Stage.discovery, "discover": Stage.discovery,
    "demo": Stage.demo, "demos": Stage.demo, "demonstration": Stage.demo, "d2w": Stage.demo,
    "poc": Stage.poc, "pov": Stage.poc, "proof of concept": Stage.poc, "proof of value": Stage.poc,
    "proof": Stage.poc, "pilot": Stage.poc,
    "tech qa": Stage.tech_qa, "tech q&a": Stage.tech_qa, "technical q&a": Stage.tech_qa,
    "technical qa": Stage.tech_qa, "q&a": Stage.tech_qa, "qa": Stage.tech_qa, "techqa": Stage.tech_qa,
    "tech_qa": Stage.tech_qa, "q and a": Stage.tech_qa, "technical questions": Stage.tech_qa,
    "sizing": Stage.sizing, "size": Stage.sizing,
}
CLOSING_WORDS = {"closed", "close", "won", "lost", "win", "lose", "no decision", "no-decision", "nodecision"}
OUTCOME_ALIASES: dict[str, Outcome] = {
    "won": Outcome.won, "win": Outcome.won,
    "lost": Outcome.lost, "lose": Outcome.lost, "loss": Outcome.lost,
    "no-decision": Outcome.no_decision, "no_decision": Outcome.no_decision, "nodecision": Outcome.no_decision,
    "no decision": Outcome.no_decision, "nd": Outcome.no_decision,
}
STAGE_FUZZY_CUTOFF = 80
ACCOUNT_CONFIDENT = 90
ACCOUNT_UNSURE = 65
MAX_CANDIDATES = 10


def normalize(text: str) -> str:
    return " ".join(text.casefold().replace("_", " ").replace("-", " ").split())


def match_stage(text: str) -> StageMatch:
    """A stage from what someone typed: a label or alias at once, a close spelling as a guess."""
    phrase = normalize(text)
    if not phrase:
        return StageMatch(kind="none", query=text)
    aliases = {normalize(alias): stage for alias, stage in STAGE_ALIASES.items()}
    if phrase in aliases:
        return StageMatch(kind="exact", query=text, stage=aliases[phrase])
    if phrase in {normalize(word) for word in CLOSING_WORDS}:
        return StageMatch(kind="closed", query=text, stage=Stage.closed)
    if len(phrase) >= 3:
        best = process.extractOne(phrase, list(aliases), scorer=fuzz.ratio, score_cutoff=STAGE_FUZZY_CUTOFF)
        if best is not None:
            return StageMatch(kind="unsure", query=text, stage=aliases[best[0]])
    return StageMatch(kind="none", query=text)


def parse_outcome(text: str) -> Outcome | None:
    return OUTCOME_ALIASES.get(" ".join(text.casefold().split()))


# ----- small helpers ---------------------------------------------------------------------------------
def may_change(actor: Actor, engagement: Engagement | EngagementSummary) -> bool:
    return actor.admin or actor.manager or actor.user_id in (engagement.owner_id, engagement.seller_id)


def _require_change_right(actor: Actor, engagement: Engagement) -> None:
    if not may_change(actor, engagement):
        raise Forbidden(
            f"Only the owner <@{engagement.owner_id}>, the seller <@{engagement.seller_id}> or a presales "
            f"manager may change *{escape(engagement.account)}*. Ask <@{engagement.owner_id}> to log it, "
            "or a manager to add you as the seller."
        )


def _load(session: Session, engagement_id: int, *, lock: bool = False) -> Engagement:
    query = select(Engagement).where(Engagement.id == engagement_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    engagement = session.scalar(query)
    if engagement is None:
        raise NotFound("That engagement no longer exists. Use `/engagement list` to see yours.")
    return engagement


def stale_after(stage: Stage) -> timedelta:
    """How long an engagement may sit in `stage` without a change or note before it is stale."""
    return playbooks.playbook(Stage(stage)).stale_after


def stale_cutoff(now: datetime) -> ColumnElement[datetime]:
    """Per stage, the last-activity time before which an open engagement is stale (a CASE over stages)."""
    return case({stage.value: at(now - stale_after(stage)) for stage in OPEN_STAGES}, value=Engagement.stage)


def _days(delta: timedelta) -> int:
    return max(0, delta.days)


def summary(engagement: Engagement, now: datetime) -> EngagementSummary:
    open_ = engagement.stage != Stage.closed
    stale = open_ and now - engagement.last_activity_at > stale_after(Stage(engagement.stage))
    return EngagementSummary(
        id=engagement.id,
        account=engagement.account,
        opportunity=engagement.opportunity,
        owner_id=engagement.owner_id,
        seller_id=engagement.seller_id,
        focus=engagement.focus,
        channel_id=engagement.channel_id,
        stage=Stage(engagement.stage),
        outcome=Outcome(engagement.outcome) if engagement.outcome else None,
        opened_at=engagement.opened_at,
        stage_entered_at=engagement.stage_entered_at,
        last_activity_at=engagement.last_activity_at,
        closed_at=engagement.closed_at,
        days_in_stage=_days(now - engagement.stage_entered_at),
        stale=stale,
    )


def _label(engagement: Engagement | EngagementSummary) -> str:
    return f"*{escape(engagement.account)}* ({escape(engagement.opportunity)})"


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def effective_moment(
    on: date | None, *, tz: ZoneInfo, now: datetime, not_before: datetime, opened_at: datetime | None = None
) -> datetime:
    """When a change dated `on` (a day in the actor's timezone) happened: now for today, noon for past days.

    Raises InvalidInput (field `effective_date`) for a future day, or a day before `not_before`.
    """
    today = local_day(now, tz)
    floor = opened_at if opened_at is not None and opened_at > not_before else not_before
    if on is not None and on > today:
        raise InvalidInput("That date is in the future. Pick today or an earlier day.", field="effective_date")
    if on is not None and on < local_day(floor, tz):
        raise InvalidInput(
            f"Pick {floor.astimezone(tz):%-d %b %Y} or later: the engagement's last change (or its opening) "
            "was on that day, and the stage log can't go back before it.",
            field="effective_date",
        )
    if on is None or on == today:
        return now
    # On the day of the last change itself, never earlier than that change.
    return min(max(datetime.combine(on, BACKDATE_TIME, tzinfo=tz).astimezone(UTC), floor), now)


def _check_moment(moment: datetime, *, now: datetime, not_before: datetime) -> datetime:
    if moment.tzinfo is None:
        raise InvalidInput("The time needs a timezone.", field="effective_date")
    if moment > now + timedelta(minutes=1):
        raise InvalidInput("That date is in the future. Pick today or an earlier day.", field="effective_date")
    if moment < not_before:
        raise InvalidInput(
            f"Pick {not_before:%-d %b %Y %H:%M} UTC or later: the stage log can't go back before the last change.",
            field="effective_date",
        )
    return min(moment, now)


def _clean_note(note: str) -> str:
    note = note.strip()
    if len(note) > NOTE_LIMIT:
        raise InvalidInput(f"The note is {len(note)} characters; keep it under {NOTE_LIMIT}.", field="note")
    return note


# ----- stale engagements (used by nudges and the digest) ------------------------------------------
def _stale(now: datetime) -> ColumnElement[bool]:
    return (Engagement.stage != Stage.closed.value) & (Engagement.last_activity_at < stale_cutoff(now))


# The cyclic collector's full passes walk every object in the process, and it starts one each time the
# objects that survived its younger passes have grown by a quarter. Building tens of thousands of lines
# set off several, which together took longer than reading and building the lines (docs/performance.md).
_NO_FULL_COLLECTION = 1_000_000_000


@contextmanager
def building_in_bulk() -> Iterator[None]:
    """Hold off the collector's full passes while tens of thousands of lines are built; its young-object
    passes go on. The lines form no reference cycles, so nothing waits for collection but the collector's
    own bookkeeping; full passes resume afterwards."""
    young, middle, old = gc.get_threshold()
    if old >= _NO_FULL_COLLECTION:  # another thread is building in bulk and restores the threshold
        yield
        return
    gc.set_threshold(young, middle, _NO_FULL_COLLECTION)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, old)


def stale_engagements(
    now: datetime, *, owner_id: str | None = None, limit: int | None = None
) -> list[StaleEngagement]:
    """Open engagements idle (no stage change, no note) for longer than their stage's playbook allows,
    most overdue first. Snoozed ones are included with `snoozed_until`; the caller decides."""
    # Just the columns the lines need, as Core rows turned into tuples one at a time: ORM rows, validated
    # models, and a list of every row on top of the result each cost a large share of the scan at 100k
    # open engagements, the last two mostly in garbage collection (docs/performance.md).
    query = (
        select(Engagement.id, Engagement.account, Engagement.opportunity, Engagement.owner_id, Engagement.seller_id,
               Engagement.stage, Engagement.last_activity_at, Engagement.snoozed_until, Engagement.last_nudged_at)
        .where(_stale(now))
        .order_by(_overdue_order(now), Engagement.id)
    )
    if owner_id:
        query = query.where(Engagement.owner_id == owner_id)
    if limit is not None:
        query = query.limit(limit)
    stages = {stage.value: stage for stage in OPEN_STAGES}
    thresholds = {stage.value: playbooks.playbook(stage).stale_after_days for stage in OPEN_STAGES}
    with db.reading() as session, building_in_bulk():
        return [
            StaleEngagement(engagement_id, account, opportunity, owner, seller_id, stages[stage],
                            _days(now - last_activity_at), thresholds[stage], last_activity_at, snoozed_until,
                            last_nudged_at)
            for (engagement_id, account, opportunity, owner, seller_id, stage, last_activity_at, snoozed_until,
                 last_nudged_at) in session.connection().execute(query)
        ]


def stale_counts(now: datetime) -> dict[str, int]:
    """How many stale open engagements (snoozed or not) each SE has, by owner id: what the digest counts."""
    query = select(Engagement.owner_id, func.count()).where(_stale(now)).group_by(Engagement.owner_id)
    with db.reading() as session:
        return {owner: int(count) for owner, count in session.execute(query).all()}


def stale_owners(now: datetime) -> list[str]:
    """The SEs with at least one stale open engagement (snoozed or not), by id: the nudge tick's first,
    cheap question, before it reads anyone's lines."""
    query = (
        select(Engagement.owner_id)
        .where(_stale(now))
        .distinct()
        .order_by(Engagement.owner_id)
    )
    with db.reading() as session:
        return list(session.scalars(query).all())


def _overdue_order(now: datetime) -> ColumnElement[Any]:
    """The moment each engagement became stale (last activity + its stage's threshold): earliest first."""
    threshold_days = case(
        {stage.value: stale_after(stage).total_seconds() / 86400 for stage in OPEN_STAGES}, value=Engagement.stage
    )
    return (epoch_days(Engagement.last_activity_at) + threshold_days).asc()


# ----- opening ---------------------------------------------------------------------------------------
def _validate_new(data: NewEngagementIn) -> NewEngagementIn:
    account, opportunity, focus = data.account.strip(), data.opportunity.strip(), data.focus.strip()
    if not account:
        raise InvalidInput("Name the customer account, for example `Northbeam Logistics`.", field="account")
    if len(account) > NAME_LIMIT:
        raise InvalidInput(f"Keep the account name under {NAME_LIMIT} characters.", field="account")
    if not opportunity:
        raise InvalidInput("Name the opportunity, for example `Fleet platform observability`.", field="opportunity")
    if len(opportunity) > NAME_LIMIT:
        raise InvalidInput(f"Keep the opportunity name under {NAME_LIMIT} characters.", field="opportunity")
    if not SLACK_USER.match(data.seller_id or ""):
        raise InvalidInput("Pick the seller you work with on this deal.", field="seller")
    if not focus:
        raise InvalidInput("Describe the focus, for example `kubernetes monitoring`.", field="focus")
    if len(focus) > FOCUS_LIMIT:
        raise InvalidInput(f"Keep the focus under {FOCUS_LIMIT} characters.", field="focus")
    for name, value in (("business_challenge", data.business_challenge), ("technical_needs", data.technical_needs)):
        if len(value.strip()) > TEXT_LIMIT:
            raise InvalidInput(f"Keep this under {TEXT_LIMIT} characters.", field=name)
    if data.channel_id and not SLACK_CHANNEL.match(data.channel_id):
        raise InvalidInput("Pick the deal channel from the list, or leave it empty.", field="channel")
    if data.stage is Stage.closed:
        raise InvalidInput("An engagement starts in an open stage; close it afterwards.", field="stage")
    return data.model_copy(
        update={
            "account": account,
            "opportunity": opportunity,
            "focus": focus,
            "business_challenge": data.business_challenge.strip(),
            "technical_needs": data.technical_needs.strip(),
        }
    )


def _open_duplicate(session: Session, account: str, opportunity: str) -> Engagement | None:
    return session.scalar(
        select(Engagement).where(
            func.lower(Engagement.account) == account.lower(),
            func.lower(Engagement.opportunity) == opportunity.lower(),
            Engagement.stage != Stage.closed.value,
        )
    )


def create(
    actor: Actor, data: NewEngagementIn, *, tz: ZoneInfo = ZoneInfo("UTC"), now: datetime | None = None
) -> StageChangeResult:
    """Open an engagement owned by the actor, in its starting stage (logged as the first stage change)."""
    now = now or clock.now()
    data = _validate_new(data)
    today = local_day(now, tz)
    if data.opened_on is not None and data.opened_on > today:
        raise InvalidInput("The opening date is in the future. Pick today or an earlier day.", field="opened_on")
    if data.opened_on is not None and data.opened_on < today - timedelta(days=5 * 366):
        raise InvalidInput("That opening date is more than five years ago; check the year.", field="opened_on")
    opened_at = (
        now
        if data.opened_on is None or data.opened_on == today
        else datetime.combine(data.opened_on, BACKDATE_TIME, tzinfo=tz).astimezone(UTC)
    )
    with db.transaction() as session:
        duplicate = _open_duplicate(session, data.account, data.opportunity)
        if duplicate is not None:
            raise InvalidInput(
                f"{_label(duplicate)} is already open, owned by <@{duplicate.owner_id}>. Open it with "
                f"`/engagement {escape(duplicate.account)}`, or name this opportunity differently.",
                field="opportunity",
            )
        engagement = Engagement(
            account=data.account,
            opportunity=data.opportunity,
            owner_id=actor.user_id,
            seller_id=data.seller_id,
            focus=data.focus,
            business_challenge=data.business_challenge,
            technical_needs=data.technical_needs,
            channel_id=data.channel_id or None,
            opened_at=opened_at,
            stage=data.stage,
            stage_entered_at=opened_at,
            last_activity_at=now,
            created_by=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        session.add(engagement)
        session.flush()
        change = StageChange(
            engagement_id=engagement.id, from_stage=None, to_stage=data.stage, actor_id=actor.user_id,
            logged_at=now, effective_at=opened_at, note="",
        )
        session.add(change)
        session.flush()
        stints.refresh(session, [engagement.id])
        audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=engagement.id, action="open",
                     at=now, account=data.account, opportunity=data.opportunity, stage=data.stage.value)
        return StageChangeResult(
            engagement=summary(engagement, now), change_id=change.id, from_stage=None, to_stage=data.stage,
            effective_at=opened_at, backdated=now - opened_at > BACKDATED_AFTER, actor_id=actor.user_id,
        )


# ----- stage changes -----------------------------------------------------------------------------------
def _resolve_moment(
    engagement: Engagement, *, effective_at: datetime | None, effective_on: date | None, tz: ZoneInfo, now: datetime
) -> datetime:
    not_before = max(engagement.stage_entered_at, engagement.opened_at)
    if effective_at is not None:
        return _check_moment(effective_at, now=now, not_before=not_before)
    return effective_moment(effective_on, tz=tz, now=now, not_before=not_before, opened_at=engagement.opened_at)


def change_stage(
    actor: Actor,
    engagement_id: int,
    stage: Stage,
    *,
    note: str = "",
    effective_on: date | None = None,
    effective_at: datetime | None = None,
    tz: ZoneInfo = ZoneInfo("UTC"),
    now: datetime | None = None,
) -> StageChangeResult:
    """Move an open engagement to another open stage (forward, skipping or backward), effective now or on a
    past day. Appends a StageChange; never edits one."""
    now = now or clock.now()
    stage = Stage(stage)
    note = _clean_note(note)
    if stage is Stage.closed:
        raise InvalidInput("To close an engagement, use Close (or `/engagement close ACCOUNT won|lost|no-decision`).",
                           field="stage")
    with db.transaction() as session:
        engagement = _load(session, engagement_id, lock=True)
        _require_change_right(actor, engagement)
        if engagement.stage == Stage.closed:
            raise Conflict(
                f"{_label(engagement)} is closed ({OUTCOME_LABELS[Outcome(engagement.outcome)] if engagement.outcome else 'closed'}). "
                "Reopen it from its card (`/engagement "
                f"{escape(engagement.account)}`) before changing its stage."
            )
        if engagement.stage == stage:
            raise Conflict(
                f"{_label(engagement)} is already in {stage.label} (since "
                f"{engagement.stage_entered_at:%-d %b}). Nothing changed. To log what happened, add a note from "
                f"its card: `/engagement {escape(engagement.account)}`."
            )
        moment = _resolve_moment(engagement, effective_at=effective_at, effective_on=effective_on, tz=tz, now=now)
        return _append_change(session, engagement, actor, stage, outcome=None, moment=moment, note=note, now=now)


def _append_change(
    session: Session, engagement: Engagement, actor: Actor, stage: Stage, *, outcome: Outcome | None,
    moment: datetime, note: str, now: datetime, reverts: StageChange | None = None,
    entered_at: datetime | None = None,
) -> StageChangeResult:
    previous = Stage(engagement.stage)
    change = StageChange(
        engagement_id=engagement.id, from_stage=previous, to_stage=stage, outcome=outcome, actor_id=actor.user_id,
        logged_at=now, effective_at=moment, note=note, reverts_id=reverts.id if reverts else None,
    )
    session.add(change)
    engagement.stage = stage
    engagement.stage_entered_at = entered_at or moment
    engagement.last_activity_at = now
    engagement.updated_at = now
    if stage is Stage.closed:
        engagement.closed_at, engagement.outcome = moment, outcome
    elif previous is Stage.closed:
        engagement.closed_at, engagement.outcome = None, None
    session.flush()
    stints.refresh(session, [engagement.id])
    action = "undo" if reverts else ("close" if stage is Stage.closed else "stage")
    audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=engagement.id, action=action, at=now,
                 from_stage=previous.value, to_stage=stage.value, outcome=outcome.value if outcome else None,
                 effective_at=moment.isoformat(), change_id=change.id)
    return StageChangeResult(
        engagement=summary(engagement, now), change_id=change.id, from_stage=previous, to_stage=stage,
        outcome=outcome, effective_at=moment, backdated=now - moment > BACKDATED_AFTER, note=note,
        actor_id=actor.user_id, undo=reverts is not None,
    )


def close(
    actor: Actor,
    engagement_id: int,
    outcome: Outcome,
    *,
    note: str = "",
    effective_on: date | None = None,
    effective_at: datetime | None = None,
    tz: ZoneInfo = ZoneInfo("UTC"),
    now: datetime | None = None,
) -> StageChangeResult:
    """Close with an outcome. The owner is then asked for an ESAT rating (once per engagement)."""
    now = now or clock.now()
    outcome = Outcome(outcome)
    note = _clean_note(note)
    with db.transaction() as session:
        engagement = _load(session, engagement_id, lock=True)
        _require_change_right(actor, engagement)
        if engagement.stage == Stage.closed:
            raise Conflict(
                f"{_label(engagement)} is already closed ({OUTCOME_LABELS[Outcome(engagement.outcome)] if engagement.outcome else 'closed'}, "
                f"{engagement.closed_at:%-d %b %Y}). To change the outcome, reopen it from its card "
                f"(`/engagement {escape(engagement.account)}`) and close it again."
            )
        moment = _resolve_moment(engagement, effective_at=effective_at, effective_on=effective_on, tz=tz, now=now)
        result = _append_change(session, engagement, actor, Stage.closed, outcome=outcome, moment=moment,
                                note=note, now=now)
        survey = session.scalar(select(EsatSurvey).where(EsatSurvey.engagement_id == engagement.id))
        ask = False
        if survey is None:
            session.add(EsatSurvey(engagement_id=engagement.id, owner_id=engagement.owner_id, asked_at=now,
                                   remind_at=now + ESAT_REMIND_AFTER, reminded_at=None, score=None, comment=""))
            ask = True
        elif survey.answered_at is None:
            # Closed again after a reopen, never answered: ask afresh, with one reminder again.
            survey.asked_at, survey.remind_at, survey.reminded_at = now, now + ESAT_REMIND_AFTER, None
            ask = True
        session.flush()
        if ask:
            survey_id = session.scalar(select(EsatSurvey.id).where(EsatSurvey.engagement_id == engagement.id))
            result = result.model_copy(update={"esat_survey_id": survey_id})
        return result


def _standing_entry(session: Session, engagement_id: int, *, excluding: int) -> StageChange | None:
    """The latest change that still stands once `excluding` is taken back."""
    standing = effective_changes().where(
        StageChange.engagement_id == engagement_id, StageChange.id != excluding
    ).order_by(StageChange.effective_at.desc(), StageChange.id.desc()).limit(1)
    return session.scalar(standing)


def undo(actor: Actor, change_id: int, *, now: datetime | None = None) -> StageChangeResult:
    """Take back the latest stage change (or a close: that reopens) with a compensating change."""
    now = now or clock.now()
    with db.transaction() as session:
        change = session.get(StageChange, change_id)
        if change is None:
            raise NotFound("That stage change no longer exists. Use `/engagement list` to see your engagements.")
        engagement = _load(session, change.engagement_id, lock=True)
        _require_change_right(actor, engagement)
        latest_id = session.scalar(select(func.max(StageChange.id)).where(StageChange.engagement_id == engagement.id))
        if change.reverts_id is not None:
            raise Conflict("That was already an undo. To move the stage again, use Change stage on the card.")
        if change.from_stage is None:
            raise Conflict(
                f"That was the opening of {_label(engagement)}; there is nothing before it to go back to. "
                "Move it with Change stage instead."
            )
        if change.id != latest_id:
            raise Conflict(
                f"{_label(engagement)} has changed since ({Stage(engagement.stage).label} now), so that change can't "
                f"be undone. Use Change stage on its card: `/engagement {escape(engagement.account)}`."
            )
        back_to = Stage(change.from_stage)
        entry = _standing_entry(session, engagement.id, excluding=change.id)
        entered_at = entry.effective_at if entry is not None else engagement.opened_at
        note = "Reopened" if change.to_stage == Stage.closed else f"Undo of the move to {Stage(change.to_stage).label}"
        return _append_change(session, engagement, actor, back_to, outcome=None, moment=now, note=note, now=now,
                              reverts=change, entered_at=entered_at)


def reopen(actor: Actor, engagement_id: int, *, now: datetime | None = None) -> StageChangeResult:
    """Reopen a closed engagement into the stage it was closed from (the close is taken back)."""
    with db.reading() as session:
        engagement = _load(session, engagement_id)
        if engagement.stage != Stage.closed:
            raise Conflict(f"{_label(engagement)} is open ({Stage(engagement.stage).label}); there is nothing to reopen.")
        latest = session.execute(
            select(StageChange.id, StageChange.to_stage)
            .where(StageChange.engagement_id == engagement_id).order_by(StageChange.id.desc()).limit(1)
        ).first()
    if latest is None or latest.to_stage != Stage.closed:
        raise Conflict("The close of this engagement can't be found in its log; ask an admin to check it.")
    return undo(actor, latest.id, now=now)


def add_note(actor: Actor, engagement_id: int, text: str, *, now: datetime | None = None) -> NoteResult:
    now = now or clock.now()
    text = text.strip()
    if not text:
        raise InvalidInput("Write the note first: what happened, what's next.", field="note")
    text = _clean_note(text)
    with db.transaction() as session:
        engagement = _load(session, engagement_id, lock=True)
        _require_change_right(actor, engagement)
        note = EngagementNote(engagement_id=engagement.id, author_id=actor.user_id, written_at=now, text=text)
        session.add(note)
        engagement.last_activity_at = now
        engagement.updated_at = now
        session.flush()
        audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=engagement.id, action="note", at=now,
                     note_id=note.id)
        return NoteResult(engagement=summary(engagement, now), note_id=note.id, text=text)


def set_channel(actor: Actor, engagement_id: int, channel_id: str | None, *,
                now: datetime | None = None) -> tuple[EngagementSummary, bool]:
    """Set (or clear, with None) the deal channel; returns the engagement and whether it changed."""
    now = now or clock.now()
    channel_id = channel_id or None
    if channel_id and not SLACK_CHANNEL.match(channel_id):
        raise InvalidInput("Pick the deal channel from the list, or leave it empty.", field="channel")
    with db.transaction() as session:
        engagement = _load(session, engagement_id, lock=True)
        _require_change_right(actor, engagement)
        before = engagement.channel_id
        if before == channel_id:
            return summary(engagement, now), False
        engagement.channel_id = channel_id
        engagement.updated_at = now
        session.flush()
        audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=engagement.id, action="channel",
                     at=now, before=before, after=channel_id)
        return summary(engagement, now), True


# ----- reading -------------------------------------------------------------------------------------------
def get(engagement_id: int, *, now: datetime | None = None) -> EngagementSummary:
    now = now or clock.now()
    with db.reading() as session:
        return summary(_load(session, engagement_id), now)


def for_change(actor: Actor, engagement_id: int, *, closed_ok: bool = False,
               now: datetime | None = None) -> EngagementSummary:
    """The engagement a form is about to change, after checking the actor may (so nobody fills in a form
    in vain). The submission checks again."""
    now = now or clock.now()
    with db.reading() as session:
        engagement = _load(session, engagement_id)
        _require_change_right(actor, engagement)
        if engagement.stage == Stage.closed and not closed_ok:
            raise Conflict(
                f"{_label(engagement)} is closed. Reopen it from its card (`/engagement "
                f"{escape(engagement.account)}`) to change it."
            )
        return summary(engagement, now)


def card(engagement_id: int, *, viewer: Actor | None = None, now: datetime | None = None) -> EngagementCard:
    """Everything about one engagement for its card, which the presales team may read."""
    now = now or clock.now()
    if viewer is not None:
        require_presales(viewer)
    with db.reading() as session:
        engagement = _load(session, engagement_id)
        changes = session.scalars(
            select(StageChange).where(StageChange.engagement_id == engagement_id).order_by(StageChange.id)
        ).all()
        notes = session.scalars(
            select(EngagementNote).where(EngagementNote.engagement_id == engagement_id).order_by(EngagementNote.id)
        ).all()
        undone = {c.reverts_id for c in changes if c.reverts_id is not None}
        entries = [
            TimelineEntry(
                kind="stage", at=c.effective_at, logged_at=c.logged_at, actor_id=c.actor_id,
                from_stage=Stage(c.from_stage) if c.from_stage else None, to_stage=Stage(c.to_stage),
                outcome=Outcome(c.outcome) if c.outcome else None, note=c.note,
                backdated=c.actor_id != IMPORT_ACTOR and c.logged_at - c.effective_at > BACKDATED_AFTER,
                undo=c.reverts_id is not None, undone=c.id in undone,
            )
            for c in changes
        ] + [
            TimelineEntry(kind="note", at=n.written_at, logged_at=n.written_at, actor_id=n.author_id, note=n.text)
            for n in notes
        ]
        entries.sort(key=lambda entry: (entry.at, entry.logged_at), reverse=True)
        share_rows = session.execute(
            select(AssetShare, Asset)
            .join(Asset, Asset.id == AssetShare.asset_id)
            .where(AssetShare.engagement_id == engagement_id)
            .order_by(AssetShare.shared_at.desc(), AssetShare.id.desc())
            .limit(CARD_LIST_LIMIT)
        ).all()
        shares_total = session.scalar(
            select(func.count()).select_from(AssetShare).where(AssetShare.engagement_id == engagement_id)
        ) or 0
        requests = session.scalars(
            select(DevRelRequest)
            .where(DevRelRequest.engagement_id == engagement_id)
            .order_by(DevRelRequest.meeting_start.desc(), DevRelRequest.id.desc())
            .limit(CARD_LIST_LIMIT)
        ).all()
        may = viewer is not None and may_change(viewer, engagement)
        return EngagementCard(
            engagement=summary(engagement, now),
            business_challenge=engagement.business_challenge,
            technical_needs=engagement.technical_needs,
            timeline=entries[:TIMELINE_LIMIT],
            timeline_total=len(entries),
            shares=[
                SharedAsset(asset_id=asset.id, title=asset.title, url=asset.url, type=AssetType(asset.type),
                            shared_by=share.user_id, shared_at=share.shared_at)
                for share, asset in share_rows
            ],
            shares_total=int(shares_total),
            devrel=[_devrel_line(request, engagement.account) for request in requests],
            viewer_may_change=may,
            viewer_may_reopen=may and engagement.stage == Stage.closed,
        )


def _devrel_line(request: DevRelRequest, account: str, *, cancel_by: str | None = None,
                 now: datetime | None = None) -> DevRelLine:
    """`cancel_by`: the viewer, who may call the request off if they made it and its meeting is ahead."""
    may_cancel = (cancel_by is not None and now is not None and request.requester_id == cancel_by
                  and RequestState(request.state) in CANCELLABLE_STATES and request.meeting_start > now)
    return DevRelLine(
        id=request.id, engagement_id=request.engagement_id, account=account, state=RequestState(request.state),
        requester_id=request.requester_id, candidate_id=request.candidate_id, assignee_id=request.assignee_id,
        meeting_start=request.meeting_start, topics=list(request.topics or []), may_cancel=may_cancel,
    )


def _mine(user_id: str) -> ColumnElement[bool]:
    return or_(Engagement.owner_id == user_id, Engagement.seller_id == user_id)


def list_engagements(
    actor: Actor, *, scope: Literal["mine", "all"] = "mine", page: int = 0, now: datetime | None = None
) -> EngagementPage:
    """The actor's engagements (owner or seller), or everyone's for managers; open first, then closed."""
    now = now or clock.now()
    require_presales(actor)
    if scope == "all" and not (actor.manager or actor.admin):
        raise Forbidden(
            "`/engagement list all` is for presales managers (EPOS_MANAGERS). `/engagement list` shows yours."
        )
    where = [] if scope == "all" else [_mine(actor.user_id)]
    is_closed = case((Engagement.stage == Stage.closed.value, 1), else_=0)
    with db.reading() as session:
        total = session.scalar(select(func.count()).select_from(Engagement).where(*where)) or 0
        open_total = session.scalar(
            select(func.count()).select_from(Engagement).where(*where, Engagement.stage != Stage.closed.value)
        ) or 0
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        rows = session.scalars(
            select(Engagement)
            .where(*where)
            .order_by(is_closed, Engagement.closed_at.desc(), stage_rank(Engagement.stage).desc(),
                      func.lower(Engagement.account), Engagement.id)
            .offset(page * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
        return EngagementPage(scope=scope, items=[summary(row, now) for row in rows], page=page, pages=pages,
                              total=int(total), open_total=int(open_total))


# ----- finding an engagement from what someone typed ---------------------------------------------------------
@dataclass(frozen=True)
class _Scored:
    quality: int  # 3 same name, 2 name starts with the words, 1 fuzzy
    score: float


def _pool(actor: Actor, *, open_only: bool, now: datetime) -> list[list[EngagementSummary]]:
    """The engagements a typed account is matched against: the actor's own (owner or seller) first,
    then everyone's; managers and admins search everyone's at once. Loaded once per command."""
    where = [Engagement.stage != Stage.closed.value] if open_only else []
    with db.reading() as session:
        everyone = [
            summary(row, now)
            for row in session.scalars(
                select(Engagement).where(*where)
                .order_by(Engagement.closed_at.is_not(None), func.lower(Engagement.account), Engagement.id)
            )
        ]
    if actor.manager or actor.admin:
        return [everyone]
    return [[e for e in everyone if actor.user_id in (e.owner_id, e.seller_id)], everyone]


def _score_accounts(query: str, accounts: list[str]) -> dict[str, _Scored]:
    wanted = normalize(query)
    scored: dict[str, _Scored] = {}
    for account in accounts:
        name = normalize(account)
        if name == wanted:
            scored[account] = _Scored(3, 100.0)
        elif name.startswith(wanted + " ") or (len(wanted) >= 3 and name.startswith(wanted)):
            scored[account] = _Scored(2, 95.0)
    if scored:
        return scored
    for account, score, _ in process.extract(
        wanted, accounts, scorer=fuzz.WRatio, processor=utils.default_process, limit=MAX_CANDIDATES,
        score_cutoff=ACCOUNT_UNSURE,
    ):
        scored[account] = _Scored(1, float(score))
    return scored


def _match_in(query: str, engagements: list[EngagementSummary]) -> AccountMatch:
    accounts = list(dict.fromkeys(e.account for e in engagements))
    scored = _score_accounts(query, accounts)
    if not scored:
        return AccountMatch(kind="none", query=query)
    best_quality = max(s.quality for s in scored.values())
    top = sorted(
        (a for a, s in scored.items() if s.quality == best_quality), key=lambda a: (-scored[a].score, a.casefold())
    )
    if best_quality == 1:
        best = scored[top[0]].score
        confident = [a for a in top if scored[a].score >= ACCOUNT_CONFIDENT]
        if best >= ACCOUNT_CONFIDENT and len(confident) == 1 and (len(top) == 1 or scored[top[1]].score < best - 8):
            top = confident
            best_quality = 2
    chosen = [e for account in top for e in engagements if e.account == account]
    listed = chosen[:MAX_CANDIDATES]
    more = max(0, len(chosen) - MAX_CANDIDATES)
    quality = max(s.quality for s in scored.values())
    if best_quality == 1:
        return AccountMatch(kind="unsure", query=query, candidates=listed, more=more, quality=quality)
    if len(chosen) == 1:
        return AccountMatch(kind="exact", query=query, candidates=listed, quality=quality)
    return AccountMatch(kind="ambiguous", query=query, candidates=listed, more=more, quality=quality)


def match_account(
    actor: Actor, query: str, *, open_only: bool = True, now: datetime | None = None
) -> AccountMatch:
    """Engagements whose account matches `query`: the actor's own first (owner or seller), then everyone's.

    "exact": one engagement, act on it. "unsure": a guess to confirm. "ambiguous": several, let the
    person pick. "none": nothing close.
    """
    require_presales(actor)
    return _match_pool(query, _pool(actor, open_only=open_only, now=now or clock.now()))


def _match_pool(query: str, tiers: list[list[EngagementSummary]]) -> AccountMatch:
    query = " ".join(query.split())
    result = AccountMatch(kind="none", query=query)
    if not query:
        return result
    for tier in tiers:
        result = _match_in(query, tier)
        if result.kind in ("exact", "ambiguous"):
            return result
        if result.kind == "unsure":
            # A guess among one's own deals gives way to a sure hit among everyone's.
            wider = _match_in(query, tiers[-1]) if tier is not tiers[-1] else result
            return wider if wider.kind in ("exact", "ambiguous") else result
    return result


def suggestions(query: str, *, limit: int = 3) -> list[str]:
    """Account names close to `query` (any engagement), for "did you mean …?" after a miss."""
    with db.reading() as session:
        accounts = list(session.scalars(select(Engagement.account).distinct()).all())
    found = process.extract(normalize(query), accounts, scorer=fuzz.WRatio, processor=utils.default_process,
                            limit=limit, score_cutoff=50)
    return [account for account, _, _ in found]


def interpret(actor: Actor, text: str, *, now: datetime | None = None) -> Interpretation:
    """Split `ACCOUNT STAGE [note]`, or read the whole text as an account (the card).

    Accounts may hold several words, so every split where a stage word follows is tried; the one whose
    account matches best wins, and at equal match the earliest stage word (the rest is the note).
    """
    now = now or clock.now()
    # Before any matching: a "did you mean" or a picker would name accounts.
    require_presales(actor)
    text = " ".join(text.split())
    words = text.split(" ")
    pools = {False: _pool(actor, open_only=False, now=now), True: _pool(actor, open_only=True, now=now)}
    whole = _match_pool(text, pools[False])
    if whole.kind in ("exact", "ambiguous") and all(normalize(c.account) == normalize(text) for c in whole.candidates):
        return Interpretation(kind="card", account=whole)
    options: list[tuple[tuple[int, int, int, int, int], Interpretation]] = []
    kind_rank = {"exact": 3, "ambiguous": 2, "unsure": 1, "none": 0}
    for start in range(1, len(words)):
        for length in (3, 2, 1):
            if start + length > len(words):
                continue
            stage = match_stage(" ".join(words[start : start + length]))
            if stage.kind == "none":
                continue
            account_text = " ".join(words[:start])
            account = _match_pool(account_text, pools[stage.kind != "closed"])
            if stage.kind == "unsure" and account.kind not in ("exact", "ambiguous"):
                continue
            exactness = 1 if stage.kind in ("exact", "closed") else 0
            rank = (kind_rank[account.kind], account.quality, exactness, -start, length)
            kind: Literal["change", "closing"] = "closing" if stage.kind == "closed" else "change"
            options.append((rank, Interpretation(kind=kind, account=account, stage=stage,
                                                 note=" ".join(words[start + length :]))))
            break  # the longest stage phrase at this position is the one meant
    if options:
        options.sort(key=lambda option: option[0], reverse=True)
        best = options[0][1]
        if best.account.kind != "none" or whole.kind == "none":
            return best
    return Interpretation(kind="card", account=whole)


# ----- the playbook post -----------------------------------------------------------------------------------
def _recommended_assets(focus: str, asset_types: list[AssetType], limit: int = 3) -> list[AssetSuggestion]:
    """The best assets for the focus and stage, from the asset catalogue's recommender."""
    from bot.services import assets as asset_service

    recommend = getattr(asset_service, "recommend", None)
    if recommend is None:
        return []
    try:
        found = recommend(focus, list(asset_types), limit=limit)
    except Exception:
        # The checklist matters more than the suggestions: post it without them.
        log.exception("asset recommendations failed; the playbook goes out without them")
        return []
    return [
        AssetSuggestion(title=str(item.title), url=str(item.url), type=AssetType(item.type),
                        summary=str(getattr(item, "summary", "") or ""))
        for item in found[:limit]
    ]


def playbook_post(engagement_id: int, stage: Stage | None = None, *, now: datetime | None = None) -> PlaybookPost:
    """The checklist of the stage the engagement is in (or `stage`), with the assets that fit it."""
    now = now or clock.now()
    current = get(engagement_id, now=now)
    stage = Stage(stage or current.stage)
    book = playbooks.playbook(stage)
    return PlaybookPost(
        engagement=current, stage=stage, title=book.title, goal=book.goal, prerequisites=book.prerequisites,
        calls_to_action=book.calls_to_action, deliverables=book.deliverables, asset_types=book.asset_types,
        assets=_recommended_assets(current.focus, book.asset_types),
    )


# ----- the App Home's data ----------------------------------------------------------------------------------
HOME_WINDOW = timedelta(weeks=12)


def home(actor: Actor, *, page: int = 0, now: datetime | None = None) -> HomeData:
    """My open engagements (owner or seller), the DevRel requests I made or must answer, and my figures
    (the team's for managers)."""
    now = now or clock.now()
    user_id = actor.user_id
    mine_open = [_mine(user_id), Engagement.stage != Stage.closed.value]
    recent = at(now - timedelta(hours=12))
    with db.reading() as session:
        total = session.scalar(select(func.count()).select_from(Engagement).where(*mine_open)) or 0
        ever = session.scalar(
            select(func.count()).select_from(Engagement).where(_mine(user_id))
        ) or 0
        pages = max(1, -(-total // HOME_PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        rows = session.scalars(
            select(Engagement).where(*mine_open)
            .order_by(_overdue_order(now), Engagement.id)
            .offset(page * HOME_PAGE_SIZE).limit(HOME_PAGE_SIZE)
        ).all()
        live = or_(
            DevRelRequest.state.in_([RequestState.asking.value, RequestState.in_channel.value]),
            (DevRelRequest.state == RequestState.accepted.value) & (DevRelRequest.meeting_start >= recent),
        )
        requested = session.execute(
            select(DevRelRequest, Engagement.account).join(Engagement, Engagement.id == DevRelRequest.engagement_id)
            .where(DevRelRequest.requester_id == user_id, live)
            .order_by(DevRelRequest.meeting_start, DevRelRequest.id).limit(CARD_LIST_LIMIT * 2)
        ).all()
        to_answer = session.execute(
            select(DevRelRequest, Engagement.account).join(Engagement, Engagement.id == DevRelRequest.engagement_id)
            .where(
                or_(
                    (DevRelRequest.candidate_id == user_id) & (DevRelRequest.state == RequestState.asking.value),
                    (DevRelRequest.assignee_id == user_id) & (DevRelRequest.state == RequestState.accepted.value)
                    & (DevRelRequest.meeting_start >= recent),
                )
            )
            .order_by(DevRelRequest.meeting_start, DevRelRequest.id).limit(CARD_LIST_LIMIT * 2)
        ).all()
        items = [summary(row, now) for row in rows]
        requested_lines = [_devrel_line(r, account, cancel_by=user_id, now=now) for r, account in requested]
        to_answer_lines = [_devrel_line(r, account) for r, account in to_answer]
    figures: TeamMetrics | None = None
    refusal: str | None = None
    try:
        require_presales(actor)
        figures = team_metrics(now - HOME_WINDOW, now, owner_id=None if (actor.manager or actor.admin) else user_id)
    except Forbidden as error:
        refusal = str(error)
    return HomeData(
        user_id=user_id, manager=actor.manager or actor.admin, engagements=items, engagements_total=int(total),
        page=page, pages=pages,
        devrel_requested=requested_lines,
        devrel_to_answer=to_answer_lines,
        metrics=figures, figures_refused=refusal, is_new=ever == 0 and not requested and not to_answer,
    )


def figures(actor: Actor, *, weeks: int, mine_only: bool = False,
            now: datetime | None = None) -> tuple[TeamMetrics, Literal["team", "mine"]]:
    """`/engagement stats`: the actor's figures for the last `weeks`, or the team's for managers."""
    require_presales(actor)
    until = now or clock.now()
    team = (actor.manager or actor.admin) and not mine_only
    found = team_metrics(until - timedelta(weeks=weeks), until, owner_id=None if team else actor.user_id)
    usage.note(actor.user_id, usage.FIGURES, now=until)
    return found, "team" if team else "mine"


# ----- bulk import and export ----------------------------------------------------------------------------------
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
        if item.get("type") == "string_pattern_mismatch":
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
        duplicate=lambda first: f"repeats the account and opportunity of {first}",
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
    """Every engagement in the import shape, oldest first. The history is the standing stage log (undone
    changes and their undo left out); notes are not part of it."""
    with db.reading() as session:
        rows = session.scalars(select(Engagement).order_by(Engagement.opened_at, Engagement.id)).all()
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

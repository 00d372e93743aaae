"""Changes to engagements: opening one, stage changes (an append-only log), closing, undo and reopening,
notes and the deal channel. Every change checks who may make it (`common.may_change`)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import clock, dates, db
from bot.blocks.text import escape
from bot.errors import Conflict, InvalidInput, NotFound
from bot.services import audit, challenges, devrel, hooks, stints
from bot.services.actors import Actor
from bot.services.engagements import checklists
from bot.services.engagements.common import (
    BACKDATED_AFTER,
    _changeable,
    _entity,
    _label,
    _load,
    _require_change_right,
    summary,
)
from bot.services.metrics import effective_changes
from models import Engagement, EngagementNote, EsatSurvey, StageChange
from models.engagements import counted
from models.enums import Outcome, Stage
from models.schemas.engagements import (
    EngagementSummary,
    NewEngagementIn,
    NoteResult,
    StageChangeResult,
)

ESAT_REMIND_AFTER = timedelta(days=2)
NOTE_LIMIT = 2000
TEXT_LIMIT = 3000
NAME_LIMIT = 200
FOCUS_LIMIT = 100
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,31}$")
SLACK_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,31}$")

PRACTICE_NO_CHANNEL = ("A practice engagement has no deal channel: its playbooks and news come to you by DM, so "
                       "no customer channel ever sees them. Leave the deal channel empty.")

# Past dates picked in a date picker are taken as noon local time: a whole day's uncertainty either way.
BACKDATE_TIME = time(12, 0)


# ----- when a change happened, and its note ------------------------------------------------------------
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
            f"Pick {dates.day(floor, tz)} or later: the engagement's last change (or its opening) "
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
            f"Pick {dates.day(not_before)} {dates.clock(not_before)} UTC or later: the stage log can't go back before the last change.",
            field="effective_date",
        )
    return min(moment, now)


def _clean_note(note: str) -> str:
    note = note.strip()
    if len(note) > NOTE_LIMIT:
        raise InvalidInput(f"The note is {len(note)} characters; keep it under {NOTE_LIMIT}.", field="note")
    return note


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
    try:
        challenge_id, need_ids = challenges.checked_choice(focus, data.challenge_id, data.need_ids)
    except ValueError as problem:
        raise InvalidInput(str(problem), field="challenge_id") from None
    return data.model_copy(
        update={
            "challenge_id": challenge_id,
            "need_ids": need_ids,
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
            counted(),
        )
    )


def create(
    actor: Actor, data: NewEngagementIn, *, tz: ZoneInfo = ZoneInfo("UTC"), now: datetime | None = None,
    practice: bool = False,
) -> StageChangeResult:
    """Open an engagement owned by the actor, in its starting stage (logged as the first stage change).
    `practice`: one to learn on (bot/services/engagements/practice.py), which counts nowhere."""
    now = now or clock.now()
    data = _validate_new(data)
    if practice and data.channel_id:
        raise InvalidInput(PRACTICE_NO_CHANNEL, field="channel")
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
        duplicate = None if practice else _open_duplicate(session, data.account, data.opportunity)
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
            challenge_id=data.challenge_id,
            need_ids=data.need_ids or None,
            channel_id=data.channel_id or None,
            opened_at=opened_at,
            stage=data.stage,
            stage_entered_at=opened_at,
            last_activity_at=now,
            created_by=actor.user_id,
            created_at=now,
            updated_at=now,
            practice=practice,
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
        hooks.enqueue(session, engagement, change, now=now)
        audit.record(session, actor_id=actor.user_id, entity=_entity(engagement), entity_id=engagement.id, action="open",
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
        engagement = _changeable(session, actor, engagement_id, now, lock=True)
        if engagement.stage == stage:
            raise Conflict(
                f"{_label(engagement)} is already in {stage.label} (since "
                f"{dates.day(engagement.stage_entered_at)}). Nothing changed. To log what happened, add a note from "
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
    # Leaving a stage with deliverables unticked is allowed (the process is elastic), but said.
    left_open = [] if reverts is not None else checklists.open_deliverables(session, engagement.id, previous)
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
    hooks.enqueue(session, engagement, change, now=now)
    action = "undo" if reverts else ("close" if stage is Stage.closed else "stage")
    audit.record(session, actor_id=actor.user_id, entity=_entity(engagement), entity_id=engagement.id, action=action,
                 at=now, from_stage=previous.value, to_stage=stage.value, outcome=outcome.value if outcome else None,
                 effective_at=moment.isoformat(), change_id=change.id)
    return StageChangeResult(
        engagement=summary(engagement, now), change_id=change.id, from_stage=previous, to_stage=stage,
        outcome=outcome, effective_at=moment, backdated=now - moment > BACKDATED_AFTER, note=note,
        actor_id=actor.user_id, undo=reverts is not None, open_deliverables=left_open,
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
        engagement = _changeable(session, actor, engagement_id, now, lock=True)
        moment = _resolve_moment(engagement, effective_at=effective_at, effective_on=effective_on, tz=tz, now=now)
        result = _append_change(session, engagement, actor, Stage.closed, outcome=outcome, moment=moment,
                                note=note, now=now)
        survey = session.scalar(select(EsatSurvey).where(EsatSurvey.engagement_id == engagement.id))
        ask = False
        if engagement.practice:
            pass  # a practice engagement's rating would count in the figures: it is never asked
        elif survey is None:
            session.add(EsatSurvey(engagement_id=engagement.id, owner_id=engagement.owner_id, asked_at=now,
                                   remind_at=now + ESAT_REMIND_AFTER, reminded_at=None, score=None, comment=""))
            ask = True
        elif survey.answered_at is None:
            # Closed again after a reopen, never answered: ask afresh, with one reminder again.
            survey.asked_at, survey.remind_at, survey.reminded_at = now, now + ESAT_REMIND_AFTER, None
            ask = True
        session.flush()
        # Its DevRel asks and meetings end with it; the close's answer offers to keep an accepted meeting.
        cancelled = devrel.cancel_with_engagement(session, engagement.id, actor_id=actor.user_id, now=now)
        if cancelled:
            result = result.model_copy(update={"devrel_cancelled": cancelled})
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
        result = _append_change(session, engagement, actor, back_to, outcome=None, moment=now, note=note, now=now,
                                reverts=change, entered_at=entered_at)
        if change.to_stage == Stage.closed:
            # Nothing comes back by itself: the reopened deal's people decide on each meeting again.
            still = devrel.upcoming_cancelled_by_close(session, engagement.id, now=now)
            result = result.model_copy(update={"devrel_still_cancelled": still})
        return result


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
        audit.record(session, actor_id=actor.user_id, entity=_entity(engagement), entity_id=engagement.id,
                     action="note", at=now, note_id=note.id)
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
        if engagement.practice and channel_id:
            raise InvalidInput(PRACTICE_NO_CHANNEL, field="channel")
        before = engagement.channel_id
        if before == channel_id:
            return summary(engagement, now), False
        engagement.channel_id = channel_id
        engagement.updated_at = now
        session.flush()
        audit.record(session, actor_id=actor.user_id, entity=_entity(engagement), entity_id=engagement.id, action="channel",
                     at=now, before=before, after=channel_id)
        return summary(engagement, now), True

"""Stale-engagement nudges: who is nudged, when, and snoozing.

An open engagement is stale when it has had no stage change or note for longer than its stage's
playbook allows (`stale_after_days`). Each SE gets at most one DM a day listing all their stale
engagements, on weekdays, from NUDGE_TIME (09:00) in their own Slack timezone until 18:00 there. A
day missed while epos was down is caught up only within that same day's window; a missed day is
not nudged about later (the next weekday's nudge lists the same engagements anyway).

Kept quiet: an engagement snoozed into the future (Snooze 7 days), and one nudged fewer than
NUDGE_COOLDOWN_DAYS calendar days ago (in the SE's timezone).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot import clock, db
from bot.blocks.text import escape
from bot.errors import Conflict, Forbidden, NotFound
from bot.services import audit, claims, engagements, metrics
from bot.services.actors import Actor
from bot.services.bulk import building_in_bulk
from models import Engagement
from models.engagements import counted
from models.enums import Stage
from models.schemas.engagements import StaleEngagement
from models.schemas.nudges import NudgePlanEntry, QuietLine, SeNudge, SnoozeResult

JOB = "nudge"
ENTITY = "engagement"
SNOOZE_FOR = timedelta(days=7)
# From NUDGE_TIME for nine hours (09:00-18:00): late enough to catch up after a morning restart,
# early enough that nobody is nudged in the evening.
SEND_WINDOW = timedelta(hours=9)
CLAIM_LEASE = timedelta(minutes=5)

DayState = Literal["due", "later", "missed", "weekend"]


def period(owner_id: str, day: date) -> str:
    """The claim period of one SE's nudge on one local day, e.g. `U0A1B2C3D:2026-11-23`."""
    return f"{owner_id}:{day.isoformat()}"


def local_day(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def due_at(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz)


def day_state(now: datetime, tz: ZoneInfo, at: time) -> tuple[DayState, datetime]:
    """Whether a nudge is due at `now` for someone in `tz`, and the day's nudge time."""
    day = local_day(now, tz)
    start = due_at(day, at, tz)
    if day.weekday() >= 5:
        return "weekend", start
    if now < start:
        return "later", start
    if now >= start + SEND_WINDOW:
        return "missed", start
    return "due", start


def stale_by_owner(
    now: datetime | None = None,
    *,
    cooldown_days: int,
    zone_for: Callable[[str], ZoneInfo],
    owner_id: str | None = None,
) -> list[SeNudge]:
    """Every SE with stale engagements (by owner id): what to nudge about now, most overdue first, and
    what is kept quiet by a snooze or the cooldown. `zone_for` gives an SE's timezone."""
    now = now or clock.now()
    # Tens of thousands of lines for everyone: see bot/services/bulk.py.
    with building_in_bulk():
        grouped: dict[str, list[StaleEngagement]] = {}
        for stale in engagements.stale_engagements(now, owner_id=owner_id):
            grouped.setdefault(stale.owner_id, []).append(stale)
        result = []
        for se in sorted(grouped):
            tz = zone_for(se)
            today = local_day(now, tz)
            lines: list[StaleEngagement] = []
            quiet: list[QuietLine] = []
            for stale in grouped[se]:
                if stale.snoozed_until is not None and stale.snoozed_until > now:
                    quiet.append(QuietLine(stale, "snoozed", stale.snoozed_until))
                    continue
                if stale.last_nudged_at is not None:
                    nudged_on = local_day(stale.last_nudged_at, tz)
                    if (today - nudged_on).days < cooldown_days:
                        again = due_at(nudged_on + timedelta(days=cooldown_days), time(0), tz)
                        quiet.append(QuietLine(stale, "cooldown", again))
                        continue
                lines.append(stale)
            result.append(SeNudge(owner_id=se, lines=lines, quiet=quiet))
        return result


def _cooling_from(now: datetime, tz: ZoneInfo, cooldown_days: int) -> datetime:
    """Nudged at or after this moment (local midnight, `cooldown_days - 1` days before today), an engagement
    is still cooling down: the calendar-day rule of `stale_by_owner` as one instant."""
    return datetime.combine(local_day(now, tz) - timedelta(days=cooldown_days - 1), time(0), tzinfo=tz)


def sendable(due: Mapping[str, tuple[datetime, ZoneInfo]], *, now: datetime, cooldown_days: int) -> set[str]:
    """Which of these SEs (each with their nudge time and timezone) have a nudge that would list anything:
    an engagement stale by their nudge time (and still stale now), not snoozed and out of its cooldown.
    The rules of `stale_by_owner`, asked of the database, so a tick need not read every stale line of
    every SE whose nudge time has come.

    One query for each set of SEs sharing a nudge time and a cooldown start (usually one per timezone
    offset), all in one session: a query per SE cost seconds on PostgreSQL with hundreds due at once."""
    groups: dict[tuple[datetime, datetime], list[str]] = {}
    for owner_id, (due_at, tz) in due.items():
        # A line is stale from its last activity plus whole days in UTC (`stale_since`), so the nudge
        # time goes to UTC before the thresholds come off; local arithmetic would be an hour off across a
        # daylight-saving change.
        groups.setdefault((due_at.astimezone(UTC), _cooling_from(now, tz, cooldown_days)), []).append(owner_id)
    stale_now = engagements.stale_cutoff(now)
    found: set[str] = set()
    with db.reading() as session:
        for (due_at, cooling_from), owners in groups.items():
            query = select(Engagement.owner_id).distinct().where(
                Engagement.owner_id.in_(owners),
                Engagement.stage != Stage.closed.value,
                counted(),
                Engagement.last_activity_at <= engagements.stale_cutoff(due_at),
                Engagement.last_activity_at < stale_now,
                or_(Engagement.snoozed_until.is_(None), Engagement.snoozed_until <= metrics.at(now)),
                or_(Engagement.last_nudged_at.is_(None), Engagement.last_nudged_at < metrics.at(cooling_from)),
            )
            found.update(session.scalars(query))
    return found


def next_due(now: datetime, tz: ZoneInfo, at: time) -> datetime:
    """The next weekday nudge time after `now` in `tz` (today's if it is still ahead)."""
    day = local_day(now, tz)
    for offset in range(8):
        candidate = due_at(day + timedelta(days=offset), at, tz)
        if candidate.weekday() < 5 and candidate > now:
            return candidate
    raise AssertionError("a weekday comes within a week")


def plan(
    now: datetime | None = None,
    *,
    cooldown_days: int,
    nudge_at: time,
    zone_for: Callable[[str], ZoneInfo],
) -> list[NudgePlanEntry]:
    """For `epos nudges --dry-run`: every SE with stale engagements, and whether their DM is due now."""
    now = now or clock.now()
    everyone = stale_by_owner(now, cooldown_days=cooldown_days, zone_for=zone_for)
    days = {nudge.owner_id: local_day(now, zone_for(nudge.owner_id)) for nudge in everyone}
    sent = done_today(list(days), days)
    entries = []
    for nudge in everyone:
        tz = zone_for(nudge.owner_id)
        state, at_time = day_state(now, tz, nudge_at)
        lines = [line for line in nudge.lines if state != "due" or line.stale_since <= at_time]
        if nudge.owner_id in sent:
            shown: str = "sent"
        elif not lines:
            shown = "nothing"
        else:
            shown = state
        if shown in ("later", "missed", "weekend"):
            at_time = next_due(now, tz, nudge_at)
        entries.append(NudgePlanEntry(nudge=nudge, timezone=tz.key, local_day=days[nudge.owner_id], due_at=at_time,
                                      state=shown))  # type: ignore[arg-type]
    return entries


def done_today(owner_ids: list[str], days: dict[str, date]) -> set[str]:
    """Which of these SEs already had their nudge on their local day."""
    periods = {period(se, days[se]): se for se in owner_ids}
    return {periods[p] for p in claims.done_periods(JOB, list(periods))}


def record_sent(owner_id: str, day: date, engagement_ids: list[int], *, claimant: str, now: datetime) -> bool:
    """The DM went out: start each listed engagement's cooldown and finish the day's claim, together."""
    with db.transaction() as session:
        if engagement_ids:
            session.execute(
                update(Engagement)
                .where(Engagement.id.in_(engagement_ids))
                .values(last_nudged_at=now)
                .execution_options(synchronize_session=False)
            )
        return claims.complete_in(session, JOB, period(owner_id, day), owner=claimant, now=now)


# ----- snoozing ------------------------------------------------------------------------------------
def _load_for_change(session: Session, actor: Actor, engagement_id: int) -> Engagement:
    engagement = session.scalar(select(Engagement).where(Engagement.id == engagement_id))
    if engagement is None:
        raise NotFound("That engagement no longer exists. Use `/engagement list` to see yours.")
    if not engagements.may_change(actor, engagement):
        raise Forbidden(
            f"Only the owner <@{engagement.owner_id}>, the seller <@{engagement.seller_id}> or a presales "
            "manager may snooze this engagement's nudges."
        )
    return engagement


def snooze(actor: Actor, engagement_id: int, *, now: datetime | None = None) -> SnoozeResult:
    """Keep an engagement out of nudges for seven days from now."""
    now = now or clock.now()
    with db.transaction() as session:
        engagement = _load_for_change(session, actor, engagement_id)
        if engagement.stage == Stage.closed:
            raise Conflict(f"*{escape(engagement.account)}* is already closed, so it will not be nudged again.")
        previous = engagement.snoozed_until
        engagement.snoozed_until = now + SNOOZE_FOR
        engagement.updated_at = now
        audit.record(
            session, actor_id=actor.user_id, entity=ENTITY, entity_id=engagement.id, action="snoozed", at=now,
            until=engagement.snoozed_until.isoformat(), previous=previous.isoformat() if previous else None,
        )
        return _snooze_result(engagement)


def undo_snooze(actor: Actor, engagement_id: int, *, now: datetime | None = None) -> SnoozeResult:
    """Take a snooze back: the engagement is nudged again when it is next due."""
    now = now or clock.now()
    with db.transaction() as session:
        engagement = _load_for_change(session, actor, engagement_id)
        if engagement.snoozed_until is not None:
            previous = engagement.snoozed_until
            engagement.snoozed_until = None
            engagement.updated_at = now
            audit.record(
                session, actor_id=actor.user_id, entity=ENTITY, entity_id=engagement.id, action="unsnoozed", at=now,
                previous=previous.isoformat(),
            )
        return _snooze_result(engagement)


def line_for(engagement_id: int, *, now: datetime | None = None) -> StaleEngagement | None:
    """The DM line of one engagement as it stands now, or None once it is closed or gone."""
    now = now or clock.now()
    with db.reading() as session:
        engagement = session.get(Engagement, engagement_id)
        if engagement is None or engagement.stage == Stage.closed:
            return None
        return StaleEngagement(
            id=engagement.id,
            account=engagement.account,
            opportunity=engagement.opportunity,
            owner_id=engagement.owner_id,
            seller_id=engagement.seller_id,
            stage=Stage(engagement.stage),
            days_idle=max(0, (now - engagement.last_activity_at).days),
            stale_after_days=engagements.stale_after(Stage(engagement.stage)).days,
            last_activity_at=engagement.last_activity_at,
            snoozed_until=engagement.snoozed_until,
            last_nudged_at=engagement.last_nudged_at,
        )


def _snooze_result(engagement: Engagement) -> SnoozeResult:
    return SnoozeResult(
        engagement_id=engagement.id,
        account=engagement.account,
        opportunity=engagement.opportunity,
        owner_id=engagement.owner_id,
        snoozed_until=engagement.snoozed_until,
    )

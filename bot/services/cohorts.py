"""The pilot against its baseline: which engagements make each group, their figures and the verdict.

- The pilot group: engagements owned by members and opened between the pilot's start and its end (or
  now), while their owner was a member (from the day they joined until the day they were removed).
- The concurrent baseline: engagements opened in the same dates by SEs who were never in the pilot
  (members' engagements from before they joined are in neither group: they were about to change habits).
- The before baseline: the members' own engagements opened in the same length of time just before the
  start.
Dates are days in EPOS_TIMEZONE; the pilot's end day is included whole."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, false, or_

from bot import clock
from bot.errors import InvalidInput
from bot.services import metrics, pilots, proof
from bot.services.sql import at
from models import Engagement
from models.schemas.digest import MeanMedian, PilotTrendPoint
from models.schemas.engagements import Figures
from models.schemas.pilots import Comparison, PilotOut

BaselineKind = Literal["concurrent", "before"]
BASELINES: tuple[BaselineKind, ...] = ("concurrent", "before")


def _start_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def window(pilot: PilotOut, tz: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the pilot: its end day whole, or up to now while it runs."""
    start = _start_of(pilot.start_on, tz)
    end = _start_of(pilot.end_on + timedelta(days=1), tz) if pilot.end_on else now
    return start, max(min(end, now), start)


def _opened(since: datetime, until: datetime) -> list[ColumnElement[bool]]:
    return [Engagement.opened_at >= at(since), Engagement.opened_at < at(until)]


def pilot_cohort(pilot: PilotOut, tz: ZoneInfo, now: datetime) -> ColumnElement[bool]:
    start, end = window(pilot, tz, now)
    stretches = []
    for member in pilot.members:
        since = max(start, _start_of(member.joined_on, tz))
        until = min(end, _start_of(member.left_on, tz)) if member.left_on else end
        if since < until:
            stretches.append(and_(Engagement.owner_id == member.slack_id, *_opened(since, until)))
    return or_(*stretches) if stretches else false()


def baseline_cohort(pilot: PilotOut, kind: BaselineKind, tz: ZoneInfo, now: datetime) -> ColumnElement[bool]:
    start, end = window(pilot, tz, now)
    everyone = [member.slack_id for member in pilot.members]
    if kind == "before":
        return and_(Engagement.owner_id.in_(everyone), *_opened(start - (end - start), start))
    return and_(Engagement.owner_id.not_in(everyone), *_opened(start, end))


def compare(name: str, *, baseline: BaselineKind = "concurrent", tz: ZoneInfo,
            now: datetime | None = None) -> Comparison:
    if baseline not in BASELINES:
        raise InvalidInput(f"baseline: use concurrent or before, not {baseline!r}", field="baseline")
    now = now or clock.now()
    pilot = pilots.get(name)
    pilot_group, pilot_closes = metrics.cohort_metrics(pilot_cohort(pilot, tz, now))
    baseline_group, baseline_closes = metrics.cohort_metrics(baseline_cohort(pilot, baseline, tz, now))
    mttc, win_rate = proof.compare(pilot_closes, baseline_closes)
    return Comparison(pilot=pilot, baseline_kind=baseline, pilot_group=pilot_group, baseline_group=baseline_group,
                      mttc_days_median=mttc, win_rate=win_rate,
                      verdict=proof.verdict(len(pilot_closes), len(baseline_closes), mttc))


def trailing_mttc(name: str, *, weeks: int, trailing: timedelta, tz: ZoneInfo, now: datetime | None = None
                  ) -> tuple[list[datetime], list[Figures], list[Figures]]:
    """Weekly points, oldest first: the pilot's and the concurrent baseline's MTTC over the `trailing` time
    before each point, for the digest's chart."""
    now = now or clock.now()
    pilot = pilots.get(name)
    ends = [now - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    return (ends, metrics.cohort_mttc_trend(pilot_cohort(pilot, tz, now), ends, trailing),
            metrics.cohort_mttc_trend(baseline_cohort(pilot, "concurrent", tz, now), ends, trailing))


TREND_POINTS = 12
TRAILING = timedelta(weeks=4)


def running_section(tz: ZoneInfo, until: datetime) -> tuple[Comparison, list[PilotTrendPoint]] | None:
    """For a report that ends at `until`: the latest pilot running then, against everyone else, and both
    groups' MTTC over the 4 weeks before each of the last 12 weeks' ends. None when no pilot runs."""
    running = pilots.running((until - timedelta(microseconds=1)).astimezone(tz).date())
    if not running:
        return None
    name = running[0].name
    comparison = compare(name, tz=tz, now=until)
    ends, pilot_trend, baseline_trend = trailing_mttc(name, weeks=TREND_POINTS, trailing=TRAILING, tz=tz, now=until)
    points = [PilotTrendPoint(at=(end - timedelta(microseconds=1)).astimezone(tz).date(), pilot=_mean_median(p),
                              baseline=_mean_median(b)) for end, p, b in zip(ends, pilot_trend, baseline_trend, strict=True)]
    return comparison, points


def _mean_median(figures: Figures) -> MeanMedian:
    return MeanMedian(mean=figures.mean, median=figures.median, count=figures.count)


def latest(tz: ZoneInfo, now: datetime | None = None) -> Comparison | None:
    """For the managers' App Home: the pilot running now that started last, else the one that ended last."""
    now = now or clock.now()
    found = pilots.list_pilots()
    if not found:
        return None
    today = now.astimezone(tz).date()
    chosen = max(found, key=lambda p: (p.running_on(today), p.end_on or p.start_on, p.start_on, p.id))
    return compare(chosen.name, tz=tz, now=now)

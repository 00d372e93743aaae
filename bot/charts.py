"""The digest's chart: the 12-week MTTC trend beside the median dwell per stage, as a PNG.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, no global figure
state), so it is safe from the scheduler's thread and in a web worker. matplotlib is imported when a
chart is drawn, once a week, not when this module is: it adds about 40 MB to every process that
imports it, and the blocks import `stage_label` from here (docs/performance.md).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from bot import dates
from models.enums import STAGE_LABELS, Stage
from models.schemas.digest import PilotTrendPoint, TrendPoint

TREND_TITLE = "MTTC per week (days)"
DWELL_TITLE = "Median days in stage"
NO_DATA = "no engagements closed"
NO_DWELL = "no stage changes"
NOBODY_LEFT = "none left this week"
MEAN_LABEL = "mean"
MEDIAN_LABEL = "median"
EQUAL_NOTE = "mean = median where the dot sits on the square"
TREND_HEADROOM = 1.4
MIN_TREND_TOP = 1.0
DWELL_HEADROOM = 1.3
MEAN_COLOUR = "#1d6fb8"
MEDIAN_COLOUR = "#e8912d"
BAR_COLOUR = "#7a8b99"
SLOWEST_COLOUR = "#c0392b"
PILOT_TITLE = "Pilot {name}: median MTTC, trailing 4 weeks (days)"
PILOT_COLOUR = "#2e8b57"
BASELINE_COLOUR = "#7a8b99"
NO_PILOT_DATA = "no pilot or baseline engagement closed yet"
DPI = 110


def stage_label(stage: str) -> str:
    try:
        return STAGE_LABELS[Stage(stage)]
    except ValueError:
        return stage


def digest_chart(
    trend: Sequence[TrendPoint],
    dwell: Mapping[str, float | None],
    *,
    title: str,
    slowest_stage: str | None = None,
    pilot_trend: Sequence[PilotTrendPoint] = (),
    pilot_name: str | None = None,
) -> bytes:
    """PNG bytes of both panels, and of a third while a pilot runs. Weeks without a closed engagement are
    gaps in the lines, not zeros."""
    figure = digest_figure(trend, dwell, title=title, slowest_stage=slowest_stage, pilot_trend=pilot_trend,
                           pilot_name=pilot_name)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def digest_figure(
    trend: Sequence[TrendPoint],
    dwell: Mapping[str, float | None],
    *,
    title: str,
    slowest_stage: str | None = None,
    pilot_trend: Sequence[PilotTrendPoint] = (),
    pilot_name: str | None = None,
) -> Any:
    """The chart as a matplotlib Figure on the Agg canvas, before it is saved: its axes' texts, legends and
    limits are what the chart shows."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(16 if pilot_trend else 11, 4.2), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(title, fontsize=12)
    if pilot_trend:
        trend_axes, dwell_axes, pilot_axes = figure.subplots(1, 3, width_ratios=[3, 2, 3])
        _pilot_panel(pilot_axes, pilot_trend, pilot_name or "")
    else:
        trend_axes, dwell_axes = figure.subplots(1, 2, width_ratios=[3, 2])

    _trend_panel(trend_axes, trend)
    _dwell_panel(dwell_axes, dwell, slowest_stage)
    return figure


def _trend_panel(trend_axes: Any, trend: Sequence[TrendPoint]) -> None:
    """Mean and median MTTC per week; weeks without a close are gaps. The median is drawn wide and pale
    under a thin mean, so a week whose mean equals its median (every week of one close) shows both; the
    legend says so when it happens."""
    labels = [dates.chart_day(point.week_start) for point in trend]
    positions = list(range(len(trend)))
    means = [point.mean if point.mean is not None else float("nan") for point in trend]
    medians = [point.median if point.median is not None else float("nan") for point in trend]
    trend_axes.set_title(TREND_TITLE, fontsize=10)
    if any(point.count for point in trend):
        trend_axes.plot(positions, medians, marker="s", markersize=11, linewidth=5, alpha=0.45,
                        color=MEDIAN_COLOUR, label=MEDIAN_LABEL, zorder=2)
        trend_axes.plot(positions, means, marker="o", markersize=4, linewidth=1.5, color=MEAN_COLOUR,
                        label=MEAN_LABEL, zorder=3)
        equal = any(point.count and point.mean is not None and point.median is not None
                    and abs(point.mean - point.median) < 0.05 for point in trend)
        trend_axes.legend(loc="upper left", ncol=2, fontsize=8, title=EQUAL_NOTE if equal else None, title_fontsize=8,
                          alignment="left")
        highest = max(value for value in [*means, *medians] if value == value)
        # Headroom above the highest point for the legend; at least a day, so a same-day close is not
        # drawn on an axis of fractions of a day.
        trend_axes.set_ylim(0, max(highest * TREND_HEADROOM, MIN_TREND_TOP))
    else:
        trend_axes.set_yticks([])
        trend_axes.text(0.5, 0.5, NO_DATA, ha="center", va="center", transform=trend_axes.transAxes, color="grey")
    trend_axes.set_xticks(positions, labels, rotation=45, ha="right", fontsize=8)
    # Half a week of margin either side, so the first and last weeks sit off the frame whatever is drawn.
    trend_axes.set_xlim(-0.5, max(len(trend), 1) - 0.5)
    trend_axes.set_xlabel("week starting", fontsize=8)
    trend_axes.grid(axis="y", alpha=0.3)


def _dwell_panel(dwell_axes: Any, dwell: Mapping[str, float | None], slowest_stage: str | None) -> None:
    """Median days in each open stage, the slowest one marked; a stage nobody left says so."""
    stages = [stage for stage in dwell if stage != Stage.closed.value]
    values = [dwell[stage] or 0.0 for stage in stages]
    dwell_axes.set_title(DWELL_TITLE, fontsize=10)
    if any(dwell[stage] is not None for stage in stages):
        colours = [SLOWEST_COLOUR if stage == slowest_stage else BAR_COLOUR for stage in stages]
        rows = list(range(len(stages)))
        dwell_axes.barh(rows, values, color=colours)
        dwell_axes.set_yticks(rows, [stage_label(stage) for stage in stages], fontsize=8)
        dwell_axes.invert_yaxis()
        for row, stage in zip(rows, stages, strict=True):
            value = dwell[stage]
            if value is None:
                dwell_axes.text(0, row, f" {NOBODY_LEFT}", va="center", fontsize=8, color="grey")
            else:
                dwell_axes.text(value, row, f" {day_count(value)}", va="center", fontsize=8)
        # Room right of the longest bar for its figure.
        dwell_axes.set_xlim(0, max(values) * DWELL_HEADROOM or 1.0)
        dwell_axes.grid(axis="x", alpha=0.3)
    else:
        dwell_axes.set_xticks([])
        dwell_axes.set_yticks([])
        dwell_axes.text(0.5, 0.5, NO_DWELL, ha="center", va="center", transform=dwell_axes.transAxes, color="grey")


def day_count(value: float) -> str:
    """`4.0 days`, `1.0 day`."""
    return f"{value:.1f} day" if round(value, 1) == 1 else f"{value:.1f} days"


def _pilot_panel(axes: Any, points: Sequence[PilotTrendPoint], name: str) -> None:
    """Both groups' trailing median MTTC: the pilot's line should fall below the baseline's if it works."""
    labels = [dates.chart_day(point.at) for point in points]
    positions = list(range(len(points)))
    axes.set_title(PILOT_TITLE.format(name=name), fontsize=10)
    if any(point.pilot.count or point.baseline.count for point in points):
        highest = 0.0
        for series, colour, marker, label in (("pilot", PILOT_COLOUR, "o", "pilot"),
                                              ("baseline", BASELINE_COLOUR, "s", "everyone else")):
            medians = [getattr(p, series).median for p in points]
            highest = max([highest, *[m for m in medians if m is not None]])
            axes.plot(positions, [float("nan") if m is None else m for m in medians], marker=marker, color=colour,
                      label=label)
        # Headroom above the highest point keeps the legend off the lines.
        axes.legend(loc="upper center", ncol=2, fontsize=8)
        axes.set_ylim(0, highest * 1.35 or 1.0)
    else:
        axes.set_yticks([])
        axes.text(0.5, 0.5, NO_PILOT_DATA, ha="center", va="center", transform=axes.transAxes, color="grey")
    axes.set_xticks(positions, labels, rotation=45, ha="right", fontsize=8)
    axes.set_xlabel("4 weeks up to", fontsize=8)
    axes.grid(axis="y", alpha=0.3)

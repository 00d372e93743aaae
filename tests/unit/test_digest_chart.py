"""The digest's chart for a busy, a quiet, a one-close and an empty week: what the renderer decided (labels,
texts, limits), and each picture written out as a PNG (run with --basetemp to keep them and look)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import charts
from models.enums import OPEN_STAGES
from models.schemas.digest import TrendPoint

START = date(2026, 9, 7)
WEEKS = [START + timedelta(weeks=i) for i in range(12)]
STAGES = [stage.value for stage in OPEN_STAGES]


def busy() -> tuple[list[TrendPoint], dict[str, float | None], str | None]:
    trend = [TrendPoint(week_start=week, mean=20.0 + (i * 7) % 13, median=18.0 + (i * 5) % 11, count=6 + i % 4)
             for i, week in enumerate(WEEKS)]
    return trend, {stage: 3.0 + i * 2.5 for i, stage in enumerate(STAGES)}, STAGES[-1]


def quiet() -> tuple[list[TrendPoint], dict[str, float | None], str | None]:
    trend = [TrendPoint(week_start=week, mean=30.0, median=30.0, count=1) if i % 4 == 0 else TrendPoint(week_start=week)
             for i, week in enumerate(WEEKS)]
    return trend, {stage: 6.0 if stage == "discovery" else None for stage in STAGES}, "discovery"


def one_close() -> tuple[list[TrendPoint], dict[str, float | None], str | None]:
    trend = [TrendPoint(week_start=week) for week in WEEKS[:-1]]
    trend.append(TrendPoint(week_start=WEEKS[-1], mean=0.4, median=0.4, count=1))
    return trend, {stage: None for stage in STAGES}, None


def empty() -> tuple[list[TrendPoint], dict[str, float | None], str | None]:
    return [TrendPoint(week_start=week) for week in WEEKS], {stage: None for stage in STAGES}, None


def drawn(name: str, week: Any, out: Path) -> tuple[Any, Any]:
    """The trend and dwell axes of the week's chart, and its PNG written to `out`/NAME.png."""
    trend, dwell, slowest = week()
    figure = charts.digest_figure(trend, dwell, title=f"MTTC trend (12 weeks) and median days in stage · {name}",
                                  slowest_stage=slowest)
    png = charts.digest_chart(trend, dwell, title=f"MTTC trend (12 weeks) and median days in stage · {name}",
                              slowest_stage=slowest)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    (out / f"{name}.png").write_bytes(png)
    trend_axes, dwell_axes = figure.axes
    return trend_axes, dwell_axes


def texts(axes: Any) -> list[str]:
    return [text.get_text().strip() for text in axes.texts]


def legend(axes: Any) -> tuple[str, list[str]]:
    found = axes.get_legend()
    return found.get_title().get_text(), [text.get_text() for text in found.get_texts()]


def highest_point(axes: Any) -> float:
    return max(y for line in axes.get_lines() for y in line.get_ydata() if y == y)


def test_a_busy_week_shows_both_lines_with_headroom_and_days_on_every_bar(tmp_path: Path) -> None:
    trend_axes, dwell_axes = drawn("busy", busy, tmp_path)
    assert legend(trend_axes) == ("", ["median", "mean"])  # mean and median never equal: no note
    bottom, top = trend_axes.get_ylim()
    assert bottom == 0 and top >= highest_point(trend_axes) * 1.4  # the top marker is clear of the frame and legend
    assert trend_axes.get_xlim() == (-0.5, 11.5)  # and the first and last weeks clear of the sides
    assert texts(dwell_axes) == ["3.0 days", "5.5 days", "8.0 days", "10.5 days", "13.0 days", "15.5 days"]
    assert dwell_axes.get_xlim()[1] >= 15.5 * 1.25
    assert [label.get_text() for label in dwell_axes.get_yticklabels()] == [
        "Preparation", "Discovery", "Demo", "POC", "Technical Q&A", "Sizing"]


def test_a_quiet_week_says_which_stages_nobody_left_and_where_mean_equals_median(tmp_path: Path) -> None:
    trend_axes, dwell_axes = drawn("quiet", quiet, tmp_path)
    assert legend(trend_axes) == ("mean = median where the dot sits on the square", ["median", "mean"])
    assert trend_axes.get_ylim()[1] >= 30 * 1.4
    assert texts(dwell_axes) == ["none left this week", "6.0 days", "none left this week", "none left this week",
                                 "none left this week", "none left this week"]


def test_a_week_of_one_same_day_close_draws_both_lines_on_a_whole_day_axis(tmp_path: Path) -> None:
    trend_axes, dwell_axes = drawn("one-close", one_close, tmp_path)
    median, mean = trend_axes.get_lines()
    # The median wide and pale underneath, the mean small on top: both show where they are equal.
    assert median.get_linewidth() > mean.get_linewidth() and median.get_markersize() > mean.get_markersize()
    assert mean.get_zorder() > median.get_zorder()
    assert legend(trend_axes)[0] == "mean = median where the dot sits on the square"
    assert trend_axes.get_ylim() == (0.0, 1.0)
    assert texts(dwell_axes) == ["no stage changes"]


def test_an_empty_week_says_so_in_the_middle_of_each_panel(tmp_path: Path) -> None:
    trend_axes, dwell_axes = drawn("empty", empty, tmp_path)
    assert trend_axes.get_legend() is None and trend_axes.get_lines() == []
    assert trend_axes.get_xlim() == (-0.5, 11.5)
    for axes, words in ((trend_axes, "no engagements closed"), (dwell_axes, "no stage changes")):
        [text] = axes.texts
        assert text.get_text() == words
        assert text.get_position() == (0.5, 0.5) and text.get_ha() == "center" and text.get_va() == "center"
        assert text.get_transform() == axes.transAxes


@pytest.mark.parametrize("value, shown", [(1.0, "1.0 day"), (0.0, "0.0 days"), (12.34, "12.3 days")])
def test_bar_figures_read_as_days(value: float, shown: str) -> None:
    assert charts.day_count(value) == shown

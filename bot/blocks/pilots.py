"""The pilot in Slack: its comparison line (digest, App Home), the manager's section and the pilot modal."""

from __future__ import annotations

from models.schemas.pilots import Comparison, Difference

VERDICT_WORDS = {
    "faster": "the pilot closes *faster*",
    "slower": "the pilot closes *slower*",
    "no clear difference": "*no clear difference* yet",
    "too few closes": "*too few closes* to tell yet",
}


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} d"


def _signed_days(difference: Difference) -> str:
    if difference.value is None or difference.ci95 is None:
        return "—"
    low, high = difference.ci95
    return f"{difference.value:+.1f} d (95% interval {low:+.1f} to {high:+.1f})"


def comparison_line(comparison: Comparison) -> str:
    """One line: both groups' median MTTC, the difference with its interval, and the verdict."""
    pilot, baseline = comparison.pilot_group, comparison.baseline_group
    against = "everyone else" if comparison.baseline_kind == "concurrent" else "the members before it started"
    return (f"Pilot *{comparison.pilot.name}*: median time to close {_days(pilot.mttc_days.median)} "
            f"({plural(pilot.closed_total, 'close')}) against {_days(baseline.mttc_days.median)} for {against} "
            f"({plural(baseline.closed_total, 'close')}); difference {_signed_days(comparison.mttc_days_median)}: "
            f"{VERDICT_WORDS[comparison.verdict]}.")


def rollout_note(ask: list[str]) -> str:
    """For someone outside the pilot while epos answers only it (EPOS_PILOT_ONLY)."""
    whom = ", ".join(f"<@{user_id}>" for user_id in ask) or "whoever runs epos"
    return (f"epos is in a pilot for now: it answers the SEs trying it and the people on their deals. "
            f"It will open to everyone after the pilot; to join sooner, ask {whom}.")


DIGEST_TITLE = "*Pilot*"
CHART_NOTE = "The chart in the thread follows both groups' median time to close over the 4 weeks before each week's end."


def digest_section(comparison: Comparison) -> str:
    return f"{DIGEST_TITLE}\n{comparison_line(comparison)}\n_{CHART_NOTE}_"
CHART_ALT = " A third panel: lines of the pilot's and everyone else's median days to close over the 4 weeks before each week's end."

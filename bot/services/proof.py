"""Is the pilot's difference real or noise? A seeded bootstrap of the difference between two groups.

Pure: it works on the per-engagement (MTTC days, won) pairs that SQL returns, and the same data always
gives the same interval, because the resampling is driven by a `random.Random` with a fixed seed.

The interval is the 95% percentile interval of the differences over the resamples: each resample draws
each group afresh, with replacement, at its own size."""

from __future__ import annotations

import random
from collections.abc import Sequence
from statistics import median

from models.schemas.pilots import Difference

FASTER, SLOWER, NO_CLEAR_DIFFERENCE, TOO_FEW_CLOSES = "faster", "slower", "no clear difference", "too few closes"
# Fewer closes than this in either group and no verdict is given (the figures are still shown).
MIN_CLOSES = 5
RESAMPLES = 2000
SEED = 20230220

Closes = Sequence[tuple[float, bool]]


def _win_rate(closes: Closes) -> float:
    return sum(1 for _, won in closes if won) / len(closes)


def _mttc_median(closes: Closes) -> float:
    return float(median(days for days, _ in closes))


def _percentile(ordered: Sequence[float], share: float) -> float:
    """Linear interpolation between the closest ranks, as numpy's default."""
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _interval(values: list[float]) -> tuple[float, float]:
    values.sort()
    return (round(_percentile(values, 0.025), 4), round(_percentile(values, 0.975), 4))


def compare(pilot: Closes, baseline: Closes, *, resamples: int = RESAMPLES, seed: int = SEED
            ) -> tuple[Difference, Difference]:
    """Pilot minus baseline, for the MTTC median and for the win rate, each with its 95% interval."""
    if not pilot or not baseline:
        return Difference(value=None, ci95=None), Difference(value=None, ci95=None)
    rng = random.Random(seed)
    medians, rates = [], []
    for _ in range(resamples):
        p = rng.choices(pilot, k=len(pilot))
        b = rng.choices(baseline, k=len(baseline))
        medians.append(_mttc_median(p) - _mttc_median(b))
        rates.append(_win_rate(p) - _win_rate(b))
    return (Difference(value=round(_mttc_median(pilot) - _mttc_median(baseline), 4), ci95=_interval(medians)),
            Difference(value=round(_win_rate(pilot) - _win_rate(baseline), 4), ci95=_interval(rates)))


def verdict(pilot_closes: int, baseline_closes: int, mttc: Difference) -> str:
    """About time to close: faster or slower only when the whole interval is on one side of 0."""
    if min(pilot_closes, baseline_closes) < MIN_CLOSES or mttc.ci95 is None:
        return TOO_FEW_CLOSES
    low, high = mttc.ci95
    if high < 0:
        return FASTER
    if low > 0:
        return SLOWER
    return NO_CLEAR_DIFFERENCE

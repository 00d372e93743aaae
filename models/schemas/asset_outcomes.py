"""Which assets help win: the engagements each asset was used in, and how those went
(README › Assets in engagements)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from models.enums import AssetType, Outcome

# Below this many closed engagements an asset's win rate and MTTC would rest on a handful of deals:
# it shows counts only.
MIN_FOR_RATES = 5


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class DealUse(_Frozen):
    """An asset's closed engagements, for the one line on its search card."""

    won: int = 0
    closed: int = 0


class UsedIn(_Frozen):
    """One engagement an asset was shared into while it was open."""

    account: str
    opportunity: str
    owner_id: str
    # The engagement's stage when the asset was first shared into it (None: shared before it opened).
    stage: str | None
    first_shared_at: datetime
    # None while the engagement was still open at the end of the window.
    outcome: Outcome | None = None
    closed_at: datetime | None = None
    mttc_days: float | None = None


class AssetOutcome(_Frozen):
    asset_id: int
    title: str
    url: str
    type: AssetType
    engagements: list[UsedIn]
    sharers: list[str]
    # None when fewer than MIN_FOR_RATES engagements closed: counts only.
    win_rate: float | None = None
    mttc_days_median: float | None = None

    def count(self, outcome: Outcome | None) -> int:
        return sum(1 for e in self.engagements if e.outcome == outcome)

    @property
    def closed(self) -> int:
        return sum(1 for e in self.engagements if e.outcome is not None)

    @property
    def rates_shown(self) -> bool:
        return self.closed >= MIN_FOR_RATES

    @property
    def stages(self) -> dict[str, int]:
        """How many engagements were in each stage when the asset first went into them."""
        counts: dict[str, int] = {}
        for engagement in self.engagements:
            key = engagement.stage or "before_opening"
            counts[key] = counts.get(key, 0) + 1
        return counts


class OutcomeReport(_Frozen):
    """The window [since, until), the team's engagements closed in it, and each asset used in it."""

    since: datetime
    until: datetime
    team_closed: int
    team_won: int
    team_win_rate: float | None
    team_mttc_days_median: float | None
    assets: list[AssetOutcome]

    @property
    def people(self) -> list[str]:
        """Everyone the report names: who shared each asset, and the engagements' owners."""
        return sorted({u for a in self.assets for u in a.sharers}
                      | {e.owner_id for a in self.assets for e in a.engagements})

    def as_json(self, name_of: Callable[[str], str]) -> dict[str, Any]:
        """What `epos assets report --json` prints (README › Assets in engagements)."""
        return {
            "window": {"since": self.since.isoformat(), "until": self.until.isoformat()},
            "min_closed_for_rates": MIN_FOR_RATES,
            "team": {"closed": self.team_closed, "won": self.team_won, "win_rate": _round(self.team_win_rate),
                     "mttc_days_median": _round(self.team_mttc_days_median)},
            "assets": [_asset_json(asset, name_of) for asset in self.assets],
        }


def _asset_json(asset: AssetOutcome, name_of: Callable[[str], str]) -> dict[str, Any]:
    return {
        "title": asset.title,
        "type": asset.type.value,
        "url": asset.url,
        "engagements": len(asset.engagements),
        "won": asset.count(Outcome.won),
        "lost": asset.count(Outcome.lost),
        "no_decision": asset.count(Outcome.no_decision),
        "open": asset.count(None),
        "rates_shown": asset.rates_shown,
        "win_rate": _round(asset.win_rate),
        "mttc_days_median": _round(asset.mttc_days_median),
        "stages_at_share": asset.stages,
        "ses": len(asset.sharers),
        "shared_by": [name_of(user_id) for user_id in asset.sharers],
        "used_in": [
            {"account": e.account, "opportunity": e.opportunity, "owner": name_of(e.owner_id),
             "stage_at_share": e.stage, "first_shared_at": e.first_shared_at.isoformat(),
             "outcome": e.outcome.value if e.outcome else "open",
             "closed_at": e.closed_at.isoformat() if e.closed_at else None, "mttc_days": _round(e.mttc_days)}
            for e in asset.engagements
        ],
    }


class WonDealsAsset(_Frozen):
    """A line of the digest's curators' section: an asset and the won engagements it was used in."""

    title: str
    url: str
    won: int
    closed: int


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)

"""DTOs of the engagements domain: what its services return and its blocks render."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Literal, NamedTuple
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from models.enums import AssetType, Outcome, RequestState, Stage
from models.schemas.adoption import HomeAdoption
from models.schemas.stage_checklists import ChecklistLine
from models.schemas.devrel import RequestUpdate


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


# ----- figures ------------------------------------------------------------------------------------
class Figures(_Frozen):
    """Mean and median of a set of durations in days; both None when the set is empty."""

    mean: float | None = None
    median: float | None = None
    count: int = 0


class EsatFigures(_Frozen):
    mean: float | None = None
    count: int = 0


class ChallengeFigures(_Frozen):
    """How the engagements closed in a window with one business challenge of the map did. Win rate and
    MTTC only when at least `bot.services.metrics.MIN_CLOSED_FOR_RATES` closed; below that, counts only."""

    closed: dict[str, int]
    win_rate: float | None = None
    mttc_days: Figures | None = None

    @property
    def closed_total(self) -> int:
        return sum(self.closed.values())


class OwnerTotals(_Frozen):
    """One SE's engagements in a window: closed ones by outcome, their MTTC, and how many were open at its end."""

    owner_id: str
    closed: dict[str, int]
    mttc_days: Figures
    open: int

    @property
    def closed_total(self) -> int:
        return sum(self.closed.values())

    @property
    def win_rate(self) -> float | None:
        total = self.closed_total
        return self.closed.get(Outcome.won.value, 0) / total if total else None


class TeamMetrics(_Frozen):
    since: datetime
    until: datetime
    owner_id: str | None = None
    closed: dict[str, int]
    win_rate: float | None
    mttc_days: Figures
    mttc_by_outcome: dict[str, Figures]
    stage_dwell_days_median: dict[str, float | None]
    stage_conversion: dict[str, float | None]
    open_by_stage: dict[str, int]
    esat: EsatFigures

    @property
    def closed_total(self) -> int:
        return sum(self.closed.values())

    @property
    def slowest_stage(self) -> str | None:
        """The open stage with the longest median dwell, when any stage has one."""
        known = {stage: days for stage, days in self.stage_dwell_days_median.items() if days is not None}
        return max(known, key=lambda stage: known[stage]) if known else None


# ----- engagements --------------------------------------------------------------------------------
class StaleEngagement(NamedTuple):
    """One stale engagement, as the digest counts it and as its owner's nudge DM lists it. A plain tuple
    rather than a validated model: the scan builds tens of thousands at once, straight from typed columns,
    and validating each cost a third of the scan, and as much again for the nudges (docs/performance.md)."""

    id: int
    account: str
    opportunity: str
    owner_id: str
    seller_id: str
    stage: Stage
    days_idle: int
    stale_after_days: int
    last_activity_at: datetime
    snoozed_until: datetime | None = None
    last_nudged_at: datetime | None = None

    @property
    def stale_since(self) -> datetime:
        return self.last_activity_at + timedelta(days=self.stale_after_days)

    @property
    def days_over(self) -> int:
        return max(0, self.days_idle - self.stale_after_days)


class EngagementSummary(_Frozen):
    id: int
    account: str
    opportunity: str
    owner_id: str
    seller_id: str
    focus: str
    channel_id: str | None = None
    stage: Stage
    outcome: Outcome | None = None
    opened_at: datetime
    stage_entered_at: datetime
    last_activity_at: datetime
    closed_at: datetime | None = None
    days_in_stage: int
    stale: bool = False
    # Opened to learn the process on: marked wherever it shows, counted nowhere.
    practice: bool = False
    # Its place in the challenge map (bot/services/challenges.py), when one was picked.
    challenge_id: str | None = None
    need_ids: list[str] = Field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.stage is not Stage.closed

    @property
    def stage_label(self) -> str:
        if self.stage is Stage.closed and self.outcome is not None:
            return f"Closed ({OUTCOME_LABELS[self.outcome]})"
        return self.stage.label


OUTCOME_LABELS = {Outcome.won: "won", Outcome.lost: "lost", Outcome.no_decision: "no decision"}


class TimelineEntry(_Frozen):
    kind: Literal["stage", "note"]
    at: datetime
    logged_at: datetime
    actor_id: str
    from_stage: Stage | None = None
    to_stage: Stage | None = None
    outcome: Outcome | None = None
    note: str = ""
    backdated: bool = False
    undo: bool = False
    undone: bool = False


class SharedAsset(_Frozen):
    asset_id: int
    title: str
    url: str
    type: AssetType
    shared_by: str
    shared_at: datetime


class DevRelLine(_Frozen):
    id: int
    engagement_id: int
    account: str
    state: RequestState
    requester_id: str
    candidate_id: str | None = None
    assignee_id: str | None = None
    meeting_start: datetime
    topics: list[str] = Field(default_factory=list)
    # True on the viewer's own requests that they can still call off (the App Home shows Cancel).
    may_cancel: bool = False


class NeedLine(_Frozen):
    """A technical need of the engagement's challenge, with the published assets that fit it."""

    text: str
    assets: list[AssetSuggestion] = Field(default_factory=list)


class ChallengeChain(_Frozen):
    """Challenge → needs → matching assets, as the challenge map draws it for one engagement."""

    challenge: str | None = None
    needs: list[NeedLine] = Field(default_factory=list)


class EngagementCard(_Frozen):
    engagement: EngagementSummary
    business_challenge: str
    technical_needs: str
    chain: ChallengeChain | None = None
    timeline: list[TimelineEntry]
    timeline_total: int
    shares: list[SharedAsset]
    shares_total: int
    # The field-asset interactions it used: distinct assets shared into it, by type.
    interactions: dict[AssetType, int] = {}
    devrel: list[DevRelLine]
    viewer_may_change: bool
    viewer_may_reopen: bool = False
    # A practice engagement, and the viewer is its owner or an admin.
    viewer_may_delete: bool = False
    # The tools of the stage the engagement is in (none once closed).
    tools: list[StageTool] = []
    # The current stage's playbook items, ticked or not (empty once closed).
    checklist: list[ChecklistLine] = Field(default_factory=list)


class StageChangeResult(_Frozen):
    engagement: EngagementSummary
    change_id: int
    from_stage: Stage | None
    to_stage: Stage
    outcome: Outcome | None = None
    effective_at: datetime
    backdated: bool
    note: str = ""
    actor_id: str
    undo: bool = False
    # An ESAT question to send (on a close that has not asked one yet).
    esat_survey_id: int | None = None
    # The DevRel requests of the engagement that its close cancelled (pending asks, upcoming meetings).
    devrel_cancelled: list[RequestUpdate] = Field(default_factory=list)
    # On a reopen: upcoming DevRel meetings and asks its close cancelled, which stay cancelled.
    devrel_still_cancelled: int = 0
    # The deliverables of the stage left that nobody ticked: a warning, never a refusal.
    open_deliverables: list[str] = Field(default_factory=list)


class NoteResult(_Frozen):
    engagement: EngagementSummary
    note_id: int
    text: str


class AssetSuggestion(_Frozen):
    id: int | None = None
    title: str
    url: str
    type: AssetType
    summary: str = ""


# ----- a stage's tools and webhook (the playbooks file) ---------------------------------------------
WEB_URL = re.compile(r"^https?://[^\s/$.?#][^\s<>|]*$", re.IGNORECASE)
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,99}$")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class StageTool(_Frozen):
    """A tool a stage uses (the ESAT form, the sizing calculator, the CRM): shown on the stage post and card."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    url: str = Field(min_length=1, max_length=500)
    purpose: str = Field(default="", max_length=200)

    @field_validator("name", "purpose")
    @classmethod
    def _stripped(cls, text: str) -> str:
        return text.strip()

    @field_validator("url")
    @classmethod
    def _web_address(cls, url: str) -> str:
        url = url.strip()
        if not WEB_URL.match(url):
            raise ValueError(f"{url!r} is not a web address; write it in full, starting with https://")
        return url


class StageWebhook(_Frozen):
    """An address epos calls when an engagement enters or leaves the stage, signed with the secret.

    `secret_env` names an environment variable holding the secret (read at each call, so it can be rotated
    with a restart); `secret` holds it literally, for trials only, since the playbooks file then carries it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(min_length=1, max_length=500)
    secret_env: str | None = None
    secret: SecretStr | None = None
    events: list[Literal["entered", "left"]] = Field(default_factory=lambda: ["entered", "left"], min_length=1)

    @field_validator("url")
    @classmethod
    def _secure_address(cls, url: str) -> str:
        url = url.strip()
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"{url!r} is not a web address; write it in full, starting with https://")
        if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise ValueError(f"{url!r} is not https; a webhook carries account names, so use https:// "
                             "(plain http only to this machine)")
        return url

    @field_validator("secret_env")
    @classmethod
    def _env_name(cls, name: str | None) -> str | None:
        if name is not None and not ENV_NAME.match(name):
            raise ValueError(f"{name!r} is not an environment variable name; use capitals, digits and _, "
                             "for example EPOS_HOOK_SECRET_DISCOVERY")
        return name

    @field_validator("secret")
    @classmethod
    def _long_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and not 16 <= len(secret.get_secret_value()) <= 500:
            raise ValueError("the secret must be 16 to 500 characters; use a long random one, and preferably keep "
                             "it in an environment variable named with secret_env")
        return secret

    @model_validator(mode="after")
    def _one_secret(self) -> StageWebhook:
        if (self.secret_env is None) == (self.secret is None):
            raise ValueError("give the webhook its secret: secret_env (the name of an environment variable "
                             "holding it, preferred) or secret (the secret itself), not both")
        return self

    def calls_on(self, event: str) -> bool:
        return event in self.events


class PlaybookPost(_Frozen):
    engagement: EngagementSummary
    stage: Stage
    title: str
    goal: str
    prerequisites: list[str]
    calls_to_action: list[str]
    deliverables: list[str]
    asset_types: list[AssetType]
    assets: list[AssetSuggestion]
    tools: list[StageTool] = []


class EngagementPage(_Frozen):
    scope: Literal["mine", "all"]
    items: list[EngagementSummary]
    page: int
    pages: int
    total: int
    open_total: int


class AccountMatch(_Frozen):
    """How a typed account matched the engagements: one at once, a guess to confirm, or a choice."""

    kind: Literal["exact", "unsure", "ambiguous", "none"]
    query: str
    candidates: list[EngagementSummary] = Field(default_factory=list)
    more: int = 0
    # 3: the same name, 2: the name starts with the words typed, 1: a fuzzy likeness, 0: nothing.
    quality: int = 0


class StageMatch(_Frozen):
    kind: Literal["exact", "unsure", "none", "closed"]
    query: str
    stage: Stage | None = None


class Interpretation(_Frozen):
    """What `/engagement <text>` asks for: a card, a stage change, or a close spelled as a stage."""

    kind: Literal["card", "change", "closing"]
    account: AccountMatch
    stage: StageMatch | None = None
    note: str = ""


class EsatPrompt(_Frozen):
    survey_id: int
    engagement_id: int
    account: str
    opportunity: str
    owner_id: str
    outcome: Outcome | None
    score: int | None = None
    comment: str = ""
    reminder: bool = False


class HomeData(_Frozen):
    user_id: str
    manager: bool
    engagements: list[EngagementSummary]
    engagements_total: int
    page: int
    pages: int
    devrel_requested: list[DevRelLine]
    devrel_to_answer: list[DevRelLine]
    # None, with the reason in `figures_refused`, for members outside the presales team.
    metrics: TeamMetrics | None
    is_new: bool
    figures_refused: str | None = None
    # The getting-started checklist, and the team's adoption for managers (bot/services/adoption.py).
    adoption: HomeAdoption | None = None


class NewEngagementIn(BaseModel):
    """The `/engagement new` form, already parsed."""

    account: str
    opportunity: str
    seller_id: str
    focus: str
    business_challenge: str = ""
    technical_needs: str = ""
    # Picked from the challenge map for the focus (ids of bot/data/challenges.yaml or EPOS_CHALLENGES).
    challenge_id: str | None = None
    need_ids: list[str] = Field(default_factory=list)
    channel_id: str | None = None
    stage: Stage = Stage.preparation
    opened_on: date | None = None

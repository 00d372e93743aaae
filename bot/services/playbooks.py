"""Stage playbooks: the guided EPOS path as data.

epos ships sensible defaults in `bot/data/playbooks.yaml`; a team points `EPOS_PLAYBOOKS` at its own
file of the same shape. The file is validated once at start, and a bad one stops epos with one line
naming the file and the field at fault.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import ConfigError
from bot.services.importing import ImportInvalid, load_yaml
from models.enums import OPEN_STAGES, AssetType, Stage
from models.schemas.engagements import StageTool, StageWebhook

DEFAULT_PLAYBOOKS = Path(__file__).resolve().parent.parent / "data" / "playbooks.yaml"
SHAPE = "a playbooks file maps each stage to its title, goal and lists of short items"

_ItemText = Field(min_length=1, max_length=500)


class Playbook(BaseModel):
    """What a stage asks of the SE: before (prerequisites), during (calls to action), after (deliverables)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=100)
    goal: str = Field(min_length=1, max_length=500)
    prerequisites: list[str] = Field(default_factory=list, max_length=20)
    calls_to_action: list[str] = Field(default_factory=list, max_length=20)
    deliverables: list[str] = Field(default_factory=list, max_length=20)
    asset_types: list[AssetType] = Field(min_length=1)
    stale_after_days: int = Field(ge=1, le=365)
    # The tools the stage works with, shown on its post and on the card; and the address called when an
    # engagement enters or leaves the stage (bot/services/hooks.py).
    tools: list[StageTool] = Field(default_factory=list, max_length=10)
    webhook: StageWebhook | None = None

    @field_validator("prerequisites", "calls_to_action", "deliverables")
    @classmethod
    def _items_are_short_text(cls, items: list[str]) -> list[str]:
        for position, item in enumerate(items, start=1):
            if not isinstance(item, str) or not item.strip():
                raise ValueError(f"item {position} is empty; write one short sentence per item")
            if len(item) > 500:
                raise ValueError(f"item {position} is longer than 500 characters")
        return [item.strip() for item in items]

    @property
    def stale_after(self) -> timedelta:
        return timedelta(days=self.stale_after_days)


def _first_error(source: Path, error: ValidationError) -> str:
    detail = error.errors()[0]
    where = ".".join(str(part) for part in detail["loc"])
    reason = str(detail["msg"]).removeprefix("Value error, ")
    return f"{source}: field {where or '(top level)'}: {reason}"


def load(path: Path) -> dict[Stage, Playbook]:
    """Every open stage's playbook from a YAML file, or a ConfigError naming the file and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"EPOS_PLAYBOOKS: cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not UTF-8 text; save it as UTF-8 YAML") from None
    try:
        # The import files' loader: it names the line, and refuses alias bombs and runaway nesting.
        raw = load_yaml(text, shape=SHAPE)
    except ImportInvalid as invalid:
        problem = invalid.problems[0]
        raise ConfigError(f"{path}: {problem.where}: {problem.message}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping from stage name ({', '.join(OPEN_STAGES)}) to its playbook")
    known = {stage.value for stage in OPEN_STAGES}
    for key in raw:
        if str(key) not in known:
            raise ConfigError(f"{path}: field {key}: not a stage; use one of {', '.join(sorted(known))}")
    playbooks: dict[Stage, Playbook] = {}
    for stage in OPEN_STAGES:
        if stage.value not in raw:
            raise ConfigError(f"{path}: field {stage.value}: missing; every stage needs a playbook")
        entry = raw[stage.value]
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: field {stage.value}: expected a mapping with title, goal, prerequisites, …")
        try:
            playbooks[stage] = Playbook.model_validate(entry)
        except ValidationError as error:
            raise ConfigError(_first_error(path, error).replace("field ", f"field {stage.value}.", 1)) from None
    return playbooks


_lock = threading.Lock()
_active: dict[Stage, Playbook] | None = None


def configure(path: Path | None) -> dict[Stage, Playbook]:
    """Load the team's playbooks (or the shipped defaults when `path` is None) and make them current."""
    global _active
    loaded = load(path or DEFAULT_PLAYBOOKS)
    with _lock:
        _active = loaded
    return loaded


def _configured_path() -> Path | None:
    """EPOS_PLAYBOOKS, for processes that did not configure playbooks at start (one-off commands)."""
    from bot.config import load_settings

    try:
        return load_settings().epos_playbooks
    except ConfigError:
        return None


def all_playbooks() -> dict[Stage, Playbook]:
    with _lock:
        active = _active
    return active if active is not None else configure(_configured_path())


def playbook(stage: Stage) -> Playbook:
    """The playbook of an open stage. `closed` has none."""
    stage = Stage(stage)
    if stage is Stage.closed:
        raise ValueError("the closed stage has no playbook")
    return all_playbooks()[stage]

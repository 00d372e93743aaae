"""Stage playbooks: the guided EPOS path as data.

epos ships sensible defaults in `bot/data/playbooks.yaml`; a team points `EPOS_PLAYBOOKS` at its own
file of the same shape. The file is validated once at start, and a bad one stops epos with one line
naming the file and the field at fault.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.errors import ConfigError
from bot.services.team_files import TeamFile, read_yaml
from models.enums import OPEN_STAGES, AssetType, Stage
from models.schemas.engagements import StageTool, StageWebhook

DEFAULT_PLAYBOOKS = Path(__file__).resolve().parent.parent / "data" / "playbooks.yaml"
SHAPE = "a playbooks file maps each stage to its title, goal and lists of short items"

_ItemText = Field(min_length=1, max_length=500)

# The three lists of a stage, each a kind of checklist item on the engagement card.
ITEM_GROUPS = ("prerequisites", "calls_to_action", "deliverables")
ItemGroup = Literal["prerequisites", "calls_to_action", "deliverables"]
# An item's own id, so a team may reword it without losing the ticks it already has.
ITEM_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
ITEM_ID_RULE = "use 1 to 40 lowercase letters, digits, - or _, starting with a letter or digit"
_IDS_KEY = "item_ids"


def derived_id(text: str) -> str:
    """The id of an item the file gives none: from its words, so it holds while the text does."""
    words = " ".join(text.lower().split())
    return "t-" + hashlib.sha256(words.encode("utf-8")).hexdigest()[:10]


class ChecklistItem(BaseModel):
    """One item of a stage's checklist, as the engagement card ticks it."""

    model_config = ConfigDict(frozen=True)

    id: str
    group: ItemGroup
    text: str


def _quoted(text: str) -> str:
    return f"“{text[:40]}…”" if len(text) > 40 else f"“{text}”"


def _split_items(entries: Any) -> tuple[Any, list[str | None]]:
    """An item is a line of text, or `{id, text}`: the texts, and each one's id (None when it has none)."""
    if not isinstance(entries, list):
        return entries, []
    texts: list[Any] = []
    ids: list[str | None] = []
    for position, entry in enumerate(entries, start=1):
        if isinstance(entry, dict):
            unknown = sorted(str(key) for key in entry if key not in ("id", "text"))
            if unknown:
                raise ValueError(f"item {position}: unknown key {unknown[0]}; an item has only id and text")
            item_id = entry.get("id")
            if item_id is not None and (not isinstance(item_id, str) or not ITEM_ID.match(item_id)):
                raise ValueError(f"item {position}: id {item_id!r} is not an item id; {ITEM_ID_RULE}")
            if not isinstance(entry.get("text"), str):
                raise ValueError(f"item {position}: has no text; write it as `text: ...` under its id")
            texts.append(entry["text"])
            ids.append(item_id)
        else:
            texts.append(entry)
            ids.append(None)
    return texts, ids


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
    # Filled from the items written as `{id, text}`; never written in the file itself.
    item_ids: dict[str, list[str | None]] = Field(default_factory=dict, repr=False)

    @model_validator(mode="before")
    @classmethod
    def _take_item_ids(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if _IDS_KEY in data:
            raise ValueError(f"{_IDS_KEY} is not a playbook field; give an item its id as `- id: ...` and `text: ...`")
        data = dict(data)
        ids: dict[str, list[str | None]] = {}
        for group in ITEM_GROUPS:
            if group in data:
                try:
                    data[group], ids[group] = _split_items(data[group])
                except ValueError as error:
                    raise ValueError(f"{group}: {error}") from None
        data[_IDS_KEY] = ids
        return data

    @model_validator(mode="after")
    def _item_ids_are_unique(self) -> Playbook:
        seen: dict[str, str] = {}
        for item, where in zip(self.checklist(), self._positions(), strict=True):
            if item.id in seen:
                raise ValueError(f"{where}: id {item.id} is also the id of {seen[item.id]}; "
                                 "give every item of a stage its own id")
            seen[item.id] = where
        return self

    def _positions(self) -> list[str]:
        return [f"{group} item {position} ({_quoted(text)})" for group in ITEM_GROUPS
                for position, text in enumerate(getattr(self, group), start=1)]

    def checklist(self) -> list[ChecklistItem]:
        """Every item of the stage, in the file's order, each with its id (its own, or one from its text)."""
        items: list[ChecklistItem] = []
        for group in ITEM_GROUPS:
            texts: list[str] = getattr(self, group)
            ids = self.item_ids.get(group) or [None] * len(texts)
            items.extend(ChecklistItem(id=item_id or derived_id(text), group=group, text=text)
                         for text, item_id in zip(texts, ids, strict=True))
        return items

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
    _, raw = read_yaml(path, "EPOS_PLAYBOOKS", SHAPE)
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
            message = _first_error(path, error)
            message = message.replace("field (top level)", f"field {stage.value}", 1) if "field (top level)" in message \
                else message.replace("field ", f"field {stage.value}.", 1)
            raise ConfigError(message) from None
    return playbooks


_file: TeamFile[dict[Stage, Playbook]] = TeamFile(DEFAULT_PLAYBOOKS, load, "epos_playbooks")


def configure(path: Path | None) -> dict[Stage, Playbook]:
    """Load the team's playbooks (or the shipped defaults when `path` is None) and make them current."""
    return _file.configure(path)


def all_playbooks() -> dict[Stage, Playbook]:
    return _file.current()


def playbook(stage: Stage) -> Playbook:
    """The playbook of an open stage. `closed` has none."""
    stage = Stage(stage)
    if stage is Stage.closed:
        raise ValueError("the closed stage has no playbook")
    return all_playbooks()[stage]

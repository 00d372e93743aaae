"""The challenge map: per focus area, business challenges (top-down) and the technical needs that answer
them (bottom-up), each need with the asset topics and DevRel topics that serve it.

epos ships a default in `bot/data/challenges.yaml`; a team points `EPOS_CHALLENGES` at its own file of the
same shape. The file is checked once at start, and a bad one stops epos with one line naming the file and
the line at fault. Engagements keep the ids of their challenge and needs, so the card, the stage posts,
`/devrel` routing and the figures all read the same chain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.errors import ConfigError
from bot.services.team_files import TeamFile, read_yaml

DEFAULT_CHALLENGES = Path(__file__).resolve().parent.parent / "data" / "challenges.yaml"
SETTING = "EPOS_CHALLENGES"
SHAPE = "a challenge map maps each focus area to its label, challenges and needs"
# Slack shows challenges and needs as choices, whose text holds 75 characters; a checkbox group holds 10.
TEXT_LIMIT = 75
NEEDS_PER_CHALLENGE = 10
CHOICES_LIMIT = 100
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_Id = Field(min_length=1, max_length=60, pattern=_ID.pattern)


def _topics(items: list[str]) -> list[str]:
    cleaned = []
    for position, item in enumerate(items, start=1):
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"topic {position} is empty; write one topic per item, e.g. apm")
        cleaned.append(" ".join(item.split()).lower())
    return list(dict.fromkeys(cleaned))


class Need(BaseModel):
    """A technical need, bottom-up, and the topics that find assets and DevRel people for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = _Id
    text: str = Field(min_length=1, max_length=TEXT_LIMIT)
    asset_topics: list[str] = Field(min_length=1, max_length=20)
    devrel_topics: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("asset_topics", "devrel_topics")
    @classmethod
    def _clean(cls, items: list[str]) -> list[str]:
        return _topics(items)


class Challenge(BaseModel):
    """A business challenge, top-down, in the customer's words, and the needs that answer it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = _Id
    text: str = Field(min_length=1, max_length=TEXT_LIMIT)
    needs: list[str] = Field(min_length=1, max_length=NEEDS_PER_CHALLENGE)


class FocusArea(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(min_length=1, max_length=TEXT_LIMIT)
    challenges: list[Challenge] = Field(min_length=1, max_length=CHOICES_LIMIT)
    needs: list[Need] = Field(min_length=1, max_length=CHOICES_LIMIT)

    @model_validator(mode="after")
    def _needs_exist(self) -> FocusArea:
        known = {need.id for need in self.needs}
        for position, challenge in enumerate(self.challenges):
            for index, need_id in enumerate(challenge.needs):
                if need_id not in known:
                    raise _Unknown(("challenges", position, "needs", index),
                                   f"no need {need_id!r} in this focus area; use one of {', '.join(sorted(known))}")
        return self

    def challenge(self, challenge_id: str) -> Challenge | None:
        return next((c for c in self.challenges if c.id == challenge_id), None)

    def need(self, need_id: str) -> Need | None:
        return next((n for n in self.needs if n.id == need_id), None)


class _Unknown(ValueError):
    """A reference to something the file does not define, with where it sits below the focus area."""

    def __init__(self, where: tuple[Any, ...], message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


class ChallengeMap(BaseModel):
    """The whole map, focus areas in file order."""

    model_config = ConfigDict(frozen=True)

    areas: dict[str, FocusArea]

    def area(self, focus: str) -> FocusArea | None:
        """The focus area an engagement's focus names (its key or label, any case)."""
        wanted = " ".join(focus.split()).lower()
        for key, area in self.areas.items():
            if wanted in (key, area.label.lower()):
                return area
        return None

    def focus_key(self, focus: str) -> str | None:
        area = self.area(focus)
        return next((key for key, found in self.areas.items() if found is area), None) if area else None

    def challenge(self, challenge_id: str | None) -> Challenge | None:
        if not challenge_id:
            return None
        return next((c for area in self.areas.values() for c in area.challenges if c.id == challenge_id), None)

    def needs(self, need_ids: Iterable[str]) -> list[Need]:
        """The needs of these ids that the map knows, in the order given."""
        by_id = {need.id: need for area in self.areas.values() for need in area.needs}
        return [by_id[need_id] for need_id in dict.fromkeys(need_ids) if need_id in by_id]

    def needs_of(self, challenge_id: str | None) -> list[Need]:
        challenge = self.challenge(challenge_id)
        return self.needs(challenge.needs) if challenge else []

    def asset_topics(self, need_ids: Iterable[str]) -> list[str]:
        return list(dict.fromkeys(t for need in self.needs(need_ids) for t in need.asset_topics))

    def devrel_topics(self, need_ids: Iterable[str]) -> list[str]:
        return list(dict.fromkeys(t for need in self.needs(need_ids) for t in need.devrel_topics))


# ----- loading ---------------------------------------------------------------------------------------------
def _line_index(node: yaml.Node, path: tuple[Any, ...] = (), into: dict[tuple[Any, ...], int] | None = None,
                ) -> dict[tuple[Any, ...], int]:
    """The line (1-based) where each key's value or each list item starts, by its path in the document."""
    lines = {} if into is None else into
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            step = path + (key.value,)
            lines[step] = key.start_mark.line + 1
            _line_index(value, step, lines)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            _line_index(item, path + (position,), lines)
    return lines


def _where(lines: dict[tuple[Any, ...], int], path: tuple[Any, ...]) -> str:
    """`line N, field a.b.c` for the deepest part of `path` the file has a line for."""
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            line = lines[path[:cut]]
            break
    else:
        line = 1
    shown = ".".join(str(part + 1) if isinstance(part, int) else str(part) for part in path)
    return f"line {line}, field {shown}" if shown else f"line {line}"


def _validation_problem(error: ValidationError) -> tuple[tuple[Any, ...], str]:
    detail = error.errors()[0]
    cause = (detail.get("ctx") or {}).get("error")
    if isinstance(cause, _Unknown):
        return cause.where, cause.message
    return tuple(detail["loc"]), str(detail["msg"]).removeprefix("Value error, ")


def load(path: Path) -> ChallengeMap:
    """The challenge map in a YAML file, or a ConfigError naming the file and the line at fault."""
    text, raw = read_yaml(path, SETTING, SHAPE)
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"{path}: line 1: expected a mapping from focus area (e.g. observability) to its label, "
                          "challenges and needs")
    lines = _line_index(yaml.compose(text, Loader=yaml.SafeLoader))
    areas: dict[str, FocusArea] = {}
    seen: dict[str, tuple[Any, ...]] = {}
    for key, entry in raw.items():
        name = str(key)
        if not _ID.match(name):
            raise ConfigError(f"{path}: {_where(lines, (key,))}: name focus areas in lower-case words joined by "
                              "hyphens, e.g. observability or data-platform")
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: {_where(lines, (key,))}: expected a mapping with label, challenges and needs")
        try:
            area = FocusArea.model_validate(entry)
        except ValidationError as error:
            where, message = _validation_problem(error)
            raise ConfigError(f"{path}: {_where(lines, (key, *where))}: {message}") from None
        for kind, items in (("challenges", area.challenges), ("needs", area.needs)):
            for position, item in enumerate(items):
                here = (key, kind, position, "id")
                if item.id in seen:
                    first = _where(lines, seen[item.id]).split(",")[0]
                    raise ConfigError(f"{path}: {_where(lines, here)}: the id {item.id!r} is already used at {first}; "
                                      "every challenge and need needs an id of its own")
                seen[item.id] = here
        areas[name] = area
    return ChallengeMap(areas=areas)


_file: TeamFile[ChallengeMap] = TeamFile(DEFAULT_CHALLENGES, load, "epos_challenges")


def configure(path: Path | None) -> ChallengeMap:
    """Load the team's challenge map (or the shipped default when `path` is None) and make it current."""
    return _file.configure(path)


def current() -> ChallengeMap:
    return _file.current()


# ----- an engagement's chain --------------------------------------------------------------------------------
def checked_choice(focus: str, challenge_id: str | None, need_ids: Sequence[str]) -> tuple[str | None, list[str]]:
    """The challenge and needs an engagement is opened with, as ids the map knows for its focus.
    Raises ValueError with a message for the person when a choice does not belong to the focus."""
    if not challenge_id and not need_ids:
        return None, []
    chart = current()
    area = chart.area(focus)
    if area is None:
        raise ValueError(f"The challenge map has no challenges for {focus}; describe the challenge in your own "
                         "words instead.")
    if challenge_id and area.challenge(challenge_id) is None:
        raise ValueError("That challenge is not one of this focus area's; pick it again from the list.")
    unknown = [need_id for need_id in need_ids if area.need(need_id) is None]
    if unknown:
        raise ValueError("A need you picked is not one of this focus area's; pick the needs again.")
    return challenge_id or None, list(dict.fromkeys(need_ids))


def with_devrel_topics(topics: Sequence[str], need_ids: Iterable[str] | None) -> list[str]:
    """A DevRel request's topics, and after them the DevRel topics of the engagement's needs, so routing
    also finds the person who knows what the customer needs."""
    mapped = current().devrel_topics(need_ids or []) if need_ids else []
    seen = {" ".join(topic.split()).lower() for topic in topics}
    # As many as a request holds (models/schemas/devrel.py MAX_TOPICS).
    return [*topics, *(topic for topic in mapped if topic not in seen)][:20]

"""Who uses epos, and each person's getting-started checklist: what the adoption service returns and
the CLI, the digest and the App Home render."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


# A summary names at most this many people per role; `epos adoption --json` lists everyone.
NAMES_SHOWN = 10


class Role(StrEnum):
    """One role a person, for adoption and the checklist: named in EPOS_MANAGERS, then active on the DevRel
    roster, then owner of an engagement, then seller on one. Someone in none of them is `other`."""

    se = "se"
    seller = "seller"
    devrel = "devrel"
    manager = "manager"
    other = "other"


class Feature(StrEnum):
    search = "search"
    share = "share"
    vote = "vote"
    add_asset = "add_asset"
    open = "open"
    stage_change = "stage_change"
    note = "note"
    devrel_request = "devrel_request"
    devrel_answer = "devrel_answer"
    esat = "esat"
    snooze = "snooze"
    figures = "figures"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class PersonUse(_Frozen):
    user_id: str
    features: list[Feature]


class RoleAdoption(_Frozen):
    role: Role
    # Everyone holding the role (for `other`: those who used epos in the window).
    people: int
    # Who used epos in the window, and how.
    used: list[PersonUse]
    # Who holds the role and has never used epos, up to the end of the window.
    not_yet: list[str]

    def feature_counts(self) -> dict[Feature, int]:
        """How many of the role's people used each feature, for the features anyone used, most used first."""
        counts: dict[Feature, int] = {}
        for person in self.used:
            for feature in person.features:
                counts[feature] = counts.get(feature, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (-item[1], list(Feature).index(item[0]))))


class Adoption(_Frozen):
    since: datetime
    until: datetime
    roles: list[RoleAdoption]
    # Names epos already knows (its people cache, the roster), for readers without a Slack client.
    names: dict[str, str]

    def role(self, role: Role) -> RoleAdoption:
        return next(r for r in self.roles if r.role is role)

    def shown_ids(self, limit: int = NAMES_SHOWN) -> set[str]:
        """Whom a summary names: in each role, the first `limit` who have not used epos, those with a known
        name first; so a digest looks up a few names in Slack, not everyone's."""
        def order(user_id: str) -> tuple[bool, str]:
            return user_id not in self.names, self.names.get(user_id, user_id).casefold()

        return {u for r in self.roles for u in sorted(r.not_yet, key=order)[:limit]}

    def as_json(self, name_of: Callable[[str], str]) -> dict[str, Any]:
        """What `epos adoption --json` prints (README › Adoption)."""
        def person(user_id: str) -> dict[str, str]:
            return {"user_id": user_id, "name": name_of(user_id)}

        def by_name(user_ids: list[str]) -> list[str]:
            return sorted(user_ids, key=lambda user_id: (name_of(user_id).casefold(), user_id))

        return {
            "window": {"since": self.since.isoformat(), "until": self.until.isoformat()},
            "roles": {
                r.role.value: {
                    "people": r.people,
                    "used": len(r.used),
                    "features": {f.value: n for f, n in r.feature_counts().items()},
                    "users": [{**person(p.user_id), "features": [f.value for f in p.features]}
                              for p in sorted(r.used, key=lambda p: (name_of(p.user_id).casefold(), p.user_id))],
                    "not_yet": [person(u) for u in by_name(r.not_yet)],
                }
                for r in self.roles
            },
        }


class Step(_Frozen):
    feature: Feature
    done: bool


class Checklist(_Frozen):
    role: Role
    steps: list[Step]
    # Shown in full although every step is done (the person pressed Show).
    expanded: bool = False

    @property
    def done(self) -> int:
        return sum(step.done for step in self.steps)

    @property
    def complete(self) -> bool:
        return self.done == len(self.steps)


class HomeAdoption(_Frozen):
    """The App Home's part: everyone's checklist, and the team's adoption for managers."""

    checklist: Checklist
    team: Adoption | None = None

"""Closed vocabularies of the domain. Stored as plain strings so both databases read them alike."""

from __future__ import annotations

from enum import StrEnum


class AssetType(StrEnum):
    demo = "demo"
    feature_walkthrough = "feature_walkthrough"
    proofshop = "proofshop"
    workshop = "workshop"

    @property
    def label(self) -> str:
        return ASSET_TYPE_LABELS[self]


ASSET_TYPE_LABELS = {
    AssetType.demo: "Demo",
    AssetType.feature_walkthrough: "Feature Walkthrough",
    AssetType.proofshop: "Proofshop",
    AssetType.workshop: "Marketing Workshop",
}


class Depth(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class Scope(StrEnum):
    broad = "broad"
    narrow = "narrow"


class Interactivity(StrEnum):
    hands_on = "hands-on"
    presentation = "presentation"


class Cycle(StrEnum):
    early = "early"
    mid = "mid"
    late = "late"


class AssetStatus(StrEnum):
    draft = "draft"
    published = "published"
    archived = "archived"


class Stage(StrEnum):
    """The EPOS guided path, in order; `closed` is terminal and carries an Outcome."""

    preparation = "preparation"
    discovery = "discovery"
    demo = "demo"
    poc = "poc"
    tech_qa = "tech_qa"
    sizing = "sizing"
    closed = "closed"

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]


STAGE_LABELS = {
    Stage.preparation: "Preparation",
    Stage.discovery: "Discovery",
    Stage.demo: "Demo",
    Stage.poc: "POC",
    Stage.tech_qa: "Technical Q&A",
    Stage.sizing: "Sizing",
    Stage.closed: "Closed",
}

OPEN_STAGES: tuple[Stage, ...] = tuple(s for s in Stage if s is not Stage.closed)


class Outcome(StrEnum):
    won = "won"
    lost = "lost"
    no_decision = "no_decision"


class RequestState(StrEnum):
    """Life of a DevRel request: asking one candidate at a time, then the lead channel, then an end state."""

    asking = "asking"
    in_channel = "in_channel"
    accepted = "accepted"
    cancelled = "cancelled"
    expired = "expired"


class RequestEventKind(StrEnum):
    requested = "requested"
    asked = "asked"
    accepted = "accepted"
    declined = "declined"
    escalated = "escalated"
    assigned = "assigned"
    cancelled = "cancelled"
    expired = "expired"
    reminded = "reminded"
    # An accepted meeting cancelled with its engagement, kept after all ("Keep the meeting").
    restored = "restored"
    # The assignee gave an accepted meeting back (with a reason); it is routed again.
    handed_back = "handed_back"
    # Their person can no longer come (taken off the roster, out of office that day); routed again.
    released = "released"

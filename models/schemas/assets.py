"""What the asset services take and return: the fields of an asset, cards, search pages, import reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from models.schemas.asset_outcomes import DealUse
from models.schemas.asset_values import (
    PARTNER_REFUSED,
    REVIEW_DAYS_MAX,
    SLACK_USER_ID,
    SUMMARY_MAX,
    TITLE_MAX,
    TYPICAL_PROFILE,
    AssetPart,
    CycleField,
    DepthField,
    InteractivityField,
    ScopeField,
    StatusField,
    TypeField,
    blank_is_none,
    check_url,
    clean_parts,
    clean_tags,
    split_parts,
    split_tags,
    yes_or_no,
)
from models.enums import AssetStatus, AssetType, Cycle, Depth, Interactivity, Scope

class AssetFields(BaseModel):
    """The taxonomy of one asset as a person or a file gives it. Empty axes take the type's usual value."""

    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=TITLE_MAX)
    type: TypeField
    summary: str = Field(default="", max_length=SUMMARY_MAX)
    url: str
    topics: Annotated[list[str], BeforeValidator(split_tags)] = Field(default_factory=list)
    products: Annotated[list[str], BeforeValidator(split_tags)] = Field(default_factory=list)
    depth: DepthField = None
    scope: ScopeField = None
    interactivity: InteractivityField = None
    cycle: CycleField = None
    owner_id: str
    customer_facing: Annotated[bool, BeforeValidator(yes_or_no)] = False
    parts: list[AssetPart] = Field(default_factory=list)
    partner_id: str | None = None

    @field_validator("parts", mode="before")
    @classmethod
    def _parts(cls, value: Any) -> list[AssetPart]:
        return clean_parts(split_parts(value))

    @field_validator("partner_id", mode="before")
    @classmethod
    def _partner(cls, value: Any) -> str | None:
        if value is None or isinstance(value, str) and not value.strip():
            return None
        if not isinstance(value, str) or not SLACK_USER_ID.match(value.strip()):
            raise ValueError(f"{str(value)[:40]!r} is not a Slack user id like U0123ABCD")
        return value.strip()

    @field_validator("partner_id")
    @classmethod
    def _partner_only_for_workshops(cls, value: str | None, info: ValidationInfo) -> str | None:
        # `type` is validated first (fields validate in order); when it failed, its own error says so.
        asset_type = info.data.get("type")
        if value is not None and asset_type is not None and asset_type != AssetType.workshop:
            raise ValueError(PARTNER_REFUSED)
        return value
    # Who confirms it is still true (None: the owner) and how often, in days (None: the type's default).
    verifier_id: Annotated[str | None, BeforeValidator(blank_is_none)] = None
    review_every_days: Annotated[int | None, BeforeValidator(blank_is_none)] = Field(default=None, ge=1,
                                                                                     le=REVIEW_DAYS_MAX)

    @field_validator("title")
    @classmethod
    def _one_line_title(cls, value: str) -> str:
        return " ".join(value.split())

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)

    @field_validator("topics")
    @classmethod
    def _topics(cls, value: list[Any]) -> list[str]:
        return clean_tags(value, "topics")

    @field_validator("products")
    @classmethod
    def _products(cls, value: list[Any]) -> list[str]:
        return clean_tags(value, "products")

    @field_validator("owner_id")
    @classmethod
    def _owner(cls, value: str) -> str:
        if not SLACK_USER_ID.match(value):
            raise ValueError(f"{value!r} is not a Slack user id like U0123ABCD")
        return value

    @field_validator("verifier_id")
    @classmethod
    def _verifier(cls, value: str | None) -> str | None:
        if value is not None and not SLACK_USER_ID.match(value):
            raise ValueError(f"{value!r} is not a Slack user id like U0123ABCD")
        return value

    def with_defaults(self) -> AssetFields:
        """Every axis filled in: what the person chose, else what the type usually is."""
        depth, scope, interactivity, cycle = TYPICAL_PROFILE[self.type]
        return self.model_copy(
            update={
                "depth": self.depth or depth,
                "scope": self.scope or scope,
                "interactivity": self.interactivity or interactivity,
                "cycle": self.cycle or cycle,
            }
        )


class AssetRecord(AssetFields):
    """One row of an import file: the fields, `owner` and `verifier` for their ids, an optional status, and
    when the asset was last verified (kept when the file says nothing)."""

    owner_id: str = Field(alias="owner")
    partner_id: str | None = Field(default=None, alias="partner")
    verifier_id: Annotated[str | None, BeforeValidator(blank_is_none)] = Field(default=None, alias="verifier")
    status: StatusField = AssetStatus.published
    verified_at: Annotated[datetime | None, BeforeValidator(blank_is_none)] = None

    @field_validator("verified_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    model_config = ConfigDict(str_strip_whitespace=True, populate_by_name=True, extra="forbid")

    @field_validator("status", mode="before")
    @classmethod
    def _default_status(cls, value: Any) -> Any:
        return AssetStatus.published if value is None or value == "" else value


class AssetCard(BaseModel, frozen=True):
    """One asset as people see it, whoever is looking."""

    id: int
    title: str
    type: AssetType
    summary: str
    url: str
    topics: list[str]
    products: list[str]
    depth: Depth
    scope: Scope
    interactivity: Interactivity
    cycle: Cycle
    owner_id: str
    status: AssetStatus
    customer_facing: bool = False
    parts: list[AssetPart] = Field(default_factory=list)
    partner_id: str | None = None
    created_at: datetime
    updated_at: datetime
    share_count: int
    useful_count: int
    not_useful_count: int
    # Review: who confirms it is still true (the owner unless someone else is named), when it was last
    # confirmed and by whom (None: nobody yet, it counts from when it was added), and when it falls due.
    verifier_id: str = ""
    review_every_days: int | None = None
    verified_at: datetime | None = None
    verified_by: str | None = None
    review_due_at: datetime | None = None

    @property
    def verifier(self) -> str:
        return self.verifier_id or self.owner_id

    def overdue_at(self, moment: datetime) -> bool:
        return self.review_due_at is not None and self.review_due_at <= moment


class AssetRights(BaseModel, frozen=True):
    """What the person looking may do with an asset; the server checks again when they do it."""

    edit: bool = False
    publish: bool = False
    archive: bool = False
    restore: bool = False


class ViewedAsset(BaseModel, frozen=True):
    card: AssetCard
    rights: AssetRights = AssetRights()
    score: float | None = None
    # The closed engagements the asset was used in, on search results (bot/services/asset_outcomes.py).
    deals: DealUse | None = None
    # Its review was due when it was looked at; None: not judged yet (the card judges it when shown).
    overdue: bool | None = None


class SearchPage(BaseModel, frozen=True):
    query: str
    asset_type: AssetType | None
    terms: list[str]
    items: list[ViewedAsset]
    total: int
    offset: int
    limit: int
    suggestions: list[str]
    # The topic words as typed, without type words and filler.
    words: list[str] = Field(default_factory=list)
    # [typed, read as] for each word found only through a typo.
    corrections: list[list[str]] = Field(default_factory=list)
    # When no asset matched every word: the words the best answer matched, and those it did not.
    matched: list[str] = Field(default_factory=list)
    unmatched: list[str] = Field(default_factory=list)

    @property
    def understood(self) -> bool:
        """False when the query names neither a type nor a topic ("/asset the")."""
        return bool(self.terms) or self.asset_type is not None

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.total

    @property
    def has_previous(self) -> bool:
        return self.offset > 0


class AssetList(BaseModel, frozen=True):
    """A list that is not a search: drafts awaiting review, or someone's own assets."""

    kind: str
    items: list[ViewedAsset]
    total: int


class SaveResult(BaseModel, frozen=True):
    card: AssetCard
    created: bool
    changed: list[str] = Field(default_factory=list)
    # A draft an admin must publish: a new asset from someone else, or a published one whose link changed.
    needs_review: bool = False
    previous_url: str | None = None


class CurationResult(BaseModel, frozen=True):
    card: AssetCard
    action: str
    previous_status: AssetStatus


class VoteResult(BaseModel, frozen=True):
    card: AssetCard
    useful: bool
    changed: bool
    previous: bool | None


class ImportReport(BaseModel, frozen=True):
    added: int
    updated: int
    unchanged: int


FIELD_NAMES = ("title, type, summary, url, topics, products, depth, scope, interactivity, cycle, owner, status, "
               "customer_facing, parts, partner, verifier, review_every_days, verified_at")
_FIELD_LABELS = {"owner_id": "owner", "partner_id": "partner", "verifier_id": "verifier"}


def field_problems(error: Any) -> list[tuple[str | None, str]]:
    """(field, message) for each problem of a pydantic ValidationError, worded for people."""
    problems: list[tuple[str | None, str]] = []
    for item in error.errors():
        loc = item.get("loc") or ()
        field = _FIELD_LABELS.get(str(loc[0]), str(loc[0])) if loc else None
        kind, ctx = item.get("type", ""), item.get("ctx") or {}
        if kind == "missing" or (kind in ("enum", "string_type") and item.get("input") is None):
            message = "is required"
        elif kind == "string_too_short":
            message = "must not be empty"
        elif kind == "string_too_long":
            message = f"is longer than {ctx.get('max_length')} characters"
        elif kind == "extra_forbidden":
            message = f"is not a field we know; the fields are {FIELD_NAMES}"
        elif kind == "value_error":
            message = str(item.get("msg", "")).removeprefix("Value error, ")
        elif kind == "list_type":
            message = "must be a list"
        elif kind in ("int_parsing", "int_type", "int_from_float", "greater_than_equal", "less_than_equal"):
            message = f"must be a whole number of days from 1 to {REVIEW_DAYS_MAX}"
        else:
            message = str(item.get("msg", "is not valid"))
        problems.append((field, message))
    return problems


class AssetButton(BaseModel, frozen=True):
    """The value of a button on an asset card."""

    # At most a PostgreSQL integer: a larger (forged) id would fail in the database driver, not be "not found".
    asset_id: int = Field(gt=0, le=2**31 - 1)


class DueAsset(BaseModel, frozen=True):
    """A published asset whose review is due: what a verifier, an admin or `epos assets due` is shown."""

    id: int
    title: str
    url: str
    type: AssetType
    owner_id: str
    verifier_id: str
    due_at: datetime
    verified_at: datetime | None
    verified_by: str | None
    days_overdue: int


class VerifyResult(BaseModel, frozen=True):
    card: AssetCard
    previous_due_at: datetime

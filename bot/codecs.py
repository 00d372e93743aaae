"""What a button's value or a form's `private_metadata` carries, one typed codec per kind of reference.

Blocks write with `encode`, handlers read with `decode`; a value that is not one (mangled, forged, or
from a message older than the format) raises `InvalidInput` with the kind's stale-button message, which
the error handler shows the person. The formats are the ones already posted in Slack: a message keeps
its buttons for as long as it stays in a channel, so a format changes only with a `decode` that still
reads the old one.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import InvalidInput
from models.enums import Outcome, Stage

# Row ids are PostgreSQL integers: a larger number on a button was mangled or forged, and would make the
# database driver fail rather than find nothing.
LARGEST_ID = 2**31 - 1
# Listing pages: a number longer than this is not a real page.
PAGE_DIGITS = 6
# A stage or close choice carries the note typed with the command, cut to fit the button's value.
NOTE_IN_VALUE = 1500
# A result list's paging carries the query, cut to fit the button's value.
QUERY_IN_VALUE = 1500

ENGAGEMENT_STALE = "That button is out of date. Open the engagement again with `/engagement ACCOUNT`."
ENGAGEMENT_FORM_GONE = "This engagement no longer exists. Close the form; `/engagement list` shows yours."
DEVREL_STALE = "That button is out of date. Look for the newest message about this request, or run `/devrel` again."
ASSET_STALE = "That button is out of date. Search again with `/asset`."
CHECKLIST_STALE = "That checklist is out of date. Open the engagement again with `/engagement ACCOUNT`."
NUDGE_STALE = "That button carried no engagement; open the engagement with `/engagement list`."


def number(text: str, *, digits: int = 10, largest: int = LARGEST_ID) -> int | None:
    """Plain ASCII digits (`str.isdigit` also takes the likes of `²`, which `int` refuses), no larger than
    `largest`; None for anything else."""
    if text.isascii() and text.isdigit() and len(text) <= digits and int(text) <= largest:
        return int(text)
    return None


class Codec(BaseModel):
    """JSON with short keys (`Field(alias=...)`), compact, without the fields that are None."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)
    STALE: ClassVar[str] = ENGAGEMENT_STALE

    def encode(self) -> str:
        return json.dumps(self.model_dump(by_alias=True, exclude_none=True, mode="json"), separators=(",", ":"))

    @classmethod
    def decode(cls, value: str | None) -> Self:
        try:
            decoded = cls.model_validate(json.loads(value or ""))
        except (ValueError, ValidationError, TypeError):
            raise InvalidInput(cls.STALE) from None
        if not decoded.names_a_row():
            raise InvalidInput(cls.STALE)
        return decoded

    def names_a_row(self) -> bool:
        """Whether what was read can name a row (ids start at 1; blocks may draw a choice for any id)."""
        return True

    @classmethod
    def decode_or(cls, value: str | None, default: Self) -> Self:
        """For paging, where a mangled value starts over rather than fails."""
        try:
            return cls.decode(value)
        except InvalidInput:
            return default


class IdButton(Codec):
    """A button whose value is one row id (`42`); a value with a `:suffix` is read by its head."""

    id: int = Field(gt=0, le=LARGEST_ID)

    def encode(self) -> str:
        return str(self.id)

    @classmethod
    def decode(cls, value: str | None) -> Self:
        found = number(str(value or "").split(":", 1)[0])
        if found is None or found == 0:
            raise InvalidInput(cls.STALE)
        return cls(id=found)


# ----- engagements -------------------------------------------------------------------------------------------
class EngagementButton(IdButton):
    """Change stage, Close, Add note, Reopen, Open, Deal channel: on the card, a nudge DM, the App Home."""


class ChangeButton(IdButton):
    """Undo: the stage change it takes back."""


class SurveyButton(IdButton):
    """An ESAT score or the comment form's opener: the survey."""


class EngagementChoice(Codec):
    """A did-you-mean or picker choice for one engagement, with the note typed; the kind adds what it
    does (a stage, an outcome)."""

    engagement_id: int = Field(alias="e", ge=0, le=LARGEST_ID)
    note: str = Field(alias="n", default="")

    def encode(self) -> str:
        # The note goes last, cut to fit the button's value, as these values always have been written.
        fields = self.model_dump(by_alias=True, mode="json", exclude={"note"})
        return json.dumps({**fields, "n": self.note[:NOTE_IN_VALUE]}, separators=(",", ":"))

    def names_a_row(self) -> bool:
        return self.engagement_id > 0


class StageChoice(EngagementChoice):
    """Move this engagement to this stage."""

    stage: Stage = Field(alias="s")


class CloseChoice(EngagementChoice):
    """Close this engagement with this outcome."""

    outcome: Outcome = Field(alias="o")


class ListPage(Codec):
    """A page of `/engagement list`."""

    scope: Literal["mine", "all"] = "mine"
    page: int = Field(default=0, ge=0)

    @classmethod
    def decode(cls, value: str | None) -> Self:
        data = _fields(value)
        page = number(str(data.get("page", "")))
        return cls(scope="all" if data.get("scope") == "all" else "mine", page=page or 0)


class EngagementForm(Codec):
    """A form about one engagement (stage, close, note, deal channel, the card in a modal), or a new one
    (no engagement): the timezone its days were shown in, and where to answer once it is submitted."""

    STALE: ClassVar[str] = ENGAGEMENT_FORM_GONE
    engagement_id: int | None = Field(alias="e", default=None, gt=0, le=LARGEST_ID)
    timezone: str | None = Field(alias="tz", default=None)
    response_url: str | None = Field(alias="r", default=None)

    @classmethod
    def decode(cls, value: str | None) -> Self:
        # Only the id decides whether the form still stands; a mangled rest falls back to defaults.
        data = _fields(value)
        found = data.get("e")
        engagement_id = found if type(found) is int and 0 < found <= LARGEST_ID else None
        return cls(engagement_id=engagement_id, timezone=_text(data.get("tz")), response_url=_text(data.get("r")))

    def engagement(self) -> int:
        """The engagement a change form is about; the form-gone error when it carries none."""
        if self.engagement_id is None:
            raise InvalidInput(self.STALE)
        return self.engagement_id


CHECKLIST_CHUNK = 10  # Slack's most options in one checkboxes element


def fingerprint(item_ids: list[str]) -> str:
    """A short name for the items one checkboxes element holds, so a click on an older card is caught."""
    return hashlib.sha256("\n".join(item_ids).encode("utf-8")).hexdigest()[:8]


class ChecklistBlock(Codec):
    """One checkboxes element of the card's checklist: the engagement and stage, which ten items of which
    group it holds (`fingerprint` of their ids, so a playbook changed since is caught), and which of them
    were ticked when it was drawn (a bit each), so a click changes only the item clicked."""

    STALE: ClassVar[str] = CHECKLIST_STALE
    engagement_id: int = Field(alias="e", gt=0, le=LARGEST_ID, strict=True)
    stage: Stage = Field(alias="s")
    group: Literal["prerequisites", "calls_to_action", "deliverables"] = Field(alias="g")
    chunk: int = Field(alias="c", ge=0, le=10, strict=True)
    fingerprint: str = Field(alias="f", max_length=16)
    ticked: int = Field(alias="t", ge=0, lt=2**10, strict=True)


class DeliverableForm(Codec):
    """The link form of a deliverable: which one, and the card to redraw once it is saved."""

    STALE: ClassVar[str] = ENGAGEMENT_FORM_GONE
    engagement_id: int = Field(alias="e", gt=0, le=LARGEST_ID, strict=True)
    stage: Stage = Field(alias="s")
    item_id: str = Field(alias="i", min_length=1, max_length=40)
    response_url: str | None = Field(alias="r", default=None)


class SurveyForm(Codec):
    """The ESAT comment form: its survey, and where to answer."""

    survey_id: int = Field(alias="s", gt=0, le=LARGEST_ID, strict=True)
    response_url: str | None = Field(alias="r", default=None)


def _fields(value: str | None) -> dict[str, Any]:
    """The JSON object a value carries; empty for a mangled one, so the form falls back to its defaults."""
    try:
        data = json.loads(value or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# ----- DevRel ------------------------------------------------------------------------------------------------
class RequestButton(Codec):
    """Accept, Decline, Take: `request:version`, so a click on an older message is told what changed.
    Cancel (on the card and the App Home) carries the request alone."""

    STALE: ClassVar[str] = DEVREL_STALE
    request_id: int = Field(gt=0, le=LARGEST_ID)
    version: int | None = Field(default=None, ge=0, le=LARGEST_ID)

    def encode(self) -> str:
        return str(self.request_id) if self.version is None else f"{self.request_id}:{self.version}"

    @classmethod
    def decode(cls, value: str | None) -> Self:
        head, _, tail = str(value or "").partition(":")
        try:
            return cls(request_id=int(head), version=int(tail) if tail else None)
        except (ValueError, ValidationError):
            raise InvalidInput(cls.STALE) from None


class RequestForm(Codec):
    """The request form: the timezone its date and time are read in (None until Slack told it)."""

    STALE: ClassVar[str] = DEVREL_STALE
    timezone: str | None = Field(alias="tz", default=None)

    def encode(self) -> str:
        # Written even when None, as the form always has been.
        return json.dumps({"tz": self.timezone}, separators=(",", ":"))

    @classmethod
    def decode(cls, value: str | None) -> Self:
        return cls(timezone=_text(_fields(value).get("tz")))


class DeclineForm(Codec):
    """The decline and hand-back forms: the request and the version that was declined or handed back."""

    STALE: ClassVar[str] = DEVREL_STALE
    request_id: int = Field(gt=0, le=LARGEST_ID)
    version: int = Field(ge=0, le=LARGEST_ID)


class RosterForm(Codec):
    """The roster form: adding someone, or editing whom; and the roster list to redraw after."""

    STALE: ClassVar[str] = DEVREL_STALE
    mode: Literal["add", "edit"] = "add"
    slack_id: str | None = None
    response_url: str | None = None

    def encode(self) -> str:
        data: dict[str, Any] = {"mode": self.mode}
        if self.mode == "edit":
            data["slack_id"] = self.slack_id
        data["response_url"] = self.response_url
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, value: str | None) -> Self:
        data = _fields(value)
        mode = "edit" if data.get("mode") == "edit" else "add"
        return cls(mode=mode, slack_id=_text(data.get("slack_id")), response_url=_text(data.get("response_url")))


# ----- assets, the App Home, nudges --------------------------------------------------------------------------
class AssetButton(IdButton):
    """Share, Useful, Edit, Publish, Archive, Restore on an asset card."""

    STALE: ClassVar[str] = ASSET_STALE


class AssetPage(Codec):
    """Previous and Next on a result list: the query and where the page starts."""

    STALE: ClassVar[str] = ASSET_STALE
    query: str = Field(alias="q", default="")
    offset: int = Field(alias="o", default=0)

    def encode(self) -> str:
        return json.dumps({"q": self.query[:QUERY_IN_VALUE], "o": self.offset}, separators=(",", ":"))

    @classmethod
    def decode(cls, value: str | None) -> Self:
        # A mangled value starts over at the first page.
        try:
            data = json.loads(value or "")
            return cls(query=str(data["q"]), offset=max(0, int(data["o"])))
        except (ValueError, KeyError, TypeError):
            return cls()


class AssetForm(Codec):
    """The edit form: which asset (the add form carries nothing)."""

    STALE: ClassVar[str] = ASSET_STALE
    asset_id: int | None = Field(default=None, gt=0, le=LARGEST_ID)

    def encode(self) -> str:
        return json.dumps({"asset_id": self.asset_id}) if self.asset_id is not None else ""

    @classmethod
    def decode(cls, value: str | None) -> Self:
        try:
            found = json.loads(value or "{}").get("asset_id")
            return cls(asset_id=int(found) if found is not None else None)
        except (ValueError, AttributeError, TypeError):
            return cls()


class HomePage(Codec):
    """Previous, Next and Refresh on the App Home: the page of my engagements."""

    page: int = 0

    def encode(self) -> str:
        return str(self.page)

    @classmethod
    def decode(cls, value: str | None) -> Self:
        # A page number too long to be real (a mangled value) starts over at the first page.
        return cls(page=number(str(value or "0"), digits=PAGE_DIGITS, largest=10**PAGE_DIGITS) or 0)


class NudgeButton(IdButton):
    """Snooze and its Undo on a nudge DM: the engagement."""

    STALE: ClassVar[str] = NUDGE_STALE

    @classmethod
    def decode(cls, value: str | None) -> Self:
        try:
            return cls(id=int(str(value or "")))
        except (ValueError, ValidationError):
            raise InvalidInput(cls.STALE) from None

"""An engagement as a bulk import reads it and an export writes it: its record, history and report."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.enums import Outcome, Stage


class ImportReport(BaseModel, frozen=True):
    imported: int
    skipped: int  # already there (a count: a file of 100k rows would otherwise carry 100k names)


# ----- bulk import / export --------------------------------------------------------------------------
_SLACK_USER = r"^[UW][A-Z0-9]{2,31}$"
_SLACK_CHANNEL = r"^[CG][A-Z0-9]{2,31}$"
_OUTCOME_WORDS = {"won": "won", "win": "won", "lost": "lost", "loss": "lost", "no_decision": "no_decision",
                  "no-decision": "no_decision", "nodecision": "no_decision", "no decision": "no_decision"}


def _aware(value: object) -> object:
    """Dates become midnight UTC and times without an offset are read as UTC, as CRM exports often are."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            try:
                return _aware(date.fromisoformat(text))
            except ValueError:
                pass
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{text!r} is not a date-time like 2026-08-03T09:15:00Z") from None
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class HistoryEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: Stage
    at: datetime

    @field_validator("stage", mode="before")
    @classmethod
    def _stage_word(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower().replace(" ", "_").replace("-", "_")
            if value == "closed":
                raise ValueError("history holds open stages only; give closed_at and outcome instead")
        return value

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, value: object) -> object:
        return _aware(value)


class EngagementRecord(BaseModel):
    """One engagement of an import file, checked field by field and as a whole."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    account: str = Field(min_length=1, max_length=200)
    opportunity: str = Field(min_length=1, max_length=200)
    owner: str = Field(pattern=_SLACK_USER)
    seller: str = Field(pattern=_SLACK_USER)
    focus: str = Field(min_length=1, max_length=100)
    business_challenge: str = Field(default="", max_length=3000)
    technical_needs: str = Field(default="", max_length=3000)
    channel: str | None = Field(default=None, pattern=_SLACK_CHANNEL)
    opened_at: datetime
    history: list[HistoryEntry] = Field(min_length=1)
    closed_at: datetime | None = None
    outcome: Outcome | None = None

    @field_validator("opened_at", "closed_at", mode="before")
    @classmethod
    def _times(cls, value: object) -> object:
        return None if value in (None, "") else _aware(value)

    @field_validator("channel", "outcome", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("outcome", mode="before")
    @classmethod
    def _outcome_word(cls, value: object) -> object:
        if isinstance(value, str):
            word = " ".join(value.strip().lower().split())
            if word not in _OUTCOME_WORDS:
                raise ValueError("use won, lost or no_decision")
            return _OUTCOME_WORDS[word]
        return value


def record_problems(record: EngagementRecord, now: datetime) -> list[tuple[str, str]]:
    """(field, message) for what is wrong with a record as a whole: order and dates of its history."""
    problems: list[tuple[str, str]] = []
    first = record.history[0]
    if first.at != record.opened_at:
        problems.append(("history.1.at", "the first entry is the starting stage, so its `at` must equal opened_at"))
    previous = first
    for number, entry in enumerate(record.history[1:], start=2):
        if entry.at < previous.at:
            problems.append((f"history.{number}.at", f"is before entry {number - 1}; list the history in order"))
        if entry.stage == previous.stage:
            problems.append((f"history.{number}.stage", f"repeats {entry.stage.value}; remove the repeat"))
        previous = entry
    if record.opened_at > now:
        problems.append(("opened_at", "is in the future"))
    elif record.history[-1].at > now:
        problems.append((f"history.{len(record.history)}.at", "is in the future"))
    if (record.closed_at is None) != (record.outcome is None):
        missing = "outcome" if record.outcome is None else "closed_at"
        problems.append((missing, "closed_at and outcome go together: give both for a closed engagement, neither for an open one"))
    if record.closed_at is not None:
        if record.closed_at < record.history[-1].at:
            problems.append(("closed_at", "is before the last history entry"))
        if record.closed_at > now:
            problems.append(("closed_at", "is in the future"))
    return problems

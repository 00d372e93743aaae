"""Settings from the environment and `.env`. Every variable is documented in README › Settings."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.clock import zone_named
from bot.errors import ConfigError
from models.enums import AssetType

README_SETTINGS = "README › Settings"
SLACK_WEB_API = "https://slack.com/api/"
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
SLACK_USER_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_TIME_OF_DAY = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

UserIds = Annotated[list[str], NoDecode]
Domains = Annotated[list[str], NoDecode]
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _listed(value: object) -> object:
    """A setting written as a list, its items apart by commas or semicolons; anything else as it is."""
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


def parse_time_of_day(text: str) -> time:
    """`09:00`, `9:30` or `17:05` (24-hour clock)."""
    match = _TIME_OF_DAY.match(text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"{text!r} is not a time of day like 09:00")
    return time(int(match.group(1)), int(match.group(2)))


def parse_weekly_slot(text: str) -> tuple[int, time]:
    """`mon 09:00` (weekday name or its first three letters, then a time) as (0 for Monday, time)."""
    parts = text.strip().lower().split()
    day = parts[0][:3] if parts else ""
    if len(parts) != 2 or day not in WEEKDAYS or not WEEKDAY_NAMES[WEEKDAYS.index(day)].startswith(parts[0]):
        raise ValueError(f"{text!r} is not a weekday and time like mon 09:00")
    try:
        return WEEKDAYS.index(day), parse_time_of_day(parts[1])
    except ValueError:
        raise ValueError(f"{text!r} is not a weekday and time like mon 09:00") from None


def parse_duration(text: str) -> timedelta:
    """`90m`, `2h`, `1d` or plain seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 90m, 2h or 1d")
    amount, unit = match.groups()
    return timedelta(seconds=int(amount) * _DURATION_UNITS[unit])


class Settings(BaseSettings):
    # An empty line in .env (as .env.example has) means "not set", not an empty token or channel.
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True)

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = SLACK_WEB_API
    # The installation's workspace and app; requests for any other are refused.
    # Left empty, the team comes from `auth.test` and the app id is not checked.
    slack_team_id: str | None = None
    slack_app_id: str | None = None

    database_url: str = "sqlite:///epos.db"
    # Every wait on the database is bounded, so a database that hangs costs a person a clear message
    # within Slack's 3 seconds instead of a request stuck for minutes.
    database_connect_timeout: int = Field(default=2, ge=2, le=300)
    database_statement_timeout: float = Field(default=5.0, gt=0, le=3600)
    database_lock_timeout: float = Field(default=2.0, gt=0, le=3600)
    database_pool_timeout: float = Field(default=1.0, gt=0, le=300)
    database_keepalive_idle: int = Field(default=30, ge=1, le=7200)

    epos_admins: UserIds = Field(default_factory=list)
    epos_managers: UserIds = Field(default_factory=list)
    # Who else may read engagements: Slack user ids, and user groups (S…) whose members may.
    epos_readers: UserIds = Field(default_factory=list)
    epos_timezone: str = "UTC"
    epos_playbooks: Path | None = None
    # The challenge map (bot/data/challenges.yaml is the default): business challenges to technical needs.
    epos_challenges: Path | None = None
    # Rollout: while a pilot runs, epos answers only its members, the sellers on their deals, DevRel,
    # managers, admins and readers; everyone else is told epos is in a pilot and whom to ask. With no pilot
    # running it answers everyone (and warns: bot/services/pilots.py `open_gate`).
    epos_pilot_only: bool = False
    # The hosts of the catalogue's links that epos previews when pasted; the same list as
    # `features.unfurl_domains` in manifest.yml, which tells Slack to send them. The default is the host of
    # the example catalogue, as the shipped manifest has it.
    epos_unfurl_domains: Domains = Field(default_factory=lambda: ["assets.example.com"])

    digest_channel: str | None = None
    devrel_channel: str | None = None
    devrel_escalate_after: timedelta = timedelta(hours=2)
    nudge_cooldown_days: int = Field(default=3, ge=1, le=60)
    # The scheduler: weekly digest slot in EPOS_TIMEZONE, nudge time in each SE's own timezone.
    digest_schedule: str = "mon 09:00"
    nudge_time: str = "09:00"
    scheduler_in_bot: bool = True
    # How long `epos run` waits, once told to stop, for work it acknowledged; under the 30 s that
    # systemd, Docker and Kubernetes wait before they kill.
    stop_grace: timedelta = timedelta(seconds=25)

    # Asset reviews: how often an asset's verifier is asked whether it is still true (days; per type in
    # ASSET_REVIEW_DAYS_BY_TYPE as JSON, e.g. {"workshop": 180}), and how long overdue an asset may be
    # before the admins are asked whether to archive it.
    asset_review_days: int = Field(default=90, ge=1, le=3650)
    asset_review_days_by_type: dict[AssetType, int] = Field(default_factory=dict)
    asset_archive_after_days: int = Field(default=60, ge=1, le=3650)

    # The largest file `epos … import` reads; 100k catalogue rows take about 40 MB.
    import_max_mb: int = Field(default=100, ge=1, le=10_000)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    # `/metrics` on a port of its own for `epos run` and `epos scheduler` (`epos serve` has it on its own port).
    metrics_port: int | None = Field(default=None, ge=1, le=65535)

    @field_validator("epos_admins", "epos_managers", mode="before")
    @classmethod
    def _split_user_ids(cls, value: object) -> object:
        value = _listed(value)
        if isinstance(value, list):
            for user_id in value:
                if not SLACK_USER_ID.match(str(user_id)):
                    raise ValueError(f"{user_id!r} is not a Slack user id like U0123ABCD")
        return value

    @field_validator("epos_readers", mode="before")
    @classmethod
    def _split_readers(cls, value: object) -> object:
        value = _listed(value)
        if isinstance(value, list):
            for reader in value:
                if not (SLACK_USER_ID.match(str(reader)) or SLACK_USER_GROUP_ID.match(str(reader))):
                    raise ValueError(
                        f"{reader!r} is not a Slack user id like U0123ABCD nor a user group id like S0123ABCD"
                    )
        return value

    @field_validator("epos_unfurl_domains", mode="before")
    @classmethod
    def _split_domains(cls, value: object) -> object:
        value = _listed(value)
        if isinstance(value, list):
            value = [str(domain).strip().lower() for domain in value]
            for domain in value:
                if not _DOMAIN.match(domain):
                    raise ValueError(f"{domain!r} is not a domain like assets.example.com (no https://, no path)")
        return value

    @field_validator("epos_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if zone_named(value) is None:
            raise ValueError(f"{value[:60]!r} is not an IANA timezone like Europe/Berlin")
        return value

    @field_validator("devrel_escalate_after", "stop_grace", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("digest_schedule")
    @classmethod
    def _weekly_slot(cls, value: str) -> str:
        weekday, at = parse_weekly_slot(value)
        return f"{WEEKDAYS[weekday]} {at:%H:%M}"

    @field_validator("nudge_time")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        return f"{parse_time_of_day(value):%H:%M}"

    @field_validator("asset_review_days_by_type")
    @classmethod
    def _review_days(cls, value: dict[AssetType, int]) -> dict[AssetType, int]:
        for asset_type, days in value.items():
            if not 1 <= days <= 3650:
                raise ValueError(f"{asset_type.value}: {days} is not a number of days from 1 to 3650")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql")):
            raise ValueError("use sqlite:///FILE or postgresql+psycopg://USER@HOST/DB")
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            # psycopg 3 is the driver we ship; SQLAlchemy would otherwise look for psycopg2.
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.epos_timezone)

    @property
    def digest_slot(self) -> tuple[int, time]:
        """(ISO weekday - 1, local time) of the weekly digest: Monday 09:00 is (0, 09:00)."""
        return parse_weekly_slot(self.digest_schedule)

    @property
    def nudge_at(self) -> time:
        return parse_time_of_day(self.nudge_time)

    def review_days(self) -> dict[AssetType, int]:
        """How often each type of asset is reviewed, in days, unless the asset says otherwise."""
        return {t: self.asset_review_days_by_type.get(t, self.asset_review_days) for t in AssetType}

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.epos_admins

    def is_manager(self, user_id: str) -> bool:
        return user_id in self.epos_managers or user_id in self.epos_admins

    @property
    def reader_groups(self) -> list[str]:
        return [reader for reader in self.epos_readers if SLACK_USER_GROUP_ID.match(reader)]


def load_settings(**overrides: object) -> Settings:
    """Settings, or a ConfigError naming the variable at fault (never a pydantic traceback)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        # Every bad setting at once, a line each, so that an admin fixes them in one go.
        problems = []
        for error in exc.errors():
            variable = str(error["loc"][0]).upper() if error["loc"] else "settings"
            reason = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{variable}: {reason}")
        if len(problems) == 1:
            raise ConfigError(f"{problems[0]} (see {README_SETTINGS})") from None
        raise ConfigError("\n  ".join([f"{len(problems)} settings to fix (see {README_SETTINGS}):", *problems])) from None


def require(settings: Settings, *variables: str) -> None:
    """Fail with one clear line naming every setting a mode needs that is unset."""
    missing = [variable for variable in variables if not getattr(settings, variable.lower())]
    if len(missing) == 1:
        raise ConfigError(f"{missing[0]} is not set; it is needed for this command (see {README_SETTINGS})")
    if missing:
        names = f"{', '.join(missing[:-1])} and {missing[-1]}"
        raise ConfigError(f"{names} are not set; they are needed for this command (see {README_SETTINGS})")

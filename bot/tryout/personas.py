"""The people and channels of the sample workspace `epos try` runs in.

Their user ids are the ones the example catalogue, roster and engagements use, so `sam` owns
engagements, `lena` and `marcus` are on the DevRel roster, `maria` is a manager and `ada` an admin.
`gus` is a guest of the workspace (from a partner agency), whom epos does not serve.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SE, SELLER, DEVREL, MANAGER, ADMIN, GUEST = "SE", "seller", "DevRel", "manager", "admin", "guest"


@dataclass(frozen=True)
class Persona:
    key: str
    user_id: str
    name: str
    role: str
    timezone: str
    # The people the story is told with; the rest appear in the sample data and can be played too.
    featured: bool = False

    @property
    def label(self) -> str:
        return f"{self.key} ({self.role})"


PERSONAS: tuple[Persona, ...] = (
    Persona("sam", "U0A1B2C3D", "Sam Carter", SE, "Europe/Berlin", featured=True),
    Persona("sally", "U0S1A2B3C", "Sally Brooks", SELLER, "America/New_York", featured=True),
    Persona("lena", "U0DR1A2B3", "Lena Hoffmann", DEVREL, "Europe/Berlin", featured=True),
    Persona("marcus", "U0DR4C5D6", "Marcus Reed", DEVREL, "America/New_York", featured=True),
    Persona("maria", "U0MARIA01", "Maria Lopez", MANAGER, "Europe/Berlin", featured=True),
    Persona("ada", "U0ADA0001", "Ada Novak", ADMIN, "Europe/Berlin", featured=True),
    Persona("gus", "U0GUS0001", "Gus Weber", GUEST, "Europe/Berlin", featured=True),
    Persona("ben", "U0B2C3D4E", "Ben Okoro", SE, "Europe/London"),
    Persona("carla", "U0C3D4E5F", "Carla Rossi", SE, "Europe/Rome"),
    Persona("dana", "U0D4E5F6G", "Dana Kim", SE, "America/New_York"),
    Persona("erik", "U0E5F6G7H", "Erik Lund", SE, "Europe/Stockholm"),
    Persona("finn", "U0F6G7H8J", "Finn Walsh", SE, "Europe/Dublin"),
    Persona("gina", "U0G7H8J9K", "Gina Park", SE, "America/Chicago"),
    Persona("hugo", "U0H8J9K1L", "Hugo Silva", SE, "America/Sao_Paulo"),
    Persona("sofia", "U0S4D5E6F", "Sofia Marin", SELLER, "Europe/Madrid"),
    Persona("simon", "U0S7G8H9J", "Simon Ito", SELLER, "America/Los_Angeles"),
    Persona("skye", "U0SKL1M2N", "Skye Adams", SELLER, "Europe/London"),
    Persona("priya", "U0DR7E8F9", "Priya Natarajan", DEVREL, "America/Los_Angeles"),
    Persona("wei", "U0DRG1H2J", "Wei Jie Tan", DEVREL, "Asia/Singapore"),
    Persona("hannah", "U0DRK3L4M", "Hannah Okafor", DEVREL, "Europe/London"),
    Persona("diego", "U0DRN5P6Q", "Diego Alvarez", DEVREL, "America/Sao_Paulo"),
)

DEALS_CHANNEL = "C0DEALS01"
DIGEST_CHANNEL = "C0DIGEST1"
DEVREL_CHANNEL = "C0DEVREL1"
CHANNELS: dict[str, str] = {
    DEALS_CHANNEL: "deals",
    DIGEST_CHANNEL: "presales-digest",
    DEVREL_CHANNEL: "devrel-lead",
}

# Deal channels of the sample workspace shared with the customer's organisation (Slack Connect): epos
# keeps internal content out of them.
SHARED_DEAL_CHANNELS: dict[str, str] = {"C0E8P9O1L": "Polaris Telecom"}

_SLUG = re.compile(r"[^a-z0-9]+")


def managers() -> list[str]:
    return [p.user_id for p in PERSONAS if p.role == MANAGER]


def admins() -> list[str]:
    return [p.user_id for p in PERSONAS if p.role == ADMIN]


def deal_channels(engagements_file: Path) -> dict[str, str]:
    """Names for the deal channels the example engagements mention: `#deal-northbeam` for Northbeam Logistics."""
    if not engagements_file.is_file():
        return {}
    try:
        rows: Any = yaml.safe_load(engagements_file.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return {}
    names: dict[str, str] = {}
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("channel") and row.get("account"):
            first_word = _SLUG.sub("-", str(row["account"]).casefold()).strip("-").split("-")[0]
            names[str(row["channel"])] = f"deal-{first_word}"
    return names


class Directory:
    """Looks people and channels up by name, id or handle, in both directions."""

    def __init__(self, personas: tuple[Persona, ...] = PERSONAS, channels: dict[str, str] | None = None) -> None:
        self.personas = personas
        self.by_key = {p.key: p for p in personas}
        self.by_id = {p.user_id: p for p in personas}
        self.channels = dict(channels if channels is not None else CHANNELS)

    def persona(self, text: str) -> Persona | None:
        """By handle (`sam`), user id, or full or first name, case-insensitively."""
        wanted = text.strip().lstrip("@").casefold()
        if not wanted:
            return None
        for persona in self.personas:
            if wanted in (persona.key, persona.user_id.casefold(), persona.name.casefold()):
                return persona
        starts = [p for p in self.personas if p.name.casefold().startswith(wanted) or p.key.startswith(wanted)]
        return starts[0] if len(starts) == 1 else None

    def user_name(self, user_id: str) -> str | None:
        persona = self.by_id.get(user_id)
        return persona.key if persona else None

    def channel_name(self, channel_id: str) -> str | None:
        return self.channels.get(channel_id)

    def channel_id(self, text: str) -> str | None:
        wanted = text.strip().lstrip("#")
        if wanted in self.channels:
            return wanted
        for channel_id, name in self.channels.items():
            if name == wanted.casefold():
                return channel_id
        return None

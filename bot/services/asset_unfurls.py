"""Links to catalogue assets pasted in Slack: which asset each one is, what its preview (unfurl) shows,
and the domains epos unfurls, which must be the ones manifest.yml registers with Slack.

A pasted link to a published asset is previewed with its card; one to an archived asset says so and
offers the newest published asset of the same type and topic. Drafts, assets of an import not yet live
and links that are not in the catalogue are left alone: Slack then shows its own preview, or none.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import db
from bot.services import deliveries
from bot.services.asset_feedback import record_share
from bot.services.asset_index import VISIBLE, card_of
from models.assets import Asset
from models.enums import AssetStatus
from models.schemas.assets import AssetCard

# Slack sends at most a handful of links per message; more than this is not a message a person wrote.
MAX_LINKS = 10
MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"
# Topics are a JSON list, matched here rather than in SQL (which differs between SQLite and PostgreSQL): the
# newest this many of a type are looked through, so a huge catalogue costs a preview a bounded read.
REPLACEMENT_SCAN = 5000


class Unfurl(BaseModel, frozen=True):
    """What one pasted link is: a published asset, or an archived one and what replaces it (if anything)."""

    url: str
    card: AssetCard
    replacement: AssetCard | None = None

    @property
    def archived(self) -> bool:
        return self.card.status == AssetStatus.archived


def domain_of(url: str) -> str:
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""


def _variants(url: str) -> list[str]:
    """The spellings of one address a catalogue may hold: as pasted, and with or without a closing slash.
    Slack hands over a link as it was written, so `https://assets.example.com/demo/` finds `…/demo`."""
    url = url.strip()
    bare = url.rstrip("/")
    return list(dict.fromkeys([url, bare, bare + "/"]))


def lookup(urls: Iterable[str], domains: Iterable[str]) -> list[Unfurl]:
    """The pasted links (on one of `domains`) that name a published or archived asset, in the order given;
    the rest are left out."""
    allowed = {d.lower() for d in domains}
    wanted = [u for u in dict.fromkeys(urls) if u and domain_of(u) in allowed][:MAX_LINKS]
    if not wanted:
        return []
    spellings = {variant: url for url in wanted for variant in _variants(url)}
    with db.reading() as session:
        rows = session.scalars(select(Asset).where(Asset.url.in_(list(spellings)), VISIBLE,
                                                   Asset.status != AssetStatus.draft)).all()
        found: dict[str, AssetCard] = {}
        for row in rows:
            found.setdefault(spellings[row.url], card_of(row))
        unfurls = []
        for url in wanted:
            card = found.get(url)
            if card is None:
                continue
            replacement = _replacement(session, card) if card.status == AssetStatus.archived else None
            unfurls.append(Unfurl(url=url, card=card, replacement=replacement))
        return unfurls


def _replacement(session: Session, card: AssetCard) -> AssetCard | None:
    """The newest published asset of the same type sharing a topic with the archived one."""
    topics = {t.casefold() for t in card.topics}
    if not topics:
        return None
    rows = session.scalars(
        select(Asset).where(Asset.type == card.type, Asset.status == AssetStatus.published, Asset.id != card.id,
                            VISIBLE)
        .order_by(Asset.created_at.desc(), Asset.id.desc()).limit(REPLACEMENT_SCAN)).yield_per(200)
    for row in rows:
        if topics & {t.casefold() for t in row.topics or []}:
            return card_of(row)
    return None


# ----- the domains, here and in manifest.yml -----------------------------------------------------------
def manifest_domains(path: Path = MANIFEST) -> list[str] | None:
    """The unfurl domains manifest.yml registers, or None when there is no manifest beside the code (an
    installed package) to compare with."""
    try:
        manifest = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    features = manifest.get("features") if isinstance(manifest, dict) else None
    domains = (features or {}).get("unfurl_domains") or []
    return [str(d).strip().lower() for d in domains if str(d).strip()]


def domain_mismatch(setting: Iterable[str], path: Path = MANIFEST) -> tuple[list[str], list[str]] | None:
    """(domains only manifest.yml has, domains only the setting has), or None when they agree or there is
    no manifest to compare with."""
    registered = manifest_domains(path)
    if registered is None:
        return None
    mine = {d.lower() for d in setting}
    only_manifest = sorted(set(registered) - mine)
    only_setting = sorted(mine - set(registered))
    return (only_manifest, only_setting) if only_manifest or only_setting else None


def count_shares(unfurls: Iterable[Unfurl], user_id: str, channel_id: str, message_ts: str) -> list[int]:
    """Count each previewed published asset as a share by whoever pasted it, once per message: Slack may
    send the same link again under a new event id. A share in a deal channel is that engagement's. The
    ids of the assets counted now."""
    counted = []
    for unfurl in unfurls:
        if unfurl.archived:
            continue
        if deliveries.first_time(f"unfurl:{channel_id}:{message_ts}:{unfurl.card.id}"):
            record_share(unfurl.card.id, user_id, channel_id)
            counted.append(unfurl.card.id)
    return counted

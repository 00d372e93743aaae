"""The scratch database's sample data, loaded through each domain's own import service (the code
`epos assets import`, `epos roster import` and `epos engagements import` run), so what `epos try`
shows is what those commands would have stored."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from bot.config import Settings
from bot.errors import EposError
from bot.services.importing import ImportInvalid

log = logging.getLogger(__name__)

ASSETS_FILE = "assets.yaml"
ROSTER_FILE = "roster.yaml"
ENGAGEMENTS_FILE = "engagements.yaml"
PILOT_FILE = "pilot.yaml"
PRELOAD_ACTOR = "epos-try"


class PreloadError(EposError):
    """A sample file that its domain's importer refused; the message names the file and the problem."""


def _assets(path: Path, settings: Settings) -> int:
    from bot.services import assets

    try:
        records = assets.parse_catalogue(path.read_text(encoding="utf-8-sig"), "yaml")
    except ImportInvalid as invalid:
        raise PreloadError("; ".join(problem.line(str(path)) for problem in invalid.problems)) from None
    report = assets.import_records(records, actor_id=PRELOAD_ACTOR)
    return report.added + report.updated + report.unchanged


def _roster(path: Path, settings: Settings) -> int:
    from bot.services import roster

    try:
        entries = roster.read_roster_file(path)
    except ImportInvalid as invalid:
        raise PreloadError("; ".join(problem.line(str(path)) for problem in invalid.problems)) from None
    result = roster.import_roster(entries, actor_id=PRELOAD_ACTOR)
    return len(result.added) + len(result.updated) + len(result.unchanged)


def _engagements(path: Path, settings: Settings) -> int:
    from bot.services import engagements

    try:
        records = engagements.parse_import(path.read_text(encoding="utf-8-sig"), "yaml")
    except ImportInvalid as invalid:
        raise PreloadError("; ".join(problem.line(str(path)) for problem in invalid.problems)) from None
    report = engagements.import_records(records)
    return report.imported + report.skipped


def _pilot(path: Path, settings: Settings) -> int:
    from datetime import date

    import yaml

    from bot.services import pilots
    from bot.services.actors import Actor

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
        start = data.get("start")
        start = start if isinstance(start, date) else date.fromisoformat(str(start))
        pilots.create(Actor(user_id=PRELOAD_ACTOR, admin=True, manager=True), str(data.get("name") or ""), start,
                      [str(member) for member in data.get("members") or []])
    except (yaml.YAMLError, ValueError, AttributeError, EposError) as error:
        raise PreloadError(f"{path}: {error}; see the comments in examples/pilot.yaml") from None
    return 1


LOADERS: tuple[tuple[str, str, Callable[[Path, Settings], int]], ...] = (
    ("assets", ASSETS_FILE, _assets),
    ("DevRel people", ROSTER_FILE, _roster),
    ("engagements", ENGAGEMENTS_FILE, _engagements),
    ("pilot", PILOT_FILE, _pilot),
)


def preload(examples_dir: Path, settings: Settings) -> dict[str, int]:
    """Load each sample file that exists; returns how many of each were loaded."""
    loaded: dict[str, int] = {}
    for what, name, loader in LOADERS:
        path = examples_dir / name
        if not path.is_file():
            log.warning("epos try: %s not found, so no %s are loaded", path, what)
            continue
        loaded[what] = loader(path, settings)
    return loaded

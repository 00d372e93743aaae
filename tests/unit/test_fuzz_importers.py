"""`epos assets import`, `epos engagements import` and `epos roster import` fed anything: random text,
broken YAML and CSV, and the example files with hostile values and damage. A file is either refused as
a whole (typed error, every problem naming its item or line, nothing written) or imported; what was
imported then renders as Block Kit within Slack's limits that pings no one.
"""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings, strategies as st
from sqlalchemy import select

from bot import clock, db
from bot.blocks import assets as asset_blocks
from bot.blocks import devrel as devrel_blocks
from bot.blocks import engagements as engagement_blocks
from bot.errors import EposError
from bot.services import assets, engagements, roster
from bot.services.actors import Actor
from bot.services.importing import ImportInvalid
from models import Asset, DevRelPerson, Engagement
from tests.conftest import ADMIN
from tests.reliability_helpers import NASTY, check_message, hostile_text
from tests.unit.test_fuzz_forms import snapshot

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WHERE = re.compile(r"^(item \d+|line \d+|file|the file)\b")
FUZZ = hypothesis_settings(max_examples=40, deadline=None,
                           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                  HealthCheck.data_too_large])
VIEWER = Actor(user_id=ADMIN, admin=True, manager=True)


# ----- damaged files ---------------------------------------------------------------------------------
def _yaml_items(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    return data if isinstance(data, list) else data[next(iter(data))]


def _csv_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


# A NUL character cannot be stored by PostgreSQL; YAML writes it as "\0", so it survives into values.
damaged_text = st.sampled_from(["\x00", "title\x00", "a\x00b", "\ufffd", "\x1b[31m", "\ud7ff"])
hostile_value = st.one_of(hostile_text, st.sampled_from(NASTY), damaged_text, st.integers(-10**20, 10**20), st.floats(),
                          st.booleans(), st.none(), st.lists(st.sampled_from(NASTY), max_size=3),
                          st.dictionaries(st.sampled_from(["stage", "at", "x"]), st.sampled_from(NASTY), max_size=2))


@st.composite
def damaged_yaml(draw: st.DrawFn, name: str) -> str:
    items = _yaml_items(name)
    chosen = draw(st.lists(st.sampled_from(items), min_size=1, max_size=4))
    damaged = []
    for item in chosen:
        item = dict(item)
        for key in draw(st.lists(st.sampled_from(sorted(item)), max_size=3, unique=True)):
            if draw(st.booleans()):
                item[key] = draw(hostile_value)
            else:
                del item[key]
        damaged.append(item)
    return yaml.safe_dump(damaged, allow_unicode=draw(st.booleans()), sort_keys=False)


@st.composite
def one_bad_value_yaml(draw: st.DrawFn, name: str) -> str:
    """An example item with a single field given a hostile value: valid but for that one field."""
    item = dict(draw(st.sampled_from(_yaml_items(name))))
    item[draw(st.sampled_from(sorted(item)))] = draw(st.one_of(damaged_text, hostile_text, hostile_value))
    return yaml.safe_dump([item], allow_unicode=draw(st.booleans()), sort_keys=False)


@st.composite
def damaged_csv(draw: st.DrawFn, original: str) -> str:
    header, rows = _csv_rows(original)
    chosen = [dict(r) for r in draw(st.lists(st.sampled_from(rows), min_size=1, max_size=4))]
    for row in chosen:
        for key in draw(st.lists(st.sampled_from(header), max_size=1 if len(chosen) == 1 else 3, unique=True)):
            row[key] = draw(st.one_of(hostile_text, st.sampled_from(NASTY), damaged_text))
    if draw(st.integers(0, 4)) == 0:
        header = header + [draw(st.sampled_from(["extra", "<!channel>", "", "title"]))]
    elif draw(st.integers(0, 4)) == 0:
        header = header[:-1]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore", restval="")
    writer.writeheader()
    writer.writerows(chosen)
    return out.getvalue()


@st.composite
def cut_up(draw: st.DrawFn, text: st.SearchStrategy[str]) -> str:
    """Text damaged as files get damaged: cut short, bytes inserted, lines doubled or lost."""
    value = draw(text)
    for _ in range(draw(st.integers(0, 3))):
        position = draw(st.integers(0, len(value)))
        operation = draw(st.sampled_from(["cut", "insert", "double", "drop"]))
        if operation == "cut":
            value = value[:position]
        elif operation == "insert":
            value = value[:position] + draw(st.one_of(st.sampled_from(['"', "'", ":", "-", "\n", ",", "[", "{", "\x00",
                                                                        "\t", "&a", "*a", "!!python/object"]),
                                                      hostile_text)) + value[position:]
        else:
            lines = value.splitlines(keepends=True)
            if lines:
                index = draw(st.integers(0, len(lines) - 1))
                lines[index:index + 1] = [lines[index]] * (2 if operation == "double" else 0)
                value = "".join(lines)
    return value


def files(kind: str, original: str | None = None) -> st.SearchStrategy[str]:
    fmt = kind.rsplit(".", 1)[1]
    original = original if original is not None else (EXAMPLES / kind).read_text(encoding="utf-8")
    structured = st.one_of(damaged_yaml(kind), one_bad_value_yaml(kind)) if fmt == "yaml" else damaged_csv(original)
    return st.one_of(structured, cut_up(structured), hostile_text, cut_up(st.just(original)),
                     st.sampled_from(["", "\n", "---", "[]", "{}", "- a\n- b", "a,b,c\n1,2", "\ufeff", "x: [1, 2",
                                      "&a [*a, *a]", "!!python/object/apply:os.system ['true']", '"\\0"']))


# ----- running an import as the CLI does ---------------------------------------------------------------
def import_assets(text: str, fmt: str) -> None:
    try:
        assets.import_records(assets.parse_catalogue(text, fmt), actor_id="cli")  # type: ignore[arg-type]
    except ImportInvalid as invalid:
        assert invalid.problems and all(WHERE.match(p.where) for p in invalid.problems), invalid.problems
        raise


def import_engagements(text: str, fmt: str) -> None:
    try:
        engagements.import_records(engagements.parse_import(text, fmt))  # type: ignore[arg-type]
    except ImportInvalid as invalid:
        assert invalid.problems and all(WHERE.match(p.where) for p in invalid.problems), invalid.problems
        raise


def import_roster(text: str, fmt: str, path: Path) -> None:
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        entries = roster.read_roster_file(path)
    except ImportInvalid as invalid:
        # A problem of the file as a whole (unreadable, empty) names no item or line.
        assert invalid.problems and all(WHERE.match(p.where) or not p.where for p in invalid.problems), invalid.problems
        raise
    roster.import_roster(entries)


def rendered_everything() -> None:
    """Whatever was imported, shown in Slack: asset cards, engagement cards, the roster."""
    with db.reading() as session:
        asset_ids = list(session.scalars(select(Asset.id)))
        engagement_ids = list(session.scalars(select(Engagement.id)))
        people = list(session.scalars(select(DevRelPerson.slack_id)))
    for asset_id in asset_ids:
        check_message(asset_blocks.card_message(assets.get(asset_id, VIEWER)), "asset card")
    for engagement_id in engagement_ids:
        check_message(engagement_blocks.card_message(engagements.card(engagement_id, viewer=VIEWER)), "engagement card")
    if people:
        check_message(devrel_blocks.roster_message(roster.list_roster(), admin=True, today=clock.now().date()), "roster")


def attempt(run: Callable[[], None]) -> None:
    before = snapshot()
    try:
        run()
    except EposError:
        assert snapshot() == before, "a refused file wrote to the database"
        return
    rendered_everything()


@pytest.mark.parametrize("kind", ["assets.yaml", "assets.csv"])
@given(data=st.data())
@FUZZ
def test_any_asset_file(database_url: str, kind: str, data: st.DataObject) -> None:
    text = data.draw(files(kind))
    attempt(lambda: import_assets(text, kind.rsplit(".", 1)[1]))


@pytest.mark.parametrize("kind", ["engagements.yaml"])
@given(data=st.data())
@FUZZ
def test_any_engagement_file(database_url: str, kind: str, data: st.DataObject) -> None:
    text = data.draw(files(kind))
    attempt(lambda: import_engagements(text, "yaml"))


@given(data=st.data())
@FUZZ
def test_any_engagement_csv(database_url: str, data: st.DataObject) -> None:
    # The CSV form of the examples, as `epos engagements export --format csv` writes it.
    global EXPORTED_CSV
    if EXPORTED_CSV is None:
        engagements.import_records(engagements.parse_import((EXAMPLES / "engagements.yaml").read_text(), "yaml"))
        EXPORTED_CSV = engagements.render_export(engagements.export_records(), "csv")
    text = data.draw(files("engagements.csv", EXPORTED_CSV))
    attempt(lambda: import_engagements(text, "csv"))


EXPORTED_CSV: str | None = None


@pytest.mark.parametrize("kind", ["roster.yaml", "roster.csv"])
@given(data=st.data())
@FUZZ
def test_any_roster_file(database_url: str, tmp_path: Path, kind: str, data: st.DataObject) -> None:
    text = data.draw(files(kind))
    path = tmp_path / f"roster.{kind.rsplit('.', 1)[1]}"
    attempt(lambda: import_roster(text, kind.rsplit(".", 1)[1], path))


# ----- one value spelled as YAML allows but Python may not hold, in any field ----------------------------
RAW_SLOT = "RAW-VALUE-SLOT"
raw_yaml_value = st.one_of(
    st.builds(lambda digit, count: digit * count, st.sampled_from("19"), st.integers(1, 6000)),
    st.sampled_from([".inf", "-.inf", ".nan", "1.0e+400", "-1.0e+400", "0x" + "f" * 5000, "1_000", "1:30:00"]),
    st.builds("{:04d}-{:02d}-{:02d}".format, st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99)),
    st.builds("{:04d}-{:02d}-{:02d} {:02d}:00:00 +{:02d}:00".format, st.integers(0, 9999), st.integers(1, 12),
              st.integers(1, 31), st.integers(0, 99), st.integers(0, 99)),
    st.binary(max_size=6).map(lambda data: "!!binary " + (base64.b64encode(data).decode() or "''")),
    st.integers(1, 3000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(1, 9).map(lambda levels: "[&a0 [x, x, x, x, x, x, x, x, x, x], "
                          + ", ".join(f"&a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, levels)) + "]"),
)


@pytest.mark.parametrize("kind", ["assets.yaml", "engagements.yaml", "roster.yaml"])
@given(raw=raw_yaml_value, choice=st.integers(0, 99))
@example(raw="1" * 4301, choice=0)  # more digits than Python turns into an int
@example(raw="9" * 5000, choice=3)
@example(raw=".inf", choice=0)
@example(raw=".nan", choice=1)
@example(raw="1.0e+400", choice=2)
@example(raw="2026-02-30", choice=0)  # a day that does not exist
@example(raw="0000-01-01 10:00:00 +05:00", choice=5)
@example(raw="!!binary AGE=", choice=0)  # bytes holding a NUL
@example(raw="[" * 3000 + "]" * 3000, choice=0)  # deeper than Python's recursion limit
@example(raw="[&a0 [x, x, x, x, x, x, x, x, x, x], " + ", ".join(
    f"&a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 10)) + "]", choice=0)  # a billion values
@FUZZ
def test_any_raw_yaml_value_in_any_field(database_url: str, tmp_path: Path, kind: str, raw: str, choice: int) -> None:
    item = dict(_yaml_items(kind)[0])
    item[sorted(item)[choice % len(item)]] = RAW_SLOT
    text = yaml.safe_dump([item], sort_keys=False, width=10**6).replace(RAW_SLOT, raw)
    if kind.startswith("assets"):
        attempt(lambda: import_assets(text, "yaml"))
    elif kind.startswith("engagements"):
        attempt(lambda: import_engagements(text, "yaml"))
    else:
        attempt(lambda: import_roster(text, "yaml", tmp_path / "roster.yaml"))


# ----- one damaged character, in every field of every kind of file ------------------------------------
def _single_field_files() -> list[tuple[str, str, str]]:
    cases = []
    for kind in ("assets.yaml", "engagements.yaml", "roster.yaml"):
        item = _yaml_items(kind)[0]
        for key, value in item.items():
            if isinstance(value, str):
                cases.append((kind, key, yaml.safe_dump([{**item, key: value + "\x00"}], sort_keys=False)))
    for kind in ("assets.csv", "roster.csv"):
        header, rows = _csv_rows((EXAMPLES / kind).read_text(encoding="utf-8"))
        for key in header:
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=header)
            writer.writeheader()
            writer.writerow({**rows[0], key: (rows[0][key] or "x") + "\x00"})
            cases.append((kind, key, out.getvalue()))
    return cases


@pytest.mark.parametrize(("kind", "field", "text"), _single_field_files(),
                         ids=[f"{k}:{f}" for k, f, _ in _single_field_files()])
def test_a_nul_character_in_any_field_is_refused_naming_the_field(database_url: str, tmp_path: Path, kind: str,
                                                                 field: str, text: str) -> None:
    fmt = kind.rsplit(".", 1)[1]
    before = snapshot()
    with pytest.raises(EposError) as refused:
        if kind.startswith("assets"):
            import_assets(text, fmt)
        elif kind.startswith("engagements"):
            import_engagements(text, fmt)
        else:
            import_roster(text, fmt, tmp_path / f"roster.{fmt}")
    problems = getattr(refused.value, "problems", None)
    described = [f"{p.where} {p.field}: {p.message}" for p in problems] if problems else [str(refused.value)]
    assert any(field in line for line in described), described
    assert snapshot() == before

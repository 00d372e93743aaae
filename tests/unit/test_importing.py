"""Import files holding what YAML can spell but Python cannot hold, or what would make a loader choke:
each importer (assets, engagements, the roster) answers with one clear line per problem, naming the item
or line and the field, instead of a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.services import assets, engagements, roster
from bot.services.importing import MAX_ALIASED_VALUES, MAX_DEPTH, ImportInvalid

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SLOT = "SLOT-FOR-A-RAW-VALUE"
DEEP = "[" * 5000 + "]" * 5000
# Ten times ten times ten …: nine lines that stand for a billion values once every alias is written out.
BOMB = "".join(f"- &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]\n" for level in range(1, 9))
BOMB = "- &a0 [x, x, x, x, x, x, x, x, x, x]\n" + BOMB


def first_example(name: str) -> dict[str, Any]:
    data = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    items = data if isinstance(data, list) else data[next(iter(data))]
    return dict(items[0])


def with_raw_value(name: str, field: str, raw: str) -> str:
    """The first example item of a file with one field spelled exactly as `raw` (unquoted YAML)."""
    item = first_example(name)
    item[field] = SLOT
    return yaml.safe_dump([item], sort_keys=False, width=10**6).replace(SLOT, raw)


def asset_problems(text: str, fmt: str = "yaml") -> list[str]:
    with pytest.raises(ImportInvalid) as refused:
        assets.parse_catalogue(text, fmt)  # type: ignore[arg-type]
    return [problem.line("f") for problem in refused.value.problems]


def engagement_problems(text: str, fmt: str = "yaml") -> list[str]:
    with pytest.raises(ImportInvalid) as refused:
        engagements.parse_import(text, fmt)  # type: ignore[arg-type]
    return [problem.line("f") for problem in refused.value.problems]


def roster_problems(tmp_path: Path, text: str, suffix: str = "yaml") -> list[str]:
    path = tmp_path / f"f.{suffix}"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportInvalid) as refused:
        roster.read_roster_file(path)
    return [problem.line("f") for problem in refused.value.problems]


# ----- values Python cannot hold: reported on their item and field -------------------------------------
UNREADABLE = [
    ("1" * 5000, "is a number of 5,000 digits, too long to read; put it in quotes if it is text"),
    ("-0x1_" + "1" * 4400, None),  # a long hexadecimal number is fine for Python: refused by the field's own rule
    ("2026-02-30", "'2026-02-30' is not a real date; write one like 2026-08-03, or put it in quotes if it is text"),
    ("0000-01-01 10:00:00", "'0000-01-01 10:00:00' is not a real date; write one like 2026-08-03, "
                            "or put it in quotes if it is text"),
    ("!!binary AGE=", "is binary data (!!binary), which an import file cannot hold; write the value as text"),
]


@pytest.mark.parametrize(("raw", "message"), UNREADABLE, ids=["long number", "long hex", "30 February", "year 0",
                                                              "binary with a NUL"])
@pytest.mark.parametrize("field", ["title", "summary", "topics"])
def test_an_asset_value_python_cannot_hold_names_its_item_and_field(field: str, raw: str, message: str | None) -> None:
    problems = asset_problems(with_raw_value("assets.yaml", field, raw))
    assert len(problems) == 1 and problems[0].startswith(f"f: item 1, field {field}: "), problems
    if message:
        assert problems == [f"f: item 1, field {field}: {message}"]


@pytest.mark.parametrize(("raw", "message"), UNREADABLE, ids=["long number", "long hex", "30 February", "year 0",
                                                              "binary with a NUL"])
@pytest.mark.parametrize("field", ["account", "opened_at", "channel"])
def test_an_engagement_value_python_cannot_hold_names_its_item_and_field(field: str, raw: str,
                                                                         message: str | None) -> None:
    problems = engagement_problems(with_raw_value("engagements.yaml", field, raw))
    assert problems[0].startswith(f"f: item 1, field {field}: "), problems
    if message:
        assert problems == [f"f: item 1, field {field}: {message}"]


def test_an_unreadable_value_deep_in_the_history_names_the_history(tmp_path: Path) -> None:
    item = first_example("engagements.yaml")
    item["history"][1]["at"] = SLOT
    text = yaml.safe_dump([item], sort_keys=False).replace(SLOT, "2026-13-01")
    assert engagement_problems(text) == [
        "f: item 1, field history: '2026-13-01' is not a real date; write one like 2026-08-03, "
        "or put it in quotes if it is text"]


@pytest.mark.parametrize("raw", [".inf", "-.inf", ".nan", "1.0e+400", "-1.0e+400"])
def test_infinite_and_not_a_number_floats_are_named_problems(raw: str) -> None:
    assert asset_problems(with_raw_value("assets.yaml", "title", raw)) == [
        "f: item 1, field title: Input should be a valid string"]
    problems = engagement_problems(with_raw_value("engagements.yaml", "opened_at", raw))
    assert problems and all(line.startswith("f: item 1, field ") for line in problems), problems
    assert any("field opened_at: Input should be a valid datetime" in line for line in problems), problems


# ----- files that would make a loader choke: reported on their line --------------------------------------
def deeply_nested(kind: str) -> str:
    return with_raw_value(kind, "topics" if kind != "engagements.yaml" else "focus", DEEP)


NESTING = (f"is nested more than {MAX_DEPTH} levels deep; an import file is a list of items, "
           "each a set of `field: value` pairs")
ALIASES = (f"the aliases (*name) in this file stand for more than {MAX_ALIASED_VALUES:,} values; "
           "write the repeated values out instead")


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("nesting alone", DEEP, f"f: line 1: {NESTING}"),
    ("billion laughs", BOMB, f"f: line 5: {ALIASES}"),
    ("an alias inside itself", "- &a {title: *a}\n", "f: line 1: the alias *a refers to the value it is part of; "
                                                     "write the value out instead"),
    ("a NUL character", "- title: a\n- title: b\x00\n",
     "f: line 2: is not valid YAML (unacceptable character #x0000: special characters are not allowed)"),
])
def test_files_that_would_choke_a_loader_are_one_line_in_every_importer(tmp_path: Path, name: str, text: str,
                                                                        expected: str) -> None:
    assert asset_problems(text) == [expected]
    assert engagement_problems(text) == [expected]
    assert roster_problems(tmp_path, text) == [expected]


@pytest.mark.parametrize("kind", ["assets.yaml", "engagements.yaml", "roster.yaml"])
def test_deep_nesting_inside_an_item_names_its_line(tmp_path: Path, kind: str) -> None:
    text = deeply_nested(kind)
    line = next(number for number, content in enumerate(text.splitlines(), start=1) if "[[[" in content)
    expected = [f"f: line {line}: {NESTING}"]
    if kind == "assets.yaml":
        assert asset_problems(text) == expected
    elif kind == "engagements.yaml":
        assert engagement_problems(text) == expected
    else:
        assert roster_problems(tmp_path, text) == expected


def test_aliases_that_nest_deeper_than_a_file_may_are_refused() -> None:
    chain = "".join(f"- &n{level} [*n{level - 1}]\n" for level in range(1, 30))
    assert asset_problems("- &n0 [x]\n" + chain)[0].endswith(NESTING)


def test_aliases_used_as_meant_still_import(tmp_path: Path) -> None:
    item = first_example("assets.yaml")
    second = {**item, "url": item["url"] + "-2"}
    text = yaml.safe_dump([item, second], sort_keys=False)
    shared = text.replace(f"owner: {item['owner']}", f"owner: &me {item['owner']}", 1).replace(
        f"owner: {item['owner']}", "owner: *me")
    assert "*me" in shared
    assert [record.owner_id for record in assets.parse_catalogue(shared, "yaml")] == [item["owner"]] * 2
    path = tmp_path / "r.yaml"
    path.write_text(
        '- {slack_id: U0DR1A2B3, name: A, timezone: &tz Europe/Berlin, work_start: "09:00", work_end: "17:00",'
        " weekly_capacity: 2}\n"
        '- {slack_id: U0DR9Z9Z9, name: B, timezone: *tz, work_start: "09:00", work_end: "17:00", weekly_capacity: 2}\n',
        encoding="utf-8")
    assert [entry.timezone for entry in roster.read_roster_file(path)] == ["Europe/Berlin"] * 2


def test_a_roster_csv_cell_too_large_for_csv_is_one_line(tmp_path: Path) -> None:
    header = "slack_id,name,timezone,work_start,work_end,weekly_capacity\n"
    problems = roster_problems(tmp_path, header + f'U0BIG0001,"{"x" * 200_000}",UTC,09:00,17:00,1\n', "csv")
    assert problems == ["f: line 2: is not valid CSV (field larger than field limit (131072))"]


@pytest.mark.parametrize("importer", [asset_problems, engagement_problems])
def test_a_csv_cell_too_large_for_csv_is_one_line(importer: Any) -> None:
    header = ",".join(assets.EXPORT_FIELDS if importer is asset_problems else engagements.EXPORT_FIELDS)
    assert importer(f'{header}\n"{"x" * 200_000}"\n', "csv") == [
        "f: line 2: is not valid CSV (field larger than field limit (131072))"]


def test_csv_lines_are_counted_across_blank_lines(tmp_path: Path) -> None:
    header = "slack_id,name,timezone,work_start,work_end,weekly_capacity\n"
    problems = roster_problems(tmp_path, header + "\nU0ABC1234,A,UTC,25:00,17:00,1\n", "csv")
    assert problems == ["f: line 3, field work_start: '25:00' is not a time like 09:00 (24-hour HH:MM)"]
    text = ",".join(assets.EXPORT_FIELDS) + "\n\nA,demo,S,https://a.example.com,,,deep,,,,U0A1B2C3D,\n"
    assert asset_problems(text, "csv") == ["f: line 3, field depth: 'deep' is not one of low, medium, high"]

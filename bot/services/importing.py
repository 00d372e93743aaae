"""What every import file (assets, engagements, the roster) is checked for, whatever it holds, and the
reading of YAML and CSV the three importers share."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import ValidationError
from yaml.composer import Composer, ComposerError
from yaml.constructor import BaseConstructor, SafeConstructor
from yaml.events import AliasEvent, SequenceEndEvent, SequenceStartEvent, StreamEndEvent
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.resolver import BaseResolver, Resolver
from yaml.scanner import Scanner

from bot.blocks.text import plural
from bot.errors import InvalidInput
from models.schemas.importing import ImportProblem

# PostgreSQL text cannot hold U+0000, and no one types it: a file carrying one is damaged.
NUL_MESSAGE = "contains a NUL character (U+0000), which cannot be stored; the file may be damaged, remove it"

# An import file is a list of items holding a few lists of their own; anything nested this deep is damage,
# and refusing it here keeps a file of ten thousand `[` from exhausting Python's recursion limit.
MAX_DEPTH = 20
IMPORT_SHAPE = "an import file is a list of items, each a set of `field: value` pairs"
# Aliases (`*name`) may repeat a value, but a few lines of them can stand for billions of values.
MAX_ALIASED_VALUES = 100_000
EXTRA_CELLS = "has more cells than the header has columns"
NOT_UTF8 = "is not UTF-8 text; save it as UTF-8 and try again"
# Rows written per transaction: short enough that a click waiting for the same lock is answered in time.
WRITE_BATCH = 100
MEGABYTE = 1024 * 1024
# The fields every item of a kind of import file has, which tell one kind of file from another.
KIND_FIELDS = {
    "assets": ("title", "type", "url"),
    "engagements": ("account", "opportunity", "history"),
    "roster": ("slack_id", "timezone", "weekly_capacity"),
}
KIND_NAMES = {"assets": "an asset file", "engagements": "an engagement file", "roster": "a roster file"}
LOOKS_LIKE = "This looks like {name}: use `epos {kind} import`."
SEMICOLONS = "This file seems to use ; between columns; epos reads commas."
EMPTY = "is empty; nothing was imported (examples/{kind}.yaml shows what goes in {name})"

T = TypeVar("T")
R = TypeVar("R")


class ImportInvalid(InvalidInput):
    """An import file with problems; each names its item (or line) and field. Nothing was written."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__(f"{plural(len(problems), 'problem')} in the file; nothing was imported")
        self.problems = problems


class Unreadable:
    """A YAML value Python cannot hold (a 5,000-digit number, 30 February): kept in place of the value, so
    the problem is reported on its item and field instead of stopping the whole file."""

    __slots__ = ("problem", "text")

    def __init__(self, text: str, problem: str) -> None:
        self.text = text if len(text) <= 40 else text[:39] + "…"
        self.problem = problem

    def __str__(self) -> str:
        return self.text


# ----- YAML ------------------------------------------------------------------------------------------


def _line_of(mark: Any) -> str:
    return f"line {mark.line + 1}"


class _Guarded(Composer):
    """Composes no deeper than MAX_DEPTH and lets aliases add no more than MAX_ALIASED_VALUES values."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.aliased = 0
        self.open_anchors: set[str] = set()
        self.measured: dict[int, tuple[int, int]] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            if event.anchor in self.open_anchors:
                raise ImportInvalid([ImportProblem(
                    where=_line_of(event.start_mark),
                    message=f"the alias *{event.anchor} refers to the value it is part of; "
                            "write the value out instead")])
            node = super().compose_node(parent, index)
            size, height = self._measure(node)
            self.aliased += size
            if self.aliased > MAX_ALIASED_VALUES:
                raise ImportInvalid([ImportProblem(
                    where=_line_of(event.start_mark),
                    message=f"the aliases (*name) in this file stand for more than {MAX_ALIASED_VALUES:,} values; "
                            "write the repeated values out instead")])
            if self.depth + height > MAX_DEPTH:
                raise self._too_deep(event)
            return node
        if self.depth >= MAX_DEPTH:
            raise self._too_deep(event)
        anchor = getattr(event, "anchor", None)
        self.depth += 1
        if anchor is not None:
            self.open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1
            self.open_anchors.discard(anchor)

    # What the file should look like instead, said after a refusal of its nesting.
    shape = IMPORT_SHAPE

    def _too_deep(self, event: Any) -> ImportInvalid:
        return ImportInvalid([ImportProblem(
            where=_line_of(event.start_mark), message=f"is nested more than {MAX_DEPTH} levels deep; {self.shape}")])

    def _measure(self, node: Any) -> tuple[int, int]:
        """How many values the node stands for once every alias in it is written out, and how deep it nests."""
        known = self.measured.get(id(node))
        if known is not None:
            return known
        size, height = 1, 1
        if isinstance(node.value, list):
            for entry in node.value:
                for child in entry if isinstance(entry, tuple) else (entry,):
                    child_size, child_height = self._measure(child)
                    size, height = size + child_size, max(height, child_height + 1)
        self.measured[id(node)] = (size, height)
        return size, height


class _TypedConstructor(SafeConstructor):
    """YAML's usual types, with the values Python cannot build left for validation to report."""

    def construct_yaml_int(self, node: Any) -> Any:
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            digits = sum(ch.isdigit() for ch in node.value)
            return Unreadable(node.value, f"is a number of {digits:,} digits, too long to read; "
                                          "put it in quotes if it is text")

    def construct_yaml_timestamp(self, node: Any) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return Unreadable(node.value, f"{node.value!r} is not a real date; "
                                          "write one like 2026-08-03, or put it in quotes if it is text")

    def construct_yaml_binary(self, node: Any) -> Any:
        return Unreadable("!!binary",
                          "is binary data (!!binary), which an import file cannot hold; write the value as text")


_TypedConstructor.add_constructor("tag:yaml.org,2002:int", _TypedConstructor.construct_yaml_int)
_TypedConstructor.add_constructor("tag:yaml.org,2002:timestamp", _TypedConstructor.construct_yaml_timestamp)
_TypedConstructor.add_constructor("tag:yaml.org,2002:binary", _TypedConstructor.construct_yaml_binary)


class _TypedLoader(Reader, Scanner, Parser, _Guarded, _TypedConstructor, Resolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _Guarded.__init__(self)
        _TypedConstructor.__init__(self)
        Resolver.__init__(self)


class _TextLoader(Reader, Scanner, Parser, _Guarded, BaseConstructor, BaseResolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _Guarded.__init__(self)
        BaseConstructor.__init__(self)
        BaseResolver.__init__(self)


def _yaml_problem(error: yaml.YAMLError, text: str) -> ImportProblem:
    if isinstance(error, ReaderError):
        # The reader reports a character offset and a two-line message; one line, naming the line, reads better.
        line = text.count("\n", 0, max(error.position, 0)) + 1
        return ImportProblem(where=f"line {line}", message=f"is not valid YAML ({str(error).splitlines()[0]})")
    mark = getattr(error, "problem_mark", None)
    where = _line_of(mark) if mark is not None else "file"
    reason = getattr(error, "problem", None) or str(error).splitlines()[0]
    return ImportProblem(where=where, message=f"is not valid YAML ({reason})")


def load_yaml(text: str, *, text_only: bool = False, shape: str = IMPORT_SHAPE) -> Any:
    """The one document of an import file, as the safe loader builds it (text_only: every scalar a string).
    Raises ImportInvalid naming the line when the file is not YAML, nests too deep (`shape` then says
    what the file should look like) or expands too far."""
    try:
        # The reader checks every character as it is built, so building it belongs inside the try.
        loader = (_TextLoader if text_only else _TypedLoader)(text)
        loader.shape = shape
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        raise ImportInvalid([_yaml_problem(error, text)]) from None


def _end_of_document(loader: Any) -> None:
    loader.get_event()
    if not loader.check_event(StreamEndEvent):
        event = loader.get_event()
        raise ComposerError("expected a single document in the stream", None, "but found another document",
                            event.start_mark)


def yaml_items(text: str, *, key: str, shape: str) -> Iterator[tuple[str, Any]]:
    """(`item N`, value) for each item of the file's list (or of the list under `key`), built one item at
    a time, so a large file is never held as Python values all at once. Aliases may refer to earlier
    items. Raises ImportInvalid naming the line when the file is not YAML or not such a list (`shape`
    says what it should be)."""
    try:
        loader = _TypedLoader(text)
        try:
            loader.get_event()
            if loader.check_event(StreamEndEvent):
                return
            loader.get_event()
            if not loader.check_event(SequenceStartEvent):
                # A mapping holding the list, or no list at all: small either way, built whole.
                data = loader.construct_document(loader.compose_node(None, None))
                _end_of_document(loader)
                if data is None:
                    return
                if isinstance(data, dict) and isinstance(data.get(key), list):
                    yield from ((f"item {number}", item) for number, item in enumerate(data[key], start=1))
                    return
                raise ImportInvalid([ImportProblem(where="file", field=None, message=shape)])
            loader.get_event()
            loader.depth = 1  # items sit inside the list, as when the file is composed whole
            number = 0
            while not loader.check_event(SequenceEndEvent):
                number += 1
                yield f"item {number}", loader.construct_document(loader.compose_node(None, None))
            loader.get_event()
            _end_of_document(loader)
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        raise ImportInvalid([_yaml_problem(error, text)]) from None


# ----- files -------------------------------------------------------------------------------------------


def size_refusal(path: Path, limit_mb: int) -> str | None:
    """One line refusing a file larger than the import limit (IMPORT_MAX_MB), or None when it fits."""
    try:
        size = path.stat().st_size
    except OSError:
        return None  # reading it says what is wrong
    if size <= limit_mb * MEGABYTE:
        return None
    return (f"{path}: is {size / MEGABYTE:,.0f} MB, more than the import limit of {limit_mb:,} MB; "
            "split it into smaller files, or raise IMPORT_MAX_MB")


def empty_refusal(path: Path, kind: str) -> str | None:
    """One line saying the file is empty (nothing in it but blanks), or None."""
    try:
        with path.open("rb") as file:
            for chunk in iter(lambda: file.read(MEGABYTE), b""):
                if chunk.removeprefix(b"\xef\xbb\xbf").strip():
                    return None
    except OSError:
        return None  # reading it says what is wrong
    return f"{path}: " + EMPTY.format(kind=kind, name=KIND_NAMES[kind])


def _first_fields(path: Path) -> tuple[set[str], bool]:
    """The field names of a file's first item (a CSV header), and whether its header is split by `;`."""
    if path.suffix.lower() == ".csv":
        with open_csv(path) as lines:
            first = next(lines, "")
        by_comma, by_semicolon = next(csv.reader([first])), next(csv.reader([first], delimiter=";"))
        semicolons = len(by_semicolon) > len(by_comma)
        return {name.strip() for name in (by_semicolon if semicolons else by_comma)}, semicolons
    item = next((value for _where, value in yaml_items(path.read_text(encoding="utf-8-sig"), key="",
                                                       shape=IMPORT_SHAPE)), None)
    return ({str(name).strip() for name in item} if isinstance(item, dict) else set()), False


def file_hints(path: Path, kind: str) -> list[str]:
    """What a refused import file seems to be instead, each a sentence: another kind of import file, or a
    CSV file with `;` between its columns. None when the file cannot be read or says nothing."""
    try:
        fields, semicolons = _first_fields(path)
    except (ImportInvalid, OSError, UnicodeDecodeError, csv.Error):
        return []
    hints = [SEMICOLONS] if semicolons else []
    if not set(KIND_FIELDS[kind]) <= fields:
        hints += [LOOKS_LIKE.format(name=KIND_NAMES[other], kind=other)
                  for other, needed in KIND_FIELDS.items() if other != kind and set(needed) <= fields]
    return hints


def open_csv(path: Path) -> io.TextIOWrapper:
    """A CSV import file for `csv_rows`, read a line at a time (a byte-order mark is skipped)."""
    return path.open(encoding="utf-8-sig", newline="")


def batched(items: Iterable[T], size: int = WRITE_BATCH) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


# ----- CSV -------------------------------------------------------------------------------------------


def csv_rows(source: str | Iterable[str]) -> tuple[list[str], Iterator[tuple[str, dict[str | None, Any]]]]:
    """The header, and each record as (`line N`, row) keyed as csv.DictReader keys it: cells beyond the
    header under None, missing cells None. Blank lines are skipped; N is the line the record starts on.
    `source` is the whole text, or a file opened with `open_csv`, read a line at a time. Raises
    ImportInvalid naming the line when the text is not CSV (or not UTF-8)."""
    lines = io.StringIO(source.removeprefix("\ufeff"), newline="") if isinstance(source, str) else source
    reader = csv.reader(lines)
    try:
        header = next(reader, [])
    except csv.Error as error:
        raise ImportInvalid([ImportProblem(where="line 1", message=f"is not valid CSV ({error})")]) from None
    except UnicodeDecodeError:
        raise ImportInvalid([ImportProblem(where="line 1", message=NOT_UTF8)]) from None

    def records() -> Iterator[tuple[str, dict[str | None, Any]]]:
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                problem = ImportProblem(where=f"line {start}", message=f"is not valid CSV ({error})")
                raise ImportInvalid([problem]) from None
            except UnicodeDecodeError:
                raise ImportInvalid([ImportProblem(where=f"line {start}", message=NOT_UTF8)]) from None
            if not cells:
                continue
            row: dict[str | None, Any] = dict(zip(header, cells, strict=False))
            if len(cells) > len(header):
                row[None] = cells[len(header):]
            for name in header[len(cells):]:
                row[name] = None
            yield f"line {start}", row

    return header, records()


# ----- every item -------------------------------------------------------------------------------------


def _damage(value: Any) -> str | None:
    if isinstance(value, Unreadable):
        return value.problem
    if isinstance(value, str):
        return NUL_MESSAGE if "\x00" in value else None
    if isinstance(value, dict):
        return next((found for pair in value.items() for part in pair if (found := _damage(part))), None)
    if isinstance(value, (list, tuple, set, frozenset)):
        return next((found for part in value if (found := _damage(part))), None)
    return None


def damaged_fields(raw: dict[Any, Any]) -> list[tuple[str, str]]:
    """(field, problem) for each field of one imported item whose name or value cannot be stored: a NUL
    character, or a value Python could not read."""
    found = []
    for key, value in raw.items():
        problem = _damage(key) or _damage(value)
        if problem:
            found.append((str(key).replace("\x00", "\\0"), problem))
    return found


# ----- the checks every import file goes through --------------------------------------------------------


def _columns(names: list[str]) -> str:
    return "column" if len(names) == 1 else "columns"


def column_problem(header: list[str], known: tuple[str, ...], required: tuple[str, ...]) -> ImportInvalid | None:
    """A CSV header naming a column the import does not know, or lacking one it needs: the refusal of the
    whole file (the columns are the file's shape), or None."""
    unknown = [name for name in header if name.strip() not in known]
    missing = [name for name in required if name not in [h.strip() for h in header]]
    if not unknown and not missing:
        return None
    parts = ([f"unknown {_columns(unknown)} {', '.join(map(repr, unknown))}"] if unknown else []) + (
        [f"missing {_columns(missing)} {', '.join(missing)}"] if missing else [])
    return ImportInvalid([ImportProblem(where="line 1", field=None,
                                        message="; ".join(parts) + f"; the columns are {', '.join(known)}")])


@dataclass(frozen=True)
class ItemRules(Generic[R]):
    """What one kind of import file holds: how an item is built (raising pydantic's ValidationError) and its
    problems worded, what a record is wrong about as a whole, and the key no two items may share."""

    build: Callable[[dict[Any, Any]], R]
    problems_of: Callable[[ValidationError, str], list[ImportProblem]]
    key: Callable[[R], Hashable]
    not_a_mapping: str
    duplicate_field: str
    # Said of the second item with a key, given it and where the first was.
    duplicate: Callable[[R, str], str]
    whole: Callable[[R], list[tuple[str, str]]] = lambda _record: []
    # What is wrong with the mapping itself whatever its values (a field the kind does not have): reported
    # beside the values' problems, and the item is left out.
    of_mapping: Callable[[dict[Any, Any]], list[tuple[str, str]]] = lambda _raw: []


def checked(rows: Iterable[tuple[str, Any]], problems: list[ImportProblem], rules: ItemRules[R]) -> Iterator[R]:
    """The valid records among `rows`, in order; each problem found is added to `problems`. A file that
    cannot be read to its end is reported alone: what its rows hold is not known."""
    first_seen: dict[Hashable, str] = {}
    try:
        for where, raw in rows:
            if not isinstance(raw, dict):
                problems.append(ImportProblem(where=where, field=None, message=rules.not_a_mapping))
                continue
            if damaged := damaged_fields(raw):
                problems.extend(ImportProblem(where=where, field=field, message=message) for field, message in damaged)
                continue
            of_mapping = rules.of_mapping(raw)
            problems.extend(ImportProblem(where=where, field=field, message=message) for field, message in of_mapping)
            try:
                record = rules.build(raw)
            except ValidationError as error:
                problems.extend(rules.problems_of(error, where))
                continue
            if of_mapping:
                continue
            whole = rules.whole(record)
            problems.extend(ImportProblem(where=where, field=field, message=message) for field, message in whole)
            key = rules.key(record)
            if key in first_seen:
                problems.append(ImportProblem(where=where, field=rules.duplicate_field,
                                              message=rules.duplicate(record, first_seen[key])))
                continue
            first_seen[key] = where
            if not whole:
                yield record
    except ImportInvalid as unreadable:
        problems[:] = unreadable.problems

"""Synthetic engagement history at scale, bulk-loaded into SQLite or PostgreSQL for the stats,
digest and nudge benchmarks.

The history imitates a presales team of a few hundred SEs over four years: engagements open in time
order, walk the EPOS stages with the odd step back and the odd undo (a change and the undo taking it
back), and close won, lost or without a decision after a log-normally distributed number of days;
those whose close would lie in the future are still open. About half of the closed ones have an ESAT
rating. Everything is deterministic for a seed.

Rows go in through the driver in bulk (sqlite3 `executemany`, PostgreSQL `COPY`), never one by one
through the ORM, into a schema built by the real migrations. Datetimes are stored the way
`models.base.UTCDateTime` stores them (naive UTC; on SQLite the text form SQLAlchemy writes).
"""

from __future__ import annotations

import math
import random
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot import db
from bot.services import stints

STAGES = ("preparation", "discovery", "demo", "poc", "tech_qa", "sizing")
CLOSED = "closed"
OUTCOMES = ("won", "lost", "no_decision")
OUTCOME_WEIGHTS = (0.45, 0.38, 0.17)
HISTORY_YEARS = 4
SE_COUNT = 400
SELLER_COUNT = 600
# Nudge data: when each open engagement was last touched, up to this many days back.
NUDGE_IDLE_DAYS = 45

ENGAGEMENT_COLUMNS = (
    "id", "account", "opportunity", "owner_id", "seller_id", "focus", "business_challenge", "technical_needs",
    "channel_id", "opened_at", "stage", "stage_entered_at", "last_activity_at", "closed_at", "outcome",
    "snoozed_until", "last_nudged_at", "created_by", "created_at", "updated_at",
)
CHANGE_COLUMNS = (
    "id", "engagement_id", "from_stage", "to_stage", "outcome", "actor_id", "logged_at", "effective_at", "note",
    "reverts_id",
)
ESAT_COLUMNS = ("id", "engagement_id", "owner_id", "asked_at", "remind_at", "reminded_at", "score", "comment",
                "answered_at")
DATETIME_COLUMNS = {
    "opened_at", "stage_entered_at", "last_activity_at", "closed_at", "snoozed_until", "last_nudged_at",
    "created_at", "updated_at", "logged_at", "effective_at", "asked_at", "remind_at", "reminded_at", "answered_at",
}


@dataclass
class History:
    now: datetime
    engagements: list[tuple[object, ...]] = field(default_factory=list)
    changes: list[tuple[object, ...]] = field(default_factory=list)
    esat: list[tuple[object, ...]] = field(default_factory=list)

    @property
    def open_count(self) -> int:
        return sum(1 for row in self.engagements if row[10] != CLOSED)


def se_id(n: int) -> str:
    return f"U0SE{n:05d}"


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _change_counts(rng: random.Random, engagements: int, changes: int) -> list[int]:
    """How many stage changes each engagement gets: at least one (its opening), `changes` in all."""
    mean = changes / engagements
    counts = [max(1, min(40, int(rng.gauss(mean, mean / 2.5) + 0.5))) for _ in range(engagements)]
    difference = changes - sum(counts)
    while difference:
        i = rng.randrange(engagements)
        step = 1 if difference > 0 else -1
        if 1 <= counts[i] + step <= 40:
            counts[i] += step
            difference -= step
    return counts


def generate_history(engagements: int, changes: int, *, now: datetime, seed: int = 5) -> History:
    """`engagements` engagements with exactly `changes` stage changes between them, ending before `now`."""
    if changes < engagements:
        raise ValueError("every engagement has at least its opening change")
    rng = random.Random(seed)
    history = History(now=now)
    end = _naive(now)
    start = end - timedelta(days=365 * HISTORY_YEARS)
    span = (end - start).total_seconds()
    opened = sorted(start + timedelta(seconds=rng.random() * span) for _ in range(engagements))
    counts = _change_counts(rng, engagements, changes)
    # Changes are numbered in the order they were logged, across engagements, as a live database does.
    pending: list[tuple[datetime, int, list[object], int | None]] = []  # (logged, tmp key, row, reverts key)
    for index, opened_at in enumerate(opened, start=1):
        duration = timedelta(days=min(720.0, rng.lognormvariate(math.log(40), 0.8)))
        count = counts[index - 1]
        closes = opened_at + duration < end and count >= 2  # a close is a change of its own
        finish = opened_at + duration if closes else max(opened_at, end - timedelta(minutes=rng.randint(5, 600)))
        moments = sorted(opened_at + (finish - opened_at) * rng.random() for _ in range(count - 1))
        owner, seller = se_id(rng.randrange(SE_COUNT)), f"U0SL{rng.randrange(SELLER_COUNT):05d}"
        stage, rank = STAGES[0], 0
        rows: list[tuple[datetime, datetime, str | None, str, str | None, int | None]] = [
            (opened_at, opened_at, None, stage, None, None)
        ]
        i = 0
        while i < len(moments):
            moment = moments[i]
            last = i == len(moments) - 1
            if last and closes:
                outcome = rng.choices(OUTCOMES, OUTCOME_WEIGHTS)[0]
                rows.append((finish, finish, stage, CLOSED, outcome, None))
                stage = CLOSED
                i += 1
                continue
            roll = rng.random()
            if roll < 0.12 and i + 1 < len(moments) - (1 if closes else 0):
                # A slip and its undo a few minutes later: two rows, the second taking back the first.
                target = STAGES[min(rank + 1, len(STAGES) - 1)] if rank + 1 < len(STAGES) else STAGES[rank - 1]
                rows.append((moment, moment, stage, target, None, None))
                undo_at = moment + timedelta(minutes=rng.randint(1, 30))
                rows.append((undo_at, undo_at, target, stage, None, len(rows) - 1))
                i += 2
                continue
            if roll < 0.25 and rank > 0:
                rank = rng.randrange(rank)  # a step back, e.g. from POC to another demo
            elif rank + 1 < len(STAGES):
                rank = min(len(STAGES) - 1, rank + (2 if roll > 0.9 else 1))
            else:
                rank = rng.randrange(len(STAGES) - 1)
            target = STAGES[rank]
            # Now and then a change is logged a day or two after it happened (backdated).
            logged = moment + timedelta(hours=rng.choice((0, 0, 0, 0, 20, 44)), minutes=rng.randint(0, 59))
            rows.append((min(logged, end), moment, stage, target, None, None))
            stage = target
            i += 1
        first_key = len(pending)
        for logged, effective, from_stage, to_stage, outcome, reverts in rows:
            key = len(pending)
            pending.append((logged, key, [index, from_stage, to_stage, outcome, owner, logged, effective, "",
                                          None], None if reverts is None else first_key + reverts))
        last_logged = max(r[0] for r in rows)
        last_effective = max(r[1] for r in rows if r[5] is None)
        closed_at = finish if closes else None
        outcome = rows[-1][4] if closes else None
        history.engagements.append((
            index, f"Account {index:06d}", f"Opportunity {index}", owner, seller, "observability", "", "", None,
            opened_at, stage, last_effective, last_logged, closed_at, outcome, None, None, owner, opened_at,
            last_logged,
        ))
        if closes and rng.random() < 0.55:
            answered = finish + timedelta(hours=rng.randint(1, 72))
            history.esat.append((len(history.esat) + 1, index, owner, finish, None, None,
                                 rng.choices((1, 2, 3, 4, 5), (0.03, 0.07, 0.2, 0.4, 0.3))[0], "",
                                 min(answered, end)))
    pending.sort(key=lambda item: (item[0], item[1]))
    new_id = {key: number for number, (_, key, _, _) in enumerate(pending, start=1)}
    for number, (_, _, row, reverts) in enumerate(pending, start=1):
        row[-1] = None if reverts is None else new_id[reverts]
        history.changes.append((number, *row))
    return history


def generate_open(engagements: int, *, now: datetime, seed: int = 9) -> History:
    """`engagements` open engagements for the nudge scan, last touched up to NUDGE_IDLE_DAYS ago, a few
    snoozed and a few nudged recently; one opening change each."""
    rng = random.Random(seed)
    history = History(now=now)
    end = _naive(now)
    for index in range(1, engagements + 1):
        owner = se_id(rng.randrange(SE_COUNT))
        stage = rng.choice(STAGES)
        last_activity = end - timedelta(seconds=rng.random() * NUDGE_IDLE_DAYS * 86400)
        opened_at = last_activity - timedelta(days=rng.randint(0, 90))
        snoozed = end + timedelta(days=rng.randint(1, 7)) if rng.random() < 0.05 else None
        nudged = end - timedelta(days=rng.randint(0, 6)) if rng.random() < 0.3 else None
        history.engagements.append((
            index, f"Account {index:06d}", f"Opportunity {index}", owner, "U0SL00001", "observability", "", "",
            None, opened_at, stage, last_activity, last_activity, None, None, snoozed, nudged, owner, opened_at,
            last_activity,
        ))
        history.changes.append((index, index, None, stage, None, owner, opened_at, opened_at, "", None))
    return history


# ----- loading ----------------------------------------------------------------------------------------
def _sqlite_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    return value


def _sqlite_rows(rows: Iterable[Sequence[object]], columns: Sequence[str]) -> Iterator[tuple[object, ...]]:
    dated = [i for i, name in enumerate(columns) if name in DATETIME_COLUMNS]
    for row in rows:
        values = list(row)
        for i in dated:
            values[i] = _sqlite_value(values[i])
        yield tuple(values)


TABLES = (("engagements", ENGAGEMENT_COLUMNS, "engagements"), ("stage_changes", CHANGE_COLUMNS, "changes"),
          ("esat_surveys", ESAT_COLUMNS, "esat"))


def load_sqlite(path: str, history: History) -> None:
    """Create the schema at `path` with the migrations and bulk-insert the history."""
    db.upgrade(f"sqlite:///{path}")
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA foreign_keys=OFF")  # the generator keeps references whole
        for table, columns, attribute in TABLES:
            marks = ", ".join("?" for _ in columns)
            connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                _sqlite_rows(getattr(history, attribute), columns),
            )
        connection.commit()
    finally:
        connection.close()
    derive_stints(f"sqlite:///{path}")
    connection = sqlite3.connect(path)
    try:
        connection.execute("ANALYZE")
        connection.commit()
    finally:
        connection.close()


def load_postgresql(url: str, history: History) -> None:
    """Create the schema in the (empty) database at `url` and COPY the history in."""
    import psycopg

    db.upgrade(url)
    with psycopg.connect(_libpq(url)) as connection:
        with connection.cursor() as cursor:
            for table, columns, attribute in TABLES:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in getattr(history, attribute):
                        copy.write_row(row)
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
        connection.commit()
    derive_stints(url)
    with psycopg.connect(_libpq(url)) as connection:
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")


def derive_stints(url: str) -> None:
    """What the engagement service writes beside each stage change, for a log bulk-loaded past it."""
    engine = db.make_engine(url, pooled=False)
    try:
        with engine.begin() as connection:
            stints.refresh(connection, None)
    finally:
        engine.dispose()


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def scratch_postgresql(server: str) -> Iterator[str]:
    """A new, empty database `epos_bench_<random>` on `server` (a URL ending in `/`), dropped afterwards."""
    import psycopg

    name = f"epos_bench_{uuid.uuid4().hex[:10]}"
    admin = _libpq(server.rstrip("/") + "/postgres")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.rstrip("/") + "/" + name
    finally:
        db_engine = db._engine  # let go of pooled connections before dropping the database
        if db_engine is not None and name in str(db_engine.url):
            db_engine.dispose()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


"""What goes into the index (`SearchDoc`) and what comes out (`SearchResult` of `Hit`s)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.search.vocabulary import OVERDUE_PENALTY, POPULARITY_SCALE


@dataclass(frozen=True, slots=True)
class SearchDoc:
    id: int
    title: str
    type: str
    summary: str = ""
    topics: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    useful: int = 0
    not_useful: int = 0
    shares: int = 0
    # Its review is overdue: it ranks a little lower (OVERDUE_PENALTY), never out of sight.
    overdue: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    type: str | None
    terms: tuple[str, ...]
    raw: str


@dataclass(frozen=True)
class Hit:
    id: int
    score: float


@dataclass(frozen=True)
class SearchResult:
    query: ParsedQuery
    hits: tuple[Hit, ...]
    total: int
    suggestions: tuple[str, ...]



def popularity(doc: SearchDoc) -> float:
    """Feedback and usage squashed into 0..1; 0.5 for an asset nobody rated. An overdue review takes
    OVERDUE_PENALTY off (never below 0), so it weighs like a few down-votes, inside the popularity share."""
    net = doc.useful - doc.not_useful + 0.5 * doc.shares
    score = 0.5 + 0.5 * math.tanh(net / POPULARITY_SCALE)
    return max(0.0, score - OVERDUE_PENALTY) if doc.overdue else score


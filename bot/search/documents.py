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
    parts: tuple[str, ...] = ()  # the labels of its parts
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
    # The topic words as typed (lowercased), without type words and filler: what a header echoes back.
    words: tuple[str, ...] = ()


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
    # (term as typed, catalogue word it was read as) for each term found only through a typo.
    corrections: tuple[tuple[str, str], ...] = ()
    # When no asset matched every term: the terms the best answer matched, and those it did not.
    matched: tuple[str, ...] = ()
    unmatched: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        return bool(self.unmatched) and self.total > 0



def popularity(doc: SearchDoc) -> float:
    """Feedback and usage squashed into 0..1; 0.5 for an asset nobody rated. An overdue review takes
    OVERDUE_PENALTY off (never below 0), so it weighs like a few down-votes, inside the popularity share."""
    net = doc.useful - doc.not_useful + 0.5 * doc.shares
    score = 0.5 + 0.5 * math.tanh(net / POPULARITY_SCALE)
    return max(0.0, score - OVERDUE_PENALTY) if doc.overdue else score


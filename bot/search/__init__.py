"""In-memory search over field assets for the ``/asset`` command.

Modules: `vocabulary` (what words mean), `query` (parsing what was typed), `postings` (doc sets as
bitmaps), `ranking` (matching, scoring, one page of hits) and `index` (`AssetIndex`: the data and its
writes). The names below are the package's public face.

The package is pure: it knows nothing about the database or Slack.  Callers
feed it :class:`SearchDoc` values (published assets only) and ask
:meth:`AssetIndex.search` for a page of :class:`Hit` ids.

How a query is understood
-------------------------
* Words naming an asset type ("demos", "walk-through", "proof shop",
  "marketing workshop", ...) set :attr:`ParsedQuery.type`; they filter the
  results to that type and are never used as topic terms.  When several types
  are named the first one wins.
* The remaining words are lowercased, stripped of filler ("show me a ... for"),
  and field abbreviations are expanded from :data:`ABBREVIATIONS` and
  :data:`PHRASES` ("k8s" -> "kubernetes", "machine learning" stays one term).
  A word naming part of a wider topic (:data:`BROADER_TERMS`: "siem") stays
  itself and also matches the wider topic ("security") a little lower.
* A term matches a catalogue token exactly, as a prefix (3+ characters, when
  the term is not a catalogue word itself) or through a typo (optimal-string-alignment similarity >= :data:`FUZZY_CUTOFF`).
  Anything weaker is not a match, so nonsense queries return nothing rather
  than the least-bad rows.

Multi-term queries
------------------
All terms are required when at least one asset matches all of them; only when
none does, assets matching some of the terms are returned, ranked by how many
terms they match first.  So ``/asset demo observability security`` lists demos
about both when there are any, and falls back to demos about either.

Ranking
-------
Each matched term scores the best field it was found in: title 1.0, topics
0.95, products 0.75, summary 0.5, times the token similarity.  Feedback and
shares add at most :data:`POPULARITY_WEIGHT` of the score, enough to reorder
near-ties but never enough to lift a typo or summary-only match over a clean
title or topic match.  The final score is 0..100.

Speed
-----
Every distinct token of the catalogue is kept once in a sorted vocabulary;
query terms are fuzzy-matched against that vocabulary (rapidfuzz, in C), not
against the documents.  An inverted index per field (for ranking) maps a token
to the docs holding it: a bitmap over doc slots (a Python int) for common
tokens, the slots themselves for rare ones.  Unions, intersections, type
filtering and counting are then integer operations in C, a few bytes per doc
where sets of ids spent tens.  Docs themselves are not kept, only each one's
tokens (to undo them on removal), type and popularity.
When few documents match they are scored one by one.  When many do, the page
is built lazily: combinations of "which field each term matched in" are
visited best first, each yielding its most popular members by walking a
popularity-ordered list, until no unvisited combination can reach the page.
A common word therefore costs about the page size, not its match count.
"""


from __future__ import annotations

from bot.search.documents import Hit, ParsedQuery, SearchDoc, SearchResult, popularity
from bot.search.index import AssetIndex
from bot.search.query import parse_query
from bot.search.vocabulary import (
    ABBREVIATIONS,
    ASSET_TYPES,
    BROADER_TERMS,
    FIELD_WEIGHTS,
    PHRASES,
    STOPWORDS,
    TYPE_WORDS,
)

__all__ = [
    "ABBREVIATIONS", "ASSET_TYPES", "BROADER_TERMS", "FIELD_WEIGHTS", "PHRASES", "STOPWORDS", "TYPE_WORDS",
    "AssetIndex", "Hit", "ParsedQuery", "SearchDoc", "SearchResult", "parse_query", "popularity",
]

"""In-memory search over field assets for the ``/asset`` command.

The module is pure: it knows nothing about the database or Slack.  Callers
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

import bisect
import heapq
import math
import re
import sys
import threading
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, compress, pairwise, repeat
from operator import call, eq, neg

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

ASSET_TYPES = ("demo", "feature_walkthrough", "proofshop", "workshop")

# Field abbreviations and synonyms, applied to query and documents alike so
# that an asset written with "K8s" is found by "kubernetes" and vice versa.
# Entries mapping to themselves record names deliberately kept as typed.
ABBREVIATIONS: dict[str, str] = {
    "k8s": "kubernetes",
    "k8": "kubernetes",
    "kube": "kubernetes",
    "o11y": "observability",
    "obs": "observability",
    "sec": "security",
    "infosec": "security",
    "cybersecurity": "security",
    "ml": "machine learning",
    "ai": "ai",
    "genai": "generative ai",
    "llm": "llm",
    "llms": "llm",
    "db": "database",
    "dbs": "database",
    "otel": "opentelemetry",
    "apm": "apm",
    "log": "logging",
    "logs": "logging",
    "trace": "tracing",
    "traces": "tracing",
    "alert": "alerting",
    "alerts": "alerting",
    "perf": "performance",
    "infra": "infrastructure",
    "auth": "authentication",
    "gcp": "gcp",
    "aws": "aws",
    "azure": "azure",
    "cicd": "cicd",
}

# Words naming one part of a wider topic.  They stay terms of their own, so a
# SIEM asset ranks first for "siem", and also find the wider topic at
# RELATED_SIMILARITY, so security assets that never say "SIEM" still come back.
BROADER_TERMS: dict[str, str] = {
    "siem": "security",
    "soar": "security",
    "edr": "security",
    "xdr": "security",
}
RELATED_SIMILARITY = 0.9

# Multi-word forms folded into one term.  Values that are asset types mark
# type phrases; everything else is a topic phrase.
PHRASES: dict[tuple[str, ...], str] = {
    ("machine", "learning"): "machine learning",
    ("artificial", "intelligence"): "ai",
    ("open", "telemetry"): "opentelemetry",
    ("application", "performance", "monitoring"): "apm",
    ("google", "cloud"): "gcp",
    ("amazon", "web", "services"): "aws",
    ("ci", "cd"): "cicd",
    ("generative", "ai"): "generative ai",
    ("gen", "ai"): "generative ai",
    ("feature", "walkthrough"): "feature_walkthrough",
    ("feature", "walkthroughs"): "feature_walkthrough",
    ("feature", "walk", "through"): "feature_walkthrough",
    ("feature", "walk", "throughs"): "feature_walkthrough",
    ("walk", "through"): "feature_walkthrough",
    ("walk", "throughs"): "feature_walkthrough",
    ("proof", "shop"): "proofshop",
    ("proof", "shops"): "proofshop",
    ("marketing", "workshop"): "workshop",
    ("marketing", "workshops"): "workshop",
}

TYPE_WORDS: dict[str, str] = {
    "demo": "demo",
    "demos": "demo",
    "demonstration": "demo",
    "demonstrations": "demo",
    "walkthrough": "feature_walkthrough",
    "walkthroughs": "feature_walkthrough",
    "proofshop": "proofshop",
    "proofshops": "proofshop",
    "workshop": "workshop",
    "workshops": "workshop",
    "feature_walkthrough": "feature_walkthrough",
}

# Words that carry no topic in a search box ("show me a demo for ...").
STOPWORDS = frozenset(
    """
    a an the and or of for to in on at by with about from into onto over as
    is are be been was were it its this that these those there here
    i me my we our us you your they them their
    show find get give need want looking look any some all please pls
    asset assets how what which who where when can could would should do does
    through via using use
    """.split()
)

# Trailing "s" that is not a plural; folding these would merge unrelated words.
_NOT_PLURAL = frozenset(
    """
    kubernetes postgres redis jenkins windows chaos status series analysis
    saas paas iaas access business process express always across https news
    canvas atlas pandas nexus macos ios kafkas
    """.split()
)

FIELD_WEIGHTS = (1.0, 0.95, 0.75, 0.5)  # title, topics, products, summary
_TITLE, _TOPICS, _PRODUCTS, _SUMMARY = range(4)  # field positions in FIELD_WEIGHTS

FUZZY_CUTOFF = 0.8
"""Least token similarity (OSA, 0..1) for a typo to count as a match: one edit
in five letters, two in ten.  "logging" vs "login" (0.71) stays apart."""

PREFIX_FLOOR = 0.8
"""Similarity of a bare prefix; grows towards 1 as the prefix covers more of
the token, so "observ" ranks a little under "observability" typed in full."""

MIN_PREFIX_LEN = 3
MIN_FUZZY_LEN = 4
MAX_PREFIX_TOKENS = 8
MAX_FUZZY_TOKENS = 8

POPULARITY_WEIGHT = 0.05
"""Share of a term's score given to feedback and shares.  It stays below the
gap between an exact match and a one-typo match (0.1 in a ten-letter word) and
far below the gap to a product or summary match, so it only reorders near-ties
(equal matches, or title against topics)."""

POPULARITY_SCALE = 10.0
"""Net votes (useful - not useful + half the shares) at which popularity is
three quarters of the way from neutral to its ceiling."""

SUGGESTION_CUTOFF = 70.0  # fuzz.ratio, looser than matching on purpose
MAX_SUGGESTIONS = 3

MAX_QUERY_CHARS = 500
MAX_TERMS = 8

_TYPE_TYPO_CUTOFF = 0.85
_TYPE_TYPO_MIN_LEN = 6
_LONG_TYPE_WORDS = tuple(w for w in TYPE_WORDS if len(w) >= _TYPE_TYPO_MIN_LEN)

_PHRASE_FIRST_WORDS = frozenset(p[0] for p in PHRASES)
_MAX_PHRASE_LEN = max(len(p) for p in PHRASES)
_SLACK_ANGLE = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_SLACK_EMOJI = re.compile(r":[a-z0-9_+\-]+:")
_WORD = re.compile(r"[^\W_]+")
_ASCII_NON_WORD_TO_SPACE = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})
# The same split and casefold for ASCII text as one bytes table: translating
# bytes is a table lookup per byte, where str.translate goes through a dict.
_ASCII_FOLD = bytes(ord(chr(c).lower()) if chr(c).isalnum() else ord(" ") for c in range(128)) + bytes(range(128, 256))


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


# --------------------------------------------------------------------------
# Text analysis


def _words(text: str) -> list[str]:
    if text.isascii():
        # Same split as _WORD, several times faster than the regex on the
        # ASCII text that makes up nearly every catalogue.
        return text.encode().translate(_ASCII_FOLD).decode().split()
    text = text.casefold()
    if text.isascii():  # "Straße" folds to ASCII
        return text.translate(_ASCII_NON_WORD_TO_SPACE).split()
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return _WORD.findall(text)


def _strip_slack_markup(text: str) -> str:
    # Mentions and links arrive as <@U123>, <#C1|name> and <url|label>: only a
    # label is something the person typed.
    text = _SLACK_ANGLE.sub(lambda m: f" {m.group(2) or ''} ", text)
    return _SLACK_EMOJI.sub(" ", text)


def _fold_plural(word: str) -> str:
    if len(word) < 4 or word[-1] != "s" or word in _NOT_PLURAL or " " in word:
        return word
    if word.endswith(("ss", "us", "ops")):
        return word
    # Plurals in "-is" are short acronyms ("apis", "kpis"); longer words in
    # "-is" are singular ("analysis", "redis") or misspelt ("kubernetis").
    if word.endswith("is") and len(word) > 5:
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    return word[:-1]


def _match_phrase(words: list[str], start: int) -> tuple[str, int] | None:
    for length in range(min(_MAX_PHRASE_LEN, len(words) - start), 1, -1):
        canonical = PHRASES.get(tuple(words[start : start + length]))
        if canonical is not None:
            return canonical, length
    return None


def _doc_word_key(word: str) -> str:
    """Index key of one document word; "" when the word is not indexed."""
    if len(word) < 2 or word in STOPWORDS or word in TYPE_WORDS:
        return ""
    return _fold_plural(ABBREVIATIONS.get(word, word))


# Catalogues reuse a small vocabulary, so most words are looked up, not
# analysed.  Cleared when it grows past its cap so odd input cannot bloat it.
_DOC_WORD_KEYS: dict[str, str] = {}
_DOC_WORD_KEYS_CAP = 200_000


def _doc_keys(text: str, into: set[str]) -> None:
    words = _words(text)
    keys = list(map(_DOC_WORD_KEYS.get, words))
    if None in keys:
        if len(_DOC_WORD_KEYS) > _DOC_WORD_KEYS_CAP:
            _DOC_WORD_KEYS.clear()
        for i, key in enumerate(keys):
            if key is None:
                keys[i] = _DOC_WORD_KEYS[words[i]] = _doc_word_key(words[i])
    into.update(keys)
    into.discard("")
    if not _PHRASE_FIRST_WORDS.isdisjoint(words):
        for i, word in enumerate(words):
            if word in _PHRASE_FIRST_WORDS:
                phrase = _match_phrase(words, i)
                # Constituent words stay indexed too, so "learning" alone
                # still finds a "machine learning" asset.
                if phrase is not None and phrase[0] not in ASSET_TYPES:
                    into.add(phrase[0])


def _type_from_typo(word: str) -> str | None:
    if len(word) < _TYPE_TYPO_MIN_LEN:
        return None
    found = process.extractOne(
        word, _LONG_TYPE_WORDS, scorer=OSA.normalized_similarity, score_cutoff=_TYPE_TYPO_CUTOFF
    )
    return TYPE_WORDS[found[0]] if found else None


def parse_query(text: str) -> ParsedQuery:
    """Split a query into the asset type it names and normalised topic terms."""
    raw = text if isinstance(text, str) else ""
    words = _words(_strip_slack_markup(raw[:MAX_QUERY_CHARS]))
    asset_type: str | None = None
    terms: list[str] = []
    i = 0
    while i < len(words) and len(terms) < MAX_TERMS:
        word = words[i]
        phrase = _match_phrase(words, i) if word in _PHRASE_FIRST_WORDS else None
        if phrase is not None:
            canonical, length = phrase
            i += length
            if canonical in ASSET_TYPES:
                asset_type = asset_type or canonical
            elif canonical not in terms:
                terms.append(canonical)
            continue
        i += 1
        if word in TYPE_WORDS:
            asset_type = asset_type or TYPE_WORDS[word]
            continue
        if len(word) < 2 or word in STOPWORDS:
            continue
        if word not in ABBREVIATIONS:
            typo_type = _type_from_typo(word)
            if typo_type is not None:
                asset_type = asset_type or typo_type
                continue
        term = ABBREVIATIONS.get(word, word)
        if term not in terms:
            terms.append(term)
    return ParsedQuery(type=asset_type, terms=tuple(terms), raw=raw)


def popularity(doc: SearchDoc) -> float:
    """Feedback and usage squashed into 0..1; 0.5 for an asset nobody rated."""
    net = doc.useful - doc.not_useful + 0.5 * doc.shares
    return 0.5 + 0.5 * math.tanh(net / POPULARITY_SCALE)


# --------------------------------------------------------------------------
# Locking


class _ReadWriteLock:
    """Many concurrent searches, one writer; waiting writers block new readers
    so a steady stream of searches cannot starve an upsert."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


# --------------------------------------------------------------------------
# Index

# Doc sets are bitmaps: bit n stands for the doc in slot n.  Python ints do
# and/or/count over 100k docs in C at a few bytes per doc, where a set of ints
# spent some 55 bytes on each member.
_Bits = int

# A token's docs in one field, as stored: a bitmap once it holds at least one
# slot in _DENSE_SHARE (so the bitmap is never much bigger than the list),
# otherwise the slots themselves, turned into a bitmap when a search reads it.
_Posting = "int | array[int]"
_DENSE_SHARE = 64

# (weight, docs): the docs holding one matched token in one field, and what
# the term is worth there.  Docs None stands for "term not matched", used only
# when no asset matches every term.
_Pair = tuple[float, "_Bits | None"]

# (score, popularity, -id): popularity breaks ties that rounding makes between
# scores, then the older (lower) id wins, so the order is total and stable.
_Entry = tuple[float, float, int]

_FIELD_COUNT = len(FIELD_WEIGHTS)


def _slots_to_bits(slots: array[int]) -> _Bits:
    if len(slots) <= 2:
        bits = 0
        for slot in slots:
            bits |= 1 << slot
        return bits
    packed = bytearray((max(slots) >> 3) + 1)
    for slot in slots:
        packed[slot >> 3] |= 1 << (slot & 7)
    return int.from_bytes(packed, "little")


def _ascending_slots_to_bits(slots: array[int]) -> _Bits:
    """_slots_to_bits for a long list in ascending order: one byte per slot,
    read as a binary numeral in C, so each slot costs one store."""
    if not slots:
        return 0
    digits = bytearray(b"0") * (slots[-1] + 1)
    for slot in slots:
        digits[slot] = 49  # "1"
    digits.reverse()
    return int(digits, 2)


_NOT_INDEXED = -1


class _Builder:
    """Token codes (token id * _FIELD_COUNT + field) for the texts of a bulk
    build, and each code's slots in the order they were added."""

    def __init__(self, token_id: dict[str, int], token_names: list[str]) -> None:
        self.token_id = token_id
        self.token_names = token_names
        self.slots: list[array[int] | None] = [None] * (len(token_names) * _FIELD_COUNT)
        self.appends: list[Callable[[int], None] | None] = [None] * len(self.slots)
        # word -> its code in each field, _NOT_INDEXED for stopwords and the like.
        self.word_codes: tuple[dict[str, int], ...] = tuple({} for _ in FIELD_WEIGHTS)

    def code(self, key: str, field: int) -> int:
        number = self.token_id.get(key)
        if number is None:
            number = self.token_id[key] = len(self.token_names)
            self.token_names.append(key)
        code = number * _FIELD_COUNT + field
        if code >= len(self.slots):
            grow = code + _FIELD_COUNT - code % _FIELD_COUNT - len(self.slots)
            self.slots.extend([None] * grow)
            self.appends.extend([None] * grow)
        if self.slots[code] is None:
            slots = self.slots[code] = array("i")
            self.appends[code] = slots.append
        return code

    def text_codes(self, text: str, field: int) -> set[int]:
        """What _doc_keys finds in a text, as codes in ``field``."""
        # _words inlined for the ASCII case: this runs for every field of every document.
        words = text.encode().translate(_ASCII_FOLD).decode().split() if text.isascii() else _words(text)
        word_codes = self.word_codes[field]
        codes = set(map(word_codes.get, words))
        if None in codes:
            for word in words:
                if word not in word_codes:
                    key = _doc_word_key(word)
                    word_codes[word] = self.code(key, field) if key else _NOT_INDEXED
            codes = set(map(word_codes.__getitem__, words))
        codes.discard(_NOT_INDEXED)
        if not _PHRASE_FIRST_WORDS.isdisjoint(words):
            for i, word in enumerate(words):
                if word in _PHRASE_FIRST_WORDS:
                    phrase = _match_phrase(words, i)
                    if phrase is not None and phrase[0] not in ASSET_TYPES:
                        codes.add(self.code(phrase[0], field))
        return codes


def _bit_slots(bits: _Bits) -> list[int]:
    """The slots set in a bitmap, lowest first."""
    words = array("Q", bits.to_bytes(((bits.bit_length() + 63) >> 6) << 3, "little"))
    if sys.byteorder == "big":
        words.byteswap()
    slots: list[int] = []
    # compress() skips the empty words in C; only set bits cost Python steps.
    for index in compress(range(len(words)), words):
        word = words[index]
        base = index << 6
        while word:
            lowest = word & -word
            slots.append(base + lowest.bit_length() - 1)
            word ^= lowest
    return slots


def _all_of(bitmaps: list[_Bits]) -> _Bits:
    if not bitmaps:
        return 0
    ordered = sorted(bitmaps, key=int.bit_length)
    result = ordered[0]
    for bits in ordered[1:]:
        if not result:
            break
        result &= bits
    return result


def _any_of(bitmaps: Iterable[_Bits]) -> _Bits:
    result = 0
    for bits in bitmaps:
        result |= bits
    return result


def _score(matched: int, weight_sum: float, term_count: int, doc_popularity: float) -> float:
    """0..100.  Matching more terms always ranks higher: each matched term
    adds a whole unit before the textual quality (0..1) of the matches."""
    if term_count == 0:
        quality = (1.0 - POPULARITY_WEIGHT) + POPULARITY_WEIGHT * doc_popularity
        return 100.0 * quality
    if matched == 0:
        return 0.0
    textual = weight_sum / matched
    quality = (1.0 - POPULARITY_WEIGHT) * textual + POPULARITY_WEIGHT * doc_popularity
    return 100.0 * (matched - 1 + quality) / term_count


SCORE_EACH_LIMIT = 600
"""Up to this many matching docs, each is scored directly; above it the page is
assembled lazily from the best-scoring field combinations downwards."""

MAX_TOKENS_PER_TERM = 8


class AssetIndex:
    """Thread-safe in-memory index of published assets.

    Only what searching needs is kept: each doc's type, popularity and index
    tokens, not its text.  Docs live in slots (0..n); a removed doc's slot is
    cleared from every posting and reused by the next insert.  Per-doc data
    sits in flat arrays rather than one object per doc: besides being
    smaller, objects made while the caller's rows are alive would fill the
    gaps between them and keep their memory from being returned."""

    def __init__(self, docs: Iterable[SearchDoc] = ()) -> None:
        self._lock = _ReadWriteLock()
        # Doc ids in order, and the slot of each: bisect finds a doc's slot.
        self._sorted_ids = array("q")
        self._slot_of_sorted = array("i")
        self._id_of = array("q")  # slot -> doc id
        self._popularity = array("d")  # slot -> popularity(doc)
        # Each doc's tokens as token id * _FIELD_COUNT + field, so a removal
        # clears exactly the postings the doc was added to: slot -> its run
        # in _codes.  A re-indexed doc appends a new run; dead runs are
        # squeezed out once they make up half the array.
        self._codes = array("I")
        self._codes_start = array("I")
        self._codes_count = array("I")
        self._dead_codes = 0
        self._free_slots: list[int] = []
        self._token_id: dict[str, int] = {}
        self._token_names: list[str] = []
        # token -> docs holding it, once per field (for ranking).
        self._postings: tuple[dict[str, _Posting], ...] = tuple({} for _ in FIELD_WEIGHTS)
        self._type_bits: dict[str, _Bits] = dict.fromkeys(ASSET_TYPES, 0)
        self._live_bits: _Bits = 0
        self._vocabulary: list[str] = []  # sorted, for bisect prefix lookups
        # A typo can only pass FUZZY_CUTOFF against a token of similar length,
        # so fuzzy matching scans only the buckets of eligible lengths.
        self._tokens_by_length: defaultdict[int, list[str]] = defaultdict(list)
        self._known_tokens: set[str] = set()
        # Slots in popularity order, best first, overall and per type: walking
        # it finds the most popular members of a large doc set without
        # sorting the set.
        self._ranked = array("i")
        self._ranked_by_type: dict[str, array[int]] = {t: array("i") for t in ASSET_TYPES}
        with self._lock.writing():
            self._load_locked(docs)

    def __len__(self) -> int:
        return len(self._sorted_ids)

    def _slot_for(self, doc_id: int) -> int | None:
        at = bisect.bisect_left(self._sorted_ids, doc_id)
        if at < len(self._sorted_ids) and self._sorted_ids[at] == doc_id:
            return self._slot_of_sorted[at]
        return None

    def _doc_codes(self, slot: int) -> array[int]:
        start = self._codes_start[slot]
        return self._codes[start : start + self._codes_count[slot]]

    def _drop_codes(self, slot: int) -> None:
        self._dead_codes += self._codes_count[slot]
        self._codes_count[slot] = 0
        if self._dead_codes > 4096 and 2 * self._dead_codes > len(self._codes):
            live = array("I")
            for other in range(len(self._codes_start)):
                run = self._doc_codes(other)
                self._codes_start[other] = len(live)
                live.extend(run)
            self._codes = live
            self._dead_codes = 0

    def _rank_of(self, slot: int) -> tuple[float, int]:
        return -self._popularity[slot], self._id_of[slot]

    # -- writes -------------------------------------------------------------

    def upsert(self, doc: SearchDoc) -> None:
        if doc.type not in ASSET_TYPES:
            raise ValueError(f"unknown asset type {doc.type!r}; expected one of {ASSET_TYPES}")
        with self._lock.writing():
            self._remove_locked(doc.id)
            self._insert_locked(doc)

    def remove(self, doc_id: int) -> None:
        with self._lock.writing():
            self._remove_locked(doc_id)

    @staticmethod
    def _field_keys(doc: SearchDoc) -> tuple[set[str], set[str], set[str], set[str]]:
        title: set[str] = set()
        topics: set[str] = set()
        products: set[str] = set()
        summary: set[str] = set()
        _doc_keys(doc.title, title)
        # One pass per field.  A phrase may then span two entries (topics
        # "machine" and "learning"), which still describes the asset.
        _doc_keys(" ".join(doc.topics), topics)
        _doc_keys(" ".join(doc.products), products)
        _doc_keys(doc.summary, summary)
        return title, topics, products, summary

    def _append_codes(self, slot: int, field_keys: tuple[set[str], ...]) -> None:
        token_id = self._token_id
        codes = self._codes
        self._codes_start[slot] = len(codes)
        for field, keys in enumerate(field_keys):
            for key in keys:
                number = token_id.get(key)
                if number is None:
                    number = token_id[key] = len(self._token_names)
                    self._token_names.append(key)
                codes.append(number * _FIELD_COUNT + field)
        self._codes_count[slot] = len(codes) - self._codes_start[slot]

    def _load_locked(self, docs: Iterable[SearchDoc]) -> None:
        """Initial build: the same structures as repeated upserts, without
        keeping lists sorted or bitmaps rebuilt after every document.  Docs
        are indexed as they stream in, so the caller's list need not exist
        next to a copy of it.

        Per document the work is a few calls whose loops run in C: its texts
        become token codes (a word seen before costs one lookup), and each
        code's slot list gets the slot.  Bitmaps are assembled once at the end."""
        builder = _Builder(self._token_id, self._token_names)
        text_codes, code_appends = builder.text_codes, builder.appends
        # Product lists come from a short list and repeat across the catalogue:
        # each combination is read once.  Titles and topic lists repeat less,
        # and keeping every distinct one until the end would cost more memory
        # than the lookups save time.  Lists rather than tuples: tuples of these
        # sizes would stay behind in the interpreter's free lists.
        product_lists: dict[tuple[str, ...], list[int]] = {}
        type_slots: dict[str, array[int]] = {t: array("i") for t in ASSET_TYPES}
        id_of, codes = self._id_of, self._codes
        add_id, add_popularity, add_codes = id_of.append, self._popularity.append, codes.extend
        add_start, add_count = self._codes_start.append, self._codes_count.append
        for doc in docs:
            if doc.type not in ASSET_TYPES:
                raise ValueError(f"unknown asset type {doc.type!r}; expected one of {ASSET_TYPES}")
            slot = len(id_of)
            add_id(doc.id)
            add_popularity(popularity(doc))
            type_slots[doc.type].append(slot)
            products = product_lists.get(doc.products)
            if products is None:
                products = product_lists[doc.products] = list(text_codes(" ".join(doc.products), _PRODUCTS))
            # One pass per field.  A phrase may then span two entries (topics
            # "machine" and "learning"), which still describes the asset.
            doc_codes = [
                *text_codes(doc.title, _TITLE),
                *text_codes(" ".join(doc.topics), _TOPICS),
                *products,
                *text_codes(doc.summary, _SUMMARY),
            ]
            add_start(len(codes))
            add_count(len(doc_codes))
            add_codes(doc_codes)
            # any() only drives the appends (each returns None) without a Python loop.
            any(map(call, map(code_appends.__getitem__, doc_codes), repeat(slot)))
        slots_of_code = builder.slots
        del product_lists, builder, text_codes, code_appends
        # An id given twice: the last version wins, earlier slots are freed.
        # The sort is stable, so equal ids stay in slot order.
        by_id = sorted(range(len(id_of)), key=id_of.__getitem__)
        ids_in_order = array("q", map(id_of.__getitem__, by_id))
        live = by_id
        if any(map(eq, ids_in_order, ids_in_order[1:])):
            superseded = [slot for slot, later in pairwise(by_id) if id_of[slot] == id_of[later]]
            for slot in superseded:
                for code in self._doc_codes(slot):
                    slots_of_code[code].remove(slot)
                for slots in type_slots.values():
                    if slot in slots:
                        slots.remove(slot)
                self._drop_codes(slot)
                self._free_slots.append(slot)
            freed = set(superseded)
            live = [slot for slot in by_id if slot not in freed]
            ids_in_order = array("q", map(id_of.__getitem__, live))
        self._sorted_ids = ids_in_order
        self._slot_of_sorted = array("i", live)
        dense = max(1, len(id_of) // _DENSE_SHARE)
        postings: tuple[dict[str, _Posting], ...] = tuple({} for _ in FIELD_WEIGHTS)
        names = self._token_names
        for code, slots in enumerate(slots_of_code):
            if slots:
                number, field = divmod(code, _FIELD_COUNT)
                if len(slots) >= dense:
                    postings[field][names[number]] = _ascending_slots_to_bits(slots)
                    slots_of_code[code] = None  # its memory can go now
                else:
                    postings[field][names[number]] = slots
        del slots_of_code
        self._postings = postings
        self._type_bits = {t: _ascending_slots_to_bits(slots) for t, slots in type_slots.items()}
        self._live_bits = _any_of(self._type_bits.values())
        self._known_tokens = set().union(*self._postings)
        self._vocabulary = sorted(self._known_tokens)
        for token in self._vocabulary:
            self._tokens_by_length[len(token)].append(token)
        # Rank order is (-popularity, id): a stable sort by popularity of
        # slots already in id order, keyed in C rather than by _rank_of.
        negated = array("d", map(neg, self._popularity))
        self._ranked = array("i", sorted(live, key=negated.__getitem__))
        for t, slots in type_slots.items():
            in_id_order = sorted(slots, key=id_of.__getitem__)
            self._ranked_by_type[t] = array("i", sorted(in_id_order, key=negated.__getitem__))

    def _insert_locked(self, doc: SearchDoc) -> None:
        if doc.type not in ASSET_TYPES:
            raise ValueError(f"unknown asset type {doc.type!r}; expected one of {ASSET_TYPES}")
        if self._free_slots:
            slot = self._free_slots.pop()
            self._id_of[slot] = doc.id
            self._popularity[slot] = popularity(doc)
        else:
            slot = len(self._id_of)
            self._id_of.append(doc.id)
            self._popularity.append(popularity(doc))
            self._codes_start.append(0)
            self._codes_count.append(0)
        at = bisect.bisect_left(self._sorted_ids, doc.id)
        self._sorted_ids.insert(at, doc.id)
        self._slot_of_sorted.insert(at, slot)
        bisect.insort(self._ranked, slot, key=self._rank_of)
        bisect.insort(self._ranked_by_type[doc.type], slot, key=self._rank_of)
        bit = 1 << slot
        self._type_bits[doc.type] |= bit
        self._live_bits |= bit
        field_keys = self._field_keys(doc)
        self._append_codes(slot, field_keys)
        dense = max(1, len(self._id_of) // _DENSE_SHARE)
        for holders_by_token, keys in zip(self._postings, field_keys):
            for key in keys:
                holders = holders_by_token.get(key)
                if holders is None:
                    holders_by_token[key] = array("i", (slot,))
                    if key not in self._known_tokens:
                        self._known_tokens.add(key)
                        bisect.insort(self._vocabulary, key)
                        self._tokens_by_length[len(key)].append(key)
                elif isinstance(holders, int):
                    holders_by_token[key] = holders | bit
                else:
                    holders.append(slot)
                    if len(holders) >= dense:
                        holders_by_token[key] = _slots_to_bits(holders)

    def _remove_locked(self, doc_id: int) -> None:
        slot = self._slot_for(doc_id)
        if slot is None:
            return
        at = bisect.bisect_left(self._sorted_ids, doc_id)
        del self._sorted_ids[at]
        del self._slot_of_sorted[at]
        rank = self._rank_of(slot)
        asset_type = next(t for t, bits in self._type_bits.items() if bits >> slot & 1)
        for ranked in (self._ranked, self._ranked_by_type[asset_type]):
            del ranked[bisect.bisect_left(ranked, rank, key=self._rank_of)]
        bit = 1 << slot
        self._type_bits[asset_type] &= ~bit
        self._live_bits &= ~bit
        codes = self._doc_codes(slot)
        self._drop_codes(slot)
        self._free_slots.append(slot)
        for code in codes:
            number, field = divmod(code, _FIELD_COUNT)
            key = self._token_names[number]
            holders_by_token = self._postings[field]
            holders = holders_by_token[key]
            if isinstance(holders, int):
                holders &= ~bit
                holders_by_token[key] = holders
            else:
                holders.remove(slot)
            if holders:
                continue
            del holders_by_token[key]
            if any(key in other for other in self._postings):
                continue
            self._known_tokens.discard(key)
            del self._vocabulary[bisect.bisect_left(self._vocabulary, key)]
            self._tokens_by_length[len(key)].remove(key)

    # -- reads --------------------------------------------------------------

    def search(self, text: str, *, limit: int = 10, offset: int = 0) -> SearchResult:
        query = parse_query(text)
        limit = max(0, int(limit))
        offset = max(0, int(offset))
        with self._lock.reading():
            return self._search_locked(query, limit, offset)

    def _search_locked(self, query: ParsedQuery, limit: int, offset: int) -> SearchResult:
        need = offset + limit
        if not query.terms:
            if query.type is None:
                return SearchResult(query, (), 0, ())
            ranked = self._ranked_by_type[query.type]
            hits = tuple(
                Hit(id=self._id_of[slot], score=round(_score(0, 0.0, 0, self._popularity[slot]), 2))
                for slot in ranked[offset:need]
            )
            return SearchResult(query, hits, len(ranked), ())

        scope = self._type_bits[query.type] if query.type else self._live_bits
        term_pairs = [self._pairs(self._match_vocabulary(term)) for term in query.terms]
        # The docs each term matches in any field.
        term_docs = [_any_of(bits for _, bits in pairs) for pairs in term_pairs]

        everywhere = _all_of(term_docs) & scope
        total = everywhere.bit_count()
        if total:
            page = self._page(term_pairs, everywhere, total, query.type, need, partial=False)
            return SearchResult(query, self._hits(page, offset), total, ())

        anywhere = _any_of(term_docs) & scope
        total = anywhere.bit_count()
        if not total:
            return SearchResult(query, (), 0, self._suggest([_fold_plural(term) for term in query.terms]))
        page = self._page(term_pairs, anywhere, total, query.type, need, partial=True)
        return SearchResult(query, self._hits(page, offset), total, ())

    @staticmethod
    def _hits(page: list[_Entry], offset: int) -> tuple[Hit, ...]:
        ordered = sorted(page, reverse=True)[offset:]
        return tuple(Hit(id=-neg_id, score=round(score, 2)) for score, _, neg_id in ordered)

    def _match_vocabulary(self, term: str) -> list[tuple[str, float]]:
        """Catalogue tokens a query term stands for, with their similarity, best first."""
        found: dict[str, float] = {}
        vocabulary = self._vocabulary
        key = _fold_plural(term)
        # A typo in a plural can sit closer to the catalogue word before the
        # "s" is folded ("kuberentes") or after it ("dashbords"): try both.
        spellings = (key,) if key == term else (key, term)
        for spelling in spellings:
            if spelling in self._known_tokens:
                found[spelling] = 1.0
        # A word the catalogue already uses means that word: its prefix
        # extensions are other words ("slo" is not "slow").
        if len(key) >= MIN_PREFIX_LEN and not found:
            start = bisect.bisect_right(vocabulary, key)
            for token in vocabulary[start : start + MAX_PREFIX_TOKENS]:
                if not token.startswith(key):
                    break
                found[token] = PREFIX_FLOOR + (1.0 - PREFIX_FLOOR) * len(key) / len(token)
        for spelling in spellings:
            if len(spelling) < MIN_FUZZY_LEN:
                continue
            for token, similarity, _ in process.extract(
                spelling,
                self._tokens_near_length(len(spelling)),
                scorer=OSA.normalized_similarity,
                score_cutoff=FUZZY_CUTOFF,
                limit=MAX_FUZZY_TOKENS,
            ):
                if similarity > found.get(token, 0.0):
                    found[token] = similarity
        broader = BROADER_TERMS.get(term)
        if broader is not None and broader in self._known_tokens:
            found[broader] = max(found.get(broader, 0.0), RELATED_SIMILARITY)
        best = sorted(found.items(), key=lambda item: (-item[1], item[0]))
        return best[:MAX_TOKENS_PER_TERM]

    def _tokens_near_length(self, length: int) -> list[str]:
        """Tokens long or short enough to be within FUZZY_CUTOFF of a word of
        ``length``: one edit per character of difference at least."""
        shortest = math.ceil(length * FUZZY_CUTOFF - 1e-9)
        longest = math.floor(length / FUZZY_CUTOFF + 1e-9)
        buckets = self._tokens_by_length
        return list(chain.from_iterable(buckets[n] for n in range(shortest, longest + 1) if n in buckets))

    def _bits(self, holders: _Posting) -> _Bits:
        return holders if isinstance(holders, int) else _slots_to_bits(holders)

    def _member_bytes(self, bits: _Bits) -> bytes:
        """A bitmap as bytes covering every slot, for O(1) membership tests."""
        return bits.to_bytes((len(self._id_of) + 7) >> 3, "little")

    def _pairs(self, tokens: list[tuple[str, float]]) -> list[_Pair]:
        """Every (field, token) place a term can match, most valuable first."""
        pairs: list[_Pair] = []
        for token, similarity in tokens:
            for field, holders_by_token in enumerate(self._postings):
                holders = holders_by_token.get(token)
                if holders is not None:
                    pairs.append((similarity * FIELD_WEIGHTS[field], self._bits(holders)))
        pairs.sort(key=lambda pair: pair[0], reverse=True)
        return pairs

    def _entry(self, slot: int, matched: int, weight_sum: float, term_count: int) -> _Entry:
        doc_popularity = self._popularity[slot]
        return _score(matched, weight_sum, term_count, doc_popularity), doc_popularity, -self._id_of[slot]

    def _page(
        self,
        term_pairs: list[list[_Pair]],
        candidates: _Bits,
        total: int,
        asset_type: str | None,
        need: int,
        *,
        partial: bool,
    ) -> list[_Entry]:
        """The best ``need`` entries among the candidates."""
        if need == 0:
            return []
        if total <= SCORE_EACH_LIMIT:
            return self._page_by_scoring_each(term_pairs, candidates, need)
        return self._page_by_field_combinations(term_pairs, candidates, asset_type, need, partial=partial)

    def _page_by_scoring_each(self, term_pairs: list[list[_Pair]], candidates: _Bits, need: int) -> list[_Entry]:
        term_count = len(term_pairs)
        # Each place's bitmap is unpacked for membership tests only when some
        # candidate gets that far down its term's places.
        unpacked: list[list[bytes | None]] = [[None] * len(pairs) for pairs in term_pairs]
        best: list[_Entry] = []
        for slot in _bit_slots(candidates):
            byte, mask = slot >> 3, 1 << (slot & 7)
            matched = 0
            weight_sum = 0.0
            for pairs, members_of in zip(term_pairs, unpacked):
                for place, (weight, holders) in enumerate(pairs):
                    members = members_of[place]
                    if members is None:
                        members = members_of[place] = self._member_bytes(holders)
                    if members[byte] & mask:
                        matched += 1
                        weight_sum += weight
                        break
            entry = self._entry(slot, matched, weight_sum, term_count)
            if len(best) < need:
                heapq.heappush(best, entry)
            elif entry > best[0]:
                heapq.heapreplace(best, entry)
        return best

    def _page_by_field_combinations(
        self,
        term_pairs: list[list[_Pair]],
        candidates: _Bits,
        asset_type: str | None,
        need: int,
        *,
        partial: bool,
    ) -> list[_Entry]:
        """Visit combinations of (term -> place it matched) best first, taking
        the most popular docs of each, until no unvisited combination can
        reach the page.  Work follows the page size, not the match count."""
        term_count = len(term_pairs)
        if partial:
            term_pairs = [pairs + [(0.0, None)] for pairs in term_pairs]

        def ceiling(combination: tuple[int, ...]) -> tuple[float, int, float]:
            matched = 0
            weight_sum = 0.0
            for pairs, index in zip(term_pairs, combination):
                weight, holders = pairs[index]
                if holders is not None:
                    matched += 1
                    weight_sum += weight
            return _score(matched, weight_sum, term_count, 1.0), matched, weight_sum

        # Docs matching no term at all are never candidates, so the
        # candidates (of the asked type, already) bound every combination.
        start = (0,) * term_count
        frontier = [(-ceiling(start)[0], start)]
        visited = {start}
        best: list[_Entry] = []
        while frontier:
            negative_ceiling, combination = heapq.heappop(frontier)
            # Strict: a combination whose ceiling equals the page minimum can
            # still hold an equal score with a lower id, which ranks first.
            if len(best) >= need and -negative_ceiling < best[0][0]:
                break
            for position in range(term_count):
                if combination[position] + 1 < len(term_pairs[position]):
                    following = combination[:position] + (combination[position] + 1,) + combination[position + 1 :]
                    if following not in visited:
                        visited.add(following)
                        heapq.heappush(frontier, (-ceiling(following)[0], following))
            _, matched, weight_sum = ceiling(combination)
            if not matched:
                continue
            members = candidates
            for pairs, index in zip(term_pairs, combination):
                holders = pairs[index][1]
                if holders is not None:
                    members &= holders
                # A doc belongs to the first place its term matched; better
                # places were visited in their own combination.
                for _, earlier in pairs[:index]:
                    if not members:
                        break
                    if earlier is not None:
                        members &= ~earlier
                if not members:
                    break
            for slot in self._most_popular(members, asset_type, need):
                entry = self._entry(slot, matched, weight_sum, term_count)
                if len(best) < need:
                    heapq.heappush(best, entry)
                elif entry > best[0]:
                    heapq.heapreplace(best, entry)
                else:
                    break
        return best

    def _most_popular(self, members: _Bits, asset_type: str | None, count: int) -> list[int]:
        """Up to ``count`` slots of the members (all of ``asset_type`` when
        one is given), most popular first."""
        size = members.bit_count() if members else 0
        if not size:
            return []
        ranked = self._ranked_by_type[asset_type] if asset_type else self._ranked
        # Walking the popularity order takes about count * N / size steps when
        # members are spread evenly; unpacking the members takes size steps.
        expected_walk = count * len(ranked) // size
        if expected_walk < size:
            present = self._member_bytes(members)
            picked: list[int] = []
            for slot in ranked[: 4 * expected_walk + 256]:
                if present[slot >> 3] >> (slot & 7) & 1:
                    picked.append(slot)
                    if len(picked) == count:
                        return picked
        return heapq.nsmallest(count, _bit_slots(members), key=self._rank_of)

    def _suggest(self, keys: list[str]) -> tuple[str, ...]:
        named = self._postings[_TITLE], self._postings[_TOPICS], self._postings[_PRODUCTS]
        scored: dict[str, float] = {}
        for key in keys:
            if len(key) < MIN_PREFIX_LEN:
                continue
            for token, score, _ in process.extract(
                key, self._vocabulary, scorer=fuzz.ratio, score_cutoff=SUGGESTION_CUTOFF, limit=20
            ):
                if token == key or not any(token in holders for holders in named):
                    continue
                scored[token] = max(score, scored.get(token, 0.0))
        ordered = sorted(scored.items(), key=lambda item: (-item[1], item[0]))
        return tuple(token for token, _ in ordered[:MAX_SUGGESTIONS])

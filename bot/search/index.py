"""The in-memory index (`AssetIndex`): its data, the bulk build and single-document writes."""

from __future__ import annotations

import bisect
import threading
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import pairwise, repeat
from operator import call, eq, neg

from bot.search.documents import SearchDoc, popularity
from bot.search.postings import (
    _DENSE_SHARE,
    _FIELD_COUNT,
    _any_of,
    _ascending_slots_to_bits,
    _Bits,
    _Builder,
    _Posting,
    _slots_to_bits,
)
from bot.search.ranking import Ranking
from bot.search.vocabulary import (
    _PARTS,
    _PRODUCTS,
    _SUMMARY,
    _TITLE,
    _TOPICS,
    ASSET_TYPES,
    FIELD_WEIGHTS,
    _doc_keys,
)

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



class AssetIndex(Ranking):
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
    def _field_keys(doc: SearchDoc) -> tuple[set[str], set[str], set[str], set[str], set[str]]:
        title: set[str] = set()
        topics: set[str] = set()
        products: set[str] = set()
        summary: set[str] = set()
        parts: set[str] = set()
        _doc_keys(doc.title, title)
        # One pass per field.  A phrase may then span two entries (topics
        # "machine" and "learning"), which still describes the asset.
        _doc_keys(" ".join(doc.topics), topics)
        _doc_keys(" ".join(doc.products), products)
        _doc_keys(doc.summary, summary)
        _doc_keys(" ".join(doc.parts), parts)
        return title, topics, products, summary, parts

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
        slots_of_code, type_slots = self._index_stream(docs)
        live = self._keep_last_of_each_id(slots_of_code, type_slots)
        self._assemble(slots_of_code, type_slots, live)

    def _index_stream(self, docs: Iterable[SearchDoc]) -> tuple[list[array[int] | None], dict[str, array[int]]]:
        """Each doc's slot, id, popularity and token codes; per code, its slots; per type, its slots."""
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
                *(text_codes(" ".join(doc.parts), _PARTS) if doc.parts else ()),
            ]
            add_start(len(codes))
            add_count(len(doc_codes))
            add_codes(doc_codes)
            # any() only drives the appends (each returns None) without a Python loop.
            any(map(call, map(code_appends.__getitem__, doc_codes), repeat(slot)))
        return builder.slots, type_slots

    def _keep_last_of_each_id(self, slots_of_code: list[array[int] | None],
                              type_slots: dict[str, array[int]]) -> list[int]:
        """The live slots in id order; sets the sorted ids."""
        id_of = self._id_of
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
        return live

    def _assemble(self, slots_of_code: list[array[int] | None], type_slots: dict[str, array[int]],
                  live: list[int]) -> None:
        """Postings, type bitmaps, the vocabulary and the popularity orders, once, from the streamed codes."""
        id_of = self._id_of
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

"""Doc sets as bitmaps over doc slots, and the bulk builder of token postings."""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable, Iterable
from itertools import compress

from bot.search.vocabulary import (
    _ASCII_FOLD,
    _PHRASE_FIRST_WORDS,
    ASSET_TYPES,
    FIELD_WEIGHTS,
    _doc_word_key,
    _match_phrase,
    _words,
)

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


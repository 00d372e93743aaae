"""Reading the index: matching query terms against the vocabulary, scoring, and building one page
of hits. A base of `AssetIndex`, which holds the data these methods read."""

from __future__ import annotations

import bisect
import heapq
import math
from array import array
from collections import defaultdict
from itertools import chain
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.search.documents import Hit, ParsedQuery, SearchResult
from bot.search.postings import _all_of, _any_of, _bit_slots, _Bits, _Entry, _Pair, _Posting, _slots_to_bits
from bot.search.query import parse_query
from bot.search.vocabulary import (
    _PRODUCTS,
    _TITLE,
    _TOPICS,
    BROADER_TERMS,
    FIELD_WEIGHTS,
    FUZZY_CUTOFF,
    MAX_FUZZY_TOKENS,
    MAX_PREFIX_TOKENS,
    MAX_SUGGESTIONS,
    MIN_FUZZY_LEN,
    MIN_PREFIX_LEN,
    POPULARITY_WEIGHT,
    PREFIX_FLOOR,
    RELATED_SIMILARITY,
    SUGGESTION_CUTOFF,
    _fold_plural,
)


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



def _members_of(combination: tuple[int, ...], term_pairs: list[list[_Pair]], candidates: _Bits) -> _Bits:
    """The candidates whose terms each matched first in the place the combination names."""
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
    return members


class Ranking:
    """The read side of `AssetIndex`, which builds and keeps the data below (see its comments)."""

    _lock: Any  # a reader-writer lock: many searches at once, never during a write
    _id_of: array[int]
    _popularity: array[float]
    _postings: tuple[dict[str, _Posting], ...]
    _type_bits: dict[str, _Bits]
    _live_bits: _Bits
    _vocabulary: list[str]
    _tokens_by_length: defaultdict[int, list[str]]
    _known_tokens: set[str]
    _ranked: array[int]
    _ranked_by_type: dict[str, array[int]]

    def _rank_of(self, slot: int) -> tuple[float, int]:
        return -self._popularity[slot], self._id_of[slot]

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
        term_tokens = [self._match_vocabulary(term) for term in query.terms]
        term_pairs = [self._pairs(tokens) for tokens in term_tokens]
        # The docs each term matches in any field.
        term_docs = [_any_of(bits for _, bits in pairs) for pairs in term_pairs]
        corrections = tuple(
            (term, corrected) for term, tokens, docs in zip(query.terms, term_tokens, term_docs)
            if docs & scope and (corrected := self._correction(term, tokens)) is not None
        )

        everywhere = _all_of(term_docs) & scope
        total = everywhere.bit_count()
        if total:
            page = self._page(term_pairs, everywhere, total, query.type, need, partial=False)
            return SearchResult(query, self._hits(page, offset), total, (), corrections)

        anywhere = _any_of(term_docs) & scope
        total = anywhere.bit_count()
        if not total:
            return SearchResult(query, (), 0, self._suggest([_fold_plural(term) for term in query.terms]))
        # The best answer is worked out whatever the page, so every page tells the same story.
        best = self._page(term_pairs, anywhere, total, query.type, 1, partial=True)
        page = best if need == 1 else self._page(term_pairs, anywhere, total, query.type, need, partial=True)
        top = self._slot_for(-max(best)[2]) if best else None
        covered = [top is not None and bool(docs >> top & 1) for docs in term_docs]
        return SearchResult(
            query, self._hits(page, offset), total, (), corrections,
            matched=tuple(term for term, hit in zip(query.terms, covered) if hit),
            unmatched=tuple(term for term, hit in zip(query.terms, covered) if not hit),
        )

    def _correction(self, term: str, tokens: list[tuple[str, float]]) -> str | None:
        """The catalogue word a term was read as when it matched only through a typo ("obervability"
        read as "observability"); None for a word the catalogue has, a prefix, or a related topic."""
        key = _fold_plural(term)
        if not tokens or term in self._known_tokens or key in self._known_tokens:
            return None
        token, similarity = tokens[0]
        if similarity >= 1.0 or token.startswith(key) or token == BROADER_TERMS.get(term):
            return None
        return token

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
            members = _members_of(combination, term_pairs, candidates)
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

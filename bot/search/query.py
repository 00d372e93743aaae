"""From what a person typed to a `ParsedQuery`: the asset type it names and its topic terms."""

from __future__ import annotations

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.search.documents import ParsedQuery
from bot.search.vocabulary import (
    _LONG_TYPE_WORDS,
    _PHRASE_FIRST_WORDS,
    _TYPE_TYPO_CUTOFF,
    _TYPE_TYPO_MIN_LEN,
    ABBREVIATIONS,
    ASSET_TYPES,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    STOPWORDS,
    TYPE_WORDS,
    _match_phrase,
    _strip_slack_markup,
    _words,
)


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
    typed: list[str] = []
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
                typed.extend(words[i - length : i])
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
            typed.append(word)
    return ParsedQuery(type=asset_type, terms=tuple(terms), raw=raw, words=tuple(typed))


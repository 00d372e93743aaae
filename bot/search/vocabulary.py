"""What words mean to the search: asset-type words, abbreviations, phrases, filler, and how a text
becomes index keys."""

from __future__ import annotations

import re
import unicodedata

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

# Part labels ("Student notebooks", "Success criteria") say what an asset comes with, not what it is
# about: they count, below everything else.
FIELD_WEIGHTS = (1.0, 0.95, 0.75, 0.5, 0.4)  # title, topics, products, summary, part labels
_TITLE, _TOPICS, _PRODUCTS, _SUMMARY, _PARTS = range(5)  # field positions in FIELD_WEIGHTS

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

OVERDUE_PENALTY = 0.25
"""Popularity an asset whose review is overdue loses (of 0..1).  Bounded by
POPULARITY_WEIGHT like feedback: at most 0.25 x 5 = 1.25 points of a 100-point
single-term score, so it reorders near-ties only and never hides an asset
(README › Keeping assets true: reviews)."""

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


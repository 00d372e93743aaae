"""What an SE typing ``/asset ...`` gets back from the asset search engine."""

from __future__ import annotations

import random
import threading
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.search import ASSET_TYPES, AssetIndex, Hit, SearchDoc, parse_query

OBSERVABILITY_DEMO = SearchDoc(
    id=1,
    title="Observability in 15 minutes: from alert to root cause",
    type="demo",
    summary="Follows a latency alert through dashboards, traces and correlated logs.",
    topics=("observability", "apm", "logging"),
    products=("Observability",),
)
SECURITY_DEMO = SearchDoc(
    id=2,
    title="Threat hunting with the SIEM",
    type="demo",
    summary="A compromised service account from first suspicious login to containment.",
    topics=("security", "threat hunting"),
    products=("Security",),
)
KUBERNETES_WORKSHOP = SearchDoc(
    id=3,
    title="Kubernetes cluster health at a glance",
    type="workshop",
    summary="From a fleet overview down to a crash-looping pod in four clicks.",
    topics=("kubernetes", "infrastructure monitoring"),
    products=("Kubernetes Operator",),
)
DASHBOARD_WALKTHROUGH = SearchDoc(
    id=4,
    title="Building a service dashboard",
    type="feature_walkthrough",
    summary="Step by step through panels, variables and sharing.",
    topics=("dashboard", "observability"),
    products=("Observability",),
)
VECTOR_PROOFSHOP = SearchDoc(
    id=5,
    title="Vector search relevance tuning",
    type="proofshop",
    summary="Hybrid retrieval with a customer's own product catalogue, scored against their judgement list.",
    topics=("vector search", "machine learning"),
    products=("Vector DB",),
)
OTEL_WALKTHROUGH = SearchDoc(
    id=6,
    title="Instrumenting a Java service with OpenTelemetry",
    type="feature_walkthrough",
    summary="Auto-instrumentation, then custom spans for the checkout flow.",
    topics=("opentelemetry", "apm", "tracing"),
    products=("Observability",),
)
DATABASE_DEMO = SearchDoc(
    id=7,
    title="Slow query forensics",
    type="demo",
    summary="Finds the one database query that slows every checkout.",
    topics=("database monitoring",),
    products=("Observability",),
)

CATALOGUE = (
    OBSERVABILITY_DEMO,
    SECURITY_DEMO,
    KUBERNETES_WORKSHOP,
    DASHBOARD_WALKTHROUGH,
    VECTOR_PROOFSHOP,
    OTEL_WALKTHROUGH,
    DATABASE_DEMO,
)


@pytest.fixture()
def index() -> AssetIndex:
    return AssetIndex(CATALOGUE)


def ids(result) -> list[int]:
    return [hit.id for hit in result.hits]


# -- types named in the query ------------------------------------------------

TYPE_FORMS = [
    ("demo", "demo"),
    ("demos", "demo"),
    ("Demos", "demo"),
    ("walkthrough", "feature_walkthrough"),
    ("walk-through", "feature_walkthrough"),
    ("walk through", "feature_walkthrough"),
    ("feature walkthrough", "feature_walkthrough"),
    ("feature walkthroughs", "feature_walkthrough"),
    ("Feature Walk-Throughs", "feature_walkthrough"),
    ("proofshop", "proofshop"),
    ("proof shop", "proofshop"),
    ("proof-shop", "proofshop"),
    ("proofshops", "proofshop"),
    ("workshop", "workshop"),
    ("workshops", "workshop"),
    ("marketing workshop", "workshop"),
]


@pytest.mark.parametrize(("form", "asset_type"), TYPE_FORMS)
def test_a_type_word_alone_lists_every_asset_of_that_type(index, form, asset_type):
    result = index.search(form)

    expected = {doc.id for doc in CATALOGUE if doc.type == asset_type}
    assert result.query.type == asset_type
    assert result.query.terms == ()
    assert set(ids(result)) == expected
    assert result.total == len(expected)


@pytest.mark.parametrize(("form", "asset_type"), TYPE_FORMS)
def test_a_type_word_filters_a_topic_search_and_is_not_a_topic(index, form, asset_type):
    result = index.search(f"{form} observability")

    assert result.query.terms == ("observability",)
    assert all(CATALOGUE[hit.id - 1].type == asset_type for hit in result.hits)


def test_demo_observability_returns_observability_demos_only(index):
    result = index.search("/asset demo observability")

    # The security demo is a demo but not about observability; the dashboard
    # walkthrough is about observability but not a demo.
    assert ids(result)[0] == OBSERVABILITY_DEMO.id
    assert SECURITY_DEMO.id not in ids(result)
    assert DASHBOARD_WALKTHROUGH.id not in ids(result)


def test_a_misspelt_type_word_still_filters():
    assert parse_query("wrokshop kubernetes").type == "workshop"
    assert parse_query("walktrough").type == "feature_walkthrough"


def test_type_only_query_puts_the_best_rated_asset_first():
    index = AssetIndex(
        [
            SearchDoc(id=10, title="Plain demo", type="demo"),
            SearchDoc(id=11, title="Loved demo", type="demo", useful=30, shares=5),
            SearchDoc(id=12, title="Disliked demo", type="demo", not_useful=8),
            SearchDoc(id=13, title="A workshop", type="workshop", useful=99),
        ]
    )

    assert ids(index.search("demos")) == [11, 10, 12]


# -- forgiving topic matching --------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected_first"),
    [
        ("obervability", OBSERVABILITY_DEMO.id),
        ("kubernets", KUBERNETES_WORKSHOP.id),
        ("dashboards", DASHBOARD_WALKTHROUGH.id),
        ("k8s", KUBERNETES_WORKSHOP.id),
        ("k8", KUBERNETES_WORKSHOP.id),
        ("o11y", OBSERVABILITY_DEMO.id),
        ("otel", OTEL_WALKTHROUGH.id),
        ("siem", SECURITY_DEMO.id),
        ("sec", SECURITY_DEMO.id),
        ("ml", VECTOR_PROOFSHOP.id),
        ("db", DATABASE_DEMO.id),
        ("vectr search", VECTOR_PROOFSHOP.id),
        ("threat huntng", SECURITY_DEMO.id),
        ("OpenTelemetry", OTEL_WALKTHROUGH.id),
        ("open telemetry", OTEL_WALKTHROUGH.id),
        ("kube", KUBERNETES_WORKSHOP.id),
    ],
)
def test_typos_plurals_and_abbreviations_find_the_asset(index, query, expected_first):
    assert ids(index.search(query))[:1] == [expected_first]


def test_abbreviations_are_expanded_in_the_parsed_query():
    parsed = parse_query("/asset K8s o11y otel db logs demos")

    assert parsed.type == "demo"
    assert parsed.terms == ("kubernetes", "observability", "opentelemetry", "database", "logging")


def test_an_asset_written_with_an_abbreviation_is_found_by_the_full_word():
    index = AssetIndex([SearchDoc(id=1, title="K8s upgrades without downtime", type="demo")])

    assert ids(index.search("kubernetes")) == [1]


def test_a_narrow_term_ranks_its_own_assets_above_the_wider_topic():
    index = AssetIndex(
        [
            SearchDoc(id=1, title="Endpoint hardening", type="demo", topics=("security",), useful=50),
            SearchDoc(id=2, title="Migrating detections to the new SIEM", type="demo", topics=("siem",)),
            SearchDoc(id=3, title="Checkout latency", type="demo", topics=("apm",)),
        ]
    )

    assert ids(index.search("siem")) == [2, 1]


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("vector search", "Vector search relevance tuning"),
        ("genai", "Generative AI assistants over your runbooks"),
        ("slos", "SLO burn-rate alerts"),
        ("apis", "API gateway tracing"),
    ],
)
def test_everyday_topic_words_are_not_lost(query, title):
    index = AssetIndex(
        [
            SearchDoc(id=1, title=title, type="demo"),
            SearchDoc(id=2, title="Something unrelated entirely", type="demo"),
        ]
    )

    assert ids(index.search(query)) == [1]


def test_a_word_fragment_finds_the_word_but_a_whole_word_does_not_grow():
    index = AssetIndex(
        [
            SearchDoc(id=1, title="SLO burn-rate alerts", type="demo"),
            SearchDoc(id=2, title="Why the checkout is slow", type="demo"),
        ]
    )

    assert ids(index.search("slo")) == [1]
    assert ids(index.search("chec")) == [2]


def test_similar_but_different_words_do_not_match():
    index = AssetIndex([SearchDoc(id=1, title="Single sign-on login flows", type="demo")])

    assert index.search("logging").total == 0


# -- nothing relevant ------------------------------------------------------------


def test_nonsense_finds_nothing_rather_than_the_least_bad_assets(index):
    result = index.search("quantum blockchain")

    assert result.total == 0
    assert result.hits == ()
    assert result.suggestions == ()


def test_a_badly_mangled_word_gets_a_did_you_mean(index):
    result = index.search("obsrvblty")

    assert result.total == 0
    assert "observability" in result.suggestions
    assert len(result.suggestions) <= 3


def test_suggestions_come_from_titles_topics_and_products_not_summaries(index):
    # "containment" appears only in a summary.
    result = index.search("cntnmnt")

    assert result.total == 0
    assert "containment" not in result.suggestions


def test_a_type_with_no_asset_on_the_topic_finds_nothing(index):
    result = index.search("proofshop kubernetes")

    assert result.total == 0
    assert result.hits == ()


# -- ranking --------------------------------------------------------------------


def test_title_or_topic_match_outranks_a_summary_only_match():
    index = AssetIndex(
        [
            SearchDoc(id=1, title="Storage tiers explained", type="demo", summary="Mentions retention once."),
            SearchDoc(id=2, title="Retention policies", type="demo"),
            SearchDoc(id=3, title="Cold storage", type="demo", topics=("retention",)),
        ]
    )

    assert ids(index.search("retention")) == [2, 3, 1]


def test_feedback_reorders_equally_good_matches():
    index = AssetIndex(
        [
            SearchDoc(id=1, title="Kubernetes cost tour", type="demo"),
            SearchDoc(id=2, title="Kubernetes cost tour", type="demo", useful=12, shares=3),
            SearchDoc(id=3, title="Kubernetes cost tour", type="demo", not_useful=6),
        ]
    )

    assert ids(index.search("kubernetes cost")) == [2, 1, 3]


def test_feedback_never_lifts_a_weak_match_over_a_strong_one():
    index = AssetIndex(
        [
            SearchDoc(id=1, title="Fleet overview", type="demo", summary="Touches on kubernetes.", useful=500, shares=200),
            SearchDoc(id=2, title="Kubernetes fleet overview", type="demo", not_useful=20),
            SearchDoc(id=3, title="Kubernetis upgrade drill", type="demo", useful=500, shares=200),
        ]
    )

    # Exact title first, then the misspelt title, then the summary mention.
    assert ids(index.search("kubernetes")) == [2, 3, 1]


def test_an_asset_matching_every_term_beats_a_strong_match_on_one_term():
    index = AssetIndex(
        [
            SearchDoc(id=1, title="Kubernetes", type="demo", topics=("kubernetes",), useful=100),
            SearchDoc(id=2, title="Platform tour", type="demo", summary="Kubernetes pods and their logging."),
        ]
    )

    result = index.search("kubernetes logging")

    assert ids(result) == [2]
    assert result.total == 1


def test_when_no_asset_has_every_term_partial_matches_come_back_ranked(index):
    result = index.search("demo observability security")

    # No demo covers both, so demos covering either are offered; the one
    # matching only through its product name comes last.
    assert set(ids(result)) == {OBSERVABILITY_DEMO.id, SECURITY_DEMO.id, DATABASE_DEMO.id}
    assert ids(result)[-1] == DATABASE_DEMO.id
    assert all(hit.score <= 50 for hit in result.hits)


def test_a_word_nobody_used_does_not_hide_the_words_that_match(index):
    result = index.search("kubernetes blockchain")

    assert ids(result) == [KUBERNETES_WORKSHOP.id]


def test_scores_are_between_0_and_100_and_descending(index):
    for query in ("observability", "demos", "k8s logging", "vectr", "walkthrough apm"):
        scores = [hit.score for hit in index.search(query).hits]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= score <= 100.0 for score in scores)


# -- paging ----------------------------------------------------------------------


def test_pages_split_the_matches_without_overlap():
    index = AssetIndex(
        SearchDoc(id=n, title=f"Logging recipe {n}", type="demo", useful=n % 7) for n in range(1, 26)
    )

    pages = [index.search("logging", limit=10, offset=offset) for offset in (0, 10, 20, 30)]

    assert [page.total for page in pages] == [25, 25, 25, 25]
    assert [len(page.hits) for page in pages] == [10, 10, 5, 0]
    seen = [hit.id for page in pages for hit in page.hits]
    assert sorted(seen) == list(range(1, 26))
    assert ids(index.search("logging", limit=25)) == seen


def test_limit_zero_still_counts_the_matches(index):
    result = index.search("observability", limit=0)

    assert result.hits == ()
    assert result.total == 4


# -- keeping the index current ---------------------------------------------------


def test_editing_a_title_changes_what_finds_it(index):
    index.upsert(
        SearchDoc(id=SECURITY_DEMO.id, title="Detection rules as code", type="demo", topics=("security",))
    )

    assert SECURITY_DEMO.id not in ids(index.search("threat hunting"))
    assert ids(index.search("detection rules")) == [SECURITY_DEMO.id]
    assert len(index) == len(CATALOGUE)


def test_a_new_asset_is_searchable_at_once(index):
    index.upsert(SearchDoc(id=99, title="Synthetic monitoring for checkouts", type="proofshop"))

    assert ids(index.search("proofshop synthetic")) == [99]


def test_changing_type_moves_the_asset_between_type_filters(index):
    index.upsert(
        SearchDoc(
            id=KUBERNETES_WORKSHOP.id,
            title=KUBERNETES_WORKSHOP.title,
            type="demo",
            topics=KUBERNETES_WORKSHOP.topics,
        )
    )

    assert ids(index.search("demo kubernetes")) == [KUBERNETES_WORKSHOP.id]
    assert index.search("workshop kubernetes").total == 0


def test_new_feedback_changes_the_order(index):
    before = ids(index.search("walkthrough"))
    low = before[-1]
    doc = next(d for d in CATALOGUE if d.id == low)
    index.upsert(SearchDoc(id=doc.id, title=doc.title, type=doc.type, topics=doc.topics, useful=40))

    assert ids(index.search("walkthrough"))[0] == low


def test_removed_assets_disappear(index):
    index.remove(OBSERVABILITY_DEMO.id)
    index.remove(12345)  # unknown ids are ignored

    assert OBSERVABILITY_DEMO.id not in ids(index.search("observability"))
    assert index.search("root cause").total == 0
    assert len(index) == len(CATALOGUE) - 1


def test_an_asset_listed_twice_at_build_is_indexed_as_its_last_version():
    renamed = SearchDoc(id=SECURITY_DEMO.id, title="Detection rules as code", type="workshop", topics=("security",))
    index = AssetIndex([*CATALOGUE, renamed])

    assert SECURITY_DEMO.id not in ids(index.search("threat hunting"))
    assert ids(index.search("workshop detection rules")) == [SECURITY_DEMO.id]
    assert index.search("demo security").total == 0
    assert len(index) == len(CATALOGUE)


def test_an_asset_added_after_a_removal_does_not_inherit_its_words(index):
    index.remove(SECURITY_DEMO.id)
    index.upsert(SearchDoc(id=77, title="Cost reports for finance", type="demo"))

    assert index.search("threat hunting").total == 0
    assert ids(index.search("demo cost reports")) == [77]
    demos = ids(index.search("demo", limit=20))
    assert 77 in demos and SECURITY_DEMO.id not in demos


def _generated_catalogue(rng: random.Random, count: int, first_id: int = 1) -> list[SearchDoc]:
    words = ("kubernetes", "security", "logging", "tracing", "dashboards", "alerting", "retail", "banking")
    return [
        SearchDoc(
            id=first_id + n,
            title=" ".join(rng.sample(words, 2)) + f" story{n % 7}",
            type=rng.choice(ASSET_TYPES),
            summary=" ".join(rng.sample(words, 3)),
            topics=tuple(rng.sample(words, 2)),
            products=(rng.choice(("Observability", "Security")),),
            useful=rng.randint(0, 6),
            shares=rng.randint(0, 3),
        )
        for n in range(count)
    ]


def test_an_index_kept_current_by_edits_answers_like_one_built_afresh():
    rng = random.Random(3)
    current = {doc.id: doc for doc in _generated_catalogue(rng, 400)}
    index = AssetIndex(current.values())
    fresh_docs = iter(_generated_catalogue(rng, 1200, first_id=1000))
    for _ in range(1200):
        choice = rng.random()
        if choice < 0.35:
            doc = next(fresh_docs)
            # An existing asset rewritten: new words, type and feedback.
            doc = replace(doc, id=rng.choice(list(current)))
        elif choice < 0.7:
            doc = next(fresh_docs)
        else:
            removed = rng.choice(list(current))
            del current[removed]
            index.remove(removed)
            continue
        current[doc.id] = doc
        index.upsert(doc)
    rebuilt = AssetIndex(current.values())

    assert len(index) == len(rebuilt) == len(current)
    queries = (
        "kubernetes", "demo security logging", "workshops", "trcing", "dash", "story3 banking",
        "proofshop retail alerting", "story9", "kubernetes nonsenseword",
    )
    for query in queries:
        for offset in (0, 10):
            assert index.search(query, limit=10, offset=offset) == rebuilt.search(query, limit=10, offset=offset)


def test_an_unknown_type_is_refused():
    with pytest.raises(ValueError):
        AssetIndex([SearchDoc(id=1, title="Webinar", type="webinar")])
    with pytest.raises(ValueError):
        AssetIndex().upsert(SearchDoc(id=1, title="Webinar", type="webinar"))


# -- what people actually type -----------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "the of a", "/asset", "!!! ???"])
def test_an_empty_query_returns_nothing_so_the_caller_can_show_help(index, text):
    result = index.search(text)

    assert result.total == 0
    assert result.hits == ()
    assert result.suggestions == ()


def test_slack_markup_is_read_as_the_text_a_person_sees(index):
    result = index.search("*demo* <https://assets.example.com/x|observability> <@U0A1B2C3D> :tada:")

    assert result.query.type == "demo"
    assert result.query.terms == ("observability",)
    assert ids(result)[0] == OBSERVABILITY_DEMO.id


@pytest.mark.parametrize(
    "text",
    [
        "x" * 100_000,
        "observability " * 5_000,
        "Observabilité démo",
        "🚀🔥 k8s 💥",
        "\u202e\u0301\u200b\x00\ufffd",
        "<<<|>>> ~~~ ``` *_*_",
        "a b c d e f g h i j k l m n o p q r s t u v w x y z " * 20,
    ],
)
def test_junk_input_never_raises(index, text):
    result = index.search(text)

    assert len(result.hits) <= 10
    assert result.total >= len(result.hits)


def test_accents_are_ignored(index):
    assert ids(index.search("Observabilité"))[0] == OBSERVABILITY_DEMO.id


SHARED_INDEX = AssetIndex(CATALOGUE)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300), limit=st.integers(0, 30), offset=st.integers(0, 30))
def test_any_text_gives_a_well_formed_page(text, limit, offset):
    result = SHARED_INDEX.search(text, limit=limit, offset=offset)

    assert len(result.hits) <= limit
    assert result.total >= len(result.hits)
    assert all(isinstance(hit, Hit) for hit in result.hits)
    assert len(set(ids(result))) == len(result.hits)


# -- concurrency ------------------------------------------------------------------


def test_searches_during_updates_always_see_a_whole_asset():
    index = AssetIndex(CATALOGUE)
    before = SearchDoc(id=50, title="Alpha kubernetes", type="demo", topics=("kubernetes",))
    after = SearchDoc(id=50, title="Beta security", type="workshop", topics=("security",))
    errors: list[BaseException] = []
    stop = threading.Event()

    def edit() -> None:
        for n in range(300):
            index.upsert(before if n % 2 else after)
        stop.set()

    def search() -> None:
        try:
            while not stop.is_set():
                # Whichever version is in, the asset is either fully a demo
                # about alpha or fully a workshop about beta, never a mix.
                assert index.search("workshop alpha").total == 0
                assert index.search("demo beta").total == 0
        except BaseException as error:  # noqa: BLE001 - reported to the main thread
            errors.append(error)

    readers = [threading.Thread(target=search) for _ in range(3)]
    for reader in readers:
        reader.start()
    edit()
    for reader in readers:
        reader.join(timeout=30)

    assert errors == []
    assert len(index) == len(CATALOGUE) + 1


def test_asset_types_are_the_four_of_the_taxonomy():
    assert ASSET_TYPES == ("demo", "feature_walkthrough", "proofshop", "workshop")

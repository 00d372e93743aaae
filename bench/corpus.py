"""Deterministic synthetic asset catalogues and query sets for the search benchmark.

The catalogue imitates a presales field-asset library: titles, topics and
products come from a shared vocabulary with a few very common topics
(observability, security, kubernetes) and a long tail; customer names and
versions make the vocabulary grow with the catalogue the way a real one does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bot.search import SearchDoc

# Earlier topics are drawn more often (Zipf-like), as in a real catalogue where
# a handful of themes dominate.
TOPICS = (
    "observability", "security", "kubernetes", "logging", "apm", "siem", "vector search",
    "opentelemetry", "machine learning", "alerting", "dashboards", "infrastructure monitoring",
    "tracing", "threat hunting", "detection rules", "compliance", "access control",
    "incident response", "search relevance", "semantic search", "generative ai", "data ingestion",
    "streaming", "change data capture", "migration", "sizing", "performance", "high availability",
    "disaster recovery", "cost optimisation", "serverless", "service mesh", "database monitoring",
    "network monitoring", "slo", "root cause analysis", "anomaly detection", "fraud detection",
    "log analytics", "data retention", "multi cloud", "synthetic monitoring", "real user monitoring",
    "endpoint security", "cloud security posture", "ecommerce search", "profiling",
    "mobile monitoring", "geospatial", "time series", "devsecops", "terraform", "ci/cd",
    "identity", "zero trust", "capacity planning", "upgrades", "retrieval augmented generation",
    "metrics", "audit logging",
)

PRODUCTS = (
    "Observability", "Security", "Search", "Vector DB", "Streaming", "Kubernetes Operator",
    "Cloud Console", "Synthetics", "Log Pipeline", "Endpoint Agent", "Data Shipper", "Alert Hub",
    "Query Studio", "Edge Gateway", "Profiler", "Identity Bridge", "Ingest Node", "Cost Explorer",
)

INDUSTRIES = (
    "retail", "banking", "insurance", "telco", "healthcare", "public sector", "manufacturing",
    "gaming", "media", "logistics", "energy", "automotive", "travel", "education", "pharma",
)

CLOUDS = ("AWS", "GCP", "Azure", "on-prem", "hybrid cloud")

PERSONAS = (
    "a CISO", "an SRE lead", "a platform engineer", "a data scientist", "a VP of engineering",
    "an operations manager", "a security analyst", "a search product owner", "a cloud architect",
)

PAINS = (
    "alert fatigue", "tool sprawl", "slow incident response", "rising storage costs",
    "failed compliance audits", "noisy search results", "blind spots in the cloud estate",
    "outages reported by customers", "manual runbooks", "unpredictable licence costs",
)

ARTEFACTS = (
    "a latency alert", "a crash-looping pod", "a failed login burst", "a slow database query",
    "a noisy dashboard", "a broken checkout", "a suspicious service account", "a dropped stream",
    "an empty search page", "a memory leak",
)

# Field shorthand sometimes used by asset authors instead of the full word.
AUTHOR_SHORTHAND = {
    "kubernetes": "K8s",
    "observability": "o11y",
    "opentelemetry": "OTel",
    "machine learning": "ML",
}

TITLE_TEMPLATES = (
    "{Topic} in {minutes} minutes",
    "{Topic} for {industry} teams",
    "From {topic} to {topic2}: a guided tour",
    "{product}: {topic} deep dive",
    "Hands-on {topic} with {product}",
    "{Topic} and {topic2} on {cloud}",
    "Migrating legacy {topic} to {product}",
    "{customer} {topic} pilot",
    "What's new in {product} {version} for {topic}",
    "{Topic} best practices for {industry}",
    "{Topic} at scale with {product} and {product2}",
    "Winning the {topic} evaluation against incumbents",
)

SUMMARY_SENTENCES = (
    "Shows how {topic} helps {industry} teams get past {pain}.",
    "Starts from {artefact} and ends at the root cause in {product}.",
    "Aimed at {persona} who is fighting {pain}.",
    "Uses {product} and {product2} with data from a sample {industry} workload.",
    "Pauses at three points to ask discovery questions about {topic2}.",
    "Originally built for {customer} and reused across {industry} accounts.",
    "Covers {topic2} briefly before the main {topic} story.",
    "Runs on {cloud} and takes about {minutes} minutes end to end.",
)

TYPE_SHARE = {"demo": 0.40, "feature_walkthrough": 0.25, "workshop": 0.20, "proofshop": 0.15}

_SYLLABLES = ("ka", "ro", "vel", "tri", "mon", "zu", "dex", "li", "qua", "sen", "bor", "ith", "ano", "pel", "gra")


def _customer_names(rng: random.Random, count: int) -> list[str]:
    # Four syllables at most give 15**2 + 15**3 + 15**4 distinct names, far
    # more than any catalogue size asks for.
    names: set[str] = set()
    while len(names) < count:
        parts = rng.randint(2, 4)
        names.add("".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize())
    return sorted(names)


def _zipf_weights(count: int, exponent: float = 0.9) -> list[float]:
    return [1.0 / (rank + 1) ** exponent for rank in range(count)]


def _author_form(rng: random.Random, topic: str) -> str:
    if topic in AUTHOR_SHORTHAND and rng.random() < 0.15:
        return AUTHOR_SHORTHAND[topic]
    return topic


def generate_catalogue(size: int, seed: int = 7) -> list[SearchDoc]:
    """``size`` assets, identical for the same ``size`` and ``seed``."""
    rng = random.Random(seed * 1_000_003 + size)
    customers = _customer_names(rng, min(20_000, max(50, size // 20)))
    topic_weights = _zipf_weights(len(TOPICS))
    product_weights = _zipf_weights(len(PRODUCTS), 1.1)
    types = list(TYPE_SHARE)
    type_weights = list(TYPE_SHARE.values())
    docs: list[SearchDoc] = []
    for doc_id in range(1, size + 1):
        topic_count = rng.randint(2, 4)
        topics: list[str] = []
        while len(topics) < topic_count:
            topic = rng.choices(TOPICS, topic_weights)[0]
            if topic not in topics:
                topics.append(topic)
        products = sorted(set(rng.choices(PRODUCTS, product_weights, k=rng.randint(1, 2))))
        fill = {
            "topic": _author_form(rng, topics[0]),
            "topic2": _author_form(rng, topics[1]),
            "product": products[0],
            "product2": products[-1] if len(products) > 1 else rng.choice(PRODUCTS),
            "industry": rng.choice(INDUSTRIES),
            "cloud": rng.choice(CLOUDS),
            "customer": rng.choice(customers),
            "minutes": rng.choice((5, 10, 15, 20, 30, 45)),
            "version": f"v{rng.randint(7, 9)}.{rng.randint(0, 17)}",
            "persona": rng.choice(PERSONAS),
            "pain": rng.choice(PAINS),
            "artefact": rng.choice(ARTEFACTS),
        }
        fill["Topic"] = fill["topic"][0].upper() + fill["topic"][1:]
        title = rng.choice(TITLE_TEMPLATES).format(**fill)
        summary = " ".join(s.format(**fill) for s in rng.sample(SUMMARY_SENTENCES, rng.randint(2, 3)))
        useful = max(0, int(rng.paretovariate(1.3)) - 1)
        docs.append(
            SearchDoc(
                id=doc_id,
                title=title,
                type=rng.choices(types, type_weights)[0],
                summary=summary,
                topics=tuple(topics),
                products=tuple(products),
                useful=min(useful, 200),
                not_useful=max(0, int(rng.paretovariate(2.0)) - 1),
                shares=max(0, int(rng.paretovariate(1.5)) - 1),
            )
        )
    return docs


# --------------------------------------------------------------------------
# Queries

TYPE_FORMS = {
    "demo": ("demo", "demos"),
    "feature_walkthrough": (
        "walkthrough", "walk-through", "walk through", "feature walkthrough", "feature walkthroughs",
    ),
    "proofshop": ("proofshop", "proof shop", "proof-shop", "proofshops"),
    "workshop": ("workshop", "workshops", "marketing workshop"),
}

ABBREVIATION_QUERIES = (
    ("k8s", "kubernetes"), ("o11y", "observability"), ("otel", "opentelemetry"), ("siem", "siem"),
    ("k8 logging", "kubernetes"), ("ml anomaly detection", "machine learning"), ("apm", "apm"),
    ("obs dashboards", "observability"), ("sec compliance", "compliance"), ("logs retention", "logging"),
    ("db monitoring", "database monitoring"), ("genai search", "generative ai"),
    ("k8s obs", "kubernetes"), ("otel tracing", "opentelemetry"), ("ml fraud", "fraud detection"),
)

PLURAL_QUERIES = (
    ("dashboards", "dashboards"), ("migrations", "migration"), ("upgrade", "upgrades"),
    ("detection rule", "detection rules"), ("anomalies", "anomaly detection"), ("metric", "metrics"),
    ("pilots", None), ("logs", "logging"), ("service meshes", "service mesh"), ("slos", "slo"),
)

MULTI_TERM_QUERIES = (
    "kubernetes logging security", "vector search ecommerce relevance", "observability kubernetes",
    "security compliance", "apm java opentelemetry", "threat hunting detection rules",
    "cost optimisation logging", "streaming change data capture", "high availability upgrades",
    "zero trust identity", "anomaly detection machine learning", "retail checkout observability",
    "banking fraud detection", "aws security posture", "serverless tracing",
)

NONSENSE_QUERIES = (
    "quantum blockchain", "zebra teleportation", "medieval poetry", "xyzzy plugh", "underwater basket weaving",
)


@dataclass(frozen=True)
class BenchQuery:
    text: str
    kind: str  # type-only | topic | type+topic | abbreviation | typo | plural | multi | nonsense
    asset_type: str | None = None
    intended_topic: str | None = None  # ground truth for recall on typo queries


def _typo(rng: random.Random, word: str) -> str:
    """One keyboard slip in a word of six letters or more."""
    for _ in range(20):
        pos = rng.randint(1, len(word) - 2)
        edit = rng.choice(("drop", "swap", "double", "replace"))
        if edit == "drop":
            slipped = word[:pos] + word[pos + 1 :]
        elif edit == "swap":
            slipped = word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :]
        elif edit == "double":
            slipped = word[:pos] + word[pos] + word[pos:]
        else:
            slipped = word[:pos] + rng.choice("aeiourstn") + word[pos + 1 :]
        if slipped != word:
            return slipped
    return word[:-1]


def generate_queries(seed: int = 11) -> list[BenchQuery]:
    """Exactly 200 queries covering every kind above, identical for a seed."""
    rng = random.Random(seed)
    queries: list[BenchQuery] = []
    type_form_pairs = [(t, form) for t, forms in TYPE_FORMS.items() for form in forms]
    for i in range(20):
        asset_type, form = type_form_pairs[i % len(type_form_pairs)]
        queries.append(BenchQuery(form, "type-only", asset_type))
    for _ in range(40):
        topic = rng.choice(TOPICS)
        queries.append(BenchQuery(topic, "topic", None, topic))
    for _ in range(40):
        asset_type, form = rng.choice(type_form_pairs)
        topic = rng.choice(TOPICS[:30])
        text = f"{form} {topic}" if rng.random() < 0.6 else f"{topic} {form}"
        queries.append(BenchQuery(text, "type+topic", asset_type, topic))
    for i in range(30):
        text, topic = ABBREVIATION_QUERIES[i % len(ABBREVIATION_QUERIES)]
        if i >= len(ABBREVIATION_QUERIES):
            asset_type, form = rng.choice(type_form_pairs)
            queries.append(BenchQuery(f"{text} {form}", "abbreviation", asset_type, topic))
        else:
            queries.append(BenchQuery(text, "abbreviation", None, topic))
    typo_topics = [t for t in TOPICS if any(len(w) >= 6 for w in t.split())]
    for i in range(40):
        topic = rng.choice(typo_topics)
        words = topic.split()
        longest = max(range(len(words)), key=lambda k: len(words[k]))
        words[longest] = _typo(rng, words[longest])
        text = " ".join(words)
        asset_type = None
        if i % 2:
            asset_type, form = rng.choice(type_form_pairs)
            text = f"{form} {text}"
        queries.append(BenchQuery(text, "typo", asset_type, topic))
    for text, topic in PLURAL_QUERIES:
        queries.append(BenchQuery(text, "plural", None, topic))
    for text in MULTI_TERM_QUERIES:
        queries.append(BenchQuery(text, "multi"))
    for text in NONSENSE_QUERIES:
        queries.append(BenchQuery(text, "nonsense"))
    assert len(queries) == 200, len(queries)
    return queries


# --------------------------------------------------------------------------
# The same catalogue as an import file, for benchmarks that run `epos serve`

# Classification axes per type, as the example catalogue profiles them.
TYPE_PROFILE = {
    "demo": ("low", "broad", "presentation", "early"),
    "workshop": ("low", "broad", "hands-on", "early"),
    "feature_walkthrough": ("medium", "narrow", "hands-on", "mid"),
    "proofshop": ("high", "narrow", "hands-on", "late"),
}
BENCH_OWNERS = tuple(f"U0BENCH{n:02d}" for n in range(1, 41))


def catalogue_records(size: int, seed: int = 7) -> list[dict[str, object]]:
    """``generate_catalogue(size, seed)`` in the format `epos assets import` reads, all published."""
    records = []
    for doc in generate_catalogue(size, seed):
        depth, scope, interactivity, cycle = TYPE_PROFILE[doc.type]
        records.append({
            "title": doc.title, "type": doc.type, "summary": doc.summary,
            "url": f"https://assets.example.com/bench/{doc.id}",
            "topics": list(doc.topics), "products": list(doc.products),
            "depth": depth, "scope": scope, "interactivity": interactivity, "cycle": cycle,
            "owner": BENCH_OWNERS[doc.id % len(BENCH_OWNERS)], "status": "published",
        })
    return records


def write_catalogue(path: str, size: int, seed: int = 7) -> None:
    """Write the catalogue as YAML (``.yaml``/``.yml``) or CSV (``.csv``), by the file's extension."""
    import csv

    import yaml

    records = catalogue_records(size, seed)
    with open(path, "w", encoding="utf-8", newline="") as out:
        if path.endswith(".csv"):
            writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
            writer.writeheader()
            for record in records:
                writer.writerow({**record, "topics": ";".join(record["topics"]),  # type: ignore[arg-type]
                                 "products": ";".join(record["products"])})  # type: ignore[arg-type]
        else:
            dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
            yaml.dump(records, out, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)


if __name__ == "__main__":
    import argparse

    cli = argparse.ArgumentParser(description="Write a synthetic asset catalogue for `epos assets import`.")
    cli.add_argument("size", type=int, help="how many assets, e.g. 10000")
    cli.add_argument("path", help="output file, .yaml or .csv")
    options = cli.parse_args()
    write_catalogue(options.path, options.size)
    print(f"wrote {options.size} assets to {options.path}")

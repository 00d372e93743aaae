"""The values of an asset as people and files spell them: limits, the spellings of each axis, tags, links
and parts, each read forgivingly and refused with what would be accepted."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator

from models.enums import AssetStatus, AssetType, Cycle, Depth, Interactivity, Scope

TITLE_MAX = 200
URL_MAX = 2000
SUMMARY_MAX = 3000
TAG_MAX = 60
TAGS_MAX = 20
PART_LABEL_MAX = 60
PARTS_MAX = 10

REVIEW_DAYS_MAX = 3650
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def _key(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().casefold())


# Spellings people use for each value; anything else is refused with the list of valid values.
_TYPE_SPELLINGS = {
    "demo": AssetType.demo,
    "demos": AssetType.demo,
    "feature walkthrough": AssetType.feature_walkthrough,
    "feature walkthroughs": AssetType.feature_walkthrough,
    "feature walk through": AssetType.feature_walkthrough,
    "walkthrough": AssetType.feature_walkthrough,
    "walk through": AssetType.feature_walkthrough,
    "proofshop": AssetType.proofshop,
    "proof shop": AssetType.proofshop,
    "dse proofshop": AssetType.proofshop,
    "workshop": AssetType.workshop,
    "workshops": AssetType.workshop,
    "marketing workshop": AssetType.workshop,
}
_INTERACTIVITY_SPELLINGS = {
    "hands on": Interactivity.hands_on,
    "handson": Interactivity.hands_on,
    "presentation": Interactivity.presentation,
}
_DEPTH_SPELLINGS = {"low": Depth.low, "medium": Depth.medium, "high": Depth.high}
_SCOPE_SPELLINGS = {"broad": Scope.broad, "narrow": Scope.narrow}
_CYCLE_SPELLINGS = {"early": Cycle.early, "mid": Cycle.mid, "late": Cycle.late}
_STATUS_SPELLINGS = {s.value: s for s in AssetStatus}


_YES = {"true", "yes", "y", "1", "customer facing", "customer"}
_NO = {"false", "no", "n", "0", "internal"}


def yes_or_no(value: Any) -> Any:
    """`customer_facing` from a file: true/false, yes/no, 1/0; empty means no (internal)."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        key = _key(value)
        if not key or key in _NO:
            return False
        if key in _YES:
            return True
    raise ValueError(f"{str(value)[:40]!r} is not true or false")


def blank_is_none(value: Any) -> Any:
    return None if value is None or isinstance(value, str) and not value.strip() else value


def _forgiving(spellings: dict[str, Any], valid: str) -> Any:
    def parse(value: Any) -> Any:
        if value is None or isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str):
            found = spellings.get(_key(value))
            if found is not None:
                return found
        raise ValueError(f"{str(value)!r} is not one of {valid}")

    return parse


ASSET_TYPE_VALUES = "demo, feature_walkthrough, proofshop, workshop"
TypeField = Annotated[AssetType, BeforeValidator(_forgiving(_TYPE_SPELLINGS, ASSET_TYPE_VALUES))]
DepthField = Annotated[Depth | None, BeforeValidator(_forgiving(_DEPTH_SPELLINGS, "low, medium, high"))]
ScopeField = Annotated[Scope | None, BeforeValidator(_forgiving(_SCOPE_SPELLINGS, "broad, narrow"))]
InteractivityField = Annotated[
    Interactivity | None, BeforeValidator(_forgiving(_INTERACTIVITY_SPELLINGS, "hands-on, presentation"))
]
CycleField = Annotated[Cycle | None, BeforeValidator(_forgiving(_CYCLE_SPELLINGS, "early, mid, late"))]
StatusField = Annotated[
    AssetStatus, BeforeValidator(_forgiving(_STATUS_SPELLINGS, "draft, published, archived"))
]

# What each type usually is, from the presales interactions chart; used when a field is left empty.
TYPICAL_PROFILE: dict[AssetType, tuple[Depth, Scope, Interactivity, Cycle]] = {
    AssetType.demo: (Depth.low, Scope.broad, Interactivity.presentation, Cycle.early),
    AssetType.workshop: (Depth.low, Scope.broad, Interactivity.hands_on, Cycle.early),
    AssetType.feature_walkthrough: (Depth.medium, Scope.narrow, Interactivity.hands_on, Cycle.mid),
    AssetType.proofshop: (Depth.high, Scope.narrow, Interactivity.hands_on, Cycle.late),
}


def split_tags(value: Any, separators: str = ",;") -> Any:
    """Topics or products from a list, or from text separated by commas (modal) or semicolons (CSV)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in re.split(f"[{re.escape(separators)}]", value)]
    return value


def clean_tags(values: list[Any], what: str) -> list[str]:
    seen: dict[str, str] = {}
    for raw in values:
        if not isinstance(raw, str | int | float):
            raise ValueError(f"each {what[:-1]} must be text")
        tag = " ".join(str(raw).split())
        if not tag:
            continue
        if "," in tag or ";" in tag:
            raise ValueError(f"{what[:-1]} {tag!r} contains a comma or semicolon; those separate {what}")
        if len(tag) > TAG_MAX:
            raise ValueError(f"{what[:-1]} {tag[:20]!r}… is longer than {TAG_MAX} characters")
        seen.setdefault(tag.casefold(), tag)
    if len(seen) > TAGS_MAX:
        raise ValueError(f"at most {TAGS_MAX} {what}, got {len(seen)}")
    return list(seen.values())


def check_url(value: str) -> str:
    url = value.strip()
    if not url:
        raise ValueError("enter the link to the asset, starting with https://")
    if len(url) > URL_MAX:
        raise ValueError(f"the link is {len(url)} characters long; at most {URL_MAX} are allowed")
    if re.search(r"\s", url):
        raise ValueError("the link must not contain spaces")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("the link must start with http:// or https:// and name a host, like https://example.com/demo")
    return url


# The parts each type usually has, from the presales interactions chart: the form suggests them.
SUGGESTED_PARTS: dict[AssetType, tuple[str, ...]] = {
    AssetType.demo: ("Step-by-step script",),
    AssetType.feature_walkthrough: ("Guide",),
    AssetType.proofshop: ("Success criteria",),
    AssetType.workshop: ("Student notebooks", "Instructor deck"),
}
PART_EXAMPLE = "Student notebooks: https://…"
PARTNER_REFUSED = ("only a Marketing Workshop has a marketing partner; clear the partner, or make the type "
                   "Marketing Workshop")


class AssetPart(BaseModel, frozen=True):
    """One labelled link to a part of an asset besides its main link."""

    label: str
    url: str


def _looks_like_a_link(word: str) -> bool:
    return "://" in word or word.casefold().startswith("www.")


def _part_from_line(line: str) -> dict[str, str]:
    """`Label: https://…` (or `Label | https://…`, `Label https://…`): the last word is the link."""
    words = line.split()
    if not _looks_like_a_link(words[-1]):
        raise ValueError(f"add the link after {' '.join(words)[:40]!r}, like `{PART_EXAMPLE}`")
    if len(words) < 2:
        raise ValueError(f"give the link {words[0][:40]!r} a label before it, like `{PART_EXAMPLE}`")
    label = " ".join(words[:-1]).rstrip(":|-–— ")
    return {"label": label, "url": words[-1]}


def split_parts(value: Any) -> Any:
    """Parts from a list of {label, url}, or from text with one `Label: link` a line (form and CSV)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [_part_from_line(line) for line in value.splitlines() if line.strip()]
    return value


def clean_parts(values: Any) -> list[AssetPart]:
    if not isinstance(values, list | tuple):
        raise ValueError(f"parts must be a list of labels and links, like `{PART_EXAMPLE}`")
    parts: list[AssetPart] = []
    seen: set[str] = set()
    for raw in values:
        if isinstance(raw, AssetPart):
            raw = raw.model_dump()
        if (not isinstance(raw, dict) or set(raw) - {"label", "url"}
                or not all(isinstance(raw.get(key), str | None) for key in ("label", "url"))):
            raise ValueError(f"each part is a label and a link, like `{PART_EXAMPLE}`")
        label = " ".join(str(raw.get("label") or "").split())
        url = str(raw.get("url") or "").strip()
        if not label:
            raise ValueError(f"the part with the link {url[:40]!r} needs a label, like `{PART_EXAMPLE}`")
        if len(label) > PART_LABEL_MAX:
            raise ValueError(f"the part label {label[:20]!r}… is longer than {PART_LABEL_MAX} characters")
        if label.casefold() in seen:
            raise ValueError(f"two parts are labelled {label!r}; give each part its own label")
        try:
            url = check_url(url)
        except ValueError as error:
            problem = str(error)
            if problem.startswith("the link "):
                raise ValueError(f"the link of the part {label!r} " + problem.removeprefix("the link ")) from None
            raise ValueError(f"the part {label!r} needs a link, starting with https://") from None
        seen.add(label.casefold())
        parts.append(AssetPart(label=label, url=url))
    if len(parts) > PARTS_MAX:
        raise ValueError(f"at most {PARTS_MAX} parts, got {len(parts)}")
    return parts

"""A faster way for slack_sdk to find its checks and attributes, the same checks and the same dicts.

slack_sdk checks Slack's limits in `JsonObject.validate_json`, which every `to_dict()` runs, for every
nested object. To find the checks it walks `dir(self)` and reads every attribute (evaluating each
property) each time; that search was two thirds of the CPU an `/asset` answer cost under load
(docs/performance.md). The checks are methods of the class, so they are found once per class here;
the same checks run, in the same (alphabetical) order, raising the same errors.

Likewise `get_non_null_attributes` rebuilt each object's attribute set (a chain of set unions through
its base classes) and looked every value up twice; every `attributes` property in slack_sdk is a fixed
set per class, so the sorted names are kept per class and each value read once. The dict it returns
is the same.

Installed by `install()`, which every entry point that renders blocks calls (the App factory, the
scheduler, `epos digest`): patching on import would change a library's behaviour as a side effect of
importing a module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk.models.basic_objects import EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST, JsonObject

_CHECKS: dict[type, tuple[str, ...]] = {}


def _checks_of(cls: type) -> tuple[str, ...]:
    names = _CHECKS.get(cls)
    if names is None:
        names = tuple(
            name for name in dir(cls)
            if not name.startswith("__") and callable(getattr(cls, name, None))
            and hasattr(getattr(cls, name, None), "validator")
        )
        _CHECKS[cls] = names
    return names


def _validate_json(self: JsonObject) -> None:
    for name in _checks_of(type(self)):
        check: Callable[[], None] = getattr(self, name)
        check()


_KEYS: dict[type, tuple[str, ...]] = {}
_EMPTY_ALLOWED = [(allowed["type"], allowed["property"]) for allowed in EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST]


def _keys_of(obj: JsonObject) -> tuple[str, ...]:
    keys = _KEYS.get(type(obj))
    if keys is None:
        keys = _KEYS[type(obj)] = tuple(sorted(obj.attributes))
    return keys


def _compatible(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_compatible(item) for item in value]
    to_dict = getattr(value, "to_dict", None)
    if to_dict and callable(to_dict):
        return {key: _compatible(item) for key, item in to_dict().items()}
    return value


def _get_non_null_attributes(self: JsonObject) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key in _keys_of(self):
        value = self.get_object_attribute(key)
        if value is None:
            continue
        # Empty lists and strings are left out, except where Block Kit allows them.
        if getattr(value, "__len__", None) is not None and len(value) == 0 and not any(
            getattr(self, "type", None) == kind and key == name for kind, name in _EMPTY_ALLOWED
        ):
            continue
        result[key] = _compatible(value)
    return result


# slack_sdk's own, kept for the test that compares the two.
SLACK_SDK_VALIDATE_JSON = JsonObject.validate_json
SLACK_SDK_GET_NON_NULL_ATTRIBUTES = JsonObject.get_non_null_attributes


def install() -> None:
    """Put the per-class lookups in place of slack_sdk's; calling it again changes nothing."""
    JsonObject.validate_json = _validate_json  # type: ignore[method-assign]
    JsonObject.get_non_null_attributes = _get_non_null_attributes  # type: ignore[method-assign]

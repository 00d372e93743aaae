"""Pure Block Kit builders: DTOs in, `slack_sdk.models` blocks out. No I/O here.

slack_sdk checks Slack's limits in `JsonObject.validate_json`, which every `to_dict()` runs, for every
nested object. To find the checks it walks `dir(self)` and reads every attribute (evaluating each
property) each time; that search was two thirds of the CPU an `/asset` answer cost under load
(docs/performance.md). The checks are methods of the class, so they are found once per class here;
the same checks run, in the same (alphabetical) order, raising the same errors.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.models.basic_objects import JsonObject

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


JsonObject.validate_json = _validate_json  # type: ignore[method-assign]

"""The words a person reads in Block Kit, for tests to look for."""

from __future__ import annotations

from typing import Any


def all_text(blocks: list[dict[str, Any]]) -> str:
    """Every text in some blocks (sections, fields, buttons, context, headers), one per line."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(found)


def message_text(params: dict[str, Any]) -> str:
    """What a posted message shows: its blocks' texts, and the fallback text notifications show."""
    return all_text(params.get("blocks") or []) + "\n" + str(params.get("text", ""))

"""Shared by the asset tests: the sample catalogue, form values as Slack sends them, reading replies."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from slack_sdk.models.blocks import Block
from sqlalchemy import select

from bot import db
from bot.ids import AssetIds
from bot.services import assets
from models.assets import Asset
from tests.support.slack import Call
from tests.support.wire import SlackWire, input_value, select_value

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SAMPLE_YAML = EXAMPLES / "assets.yaml"
SAMPLE_CSV = EXAMPLES / "assets.csv"
_TITLE_LINK = re.compile(r"\*<[^|>]+\|([^>]*)>\*")


def import_sample() -> None:
    assets.import_records(assets.parse_catalogue(SAMPLE_YAML.read_text(encoding="utf-8"), "yaml"))


def asset_by_url(url: str) -> Asset | None:
    with db.reading() as session:
        row = session.scalars(select(Asset).where(Asset.url == url)).first()
        if row is not None:
            session.expunge(row)  # keep its loaded values after the read-only session rolls back
        return row


def asset_by_title(title: str) -> Asset:
    with db.reading() as session:
        row = session.scalars(select(Asset).where(Asset.title == title)).first()
        assert row is not None, title
        session.expunge(row)
        return row


def asset_count() -> int:
    with db.reading() as session:
        return len(session.scalars(select(Asset.id)).all())


def form_values(
    *,
    title: str = "Tracing a slow checkout with OpenTelemetry",
    type: str | None = "demo",
    summary: str = "Follows one slow request across five services.",
    url: str = "https://assets.example.com/demos/otel-slow-checkout",
    topics: str = "observability, tracing",
    products: str = "Observability",
    depth: str | None = None,
    scope: str | None = None,
    interactivity: str | None = None,
    cycle: str | None = None,
    owner: str | None = "U0A1B2C3D",
    audience: str | None = None,
    parts: str = "",
    partner: str | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """The form's `state.values` as Slack submits them."""
    field = str(AssetIds.field)

    def block(block_id: AssetIds, state: dict[str, Any]) -> tuple[str, dict[str, dict[str, Any]]]:
        return str(block_id), {field: state}

    return dict(
        [
            block(AssetIds.title_block, input_value(title)),
            block(AssetIds.type_block, select_value(type)),
            block(AssetIds.summary_block, input_value(summary)),
            block(AssetIds.url_block, input_value(url)),
            block(AssetIds.topics_block, input_value(topics)),
            block(AssetIds.products_block, input_value(products)),
            block(AssetIds.depth_block, select_value(depth)),
            block(AssetIds.scope_block, select_value(scope)),
            block(AssetIds.interactivity_block, select_value(interactivity)),
            block(AssetIds.cycle_block, select_value(cycle)),
            block(AssetIds.owner_block, {"type": "users_select", "selected_user": owner}),
            block(AssetIds.audience_block, select_value(audience or "internal")),
            block(AssetIds.parts_block, input_value(parts)),
            block(AssetIds.partner_block, {"type": "users_select", "selected_user": partner}),
        ]
    )


def ask(wire: SlackWire, text: str, *, user_id: str, **kwargs: Any) -> Call:
    """`/asset <text>` from this person; its answer, carried by the command's ack, read like a recorded call."""
    response = wire.command("/asset", text, user_id=user_id, **kwargs)
    assert response.status == 200
    answer = response.message
    assert answer and answer.get("text"), f"the ack carried no answer: {response.body[:200]!r}"
    return Call("ack", answer)


def blocks_of(call: Call) -> list[dict[str, Any]]:
    """The blocks a recorded call carried, checked against Slack's limits by slack_sdk's models."""
    raw = call.params.get("blocks") or []
    for block in Block.parse_all(raw):
        block.validate_json()
    return raw


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b.get("type") == "actions" for e in b.get("elements", [])]


def card_titles(blocks: list[dict[str, Any]]) -> list[str]:
    """Titles of the cards in a message, in order (the label of each card's title link)."""
    titles = []
    for block in blocks:
        if block.get("type") != "section":
            continue
        match = _TITLE_LINK.search((block.get("text") or {}).get("text", ""))
        if match:
            titles.append(match.group(1))
    return titles


def write_catalogue_csv(path: Path, count: int, *, prefix: str = "bulk", bad_last: bool = False) -> Path:
    """A CSV catalogue of `count` published demos with links under /`prefix`/; `bad_last` breaks the
    link of the very last row, so the whole file is refused."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("title,type,summary,url,topics,products,owner,status\n")
        for n in range(count):
            url = "not-a-link" if bad_last and n == count - 1 else f"https://assets.example.com/{prefix}/{n}"
            out.write(f"{prefix.capitalize()} generated asset {n},demo,Generated for an import of many rows.,"
                      f"{url},{prefix}stuff;observability,Observability,U0A1B2C3D,published\n")
    return path

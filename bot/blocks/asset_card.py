"""An asset's card: its facts, people, status and buttons, as a search result, a share or a reply."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    PlainTextObject,
    SectionBlock,
)

from bot import clock, dates
from bot.blocks import kit
from bot.blocks.asset_outcomes import card_line
from bot.blocks.kit import Message
from bot.blocks.text import clip, escape, link, safe, slack_day, user
from bot.codecs import AssetButton
from bot.ids import AssetIds
from models.enums import ASSET_TYPE_LABELS, AssetStatus, AssetType, Cycle, Depth, Interactivity, Scope
from models.schemas.asset_outcomes import DealUse
from models.schemas.assets import AssetCard, AssetRights, ViewedAsset

SHARED_BY = "{sharer} shared an asset"
VERIFIED = "✓ verified {ago}"
VERIFIED_BY = "✓ verified {ago} by {verifier}"
REVIEW_OVERDUE = "⚠ review overdue since {day} · verifier {verifier}"
ARCHIVE_CONFIRM_TITLE = "Archive this asset?"
ARCHIVE_CONFIRM_TEXT = "*{title}* will no longer show up in search. You can restore it later."
BUTTON = {
    "share": "Share in channel",
    "useful": "👍 Useful",
    "not_useful": "👎 Not useful",
    "edit": "Edit",
    "publish": "Publish",
    "archive": "Archive",
    "restore": "Restore",
    "next": "Next ›",
    "previous": "‹ Previous",
    "add": "Add an asset",
}
DEPTH_LABELS = {Depth.low: "Low", Depth.medium: "Medium", Depth.high: "High"}
SCOPE_LABELS = {Scope.broad: "Broad", Scope.narrow: "Narrow"}
INTERACTIVITY_LABELS = {Interactivity.hands_on: "Hands-on", Interactivity.presentation: "Presentation"}
CYCLE_LABELS = {Cycle.early: "Early", Cycle.mid: "Mid", Cycle.late: "Late"}
STATUS_BADGES = {AssetStatus.draft: "📝 Draft", AssetStatus.archived: "🗄 Archived", AssetStatus.published: ""}
SUMMARY_IN_CARD = 300
CONFIRM_TITLE = 150  # a confirm dialog holds 300 characters of text
AUDIENCE_LABELS = {"internal": "Internal only", "customer_facing": "Customer-facing"}
PARTS_LINE = "Parts: {parts}"
PARTS_MORE = "and {count} more"
PARTS_IN_CARD = 2900  # a context element holds 3,000 characters, and links may be long
PARTNER = "Marketing partner {partner}"


def title_link(card: AssetCard) -> str:
    return f"*{link(card.url, clip(card.title, 200))}*"


def type_label(asset_type: AssetType | str) -> str:
    return ASSET_TYPE_LABELS[AssetType(asset_type)]


def facts_line(card: AssetCard) -> str:
    """Type, depth, scope, interactivity and cycle, compactly."""
    return " · ".join(
        [
            f"*{type_label(card.type)}*",
            f"{DEPTH_LABELS[card.depth]} depth",
            f"{SCOPE_LABELS[card.scope]} scope",
            INTERACTIVITY_LABELS[card.interactivity],
            f"{CYCLE_LABELS[card.cycle]} cycle",
            AUDIENCE_LABELS["customer_facing" if card.customer_facing else "internal"],
        ]
    )


def parts_line(card: AssetCard) -> str:
    """The parts besides the main link, each label linked to its part, as many as fit."""
    links: list[str] = []
    for part in card.parts:
        linked = link(part.url, part.label)
        if sum(len(shown) + 3 for shown in links) + len(linked) > PARTS_IN_CARD:
            break
        links.append(linked)
    if len(links) < len(card.parts):
        links.append(PARTS_MORE.format(count=len(card.parts) - len(links)))
    return PARTS_LINE.format(parts=" · ".join(links))


def people_line(card: AssetCard) -> str:
    parts = [f"Owner {user(card.owner_id)}"]
    if card.partner_id:
        parts.append(PARTNER.format(partner=user(card.partner_id)))
    parts += [f"👍 {card.useful_count}", f"👎 {card.not_useful_count}"]
    if card.share_count:
        parts.append(f"shared {card.share_count}×")
    return " · ".join(parts)


def ago(moment: datetime) -> str:
    """"12 days ago" in each reader's Slack, "on 13 Nov 2026" where Slack cannot format dates."""
    return f"<!date^{int(moment.timestamp())}^{{ago}}|on {dates.day(moment)}>"


def review_line(card: AssetCard, overdue: bool) -> str:
    """How fresh the asset is: when it was last verified and by whom, or since when its review is overdue."""
    if overdue and card.review_due_at is not None:
        return REVIEW_OVERDUE.format(day=slack_day(card.review_due_at), verifier=user(card.verifier))
    checked = card.verified_at or card.created_at
    if card.verified_by:
        return VERIFIED_BY.format(ago=ago(checked), verifier=user(card.verified_by))
    return VERIFIED.format(ago=ago(checked))


def _overdue(viewed: ViewedAsset) -> bool:
    return viewed.overdue if viewed.overdue is not None else viewed.card.overdue_at(clock.now())


def card_blocks(viewed: ViewedAsset, *, share: bool = True, vote: bool = True) -> list[Block]:
    """One asset: title linked to its url and a short summary, the facts as context, and the buttons
    the person looking may use. `vote=False` is the card people of another organisation see (a Slack
    Connect share or preview): no votes, and nothing of the team's own review of it."""
    card, rights = viewed.card, viewed.rights
    badge = STATUS_BADGES[card.status]
    heading = f"{badge}  {title_link(card)}" if badge else title_link(card)
    body = heading + (f"\n{safe(card.summary, SUMMARY_IN_CARD)}" if card.summary else "")
    context = [kit.md(facts_line(card)), kit.md(people_line(card))]
    if deals := card_line(viewed.deals):
        context.append(kit.md(deals))
    if card.parts:
        context.append(kit.md(parts_line(card)))
    if card.status == AssetStatus.published and vote:
        context.append(kit.md(review_line(card, _overdue(viewed))))
    tags = card.topics + [p for p in card.products if p.casefold() not in {t.casefold() for t in card.topics}]
    if tags:
        context.append(kit.md("Topics: " + safe(", ".join(tags), 500)))
    blocks: list[Block] = [SectionBlock(text=kit.md(body)), ContextBlock(elements=context)]
    value = AssetButton(id=card.id).encode()
    buttons: list[ButtonElement] = []
    if card.status == AssetStatus.published:
        if share:
            buttons.append(kit.button(BUTTON["share"], AssetIds.share, value, style="primary"))
        if vote:
            buttons.append(kit.button(BUTTON["useful"], AssetIds.useful, value))
            buttons.append(kit.button(BUTTON["not_useful"], AssetIds.not_useful, value))
    if rights.publish:
        buttons.append(kit.button(BUTTON["publish"], AssetIds.publish, value, style="primary"))
    if rights.edit:
        buttons.append(kit.button(BUTTON["edit"], AssetIds.edit, value))
    if rights.archive:
        confirm = ConfirmObject(
            title=PlainTextObject(text=ARCHIVE_CONFIRM_TITLE),
            text=kit.md(ARCHIVE_CONFIRM_TEXT.format(title=safe(card.title, CONFIRM_TITLE))),
            confirm=PlainTextObject(text=BUTTON["archive"]),
            deny=PlainTextObject(text="Keep it"),
            style="danger",
        )
        buttons.append(kit.button(BUTTON["archive"], AssetIds.archive, value, style="danger", confirm=confirm))
    if rights.restore:
        buttons.append(kit.button(BUTTON["restore"], AssetIds.restore, value))
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return blocks


class _SameCard:
    """A card compared by identity. Search hands out the same AssetCard object until its asset changes,
    so the card's content (the key of its blocks) is serialised once per card, not once per answer.
    Holding the card keeps its id from being reused while the entry lives."""

    __slots__ = ("card",)

    def __init__(self, card: AssetCard) -> None:
        self.card = card

    def __hash__(self) -> int:
        return id(self.card)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SameCard) and other.card is self.card


@functools.lru_cache(maxsize=2048)
def _card_content(same: _SameCard) -> str:
    return same.card.model_dump_json()


@functools.lru_cache(maxsize=2048)
def _card_json(card_json: str, rights: AssetRights, deals: DealUse | None, share: bool, vote: bool,
               overdue: bool) -> str:
    viewed = ViewedAsset(card=AssetCard.model_validate_json(card_json), rights=rights, deals=deals, overdue=overdue)
    return json.dumps([block.to_dict() for block in card_blocks(viewed, share=share, vote=vote)])


def card_dicts(viewed: ViewedAsset, *, share: bool = True, vote: bool = True) -> list[dict[str, Any]]:
    """`card_blocks` as checked dicts, remembered by the card's content and the viewer's rights.

    Search answers show the same cards over and over, and building and checking their Block Kit cost
    more CPU than the search itself under load (docs/performance.md). The key is everything the blocks
    show (not the search score, which they don't), so an edit, a vote, a won engagement or other rights make
    new blocks;
    each caller gets its own copy."""
    content = _card_content(_SameCard(viewed.card))
    return list(json.loads(_card_json(content, viewed.rights, viewed.deals, share, vote, _overdue(viewed))))


def card_message(viewed: ViewedAsset, lead: str = "") -> Message:
    """A single card, optionally under a line of text (already mrkdwn-safe)."""
    blocks: list[Block] = []
    if lead:
        blocks.append(SectionBlock(text=kit.md(lead)))
    blocks.extend(card_blocks(viewed))
    fallback = lead or f"{type_label(viewed.card.type)}: {escape(viewed.card.title)}"
    return kit.message(fallback, blocks)


def shared_message(card: AssetCard, sharer_id: str, *, vote: bool = True) -> Message:
    """The card posted visibly in a channel: anyone there can rate it, nobody gets curation buttons.
    Into a conversation with another organisation in it, without votes: those are our team's."""
    lead = SHARED_BY.format(sharer=user(sharer_id))
    blocks: list[Block] = [ContextBlock(elements=[kit.md(lead + ":")])]
    blocks.extend(card_blocks(ViewedAsset(card=card), share=False, vote=vote))
    return kit.message(f"{lead}: {escape(card.title)}", blocks)

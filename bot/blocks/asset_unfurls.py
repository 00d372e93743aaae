"""Previews (unfurls) of pasted catalogue links: the asset's card, or word that it was archived and what
replaced it."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ContextBlock, SectionBlock

from bot.blocks import kit
from bot.blocks.asset_card import card_dicts, title_link, type_label
from bot.blocks.text import safe
from models.schemas.assets import AssetCard, ViewedAsset

ARCHIVED = "🗄 {title} was archived: it is out of date and no longer shows up in search."
REPLACED_BY = "The newest {type} on {topic} is this one:"
NO_REPLACEMENT = "Nothing published replaces it yet; `/asset {type} {topic}` searches for what there is."
NO_TOPIC_SEARCH = "Nothing published replaces it yet; `/asset {type}` searches for what there is."


def _card(card: AssetCard, *, vote: bool) -> list[dict[str, Any]]:
    # Everyone in the conversation sees the preview: nobody gets curation buttons, and Share has nowhere
    # to go, the card being there already.
    return card_dicts(ViewedAsset(card=card), share=False, vote=vote)


def unfurl_blocks(card: AssetCard, replacement: AssetCard | None, *, vote: bool = True) -> list[dict[str, Any]]:
    """The preview of one pasted link: a published asset's card, or an archived asset's notice."""
    if card.status != "archived":
        return _card(card, vote=vote)
    topic = card.topics[0] if card.topics else ""
    kind = type_label(card.type)
    blocks: list[dict[str, Any]] = [SectionBlock(text=kit.md(ARCHIVED.format(title=title_link(card)))).to_dict()]
    if replacement is not None:
        shared_topic = next((t for t in replacement.topics if t.casefold() in {c.casefold() for c in card.topics}),
                            topic)
        lead = REPLACED_BY.format(type=kind, topic=safe(shared_topic, 100))
        blocks.append(ContextBlock(elements=[kit.md(lead)]).to_dict())
        blocks.extend(_card(replacement, vote=vote))
    else:
        words = card.type.value.replace("_", " ")
        hint = (NO_REPLACEMENT.format(type=words, topic=safe(topic.lower(), 100)) if topic
                else NO_TOPIC_SEARCH.format(type=words))
        blocks.append(ContextBlock(elements=[kit.md(hint)]).to_dict())
    return blocks


def unfurls(previews: list[tuple[str, AssetCard, AssetCard | None]], *, vote: bool = True) -> dict[str, Any]:
    """`chat.unfurl`'s `unfurls`: each pasted url with its preview's blocks."""
    return {url: {"blocks": unfurl_blocks(card, replacement, vote=vote)} for url, card, replacement in previews}

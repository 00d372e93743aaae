"""Block Kit for assets: search answers, lists, help, and short replies. The card (asset_card) and the
add/edit form (asset_form) have modules of their own, importable from here too.

Every builder returns `{"text": fallback, "blocks": [...]}` (or a view dict) ready for
`chat.postMessage` / `respond()` / `views.open`; slack_sdk's models check Slack's limits as they render.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, DividerBlock, SectionBlock

from bot.blocks import kit

# Each surface has its own builder module; handlers and jobs reach them through this one as well.
from bot.blocks.asset_card import (
    BUTTON,
    card_blocks,
    card_dicts,
    card_message,
    shared_message,  # noqa: F401
    title_link,
    type_label,
)
from bot.blocks.asset_form import FORM_INTRO, FORM_LINK_REVIEW_NOTE, asset_form  # noqa: F401
from bot.blocks.kit import Message
from bot.blocks.text import clip, link, safe, user
from bot.codecs import AssetButton, AssetPage
from bot.ids import AssetIds
from bot.sharing import Sharing
from models.enums import AssetStatus, AssetType
from models.schemas.asset_values import TITLE_MAX
from models.schemas.assets import (
    AssetCard,
    AssetList,
    CurationResult,
    SaveResult,
    SearchPage,
    ViewedAsset,
    VoteResult,
)

# ----- text ---------------------------------------------------------------------------------------

HELP_FALLBACK = "How to find field assets with /asset"
HELP_INTRO = (
    "*Find field assets:* `/asset [type] topic…` lists published assets, best match first, "
    "10 at a time.\n"
    "• Name a type to see only that type: `demo`, `walkthrough`, `proofshop` or `workshop` "
    "(plurals and spellings such as _walk-through_ or _proof shop_ work too).\n"
    "• Topics forgive typos, plurals and common abbreviations such as `k8s`, `o11y` or `otel`.\n"
    "• With several topics, assets about all of them come first."
)
HELP_EXAMPLES = ("/asset demo observability", "/asset k8s walkthrough", "/asset proof shop security", "/asset workshops")
TYPE_LINES = {
    AssetType.demo: "high level, broad, usually presented, early in the cycle: the art of the possible, "
    "with a step-by-step script.",
    AssetType.feature_walkthrough: "medium depth, narrow, hands-on, mid to late in the cycle: how to use one "
    "feature, just deep enough to give the confidence to buy.",
    AssetType.proofshop: "deep, narrow, sometimes hands-on, late in the cycle: proves the exact functionality "
    "a customer wants to see working before closing.",
    AssetType.workshop: "higher level, broad, usually hands-on, early in the cycle: a technical workshop, often "
    "with Marketing, with notebooks for students and slides for instructors.",
}
HELP_COMMANDS = (
    "`/asset add` add an asset through a form (drafts wait for an admin's review)\n"
    "`/asset mine` the assets you own or verify, drafts included, to edit them\n"
    "`/asset drafts` drafts awaiting review (admins)\n"
    "`/asset help` this message"
)

RESULTS_HEADER = "*{total}* {what} for *{query}*{range}"
RESULTS_HEADER_ALL = "*{total}* {what}{range}"
CORRECTED = "Showing results for *{corrected}* (you typed *{typed}*)"
PARTIAL_MATCH = "No asset matches all of *{query}*; the best match covers only *{matched}*."
NO_MATCH = "No assets match *{query}*."
NO_MATCH_FALLBACK = "No assets match “{query}”"
DID_YOU_MEAN = "Did you mean:"
NO_MATCH_TIP = (
    "Try fewer or different words, or `/asset help`. Searches that find nothing are passed on to the "
    "curators as content gaps; if you have the asset, add it."
)
NOT_UNDERSTOOD = (
    "epos found no asset type or topic in *{query}*. Try `/asset demo observability`, or "
    "`/asset help` for how searching works."
)
PAST_THE_END = "No more results for *{query}*; there are {total}."
PAGE_OF = "Page {page} of {pages}"

SHARE_NOT_IN_CHANNEL = (
    "epos can't post in this conversation because it isn't a member. Invite it with `/invite @epos`, "
    "then press *Share in channel* again."
)
SHARE_CHANNEL_ARCHIVED = "This channel is archived, so nothing can be posted in it. Share the asset somewhere else."
SHARE_INTERNAL_REFUSED = (
    "{where}, and {title} is an internal asset, so epos did not share it there. Share a customer-facing asset "
    "instead, or ask its owner {owner} to mark it customer-facing (*Edit* › *Audience*) if it was made for customers."
)
SHARE_CONFIRM = (
    "{where}. Everyone in the channel, {names} included, will see {title} and its link. Share it there?"
)
SHARE_CONFIRM_BUTTON = "Share with {names}"
SHARE_CANCEL_BUTTON = "Cancel"
SHARE_CANCELLED = "Nothing was shared."
SHARED_EXTERNALLY = "Shared {title} in <#{channel}>, with {names}."

# Titles are quoted: many have a colon or a "to" of their own ("from alert to root cause to useful").
VOTE_NEW = "Thanks, you marked “{title}” as {vote}. ({counts})"
VOTE_MOVED = "You changed your vote on “{title}” to {vote}. ({counts})"
VOTE_SAME = "You had already marked “{title}” as {vote}; nothing changed. To change your mind, press the other button."

ADDED_PUBLISHED = "Added {title} to the catalogue. It is published: people find it with `/asset`."
ADDED_DRAFT = (
    "Saved {title} as a draft. An admin reviews it before it shows up in search, and you'll get a message "
    "when it is published. Until then you can edit it from `/asset mine`."
)
UPDATED = "Updated {title} (changed: {changed})."
BACK_TO_DRAFTS = (
    "Because its link changed, it is back in the drafts and out of search until an admin checks the new link "
    "and publishes it again; you'll get a message when that happens."
)
# Each content field as the form names it (bot/services/asset_curation.py CONTENT_FIELDS).
FIELD_WORDS = {"url": "link", "owner_id": "owner", "partner_id": "marketing partner", "customer_facing": "audience",
               "verifier_id": "verifier", "review_every_days": "review interval"}
UNCHANGED = "Nothing changed in {title}."
REVIEW_REQUEST = "{owner} added a draft asset. Publish it to make it searchable, or archive it."
LINK_REVIEW_REQUEST = (
    "{editor} changed the link of a published asset, so it is back in the drafts and out of search. "
    "The link was {previous}; check the new one below, then publish it again or archive it."
)

CURATED = {
    "published": "Published {title}; it now shows up in search.",
    "archived": "Archived {title}; it no longer shows up in search. Restore it below if that was a mistake.",
    "restored": "Restored {title}.",
}
RESTORED_AS_DRAFT = "Restored {title} as a draft; an admin reviews it before it shows up in search again."
OWNER_TOLD = {
    "published": "Your asset {title} is published: people find it with `/asset`.",
    "archived": "{actor} archived your asset {title}; it no longer shows up in search.",
    "restored": "{actor} restored your asset {title}.",
}

DRAFTS_HEADER = "*Drafts awaiting review* ({total})"
DRAFTS_EMPTY = "No drafts await review."
MINE_HEADER = "*Your assets* ({total})"
MINE_EMPTY = "You don't own any assets yet. Add one with `/asset add`."
LIST_MORE = "Showing {shown} of {total}."
FORM_BLOCKS: dict[str, AssetIds] = {
    "title": AssetIds.title_block,
    "type": AssetIds.type_block,
    "summary": AssetIds.summary_block,
    "url": AssetIds.url_block,
    "topics": AssetIds.topics_block,
    "products": AssetIds.products_block,
    "depth": AssetIds.depth_block,
    "scope": AssetIds.scope_block,
    "interactivity": AssetIds.interactivity_block,
    "cycle": AssetIds.cycle_block,
    "owner": AssetIds.owner_block,
    "owner_id": AssetIds.owner_block,
    "customer_facing": AssetIds.audience_block,
    "parts": AssetIds.parts_block,
    "partner": AssetIds.partner_block,
    "partner_id": AssetIds.partner_block,
    "verifier": AssetIds.verifier_block,
    "review_every_days": AssetIds.review_days_block,
}


def _divider() -> dict[str, Any]:
    """A divider as its plain dict: it has nothing to check, and a page of results has eleven."""
    return {"type": "divider"}


# ----- cards --------------------------------------------------------------------------------------


# ----- search answers -----------------------------------------------------------------------------


def page_value(query: str, offset: int) -> str:
    return AssetPage(query=query, offset=offset).encode()



def _what(page: SearchPage) -> str:
    if page.asset_type is None:
        return "published asset" if page.total == 1 else "published assets"
    label = type_label(page.asset_type)
    return label if page.total == 1 else label + "s"


def topic_text(page: SearchPage) -> str:
    """What was searched for, without the type word ("observability", not "demo observability")."""
    return " ".join(page.words)


def corrected_text(page: SearchPage) -> str:
    """The topic words as they were read, each typo replaced by the catalogue word it was taken for."""
    read_as = dict((typed, word) for typed, word in page.corrections)
    return " ".join(read_as.get(word, word) for word in page.words)


def results_header(page: SearchPage, shown: str = "") -> str:
    """The line above a page of results, with what was corrected and what was not found under it."""
    topic = topic_text(page)
    what = _what(page)
    if topic:
        header = RESULTS_HEADER.format(total=page.total, what=what, query=safe(topic, 500), range=shown)
    else:
        header = RESULTS_HEADER_ALL.format(total=page.total, what=what, range=shown)
    if page.corrections:
        header += "\n" + CORRECTED.format(corrected=safe(corrected_text(page), 500), typed=safe(topic, 500))
    if page.unmatched and page.matched:
        header += "\n" + PARTIAL_MATCH.format(query=safe(" ".join(page.terms), 500),
                                              matched=safe(" ".join(page.matched), 500))
    return header


def results_message(page: SearchPage) -> Message:
    """The answer to `/asset <query>`: a page of cards, or why there is none and what to try."""
    query = safe(page.query.strip(), 500)
    if not page.understood:
        return kit.message(f"Nothing to search for in “{query}”",
                           [SectionBlock(text=kit.md(NOT_UNDERSTOOD.format(query=query))), _add_actions()])
    if page.total == 0:
        return no_match_message(page)
    if not page.items:
        blocks: list[Block] = [SectionBlock(text=kit.md(PAST_THE_END.format(query=query, total=page.total)))]
        blocks.append(ActionsBlock(elements=[kit.button(BUTTON["previous"], AssetIds.previous_page,
                                                        page_value(page.query, max(0, page.total - page.limit)))]))
        return kit.message(f"No more results for “{query}”", blocks)
    first, last = page.offset + 1, page.offset + len(page.items)
    shown = f" (showing {first}–{last})" if page.total > len(page.items) else ""
    header = results_header(page, shown)
    parts: list[Block | dict[str, Any]] = [SectionBlock(text=kit.md(header))]
    for item in page.items:
        parts.append(_divider())
        parts.extend(card_dicts(item))
    paging: list[ButtonElement] = []
    if page.has_previous:
        paging.append(kit.button(BUTTON["previous"], AssetIds.previous_page,
                                 page_value(page.query, max(0, page.offset - page.limit))))
    if page.has_next:
        paging.append(kit.button(BUTTON["next"], AssetIds.next_page, page_value(page.query, page.offset + page.limit)))
    if paging:
        pages = -(-page.total // page.limit)
        parts.append(_divider())
        parts.append(ActionsBlock(elements=paging))
        parts.append(ContextBlock(elements=[kit.md(PAGE_OF.format(page=page.offset // page.limit + 1, pages=pages))]))
    topic = topic_text(page)
    fallback = f"{page.total} {_what(page)}" + (f" for “{safe(topic, 200)}”" if topic else "")
    return kit.message(fallback, parts)


def suggestion_query(page: SearchPage, suggestion: str) -> str:
    """The query a did-you-mean button runs: the same type, with the suggested word."""
    if page.asset_type is None:
        return suggestion
    return f"{page.asset_type.value.replace('_', ' ')} {suggestion}"


def _add_actions() -> ActionsBlock:
    return ActionsBlock(elements=[kit.button(BUTTON["add"], AssetIds.add_open, "add", style="primary")])


def no_match_message(page: SearchPage) -> Message:
    query = safe(page.query.strip(), 500)
    blocks: list[Block] = [SectionBlock(text=kit.md(NO_MATCH.format(query=query)))]
    if page.suggestions:
        blocks.append(SectionBlock(text=kit.md(DID_YOU_MEAN)))
        blocks.append(ActionsBlock(elements=[
            kit.button(suggestion_query(page, s), f"{AssetIds.rerun}:{i}", suggestion_query(page, s))
            for i, s in enumerate(page.suggestions[:5])
        ]))
    blocks.append(_add_actions())
    blocks.append(ContextBlock(elements=[kit.md(NO_MATCH_TIP)]))
    fallback = NO_MATCH_FALLBACK.format(query=safe(page.query.strip(), 200))
    if page.suggestions:
        fallback += "; did you mean " + " or ".join(suggestion_query(page, s) for s in page.suggestions) + "?"
    return kit.message(fallback, blocks)


def help_message() -> Message:
    examples = "\n".join(f"`{example}`" for example in HELP_EXAMPLES)
    types = "\n".join(f"• *{type_label(t)}*: {line}" for t, line in TYPE_LINES.items())
    blocks: list[Block] = [
        SectionBlock(text=kit.md(HELP_INTRO)),
        SectionBlock(text=kit.md("*Examples*\n" + examples)),
        SectionBlock(text=kit.md("*The four asset types*\n" + types)),
        SectionBlock(text=kit.md("*More*\n" + HELP_COMMANDS)),
        _add_actions(),
    ]
    return kit.message(HELP_FALLBACK, blocks)


def list_message(listing: AssetList) -> Message:
    """Drafts awaiting review, or one person's own assets."""
    drafts = listing.kind == "drafts"
    if not listing.items:
        text = DRAFTS_EMPTY if drafts else MINE_EMPTY
        blocks: list[Block] = [SectionBlock(text=kit.md(text))]
        if not drafts:
            blocks.append(_add_actions())
        return kit.message(text, blocks)
    header = (DRAFTS_HEADER if drafts else MINE_HEADER).format(total=listing.total)
    blocks = [SectionBlock(text=kit.md(header))]
    for item in listing.items:
        blocks.append(DividerBlock())
        blocks.extend(card_blocks(item))
    if listing.total > len(listing.items):
        blocks.append(ContextBlock(elements=[kit.md(LIST_MORE.format(shown=len(listing.items), total=listing.total))]))
    return kit.message(header.replace("*", ""), blocks)


# ----- replies ------------------------------------------------------------------------------------


def _counts(card: AssetCard) -> str:
    return f"👍 {card.useful_count} · 👎 {card.not_useful_count}"


def vote_reply(result: VoteResult) -> Message:
    vote = "useful" if result.useful else "not useful"
    title = safe(result.card.title, TITLE_MAX * 5)
    if not result.changed:
        text = VOTE_SAME.format(title=title, vote=vote)
    elif result.previous is None:
        text = VOTE_NEW.format(title=title, vote=vote, counts=_counts(result.card))
    else:
        text = VOTE_MOVED.format(title=title, vote=vote, counts=_counts(result.card))
    return kit.message(text, [SectionBlock(text=kit.md(text))])


def share_internal_refused(card: AssetCard, shared: Sharing) -> Message:
    text = SHARE_INTERNAL_REFUSED.format(where=shared.describe(), title=title_link(card), owner=user(card.owner_id))
    return kit.message(text, [SectionBlock(text=kit.md(text))])


def share_confirmation(card: AssetCard, shared: Sharing) -> Message:
    """Before a customer-facing asset goes into a conversation shared with another organisation: who will see it."""
    names = shared.names
    text = SHARE_CONFIRM.format(where=shared.describe(), names=names, title=title_link(card))
    value = AssetButton(id=card.id).encode()
    buttons = [kit.button(SHARE_CONFIRM_BUTTON.format(names=names), AssetIds.share_confirmed, value, style="primary"),
               kit.button(SHARE_CANCEL_BUTTON, AssetIds.share_cancelled, value)]
    return kit.message(text, [SectionBlock(text=kit.md(text)), ActionsBlock(elements=buttons)])


def share_done(text: str) -> Message:
    return kit.message(text, [SectionBlock(text=kit.md(text))])


def shared_externally(card: AssetCard, shared: Sharing) -> Message:
    return share_done(SHARED_EXTERNALLY.format(title=title_link(card), channel=shared.channel_id, names=shared.names))


def share_refused(error: str) -> Message:
    text = SHARE_CHANNEL_ARCHIVED if error == "is_archived" else SHARE_NOT_IN_CHANNEL
    return kit.message(text, [SectionBlock(text=kit.md(text))])


def saved_message(result: SaveResult, viewed: ViewedAsset) -> Message:
    """What the person who submitted the form gets: what happened, and the card."""
    title = title_link(result.card)
    if result.created:
        lead = (ADDED_DRAFT if result.needs_review else ADDED_PUBLISHED).format(title=title)
    elif result.changed:
        lead = UPDATED.format(title=title, changed=", ".join(FIELD_WORDS.get(c, c) for c in result.changed))
        if result.needs_review:
            lead += " " + BACK_TO_DRAFTS
    else:
        lead = UNCHANGED.format(title=title)
    return card_message(viewed, lead)


def review_request(viewed: ViewedAsset) -> Message:
    return card_message(viewed, REVIEW_REQUEST.format(owner=user(viewed.card.owner_id)))


def link_review_request(viewed: ViewedAsset, previous_url: str, editor_id: str) -> Message:
    previous = link(previous_url, clip(previous_url, 200))
    return card_message(viewed, LINK_REVIEW_REQUEST.format(editor=user(editor_id), previous=previous))


def playbooks_redrawn(count: int) -> Message:
    """To whoever archived an asset that playbook posts listed."""
    posts = "1 playbook post listed it; it now shows" if count == 1 else f"{count} playbook posts listed it; they now show"
    text = f"{posts} the assets that fit instead."
    return kit.message(text, [SectionBlock(text=kit.md(text))])


def curated_message(result: CurationResult, viewed: ViewedAsset) -> Message:
    title = title_link(result.card)
    if result.action == "restored" and result.card.status == AssetStatus.draft:
        lead = RESTORED_AS_DRAFT.format(title=title)
    else:
        lead = CURATED[result.action].format(title=title)
    return card_message(viewed, lead)


def owner_notice(result: CurationResult, actor_id: str) -> Message:
    text = OWNER_TOLD[result.action].format(title=title_link(result.card), actor=user(actor_id))
    return kit.message(text, [SectionBlock(text=kit.md(text))])


# ----- the add / edit form ------------------------------------------------------------------------




FORM_MESSAGES = {
    ("title", "must not be empty"): "Give the asset a title.",
    ("type", "is required"): "Choose the asset's type.",
    ("owner", "is required"): "Choose who owns the asset.",
}
FIELD_SUBJECTS = {
    "title": "The title",
    "type": "The type",
    "summary": "The summary",
    "url": "The link",
    "topics": "Topics",
    "products": "Products",
    "depth": "Depth",
    "scope": "Scope",
    "interactivity": "Interactivity",
    "cycle": "Sales cycle",
    "owner": "The owner",
    "customer_facing": "Audience",
    "parts": "Parts",
    "partner": "The marketing partner",
    "verifier": "The verifier",
    "review_every_days": "The review interval",
}


def form_errors(problems: list[tuple[str | None, str]]) -> dict[str, str]:
    """Field problems as `response_action: errors`, keyed by input block; one message per block."""
    errors: dict[str, str] = {}
    for field, message in problems:
        field = {"owner_id": "owner", "partner_id": "partner"}.get(field or "", field or "title")
        block = FORM_BLOCKS.get(field, AssetIds.title_block)
        text = FORM_MESSAGES.get((field, message))
        if text is None:
            if message.startswith(("is ", "must ", "contains ")):
                text = f"{FIELD_SUBJECTS.get(field, field.capitalize())} {message}"
            else:
                text = message[:1].upper() + message[1:]
        if not text.endswith((".", "?", "!")):
            text += "."
        errors.setdefault(str(block), clip(text, 300))
    return errors

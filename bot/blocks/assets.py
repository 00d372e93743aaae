"""Block Kit for assets: search answers, cards, lists, the add/edit form, help, and short replies.

Every builder returns `{"text": fallback, "blocks": [...]}` (or a view dict) ready for
`chat.postMessage` / `respond()` / `views.open`; slack_sdk's models check Slack's limits as they render.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    InputBlock,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)

from bot.blocks import kit
from bot.blocks.kit import Message
from bot.blocks.text import (
    clip,
    escape,
    link,
    safe,
    user,
)
from bot.ids import AssetIds
from bot.sharing import Sharing
from models.enums import ASSET_TYPE_LABELS, AssetStatus, AssetType, Cycle, Depth, Interactivity, Scope
from models.schemas.assets import (
    SUMMARY_MAX,
    TITLE_MAX,
    URL_MAX,
    AssetCard,
    AssetFields,
    AssetList,
    AssetRights,
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
    "`/asset mine` your own assets, drafts included, to edit them\n"
    "`/asset drafts` drafts awaiting review (admins)\n"
    "`/asset help` this message"
)

RESULTS_HEADER = "*{total}* {what} for *{query}*{range}"
NO_MATCH = "No assets match *{query}*."
NO_MATCH_FALLBACK = "No assets match “{query}”"
DID_YOU_MEAN = "Did you mean:"
NO_MATCH_TIP = (
    "Try fewer or different words, or `/asset help`. Searches that find nothing are passed on to the "
    "curators as content gaps; if you have the asset, add it."
)
NOT_UNDERSTOOD = (
    "I couldn't find an asset type or a topic in *{query}*. Try `/asset demo observability`, or "
    "`/asset help` for how searching works."
)
PAST_THE_END = "No more results for *{query}*; there are {total}."
PAGE_OF = "Page {page} of {pages}"

SHARED_BY = "{sharer} shared an asset"
SHARE_NOT_IN_CHANNEL = (
    "I can't post in this conversation because I'm not a member of it. Invite me with `/invite @epos`, "
    "then press *Share in channel* again."
)
SHARE_CHANNEL_ARCHIVED = "This channel is archived, so nothing can be posted in it. Share the asset somewhere else."
SHARE_INTERNAL_REFUSED = (
    "{where}, and {title} is an internal asset, so I did not share it there. Share a customer-facing asset "
    "instead, or ask its owner {owner} to mark it customer-facing (*Edit* › *Audience*) if it was made for customers."
)
SHARE_CONFIRM = (
    "{where}. Everyone in the channel, {names} included, will see {title} and its link. Share it there?"
)
SHARE_CONFIRM_BUTTON = "Share with {names}"
SHARE_CANCEL_BUTTON = "Cancel"
SHARE_CANCELLED = "Nothing was shared."
SHARED_EXTERNALLY = "Shared {title} in <#{channel}>, with {names}."

VOTE_NEW = "Thanks, you marked *{title}* as {vote}. ({counts})"
VOTE_MOVED = "You changed your vote on *{title}* to {vote}. ({counts})"
VOTE_SAME = "You had already marked *{title}* as {vote}; nothing changed. To change your mind, press the other button."

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
FIELD_WORDS = {"url": "link", "owner_id": "owner"}
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

FORM_TITLE = {"add": "Add an asset", "edit": "Edit asset"}
FORM_SUBMIT = "Save"
FORM_CLOSE = "Cancel"
FORM_INTRO = {
    "add": "Add a demo, walkthrough, proofshop or workshop so others can find it with `/asset`.",
    "edit": "Change what you need; the asset keeps its status.",
}
FORM_DRAFT_NOTE = "It starts as a draft until an admin publishes it."
FORM_LINK_REVIEW_NOTE = (
    "Change what you need. A new link sends the asset back to the drafts until an admin publishes it again; "
    "other changes keep it published."
)
USUAL_FOR_TYPE = "Usual for the type"
AXES_HINT = "Leave empty for what the type usually is (Demo: low, broad, presentation, early)."

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
QUERY_IN_VALUE = 1500


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
}
AUDIENCE_LABELS = {"internal": "Internal only", "customer_facing": "Customer-facing"}
AUDIENCE_HINT = ("Customer-facing assets may be shared into channels shared with a customer (Slack Connect); "
                 "internal ones never are.")




def _divider() -> dict[str, Any]:
    """A divider as its plain dict: it has nothing to check, and a page of results has eleven."""
    return {"type": "divider"}






def _title_link(card: AssetCard) -> str:
    return f"*{link(card.url, clip(card.title, 200))}*"


# ----- cards --------------------------------------------------------------------------------------


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


def people_line(card: AssetCard) -> str:
    parts = [f"Owner {user(card.owner_id)}", f"👍 {card.useful_count}", f"👎 {card.not_useful_count}"]
    if card.share_count:
        parts.append(f"shared {card.share_count}×")
    return " · ".join(parts)


def card_blocks(viewed: ViewedAsset, *, share: bool = True, vote: bool = True) -> list[Block]:
    """One asset: title linked to its url and a short summary, the facts as context, and the buttons
    the person looking may use."""
    card, rights = viewed.card, viewed.rights
    badge = STATUS_BADGES[card.status]
    heading = f"{badge}  {_title_link(card)}" if badge else _title_link(card)
    body = heading + (f"\n{safe(card.summary, SUMMARY_IN_CARD)}" if card.summary else "")
    context = [kit.md(facts_line(card)), kit.md(people_line(card))]
    tags = card.topics + [p for p in card.products if p.casefold() not in {t.casefold() for t in card.topics}]
    if tags:
        context.append(kit.md("Topics: " + safe(", ".join(tags), 500)))
    blocks: list[Block] = [SectionBlock(text=kit.md(body)), ContextBlock(elements=context)]
    value = str(card.id)
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
def _card_json(card_json: str, rights: AssetRights, share: bool, vote: bool) -> str:
    viewed = ViewedAsset(card=AssetCard.model_validate_json(card_json), rights=rights)
    return json.dumps([block.to_dict() for block in card_blocks(viewed, share=share, vote=vote)])


def card_dicts(viewed: ViewedAsset, *, share: bool = True, vote: bool = True) -> list[dict[str, Any]]:
    """`card_blocks` as checked dicts, remembered by the card's content and the viewer's rights.

    Search answers show the same cards over and over, and building and checking their Block Kit cost
    more CPU than the search itself under load (docs/performance.md). The key is everything the blocks
    show (not the search score, which they don't), so an edit, a vote or other rights make new blocks;
    each caller gets its own copy."""
    content = _card_content(_SameCard(viewed.card))
    return list(json.loads(_card_json(content, viewed.rights, share, vote)))


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


# ----- search answers -----------------------------------------------------------------------------


def page_value(query: str, offset: int) -> str:
    return json.dumps({"q": query[:QUERY_IN_VALUE], "o": offset}, separators=(",", ":"))


def read_page_value(value: str) -> tuple[str, int]:
    """The query and offset a paging button carries; a mangled value starts over at the first page."""
    try:
        data = json.loads(value)
        return str(data["q"]), max(0, int(data["o"]))
    except (ValueError, KeyError, TypeError):
        return "", 0


def _what(page: SearchPage) -> str:
    if page.asset_type is None:
        return "published asset" if page.total == 1 else "published assets"
    label = type_label(page.asset_type)
    return label if page.total == 1 else label + "s"


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
    header = RESULTS_HEADER.format(total=page.total, what=_what(page), query=query, range=shown)
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
    fallback = f"{page.total} {_what(page)} for “{safe(page.query.strip(), 200)}”"
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
    text = SHARE_INTERNAL_REFUSED.format(where=shared.describe(), title=_title_link(card), owner=user(card.owner_id))
    return kit.message(text, [SectionBlock(text=kit.md(text))])


def share_confirmation(card: AssetCard, shared: Sharing) -> Message:
    """Before a customer-facing asset goes into a conversation shared with another organisation: who will see it."""
    names = shared.names
    text = SHARE_CONFIRM.format(where=shared.describe(), names=names, title=_title_link(card))
    value = str(card.id)
    buttons = [kit.button(SHARE_CONFIRM_BUTTON.format(names=names), AssetIds.share_confirmed, value, style="primary"),
               kit.button(SHARE_CANCEL_BUTTON, AssetIds.share_cancelled, value)]
    return kit.message(text, [SectionBlock(text=kit.md(text)), ActionsBlock(elements=buttons)])


def share_done(text: str) -> Message:
    return kit.message(text, [SectionBlock(text=kit.md(text))])


def shared_externally(card: AssetCard, shared: Sharing) -> Message:
    return share_done(SHARED_EXTERNALLY.format(title=_title_link(card), channel=shared.channel_id, names=shared.names))


def share_refused(error: str) -> Message:
    text = SHARE_CHANNEL_ARCHIVED if error == "is_archived" else SHARE_NOT_IN_CHANNEL
    return kit.message(text, [SectionBlock(text=kit.md(text))])


def saved_message(result: SaveResult, viewed: ViewedAsset) -> Message:
    """What the person who submitted the form gets: what happened, and the card."""
    title = _title_link(result.card)
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


def curated_message(result: CurationResult, viewed: ViewedAsset) -> Message:
    title = _title_link(result.card)
    if result.action == "restored" and result.card.status == AssetStatus.draft:
        lead = RESTORED_AS_DRAFT.format(title=title)
    else:
        lead = CURATED[result.action].format(title=title)
    return card_message(viewed, lead)


def owner_notice(result: CurationResult, actor_id: str) -> Message:
    text = OWNER_TOLD[result.action].format(title=_title_link(result.card), actor=user(actor_id))
    return kit.message(text, [SectionBlock(text=kit.md(text))])


# ----- the add / edit form ------------------------------------------------------------------------


# Every field of the form answers under the same action_id; the block_id says which field it is.
_field_input = functools.partial(kit.text_input, action_id=AssetIds.field)


def _options(labels: dict[Any, str]) -> list[Option]:
    return [kit.option(label, str(getattr(key, "value", key))) for key, label in labels.items()]


def _select(block_id: AssetIds, label: str, labels: dict[Any, str], initial: Any, *, optional: bool,
            placeholder: str, hint: str | None = None) -> InputBlock:
    options = _options(labels)
    chosen = next((o for o in options if initial is not None and o.value == str(getattr(initial, "value", initial))), None)
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=StaticSelectElement(action_id=AssetIds.field, placeholder=PlainTextObject(text=placeholder),
                                    options=options, initial_option=chosen),
        optional=optional,
        hint=PlainTextObject(text=hint) if hint else None,
    )




def asset_form(
    *, mode: str, owner_id: str, initial: AssetCard | AssetFields | None = None,
    asset_id: int | None = None, will_be_draft: bool = False, link_change_needs_review: bool = False,
) -> dict[str, Any]:
    """The modal to add an asset (`mode="add"`) or edit one (`mode="edit"`, prefilled from its card)."""
    intro = FORM_INTRO[mode] + (" " + FORM_DRAFT_NOTE if will_be_draft and mode == "add" else "")
    if link_change_needs_review and mode == "edit":
        intro = FORM_LINK_REVIEW_NOTE
    blocks: list[Block] = [
        SectionBlock(text=kit.md(intro)),
        _field_input(AssetIds.title_block, "Title", initial=initial.title if initial else None, max_length=TITLE_MAX,
                      placeholder="Observability in 15 minutes: from alert to root cause"),
        _select(AssetIds.type_block, "Type", ASSET_TYPE_LABELS, initial.type if initial else None,
                optional=False, placeholder="Choose a type"),
        _field_input(AssetIds.summary_block, "Summary", initial=initial.summary if initial else None, max_length=SUMMARY_MAX,
                      multiline=True, placeholder="What it shows, for whom, and when to use it"),
        _field_input(AssetIds.url_block, "Link", initial=initial.url if initial else None, max_length=URL_MAX,
                      placeholder="https://…", hint="Where the asset lives: an http:// or https:// link."),
        _field_input(AssetIds.topics_block, "Topics", initial=", ".join(initial.topics) if initial else None,
                      max_length=1000, optional=True, placeholder="observability, kubernetes, logging",
                      hint="Separated by commas. Search matches these strongly."),
        _field_input(AssetIds.products_block, "Products", initial=", ".join(initial.products) if initial else None,
                      max_length=1000, optional=True, placeholder="Observability, Security",
                      hint="Separated by commas."),
        _select(AssetIds.depth_block, "Depth", DEPTH_LABELS, initial.depth if initial else None,
                optional=True, placeholder=USUAL_FOR_TYPE, hint=AXES_HINT),
        _select(AssetIds.scope_block, "Scope", SCOPE_LABELS, initial.scope if initial else None,
                optional=True, placeholder=USUAL_FOR_TYPE),
        _select(AssetIds.interactivity_block, "Interactivity", INTERACTIVITY_LABELS,
                initial.interactivity if initial else None, optional=True, placeholder=USUAL_FOR_TYPE),
        _select(AssetIds.cycle_block, "Sales cycle", CYCLE_LABELS, initial.cycle if initial else None,
                optional=True, placeholder=USUAL_FOR_TYPE),
        _select(AssetIds.audience_block, "Audience", AUDIENCE_LABELS,
                ("customer_facing" if initial is not None and initial.customer_facing else "internal"),
                optional=False, placeholder="Who may see it", hint=AUDIENCE_HINT),
        InputBlock(
            block_id=AssetIds.owner_block,
            label=PlainTextObject(text="Owner"),
            element=UserSelectElement(action_id=AssetIds.field, initial_user=owner_id,
                                      placeholder=PlainTextObject(text="Who keeps it up to date")),
        ),
    ]
    return kit.modal(AssetIds.edit_modal if mode == "edit" else AssetIds.add_modal, FORM_TITLE[mode], blocks,
                     submit=FORM_SUBMIT, close=FORM_CLOSE,
                     metadata=json.dumps({"asset_id": asset_id}) if asset_id is not None else "")


def form_asset_id(private_metadata: str) -> int | None:
    try:
        value = json.loads(private_metadata or "{}").get("asset_id")
        asset_id = int(value) if value is not None else None
    except (ValueError, AttributeError, TypeError):
        return None
    # A row id is a PostgreSQL integer; anything else in the metadata was mangled.
    return asset_id if asset_id is None or 0 < asset_id <= 2**31 - 1 else None


def read_form(values: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """The submitted form as AssetFields input (validation happens there)."""

    def value(block: AssetIds) -> Any:
        state = (values.get(block) or {}).get(AssetIds.field) or {}
        kind = state.get("type")
        if kind == "static_select":
            option = state.get("selected_option")
            return option.get("value") if option else None
        if kind == "users_select":
            return state.get("selected_user")
        return state.get("value")

    return {
        "title": value(AssetIds.title_block) or "",
        "type": value(AssetIds.type_block),
        "summary": value(AssetIds.summary_block) or "",
        "url": value(AssetIds.url_block) or "",
        "topics": value(AssetIds.topics_block) or "",
        "products": value(AssetIds.products_block) or "",
        "depth": value(AssetIds.depth_block),
        "scope": value(AssetIds.scope_block),
        "interactivity": value(AssetIds.interactivity_block),
        "cycle": value(AssetIds.cycle_block),
        "owner_id": value(AssetIds.owner_block) or "",
        "customer_facing": value(AssetIds.audience_block) == "customer_facing",
    }


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
}


def form_errors(problems: list[tuple[str | None, str]]) -> dict[str, str]:
    """Field problems as `response_action: errors`, keyed by input block; one message per block."""
    errors: dict[str, str] = {}
    for field, message in problems:
        field = "owner" if field == "owner_id" else (field or "title")
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

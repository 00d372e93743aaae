"""Asset reviews: the DM asking a verifier whether their assets are still true, the admins' queue (assets
long overdue, proposed for archiving, and assets whose verifier has left), and the replies to Verify.

Each asset is a section and its buttons; the same Archive button (with Slack's confirmation) and Edit
button as on a card, so they act exactly as there."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    SectionBlock,
)

from bot.blocks import kit
from bot.blocks.asset_card import ARCHIVE_CONFIRM_TEXT, ARCHIVE_CONFIRM_TITLE, BUTTON, type_label
from bot.blocks.kit import Message
from bot.blocks.kit import plain_text
from bot.blocks.text import HEADER_TEXT, MESSAGE_BLOCKS, clip, escape, link, plural, safe, slack_day, user
from bot.codecs import AssetButton
from bot.ids import AssetIds
from models.schemas.assets import DueAsset, VerifyResult

HEADER_ONE = "One of your assets is due for review"
HEADER_MANY = "{count} of your assets are due for review"
INTRO = ("You verify these assets. Are they still true? *Verify* if so, *Edit* what changed, or *Archive* "
         "what nobody should use any more.")
LINE = "{title}\n{type} · review overdue since {due}"
HANDED_OVER_LINE = "{title}\n{type} · review overdue since {due} · verifier {verifier} has left"
PROPOSAL_LINE = "{title}\n{type} · review overdue since {due} ({days} overdue) · verifier {verifier}"
ADMIN_HEADER = "Assets for the admins to look at"
PROPOSALS_INTRO = ("*Archive?* These have been overdue for review for more than {days}. Nothing is archived "
                   "until an admin presses Archive.")
HANDED_OVER_INTRO = "*Their verifier has left.* Verify them, or Edit one to name a new verifier."
MORE = "…and {count} more, in your next review DM."
ADMIN_MORE = "…and {count} more: see them all with `epos assets due`."
FOOTER = "You are asked about each asset once per review period; Verify starts the next one."
FALLBACK_ONE = "An asset is due for review: {titles}"
FALLBACK_MANY = "{count} assets are due for review: {titles}"
ADMIN_FALLBACK = "Assets for the admins to look at: {titles}"
VERIFIED_REPLY = "Thanks: *{title}* is verified. Its next review is due {due}."
BUTTON_VERIFY = "Verify"
BUTTON_ARCHIVE_PROPOSED = "Archive"
# Header, intro, "more" and footer around two blocks per asset (admins: two intros).
FIXED_BLOCKS = 5
MAX_LINES = (MESSAGE_BLOCKS - FIXED_BLOCKS) // 2


def _title(item: DueAsset) -> str:
    return f"*{link(item.url, clip(item.title, 200))}*"


def _archive_button(item: DueAsset, value: str) -> ButtonElement:
    confirm = ConfirmObject(
        title=plain_text(ARCHIVE_CONFIRM_TITLE),
        text=kit.md(ARCHIVE_CONFIRM_TEXT.format(title=safe(item.title, 150))),
        confirm=plain_text(BUTTON["archive"]),
        deny=plain_text("Keep it"),
        style="danger",
    )
    return kit.button(BUTTON["archive"], AssetIds.archive, value, style="danger", confirm=confirm)


def review_buttons(item: DueAsset) -> ActionsBlock:
    value = AssetButton(id=item.id).encode()
    return ActionsBlock(elements=[
        kit.button(BUTTON_VERIFY, AssetIds.verify, value, style="primary"),
        kit.button(BUTTON["edit"], AssetIds.edit, value),
        _archive_button(item, value),
    ])


def _line(item: DueAsset, template: str) -> SectionBlock:
    text = template.format(title=_title(item), type=type_label(item.type), due=slack_day(item.due_at),
                           verifier=user(item.verifier_id), days=plural(item.days_overdue, "day"))
    return SectionBlock(text=kit.md(text))


def _titles(items: Sequence[DueAsset]) -> str:
    return ", ".join(escape(clip(item.title, 60)) for item in items[:5]) + ("…" if len(items) > 5 else "")


def review_message(items: Sequence[DueAsset]) -> Message:
    """One verifier's DM: every asset of theirs due for review, longest overdue first."""
    count, shown = len(items), list(items[:MAX_LINES])
    blocks: list[Block] = [
        HeaderBlock(text=clip(HEADER_ONE if count == 1 else HEADER_MANY.format(count=count), HEADER_TEXT)),
        ContextBlock(elements=[kit.md(INTRO)]),
    ]
    for item in shown:
        blocks += [_line(item, LINE), review_buttons(item)]
    if count > len(shown):
        blocks.append(ContextBlock(elements=[kit.md(MORE.format(count=count - len(shown)))]))
    blocks.append(ContextBlock(elements=[kit.md(FOOTER)]))
    fallback = (FALLBACK_ONE.format(titles=_titles(items)) if count == 1
                else FALLBACK_MANY.format(count=count, titles=_titles(items)))
    return kit.message(fallback, blocks)


def admin_message(proposals: Sequence[DueAsset], handed_over: Sequence[DueAsset], *,
                  archive_after_days: int) -> Message:
    """An admin's DM: assets long overdue, each with a one-click Archive, and assets whose verifier left."""
    blocks: list[Block] = [HeaderBlock(text=clip(ADMIN_HEADER, HEADER_TEXT))]
    room = MAX_LINES
    left_out = 0
    if proposals:
        blocks.append(SectionBlock(text=kit.md(PROPOSALS_INTRO.format(days=plural(archive_after_days, "day")))))
        for item in proposals[:room]:
            value = AssetButton(id=item.id).encode()
            blocks += [_line(item, PROPOSAL_LINE), ActionsBlock(elements=[
                kit.button(BUTTON_ARCHIVE_PROPOSED, AssetIds.archive_proposed, value, style="danger"),
                kit.button(BUTTON_VERIFY, AssetIds.verify, value),
                kit.button(BUTTON["edit"], AssetIds.edit, value),
            ])]
        left_out += max(0, len(proposals) - room)
        room = max(0, room - len(proposals))
    if handed_over:
        blocks.append(SectionBlock(text=kit.md(HANDED_OVER_INTRO)))
        for item in handed_over[:room]:
            blocks += [_line(item, HANDED_OVER_LINE), review_buttons(item)]
        left_out += max(0, len(handed_over) - room)
    if left_out:
        blocks.append(ContextBlock(elements=[kit.md(ADMIN_MORE.format(count=left_out))]))
    return kit.message(ADMIN_FALLBACK.format(titles=_titles([*proposals, *handed_over])), blocks)


def verified_reply(result: VerifyResult) -> Message:
    card = result.card
    due = slack_day(card.review_due_at) if card.review_due_at else "later"
    text = VERIFIED_REPLY.format(title=safe(card.title, 200), due=due)
    return kit.message(text, [SectionBlock(text=kit.md(text))])


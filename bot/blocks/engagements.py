"""Block Kit for engagements: results of changes with Undo, pickers, lists, the playbook post, and the
button values and form payloads they carry. The card, the forms, the figures, help and the ESAT
question have modules of their own (engagement_card, engagement_forms, engagement_stats,
engagement_help, esat), whose builders are importable from here too.

Every message builder returns `{"text": fallback, "blocks": [...]}`; form builders return a view dict.
slack_sdk's models check Slack's limits as they render; user text goes through `safe()`.
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ContextBlock, DividerBlock, HeaderBlock, SectionBlock

from bot.blocks import devrel as devrel_blocks
from bot.blocks import kit
from bot.blocks.stage_checklist import left_open_text

# Each surface has its own builder module; handlers and jobs reach them through this one as well.
from bot.blocks.engagement_card import (  # noqa: F401
    card_blocks,
    card_message,
    engagement_buttons,
    reopen_button,
    shared_warning,
)
from bot.blocks.engagement_forms import channel_form, close_form, esat_form, new_form, note_form, stage_form  # noqa: F401
from bot.blocks.engagement_help import help_message  # noqa: F401
from bot.blocks.engagement_stats import figures_lines, stats_message  # noqa: F401
from bot.blocks.engagement_text import BUTTON, day, fallback_text, label, plain_label, stage_line, tools_text
from bot.blocks.esat import esat_message  # noqa: F401
from bot.blocks.kit import Message
from bot.blocks.text import HEADER_TEXT, clip, escape, link, safe, user
from bot.codecs import CloseChoice, EngagementButton, EngagementForm, ListPage, StageChoice
from bot.ids import EngagementIds
from bot.sharing import Sharing
from models.enums import ASSET_TYPE_LABELS, Outcome, Stage
from models.schemas.engagements import (
    OUTCOME_LABELS,
    AccountMatch,
    EngagementCard,
    EngagementPage,
    EngagementSummary,
    NoteResult,
    PlaybookPost,
    StageChangeResult,
)

# ----- text ---------------------------------------------------------------------------------------------

MOVED = "{icon} {label}: {from_stage} → *{to_stage}*{when}."
OPENED = "🆕 Opened {label} in *{stage}*{when}. You own it; the stage playbook follows."
CLOSED = "🏁 Closed {label} as *{outcome}*{when}."
UNDONE = "↩️ Undone: {label} is back in *{stage}*."
REOPENED = "🔓 Reopened {label}; it is back in *{stage}*."
PLAYBOOK_REDRAWN = "An asset this playbook listed was archived, so the assets that fit are the current ones."
STILL_CANCELLED = {
    "one": "The DevRel request its close cancelled stays cancelled; if the meeting still happens, ask again with `/devrel`.",
    "many": "The {count} DevRel requests its close cancelled stay cancelled; if a meeting still happens, ask again "
            "with `/devrel`.",
}
BACKDATED_WHEN = " (effective {date}, logged now)"
ESAT_FOLLOWS = "epos has sent <@{owner}> a one-click ESAT question about it."
ESAT_FOLLOWS_YOU = "epos has sent you a one-click ESAT question about it."
NOTE_ADDED = "📝 Note added to {label}."

# One wording for "nothing of that name", whatever the command.
NOT_FOUND = "epos found no engagement named *{query}*."
PICK_AMBIGUOUS = "*{query}* fits several engagements. Which one did you mean?"
PICK_UNSURE = NOT_FOUND + " Did you mean one of these?"
PICK_STAGE = "Did you mean *{stage}*?"
PICK_GUESS = "Did you mean to move {label} to *{stage}*?"
PICK_MORE = "{more} more match; type more of the name to narrow it down."
NONE_SUGGEST = "Did you mean {names}?"
NONE_HINT = "See yours with `/engagement list`, or open one with `/engagement new`."
CLOSING_HINT = "To close {label}, pick the outcome:"
CLOSE_USAGE = (
    "Give the account and the outcome: `/engagement close ACCOUNT won|lost|no-decision [note]`, "
    "for example `/engagement close polaris won signed for 3 years`."
)
# One answer for a closed engagement, whatever was asked of it (a stage change, a close, …).
ALREADY_CLOSED = "{label} is already closed ({when}). Reopen it to change its stage or outcome."
NOT_AN_OUTCOME = (
    "“{word}” is not won, lost or no-decision. Type `/engagement close {account} won|lost|no-decision [note]`, "
    "for example `/engagement close {account} won`."
)

LIST_TITLE = {"mine": "Your engagements", "all": "All engagements"}
LIST_COUNTS = "{open} open · {closed} closed"
LIST_EMPTY = {
    "mine": "You have no engagements yet (as owner or seller). Open one with `/engagement new`.",
    "all": "Nobody has logged an engagement yet. Open one with `/engagement new`.",
}
PAGE_OF = "Page {page} of {pages}"
PLAYBOOK_LEAD = "{label} entered *{stage}*. Here is the playbook for it."
PLAYBOOK_FALLBACK_LEAD = (
    "epos couldn't post the *{stage}* playbook for {label} in <#{channel}> ({reason}). {fix} Here it is instead:"
)
PLAYBOOK_FIX = {
    "not_in_channel": "Invite epos there with `/invite @epos` so the next one lands in the channel.",
    "channel_not_found": "The channel may be private or gone; set another deal channel.",
    "is_archived": "The channel is archived; set another deal channel.",
}
PLAYBOOK_SHARED_LEAD = (
    "The *{stage}* playbook for {label} is for our team only, and {where}, so it comes to you instead "
    "of the channel. {how}"
)
CLOSE_SHARED_LEAD = "{where}, so the close is announced to you instead of the channel. {how}"
INTERNAL_CHANNEL_HOW = (
    "To have epos post in a channel again, set a deal channel only your organisation is in: "
    "*Deal channel* on the engagement's card (`/engagement ACCOUNT`)."
)

PLAYBOOK_NO_ASSETS = "No published {types} matches *{focus}* yet. Search with `/asset` or add one with `/asset add`."
CLOSED_ANNOUNCEMENT = "🏁 {label} closed as *{outcome}* by {actor}."
CHANNEL_SET = "Deal channel of {label} set to {channel}."
CHANNEL_CLEARED = "{label} has no deal channel now: playbooks and news go to the owner by DM."
CHANNEL_UNCHANGED = "The deal channel of {label} stays {channel}; nothing changed."

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")
# ----- small pieces -----------------------------------------------------------------------------------------


def change_value(engagement_id: int, stage: Stage, note: str) -> str:
    return StageChoice(engagement_id=engagement_id, stage=stage, note=note).encode()


def close_value(engagement_id: int, outcome: Outcome, note: str) -> str:
    return CloseChoice(engagement_id=engagement_id, outcome=outcome, note=note).encode()


# ----- help ---------------------------------------------------------------------------------------------------


# ----- the card -------------------------------------------------------------------------------------------------


CARD_MODAL_TITLE = "Engagement"


def card_modal(card: EngagementCard, *, channel_sharing: Sharing | None = None) -> dict[str, Any]:
    """The card in a modal, for places with no conversation to answer in (the App Home)."""
    return kit.modal(EngagementIds.show_card, CARD_MODAL_TITLE, card_blocks(card, channel_sharing=channel_sharing),
                     close="Close", metadata=EngagementForm(engagement_id=card.engagement.id).encode())


# ----- results of changes -----------------------------------------------------------------------------------------
def _when(result: StageChangeResult) -> str:
    return BACKDATED_WHEN.format(date=day(result.effective_at)) if result.backdated else ""


def change_result_text(result: StageChangeResult) -> str:
    engagement = result.engagement
    name = label(engagement)
    if result.from_stage is None:
        return OPENED.format(label=name, stage=result.to_stage.label, when=_when(result))
    if result.undo:
        if result.from_stage is not Stage.closed:
            return UNDONE.format(label=name, stage=result.to_stage.label)
        text = REOPENED.format(label=name, stage=result.to_stage.label)
        if result.devrel_still_cancelled:
            count = result.devrel_still_cancelled
            text += " " + STILL_CANCELLED["one" if count == 1 else "many"].format(count=count)
        return text
    if result.to_stage is Stage.closed:
        outcome = OUTCOME_LABELS[result.outcome] if result.outcome else "closed"
        return CLOSED.format(label=name, outcome=outcome, when=_when(result))
    forward = list(Stage).index(result.to_stage) > list(Stage).index(result.from_stage)
    icon = "➡️" if forward else "⬅️"
    return MOVED.format(icon=icon, label=name, from_stage=result.from_stage.label, to_stage=result.to_stage.label,
                        when=_when(result))


def change_result_message(result: StageChangeResult) -> Message:
    """What the actor sees after a change: what happened, with Undo (or Reopen after a close) and the card."""
    text = change_result_text(result)
    body = text
    if result.note:
        body += f"\n> {safe(result.note, 1000)}"
    blocks: list[Block] = [SectionBlock(text=kit.md(body))]
    if result.open_deliverables and result.from_stage is not None:
        blocks.append(SectionBlock(text=kit.md(left_open_text(result.from_stage, result.open_deliverables))))
    blocks.extend(devrel_blocks.closed_with_engagement(result.devrel_cancelled))
    if result.esat_survey_id is not None:
        owner = result.engagement.owner_id
        asked = ESAT_FOLLOWS_YOU if owner == result.actor_id else ESAT_FOLLOWS.format(owner=owner)
        blocks.append(ContextBlock(elements=[kit.md(asked)]))
    buttons = [kit.button(BUTTON["card"], EngagementIds.show_card, EngagementButton(id=result.engagement.id).encode())]
    if result.from_stage is not None and not result.undo:
        undo_label = BUTTON["reopen"] if result.to_stage is Stage.closed else BUTTON["undo"]
        buttons.insert(0, kit.button(undo_label, EngagementIds.undo, str(result.change_id)))
    blocks.append(ActionsBlock(elements=buttons))
    return kit.message(fallback_text(text), blocks)


def note_result_message(result: NoteResult) -> Message:
    text = NOTE_ADDED.format(label=label(result.engagement))
    blocks: list[Block] = [
        SectionBlock(text=kit.md(f"{text}\n> {safe(result.text, 1500)}")),
        ActionsBlock(elements=[kit.button(BUTTON["card"], EngagementIds.show_card, EngagementButton(id=result.engagement.id).encode())]),
    ]
    return kit.message(fallback_text(text), blocks)


def closed_announcement(result: StageChangeResult, *, shared: Sharing | None = None) -> Message:
    """For the deal channel; `shared`: the channel is shared with another organisation, so for the owner."""
    outcome = OUTCOME_LABELS[result.outcome] if result.outcome else "closed"
    text = CLOSED_ANNOUNCEMENT.format(label=label(result.engagement), outcome=outcome, actor=user(result.actor_id))
    blocks: list[Block] = [SectionBlock(text=kit.md(text))]
    if shared is not None:
        why = CLOSE_SHARED_LEAD.format(where=shared.describe(), how=INTERNAL_CHANNEL_HOW)
        blocks.append(ContextBlock(elements=[kit.md(why)]))
    return kit.message(fallback_text(text), blocks)


# ----- pickers ------------------------------------------------------------------------------------------------------
def _candidate_text(candidate: EngagementSummary) -> str:
    practice = " · practice" if candidate.practice else ""
    return f"{candidate.account} · {candidate.opportunity} ({candidate.stage_label}){practice}"


def _pick_blocks(prompt: str, match: AccountMatch, action: str, value_of: Any) -> list[Block]:
    blocks: list[Block] = [SectionBlock(text=kit.md(prompt))]
    buttons = [
        kit.button(_candidate_text(candidate), f"{action}:{index}", value_of(candidate))
        for index, candidate in enumerate(match.candidates)
    ]
    for start in range(0, len(buttons), 5):
        blocks.append(ActionsBlock(elements=buttons[start:start + 5]))
    if match.more:
        blocks.append(ContextBlock(elements=[kit.md(PICK_MORE.format(more=match.more))]))
    return blocks


def _pick_prompt(match: AccountMatch) -> str:
    query = safe(match.query, 200)
    return (PICK_AMBIGUOUS if match.kind == "ambiguous" else PICK_UNSURE).format(query=query)


def _move_button(candidate: EngagementSummary, stage: Stage, note: str) -> Any:
    return kit.button(f"Move {candidate.account} to {stage.label}", f"{EngagementIds.confirm_change}:0",
                      change_value(candidate.id, stage, note), style="primary")


def pick_for_change(match: AccountMatch, stage: Stage, note: str, *, unsure_stage: bool = False) -> Message:
    """Several engagements fit (or only a guess does), or the stage was a guess: let the person choose."""
    if unsure_stage and match.kind == "exact":
        prompt = PICK_STAGE.format(stage=stage.label)
        button = _move_button(match.candidates[0], stage, note)
        blocks: list[Block] = [SectionBlock(text=kit.md(prompt)), ActionsBlock(elements=[button])]
        return kit.message(f"Did you mean {stage.label}?", blocks)
    if unsure_stage and match.kind == "unsure":
        # A guess at both: one button for the likeliest engagement and stage.
        prompt = (NOT_FOUND.format(query=safe(match.query, 200)) + " "
                  + PICK_GUESS.format(label=label(match.candidates[0]), stage=stage.label))
        button = _move_button(match.candidates[0], stage, note)
        return kit.message(fallback_text(prompt), [SectionBlock(text=kit.md(prompt)), ActionsBlock(elements=[button])])
    prompt = _pick_prompt(match)
    if unsure_stage:
        prompt += " " + PICK_STAGE.format(stage=stage.label)
    else:
        prompt += f" (moving it to *{stage.label}*)"
    blocks = _pick_blocks(prompt, match, EngagementIds.confirm_change, lambda c: change_value(c.id, stage, note))
    return kit.message(fallback_text(prompt), blocks)


def pick_for_close(match: AccountMatch, outcome: Outcome, note: str) -> Message:
    prompt = _pick_prompt(match) + f" (closing it as *{OUTCOME_LABELS[outcome]}*)"
    blocks = _pick_blocks(prompt, match, EngagementIds.confirm_close, lambda c: close_value(c.id, outcome, note))
    return kit.message(fallback_text(prompt), blocks)


def pick_for_card(match: AccountMatch) -> Message:
    prompt = _pick_prompt(match)
    blocks = _pick_blocks(prompt, match, EngagementIds.show_card, lambda c: EngagementButton(id=c.id).encode())
    return kit.message(fallback_text(prompt), blocks)


def closing_choice(candidate: EngagementSummary, note: str, outcome: Outcome | None = None) -> Message:
    """`/engagement ACCOUNT won`: one click to close, with the outcome said (or to pick)."""
    outcomes = [outcome] if outcome else list(Outcome)
    buttons = [
        kit.button(f"Close as {OUTCOME_LABELS[o]}", f"{EngagementIds.confirm_close}:{index}",
                   close_value(candidate.id, o, note), style="primary" if outcome else None)
        for index, o in enumerate(outcomes)
    ]
    text = CLOSING_HINT.format(label=label(candidate))
    return kit.message(fallback_text(text), [SectionBlock(text=kit.md(text)), ActionsBlock(elements=buttons)])


def already_closed_message(engagement: EngagementSummary) -> Message:
    """Whatever was asked of a closed engagement: it is closed, and Reopen (or its card) is one click away."""
    when = OUTCOME_LABELS[engagement.outcome] if engagement.outcome else "no outcome"
    if engagement.closed_at:
        when += f", {day(engagement.closed_at)}"
    text = ALREADY_CLOSED.format(label=label(engagement), when=when)
    buttons = [reopen_button(engagement),
               kit.button(BUTTON["card"], EngagementIds.show_card, EngagementButton(id=engagement.id).encode())]
    return kit.message(fallback_text(text), [SectionBlock(text=kit.md(text)), ActionsBlock(elements=buttons)])


def not_an_outcome(word: str, account: str) -> str:
    """`/engagement close ACCOUNT WORD` where WORD is no outcome (mrkdwn-safe)."""
    return NOT_AN_OUTCOME.format(word=safe(word, 100), account=safe(account, 200))


def not_found_message(query: str, suggestions: list[str]) -> Message:
    text = NOT_FOUND.format(query=safe(query, 200))
    if suggestions:
        text += " " + NONE_SUGGEST.format(names=", ".join(f"*{safe(s, 100)}*" for s in suggestions))
    blocks: list[Block] = [
        SectionBlock(text=kit.md(text)),
        ContextBlock(elements=[kit.md(NONE_HINT)]),
        ActionsBlock(elements=[kit.button(BUTTON["new"], EngagementIds.new, "new")]),
    ]
    return kit.message(fallback_text(text), blocks)


def notice(text: str) -> Message:
    """A one-line answer (already mrkdwn-safe)."""
    return kit.message(fallback_text(text), [SectionBlock(text=kit.md(text))])


PRACTICE_DELETED = ("Deleted your practice engagement {label}: its stages, notes and DevRel requests are gone. "
                    "Press *Start a practice engagement* on the epos Home to begin another.")


def practice_deleted_message(engagement: EngagementSummary) -> Message:
    return notice(PRACTICE_DELETED.format(label=label(engagement)))


# ----- lists --------------------------------------------------------------------------------------------------------
def list_value(scope: str, page: int) -> str:
    return ListPage(scope=scope, page=page).encode()  # type: ignore[arg-type]


def list_message(page: EngagementPage) -> Message:
    closed = page.total - page.open_total
    header = f"*{LIST_TITLE[page.scope]}* · " + LIST_COUNTS.format(open=page.open_total, closed=closed)
    blocks: list[Block] = [SectionBlock(text=kit.md(header))]
    if not page.items:
        blocks.append(SectionBlock(text=kit.md(LIST_EMPTY[page.scope])))
        blocks.append(ActionsBlock(elements=[kit.button(BUTTON["new"], EngagementIds.new, "new", style="primary")]))
        return kit.message(LIST_EMPTY[page.scope].replace("`", ""), blocks)
    blocks.append(DividerBlock())
    for item in page.items:
        owner = f" · owner {user(item.owner_id)}" if page.scope == "all" else ""
        text = f"{label(item, 150)}\n{stage_line(item)}{owner}"
        blocks.append(SectionBlock(
            text=kit.md(text),
            accessory=kit.button(BUTTON["open"], f"{EngagementIds.show_card}:{item.id}", EngagementButton(id=item.id).encode()),
        ))
    if page.pages > 1:
        paging = []
        if page.page > 0:
            paging.append(kit.button(BUTTON["previous"], f"{EngagementIds.list_page}:prev",
                                     list_value(page.scope, page.page - 1)))
        if page.page < page.pages - 1:
            paging.append(kit.button(BUTTON["next"], f"{EngagementIds.list_page}:next",
                                     list_value(page.scope, page.page + 1)))
        blocks.append(ActionsBlock(elements=paging))
        blocks.append(ContextBlock(elements=[kit.md(PAGE_OF.format(page=page.page + 1, pages=page.pages))]))
    fallback = f"{LIST_TITLE[page.scope]}: {page.open_total} open, {closed} closed"
    return kit.message(fallback, blocks)


# ----- figures --------------------------------------------------------------------------------------------------------


# ----- the playbook post ---------------------------------------------------------------------------------------------
def playbook_message(post: PlaybookPost, *, failed_channel: str | None = None, reason: str = "",
                     shared: Sharing | None = None, redrawn: bool = False) -> Message:
    """The checklist of the stage entered and the assets that fit, for the deal channel or the owner
    (`shared`: the deal channel is shared with another organisation, so the owner gets it instead;
    `redrawn`: an asset it listed was archived, so the assets that fit are drawn again)."""
    name = label(post.engagement)
    if shared is not None:
        lead = PLAYBOOK_SHARED_LEAD.format(stage=post.stage.label, label=name, where=shared.describe(),
                                           how=INTERNAL_CHANNEL_HOW)
    elif failed_channel:
        fix = PLAYBOOK_FIX.get(reason, "Check the deal channel on the card.")
        lead = PLAYBOOK_FALLBACK_LEAD.format(stage=post.stage.label, label=name, channel=failed_channel,
                                             reason=escape(reason or "error"), fix=fix)
    else:
        lead = PLAYBOOK_LEAD.format(label=name, stage=post.stage.label)

    def bullets(items: list[str]) -> str:
        return "\n".join(f"• {safe(item, 400)}" for item in items) or "—"

    blocks: list[Block] = [
        SectionBlock(text=kit.md(lead)),
        HeaderBlock(text=kit.plain_text(f"{post.title} playbook", HEADER_TEXT)),
        SectionBlock(text=kit.md(f"*Goal:* {safe(post.goal, 600)}")),
        SectionBlock(text=kit.md("*Before you start*\n" + bullets(post.prerequisites))),
        SectionBlock(text=kit.md("*Calls to action*\n" + bullets(post.calls_to_action))),
        SectionBlock(text=kit.md("*Deliverables*\n" + bullets(post.deliverables))),
    ]
    if post.tools:
        blocks.append(SectionBlock(text=kit.md(tools_text(post.tools, post.stage.label))))
    types = " or ".join(ASSET_TYPE_LABELS[t] for t in post.asset_types)
    if post.assets:
        lines = "\n".join(
            f"• {link(a.url, clip(a.title, 150))} ({ASSET_TYPE_LABELS[a.type]})"
            + (f": {safe(a.summary, 200)}" if a.summary else "")
            for a in post.assets
        )
        blocks.append(SectionBlock(text=kit.md(f"*Assets that fit* ({types}, {safe(post.engagement.focus, 100)})\n{lines}")))
    else:
        blocks.append(ContextBlock(elements=[kit.md(PLAYBOOK_NO_ASSETS.format(types=types,
                                                                       focus=safe(post.engagement.focus, 100)))]))
    if redrawn:
        blocks.append(ContextBlock(elements=[kit.md(PLAYBOOK_REDRAWN)]))
    blocks.append(ActionsBlock(elements=engagement_buttons(post.engagement)))
    fallback = f"{post.title} playbook for {plain_label(post.engagement)}"
    return kit.message(fallback, blocks)


# ----- ESAT ---------------------------------------------------------------------------------------------------------------


# ----- forms ----------------------------------------------------------------------------------------------------------------


def channel_result_message(engagement: EngagementSummary, *, changed: bool, shared: Sharing | None) -> Message:
    name = label(engagement)
    channel = f"<#{engagement.channel_id}>" if engagement.channel_id else ""
    if not changed:
        text = CHANNEL_UNCHANGED.format(label=name, channel=channel or "empty")
    elif channel:
        text = CHANNEL_SET.format(label=name, channel=channel)
    else:
        text = CHANNEL_CLEARED.format(label=name)
    blocks: list[Block] = [SectionBlock(text=kit.md(text))]
    warning = shared_warning(shared)
    if warning:
        blocks.append(SectionBlock(text=kit.md(warning)))
    return kit.message(fallback_text(text), blocks)


# ----- answering submitted forms ------------------------------------------------------------------------------------------
FIELD_BLOCKS: dict[str, str] = {
    "account": EngagementIds.account_block,
    "opportunity": EngagementIds.opportunity_block,
    "seller": EngagementIds.seller_block,
    "focus": EngagementIds.focus_other_block,
    "business_challenge": EngagementIds.challenge_block,
    "technical_needs": EngagementIds.needs_block,
    "channel": EngagementIds.channel_block,
    "stage": EngagementIds.start_stage_block,
    "opened_on": EngagementIds.opened_block,
    "effective_date": EngagementIds.effective_date_block,
    "note": EngagementIds.note_block,
    "score": EngagementIds.outcome_block,
    "comment": EngagementIds.comment_block,
}


def form_errors(field: str | None, message: str, *, default_block: str,
                blocks: dict[str, str] | None = None) -> dict[str, str]:
    """`response_action: errors` for a service error: on its field's block (as the form names it in
    `blocks`, else as the new-engagement form does), else on `default_block`."""
    block = {**FIELD_BLOCKS, **(blocks or {})}.get(field or "", default_block)
    # Field errors are plain text: no bold, no mentions, no entities.
    plain = _MENTION.sub(r"@\1", message.replace("*", "").replace("`", ""))
    plain = plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return {block: clip(plain, 2000)}

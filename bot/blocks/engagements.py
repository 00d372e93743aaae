"""Block Kit for engagements: the card, results of changes with Undo, pickers, lists, figures, the
playbook post, the forms (new, change stage, close, note, ESAT comment), the ESAT question and help.

Every message builder returns `{"text": fallback, "blocks": [...]}`; form builders return a view dict.
slack_sdk's models check Slack's limits as they render; user text goes through `safe()`.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import date, datetime
from typing import Any, Literal

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)

from bot.blocks import kit
from bot.blocks.kit import Message
from bot.blocks.text import (
    FIELD_TEXT,
    HEADER_TEXT,
    PRIVATE_METADATA,
    clip,
    escape,
    link,
    safe,
    user,
)
from bot.errors import InvalidInput
from bot.ids import EngagementIds
from bot.sharing import Sharing
from models.enums import ASSET_TYPE_LABELS, OPEN_STAGES, Outcome, RequestState, Stage
from models.schemas.engagements import (
    OUTCOME_LABELS,
    AccountMatch,
    EngagementCard,
    EngagementPage,
    EngagementSummary,
    EsatPrompt,
    NewEngagementIn,
    NoteResult,
    PlaybookPost,
    StageChangeResult,
    TeamMetrics,
    TimelineEntry,
)


# ----- text ---------------------------------------------------------------------------------------------
HELP_FALLBACK = "How to log engagements with /engagement"
HELP_INTRO = (
    "*Log where each deal stands without leaving Slack.* Every engagement moves along the EPOS path; "
    "each stage change is kept in its log, and entering a stage posts its playbook with matching assets."
)
HELP_COMMANDS = (
    "`/engagement new` open an engagement (a form)\n"
    "`/engagement ACCOUNT STAGE [note]` log a stage change, e.g. `/engagement northbeam poc kickoff done`\n"
    "`/engagement close ACCOUNT won|lost|no-decision [note]` close it; you'll be asked for an ESAT rating\n"
    "`/engagement ACCOUNT` the card: stage, days in stage, timeline, assets shared, DevRel requests\n"
    "`/engagement list` yours (owner or seller) · `/engagement list all` everyone's (managers)\n"
    "`/engagement stats [--weeks N]` MTTC and the funnel, yours or (managers) the team's; default 12 weeks\n"
    "`/engagement help` this message"
)
HELP_STAGES_TITLE = "*The stages, in order*"
HELP_STAGE_WORDS = {
    Stage.preparation: "`prep`",
    Stage.discovery: "`disco`",
    Stage.demo: "`demo`",
    Stage.poc: "`poc`, `proof of concept`",
    Stage.tech_qa: "`tech qa`, `q&a`",
    Stage.sizing: "`sizing`",
}
HELP_TIPS = (
    "Accounts and stages forgive typos; when a name fits several engagements you pick one. "
    "Skips and backward moves are fine. To log a change that happened earlier, use *Change stage* on the "
    "card and pick the day. Only the owner, the seller and presales managers may change an engagement; "
    "anyone may read its card."
)

MOVED = "{icon} {label}: {from_stage} → *{to_stage}*{when}."
OPENED = "🆕 Opened {label} in *{stage}*{when}. You own it; the stage playbook follows."
CLOSED = "🏁 Closed {label} as *{outcome}*{when}."
UNDONE = "↩️ Undone: {label} is back in *{stage}*."
REOPENED = "🔓 Reopened {label}; it is back in *{stage}*."
BACKDATED_WHEN = " (effective {date}, logged now)"
ESAT_FOLLOWS = "I've sent <@{owner}> a one-click ESAT question about it."
NOTE_ADDED = "📝 Note added to {label}."
STRANGER_HINT = "Only the owner, the seller and presales managers can change it."

PICK_AMBIGUOUS = "*{query}* fits several engagements. Which one did you mean?"
PICK_UNSURE = "I found no open engagement named *{query}*. Did you mean one of these?"
PICK_STAGE = "Did you mean *{stage}*?"
PICK_MORE = "{more} more match; type more of the name to narrow it down."
NONE_FOUND = "No {which}engagement for *{query}*."
NONE_SUGGEST = "Did you mean {names}?"
NONE_HINT = "See yours with `/engagement list`, or open one with `/engagement new`."
CLOSING_HINT = "To close {label}, pick the outcome:"
CLOSING_ANY = "To close an engagement: `/engagement close ACCOUNT won|lost|no-decision [note]`."
CLOSE_USAGE = (
    "Tell me the account and the outcome: `/engagement close ACCOUNT won|lost|no-decision [note]`, "
    "for example `/engagement close northbeam won signed for 3 years`."
)
STAGE_UNKNOWN = (
    "I couldn't find a stage in *{text}*. Use `/engagement ACCOUNT STAGE [note]`; stages are "
    "prep, discovery, demo, poc, tech qa and sizing. `/engagement help` has examples."
)

LIST_TITLE = {"mine": "Your engagements", "all": "All engagements"}
LIST_COUNTS = "{open} open · {closed} closed"
LIST_EMPTY = {
    "mine": "You have no engagements yet (as owner or seller). Open one with `/engagement new`.",
    "all": "Nobody has logged an engagement yet. Open one with `/engagement new`.",
}
PAGE_OF = "Page {page} of {pages}"
STALE_BADGE = "⚠️ stale"

STATS_TITLE = {"mine": "Your figures", "team": "Team figures"}
STATS_WINDOW = "{since} – {until} (last {weeks} weeks) · an engagement counts here if it closed in this window"
STATS_NONE = "No engagement closed in this window yet."

PLAYBOOK_LEAD = "{label} entered *{stage}*. Here is the playbook for it."
PLAYBOOK_FALLBACK_LEAD = (
    "I couldn't post the *{stage}* playbook for {label} in <#{channel}> ({reason}). {fix} Here it is instead:"
)
PLAYBOOK_FIX = {
    "not_in_channel": "Invite me there with `/invite @epos` so the next one lands in the channel.",
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

ESAT_QUESTION = (
    "{label} closed as *{outcome}*. How satisfied are you with how this engagement went? "
    "1 = poor, 5 = excellent. It takes one click; a comment is optional."
)
ESAT_REMINDER = "Reminder, and the last one: " + ESAT_QUESTION
ESAT_THANKS = "Thanks! You rated {label} *{score}/5*.{comment} Click another number to change it."
ESAT_COMMENT_SHOWN = " Your comment: _{comment}_"
ESAT_FALLBACK = "How did the {account} engagement go? Rate it 1–5."

BUTTON = {
    "change_stage": "Change stage",
    "close": "Close",
    "add_note": "Add note",
    "channel": "Deal channel",
    "reopen": "Reopen",
    "undo": "Undo",
    "card": "View card",
    "new": "New engagement",
    "next": "Next ›",
    "previous": "‹ Previous",
    "open": "Open",
    "comment": "Add a comment",
}
REOPEN_CONFIRM = ("Reopen this engagement?", "It goes back to the stage it was closed from; its figures no longer "
                  "count it as closed.", "Reopen", "Keep it closed")

FORM_TITLE = {"new": "New engagement", "stage": "Change stage", "close": "Close engagement", "note": "Add a note",
              "channel": "Deal channel",
              "esat": "Rate the engagement"}
FORM_SUBMIT = {"new": "Open", "stage": "Save", "close": "Close it", "note": "Add", "esat": "Save", "channel": "Save"}
FORM_CANCEL = "Cancel"
FOCUS_OPTIONS = {"observability": "Observability", "security": "Security", "other": "Other (describe below)"}
FOCUS_OTHER_HINT = "For Other: the topic, e.g. vector search, kubernetes monitoring"
NEW_INTRO = "You'll own this engagement. The stage playbook is posted when it opens."
EFFECTIVE_HINT = "When it happened. Pick an earlier day if you're logging late."
CHANNEL_HINT = "Playbooks and news go here; leave empty to get them by DM."
CHANNEL_FORM_HINT = ("Playbooks and news of this engagement go here; leave empty to get them by DM. A channel shared "
                     "with another organisation gets none of them: they come to the owner by DM instead.")
SHARED_DEAL_CHANNEL = (
    "⚠️ {where}. Playbooks, close announcements and other internal news of this engagement go to the owner "
    "by DM instead. To have them in a channel, set a deal channel only your organisation is in (*Deal channel* on "
    "the card)."
)
SHARED_CARD_NOTE = "⚠️ shared with {names}: internal news goes to the owner by DM"
CHANNEL_SET = "Deal channel of {label} set to {channel}."
CHANNEL_CLEARED = "{label} has no deal channel now: playbooks and news go to the owner by DM."
CHANNEL_UNCHANGED = "The deal channel of {label} stays {channel}; nothing changed."
OUTCOME_OPTIONS = {Outcome.won: "Won", Outcome.lost: "Lost", Outcome.no_decision: "No decision"}

TIMELINE_MORE = "… and {more} earlier entries."
SHARES_TITLE = "*Assets shared* ({total})"
DEVREL_TITLE = "*DevRel requests*"
DEVREL_STATE = {
    RequestState.asking: "asking {who}",
    RequestState.in_channel: "waiting in the DevRel channel",
    RequestState.accepted: "{who} joins",
    RequestState.cancelled: "cancelled",
    RequestState.expired: "expired, nobody was free",
}
NOTES_VALUE_LIMIT = 1500
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")
_DATE_TOKEN = re.compile(r"<!date\^\d+\^[^|]*\|([^>]*)>")


# ----- small pieces -----------------------------------------------------------------------------------------










def day(moment: datetime) -> str:
    """A date Slack shows in the reader's own timezone (with a UTC fallback for old clients)."""
    return f"<!date^{int(moment.timestamp())}^{{date_short}}|{moment:%-d %b %Y}>"


def label(engagement: EngagementSummary, limit: int = 300) -> str:
    """*Account* (opportunity), mrkdwn-safe."""
    return f"*{safe(engagement.account, limit)}* ({safe(engagement.opportunity, limit)})"


def plain_label(engagement: EngagementSummary) -> str:
    """Account (opportunity) for a message's fallback `text`, which Slack reads as mrkdwn too."""
    return escape(f"{engagement.account} ({engagement.opportunity})")


def stage_line(engagement: EngagementSummary) -> str:
    if not engagement.is_open:
        closed = f" on {day(engagement.closed_at)}" if engagement.closed_at else ""
        return f"*{engagement.stage_label}*{closed}"
    days = "1 day" if engagement.days_in_stage == 1 else f"{engagement.days_in_stage} days"
    stale = f" · {STALE_BADGE}" if engagement.stale else ""
    return f"*{engagement.stage.label}* for {days}{stale}"


def days_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} d"


def share_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def encode(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


def decode(value: str) -> dict[str, Any]:
    """A button value or private_metadata written by `encode`; {} when it is not ours or mangled."""
    try:
        data = json.loads(value or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def change_value(engagement_id: int, stage: Stage, note: str) -> str:
    return encode({"e": engagement_id, "s": stage.value, "n": note[:NOTES_VALUE_LIMIT]})


def close_value(engagement_id: int, outcome: Outcome, note: str) -> str:
    return encode({"e": engagement_id, "o": outcome.value, "n": note[:NOTES_VALUE_LIMIT]})


def form_metadata(engagement_id: int | None = None, *, response_url: str | None = None,
                  channel_id: str | None = None, survey_id: int | None = None) -> str:
    data: dict[str, Any] = {"e": engagement_id, "r": response_url, "c": channel_id, "s": survey_id}
    text = encode({k: v for k, v in data.items() if v is not None})
    if len(text) > PRIVATE_METADATA:  # a response_url is never this long; keep the id regardless
        text = encode({"e": engagement_id, "s": survey_id})
    return text


# ----- help ---------------------------------------------------------------------------------------------------
def help_message() -> Message:
    stages = "\n".join(
        f"{index}. *{stage.label}* ({HELP_STAGE_WORDS[stage]})" for index, stage in enumerate(OPEN_STAGES, start=1)
    ) + "\n7. *Closed*: won, lost or no decision"
    blocks: list[Block] = [
        SectionBlock(text=kit.md(HELP_INTRO)),
        SectionBlock(text=kit.md("*Commands*\n" + HELP_COMMANDS)),
        SectionBlock(text=kit.md(HELP_STAGES_TITLE + "\n" + stages)),
        ContextBlock(elements=[kit.md(HELP_TIPS)]),
        ActionsBlock(elements=[kit.button(BUTTON["new"], EngagementIds.new, "new", style="primary")]),
    ]
    return kit.message(HELP_FALLBACK, blocks)


# ----- the card -------------------------------------------------------------------------------------------------
def _timeline_line(entry: TimelineEntry) -> str:
    imported = not entry.actor_id.startswith(("U", "W"))
    who = "import" if imported else user(entry.actor_id)
    when = day(entry.at)
    if entry.kind == "note":
        return f"• {when} 📝 {who}: {safe(entry.note, 400)}"
    assert entry.to_stage is not None
    if entry.from_stage is None:
        text = f"opened in *{entry.to_stage.label}*"
    elif entry.to_stage is Stage.closed:
        text = f"closed as *{OUTCOME_LABELS[entry.outcome] if entry.outcome else 'closed'}*"
    elif entry.undo:
        text = f"↩️ undo, back to *{entry.to_stage.label}*"
    else:
        text = f"{entry.from_stage.label} → *{entry.to_stage.label}*"
    if entry.undone:
        text = f"~{text}~ (undone)"
    flags = f" _(backdated, logged {day(entry.logged_at)})_" if entry.backdated else ""
    note = f" — {safe(entry.note, 300)}" if entry.note and not entry.undo else ""
    by = " (imported)" if imported else f" by {who}"
    return f"• {when} {text}{by}{flags}{note}"


def _devrel_line(line: Any) -> str:
    who = user(line.assignee_id or line.candidate_id) if (line.assignee_id or line.candidate_id) else "someone"
    state = DEVREL_STATE[line.state].format(who=who)
    topics = f" on {safe(', '.join(line.topics), 200)}" if line.topics else ""
    return f"• {day(line.meeting_start)}{topics}: {state} (asked by {user(line.requester_id)})"


def shared_warning(shared: Sharing | None) -> str:
    """The warning for a deal channel shared with another organisation, or "" when it is internal."""
    return SHARED_DEAL_CHANNEL.format(where=shared.describe()) if shared is not None and shared.external else ""


def card_blocks(card: EngagementCard, *, channel_sharing: Sharing | None = None) -> list[Block]:
    """`channel_sharing`: what Slack says of the deal channel, when epos could ask."""
    engagement = card.engagement
    header = clip(f"{engagement.account} · {engagement.opportunity}", HEADER_TEXT)
    channel = f"<#{engagement.channel_id}>" if engagement.channel_id else "none (DMs to the owner)"
    if engagement.channel_id and channel_sharing is not None and channel_sharing.external:
        channel += "\n" + SHARED_CARD_NOTE.format(names=channel_sharing.names)
    fields = [
        kit.md(f"*Stage*\n{stage_line(engagement)}", FIELD_TEXT),
        kit.md(f"*Focus*\n{safe(engagement.focus, 200)}", FIELD_TEXT),
        kit.md(f"*Owner SE*\n{user(engagement.owner_id)}", FIELD_TEXT),
        kit.md(f"*Seller*\n{user(engagement.seller_id)}", FIELD_TEXT),
        kit.md(f"*Opened*\n{day(engagement.opened_at)}", FIELD_TEXT),
        kit.md(f"*Deal channel*\n{channel}", FIELD_TEXT),
    ]
    blocks: list[Block] = [HeaderBlock(text=kit.plain_text(header, HEADER_TEXT)), SectionBlock(fields=fields)]
    story = []
    if card.business_challenge:
        story.append(f"*Business challenge (top-down)*\n{safe(card.business_challenge, 1200)}")
    if card.technical_needs:
        story.append(f"*Technical needs (bottom-up)*\n{safe(card.technical_needs, 1200)}")
    if story:
        blocks.append(SectionBlock(text=kit.md("\n\n".join(story))))
    lines = [_timeline_line(entry) for entry in card.timeline]
    if card.timeline_total > len(card.timeline):
        lines.append(TIMELINE_MORE.format(more=card.timeline_total - len(card.timeline)))
    blocks.append(SectionBlock(text=kit.md("*Timeline* (latest first)\n" + "\n".join(lines))))
    if card.shares:
        shares = "\n".join(
            f"• {link(s.url, clip(s.title, 150))} ({ASSET_TYPE_LABELS[s.type]}) shared by {user(s.shared_by)} "
            f"{day(s.shared_at)}"
            for s in card.shares
        )
        blocks.append(SectionBlock(text=kit.md(SHARES_TITLE.format(total=card.shares_total) + "\n" + shares)))
    if card.devrel:
        blocks.append(SectionBlock(text=kit.md(DEVREL_TITLE + "\n" + "\n".join(_devrel_line(d) for d in card.devrel))))
    buttons = engagement_buttons(engagement, may_change=card.viewer_may_change)
    if buttons:
        buttons.append(kit.button(BUTTON["channel"], EngagementIds.set_channel, str(engagement.id)))
        blocks.append(ActionsBlock(elements=buttons))
    elif not card.viewer_may_change:
        blocks.append(ContextBlock(elements=[kit.md(STRANGER_HINT)]))
    return blocks


def engagement_buttons(engagement: EngagementSummary, *, may_change: bool = True) -> list[ButtonElement]:
    """Change stage / Close / Add note for an open engagement, Reopen for a closed one (value = its id)."""
    if not may_change:
        return []
    value = str(engagement.id)
    if not engagement.is_open:
        title, text, yes, no = REOPEN_CONFIRM
        confirm = ConfirmObject(title=kit.plain_text(title, 100), text=kit.md(text, 300), confirm=kit.plain_text(yes, 30),
                                deny=kit.plain_text(no, 30))
        return [kit.button(BUTTON["reopen"], EngagementIds.reopen, value, confirm=confirm),
                kit.button(BUTTON["add_note"], EngagementIds.add_note, value)]
    return [
        kit.button(BUTTON["change_stage"], EngagementIds.change_stage, value, style="primary"),
        kit.button(BUTTON["add_note"], EngagementIds.add_note, value),
        kit.button(BUTTON["close"], EngagementIds.close, value),
    ]


def card_message(card: EngagementCard, lead: str = "", *, channel_sharing: Sharing | None = None) -> Message:
    blocks: list[Block] = []
    if lead:
        blocks.append(SectionBlock(text=kit.md(lead)))
    blocks.extend(card_blocks(card, channel_sharing=channel_sharing))
    engagement = card.engagement
    fallback = _fallback(lead) if lead else f"{plain_label(engagement)}: {engagement.stage_label}"
    return kit.message(fallback, blocks)


CARD_MODAL_TITLE = "Engagement"


def card_modal(card: EngagementCard, *, channel_sharing: Sharing | None = None) -> dict[str, Any]:
    """The card in a modal, for places with no conversation to answer in (the App Home)."""
    return kit.modal(EngagementIds.show_card, CARD_MODAL_TITLE, card_blocks(card, channel_sharing=channel_sharing),
                     close="Close", metadata=form_metadata(card.engagement.id))


# ----- results of changes -----------------------------------------------------------------------------------------
def _when(result: StageChangeResult) -> str:
    return BACKDATED_WHEN.format(date=day(result.effective_at)) if result.backdated else ""


def change_result_text(result: StageChangeResult) -> str:
    engagement = result.engagement
    name = label(engagement)
    if result.from_stage is None:
        return OPENED.format(label=name, stage=result.to_stage.label, when=_when(result))
    if result.undo:
        template = REOPENED if result.from_stage is Stage.closed else UNDONE
        return template.format(label=name, stage=result.to_stage.label)
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
    if result.esat_survey_id is not None:
        blocks.append(ContextBlock(elements=[kit.md(ESAT_FOLLOWS.format(owner=result.engagement.owner_id))]))
    buttons = [kit.button(BUTTON["card"], EngagementIds.show_card, str(result.engagement.id))]
    if result.from_stage is not None and not result.undo:
        undo_label = BUTTON["reopen"] if result.to_stage is Stage.closed else BUTTON["undo"]
        buttons.insert(0, kit.button(undo_label, EngagementIds.undo, str(result.change_id)))
    blocks.append(ActionsBlock(elements=buttons))
    return kit.message(_fallback(text), blocks)


def _fallback(text: str) -> str:
    """Plain text for notifications: mrkdwn marks and Slack date tokens dropped."""
    return _DATE_TOKEN.sub(r"\1", text).replace("*", "")


def note_result_message(result: NoteResult) -> Message:
    text = NOTE_ADDED.format(label=label(result.engagement))
    blocks: list[Block] = [
        SectionBlock(text=kit.md(f"{text}\n> {safe(result.text, 1500)}")),
        ActionsBlock(elements=[kit.button(BUTTON["card"], EngagementIds.show_card, str(result.engagement.id))]),
    ]
    return kit.message(_fallback(text), blocks)


def closed_announcement(result: StageChangeResult, *, shared: Sharing | None = None) -> Message:
    """For the deal channel; `shared`: the channel is shared with another organisation, so for the owner."""
    outcome = OUTCOME_LABELS[result.outcome] if result.outcome else "closed"
    text = CLOSED_ANNOUNCEMENT.format(label=label(result.engagement), outcome=outcome, actor=user(result.actor_id))
    blocks: list[Block] = [SectionBlock(text=kit.md(text))]
    if shared is not None:
        why = CLOSE_SHARED_LEAD.format(where=shared.describe(), how=INTERNAL_CHANNEL_HOW)
        blocks.append(ContextBlock(elements=[kit.md(why)]))
    return kit.message(_fallback(text), blocks)


# ----- pickers ------------------------------------------------------------------------------------------------------
def _candidate_text(candidate: EngagementSummary) -> str:
    return f"{candidate.account} · {candidate.opportunity} ({candidate.stage_label})"


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


def pick_for_change(match: AccountMatch, stage: Stage, note: str, *, unsure_stage: bool = False) -> Message:
    """Several engagements fit (or only a guess does), or the stage was a guess: let the person choose."""
    if unsure_stage and match.kind == "exact":
        prompt = PICK_STAGE.format(stage=stage.label)
        candidate = match.candidates[0]
        button = kit.button(f"Move {candidate.account} to {stage.label}", f"{EngagementIds.confirm_change}:0",
                         change_value(candidate.id, stage, note), style="primary")
        blocks: list[Block] = [SectionBlock(text=kit.md(prompt)), ActionsBlock(elements=[button])]
        return kit.message(f"Did you mean {stage.label}?", blocks)
    prompt = _pick_prompt(match)
    if unsure_stage:
        prompt += " " + PICK_STAGE.format(stage=stage.label)
    else:
        prompt += f" (moving it to *{stage.label}*)"
    blocks = _pick_blocks(prompt, match, EngagementIds.confirm_change, lambda c: change_value(c.id, stage, note))
    return kit.message(_fallback(prompt), blocks)


def pick_for_close(match: AccountMatch, outcome: Outcome, note: str) -> Message:
    prompt = _pick_prompt(match) + f" (closing it as *{OUTCOME_LABELS[outcome]}*)"
    blocks = _pick_blocks(prompt, match, EngagementIds.confirm_close, lambda c: close_value(c.id, outcome, note))
    return kit.message(_fallback(prompt), blocks)


def pick_for_card(match: AccountMatch) -> Message:
    prompt = _pick_prompt(match)
    blocks = _pick_blocks(prompt, match, EngagementIds.show_card, lambda c: str(c.id))
    return kit.message(_fallback(prompt), blocks)


def closing_choice(candidate: EngagementSummary, note: str, outcome: Outcome | None = None) -> Message:
    """`/engagement ACCOUNT won`: one click to close, with the outcome said (or to pick)."""
    outcomes = [outcome] if outcome else list(Outcome)
    buttons = [
        kit.button(f"Close as {OUTCOME_LABELS[o]}", f"{EngagementIds.confirm_close}:{index}",
                close_value(candidate.id, o, note), style="primary" if outcome else None)
        for index, o in enumerate(outcomes)
    ]
    text = CLOSING_HINT.format(label=label(candidate))
    return kit.message(_fallback(text), [SectionBlock(text=kit.md(text)), ActionsBlock(elements=buttons)])


def not_found_message(query: str, suggestions: list[str], *, open_only: bool = True) -> Message:
    which = "open " if open_only else ""
    text = NONE_FOUND.format(which=which, query=safe(query, 200))
    if suggestions:
        text += " " + NONE_SUGGEST.format(names=", ".join(f"*{safe(s, 100)}*" for s in suggestions))
    blocks: list[Block] = [
        SectionBlock(text=kit.md(text)),
        ContextBlock(elements=[kit.md(NONE_HINT)]),
        ActionsBlock(elements=[kit.button(BUTTON["new"], EngagementIds.new, "new")]),
    ]
    return kit.message(_fallback(text), blocks)


def notice(text: str) -> Message:
    """A one-line answer (already mrkdwn-safe)."""
    return kit.message(_fallback(text), [SectionBlock(text=kit.md(text))])


# ----- lists --------------------------------------------------------------------------------------------------------
def list_value(scope: str, page: int) -> str:
    return encode({"scope": scope, "page": page})


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
            accessory=kit.button(BUTTON["open"], f"{EngagementIds.show_card}:{item.id}", str(item.id)),
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
def figures_lines(metrics: TeamMetrics) -> list[str]:
    """The figures as a few mrkdwn lines; shared by `/engagement stats` and the App Home."""
    closed = metrics.closed
    lines = [
        f"*Closed* {metrics.closed_total}: {closed['won']} won · {closed['lost']} lost · "
        f"{closed['no_decision']} no decision · win rate {share_text(metrics.win_rate)}",
    ]
    if metrics.mttc_days.count:
        won = metrics.mttc_by_outcome["won"]
        lines.append(
            f"*MTTC* mean {days_text(metrics.mttc_days.mean)}, median {days_text(metrics.mttc_days.median)}"
            f" · won: mean {days_text(won.mean)}, median {days_text(won.median)}"
        )
    else:
        lines.append(f"*MTTC* — {STATS_NONE}")
    esat = f"{metrics.esat.mean:.1f}/5 from {metrics.esat.count}" if metrics.esat.count else "no ratings yet"
    lines.append(f"*ESAT* {esat}")
    return lines


def stats_message(metrics: TeamMetrics, *, scope: Literal["mine", "team"], weeks: int) -> Message:
    window = STATS_WINDOW.format(since=day(metrics.since), until=day(metrics.until), weeks=weeks)
    slowest = metrics.slowest_stage
    dwell_rows, conversion_rows, open_rows = [], [], []
    for stage in OPEN_STAGES:
        dwell = metrics.stage_dwell_days_median[stage.value]
        mark = " 🐢 slowest" if stage.value == slowest else ""
        dwell_rows.append(f"{stage.label}: {days_text(dwell)}{mark}")
        conversion_rows.append(f"{stage.label}: {share_text(metrics.stage_conversion[stage.value])}")
        open_rows.append(f"{stage.label}: {metrics.open_by_stage[stage.value]}")
    blocks: list[Block] = [
        HeaderBlock(text=kit.plain_text(STATS_TITLE[scope], HEADER_TEXT)),
        ContextBlock(elements=[kit.md(window)]),
        SectionBlock(text=kit.md("\n".join(figures_lines(metrics)))),
        SectionBlock(fields=[
            kit.md("*Median days in stage*\n" + "\n".join(dwell_rows), FIELD_TEXT),
            kit.md("*Moved on from stage*\n" + "\n".join(conversion_rows), FIELD_TEXT),
            kit.md(f"*Open now* ({sum(metrics.open_by_stage.values())})\n" + "\n".join(open_rows), FIELD_TEXT),
        ]),
    ]
    if slowest:
        blocks.append(ContextBlock(elements=[kit.md(
            f"Slowest stage: *{Stage(slowest).label}* "
            f"(median {days_text(metrics.stage_dwell_days_median[slowest])}). "
            "Its playbook, posted when a deal enters it, lists what moves a deal on."
        )]))
    fallback = (f"{STATS_TITLE[scope]}: {metrics.closed_total} closed, MTTC median "
                f"{days_text(metrics.mttc_days.median)}")
    return kit.message(fallback, blocks)


# ----- the playbook post ---------------------------------------------------------------------------------------------
def playbook_message(post: PlaybookPost, *, failed_channel: str | None = None, reason: str = "",
                     shared: Sharing | None = None) -> Message:
    """The checklist of the stage entered and the assets that fit, for the deal channel or the owner
    (`shared`: the deal channel is shared with another organisation, so the owner gets it instead)."""
    name = label(post.engagement)
    if shared is not None:
        lead = PLAYBOOK_SHARED_LEAD.format(stage=post.title, label=name, where=shared.describe(),
                                           how=INTERNAL_CHANNEL_HOW)
    elif failed_channel:
        fix = PLAYBOOK_FIX.get(reason, "Check the deal channel on the card.")
        lead = PLAYBOOK_FALLBACK_LEAD.format(stage=post.title, label=name, channel=failed_channel,
                                             reason=escape(reason or "error"), fix=fix)
    else:
        lead = PLAYBOOK_LEAD.format(label=name, stage=post.title)

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
    blocks.append(ActionsBlock(elements=engagement_buttons(post.engagement)))
    fallback = f"{post.title} playbook for {plain_label(post.engagement)}"
    return kit.message(fallback, blocks)


# ----- ESAT ---------------------------------------------------------------------------------------------------------------
def esat_message(prompt: EsatPrompt, *, answered: bool = False) -> Message:
    name = f"*{safe(prompt.account, 200)}* ({safe(prompt.opportunity, 200)})"
    outcome = OUTCOME_LABELS[prompt.outcome] if prompt.outcome else "closed"
    if answered and prompt.score is not None:
        comment = ESAT_COMMENT_SHOWN.format(comment=safe(prompt.comment, 500)) if prompt.comment else ""
        text = ESAT_THANKS.format(label=name, score=prompt.score, comment=comment)
    else:
        text = (ESAT_REMINDER if prompt.reminder else ESAT_QUESTION).format(label=name, outcome=outcome)
    scores = [
        kit.button(f"{'★ ' if prompt.score == score else ''}{score}", f"{EngagementIds.esat_score}:{score}",
                str(prompt.survey_id), style="primary" if prompt.score == score else None)
        for score in range(1, 6)
    ]
    blocks: list[Block] = [
        SectionBlock(text=kit.md(text)),
        ActionsBlock(elements=scores),
        ActionsBlock(elements=[kit.button(BUTTON["comment"], EngagementIds.esat_comment, str(prompt.survey_id))]),
    ]
    return kit.message(ESAT_FALLBACK.format(account=escape(prompt.account)), blocks)


# ----- forms ----------------------------------------------------------------------------------------------------------------
def _modal(kind: str, callback_id: str, blocks: list[Block], metadata: str = "") -> dict[str, Any]:
    return kit.modal(callback_id, FORM_TITLE[kind], blocks, submit=FORM_SUBMIT[kind], close=FORM_CANCEL,
                     metadata=metadata)


# Every field of a form answers under the same action_id; the block_id says which field it is.
_field_input = functools.partial(kit.text_input, action_id=EngagementIds.field)




def _stage_select(block_id: str, label_text: str, stages: list[Stage], initial: Stage | None) -> InputBlock:
    options = [kit.option(stage.label, stage.value) for stage in stages]
    initial_option = next((o for o in options if initial and o.value == initial.value), None)
    element = StaticSelectElement(action_id=EngagementIds.field, options=options, initial_option=initial_option,
                                  placeholder=kit.plain_text("Pick a stage"))
    return InputBlock(block_id=block_id, label=kit.plain_text(label_text), element=element)


def _date_input(block_id: str, label_text: str, today: date, hint: str) -> InputBlock:
    element = DatePickerElement(action_id=EngagementIds.field, initial_date=today.isoformat())
    return InputBlock(block_id=block_id, label=kit.plain_text(label_text), element=element, hint=kit.plain_text(hint))


def new_form(*, today: date, metadata: str = "", account: str = "") -> dict[str, Any]:
    focus_options = [kit.option(text, value) for value, text in FOCUS_OPTIONS.items()]
    blocks: list[Block] = [
        ContextBlock(elements=[kit.md(NEW_INTRO)]),
        _field_input(EngagementIds.account_block, "Account (the customer)", placeholder="Northbeam Logistics",
                      initial=clip(account, 200)),
        _field_input(EngagementIds.opportunity_block, "Opportunity", placeholder="Fleet platform observability"),
        InputBlock(block_id=EngagementIds.seller_block, label=kit.plain_text("Seller"),
                   element=UserSelectElement(action_id=EngagementIds.field, placeholder=kit.plain_text("Who sells this deal"))),
        InputBlock(block_id=EngagementIds.focus_block, label=kit.plain_text("Focus"),
                   element=StaticSelectElement(action_id=EngagementIds.field, options=focus_options,
                                               placeholder=kit.plain_text("Observability, security or other"))),
        _field_input(EngagementIds.focus_other_block, "Other focus", optional=True, max_length=100,
                      placeholder="vector search", hint=FOCUS_OTHER_HINT),
        _field_input(EngagementIds.challenge_block, "Business challenge (top-down)", multiline=True, optional=True,
                      max_length=3000, placeholder="Unknown cause of downtime hurts customer satisfaction"),
        _field_input(EngagementIds.needs_block, "Technical needs (bottom-up)", multiline=True, optional=True,
                      max_length=3000, placeholder="Correlate logs, metrics and traces from 120 services"),
        InputBlock(block_id=EngagementIds.channel_block, label=kit.plain_text("Deal channel"), optional=True,
                   hint=kit.plain_text(CHANNEL_HINT),
                   element=ConversationSelectElement(
                       action_id=EngagementIds.field, placeholder=kit.plain_text("Pick a channel"),
                       filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True))),
        _stage_select(EngagementIds.start_stage_block, "Starting stage", list(OPEN_STAGES), Stage.preparation),
        _date_input(EngagementIds.opened_block, "Opened on", today, "Not in the future."),
    ]
    return _modal("new", EngagementIds.new_modal, blocks, metadata)


def _engagement_context(engagement: EngagementSummary) -> ContextBlock:
    return ContextBlock(elements=[kit.md(f"{label(engagement, 200)} · {stage_line(engagement)}")])


def _next_stage(current: Stage) -> Stage | None:
    stages = list(OPEN_STAGES)
    if current not in stages:
        return None
    index = stages.index(current)
    return stages[index + 1] if index + 1 < len(stages) else None


def stage_form(engagement: EngagementSummary, *, today: date, metadata: str) -> dict[str, Any]:
    choices = [stage for stage in OPEN_STAGES if stage is not engagement.stage]
    blocks: list[Block] = [
        _engagement_context(engagement),
        _stage_select(EngagementIds.target_stage_block, "Move to", choices, _next_stage(engagement.stage)),
        _date_input(EngagementIds.effective_date_block, "When", today, EFFECTIVE_HINT),
        _field_input(EngagementIds.note_block, "Note", multiline=True, optional=True, max_length=2000,
                      placeholder="What happened, what's next"),
    ]
    return _modal("stage", EngagementIds.stage_modal, blocks, metadata)


def close_form(engagement: EngagementSummary, *, today: date, metadata: str,
               outcome: Outcome | None = None) -> dict[str, Any]:
    options = [kit.option(text, value.value) for value, text in OUTCOME_OPTIONS.items()]
    initial = next((o for o in options if outcome and o.value == outcome.value), None)
    blocks: list[Block] = [
        _engagement_context(engagement),
        InputBlock(block_id=EngagementIds.outcome_block, label=kit.plain_text("Outcome"),
                   element=StaticSelectElement(action_id=EngagementIds.field, options=options, initial_option=initial,
                                               placeholder=kit.plain_text("Won, lost or no decision"))),
        _date_input(EngagementIds.effective_date_block, "Closed on", today, EFFECTIVE_HINT),
        _field_input(EngagementIds.note_block, "Note", multiline=True, optional=True, max_length=2000,
                      placeholder="Why it was won or lost"),
    ]
    return _modal("close", EngagementIds.close_modal, blocks, metadata)


def channel_form(engagement: EngagementSummary, *, metadata: str) -> dict[str, Any]:
    element = ConversationSelectElement(
        action_id=EngagementIds.field, placeholder=kit.plain_text("Pick a channel"), initial_conversation=engagement.channel_id,
        filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True))
    blocks: list[Block] = [
        _engagement_context(engagement),
        InputBlock(block_id=EngagementIds.channel_block, label=kit.plain_text("Deal channel"), optional=True,
                   hint=kit.plain_text(CHANNEL_FORM_HINT), element=element),
    ]
    return _modal("channel", EngagementIds.channel_modal, blocks, metadata)


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
    return kit.message(_fallback(text), blocks)


def note_form(engagement: EngagementSummary, *, metadata: str) -> dict[str, Any]:
    blocks: list[Block] = [
        _engagement_context(engagement),
        _field_input(EngagementIds.note_block, "Note", multiline=True, max_length=2000,
                      placeholder="Customer asked about SSO; follow-up with DevRel on Tuesday"),
    ]
    return _modal("note", EngagementIds.note_modal, blocks, metadata)


def esat_form(prompt: EsatPrompt, *, metadata: str) -> dict[str, Any]:
    options = [kit.option(f"{score} of 5", str(score)) for score in range(1, 6)]
    initial = next((o for o in options if prompt.score is not None and o.value == str(prompt.score)), None)
    blocks: list[Block] = [
        ContextBlock(elements=[kit.md(f"*{safe(prompt.account, 200)}* ({safe(prompt.opportunity, 200)})")]),
        InputBlock(block_id=EngagementIds.outcome_block, label=kit.plain_text("Rating"),
                   element=StaticSelectElement(action_id=EngagementIds.field, options=options, initial_option=initial,
                                               placeholder=kit.plain_text("1 = poor, 5 = excellent"))),
        _field_input(EngagementIds.comment_block, "Comment", multiline=True, optional=True, max_length=2000,
                      initial=prompt.comment, placeholder="What went well, what would you change"),
    ]
    return _modal("esat", EngagementIds.esat_comment_modal, blocks, metadata)


# ----- reading submitted forms ------------------------------------------------------------------------------------------
def submitted(values: dict[str, Any], block_id: str) -> Any:
    """The raw value of one input (text, selected option value, user, conversation or date), or None."""
    element = (values.get(block_id) or {}).get(EngagementIds.field) or {}
    kind = element.get("type")
    if kind == "static_select":
        option = element.get("selected_option") or {}
        return option.get("value")
    if kind == "users_select":
        return element.get("selected_user")
    if kind == "conversations_select":
        return element.get("selected_conversation")
    if kind == "datepicker":
        return element.get("selected_date")
    return element.get("value")


def parse_day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def read_new_form(values: dict[str, Any]) -> NewEngagementIn:
    """The new-engagement form as the service's input. Focus: the picked area, or for Other the text."""
    focus = submitted(values, EngagementIds.focus_block) or ""
    other = (submitted(values, EngagementIds.focus_other_block) or "").strip()
    if focus == "other" or not focus:
        if not other:
            raise InvalidInput("Describe the focus when you pick Other, e.g. vector search.", field="focus")
        focus = other
    stage_value = submitted(values, EngagementIds.start_stage_block) or Stage.preparation.value
    if stage_value not in {stage.value for stage in OPEN_STAGES}:
        raise InvalidInput("Pick the stage it starts in.", field="stage")
    opened_text = submitted(values, EngagementIds.opened_block)
    opened_on = parse_day(opened_text)
    if opened_text and opened_on is None:
        raise InvalidInput("Pick the opening date from the calendar.", field="opened_on")
    return NewEngagementIn(
        account=submitted(values, EngagementIds.account_block) or "",
        opportunity=submitted(values, EngagementIds.opportunity_block) or "",
        seller_id=submitted(values, EngagementIds.seller_block) or "",
        focus=focus,
        business_challenge=submitted(values, EngagementIds.challenge_block) or "",
        technical_needs=submitted(values, EngagementIds.needs_block) or "",
        channel_id=submitted(values, EngagementIds.channel_block) or None,
        stage=Stage(stage_value),
        opened_on=opened_on,
    )


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

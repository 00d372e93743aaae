"""The engagement card: stage, timeline, assets shared, DevRel requests, and the buttons that act on it."""

from __future__ import annotations

from typing import Any

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
from bot.blocks.engagement_text import BUTTON, day, fallback_text, plain_label, stage_line, tools_text
from bot.blocks.stage_checklist import stage_checklist_blocks
from bot.blocks.kit import Message
from bot.blocks.text import FIELD_TEXT, HEADER_TEXT, clip, link, safe, user
from bot.codecs import EngagementButton
from bot.ids import EngagementIds
from bot.sharing import Sharing
from models.enums import ASSET_TYPE_LABELS, AssetType, RequestState, Stage
from models.schemas.engagements import (
    OUTCOME_LABELS,
    ChallengeChain,
    EngagementCard,
    EngagementSummary,
    TimelineEntry,
)

STRANGER_HINT = "Only the owner, the seller and presales managers can change it."
PRACTICE_NOTE = ("🎓 *A practice engagement.* Try every step on it: it counts in no figure, digest or nudge, its "
                 "playbooks come to you by DM, and a DevRel request on it is answered by a practice DevRel colleague, "
                 "not a real person. Delete it when you are done.")
DELETE_CONFIRM = ("Delete this practice engagement?", "Its stages, notes and DevRel requests go with it. This can't "
                  "be undone.", "Delete", "Keep it")
REOPEN_CONFIRM = ("Reopen this engagement?", "It goes back to the stage it was closed from; its figures no longer "
                  "count it as closed.", "Reopen", "Keep it closed")
SHARED_DEAL_CHANNEL = (
    "⚠️ {where}. Playbooks, close announcements and other internal news of this engagement go to the owner "
    "by DM instead. To have them in a channel, set a deal channel only your organisation is in (*Deal channel* on "
    "the card)."
)

SHARED_CARD_NOTE = "⚠️ shared with {names}: internal news goes to the owner by DM"
TIMELINE_MORE = "… and {more} earlier entries."
SHARES_TITLE = "*Assets shared* ({total})"
INTERACTIONS = "Field-asset interactions: {counts}."
DEVREL_TITLE = "*DevRel requests*"
CHAIN_TITLE = "*From challenge to needs to assets*"
CHAIN_CHALLENGE = "Challenge: *{challenge}*"
CHAIN_NEED = "• {need} → {assets}"
CHAIN_NO_ASSET = "no published asset yet (`/asset add`)"
DEVREL_STATE = {
    RequestState.asking: "asking {who}",
    RequestState.in_channel: "waiting in the DevRel channel",
    RequestState.accepted: "{who} joins",
    RequestState.cancelled: "cancelled",
    RequestState.expired: "expired, nobody was free",
}


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


def chain_text(chain: ChallengeChain) -> str:
    """Challenge → needs → matching assets, one need a line, asset titles linked."""
    lines = [CHAIN_TITLE]
    if chain.challenge:
        lines.append(CHAIN_CHALLENGE.format(challenge=safe(chain.challenge, 200)))
    for need in chain.needs:
        assets = ", ".join(link(asset.url, clip(asset.title, 100)) for asset in need.assets) or CHAIN_NO_ASSET
        lines.append(CHAIN_NEED.format(need=safe(need.text, 200), assets=assets))
    return clip("\n".join(lines), 3000)


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
    blocks: list[Block] = [HeaderBlock(text=kit.plain_text(header, HEADER_TEXT))]
    if engagement.practice:
        blocks.append(ContextBlock(elements=[kit.md(PRACTICE_NOTE)]))
    blocks.append(SectionBlock(fields=fields))
    story = []
    if card.business_challenge:
        story.append(f"*Business challenge (top-down)*\n{safe(card.business_challenge, 1200)}")
    if card.technical_needs:
        story.append(f"*Technical needs (bottom-up)*\n{safe(card.technical_needs, 1200)}")
    if story:
        blocks.append(SectionBlock(text=kit.md("\n\n".join(story))))
    if card.chain is not None:
        blocks.append(SectionBlock(text=kit.md(chain_text(card.chain))))
    if card.tools and engagement.is_open:
        blocks.append(SectionBlock(text=kit.md(tools_text(card.tools, engagement.stage_label))))
    blocks.extend(stage_checklist_blocks(engagement.id, engagement.stage, card.checklist, may_tick=card.viewer_may_change))
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
        if card.interactions:
            # In the guide's order, so cards compare at a glance; most deals need only one.
            counts = " · ".join(f"{card.interactions[kind]} {ASSET_TYPE_LABELS[kind]}"
                                for kind in AssetType if card.interactions.get(kind))
            blocks.append(ContextBlock(elements=[kit.md(INTERACTIONS.format(counts=counts))]))
    if card.devrel:
        blocks.append(SectionBlock(text=kit.md(DEVREL_TITLE + "\n" + "\n".join(_devrel_line(d) for d in card.devrel))))
    buttons = engagement_buttons(engagement, may_change=card.viewer_may_change)
    if buttons and not engagement.practice:
        buttons.append(kit.button(BUTTON["channel"], EngagementIds.set_channel, EngagementButton(id=engagement.id).encode()))
    if card.viewer_may_delete:
        title, text, yes, no = DELETE_CONFIRM
        confirm = ConfirmObject(title=kit.plain_text(title, 100), text=kit.md(text, 300), confirm=kit.plain_text(yes, 30),
                                deny=kit.plain_text(no, 30), style="danger")
        buttons.append(kit.button(BUTTON["delete"], EngagementIds.delete_practice,
                                  EngagementButton(id=engagement.id).encode(), style="danger", confirm=confirm))
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    elif not card.viewer_may_change:
        blocks.append(ContextBlock(elements=[kit.md(STRANGER_HINT)]))
    return blocks


def reopen_button(engagement: EngagementSummary) -> ButtonElement:
    """Reopen a closed engagement, after a confirmation."""
    title, text, yes, no = REOPEN_CONFIRM
    confirm = ConfirmObject(title=kit.plain_text(title, 100), text=kit.md(text, 300), confirm=kit.plain_text(yes, 30),
                            deny=kit.plain_text(no, 30))
    return kit.button(BUTTON["reopen"], EngagementIds.reopen, EngagementButton(id=engagement.id).encode(),
                      confirm=confirm)


def engagement_buttons(engagement: EngagementSummary, *, may_change: bool = True) -> list[ButtonElement]:
    """Change stage / Close / Add note for an open engagement, Reopen for a closed one (value = its id)."""
    if not may_change:
        return []
    value = EngagementButton(id=engagement.id).encode()
    if not engagement.is_open:
        return [reopen_button(engagement), kit.button(BUTTON["add_note"], EngagementIds.add_note, value)]
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
    fallback = fallback_text(lead) if lead else f"{plain_label(engagement)}: {engagement.stage_label}"
    return kit.message(fallback, blocks)

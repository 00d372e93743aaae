"""Block Kit for DevRel requests: the ask, the requester's card, the lead channel post, notices, the
pre-meeting kick-off and reminder, and the button values they carry. The request and decline forms
(devrel_forms) and the roster (devrel_roster) have modules of their own, importable from here too;
devrel_text holds what they all share.

Message builders return `{"text": fallback, "blocks": [...]}` ready for `chat.postMessage` /
`chat.update` / `respond()`; form builders return a view dict for `views.open`. slack_sdk's models check
Slack's limits as they render. Meeting times are written out in the reader's own timezone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ActionsBlock, Block, ConfirmObject, ContextBlock, MarkdownTextObject, SectionBlock

from bot import dates
from bot.blocks import kit

# Each surface has its own builder module; handlers and jobs reach them through this one as well.
from bot.blocks.devrel_forms import decline_modal, hand_back_modal, request_modal  # noqa: F401
from bot.blocks.devrel_endings import (  # noqa: F401
    closed_requester_notice,
    cancelled_notice,
    closed_notice,
    closed_with_engagement,
    kept_answer,
    kept_notice,
)
from bot.blocks.devrel_roster import roster_message, roster_modal, sent_on_note  # noqa: F401
from bot.blocks.devrel_text import (
    STATE_EMOJI,
    brief_blocks,
    clock_time,
    engagement_line,
    fields_block,
    header_block,
    history_line,
    link_text,
    slack_date,
    topics_text,
    when,
)
from bot.blocks.text import SECTION_TEXT, clip, escape, safe, user
from bot.codecs import RequestButton
from bot.ids import DevRelIds
from models.enums import RequestState
from models.schemas.devrel import DevRelRequestView, MessageRef, OverlappingMeeting, RequestUpdate, WeekLoad
from models.schemas.devrel import PracticeAnswer

# ----- text ---------------------------------------------------------------------------------------

GUIDANCE = (
    "The seller drives the meeting. Run ideas past them before you offer them to the customer; "
    "some may be held in reserve for the negotiation."
)
NO_ENGAGEMENTS = (
    "You have no open engagements to bring DevRel into. Start one with `/engagement new`, "
    "then run `/devrel` again."
)
RESERVE_AFTER_ACCEPT = "The seller also holds something in reserve for the negotiation; you see it once you accept."
ASK_FALLBACK = "DevRel request for {account}: can you join the meeting on {when}?"
HELP_FALLBACK = "How to bring DevRel into a customer meeting with /devrel"
HELP_TEXT = (
    "*Bring DevRel into the room*\n"
    "• `/devrel` or `/devrel ACCOUNT` opens a form: pick the engagement, the meeting time (your timezone) "
    "and duration, the topics, the meeting link, and a brief: what the customer asked, what has been "
    "promised, and what the seller holds in reserve.\n"
    "• epos asks the best-placed DevRel person: expertise first, then the lightest load this week, then "
    "whoever was assigned longest ago. Only people whose working hours cover the meeting, who are not out "
    "of office and who have no overlapping meeting are asked.\n"
    "• They accept or decline with one click. If they decline or don't answer in time (`DEVREL_ESCALATE_AFTER`, "
    "shorter for meetings that are soon), the next person is asked; when nobody is left, the request goes to "
    "the DevRel channel where anyone on the roster can take it.\n"
    "• Once accepted, you and the seller are told and a group DM opens for the pre-meeting sync. The DevRel "
    "person gets a reminder with the brief an hour before.\n"
    "• If you are asked for two meetings at overlapping times, you can accept only one: accepting the "
    "second tells you which meeting is in the way; decline it, or have the other one cancelled first.\n"
    "• Cancel from the request card in your DMs, or from *DevRel requests* on the epos App Home.\n"
    "• Accepted but can't make it after all? Press *Hand back* on your message and say why: the requester "
    "is told, and the next person is asked.\n"
    "• Closing an engagement cancels its DevRel asks and meetings; the close's answer has *Keep the meeting* "
    "for a meeting that still happens.\n"
    "• `/devrel roster` lists the DevRel roster; admins add, edit and deactivate people there."
)

# ----- helpers ------------------------------------------------------------------------------------


def _button_value(request: DevRelRequestView) -> str:
    return RequestButton(request_id=request.id, version=request.version).encode()


# ----- the request form ---------------------------------------------------------------------------


REQUEST_FIELD_BLOCKS: dict[str, DevRelIds] = {
    "engagement_id": DevRelIds.engagement_block,
    "meeting_start": DevRelIds.time_block,
    "meeting_date": DevRelIds.date_block,
    "duration_minutes": DevRelIds.duration_block,
    "topics": DevRelIds.topics_block,
    "meeting_link": DevRelIds.link_block,
    "customer_asked": DevRelIds.asked_block,
    "promised": DevRelIds.promised_block,
    "held_in_reserve": DevRelIds.reserve_block,
}


# ----- messages about a request -------------------------------------------------------------------


def _status_for_requester(request: DevRelRequestView, zone: ZoneInfo, lead_channel: str | None, now: datetime) -> str:
    state = request.state
    emoji = STATE_EMOJI[state]
    if state is RequestState.asking and request.candidate_id:
        text = f"{emoji} Asked *{escape(request.name_of(request.candidate_id))}* — {safe(request.candidate_reason, 300)}."
        if request.escalate_at:
            text += f" If there is no answer by {clock_time(request.escalate_at, zone, today=now.astimezone(zone).date())}, the next person is asked."
        return text
    if state is RequestState.in_channel:
        where = f"<#{lead_channel}>" if lead_channel else "the DevRel channel"
        return f"{emoji} Nobody on the roster could take it yet, so it is posted in {where} for anyone on the roster to take."
    if state is RequestState.accepted:
        name = escape(request.name_of(request.assignee_id))
        return (f"{emoji} *{name}* is in the room. A group DM with the seller is open for the pre-meeting sync; "
                f"{name} gets a reminder with your brief an hour before.")
    if state is RequestState.cancelled:
        closer = request.cancelled_by_close()
        if closer is not None:
            who = "you" if closer == request.requester_id else user(closer)
            return (f"{emoji} Cancelled: {who} closed *{safe(request.engagement.account, 200)}*, and its DevRel "
                    "asks and meetings ended with it.")
        return f"{emoji} You cancelled this request."
    nobody = any(h.kind == "expired" and "nobody" in h.detail for h in request.history)
    if nobody:
        return f"{emoji} Nobody on the DevRel roster was available for this meeting. {NOBODY_NEXT}"
    return f"{emoji} Nobody took this request before the meeting started."


NOBODY_NEXT = (
    "Try another time with `/devrel`, leave out a topic, or ask the DevRel lead directly; "
    "`/devrel roster` shows who works when."
)


CANCEL_BUTTON = "Cancel request"
HAND_BACK_BUTTON = "Hand back"
HAND_BACK_HINT = "Can't make it after all? *Hand back* says why, and epos asks someone else."


def cancel_confirm(account: str) -> ConfirmObject:
    """The check before a requester calls a request off, wherever the Cancel button is."""
    return ConfirmObject(title="Cancel this request?", confirm=CANCEL_BUTTON, deny="Keep it", style="danger",
                         text=clip(f"DevRel will no longer be asked to join the {safe(account, 150)} meeting, "
                                   "and whoever was asked or is joining is told.", 300))


def requester_card(request: DevRelRequestView, *, zone: ZoneInfo, lead_channel: str | None, now: datetime) -> dict[str, Any]:
    """The requester's own record of the request, redrawn on every change; Cancel while it can be."""
    blocks: list[Block] = [
        header_block(f"DevRel for {request.engagement.account}"),
        fields_block([
            ("Meeting", when(request.meeting_start, request.duration_minutes, zone)),
            ("Engagement", engagement_line(request)),
            ("Topics", topics_text(request.topics)),
            ("Link", link_text(request.meeting_link)),
        ]),
        SectionBlock(text=MarkdownTextObject(text=clip(_status_for_requester(request, zone, lead_channel, now), SECTION_TEXT))),
    ]
    history = history_line(request)
    if history:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=history)]))
    if request.state in (RequestState.asking, RequestState.in_channel, RequestState.accepted) and request.meeting_start > now:
        blocks.append(ActionsBlock(elements=[kit.button(CANCEL_BUTTON, DevRelIds.cancel, RequestButton(request_id=request.id).encode(), style="danger",
                                                        confirm=cancel_confirm(request.engagement.account))]))
    text = f"DevRel for {escape(request.engagement.account)}: {request.state.replace('_', ' ')}"
    return kit.message(text, blocks)


def _intro_for_devrel(request: DevRelRequestView, recipient_id: str, lead_channel: str | None) -> str:
    requester = user(request.requester_id)
    account = safe(request.engagement.account, 200)
    state = request.state
    if state is RequestState.asking and request.candidate_id == recipient_id:
        reason = f" You were picked for: {safe(request.candidate_reason, 300)}." if request.candidate_reason else ""
        return f"{requester} asks you to join a customer meeting with *{account}* as the DevRel person in the room.{reason}"
    if state is RequestState.in_channel and recipient_id == "":
        return (f"{STATE_EMOJI[state]} Nobody on the roster could answer this request from {requester} for *{account}*. "
                "Anyone on the DevRel roster can take it.")
    if state is RequestState.accepted:
        if request.assignee_id == recipient_id:
            return (f"{STATE_EMOJI[state]} You're in the room for *{account}*. A group DM with {requester} and the "
                    "seller is open for the pre-meeting sync; a reminder with this brief comes an hour before.")
        return f"{STATE_EMOJI[state]} *{escape(request.name_of(request.assignee_id))}* is joining the *{account}* meeting; nothing to do."
    if state is RequestState.cancelled:
        closer = request.cancelled_by_close()
        if closer is not None:
            return (f"{STATE_EMOJI[state]} {user(closer)} closed *{account}*, which cancelled this request; "
                    "nothing to do.")
        return f"{STATE_EMOJI[state]} {requester} cancelled this request; nothing to do."
    if state is RequestState.expired:
        return f"{STATE_EMOJI[state]} This request expired without a DevRel person; nothing to do."
    if recipient_id and (why := request.released_because(recipient_id)):
        return f"You are {escape(why)}, so this request from {requester} for *{account}* went on to someone else; nothing to do."
    if recipient_id and request.handed_back_by(recipient_id):
        return f"You handed this request from {requester} for *{account}* back; it went on to someone else."
    if recipient_id in request.declined_ids():
        return f"You declined this request from {requester} for *{account}*; it went on to someone else."
    where = f" <#{lead_channel}>" if lead_channel and state is RequestState.in_channel else ""
    return f"No answer in time, so this request from {requester} for *{account}* moved on{where}; nothing to do."


def devrel_message(request: DevRelRequestView, *, recipient_id: str, zone: ZoneInfo, requester_zone: ZoneInfo,
                   lead_channel: str | None, now: datetime) -> dict[str, Any]:
    """What a DevRel person sees: the ask (with Accept/Decline while it is theirs to answer), or after
    taking it, their copy with the full brief; redrawn to show the request's state afterwards."""
    mine = (request.state is RequestState.asking and request.candidate_id == recipient_id) or (
        request.state is RequestState.accepted and request.assignee_id == recipient_id)
    blocks: list[Block] = [
        header_block(f"DevRel request: {request.engagement.account}"),
        SectionBlock(text=MarkdownTextObject(text=clip(_intro_for_devrel(request, recipient_id, lead_channel), SECTION_TEXT))),
    ]
    if mine:
        blocks.append(fields_block([
            ("Meeting (your time)", when(request.meeting_start, request.duration_minutes, zone)),
            (f"For {user(request.requester_id)}", when(request.meeting_start, request.duration_minutes, requester_zone)),
            ("Engagement", engagement_line(request)),
            ("Seller", user(request.engagement.seller_id)),
            ("Topics", topics_text(request.topics)),
            ("Link", link_text(request.meeting_link)),
        ]))
        # What the seller holds in reserve is for whoever takes the meeting, not for everyone asked.
        taken = request.state is RequestState.accepted
        blocks.extend(brief_blocks(request, include_reserve=taken))
        if not taken and request.held_in_reserve:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=RESERVE_AFTER_ACCEPT)]))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f":handshake: {GUIDANCE}")]))
    else:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"Meeting: {when(request.meeting_start, request.duration_minutes, zone)} · {topics_text(request.topics)}")]))
    if request.state is RequestState.accepted and request.assignee_id == recipient_id and request.meeting_start > now:
        blocks.append(ActionsBlock(elements=[kit.button(HAND_BACK_BUTTON, DevRelIds.hand_back, _button_value(request))]))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=HAND_BACK_HINT)]))
    if request.state is RequestState.asking and request.candidate_id == recipient_id:
        value = _button_value(request)
        blocks.append(ActionsBlock(elements=[
            kit.button("Accept", DevRelIds.accept, value, style="primary"),
            kit.button("Decline", DevRelIds.decline, value),
        ]))
        if request.escalate_at:
            deadline = clock_time(request.escalate_at, zone, today=now.astimezone(zone).date())
            blocks.append(ContextBlock(elements=[MarkdownTextObject(
                text=f"If you haven't answered by {deadline} your time, the next person is asked.")]))
    account = escape(request.engagement.account)
    fallback = (ASK_FALLBACK.format(account=account, when=when(request.meeting_start, request.duration_minutes, zone))
                if mine and request.state is RequestState.asking else f"DevRel request for {account}: {request.state.replace('_', ' ')}")
    return kit.message(fallback, blocks)


def channel_message(request: DevRelRequestView, *, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """The lead-channel post: anyone on the roster may take it while it is in the channel."""
    state = request.state
    blocks: list[Block] = [
        header_block(f"DevRel needed: {request.engagement.account}"),
        SectionBlock(text=MarkdownTextObject(text=clip(_intro_for_devrel(request, "", None), SECTION_TEXT))),
        fields_block([
            ("Meeting", f"{slack_date(request.meeting_start, when(request.meeting_start, request.duration_minutes, zone))}"
                        f" for {request.duration_minutes} minutes"),
            ("Engagement", engagement_line(request)),
            ("Topics", topics_text(request.topics)),
            ("Requested by", user(request.requester_id)),
        ]),
        *brief_blocks(request, include_reserve=False),
    ]
    if state is RequestState.in_channel and request.meeting_start > now:
        blocks.append(ActionsBlock(elements=[kit.button("Take it", DevRelIds.take, _button_value(request), style="primary")]))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text="Whoever takes it gets the full brief and a group DM with the SE and the seller.")]))
    return kit.message(f"DevRel needed for {escape(request.engagement.account)}: {state.replace('_', ' ')}", blocks)


def redraw(ref: MessageRef, request: DevRelRequestView, *, zones: dict[str, ZoneInfo], default: ZoneInfo,
           lead_channel: str | None, now: datetime) -> dict[str, Any]:
    """A stored message drawn again for its audience, in the request's current state."""
    requester_zone = zones.get(request.requester_id, default)
    if ref.audience == "requester":
        return requester_card(request, zone=requester_zone, lead_channel=lead_channel, now=now)
    if ref.audience == "channel":
        return channel_message(request, zone=default, now=now)
    recipient = ref.recipient_id or ""
    return devrel_message(request, recipient_id=recipient, zone=zones.get(recipient, default),
                          requester_zone=requester_zone, lead_channel=lead_channel, now=now)


# ----- notices ------------------------------------------------------------------------------------


def requester_notice(update: RequestUpdate, *, zone: ZoneInfo, lead_channel: str | None,
                     reader_id: str | None = None) -> dict[str, Any] | None:
    """A short DM telling the requester what just happened (their card is redrawn as well); `reader_id`:
    someone else on the deal (the seller) who is told about a meeting going to someone else."""
    request = update.request
    account = safe(request.engagement.account, 200)
    previous = escape(request.name_of(update.previous_id)) if update.previous_id else ""
    whose = "your" if reader_id in (None, request.requester_id) else f"{user(request.requester_id)}'s"
    meeting = when(request.meeting_start, request.duration_minutes, zone)
    if update.change == "declined":
        reason = f" ({safe(update.reason, 300)})" if update.reason else ""
        lead = f"{previous} declined {whose} DevRel request for *{account}*{reason}."
    elif update.change == "escalated":
        lead = f"{previous} did not answer {whose} DevRel request for *{account}* in time."
    elif update.change == "handed_back":
        lead = f"{previous} handed back {whose} DevRel request for *{account}* ({meeting}): {safe(update.reason, 300)}."
    elif update.change == "released":
        lead = f"{previous} is {safe(update.reason, 300)}, so {whose} DevRel request for *{account}* ({meeting}) goes to someone else."
    elif update.change == "closed":
        return None if update.actor_id == request.requester_id else closed_requester_notice(update, zone=zone)
    elif update.change == "accepted" or update.change == "assigned":
        name = escape(request.name_of(request.assignee_id))
        text = (f"{STATE_EMOJI[RequestState.accepted]} *{name}* will join your *{account}* meeting "
                f"({when(request.meeting_start, request.duration_minutes, zone)}). A group DM with the seller and "
                f"{name} is open for the pre-meeting sync.")
        return kit.message(f"{name} accepted your DevRel request", [SectionBlock(text=kit.md(text))])
    elif update.change == "expired":
        text = (f"{STATE_EMOJI[RequestState.expired]} Your DevRel request for *{account}* expired: the meeting started "
                "without anyone taking it.")
        return kit.message("Your DevRel request expired", [SectionBlock(text=MarkdownTextObject(text=text))])
    else:
        return None
    if update.asked is not None:
        follow = f"Asking *{escape(update.asked.name)}* — {escape(update.asked.reason)}."
    elif update.to_channel:
        where = f"<#{lead_channel}>" if lead_channel else "the DevRel channel"
        follow = f"Nobody else on the roster is free, so it is posted in {where} for anyone on the roster to take."
    elif update.nobody_available:
        follow = f"Nobody else on the DevRel roster is available for this meeting. {NOBODY_NEXT}"
    else:
        follow = ""
    text = f"{lead} {follow}".strip()
    return kit.message(clip(text, 300), [SectionBlock(text=kit.md(text))])


def nobody_available(request: DevRelRequestView, *, zone: ZoneInfo) -> dict[str, Any]:
    text = (f"{STATE_EMOJI[RequestState.expired]} Nobody on the DevRel roster is available for your *"
            f"{safe(request.engagement.account, 200)}* meeting ({when(request.meeting_start, request.duration_minutes, zone)}), "
            f"and no DevRel channel is set to post it to. {NOBODY_NEXT}")
    return kit.message("Nobody from DevRel is available", [SectionBlock(text=kit.md(text))])


def lead_channel_failed(request: DevRelRequestView, lead_channel: str) -> dict[str, Any]:
    text = (f"{STATE_EMOJI[RequestState.expired]} Nobody on the roster could take your *{safe(request.engagement.account, 200)}* "
            f"request, and epos could not post it in <#{lead_channel}> (is epos invited there?). {NOBODY_NEXT}")
    return kit.message("DevRel channel unavailable", [SectionBlock(text=kit.md(text))])


def seller_notice(request: DevRelRequestView, *, zone: ZoneInfo) -> dict[str, Any]:
    name = escape(request.name_of(request.assignee_id))
    text = (f"{STATE_EMOJI[RequestState.accepted]} {user(request.requester_id)} asked DevRel into your "
            f"*{safe(request.engagement.account, 200)}* meeting ({when(request.meeting_start, request.duration_minutes, zone)}): "
            f"*{name}* will join. You drive the meeting; a group DM is open to agree beforehand what to offer and what to hold in reserve.")
    return kit.message(f"{name} from DevRel joins your meeting", [SectionBlock(text=kit.md(text))])


def kickoff_message(request: DevRelRequestView, *, zone: ZoneInfo) -> dict[str, Any]:
    """The first message of the SE + seller + DevRel group DM."""
    fallback = when(request.meeting_start, request.duration_minutes, zone)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=clip(
            f":wave: Pre-meeting sync for *{safe(request.engagement.account, 200)}*: "
            f"{slack_date(request.meeting_start, fallback)} for {request.duration_minutes} minutes. "
            f"{user(request.assignee_id or '')} from DevRel joins {user(request.engagement.owner_id)} and seller "
            f"{user(request.engagement.seller_id)}.", SECTION_TEXT))),
        fields_block([("Topics", topics_text(request.topics)), ("Link", link_text(request.meeting_link))]),
        *brief_blocks(request, include_reserve=True),
        ContextBlock(elements=[MarkdownTextObject(text=f":handshake: {GUIDANCE}")]),
    ]
    return kit.message(f"Pre-meeting sync for {escape(request.engagement.account)}", blocks)


def reminder_message(request: DevRelRequestView, *, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    minutes = max(0, int((request.meeting_start - now).total_seconds() // 60))
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=clip(
            f":alarm_clock: Your DevRel meeting with *{safe(request.engagement.account, 200)}* starts in {minutes} minutes: "
            f"{when(request.meeting_start, request.duration_minutes, zone)}.", SECTION_TEXT))),
        fields_block([
            ("Link", link_text(request.meeting_link)),
            ("SE and seller", f"{user(request.engagement.owner_id)} · {user(request.engagement.seller_id)}"),
            ("Topics", topics_text(request.topics)),
        ]),
        *brief_blocks(request, include_reserve=True),
        ContextBlock(elements=[MarkdownTextObject(text=f":handshake: {GUIDANCE}")]),
    ]
    return kit.message(f"Reminder: DevRel meeting with {escape(request.engagement.account)} in {minutes} minutes", blocks)


def overlap_refusal(request: DevRelRequestView, other: OverlappingMeeting, *, zone: ZoneInfo,
                    now: datetime) -> dict[str, Any]:
    """Why Accept or Take it did nothing: the clicker already has an overlapping meeting; and the ways on."""
    account = safe(request.engagement.account, 200)
    other_account = safe(other.account, 200)
    lead = (f":warning: You have already accepted the *{other_account}* meeting "
            f"({when(other.meeting_start, other.duration_minutes, zone)}), which overlaps this *{account}* meeting "
            f"({when(request.meeting_start, request.duration_minutes, zone, with_zone=False)}), so nothing changed.")
    free_up = (f"only {user(other.requester_id)}, who asked for you there, can cancel the *{other_account}* request; "
               "once they have,")
    if request.state is RequestState.in_channel:
        options = ("• Leave this one in the channel for someone else on the roster to take.\n"
                   f"• Or, to take this one instead: {free_up} press *Take it* again.")
    else:
        options = (f"• Press *Decline* on this request: {user(request.requester_id)} is told and the next DevRel "
                   "person is asked.\n"
                   f"• Or, to join this one instead: {free_up} press *Accept* again.")
        if request.escalate_at:
            deadline = clock_time(request.escalate_at, zone, today=now.astimezone(zone).date())
            options += f"\nWithout an answer by {deadline} your time, the next person is asked."
    text = f"{lead}\n{options}"
    return kit.message(f"You already have the {escape(other.account)} meeting at that time; nothing changed",
                       [SectionBlock(text=kit.md(text))])


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def over_capacity_note(request: DevRelRequestView, load: WeekLoad) -> dict[str, Any]:
    """Told to whoever just took a meeting beyond their weekly capacity: their call, so only a heads-up."""
    text = (f"{STATE_EMOJI[RequestState.accepted]} You're in the room for *{safe(request.engagement.account, 200)}*. "
            f"Heads-up: this is your {_ordinal(load.meetings)} DevRel meeting in the week of "
            f"{dates.short_day(load.week_start)}; your capacity is {load.capacity}. epos won't ask you for more that week; "
            "if the load should change for good, an epos admin can edit your capacity in `/devrel roster`.")
    return plain(text)


PRACTICE_ACCEPTED = (
    "🎓 *Practice.* A practice DevRel colleague accepted your request for *{account}* ({opportunity}): {when}, "
    "on {topics}.\nOn a real engagement epos asks the best-placed DevRel person on the roster; once they accept, "
    "you are told like this, and you, they and the seller get a group DM to prepare the meeting. Nobody real was "
    "asked this time, and this request counts in no figure."
)


def practice_accepted(answer: PracticeAnswer, *, zone: ZoneInfo) -> dict[str, Any]:
    """What the requester is told when the practice colleague accepts a request on a practice engagement."""
    return plain(PRACTICE_ACCEPTED.format(account=safe(answer.account, 200), opportunity=safe(answer.opportunity, 200),
                                          when=when(answer.meeting_start, answer.duration_minutes, zone),
                                          topics=topics_text(answer.topics)))


def plain(text: str) -> dict[str, Any]:
    return kit.message(text, [SectionBlock(text=kit.md(text))])


def help_message() -> dict[str, Any]:
    return kit.message(HELP_FALLBACK, [SectionBlock(text=MarkdownTextObject(text=HELP_TEXT))])


def no_engagements() -> dict[str, Any]:
    return plain(NO_ENGAGEMENTS)


# ----- the roster ---------------------------------------------------------------------------------


ROSTER_FIELD_BLOCKS: dict[str, DevRelIds] = {
    "slack_id": DevRelIds.roster_person_block,
    "name": DevRelIds.roster_name_block,
    "topics": DevRelIds.roster_topics_block,
    "timezone": DevRelIds.roster_timezone_block,
    "work_start": DevRelIds.roster_start_block,
    "work_end": DevRelIds.roster_end_block,
    "weekly_capacity": DevRelIds.roster_capacity_block,
    "out_of_office_until": DevRelIds.roster_ooo_block,
}

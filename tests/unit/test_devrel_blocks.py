"""Block Kit for DevRel: what each person sees, in their timezone, within Slack's limits."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.blocks import devrel as blocks
from bot.codecs import RequestButton
from bot.ids import DevRelIds
from models.enums import RequestEventKind, RequestState, Stage
from models.schemas.devrel import (
    Candidate,
    DevRelRequestView,
    EngagementChoice,
    HistoryItem,
    MessageRef,
    RequestUpdate,
    RosterMember,
)

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
NOW = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)
MEETING = datetime(2026, 10, 14, 13, 0, tzinfo=UTC)
ENGAGEMENT = EngagementChoice(id=7, account="Northbeam <!channel>", opportunity="Fleet observability", stage=Stage.tech_qa,
                              focus="observability", owner_id="U0SE00001", seller_id="U0SELLER1")


def request(**changes: object) -> DevRelRequestView:
    values: dict[str, object] = dict(
        id=42, version=3, state=RequestState.asking, engagement=ENGAGEMENT, requester_id="U0SE00001",
        meeting_start=MEETING, duration_minutes=60, topics=["observability"], meeting_link="https://meet.example.com/x",
        customer_asked="Can traces cross <@U0EVIL> Kafka?", promised="Sizing by Friday", held_in_reserve="Free PoC extension",
        candidate_id="U0LENA001", candidate_reason="observability, 1/4 meetings this week", asked_ids=["U0LENA001"],
        escalate_at=NOW + timedelta(hours=2), created_at=NOW,
        names={"U0LENA001": "Lena Hoffmann", "U0HANNAH1": "Hannah Okafor"},
        timezones={"U0LENA001": "Europe/Berlin", "U0HANNAH1": "Europe/London"},
    )
    values.update(changes)
    return DevRelRequestView(**values)  # type: ignore[arg-type]


def texts(message: dict) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def buttons(message: dict) -> dict[str, str]:
    found = {}
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("type") == "button":
                found[element["action_id"]] = element.get("value", "")
        accessory = block.get("accessory") or {}
        if accessory.get("type") == "button":
            found[accessory["action_id"]] = accessory.get("value", "")
    return found


def valid(message: dict) -> None:
    assert message["text"]
    assert 0 < len(message["blocks"]) <= 50
    for block in Block.parse_all(message["blocks"]):
        block.validate_json()


def test_the_ask_has_accept_and_decline_the_brief_guidance_and_both_timezones() -> None:
    ask = blocks.devrel_message(request(), recipient_id="U0LENA001", zone=BERLIN, requester_zone=NEW_YORK,
                                lead_channel="C0DEVREL1", now=NOW)
    valid(ask)
    assert buttons(ask) == {DevRelIds.accept: "42:3", DevRelIds.decline: "42:3"}
    body = texts(ask)
    assert "Wed 14 Oct 2026, 15:00–16:00 (Europe/Berlin)" in body
    assert "Wed 14 Oct 2026, 09:00–10:00 (America/New_York)" in body
    # The stage is our own wording, not user text: it is not escaped.
    assert "Fleet observability · Technical Q&A" in body
    # The seller's reserve is only for whoever accepts; the ask says it is there.
    assert "Free PoC extension" not in body and "Sizing by Friday" in body
    assert "The seller also holds something in reserve for the negotiation; you see it once you accept." in body
    assert "The seller drives the meeting. Run ideas past them before you offer them to the customer" in body
    assert "observability, 1/4 meetings this week" in body
    assert "&lt;@U0EVIL&gt;" in body and "<@U0EVIL>" not in body
    # Headers are plain text (never parsed for mentions); everything mrkdwn, and the fallback, is escaped.
    assert all("<!channel>" not in json.dumps(b) for b in ask["blocks"] if b["type"] != "header")
    assert "<!channel>" not in ask["text"]
    assert "answered by 13:00 your time" in body  # 11:00 UTC, in Berlin


def test_once_moved_on_the_ask_has_no_buttons_and_says_why() -> None:
    declined = request(candidate_id="U0HANNAH1", asked_ids=["U0LENA001", "U0HANNAH1"], version=4, history=[
        HistoryItem(kind=RequestEventKind.declined, actor_id="U0LENA001", subject_id="U0LENA001", at=NOW, detail="busy")])
    old = blocks.devrel_message(declined, recipient_id="U0LENA001", zone=BERLIN, requester_zone=NEW_YORK,
                                lead_channel=None, now=NOW)
    valid(old)
    assert buttons(old) == {} and "You declined" in texts(old)
    taken = blocks.devrel_message(request(state=RequestState.accepted, assignee_id="U0HANNAH1", candidate_id=None),
                                  recipient_id="U0LENA001", zone=BERLIN, requester_zone=NEW_YORK, lead_channel=None, now=NOW)
    assert buttons(taken) == {} and "Hannah Okafor" in texts(taken) and "Free PoC" not in texts(taken)
    mine = blocks.devrel_message(request(state=RequestState.accepted, assignee_id="U0LENA001", candidate_id=None),
                                 recipient_id="U0LENA001", zone=BERLIN, requester_zone=NEW_YORK, lead_channel=None, now=NOW)
    # Accept and Decline are gone; Lena may still hand it back.
    assert buttons(mine) == {DevRelIds.hand_back: "42:3"} and "You're in the room" in texts(mine) and "Free PoC" in texts(mine)
    for state in (RequestState.cancelled, RequestState.expired):
        ended = blocks.devrel_message(request(state=state, candidate_id=None), recipient_id="U0LENA001", zone=BERLIN,
                                      requester_zone=NEW_YORK, lead_channel=None, now=NOW)
        assert buttons(ended) == {} and "nothing to do" in texts(ended)


def test_the_lead_channel_post_offers_take_it_and_keeps_the_reserve_private() -> None:
    post = blocks.channel_message(request(state=RequestState.in_channel, candidate_id=None), zone=BERLIN, now=NOW)
    valid(post)
    assert buttons(post) == {DevRelIds.take: "42:3"}
    assert "Free PoC extension" not in texts(post) and "Can traces cross" in texts(post)
    assert "<!date^" in texts(post)
    taken = blocks.channel_message(request(state=RequestState.accepted, assignee_id="U0HANNAH1", candidate_id=None),
                                   zone=BERLIN, now=NOW)
    assert buttons(taken) == {} and "Hannah Okafor" in texts(taken)


def test_the_requester_card_says_who_was_asked_and_why_and_offers_cancel() -> None:
    card = blocks.requester_card(request(), zone=NEW_YORK, lead_channel="C0DEVREL1", now=NOW)
    valid(card)
    assert "Asked *Lena Hoffmann* — observability, 1/4 meetings this week." in texts(card)
    assert buttons(card) == {DevRelIds.cancel: "42"}
    cancel = next(e for b in card["blocks"] for e in b.get("elements", []) if e.get("action_id") == DevRelIds.cancel)
    assert cancel["confirm"]["confirm"]["text"] == "Cancel request"
    assert "09:00–10:00 (America/New_York)" in texts(card)
    started = blocks.requester_card(request(), zone=NEW_YORK, lead_channel=None, now=MEETING)
    assert buttons(started) == {}
    cancelled = blocks.requester_card(request(state=RequestState.cancelled), zone=NEW_YORK, lead_channel=None, now=NOW)
    assert buttons(cancelled) == {} and "You cancelled" in texts(cancelled)


def test_the_requester_card_history_names_who_declined_and_why() -> None:
    history = [HistoryItem(kind=RequestEventKind.declined, actor_id="U0LENA001", subject_id="U0LENA001", at=NOW, detail="on leave"),
               HistoryItem(kind=RequestEventKind.escalated, actor_id="epos", subject_id="U0HANNAH1", at=NOW, detail="no answer in time")]
    card = blocks.requester_card(request(history=history), zone=NEW_YORK, lead_channel=None, now=NOW)
    assert "Lena Hoffmann declined (on leave)" in texts(card) and "Hannah Okafor: no answer in time" in texts(card)


def test_requester_notices_say_who_declined_and_who_is_asked_now() -> None:
    update = RequestUpdate(request=request(), change="declined", previous_id="U0LENA001", reason="on leave",
                           asked=Candidate(slack_id="U0HANNAH1", name="Hannah Okafor", timezone="Europe/London",
                                           matched_topic="logging", load=0, capacity=4))
    notice = blocks.requester_notice(update, zone=NEW_YORK, lead_channel="C0DEVREL1")
    assert notice is not None
    valid(notice)
    assert "Lena Hoffmann declined your DevRel request for *Northbeam &lt;!channel&gt;* (on leave)." in texts(notice)
    assert "Asking *Hannah Okafor* — logging, 0/4 meetings this week." in texts(notice)
    channel = RequestUpdate(request=request(), change="escalated", previous_id="U0LENA001", to_channel=True)
    assert "<#C0DEVREL1>" in texts(blocks.requester_notice(channel, zone=NEW_YORK, lead_channel="C0DEVREL1"))  # type: ignore[arg-type]
    nobody = RequestUpdate(request=request(), change="declined", previous_id="U0LENA001", nobody_available=True)
    assert "Try another time" in texts(blocks.requester_notice(nobody, zone=NEW_YORK, lead_channel=None))  # type: ignore[arg-type]


def test_the_request_form_prefills_engagement_topics_and_shows_the_timezone() -> None:
    other = ENGAGEMENT.model_copy(update={"id": 8, "account": "Bluefin Bank", "focus": "security"})
    view = blocks.request_modal([ENGAGEMENT, other], selected=other, typed="bluefin", timezone_name="Europe/Berlin",
                                metadata={"tz": "Europe/Berlin"})
    View(**view).validate_json()
    assert view["callback_id"] == DevRelIds.request_modal
    by_block = {b.get("block_id"): b for b in view["blocks"]}
    engagement = by_block[DevRelIds.engagement_block]["element"]
    assert [o["value"] for o in engagement["options"]] == ["7", "8"] and engagement["initial_option"]["value"] == "8"
    assert by_block[DevRelIds.topics_block]["element"]["initial_value"] == "security"
    assert by_block[DevRelIds.time_block]["hint"]["text"] == "In your timezone (Europe/Berlin)."
    assert by_block[DevRelIds.duration_block]["element"]["initial_option"]["value"] == "60"
    assert json.loads(view["private_metadata"]) == {"tz": "Europe/Berlin"}
    assumed = blocks.request_modal([ENGAGEMENT], selected=None, timezone_name="UTC", assumed_timezone=True)
    assert "In UTC, the team's timezone: Slack did not tell us yours." in json.dumps(assumed, ensure_ascii=False)
    unmatched = blocks.request_modal([ENGAGEMENT], selected=None, typed="zzz")
    assert "No open engagement of yours matches “zzz”" in json.dumps(unmatched, ensure_ascii=False)


def test_the_decline_form_asks_for_an_optional_reason() -> None:
    view = blocks.decline_modal(request(), zone=BERLIN, metadata={"request_id": 42, "version": 3})
    View(**view).validate_json()
    reason = next(b for b in view["blocks"] if b.get("block_id") == DevRelIds.reason_block)
    assert reason["optional"] is True


def test_kickoff_and_reminder_carry_the_brief_and_link() -> None:
    accepted = request(state=RequestState.accepted, assignee_id="U0LENA001", candidate_id=None)
    kickoff = blocks.kickoff_message(accepted, zone=BERLIN)
    valid(kickoff)
    assert "<@U0LENA001>" in texts(kickoff) and "<@U0SELLER1>" in texts(kickoff) and "Free PoC" in texts(kickoff)
    reminder = blocks.reminder_message(accepted, zone=BERLIN, now=MEETING - timedelta(hours=1))
    valid(reminder)
    assert "starts in 60 minutes" in texts(reminder) and "https://meet.example.com/x" in texts(reminder)
    assert "15:00–16:00 (Europe/Berlin)" in texts(reminder)


def member(i: int, *, active: bool = True, ooo: date | None = None) -> RosterMember:
    return RosterMember(id=i, slack_id=f"U0PERS{i:03d}", name=f"Person {i}", topics=["observability", "apm"],
                        timezone="Europe/Berlin", work_start="09:00", work_end="17:30", weekly_capacity=4, active=active,
                        out_of_office_until=ooo, load_this_week=1)


def test_the_roster_list_shows_load_and_status_and_admin_buttons_only_to_admins() -> None:
    members = [member(1), member(2, ooo=date(2026, 10, 20)), member(3, active=False)]
    admin_view = blocks.roster_message(members, admin=True, today=date(2026, 10, 12))
    valid(admin_view)
    body = texts(admin_view)
    assert "1/4 meetings this week" in body and "09:00–17:30" in body
    assert "out of office until Tue 20 Oct 2026" in body and "inactive" in body
    actions = [e["action_id"] for b in admin_view["blocks"] for e in b.get("elements", []) if e.get("type") == "button"]
    assert actions.count(DevRelIds.roster_edit) == 3 and actions.count(DevRelIds.roster_deactivate) == 2
    assert actions.count(DevRelIds.roster_reactivate) == 1 and actions.count(DevRelIds.roster_add) == 1
    deactivate = next(e for b in admin_view["blocks"] for e in b.get("elements", []) if e.get("action_id") == DevRelIds.roster_deactivate)
    assert "confirm" in deactivate
    plain_view = blocks.roster_message(members, admin=False, today=date(2026, 10, 12))
    assert buttons(plain_view) == {}


def test_a_long_roster_stays_within_fifty_blocks_and_points_to_the_export() -> None:
    many = [member(i) for i in range(60)]
    for admin in (True, False):
        listed = blocks.roster_message(many, admin=admin, today=date(2026, 10, 12))
        valid(listed)
        assert "more. `epos roster export` lists everyone" in texts(listed)


def test_an_empty_roster_says_what_to_do_next() -> None:
    assert "epos roster import FILE" in texts(blocks.roster_message([], admin=True, today=date(2026, 10, 12)))
    assert "Ask an epos admin" in texts(blocks.roster_message([], admin=False, today=date(2026, 10, 12)))


def test_the_roster_form_prefills_when_editing() -> None:
    view = blocks.roster_modal(member(1, ooo=date(2026, 10, 20)), metadata={"mode": "edit", "slack_id": "U0PERS001"})
    View(**view).validate_json()
    by_block = {b.get("block_id"): b for b in view["blocks"]}
    assert DevRelIds.roster_person_block not in by_block
    assert by_block[DevRelIds.roster_topics_block]["element"]["initial_value"] == "observability, apm"
    assert by_block[DevRelIds.roster_ooo_block]["element"]["initial_date"] == "2026-10-20"
    adding = blocks.roster_modal(None, metadata={"mode": "add"})
    assert any(b.get("block_id") == DevRelIds.roster_person_block for b in adding["blocks"])


def test_redraw_picks_the_drawing_for_each_audience() -> None:
    current = request()
    zones = {"U0LENA001": BERLIN, "U0SE00001": NEW_YORK}
    for audience, expected in (("requester", DevRelIds.cancel), ("ask", DevRelIds.accept)):
        ref = MessageRef(channel_id="D1", ts="1.1", audience=audience, recipient_id="U0LENA001" if audience == "ask" else "U0SE00001")  # type: ignore[arg-type]
        drawn = blocks.redraw(ref, current, zones=zones, default=BERLIN, lead_channel=None, now=NOW)
        assert expected in buttons(drawn)


def test_button_values_round_trip() -> None:
    assert RequestButton.decode("42:3") == RequestButton(request_id=42, version=3)
    assert RequestButton.decode("42") == RequestButton(request_id=42, version=None)

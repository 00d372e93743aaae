"""Stale-engagement nudges as SEs receive them: one grouped DM each, at 09:00 their time, on weekdays,
once a day across replicas; a failing DM doesn't stop the others; Snooze and Undo redraw the line."""

from __future__ import annotations

import threading
import time as walltime
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot import outbox
from bot.app import make_client
from bot.config import Settings
from bot.ids import EngagementIds, NudgeIds
from bot.jobs import MINUTE_JOBS
from bot.scheduler import Scheduler, tick
from bot.services import claims
from tests.conftest import SE, SELLER, STRANGER
from tests.scheduler_helpers import SE2, add_engagement, engagement, utc
from tests.support.slack import APP_ID, TEAM_ID, Call, MockSlack
from tests.support.wire import SlackWire

# Monday 23 Nov 2026. SE is in Berlin (UTC+1), SE2 in New York (UTC-5).
BERLIN_9 = utc("2026-11-23 08:00")
NEW_YORK_9 = utc("2026-11-23 14:00")


@pytest.fixture(autouse=True)
def _unpaced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox, "PACER", outbox.Pacer(0))


@pytest.fixture
def deals(settings: Settings, slack: MockSlack) -> Iterator[dict[str, int]]:
    slack.add_user(SE, name="Dana Reyes", tz="Europe/Berlin")
    slack.add_user(SE2, name="Sam Okafor", tz="America/New_York")
    yield {
        "granite": add_engagement("Granite", SE, [("poc", "2026-10-20 10:00")]),
        "ironwood": add_engagement("Ironwood", SE, [("discovery", "2026-11-01 10:00")]),
        "harbor": add_engagement("Harbor", SE, [("discovery", "2026-11-20 10:00")]),  # not stale
        "juniper": add_engagement("Juniper", SE2, [("sizing", "2026-10-01 10:00")]),
        "kestrel": add_engagement("Kestrel", SE2, [("demo", "2026-10-02 10:00")]),
    }


def dms(slack: MockSlack, user_id: str) -> list[Call]:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == user_id and "_fault" not in c.params]


def line_accounts(call: Call) -> list[str]:
    blocks = [b.to_dict() for b in Block.parse_all(call.params["blocks"])]
    return [b["text"]["text"].split("*")[1] for b in blocks if str(b.get("block_id", "")).startswith("nudge_line:")]


def test_each_se_gets_one_grouped_dm_at_nine_in_their_own_timezone(deals: dict[str, int], settings: Settings,
                                                                    slack: MockSlack) -> None:
    client = make_client(settings)
    assert tick(client, settings, utc("2026-11-23 07:59"))["nudges"] == 0
    assert tick(client, settings, BERLIN_9)["nudges"] == 1
    [mine] = dms(slack, SE)
    assert line_accounts(mine) == ["Granite", "Ironwood"]
    assert dms(slack, SE2) == []  # 03:00 in New York

    assert tick(client, settings, NEW_YORK_9)["nudges"] == 1
    [theirs] = dms(slack, SE2)
    assert line_accounts(theirs) == ["Kestrel", "Juniper"]  # Kestrel went stale first (2 Oct + 10 days)

    for later in ("2026-11-23 14:01", "2026-11-23 15:00", "2026-11-23 16:30"):
        tick(client, settings, utc(later))
    assert len(dms(slack, SE)) == 1 and len(dms(slack, SE2)) == 1
    assert engagement(deals["granite"]).last_nudged_at == BERLIN_9
    assert engagement(deals["harbor"]).last_nudged_at is None
    assert claims.state("nudge", f"{SE}:2026-11-23").done  # type: ignore[union-attr]


def test_no_nudges_at_the_weekend(deals: dict[str, int], settings: Settings, slack: MockSlack) -> None:
    client = make_client(settings)
    for moment in ("2026-11-28 08:00", "2026-11-28 14:00", "2026-11-29 08:00", "2026-11-29 14:00"):
        tick(client, settings, utc(moment))
    assert dms(slack, SE) == [] and dms(slack, SE2) == []


def test_a_day_missed_while_down_is_not_caught_up_later(deals: dict[str, int], settings: Settings,
                                                         slack: MockSlack) -> None:
    client = make_client(settings)
    tick(client, settings, utc("2026-11-23 18:30"))  # back at 19:30 in Berlin: too late for Monday
    assert dms(slack, SE) == []
    tick(client, settings, utc("2026-11-24 08:00"))  # Tuesday 09:00
    assert len(dms(slack, SE)) == 1


def test_a_restart_in_the_morning_still_nudges_that_day(deals: dict[str, int], settings: Settings,
                                                        slack: MockSlack) -> None:
    tick(make_client(settings), settings, utc("2026-11-23 10:15"))  # 11:15 in Berlin
    assert len(dms(slack, SE)) == 1


def test_cooldown_keeps_nudged_engagements_quiet_for_three_days(deals: dict[str, int], settings: Settings,
                                                                slack: MockSlack) -> None:
    client = make_client(settings)
    tick(client, settings, BERLIN_9)
    tick(client, settings, utc("2026-11-24 08:00"))  # Tuesday
    tick(client, settings, utc("2026-11-25 08:00"))  # Wednesday
    assert len(dms(slack, SE)) == 1
    tick(client, settings, utc("2026-11-26 08:00"))  # Thursday: three days on
    assert len(dms(slack, SE)) == 2


def test_an_engagement_going_stale_after_nine_waits_for_the_next_day(settings: Settings, slack: MockSlack) -> None:
    slack.add_user(SE, tz="Europe/Berlin")
    # Discovery, limit 10 days: stale from 23 Nov 11:00 UTC, two hours after Monday's nudge time.
    add_engagement("Larch", SE, [("discovery", "2026-11-13 11:00")])
    client = make_client(settings)
    tick(client, settings, BERLIN_9)
    tick(client, settings, utc("2026-11-23 12:00"))
    assert dms(slack, SE) == []
    tick(client, settings, utc("2026-11-24 08:00"))
    assert [line_accounts(c) for c in dms(slack, SE)] == [["Larch"]]


def test_a_failing_dm_to_one_se_does_not_stop_the_others_and_is_retried(deals: dict[str, int], settings: Settings,
                                                                       slack: MockSlack) -> None:
    slack.add_user(SE2, tz="Europe/Berlin")  # both due at the same tick
    client = make_client(settings)
    slack.fail("chat.postMessage", error="channel_not_found")  # the first DM: SE, in id order
    assert tick(client, settings, BERLIN_9)["nudges"] == 1
    assert dms(slack, SE) == [] and len(dms(slack, SE2)) == 1
    state = claims.state("nudge", f"{SE}:2026-11-23")
    assert state is not None and not state.done and state.last_error == "channel_not_found"
    assert engagement(deals["granite"]).last_nudged_at is None

    assert tick(client, settings, utc("2026-11-23 08:01"))["nudges"] == 1
    assert len(dms(slack, SE)) == 1 and len(dms(slack, SE2)) == 1


def test_two_schedulers_on_one_database_send_one_dm_per_se(deals: dict[str, int], settings: Settings,
                                                           slack: MockSlack) -> None:
    slack.add_user(SE2, tz="Europe/Berlin")
    replicas = [Scheduler(settings, make_client(settings), owner=f"replica-{i}") for i in range(3)]
    barrier = threading.Barrier(len(replicas))

    def run(replica: Scheduler) -> None:
        barrier.wait()
        replica.run_tick(BERLIN_9)

    threads = [threading.Thread(target=run, args=(replica,)) for replica in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(dms(slack, SE)) == 1 and len(dms(slack, SE2)) == 1


# ----- Snooze and Undo on the DM -------------------------------------------------------------------
def press(wire: SlackWire, action_id: str, value: str, *, user_id: str, message: Call, ts: str) -> int:
    """A button click on the DM as Slack sends it: with the message and its blocks."""
    sent = message.params
    channel = str(sent.get("channel") or SE)
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "epos-test"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "legacy-unused",
        "trigger_id": wire.next_trigger_id(),
        "container": {"type": "message", "message_ts": ts, "channel_id": channel},
        "channel": {"id": channel, "name": "directmessage"},
        "message": {"type": "message", "ts": ts, "text": sent["text"], "blocks": sent["blocks"]},
        "response_url": f"{wire.response_url_base}response/nudge",
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                     "action_ts": f"{walltime.time():.6f}"}],
    }
    return wire.post_payload(payload).status


def test_snooze_quiets_the_engagement_and_redraws_its_line_with_undo(deals: dict[str, int], settings: Settings,
                                                                     slack: MockSlack, wire: SlackWire) -> None:
    tick(make_client(settings), settings, BERLIN_9)
    [dm] = dms(slack, SE)
    ts = slack.messages[SE][0].ts
    granite = deals["granite"]

    assert press(wire, NudgeIds.snooze, str(granite), user_id=SE, message=dm, ts=ts) == 200
    [update] = slack.wait_for("chat.update")
    assert engagement(granite).snoozed_until is not None
    blocks = [b.to_dict() for b in Block.parse_all(update.params["blocks"])]
    line = next(b for b in blocks if b.get("block_id") == f"nudge_line:{granite}")
    assert ":zzz: Snoozed until" in line["text"]["text"]
    undo = next(b for b in blocks if b.get("block_id") == f"nudge_line_actions:{granite}")
    assert [e["action_id"] for e in undo["elements"]] == [NudgeIds.undo_snooze]
    other = next(b for b in blocks if b.get("block_id") == f"nudge_line_actions:{deals['ironwood']}")
    assert len(other["elements"]) == 4  # the rest of the DM is untouched
    assert update.params["channel"] == SE and update.params["ts"] == ts

    # Quiet on the days after, even once the cooldown is over.
    client = make_client(settings)
    tick(client, settings, utc("2026-11-26 08:00"))
    assert [line_accounts(c) for c in dms(slack, SE)][-1] == ["Ironwood"]

    redrawn = Call("chat.postMessage", {"channel": SE, "text": dm.params["text"], "blocks": update.params["blocks"]})
    assert press(wire, NudgeIds.undo_snooze, str(granite), user_id=SE, message=redrawn, ts=ts) == 200
    slack.wait_for("chat.update", count=2)
    assert engagement(granite).snoozed_until is None
    restored = [b.to_dict() for b in Block.parse_all(slack.calls_to("chat.update")[-1].params["blocks"])]
    actions = next(b for b in restored if b.get("block_id") == f"nudge_line_actions:{granite}")
    assert [e["text"]["text"] for e in actions["elements"]] == ["Update stage", "Add note", "Snooze 7 days", "Close"]


def test_the_seller_may_snooze_too(deals: dict[str, int], settings: Settings, slack: MockSlack,
                                   wire: SlackWire) -> None:
    tick(make_client(settings), settings, BERLIN_9)
    [dm] = dms(slack, SE)
    ts = slack.messages[SE][0].ts
    assert press(wire, NudgeIds.snooze, str(deals["granite"]), user_id=SELLER, message=dm, ts=ts) == 200
    slack.wait_for("chat.update")
    assert engagement(deals["granite"]).snoozed_until is not None


def test_someone_else_is_told_why_not_and_nothing_changes(deals: dict[str, int], settings: Settings,
                                                          slack: MockSlack, wire: SlackWire) -> None:
    tick(make_client(settings), settings, BERLIN_9)
    [dm] = dms(slack, SE)
    ts = slack.messages[SE][0].ts
    assert press(wire, NudgeIds.snooze, str(deals["granite"]), user_id=STRANGER, message=dm, ts=ts) == 200
    [reply] = slack.wait_for("response_url")
    assert "Only the owner" in reply.params["text"] and reply.params["response_type"] == "ephemeral"
    assert engagement(deals["granite"]).snoozed_until is None
    assert slack.calls_to("chat.update") == []


def test_a_snooze_from_a_message_without_the_line_is_confirmed_privately(deals: dict[str, int], settings: Settings,
                                                                         slack: MockSlack, wire: SlackWire) -> None:
    assert wire.block_action(NudgeIds.snooze, user_id=SE, value=str(deals["granite"])).status == 200
    [reply] = slack.wait_for("response_url")
    assert reply.params["text"].startswith("Snoozed *Granite* until ")
    assert engagement(deals["granite"]).snoozed_until is not None


def test_a_button_without_an_engagement_says_how_to_find_it(deals: dict[str, int], slack: MockSlack,
                                                             wire: SlackWire) -> None:
    assert wire.block_action(NudgeIds.snooze, user_id=SE, value="nonsense").status == 200
    [reply] = slack.wait_for("response_url")
    assert "/engagement list" in reply.params["text"]


def test_update_stage_on_the_dm_opens_the_engagement_form(deals: dict[str, int], settings: Settings,
                                                          slack: MockSlack, wire: SlackWire) -> None:
    tick(make_client(settings), settings, BERLIN_9)
    [dm] = dms(slack, SE)
    ts = slack.messages[SE][0].ts
    assert press(wire, EngagementIds.change_stage, str(deals["granite"]), user_id=SE, message=dm, ts=ts) == 200
    [opened] = slack.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == EngagementIds.stage_modal


def test_a_week_old_people_cache_does_not_cost_a_users_info_per_se_at_nine(
    settings: Settings, slack: MockSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SEs' cache entries go stale together; the 09:00 tick uses them and refreshes a few per run."""
    from bot import clock, slack_people
    from bot.services import people

    monkeypatch.setattr(slack_people, "REFRESH_PER_RUN", 1)
    week_ago = clock.now() - people.FRESH_FOR - timedelta(days=1)
    ses = [f"U0WEEK{n:03d}" for n in range(3)]
    for se in ses:
        people.remember(se, name=f"SE {se[-1]}", timezone="Europe/Berlin", now=week_ago)
        slack.add_user(se, name=f"SE {se[-1]}", tz="Europe/Berlin")
        add_engagement(f"Account {se}", se, [("poc", "2026-10-20 10:00")])
    nudges_only = tuple(job for job in MINUTE_JOBS if job.name == "nudges")
    assert tick(make_client(settings), settings, BERLIN_9, jobs=nudges_only)["nudges"] == 3
    assert all(len(dms(slack, se)) == 1 for se in ses)
    assert len(slack.calls_to("users.info")) == 1  # one refreshed; the others' week-old entries used


def test_someone_never_looked_up_is_always_asked_for(
    settings: Settings, slack: MockSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import slack_people

    monkeypatch.setattr(slack_people, "REFRESH_PER_RUN", 0)
    slack.add_user(SE2, name="Sam Okafor", tz="America/New_York")
    add_engagement("Juniper", SE2, [("sizing", "2026-10-01 10:00")])
    # 09:00 in Berlin is 03:00 in New York: known from Slack, not taken as EPOS_TIMEZONE.
    nudges_only = tuple(job for job in MINUTE_JOBS if job.name == "nudges")
    assert tick(make_client(settings), settings, BERLIN_9, jobs=nudges_only)["nudges"] == 0
    assert tick(make_client(settings), settings, NEW_YORK_9, jobs=nudges_only)["nudges"] == 1
    assert [c.params["user"] for c in slack.calls_to("users.info")] == [SE2]

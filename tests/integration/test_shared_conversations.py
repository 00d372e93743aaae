"""No internal content goes into a conversation shared with another organisation (Slack Connect), over
signed HTTP: playbooks and close announcements of a shared deal channel go to the owner by DM, only
customer-facing assets are shared there (after a confirmation naming the organisation), and a shared
digest or DevRel lead channel stops epos at start."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import clock, db, outbox
from bot.app import make_client
from bot.config import Settings
from bot.jobs import digest as digest_job
from bot.services import claims
from models import AuditEntry, Engagement
from models.assets import AssetShare
from tests.assets_helpers import ask, asset_by_title, blocks_of, buttons, card_titles
from tests.conftest import BOT_TOKEN, SE, SELLER
from tests.engagements_helpers import button, new_form_values, open_engagement
from tests.scheduler_helpers import hand_computed_week, utc
from tests.support.slack import Call, MockSlack
from tests.support.text import all_text
from tests.support.waiting import eventually
from tests.support.wire import SlackWire

DEAL_CHANNEL = "C0NBDEAL1"
CUSTOMER = "Northbeam Logistics"
CUSTOMER_FACING = "Observability in 15 minutes: from alert to root cause"
INTERNAL = "Unified logs, metrics and traces for an online store"


def reply(slack: MockSlack, name: str = "default", count: int = 1) -> Call:
    return slack.wait_for("response_url", lambda c: c.params.get("_name") == name, count=count)[count - 1]


def posts_to(slack: MockSlack, channel: str) -> list[Call]:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == channel]


def dms_to_owner_saying(slack: MockSlack, text: str, count: int = 1) -> list[Call]:
    return slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == SE
                          and text in all_text(c.params.get("blocks") or []), count=count)


def opened_view(slack: MockSlack, callback_id: str) -> dict:
    slack.wait_for("views.open", lambda c: c.params["view"]["callback_id"] == callback_id)
    return next(v for v in reversed(list(slack.views.values())) if v["callback_id"] == callback_id)


def stage_of(engagement_id: int) -> str:
    with db.reading() as session:
        return str(session.scalar(select(Engagement.stage).where(Engagement.id == engagement_id)))


@pytest.fixture
def northbeam(database_url: str) -> int:
    opened = (clock.now() - timedelta(days=3)).strftime("%Y-%m-%d %H:%M")
    return open_engagement(CUSTOMER, opened, channel_id=DEAL_CHANNEL)


# ----- where a stage change and a close post -------------------------------------------------------------
@pytest.mark.parametrize("pending", [False, True], ids=["shared", "invitation-pending"])
def test_a_stage_change_posts_the_playbook_to_the_owner_by_dm_never_to_a_shared_deal_channel(
    pending: bool, northbeam: int, wire: SlackWire, slack: MockSlack
) -> None:
    slack.share_channel(DEAL_CHANNEL, CUSTOMER, pending=pending)
    assert wire.command("/engagement", "northbeam disco", user_id=SELLER).status == 200

    reply(slack)
    assert stage_of(northbeam) == "discovery"
    dm = dms_to_owner_saying(slack, "Discovery playbook")[0]
    text = all_text(dm.params["blocks"])
    why = f"<#{DEAL_CHANNEL}> is shared with {CUSTOMER}" if not pending else "pending invitation to share it"
    assert why in text and "for our team only" in text
    assert "set a deal channel only your organisation is in" in text and "*Deal channel*" in text
    assert "Calls to action" in text
    time.sleep(0.3)  # nothing more is on its way: the playbook came once, and never to the channel
    assert len([c for c in posts_to(slack, SE) if "Discovery playbook" in all_text(c.params.get("blocks") or [])]) == 1
    assert posts_to(slack, DEAL_CHANNEL) == []
    assert slack.calls_to("conversations.info")[0].params["channel"] == DEAL_CHANNEL


def test_a_close_is_announced_to_the_owner_not_in_a_shared_deal_channel(
    northbeam: int, wire: SlackWire, slack: MockSlack
) -> None:
    slack.share_channel(DEAL_CHANNEL, CUSTOMER)
    assert wire.command("/engagement", "close northbeam won", user_id=SELLER).status == 200

    reply(slack)
    assert stage_of(northbeam) == "closed"
    announcement = dms_to_owner_saying(slack, "🏁")[0]
    text = all_text(announcement.params["blocks"])
    assert "closed as *won*" in text and f"<#{DEAL_CHANNEL}> is shared with {CUSTOMER}" in text
    dms_to_owner_saying(slack, "How satisfied are you")  # the ESAT question still comes
    time.sleep(0.3)
    assert posts_to(slack, DEAL_CHANNEL) == []


def test_an_internal_deal_channel_still_gets_the_playbook(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    assert wire.command("/engagement", "northbeam disco", user_id=SELLER).status == 200
    post = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == DEAL_CHANNEL)[0]
    assert "Discovery playbook" in all_text(post.params["blocks"])


def test_a_deal_channel_shared_after_epos_looked_is_seen_at_once_through_channel_shared(
    northbeam: int, wire: SlackWire, slack: MockSlack
) -> None:
    assert wire.command("/engagement", "northbeam disco", user_id=SELLER).status == 200
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == DEAL_CHANNEL)
    team = slack.share_channel(DEAL_CHANNEL, CUSTOMER)
    assert wire.event({"type": "channel_shared", "channel": DEAL_CHANNEL, "connected_team_id": team,
                       "event_ts": "1.0"}).status == 200

    assert wire.command("/engagement", "northbeam demo", user_id=SELLER, response_name="demo").status == 200
    dms_to_owner_saying(slack, "Demo playbook")
    assert len(posts_to(slack, DEAL_CHANNEL)) == 1


# ----- the card, /engagement new and the deal-channel setting ---------------------------------------------------
def test_new_with_a_shared_channel_warns_and_the_first_playbook_goes_to_the_owner(
    database_url: str, wire: SlackWire, slack: MockSlack
) -> None:
    slack.share_channel(DEAL_CHANNEL, CUSTOMER)
    assert wire.command("/engagement", "new", user_id=SE).status == 200
    view = opened_view(slack, "engagement_new")
    assert wire.view_submission(view, new_form_values(stage="discovery"), user_id=SE).status == 200

    confirmation = dms_to_owner_saying(slack, "Opened")[0]
    text = all_text(confirmation.params["blocks"])
    assert f"⚠️ <#{DEAL_CHANNEL}> is shared with {CUSTOMER}" in text and "go to the owner by DM" in text
    assert f"shared with {CUSTOMER}: internal news goes to the owner by DM" in text  # the card's deal channel
    dms_to_owner_saying(slack, "Discovery playbook")
    with db.reading() as session:
        assert session.scalars(select(Engagement.channel_id)).one() == DEAL_CHANNEL
    time.sleep(0.3)
    assert posts_to(slack, DEAL_CHANNEL) == []


def test_the_card_shows_that_the_deal_channel_is_shared(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    slack.share_channel(DEAL_CHANNEL, CUSTOMER)
    wire.command("/engagement", "Northbeam Logistics", user_id=SE, response_name="card")
    text = all_text(reply(slack, "card").params["blocks"])
    assert f"*Deal channel*\n<#{DEAL_CHANNEL}>\n⚠️ shared with {CUSTOMER}" in text


def test_the_deal_channel_is_set_from_the_card_and_a_shared_one_is_warned_about(
    northbeam: int, wire: SlackWire, slack: MockSlack
) -> None:
    shared_channel = "C0NBSHARED"
    slack.share_channel(shared_channel, CUSTOMER)
    wire.command("/engagement", "Northbeam Logistics", user_id=SE, response_name="card")
    setting = button(reply(slack, "card").params["blocks"], "engagement_set_channel")
    wire.block_action(setting["action_id"], user_id=SE, value=setting["value"], response_name="from-card")
    view = opened_view(slack, "engagement_deal_channel")
    picker = next(b for b in view["blocks"] if b.get("block_id") == "engagement_channel")
    assert picker["element"]["initial_conversation"] == DEAL_CHANNEL
    values = {"engagement_channel": {"engagement_field": {"type": "conversations_select",
                                                          "selected_conversation": shared_channel}}}
    assert wire.view_submission(view, values, user_id=SE).status == 200

    answer = reply(slack, "from-card")
    text = all_text(answer.params["blocks"])
    assert f"Deal channel of *Northbeam Logistics* (Northbeam Logistics platform) set to <#{shared_channel}>" in text
    assert f"⚠️ <#{shared_channel}> is shared with {CUSTOMER}" in text
    with db.reading() as session:
        assert session.scalar(select(Engagement.channel_id).where(Engagement.id == northbeam)) == shared_channel
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "channel")).one()
        assert (entry.actor_id, entry.detail) == (SE, {"before": DEAL_CHANNEL, "after": shared_channel})


def test_only_who_may_change_the_engagement_sets_its_deal_channel(
    northbeam: int, wire: SlackWire, slack: MockSlack
) -> None:
    wire.block_action("engagement_set_channel", user_id="U0STRANGE", value=str(northbeam), response_name="refused")
    assert "Only" in reply(slack, "refused").params["text"]
    assert slack.calls_to("views.open") == []


# ----- sharing an asset into a shared conversation --------------------------------------------------------------
def test_a_customer_facing_asset_is_shared_into_a_shared_channel_after_a_confirmation_naming_the_customer(
    catalogue: None, wire: SlackWire, slack: MockSlack
) -> None:
    slack.share_channel(DEAL_CHANNEL, CUSTOMER)
    row = asset_by_title(CUSTOMER_FACING)
    assert row.customer_facing is True

    wire.block_action("asset_share", user_id=SE, value=str(row.id), channel_id=DEAL_CHANNEL, response_name="share")
    confirmation = reply(slack, "share")
    assert confirmation.params["response_type"] == "ephemeral"
    text = all_text(blocks_of(confirmation))
    assert f"<#{DEAL_CHANNEL}> is shared with {CUSTOMER}" in text and f"{CUSTOMER} included, will see" in text
    confirm = next(b for b in buttons(confirmation.params["blocks"]) if b["action_id"] == "asset_share_confirmed")
    assert confirm["text"]["text"] == f"Share with {CUSTOMER}"
    time.sleep(0.2)
    assert posts_to(slack, DEAL_CHANNEL) == [] and asset_by_title(CUSTOMER_FACING).share_count == 0

    wire.block_action("asset_share_confirmed", user_id=SE, value=confirm["value"], channel_id=DEAL_CHANNEL,
                      response_name="confirmed")
    post = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == DEAL_CHANNEL)[0]
    assert card_titles(blocks_of(post)) == [CUSTOMER_FACING]
    assert buttons(blocks_of(post)) == []  # votes are our team's, not the customer's
    done = reply(slack, "confirmed")
    assert done.params["replace_original"] is True and f"with {CUSTOMER}" in done.params["text"]
    assert eventually(lambda: asset_by_title(CUSTOMER_FACING).share_count == 1)
    with db.reading() as session:
        assert [(s.user_id, s.channel_id) for s in session.scalars(select(AssetShare))] == [(SE, DEAL_CHANNEL)]


def test_a_confirmation_clicked_after_the_channel_stopped_being_shared_shares_as_in_any_internal_channel(
    catalogue: None, wire: SlackWire, slack: MockSlack
) -> None:
    slack.share_channel(DEAL_CHANNEL, CUSTOMER)
    row = asset_by_title(CUSTOMER_FACING)
    wire.block_action("asset_share", user_id=SE, value=str(row.id), channel_id=DEAL_CHANNEL, response_name="share")
    confirm = next(b for b in buttons(reply(slack, "share").params["blocks"]) if b["action_id"] == "asset_share_confirmed")

    # Before the click, the channel stops being shared, and Slack says so.
    slack.unshare_channel(DEAL_CHANNEL)
    assert wire.event({"type": "channel_unshared", "channel": DEAL_CHANNEL, "previously_connected_team_id": "T0EXT0000",
                       "event_ts": "2.0"}).status == 200
    wire.block_action("asset_share_confirmed", user_id=SE, value=confirm["value"], channel_id=DEAL_CHANNEL,
                      response_name="confirmed")

    post = slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == DEAL_CHANNEL)[0]
    assert card_titles(blocks_of(post)) == [CUSTOMER_FACING]
    assert buttons(blocks_of(post)) != []  # an internal share: our team may vote on it
    # The confirmation goes away, and nothing says the card went to another organisation.
    done = reply(slack, "confirmed")
    assert done.params["delete_original"] is True and not done.params.get("text")
    assert eventually(lambda: asset_by_title(CUSTOMER_FACING).share_count == 1)
    assert CUSTOMER not in str([c.params for c in slack.responses if c.params.get("_name") == "confirmed"])


def test_an_internal_asset_is_refused_in_a_shared_channel_with_the_reason(
    catalogue: None, wire: SlackWire, slack: MockSlack
) -> None:
    slack.share_channel(DEAL_CHANNEL, CUSTOMER)
    row = asset_by_title(INTERNAL)
    assert row.customer_facing is False

    wire.block_action("asset_share", user_id=SE, value=str(row.id), channel_id=DEAL_CHANNEL, response_name="share")
    refusal = reply(slack, "share")
    text = refusal.params["text"]
    assert f"<#{DEAL_CHANNEL}> is shared with {CUSTOMER}" in text and "is an internal asset" in text
    assert "mark it customer-facing" in text
    # Even a forged confirmation changes nothing.
    wire.block_action("asset_share_confirmed", user_id=SE, value=str(row.id), channel_id=DEAL_CHANNEL,
                      response_name="forged")
    assert "is an internal asset" in reply(slack, "forged").params["text"]
    time.sleep(0.2)
    assert posts_to(slack, DEAL_CHANNEL) == []
    assert asset_by_title(INTERNAL).share_count == 0


def test_an_internal_asset_is_still_shared_in_an_internal_channel(
    catalogue: None, wire: SlackWire, slack: MockSlack
) -> None:
    answer = ask(wire, "unified logs metrics traces online store", user_id=SE, channel_id="C0TEAM001")
    share = next(b for b in buttons(blocks_of(answer)) if b["action_id"] == "asset_share")
    wire.block_action("asset_share", user_id=SE, value=share["value"], channel_id="C0TEAM001")
    slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "C0TEAM001")
    assert eventually(lambda: sum(a.share_count for a in [asset_by_title(INTERNAL), asset_by_title(CUSTOMER_FACING)]) == 1)


def test_the_add_form_saves_a_customer_facing_asset(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    from tests.assets_helpers import form_values

    assert wire.command("/asset", "add", user_id=SE).status == 200
    view = opened_view(slack, "asset_add")
    assert wire.view_submission(view, form_values(audience="customer_facing"), user_id=SE).status == 200
    assert eventually(lambda: asset_by_title("Tracing a slow checkout with OpenTelemetry").customer_facing is True)


# ----- the digest and the DevRel lead channel -------------------------------------------------------------------
def test_the_digest_is_not_posted_into_a_channel_shared_since_start_and_is_retried(
    settings: Settings, slack: MockSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "PACER", outbox.Pacer(0))
    hand_computed_week()
    channel = "C0DIGEST1"
    slack.share_channel(channel, CUSTOMER)
    settings = settings.model_copy(update={"digest_channel": channel})
    now = utc("2026-11-23 08:00")
    assert digest_job.post_week(make_client(settings), settings, "2026-W47", now=now, owner="test") is None
    assert posts_to(slack, channel) == [] and slack.calls_to("files.getUploadURLExternal") == []
    assert claims.done_periods("digest", ["2026-W47"]) == set()


def _start(command: list[str], slack: MockSlack, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "EPOS_", "DATABASE_", "DIGEST_",
                                                                      "DEVREL_"))}
    clean.update({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xapp-test-0000", "SLACK_API_URL": slack.api_url,
                  "DATABASE_URL": f"sqlite:///{tmp_path / 'epos.db'}", **env})
    return subprocess.run([sys.executable, "-m", "bot", *command], env=clean, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize(("variable", "command"), [
    ("DIGEST_CHANNEL", ["run"]),
    ("DEVREL_CHANNEL", ["scheduler", "--once"]),
])
def test_start_up_with_a_shared_internal_channel_stops_with_one_line_and_exit_2(
    variable: str, command: list[str], slack: MockSlack, tmp_path: Path
) -> None:
    slack.share_channel("C0INTERNAL", CUSTOMER)
    result = _start(command, slack, tmp_path, **{variable: "C0INTERNAL"})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [f"epos: {variable}: C0INTERNAL is shared with {CUSTOMER}, and epos posts only internal content "
                     "there; set it to a channel only your organisation is in (see README › Settings)"]
    assert "Traceback" not in result.stderr + result.stdout
    assert slack.calls_to("chat.postMessage") == []

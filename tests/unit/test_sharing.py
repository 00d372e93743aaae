"""What epos knows of a conversation's sharing with other organisations: asked once, kept a while,
asked again after a change, never guessed."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import sharing
from tests.conftest import BOT_TOKEN, SE
from tests.support.slack import MockSlack


@pytest.fixture
def client(slack: MockSlack) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=slack.api_url)


def test_an_internal_channel_is_asked_about_once_while_the_answer_is_fresh(client: WebClient, slack: MockSlack) -> None:
    now = [100.0]
    assert sharing.sharing(client, "C0FRESH01", monotonic=lambda: now[0]).external is False
    now[0] += sharing.FRESH_FOR - 1
    assert sharing.sharing(client, "C0FRESH01", monotonic=lambda: now[0]).external is False
    assert len(slack.calls_to("conversations.info")) == 1
    slack.share_channel("C0FRESH01", "Acme Robotics")
    now[0] += 2  # past its lifetime: asked again, and the share is seen
    assert sharing.sharing(client, "C0FRESH01", monotonic=lambda: now[0]).organisations == ("Acme Robotics",)
    assert len(slack.calls_to("conversations.info")) == 2


def test_a_channel_shared_with_two_organisations_names_both(client: WebClient, slack: MockSlack) -> None:
    slack.share_channel("C0TWOORGS", "Acme Robotics")
    slack.share_channel("C0TWOORGS", "Globex")
    found = sharing.sharing(client, "C0TWOORGS")
    assert found.external and found.describe() == "<#C0TWOORGS> is shared with Acme Robotics and Globex"
    with pytest.raises(sharing.SharedConversation):
        sharing.post(client, "C0TWOORGS", text="internal")
    assert slack.calls_to("chat.postMessage") == []


def test_a_pending_invitation_counts_as_shared(client: WebClient, slack: MockSlack) -> None:
    slack.share_channel("C0PENDING", "Acme Robotics", pending=True)
    found = sharing.sharing(client, "C0PENDING")
    assert found.external and found.pending
    assert "pending invitation" in found.describe()


def test_people_and_direct_messages_are_never_asked_about(client: WebClient, slack: MockSlack) -> None:
    sharing.post(client, SE, text="a DM")
    sharing.post(client, "D0DIRECT1", text="a DM")
    assert slack.calls_to("conversations.info") == []
    assert len(slack.calls_to("chat.postMessage")) == 2


def test_when_slack_cannot_say_nothing_is_posted_and_nothing_is_kept(client: WebClient, slack: MockSlack) -> None:
    slack.fail("conversations.info", error="channel_not_found")
    with pytest.raises(SlackApiError):
        sharing.post(client, "C0UNKNOWN", text="internal")
    assert slack.calls_to("chat.postMessage") == []
    assert sharing.sharing(client, "C0UNKNOWN").external is False  # asked again, not remembered as internal
    assert len(slack.calls_to("conversations.info")) == 2


def test_forget_makes_epos_ask_again(client: WebClient, slack: MockSlack) -> None:
    assert sharing.sharing(client, "C0FORGET1").external is False
    slack.share_channel("C0FORGET1", "Acme Robotics")
    sharing.forget("C0FORGET1")
    assert sharing.sharing(client, "C0FORGET1").external is True

"""Text typed after a command is capped before it is parsed: a huge paste is refused at once with the limit,
and text up to the limit is still read as usual."""

from __future__ import annotations

import pytest

from handlers.common import COMMAND_TEXT_LIMIT
from tests.conftest import SE, answer_to
from tests.engagements_helpers import open_engagement
from tests.support.slack import MockSlack
from tests.support.wire import SlackWire

HUGE = 500_000
COMMANDS = ("/engagement", "/asset", "/devrel")


def pasted(length: int) -> str:
    return ("northbeam poc " * (length // 14 + 1))[:length]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_huge_paste_is_refused_with_the_limit_and_nothing_is_done(command: str, wire: SlackWire,
                                                                    slack: MockSlack) -> None:
    response = wire.command(command, pasted(HUGE), user_id=SE)
    told = answer_to(response, slack).params["text"]
    assert told == (f"That is 500,000 characters after `{command}`; it takes at most 2,500. "
                    "Nothing was done: shorten it and try again.")
    assert slack.calls_to("views.open") == []
    assert slack.calls_to("chat.postMessage") == []


def test_engagement_text_at_the_limit_is_still_read(wire: SlackWire, slack: MockSlack) -> None:
    open_engagement("Northbeam Logistics", "2026-11-02", owner=SE)
    typed = "northbeam logistics".ljust(COMMAND_TEXT_LIMIT)
    response = wire.command("/engagement", typed, user_id=SE)
    told = answer_to(response, slack)
    assert "characters after" not in told.params["text"]
    assert "Northbeam Logistics" in str(told.params.get("blocks"))

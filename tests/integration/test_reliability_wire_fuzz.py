"""Hostile command text over signed HTTP, as Slack delivers it: always 200, always an answer, and the
text echoed back escaped (the in-process fuzz tests in tests/unit/test_fuzz_*.py try many more inputs)."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from bot.slackmock import Call, MockSlack
from bot.wire import SlackWire, WireResponse
from tests.assets_helpers import import_sample
from tests.conftest import SE
from tests.engagements_helpers import open_engagement
from tests.reliability_helpers import PINGS, check_message, check_view, hostile_text, mrkdwn_texts, unescaped_pings

OVER_THE_WIRE = hypothesis_settings(max_examples=25, deadline=None,
                                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
markers = itertools.count(1)
# Text that matches nothing, so the answer is a "no match" that quotes it, with a ping to be defused.
# Text that names no sample engagement: with an account in it, `/engagement` rightly shows that card.
unmatched = st.builds(lambda ping, rest: f"zqxj {ping} {rest}", st.sampled_from(PINGS),
                      hostile_text.filter(lambda text: "northbeam" not in text.lower()))


@pytest.fixture
def catalogue(database_url: str) -> None:
    from bot.services import assets

    assets.reset_index()
    import_sample()
    open_engagement("Northbeam Logistics", "2026-01-05 10:00")


def answer(slack: MockSlack, sent: tuple[WireResponse, str], timeout: float = 10.0) -> Call:
    """The reply to one command: an ephemeral answer in its ack or via its response_url, or the form it opened."""
    response, marker = sent
    if response.message:
        return Call("ack", response.message)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with slack._lock:
            for call in [*slack.responses, *slack.calls]:
                if call.params.get("_name") == marker or call.params.get("trigger_id") == marker:
                    return call
        time.sleep(0.02)
    raise AssertionError(f"no answer to {marker}")


def send(wire: SlackWire, command: str, text: str) -> tuple[WireResponse, str]:
    marker = f"fuzz{next(markers)}"
    fields = wire.command_fields(command, text, user_id=SE, response_name=marker)
    fields["trigger_id"] = marker
    return wire.post_form(fields), marker


def check_answer(call: Call) -> str:
    if call.method in ("ack", "response_url"):
        check_message(call.params, call.method)
        return "\n".join([str(call.params.get("text") or ""), *mrkdwn_texts(call.params.get("blocks") or [])])
    view: dict[str, Any] = call.params["view"]
    check_view(view, call.method)
    return "\n".join(mrkdwn_texts(view.get("blocks") or []))


@pytest.mark.parametrize("command", ["/asset", "/engagement", "/devrel"])
@given(text=st.one_of(hostile_text, unmatched))
@OVER_THE_WIRE
def test_any_command_text_over_the_wire(catalogue: None, wire: SlackWire, slack: MockSlack, command: str,
                                        text: str) -> None:
    sent = send(wire, command, text)
    assert sent[0].status == 200
    shown = check_answer(answer(slack, sent))
    assert not unescaped_pings(shown)
    assert "something went wrong" not in shown


@pytest.mark.parametrize("command", ["/asset", "/engagement"])
@given(text=unmatched)
@OVER_THE_WIRE
def test_an_echoed_query_is_escaped(catalogue: None, wire: SlackWire, slack: MockSlack, command: str, text: str) -> None:
    sent = send(wire, command, text)
    assert sent[0].status == 200
    shown = check_answer(answer(slack, sent))
    assert "zqxj" in shown  # the query is quoted back …
    assert not unescaped_pings(shown)  # … with its mention defused
    assert "&lt;" in shown

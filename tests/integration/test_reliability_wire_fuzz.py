"""Hostile command text over signed HTTP, as Slack delivers it: always 200, always an answer, and the
text echoed back escaped (the in-process fuzz tests in tests/unit/test_fuzz_*.py try many more inputs)."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.conftest import SE
from tests.engagements_helpers import open_engagement
from tests.reliability_helpers import (
    PINGS,
    check_message,
    check_view,
    error_log,
    hostile_text,
    mrkdwn_texts,
    unescaped_pings,
)
from tests.support.slack import TEAM_ID, Call, MockSlack
from tests.support.wire import SlackWire, WireResponse

OVER_THE_WIRE = hypothesis_settings(max_examples=25, deadline=None,
                                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
markers = itertools.count(1)
# Text that matches nothing, so the answer is a "no match" that quotes it, with a ping to be defused.
# Text that names no sample engagement: with an account in it, `/engagement` rightly shows that card.
CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/plain", "application/json; charset=utf-8")
# Bodies close to Slack's shapes, so the fuzz reaches past the parse: `payload=` with any JSON, and JSON envelopes.
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=10), children, max_size=4), max_leaves=20)
KINDS = ("event_callback", "block_actions", "view_submission", "view_closed", "shortcut", "message_action",
         "block_suggestion", "url_verification", "app_rate_limited")
FIELDS = ("event", "event_id", "api_app_id", "user", "view", "actions", "team", "enterprise", "channel",
          "container", "message", "authorizations", "callback_id", "command", "trigger_id", "response_url", "token")
envelopes = st.fixed_dictionaries(
    # Our team, so that most get past the installation check to the listeners.
    {"type": st.sampled_from(KINDS) | st.text(max_size=5), "team_id": st.just(TEAM_ID)},
    optional={name: json_values | st.dictionaries(st.sampled_from(["type", "id", "callback_id", "action_id", "user",
                                                                   "channel", "bot_id", "subtype", "state"]),
                                                  json_values, max_size=4) for name in FIELDS},
)
slack_like_bodies = st.one_of(
    json_values.map(lambda v: b"payload=" + quote(json.dumps(v)).encode()),
    envelopes.map(lambda d: b"payload=" + quote(json.dumps(d)).encode()),
    envelopes.map(lambda d: json.dumps(d).encode()),
)
# Within the length a command reads (longer text is refused unread: tests/integration/test_command_limits.py).
unmatched = st.builds(lambda ping, rest: f"zqxj {ping} {rest}", st.sampled_from(PINGS),
                      hostile_text.filter(lambda text: "northbeam" not in text.lower() and len(text) < 2400))


@pytest.fixture
def catalogue_and_deal(catalogue: None) -> None:
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
def test_any_command_text_over_the_wire(catalogue_and_deal: None, wire: SlackWire, slack: MockSlack, command: str,
                                        text: str) -> None:
    sent = send(wire, command, text)
    assert sent[0].status == 200
    shown = check_answer(answer(slack, sent))
    assert not unescaped_pings(shown)
    assert "something went wrong" not in shown


@pytest.mark.parametrize("command", ["/asset", "/engagement"])
@given(text=unmatched)
@OVER_THE_WIRE
def test_an_echoed_query_is_escaped(catalogue_and_deal: None, wire: SlackWire, slack: MockSlack, command: str, text: str) -> None:
    sent = send(wire, command, text)
    assert sent[0].status == 200
    shown = check_answer(answer(slack, sent))
    assert "zqxj" in shown  # the query is quoted back …
    assert not unescaped_pings(shown)  # … with its mention defused:
    if command == "/engagement":
        assert "&lt;" in shown  # escaped where it is quoted whole (/asset quotes only the words it searched for)


# ----- the HTTP edge: malformed bodies, signed and not ---------------------------------------------
def nested(depth: int, inner: str = '"x"') -> str:
    return '{"a":' * depth + inner + "}" * depth


MALFORMED: dict[str, tuple[bytes, str]] = {
    "invalid UTF-8": (b'{"type": "event_callback", "x": "\xff\xfe"}', "application/json"),
    "invalid UTF-8 in a form": (b"payload=%7B%7D&x=\xc3\x28", "application/x-www-form-urlencoded"),
    "JSON nested 5,000 deep": (nested(5_000).encode(), "application/json"),
    "JSON nested 100,000 deep": (nested(100_000).encode(), "application/json"),
    "payload nested 900 deep": (b"payload=" + quote(nested(900, '"a\\u0000b"')).encode(),
                                "application/x-www-form-urlencoded"),
    "payload that is not JSON": (b"payload=%7Bnot+json", "application/x-www-form-urlencoded"),
    "payload that is a list": (b"payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
    "payload that is a string": (b"payload=%22hello%22", "application/x-www-form-urlencoded"),
    "JSON that is a number": (b"42", "application/json"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_body_is_401_unsigned_and_400_signed_never_a_traceback(case: str, wire: SlackWire,
                                                                           slack: MockSlack) -> None:
    body, content_type = MALFORMED[case]
    with error_log() as errors:
        forged = wire.post(body, content_type=content_type, signature="v0=" + "0" * 64)
        signed = wire.post(body, content_type=content_type)
    assert (forged.status, signed.status) == (401, 400)
    assert errors.records == [], errors.describe()
    assert [c.method for c in slack.calls if c.method != "auth.test"] == [] and slack.responses == []


@given(body=st.binary(max_size=2_000), content_type=st.sampled_from(CONTENT_TYPES),
       signature=st.one_of(st.just(""), st.text(max_size=80), st.binary(max_size=40).map(lambda b: "v0=" + b.hex())))
@OVER_THE_WIRE
def test_any_body_with_a_bad_signature_is_401(wire: SlackWire, slack: MockSlack, body: bytes, content_type: str,
                                              signature: str) -> None:
    with error_log() as errors:
        # urllib sends headers as latin-1; a signature it cannot send is no test of epos
        response = wire.post(body, content_type=content_type, signature=signature.encode("latin-1", "replace")
                             .decode("latin-1").replace("\r", "").replace("\n", "") or "v0=")
    assert response.status == 401
    assert errors.records == [], errors.describe()


@given(body=st.one_of(st.binary(max_size=2_000), slack_like_bodies), content_type=st.sampled_from(CONTENT_TYPES))
@OVER_THE_WIRE
def test_any_signed_body_is_never_a_server_error(wire: SlackWire, slack: MockSlack, body: bytes,
                                                 content_type: str) -> None:
    with error_log() as errors:
        response = wire.post(body, content_type=content_type)
    assert response.status < 500
    assert errors.records == [], errors.describe()


def test_nul_characters_are_dropped_at_any_depth() -> None:
    """Socket Mode hands payloads to the middleware without the HTTP edge's depth limit."""
    from handlers.middleware import without_nul

    payload: dict[str, Any] = {}
    inner: Any = payload
    for _ in range(20_000):
        inner["a"] = {}
        inner = inner["a"]
    inner["a"] = ["a\x00b", {"c": "\x00"}]
    without_nul(payload)
    inner = payload
    for _ in range(20_001):
        inner = inner["a"]
    assert inner == ["ab", {"c": ""}]

"""The 3-second rule: with a deliberately slow Slack, every command path and the buttons ack first.

Slack waits 3 s for the HTTP answer. Each test below slows the Slack call a path makes (the mock
records a call only after its delay) and proves the ORDER: the HTTP answer has returned while the
slow call is not yet recorded, and afterwards the call does arrive, so the work still completes.
Paths are sent one after another without waiting for their slow work, as people using epos at the
same moment would, so a listener pool that slow Slack calls can fill up would show here too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest

from bot import clock
from tests.assets_helpers import import_sample
from tests.conftest import ADMIN, MANAGER, SE, SELLER, STRANGER, answer_to
from tests.devrel_helpers import LENA, load_roster
from tests.engagements_helpers import open_engagement
from tests.support.slack import Call, MockSlack
from tests.support.wire import SlackWire, WireResponse

SLOW = 3.0  # Slack's own ack deadline: a path that waited for such a call before acking would miss it.


@dataclass
class Path:
    """One request and the slow Slack call that shows its work was done (matched by `name`)."""

    kind: str  # "command", "action" or "event"
    args: dict[str, Any]
    waits_on: str  # "ack" (the answer is the HTTP answer), "response_url", "views.open", "chat.postMessage", ...

    def matches(self, call: Call, marker: str) -> bool:
        if self.waits_on == "response_url":
            return call.params.get("_name") == marker
        if self.waits_on == "views.publish":
            return call.params.get("user_id") == marker
        return call.params.get("trigger_id") == marker or call.params.get("channel") == marker


def send(wire: SlackWire, path: Path, marker: str) -> WireResponse:
    args = dict(path.args)
    if path.kind == "command":
        fields = wire.command_fields(args.pop("command"), args.pop("text"), user_id=args.pop("user_id"),
                                     response_name=marker)
        fields["trigger_id"] = marker
        return wire.post_form(fields)
    if path.kind == "action":
        return wire.block_action(args.pop("action_id"), response_name=marker, **args)
    return wire.event(args["event"])


def recorded(slack: MockSlack, path: Path, marker: str) -> list[Call]:
    if path.waits_on == "ack":
        return []  # nothing follows the answer
    with slack._lock:
        source = slack.responses if path.waits_on == "response_url" else slack.calls
        return [c for c in source if c.method == path.waits_on and path.matches(c, marker)]


def run_slowly(wire: SlackWire, slack: MockSlack, paths: dict[str, Path]) -> None:
    """Send every path with its Slack call slowed; check each acked before that call, then that it came."""
    for method in {p.waits_on for p in paths.values()} - {"ack"}:
        slack.fail(method, delay=SLOW, times=10 * len(paths))
    responses = {marker: send(wire, path, marker) for marker, path in paths.items()}
    # Every answer came back before the first slow call was done: no path (and no queue of paths
    # waiting for a free listener) held its ack behind a Slack call.
    assert {marker: r.status for marker, r in responses.items()} == {marker: 200 for marker in paths}
    unanswered = [m for m, p in paths.items() if p.waits_on == "ack" and not responses[m].message]
    assert unanswered == [], "these acks did not carry their answer"
    early = {marker: recorded(slack, path, marker) for marker, path in paths.items()}
    assert early == {marker: [] for marker in paths}, "an answer came only after a slow Slack call"
    deadline = time.monotonic() + 8 * SLOW
    waiting = {marker: path for marker, path in paths.items() if path.waits_on != "ack"}
    while waiting and time.monotonic() < deadline:
        waiting = {m: p for m, p in waiting.items() if not recorded(slack, p, m)}
        time.sleep(0.05)
    assert not waiting, f"work never completed for {sorted(waiting)}"


@pytest.fixture
def data(database_url: str) -> int:

    import_sample()
    load_roster()
    return open_engagement("Northbeam Logistics", "2026-01-05 10:00", channel_id="C0NBDEAL1")


def command(text: str, user: str = SE, *, on: str = "response_url", name: str = "/engagement") -> Path:
    return Path("command", {"command": name, "text": text, "user_id": user}, on)


def test_every_asset_command_acks_before_its_slow_slack_call(data: int, wire: SlackWire, slack: MockSlack) -> None:
    run_slowly(wire, slack, {
        "asset-empty": command("", on="ack", name="/asset"),
        "asset-help": command("help", on="ack", name="/asset"),
        "asset-search": command("demo observability", on="ack", name="/asset"),
        "asset-nothing": command("zzqx unknowable", on="ack", name="/asset"),
        "asset-drafts": command("drafts", ADMIN, on="ack", name="/asset"),
        "asset-drafts-refused": command("drafts", on="ack", name="/asset"),
        "asset-mine": command("mine", on="ack", name="/asset"),
        "asset-add": command("add", on="views.open", name="/asset"),
        "asset-add-titled": command("add Tracing in five minutes", on="views.open", name="/asset"),
    })


def test_every_engagement_command_acks_before_its_slow_slack_call(data: int, wire: SlackWire, slack: MockSlack) -> None:
    run_slowly(wire, slack, {
        "eng-empty": command(""),
        "eng-help": command("help"),
        "eng-list": command("list"),
        "eng-list-all": command("list all", MANAGER),
        "eng-list-bad": command("list everything"),
        "eng-stats": command("stats"),
        "eng-stats-weeks": command("stats --weeks 4", MANAGER),
        "eng-card": command("northbeam"),
        "eng-unknown": command("no such account"),
        "eng-stage": command("northbeam poc"),
        "eng-close-ask": command("close northbeam"),
        "eng-close-bad": command("close"),
        "eng-new": command("new", on="views.open"),
        "eng-new-named": command("new Bluefin Bank", SELLER, on="views.open"),
    })


def test_every_devrel_command_acks_before_its_slow_slack_call(data: int, wire: SlackWire, slack: MockSlack) -> None:
    run_slowly(wire, slack, {
        "devrel-help": command("help", name="/devrel"),
        "devrel-roster": command("roster", ADMIN, name="/devrel"),
        "devrel-none": command("", STRANGER, name="/devrel"),
        "devrel-form": command("", on="views.open", name="/devrel"),
        "devrel-typed": command("northbeam", on="views.open", name="/devrel"),
    })


def test_buttons_and_the_home_ack_before_their_slow_slack_call(data: int, wire: SlackWire, slack: MockSlack) -> None:
    from bot.services import assets

    asset_id = assets.search("demo observability").items[0].card.id
    run_slowly(wire, slack, {
        "vote": Path("action", {"action_id": "asset_useful", "user_id": SE, "value": str(asset_id)}, "response_url"),
        "page": Path("action", {"action_id": "asset_next_page", "user_id": SE,
                                "value": '{"q": "observability", "o": 10}'}, "response_url"),
        "C0SHARE01": Path("action", {"action_id": "asset_share", "user_id": SE, "value": str(asset_id),
                                     "channel_id": "C0SHARE01"}, "chat.postMessage"),
        "card": Path("action", {"action_id": "engagement_show_card", "user_id": SE, "value": str(data)},
                     "response_url"),
        "stale": Path("action", {"action_id": "engagement_undo", "user_id": SE, "value": "not-a-number"},
                      "response_url"),
        SELLER: Path("action", {"action_id": "home_refresh", "user_id": SELLER, "value": "0"}, "views.publish"),
        SE: Path("event", {"event": {"type": "app_home_opened", "user": SE, "channel": "D0HOME01", "tab": "home",
                                     "event_ts": "1.2"}}, "views.publish"),
    })


# ----- form submissions -----------------------------------------------------------------------------------
def submitted_before(slack: MockSlack, method: str, predicate: Any = lambda _c: True) -> list[Call]:
    with slack._lock:
        return [c for c in slack.calls if c.method == method and predicate(c)]


def test_form_submissions_answer_before_their_slow_slack_calls(data: int, wire: SlackWire, slack: MockSlack) -> None:
    from tests.assets_helpers import form_values
    from tests.engagements_helpers import new_form_values

    assert wire.command("/asset", "add", user_id=SE).status == 200
    asset_form = slack.wait_for("views.open")[-1].params["view"]
    assert wire.command("/engagement", "new", user_id=SE).status == 200
    engagement_form = slack.wait_for("views.open", count=2)[-1].params["view"]

    slack.fail("chat.postMessage", delay=SLOW, times=20)
    slack.fail("views.publish", delay=SLOW, times=20)
    asset = wire.view_submission({**asset_form, "id": "V0ASSET01"}, form_values(url="https://assets.example.com/x"),
                                 user_id=SE)
    engagement = wire.view_submission({**engagement_form, "id": "V0ENGAGE1"},
                                      new_form_values(account="Zephyr Freight"), user_id=SE)
    assert (asset.status, asset.body, engagement.status, engagement.body) == (200, b"", 200, b"")
    assert submitted_before(slack, "chat.postMessage") == [] and submitted_before(slack, "views.publish") == []
    # The confirmations still arrive: the asset's DM, the new engagement's card.
    slack.wait_for("chat.postMessage", lambda c: c.params["channel"] == SE, count=2, timeout=8 * SLOW)


def test_a_devrel_request_form_answers_before_a_slow_timezone_lookup(data: int, wire: SlackWire,
                                                                     slack: MockSlack) -> None:
    from tests.devrel_helpers import next_weekday_meeting, request_values

    # Slack could not say the requester's timezone when the form opened, nor take the form's update
    # that would have shown the team's instead: the form as submitted does not carry a timezone.
    # Who SE is was checked a moment ago, so the lookups failing below are the timezone's alone.
    answer_to(wire.command("/devrel", "help", user_id=SE, response_name="help"), slack, "help")
    slack.fail("users.info", error="user_not_found", times=1)
    slack.fail("views.update", error="not_found", times=1)
    assert wire.command("/devrel", "northbeam", user_id=SE).status == 200
    form = slack.wait_for("views.open")[-1].params["view"]
    slack.wait_for("views.update")
    slack.fail("users.info", delay=SLOW, times=5)
    submitting = time.monotonic()
    response = wire.view_submission(form, request_values(data, next_weekday_meeting(clock.now(), days_ahead=3)),
                                    user_id=SE)
    assert response.status == 200
    assert submitted_before(slack, "users.info", lambda c: "_fault" not in c.params and c.at > submitting) == []
    slack.wait_for("chat.postMessage", lambda c: c.params["channel"] == LENA, timeout=8 * SLOW)

"""The mock Slack's rate limits, which the fan-out benchmark relies on: Slack's answers when over them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from tests.support.slack import POST_BURST, TIER_PER_MINUTE, MockSlack, RateLimits


def call(slack: MockSlack, method: str, **params: str) -> tuple[int, str | None]:
    request = urllib.request.Request(slack.api_url + method, data=json.dumps(params).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, None
    except urllib.error.HTTPError as error:
        assert json.loads(error.read())["error"] == "ratelimited"
        return error.code, error.headers.get("Retry-After")


def test_posts_over_a_short_burst_in_one_channel_are_refused_with_retry_after() -> None:
    with MockSlack() as slack:
        slack.limits = RateLimits(speed=0.001)  # a clock that barely moves: no token comes back meanwhile
        answers = [call(slack, "chat.postMessage", channel="C0ONE", text="hi") for _ in range(POST_BURST + 1)]
        assert answers == [(200, None)] * POST_BURST + [(429, "1")]
        assert call(slack, "chat.postMessage", channel="C0TWO", text="hi") == (200, None)  # per channel
        assert len(slack.messages["C0ONE"]) == POST_BURST


def test_a_method_over_its_tier_per_minute_is_refused() -> None:
    with MockSlack() as slack:
        slack.limits = RateLimits(speed=0.001)
        per_minute = TIER_PER_MINUTE[4]
        answers = [call(slack, "users.info", user="U0X")[0] for _ in range(per_minute + 1)]
        assert answers.count(200) == per_minute and answers[-1] == 429
        assert call(slack, "auth.test")[0] == 200  # methods without a limit here are never refused

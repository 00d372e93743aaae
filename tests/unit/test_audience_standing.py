"""Where a Slack user stands towards our workspace, from their `users.info` record, and how long epos trusts it."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.config import load_settings
from bot.slack_people import SlackUnavailable, standing
from bot.errors import ConfigError
from bot.services.people import Standing, StandingCache, standing_of

OURS, ORG = "T0OURS001", "E0OURORG1"


def user(**fields: Any) -> dict[str, Any]:
    return {"id": "U0SOMEONE", "team_id": OURS, **fields}


@pytest.mark.parametrize(("record", "expected"), [
    (user(), Standing.member),
    (user(is_restricted=True), Standing.guest),
    (user(is_restricted=True, is_ultra_restricted=True), Standing.guest),
    (user(is_ultra_restricted=True), Standing.guest),
    (user(team_id="T0CUSTOMR"), Standing.external),
    (user(is_stranger=True), Standing.external),
    (user(team_id="T0CUSTOMR", is_restricted=True), Standing.external),
    (user(deleted=True), Standing.deactivated),
    (user(deleted=True, is_restricted=True), Standing.deactivated),
    (user(is_bot=True), Standing.bot),
    (user(is_app_user=True), Standing.bot),
    (user(is_workflow_bot=True), Standing.bot),
    ({"id": "USLACKBOT", "team_id": OURS}, Standing.bot),
    ({"id": "U0NOTEAM1"}, Standing.external),
])
def test_standing_of_a_user_record(record: dict[str, Any], expected: Standing) -> None:
    assert standing_of(record, team_id=OURS, enterprise_id=None) is expected


def test_on_enterprise_grid_a_member_of_another_workspace_of_our_org_is_a_member() -> None:
    sister = user(team_id="T0SISTER1", enterprise_user={"enterprise_id": ORG})
    assert standing_of(sister, team_id=OURS, enterprise_id=ORG) is Standing.member
    assert standing_of(sister, team_id=OURS, enterprise_id=None) is Standing.external
    foreign = user(team_id="T0FOREIGN", enterprise_user={"enterprise_id": "E0THEIRS1"})
    assert standing_of(foreign, team_id=OURS, enterprise_id=ORG) is Standing.external
    guest = user(team_id="T0SISTER1", enterprise_user={"enterprise_id": ORG}, is_restricted=True)
    assert standing_of(guest, team_id=OURS, enterprise_id=ORG) is Standing.guest


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_standing_is_fresh_for_five_minutes_and_usable_for_an_hour_when_slack_fails() -> None:
    ticks = Ticks()
    cache = StandingCache(monotonic=ticks)
    assert cache.fresh("U0A") is None and cache.stale("U0A") is None
    cache.remember("U0A", Standing.member)
    ticks.now += StandingCache.FRESH
    assert cache.fresh("U0A") is Standing.member
    ticks.now += 1
    assert cache.fresh("U0A") is None
    assert cache.stale("U0A") is Standing.member
    ticks.now = 1000.0 + StandingCache.USABLE_WHEN_SLACK_FAILS + 1
    assert cache.stale("U0A") is None


def test_readers_take_user_ids_and_user_groups() -> None:
    settings = load_settings(_env_file=None, epos_readers="U0READER1, S0READERS;W0GRID001")
    assert settings.epos_readers == ["U0READER1", "S0READERS", "W0GRID001"]
    assert settings.reader_groups == ["S0READERS"]
    with pytest.raises(ConfigError, match="EPOS_READERS: 'C0CHANNEL' is not a Slack user id"):
        load_settings(_env_file=None, epos_readers="C0CHANNEL")


class FlakySlack:
    """Stands in for the WebClient: answers `users.info` with a record, or fails as told."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record, self.error, self.calls = record, "", 0

    def users_info(self, user: str) -> dict[str, Any]:
        self.calls += 1
        if self.error == "unreachable":
            raise OSError("connection refused")
        if self.error:
            raise SlackApiError(self.error, SlackResponse(
                client=None, http_verb="POST", api_url="users.info", req_args={},
                data={"ok": False, "error": self.error}, headers={}, status_code=200))
        return {"ok": True, "user": self.record}


@pytest.mark.parametrize("failure", ["ratelimited", "fatal_error", "unreachable"])
def test_when_slack_fails_a_recent_member_goes_on_and_nobody_new_gets_in(failure: str) -> None:
    ticks = Ticks()
    cache = StandingCache(monotonic=ticks)
    slack = FlakySlack(user())
    assert standing(slack, cache, "U0A", team_id=OURS, enterprise_id=None) is Standing.member  # type: ignore[arg-type]
    slack.error = failure
    ticks.now += StandingCache.FRESH + 1
    assert standing(slack, cache, "U0A", team_id=OURS, enterprise_id=None) is Standing.member  # type: ignore[arg-type]
    with pytest.raises(SlackUnavailable):
        standing(slack, cache, "U0B", team_id=OURS, enterprise_id=None)  # type: ignore[arg-type]
    ticks.now += StandingCache.USABLE_WHEN_SLACK_FAILS
    with pytest.raises(SlackUnavailable):
        standing(slack, cache, "U0A", team_id=OURS, enterprise_id=None)  # type: ignore[arg-type]


def test_someone_slack_does_not_show_us_is_unknown_and_that_is_remembered() -> None:
    cache = StandingCache(monotonic=Ticks())
    slack = FlakySlack(user())
    slack.error = "user_not_found"
    assert standing(slack, cache, "U0A", team_id=OURS, enterprise_id=None) is Standing.unknown  # type: ignore[arg-type]
    assert standing(slack, cache, "U0A", team_id=OURS, enterprise_id=None) is Standing.unknown  # type: ignore[arg-type]
    assert slack.calls == 1


def test_someone_slack_will_not_show_is_asked_about_again_only_after_an_hour(settings, slack) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from bot import clock, slack_people
    from bot.app import make_client

    slack.unnamed_users_are_members = False
    client = make_client(settings)
    for _ in range(5):  # five scheduler ticks, a minute apart
        assert slack_people.person(client, "U0LEFTUS1").timezone == ""
        clock.advance(timedelta(minutes=1))
    assert len([c for c in slack.calls_to("users.info") if c.params.get("user") == "U0LEFTUS1"]) == 1
    clock.advance(slack_people.NOT_ASKED_AGAIN_FOR)
    slack_people.person(client, "U0LEFTUS1")
    assert len([c for c in slack.calls_to("users.info") if c.params.get("user") == "U0LEFTUS1"]) == 2


def test_a_passing_fault_is_not_kept(settings, slack) -> None:  # type: ignore[no-untyped-def]
    from bot import slack_people
    from bot.app import make_client

    slack.add_user("U0LATER01", name="Later", tz="Asia/Tokyo")
    slack.fail("users.info", error="fatal_error")
    client = make_client(settings)
    assert slack_people.person(client, "U0LATER01").timezone == ""
    assert slack_people.person(client, "U0LATER01").timezone == "Asia/Tokyo"


def test_a_reader_group_slack_will_not_give_is_not_asked_for_at_every_request(settings, slack) -> None:  # type: ignore[no-untyped-def]
    from bot import slack_people
    from bot.app import make_client
    from bot.services import people

    people.forget_groups()
    slack.fail("usergroups.users.list", error="fatal_error")
    client = make_client(settings)
    for _ in range(5):
        slack_people.refresh_group(client, "S0READERS")
    assert len([c for c in slack.calls_to("usergroups.users.list")]) == 1
    assert people.group_members("S0READERS") == frozenset()
    people.forget_groups()


def test_an_old_copy_of_a_reader_group_answers_at_once_while_it_is_read_again(settings, slack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import time

    from bot import slack_people
    from bot.app import make_client
    from bot.services import people

    people.forget_groups()
    slack.add_user_group("S0READERS", ["U0READER1"])
    client = make_client(settings)
    slack_people.refresh_group(client, "S0READERS")
    assert people.group_members("S0READERS") == {"U0READER1"}
    monkeypatch.setattr(people, "GROUPS_FRESH", 0.0)
    slack.add_user_group("S0READERS", ["U0READER1", "U0READER2"])
    slack.fail("usergroups.users.list", delay=2.0)
    started = time.monotonic()
    slack_people.refresh_group(client, "S0READERS")
    assert time.monotonic() - started < 1.0, "a request waited on the group's read"
    assert people.group_members("S0READERS") == {"U0READER1"}
    slack.wait_for("usergroups.users.list", count=2, timeout=10)
    deadline = time.monotonic() + 5
    while people.group_members("S0READERS") != {"U0READER1", "U0READER2"} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert people.group_members("S0READERS") == {"U0READER1", "U0READER2"}
    people.forget_groups()

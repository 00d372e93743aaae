"""Who is asking: only full members of our workspace use epos, and only the presales team reads engagements.

Over signed HTTP against the mock Slack. A guest, a user of another organisation (Slack Connect), a
deactivated account and a bot each try the commands, a button and a form: they get one neutral answer,
and the database and the Web API calls show that nothing else happened.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select

import models
from bot import db
from bot.app import create_app
from bot.blocks import access
from bot.config import Settings
from bot.services import people, roster
from bot.services import engagements as engagement_service
from bot.services.actors import Actor
from bot.tryout.personas import PERSONAS
from bot.web import SLACK_PATH, EposWSGI
from tests.assets_helpers import import_sample
from tests.conftest import ADMIN, SE, SELLER, SIGNING_SECRET, STRANGER, answer_to
from tests.devrel_helpers import LENA, load_roster
from tests.engagements_helpers import new_form_values, open_engagement
from tests.support.slack import APP_ID, MockSlack
from tests.support.wire import LoopbackServer, SlackWire

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GUEST = "U0GUEST01"
SINGLE_CHANNEL_GUEST = "U0GUEST02"
CONNECT_USER = "U0CONNECT"
DEACTIVATED = "U0GONE001"
BOT = "U0ABOT001"
READER = "U0READER1"
GROUP_READER = "U0GREADER"
READER_GROUP = "S0READERS"
OUTSIDERS = {
    "guest": GUEST,
    "single-channel guest": SINGLE_CHANNEL_GUEST,
    "Slack Connect user": CONNECT_USER,
    "deactivated": DEACTIVATED,
    "bot": BOT,
}
PRESALES_REFUSAL = "Engagements are for the presales team"


@pytest.fixture
def slack(slack: MockSlack) -> MockSlack:
    slack.add_user(GUEST, name="Gus Partner", restricted=True)
    slack.add_user(SINGLE_CHANNEL_GUEST, name="Gwen Agency", ultra_restricted=True)
    slack.add_user(CONNECT_USER, name="Chris Customer", team_id="T0CUSTOMR")
    slack.add_user(DEACTIVATED, name="Dee Parted", deleted=True)
    slack.add_user(BOT, name="Some Bot", bot=True)
    slack.add_user(READER, name="Rita Reader")
    slack.add_user(GROUP_READER, name="Greg Groupie")
    slack.add_user_group(READER_GROUP, [GROUP_READER])
    return slack


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"epos_readers": [READER, READER_GROUP]})


@pytest.fixture(autouse=True)
def _fresh_groups() -> Iterator[None]:
    people.forget_groups()
    yield
    people.forget_groups()


@pytest.fixture
def northbeam(database_url: str) -> int:
    import_sample()
    return open_engagement("Northbeam Logistics", "2026-01-05 10:00", channel_id="C0NBDEAL1")


def row_counts() -> dict[str, int]:
    with db.reading() as session:
        return {table.name: session.scalar(select(func.count()).select_from(table)) or 0
                for table in models.Base.metadata.sorted_tables}


def settle() -> None:
    """Refusals to buttons go out after the ack; give them (and anything that should not happen) time."""
    time.sleep(0.5)


# ----- outsiders: one neutral answer, nothing else ---------------------------------------------------------
@pytest.mark.parametrize("who", list(OUTSIDERS))
def test_an_outsider_gets_the_neutral_answer_to_every_command_and_nothing_happens(
    who: str, northbeam: int, wire: SlackWire, slack: MockSlack
) -> None:
    user_id = OUTSIDERS[who]
    before = row_counts()
    for command, text in (("/engagement", "Northbeam Logistics"), ("/engagement", "stats"), ("/asset", "demo"),
                          ("/engagement", "northbeam poc"), ("/devrel", "northbeam"), ("/asset", "add")):
        response = wire.command(command, text, user_id=user_id)
        assert response.status == 200
        assert response.message == {"response_type": "ephemeral", "text": access.NOT_AVAILABLE}, (command, text)
    settle()
    assert row_counts() == before
    # Looked up once (then cached), and nothing else: no form opened, nothing posted.
    assert {c.method for c in slack.calls} <= {"auth.test", "users.info"}
    assert [c.params["user"] for c in slack.calls_to("users.info")] == [user_id]
    assert slack.responses == []


@pytest.mark.parametrize("who", list(OUTSIDERS))
def test_an_outsider_pressing_a_button_on_a_card_they_were_shown_changes_nothing(
    who: str, northbeam: int, wire: SlackWire, slack: MockSlack
) -> None:
    user_id = OUTSIDERS[who]
    before = row_counts()
    for name, action_id in (("card", "engagement_show_card"), ("stage", "engagement_change_stage"),
                            ("close", "engagement_close_open"), ("share", "asset_share")):
        assert wire.block_action(action_id, user_id=user_id, value=str(northbeam), channel_id="C0NBDEAL1",
                                 response_name=name).status == 200
        told = slack.wait_for("response_url", lambda c, n=name: c.params["_name"] == n)[0].params
        assert told["text"] == access.NOT_AVAILABLE and told["response_type"] == "ephemeral"
    settle()
    assert row_counts() == before
    assert {c.method for c in slack.calls} <= {"auth.test", "users.info"}
    assert len(slack.responses) == 4


@pytest.mark.parametrize("who", list(OUTSIDERS))
def test_an_outsider_submitting_a_form_gets_the_neutral_answer_on_it_and_nothing_is_saved(
    who: str, northbeam: int, wire: SlackWire, slack: MockSlack
) -> None:
    assert wire.command("/engagement", "new", user_id=SE).status == 200
    form = slack.wait_for("views.open")[-1].params["view"]
    slack.clear()
    before = row_counts()
    response = wire.view_submission({**form, "id": "V0OUTSIDE"}, new_form_values(account="Zephyr Freight"),
                                    user_id=OUTSIDERS[who])
    assert response.status == 200
    assert response.json["response_action"] == "update"
    assert access.NOT_AVAILABLE in str(response.json["view"]["blocks"])
    assert "Zephyr" not in response.body.decode()
    settle()
    assert row_counts() == before
    assert {c.method for c in slack.calls} <= {"auth.test", "users.info"}
    assert slack.responses == []


@pytest.mark.parametrize("who", ["guest", "Slack Connect user"])
def test_an_outsider_opening_the_app_home_sees_only_the_neutral_answer(
    who: str, northbeam: int, wire: SlackWire, slack: MockSlack
) -> None:
    before = row_counts()
    user_id = OUTSIDERS[who]
    assert wire.event({"type": "app_home_opened", "user": user_id, "tab": "home", "channel": "D0HOME01"}).status == 200
    published = slack.wait_for("views.publish")[0].params
    assert published["user_id"] == user_id
    assert published["view"] == access.home(access.NOT_AVAILABLE)
    settle()
    assert row_counts() == before
    assert {c.method for c in slack.calls} <= {"auth.test", "users.info", "views.publish"}


def test_an_outsider_sharing_a_link_or_using_a_shortcut_gets_nothing_but_the_neutral_answer(
    northbeam: int, wire: SlackWire, slack: MockSlack
) -> None:
    before = row_counts()
    link = {"type": "link_shared", "user": GUEST, "channel": "C0NBDEAL1", "message_ts": "1.2",
            "links": [{"domain": "assets.example.com", "url": "https://assets.example.com/demos/o11y-15"}]}
    assert wire.event(link).status == 200
    shortcut = {"type": "shortcut", "callback_id": "epos_anything", "trigger_id": wire.next_trigger_id(),
                "team": {"id": wire.team_id}, "user": {"id": GUEST, "team_id": wire.team_id}, "api_app_id": APP_ID,
                "token": "legacy-unused", "action_ts": "1.3"}
    assert wire.post_payload(shortcut).status == 200
    opened = slack.wait_for("views.open")[0].params["view"]
    assert opened == access.modal(access.NOT_AVAILABLE)
    settle()
    assert row_counts() == before
    assert {c.method for c in slack.calls} <= {"auth.test", "users.info", "views.open"}
    assert slack.responses == []


def test_someone_slack_does_not_know_is_turned_away(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    slack.unnamed_users_are_members = False
    response = wire.command("/asset", "demo", user_id="U0NOBODY1")
    assert response.message == {"response_type": "ephemeral", "text": access.NOT_AVAILABLE}


def test_a_member_of_another_workspace_of_our_enterprise_grid_org_is_one_of_us(
    settings: Settings, slack: MockSlack
) -> None:
    import_sample()
    slack.enterprise_id = "E0OURORG1"  # before the App starts: it learns its org from auth.test
    slack.add_user("U0SISTER1", team_id="T0SISTER1", enterprise_id="E0OURORG1")
    slack.add_user("U0FOREIGN", team_id="T0FOREIGN", enterprise_id="E0THEIRS1")
    server = LoopbackServer(EposWSGI(create_app(settings))).start()
    try:
        grid_wire = SlackWire(server.url + SLACK_PATH, SIGNING_SECRET, response_url_base=slack.base_url)
        answer = answer_to(grid_wire.command("/asset", "demo observability", user_id="U0SISTER1"), slack)
        assert "Observability in 15 minutes" in str(answer.params)
        refused = grid_wire.command("/asset", "demo observability", user_id="U0FOREIGN")
        assert refused.message == {"response_type": "ephemeral", "text": access.NOT_AVAILABLE}
    finally:
        server.stop()


# ----- when Slack cannot say who is asking --------------------------------------------------------------------
def test_when_slack_cannot_say_who_is_asking_nobody_new_is_let_in(northbeam: int, wire: SlackWire,
                                                                   slack: MockSlack) -> None:
    before = row_counts()
    slack.fail("users.info", status=500, times=1)
    response = wire.command("/engagement", "Northbeam Logistics", user_id=SE)
    assert response.message == {"response_type": "ephemeral", "text": access.CANNOT_CHECK}
    settle()
    assert row_counts() == before
    # Once Slack answers again, the same person is served.
    answer = answer_to(wire.command("/engagement", "Northbeam Logistics", user_id=SE, response_name="again"),
                       slack, "again")
    assert "Northbeam Logistics" in str(answer.params)


def test_a_home_opened_while_slack_cannot_say_who_is_asking_is_left_as_it_was(
    northbeam: int, wire: SlackWire, slack: MockSlack
) -> None:
    slack.fail("users.info", status=500, times=1)
    assert wire.event({"type": "app_home_opened", "user": SE, "tab": "home", "channel": "D0HOME01"}).status == 200
    settle()
    assert slack.calls_to("views.publish") == []


def test_who_is_asking_is_looked_up_once_and_then_kept(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    answer_to(wire.command("/asset", "demo", user_id=SE), slack)
    # The standing is fresh for minutes, so a second request does not ask Slack at all (what happens when
    # Slack fails later is in tests/unit/test_audience_standing.py).
    answer_to(wire.command("/asset", "demo", user_id=SE, response_name="second"), slack, "second")
    assert len(slack.calls_to("users.info")) == 1


# ----- members: reading engagements is for the presales team ------------------------------------------------------
def test_a_member_outside_presales_cannot_read_a_card_and_is_told_whom_to_ask(
    northbeam: int, wire: SlackWire, slack: MockSlack
) -> None:
    answer = answer_to(wire.command("/engagement", "Northbeam Logistics", user_id=STRANGER), slack).params
    assert answer["text"].startswith(PRESALES_REFUSAL)
    assert f"<@{ADMIN}>" in answer["text"]
    assert "Northbeam" not in str(answer)
    for text, name in (("stats", "stats"), ("list", "list"), ("northbeam", "typo")):
        told = answer_to(wire.command("/engagement", text, user_id=STRANGER, response_name=name), slack, name)
        assert told.params["text"].startswith(PRESALES_REFUSAL) and "Northbeam" not in str(told.params)
    wire.block_action("engagement_show_card", user_id=STRANGER, value=str(northbeam), response_name="button")
    told = slack.wait_for("response_url", lambda c: c.params["_name"] == "button")[0].params
    assert told["text"].startswith(PRESALES_REFUSAL)


def test_a_member_outside_presales_still_searches_assets(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    answer = answer_to(wire.command("/asset", "demo observability", user_id=STRANGER), slack)
    assert "Observability in 15 minutes" in str(answer.params)


def test_a_member_outside_presales_sees_no_figures_on_the_app_home(northbeam: int, wire: SlackWire,
                                                                     slack: MockSlack) -> None:
    wire.event({"type": "app_home_opened", "user": STRANGER, "tab": "home", "channel": "D0HOME01"})
    home = str(slack.wait_for("views.publish")[0].params["view"])
    assert PRESALES_REFUSAL in home and "MTTC" not in home


@pytest.mark.parametrize("who", [SELLER, LENA, READER, GROUP_READER], ids=["seller", "devrel", "reader", "group"])
def test_the_seller_devrel_on_the_roster_and_readers_read_the_card(
    who: str, northbeam: int, wire: SlackWire, slack: MockSlack
) -> None:
    load_roster()
    answer = answer_to(wire.command("/engagement", "Northbeam Logistics", user_id=who), slack)
    assert "Northbeam Logistics" in str(answer.params)
    assert PRESALES_REFUSAL not in str(answer.params)


def test_a_devrel_taken_off_the_roster_no_longer_reads_cards(northbeam: int, wire: SlackWire, slack: MockSlack) -> None:
    load_roster()
    roster.set_active(Actor(user_id=ADMIN, admin=True), LENA, False)
    answer = answer_to(wire.command("/engagement", "Northbeam Logistics", user_id=LENA), slack)
    assert answer.params["text"].startswith(PRESALES_REFUSAL)


# ----- the answer to a stranger names nothing -----------------------------------------------------------------
def _sample_names() -> list[str]:
    accounts = [e["account"] for e in yaml.safe_load((EXAMPLES / "engagements.yaml").read_text(encoding="utf-8"))]
    titles = [a["title"] for a in yaml.safe_load((EXAMPLES / "assets.yaml").read_text(encoding="utf-8"))]
    devrel = [p["name"] for p in yaml.safe_load((EXAMPLES / "roster.yaml").read_text(encoding="utf-8"))]
    return accounts + titles + devrel + [p.name for p in PERSONAS]


SAMPLE_NAMES = _sample_names()
FIRST_WORDS = sorted({name.split()[0] for name in SAMPLE_NAMES if len(name.split()[0]) >= 4})


@pytest.fixture
def sample_data(database_url: str) -> None:
    import_sample()
    roster.import_roster(roster.read_roster_file(EXAMPLES / "roster.yaml"))
    engagement_service.import_records(
        engagement_service.parse_import((EXAMPLES / "engagements.yaml").read_text(encoding="utf-8"), "yaml"))


def _mentions_a_name(text: str) -> list[str]:
    lowered = text.casefold()
    return [name for name in SAMPLE_NAMES + FIRST_WORDS if name.casefold() in lowered]


@hypothesis_settings(max_examples=25, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(who=st.sampled_from([GUEST, CONNECT_USER, DEACTIVATED, BOT]),
       command=st.sampled_from(["/engagement", "/asset", "/devrel"]),
       words=st.lists(st.sampled_from(FIRST_WORDS + ["poc", "stats", "list", "close", "won", "demo", "help"]),
                      min_size=0, max_size=3))
def test_the_answer_to_a_stranger_never_names_an_account_asset_or_person(
    sample_data: None, wire: SlackWire, slack: MockSlack, who: str, command: str, words: list[str]
) -> None:
    response = wire.command(command, " ".join(words), user_id=who)
    assert response.status == 200
    assert response.message is not None
    assert _mentions_a_name(response.body.decode()) == []


@hypothesis_settings(max_examples=25, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(words=st.lists(st.sampled_from(FIRST_WORDS + ["poc", "stats", "list", "close", "won", "disco", "all"]),
                      min_size=1, max_size=3))
@example(words=["close"])
def test_the_refusal_to_a_member_outside_presales_never_names_an_account(
    sample_data: None, wire: SlackWire, slack: MockSlack, words: list[str]
) -> None:
    slack.clear()
    wire.command("/engagement", " ".join(words), user_id=STRANGER, response_name="property")
    told = slack.wait_for("response_url", lambda c: c.params["_name"] == "property")[0].params
    assert told["text"].startswith(PRESALES_REFUSAL) or "/engagement" in told["text"]
    accounts = [e["account"] for e in yaml.safe_load((EXAMPLES / "engagements.yaml").read_text(encoding="utf-8"))]
    assert [a for a in accounts if a.split()[0].casefold() in str(told).casefold()] == []


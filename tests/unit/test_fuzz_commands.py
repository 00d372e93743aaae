"""Any text typed after `/asset`, `/engagement` and `/devrel`, and any value on a button: never an
unexpected error, never a ping taken from the text, and every message or form sent within Slack's limits.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from slack_bolt import App

from bot.config import Settings
from bot.errors import InvalidInput
from bot.ids import AssetIds, DevRelIds, EngagementIds, HomeIds, NudgeIds
from bot.services import engagements
from handlers.engagements.commands import parse_weeks
from handlers.errors import APOLOGY
from tests.assets_helpers import import_sample
from tests.conftest import ADMIN, MANAGER, SE, SELLER, STRANGER
from tests.devrel_helpers import load_roster
from tests.engagements_helpers import open_engagement
from tests.reliability_helpers import NASTY, action, check_sent, command, error_log, hostile_text, sent_texts, sync_app
from tests.support.slack import MockSlack

FUZZ = hypothesis_settings(max_examples=60, deadline=None,
                           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
APOLOGY_START = APOLOGY.split("{", 1)[0][:40]
PEOPLE = st.sampled_from([SE, SELLER, ADMIN, MANAGER, STRANGER])


@pytest.fixture
def app(settings: Settings) -> Iterator[App]:

    import_sample()
    load_roster()
    open_engagement("Northbeam Logistics", "2026-01-05 10:00", channel_id="C0NBDEAL1")
    open_engagement("Acme Corp", "2026-01-06 10:00", owner=SELLER, seller=SE)
    yield sync_app(settings)


def run_command(app: App, slack: MockSlack, name: str, text: str, user_id: str) -> None:
    with error_log() as errors:
        outcome = command(app, slack, name, text, user_id=user_id)
    assert not errors.records, errors.describe()
    assert APOLOGY_START not in sent_texts(outcome)
    check_sent(outcome)
    # Something always answers the person: a reply, a form, or a card.
    assert outcome.replies or any(c.method.startswith(("views.", "chat.")) for c in outcome.calls), text


@given(text=st.one_of(hostile_text, st.sampled_from(NASTY)), user_id=PEOPLE)
@FUZZ
def test_any_asset_command(app: App, slack: MockSlack, text: str, user_id: str) -> None:
    run_command(app, slack, "/asset", text, user_id)


@given(text=st.one_of(hostile_text, st.sampled_from(NASTY)), user_id=PEOPLE)
@FUZZ
def test_any_engagement_command(app: App, slack: MockSlack, text: str, user_id: str) -> None:
    run_command(app, slack, "/engagement", text, user_id)


@given(text=st.one_of(hostile_text, st.sampled_from(NASTY)), user_id=PEOPLE)
@FUZZ
def test_any_devrel_command(app: App, slack: MockSlack, text: str, user_id: str) -> None:
    run_command(app, slack, "/devrel", text, user_id)


@given(words=st.lists(st.sampled_from(NASTY), min_size=1, max_size=6), verb=st.sampled_from(
    ["", "close ", "list ", "stats ", "new ", "stats mine ", "help "]))
@FUZZ
def test_engagement_grammar_words_in_any_order(app: App, slack: MockSlack, words: list[str], verb: str) -> None:
    run_command(app, slack, "/engagement", verb + " ".join(words), SE)


# ----- buttons: values are ours, but a forged or stale one must still get a plain answer -------------------
BUTTONS = [AssetIds.share, AssetIds.useful, AssetIds.not_useful, AssetIds.edit, AssetIds.publish, AssetIds.archive,
           AssetIds.restore, AssetIds.next_page, AssetIds.previous_page, AssetIds.rerun, EngagementIds.change_stage,
           EngagementIds.close, EngagementIds.add_note, EngagementIds.reopen, EngagementIds.show_card,
           EngagementIds.confirm_change, EngagementIds.confirm_close, EngagementIds.undo, EngagementIds.list_page,
           f"{EngagementIds.esat_score}:5", f"{EngagementIds.esat_score}:²", EngagementIds.esat_comment,
           DevRelIds.accept, DevRelIds.decline, DevRelIds.take, DevRelIds.cancel, DevRelIds.roster_edit,
           DevRelIds.roster_deactivate, DevRelIds.roster_reactivate, HomeIds.next_page, HomeIds.previous_page,
           NudgeIds.snooze, NudgeIds.undo_snooze]
BUTTON_VALUES = st.one_of(
    st.sampled_from(["", "0", "-1", "1", "2", "1:1", "1:x", "²", "١", "9" * 30, "9" * 5000, "1e3", " 1", "1.5",
                     '{"e": 1, "s": "poc"}', '{"e": "x"}', '{"e": 99999999999999999999, "o": "won"}', "[]", "null",
                     '{"q": "demo", "o": -5}', '{"q": 1, "o": "x"}', '{"scope": "all", "page": "²"}',
                     '{"scope": "all", "page": 99999999999}', SE]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    hostile_text,
)


@given(action_id=st.sampled_from(BUTTONS), value=BUTTON_VALUES, user_id=PEOPLE)
@hypothesis_settings(max_examples=100, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_any_button_value(app: App, slack: MockSlack, action_id: str, value: str, user_id: str) -> None:
    with error_log() as errors:
        outcome = action(app, slack, str(action_id), value, user_id=user_id)
    assert not errors.records, f"{action_id}={value[:80]!r}\n{errors.describe()}"
    assert APOLOGY_START not in sent_texts(outcome)
    check_sent(outcome)


# ----- the parsers on their own, with many more examples -------------------------------------------------
@given(st.one_of(hostile_text, st.sampled_from(NASTY)))
@hypothesis_settings(max_examples=300, deadline=None)
def test_the_weeks_and_close_parsers_take_any_text(text: str) -> None:
    try:
        assert 1 <= parse_weeks(text) <= 104
    except InvalidInput as refused:
        assert "/engagement stats" in str(refused)
    account, outcome, note = engagements.split_close(text)
    assert outcome is None or account

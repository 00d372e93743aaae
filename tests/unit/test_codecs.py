"""Button values and form metadata: what epos writes today is byte for byte what it wrote before (messages
already in Slack keep their buttons), the values already posted still read, and a mangled or forged one is
the stale-button error, never a crash."""

from __future__ import annotations

import pytest

from bot.codecs import (
    ASSET_STALE,
    DEVREL_STALE,
    ENGAGEMENT_FORM_GONE,
    ENGAGEMENT_STALE,
    NUDGE_STALE,
    AssetButton,
    AssetForm,
    AssetPage,
    ChangeButton,
    CloseChoice,
    DeclineForm,
    EngagementButton,
    EngagementForm,
    HomePage,
    ListPage,
    NudgeButton,
    RequestButton,
    RequestForm,
    RosterForm,
    StageChoice,
    SurveyButton,
    SurveyForm,
)
from bot.errors import InvalidInput
from models.enums import Outcome, Stage

# As the blocks wrote them before the codecs existed.
POSTED = [
    (StageChoice(engagement_id=42, stage=Stage.demo, note="went well"), '{"e":42,"s":"demo","n":"went well"}'),
    (CloseChoice(engagement_id=42, outcome=Outcome.no_decision, note=""), '{"e":42,"o":"no_decision","n":""}'),
    (ListPage(scope="all", page=3), '{"scope":"all","page":3}'),
    (EngagementForm(engagement_id=42, timezone="Europe/Berlin", response_url="https://hooks.slack.com/x"),
     '{"e":42,"tz":"Europe/Berlin","r":"https://hooks.slack.com/x"}'),
    (EngagementForm(engagement_id=42), '{"e":42}'),
    (EngagementForm(timezone="Asia/Tokyo"), '{"tz":"Asia/Tokyo"}'),
    (SurveyForm(survey_id=9, response_url=None), '{"s":9}'),
    (RequestButton(request_id=42, version=3), "42:3"),
    (RequestButton(request_id=42), "42"),
    (RequestForm(timezone=None), '{"tz":null}'),
    (DeclineForm(request_id=42, version=3), '{"request_id":42,"version":3}'),
    (RosterForm(mode="add", response_url=None), '{"mode":"add","response_url":null}'),
    (RosterForm(mode="edit", slack_id="U0LENA001", response_url="https://hooks.slack.com/y"),
     '{"mode":"edit","slack_id":"U0LENA001","response_url":"https://hooks.slack.com/y"}'),
    (AssetPage(query="demo observability", offset=10), '{"q":"demo observability","o":10}'),
    (AssetForm(asset_id=7), '{"asset_id": 7}'),
    (AssetForm(), ""),
    (AssetButton(id=7), "7"),
    (EngagementButton(id=42), "42"),
    (ChangeButton(id=5), "5"),
    (SurveyButton(id=9), "9"),
    (HomePage(page=2), "2"),
    (NudgeButton(id=42), "42"),
]


@pytest.mark.parametrize(("codec", "posted"), POSTED, ids=[type(c).__name__ for c, _ in POSTED])
def test_values_are_written_as_before_and_read_back(codec, posted: str) -> None:
    assert codec.encode() == posted
    assert type(codec).decode(posted) == codec


def test_values_posted_with_other_spacing_or_a_suffix_still_read() -> None:
    assert StageChoice.decode('{"e": 42, "s": "poc", "n": "x"}') == StageChoice(engagement_id=42, stage=Stage.poc, note="x")
    assert DeclineForm.decode('{"request_id": "42", "version": "3"}') == DeclineForm(request_id=42, version=3)
    assert EngagementButton.decode("42:home") == EngagementButton(id=42)


@pytest.mark.parametrize(("codec", "message"), [
    (EngagementButton, ENGAGEMENT_STALE), (ChangeButton, ENGAGEMENT_STALE), (SurveyButton, ENGAGEMENT_STALE),
    (StageChoice, ENGAGEMENT_STALE), (CloseChoice, ENGAGEMENT_STALE), (SurveyForm, ENGAGEMENT_STALE),
    (RequestButton, DEVREL_STALE), (DeclineForm, DEVREL_STALE), (AssetButton, ASSET_STALE), (NudgeButton, NUDGE_STALE),
])
@pytest.mark.parametrize("mangled", ["", "abc", "0", "-1", "2147483648", "²", '{"e":"x"}', "[1,2]", '{"e":0,"s":"poc"}',
                                     '{"e":42,"s":"not-a-stage"}', '{"request_id":1e99,"version":1}'])
def test_a_mangled_value_is_the_stale_button_error(codec, message: str, mangled: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        codec.decode(mangled)
    assert str(refused.value) == message


def test_paging_and_form_values_that_are_mangled_start_over_or_say_the_form_is_gone() -> None:
    assert ListPage.decode("not json") == ListPage(scope="mine", page=0)
    assert AssetPage.decode('{"q": 1}') == AssetPage(query="", offset=0)
    assert HomePage.decode("9999999") == HomePage(page=0)
    assert AssetForm.decode('{"asset_id": 2147483648}') == AssetForm()
    assert RequestForm.decode("[") == RequestForm()
    with pytest.raises(InvalidInput, match=ENGAGEMENT_FORM_GONE.split(".")[0]):
        EngagementForm.decode('{"e": true, "tz": "Europe/Berlin"}').engagement()

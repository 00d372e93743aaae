"""`/engagement` over signed HTTP: one answer per situation, whatever the verb, and every example the README
and `/engagement help` show works on the sample data as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.blocks.engagement_help import HELP_COMMANDS
from bot.codecs import CloseChoice, EngagementButton, StageChoice
from bot.services import engagements
from models.enums import Outcome, Stage
from tests.conftest import MANAGER, SE
from tests.engagements_helpers import button, buttons_in, close, open_engagement
from tests.integration.test_engagements_commands import current_stage, reply, stages_logged, valid_blocks
from tests.support.slack import MockSlack
from tests.support.text import all_text
from tests.support.wire import SlackWire

ROOT = Path(__file__).resolve().parents[2]
CLOSED_NORTHBEAM = ("Northbeam Logistics (Northbeam Logistics platform) is already closed (won, 2 Oct 2026). "
                    "Reopen it to change its stage or outcome.")


@pytest.fixture
def closed_northbeam(database_url: str) -> int:
    northbeam = open_engagement("Northbeam Logistics", "2026-09-01 09:00")
    close(northbeam, Outcome.won, "2026-10-02 16:45")
    return northbeam


# ----- a closed deal says so and offers Reopen, whatever was asked ---------------------------------------------------
@pytest.mark.parametrize("text", [
    "northbeam poc",
    "Northbeam Logistics tech qa SSO questions",
    "northbeam won",
    "close northbeam won",
    "close northbeam",
])
def test_a_closed_engagement_says_it_is_closed_and_offers_reopen(
    closed_northbeam: int, wire: SlackWire, slack: MockSlack, text: str
) -> None:
    wire.command("/engagement", text, user_id=SE)

    answer = reply(slack)
    assert answer.params["text"] == CLOSED_NORTHBEAM
    assert [b["text"]["text"] for b in buttons_in(valid_blocks(answer.params["blocks"]))] == ["Reopen", "View card"]
    assert stages_logged(closed_northbeam)[-1] == "closed"
    reopen = button(answer.params["blocks"], "engagement_reopen")
    wire.block_action(reopen["action_id"], user_id=SE, value=reopen["value"], response_name="reopen")
    assert "Reopened" in reply(slack, "reopen").params["text"]
    assert current_stage(closed_northbeam) == "preparation"


def _buttons_on(engagement_id: int) -> list[tuple[str, str]]:
    return [
        ("engagement_change_stage", EngagementButton(id=engagement_id).encode()),
        ("engagement_close_open", EngagementButton(id=engagement_id).encode()),
        ("engagement_confirm_change", StageChoice(engagement_id=engagement_id, stage=Stage.poc, note="").encode()),
        ("engagement_confirm_close", CloseChoice(engagement_id=engagement_id, outcome=Outcome.lost, note="").encode()),
    ]


@pytest.mark.parametrize("which", range(4))
def test_a_button_of_an_older_message_gets_the_same_answer_once_the_deal_is_closed(
    closed_northbeam: int, wire: SlackWire, slack: MockSlack, which: int
) -> None:
    action_id, value = _buttons_on(closed_northbeam)[which]

    wire.block_action(action_id, user_id=SE, value=value, response_name="old")

    answer = reply(slack, "old")
    assert answer.params["text"] == CLOSED_NORTHBEAM
    assert [b["text"]["text"] for b in buttons_in(valid_blocks(answer.params["blocks"]))] == ["Reopen", "View card"]
    assert not slack.calls_to("views.open")
    assert stages_logged(closed_northbeam)[-1] == "closed"


# ----- an outcome that is none --------------------------------------------------------------------------------------
def test_closing_with_a_word_that_is_no_outcome_says_so_with_the_right_form(
    database_url: str, wire: SlackWire, slack: MockSlack
) -> None:
    polaris = open_engagement("Polaris Telecom", "2026-09-14 06:30")

    wire.command("/engagement", "close polaris maybe", user_id=SE)

    assert reply(slack).params["text"] == (
        "“maybe” is not won, lost or no-decision. Type `/engagement close polaris won|lost|no-decision [note]`, "
        "for example `/engagement close polaris won`."
    )
    assert current_stage(polaris) == "preparation"


# ----- a guess at the account and the stage: one button to confirm --------------------------------------------------
def test_a_misspelt_account_and_stage_offer_one_button_for_the_best_guess(
    database_url: str, wire: SlackWire, slack: MockSlack
) -> None:
    acme = open_engagement("Acme", "2026-11-01 09:00", opportunity="Acme logging")

    wire.command("/engagement", "acmee demoo", user_id=SE)

    answer = reply(slack)
    assert all_text(valid_blocks(answer.params["blocks"])).splitlines()[0] == (
        "epos found no engagement named *acmee*. Did you mean to move *Acme* (Acme logging) to *Demo*?"
    )
    assert [b["text"]["text"] for b in buttons_in(answer.params["blocks"])] == ["Move Acme to Demo"]
    assert stages_logged(acme) == ["preparation"]
    yes = button(answer.params["blocks"], "engagement_confirm_change")
    wire.block_action(yes["action_id"], user_id=SE, value=yes["value"], response_name="yes")
    assert reply(slack, "yes").params["text"] == "➡️ Acme (Acme logging): Preparation → Demo."
    assert current_stage(acme) == "demo"


# ----- one wording for "not found" -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["globex demo", "close globex won", "globex", "globex won"])
def test_nothing_of_that_name_is_worded_one_way_for_every_verb(
    database_url: str, wire: SlackWire, slack: MockSlack, text: str
) -> None:
    open_engagement("Northbeam Logistics", "2026-10-01 09:00")

    wire.command("/engagement", text, user_id=SE)

    assert reply(slack).params["text"].startswith("epos found no engagement named globex.")


# ----- every example shown works on the sample data ------------------------------------------------------------------
_SHOWN = re.compile(r"`(/engagement(?: [^`]*)?)`")
_PLACEHOLDER = re.compile(r"\b(?:ACCOUNT|STAGE|OUTCOME|N)\b|[\[\]|…]")
# Examples that are meant for managers (`list all`) run as one; the rest as the sample data's SE (sam).
_AS_MANAGER = {"/engagement list all"}
# What an example must never answer: not found, a guess, a usage, a closed deal, a refusal.
_WRONG = ("found no engagement", "No engagement for", "No open engagement", "Did you mean", "Give the account",
          "is already closed", "is closed", "is not won, lost", "is for presales managers", "Use `/engagement",
          "Sorry")


def names_a_stage(text: str) -> bool:
    """Whether a word (or two, or three) after the account is a stage: the example logs a stage change."""
    words = text.split()
    return any(engagements.match_stage(" ".join(words[start:start + length])).kind == "exact"
               for start in range(1, len(words)) for length in (1, 2, 3))


def shown_examples() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = _SHOWN.findall(readme) + _SHOWN.findall(HELP_COMMANDS)
    # Forms with placeholders (ACCOUNT, [note], won|lost) are the grammar, not examples.
    words = [" ".join(text.replace("\\|", "|").split()) for text in found]
    return sorted({text for text in words if not _PLACEHOLDER.search(text.removeprefix("/engagement"))})


def load_sample_engagements() -> None:
    records = engagements.parse_import((ROOT / "examples" / "engagements.yaml").read_text(encoding="utf-8"), "yaml")
    engagements.import_records(records)


def test_the_examples_shown_are_found() -> None:
    shown = shown_examples()
    assert {"/engagement polaris tech qa", "/engagement close polaris won", "/engagement northbeam",
            "/engagement Polaris Telecom tech qa SSO questions", "/engagement list all",
            "/engagement close polaris won signed for 3 years"} <= set(shown)


@pytest.mark.parametrize("example", shown_examples())
def test_every_example_shown_works_on_the_sample_data(
    database_url: str, wire: SlackWire, slack: MockSlack, example: str
) -> None:
    load_sample_engagements()
    text = example.removeprefix("/engagement").strip()

    assert wire.command("/engagement", text, user_id=MANAGER if example in _AS_MANAGER else SE).status == 200

    if text.split()[:1] == ["new"]:
        slack.wait_for("views.open", lambda c: c.params["view"]["callback_id"] == "engagement_new")
        return
    answer = reply(slack)
    shown = answer.params.get("text", "") + "\n" + all_text(answer.params.get("blocks") or [])
    assert not [wrong for wrong in _WRONG if wrong in shown], shown
    verb = (text.split() or [""])[0]
    if verb == "close":
        assert answer.params["text"].startswith("🏁 Closed "), shown
    elif verb not in ("help", "list", "stats") and names_a_stage(text):
        assert " → " in answer.params["text"] and "Undo" in shown, shown

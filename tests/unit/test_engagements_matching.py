"""Reading `/engagement ACCOUNT STAGE [note]`: fuzzy accounts and stages, never guessing between two."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from bot.errors import Forbidden
from bot.services import engagements
from bot.services.actors import Actor
from bot.services.engagements.wording import MAX_CANDIDATES
from models import Engagement
from models.enums import Outcome, Stage
from tests.conftest import SE, STRANGER
from tests.engagements_helpers import MANAGER_ACTOR, SE_ACTOR, close, open_engagement

OTHER = "U0OTHER01"


@pytest.mark.parametrize(
    ("typed", "stage"),
    [
        ("prep", Stage.preparation), ("Preparation", Stage.preparation), ("disco", Stage.discovery),
        ("demo", Stage.demo), ("poc", Stage.poc), ("PoC", Stage.poc), ("proof of concept", Stage.poc),
        ("tech qa", Stage.tech_qa), ("Tech-QA", Stage.tech_qa), ("q&a", Stage.tech_qa), ("Technical Q&A", Stage.tech_qa),
        ("tech_qa", Stage.tech_qa), ("sizing", Stage.sizing),
    ],
)
def test_stage_labels_and_aliases_match_exactly(typed: str, stage: Stage) -> None:
    match = engagements.match_stage(typed)
    assert (match.kind, match.stage) == ("exact", stage)


@pytest.mark.parametrize(("typed", "stage"), [("discvery", Stage.discovery), ("sizng", Stage.sizing), ("preperation", Stage.preparation)])
def test_misspelt_stages_are_a_guess_to_confirm(typed: str, stage: Stage) -> None:
    match = engagements.match_stage(typed)
    assert (match.kind, match.stage) == ("unsure", stage)


@pytest.mark.parametrize("typed", ["won", "closed", "close", "no decision"])
def test_closing_words_are_recognised(typed: str) -> None:
    assert engagements.match_stage(typed).kind == "closed"


@pytest.mark.parametrize("typed", ["", "banana", "yes", "ok"])
def test_other_words_are_no_stage(typed: str) -> None:
    assert engagements.match_stage(typed).kind == "none"


@pytest.mark.parametrize(
    ("typed", "outcome"),
    [("won", Outcome.won), ("lost", Outcome.lost), ("no-decision", Outcome.no_decision), ("nodecision", Outcome.no_decision),
     ("no_decision", Outcome.no_decision), ("no decision", Outcome.no_decision), ("tie", None)],
)
def test_outcomes(typed: str, outcome: Outcome | None) -> None:
    assert engagements.parse_outcome(typed) == outcome


@given(st.text(max_size=40))
@settings(max_examples=200, deadline=None)
def test_stage_matching_never_fails_on_any_text(text: str) -> None:
    match = engagements.match_stage(text)
    assert match.kind in ("exact", "unsure", "none", "closed")
    assert (match.stage is None) == (match.kind == "none")


def test_an_exact_or_prefix_account_matches_one_engagement(database_url: str) -> None:
    northbeam = open_engagement("Northbeam Logistics", "2026-10-01")
    open_engagement("Bluefin Bank", "2026-10-01")
    for typed in ("Northbeam Logistics", "northbeam", "NORTHBEAM logistics"):
        match = engagements.match_account(SE_ACTOR, typed)
        assert (match.kind, [c.id for c in match.candidates]) == ("exact", [northbeam])


def test_a_typo_is_a_guess_to_confirm(database_url: str) -> None:
    northbeam = open_engagement("Northbeam Logistics", "2026-10-01")
    open_engagement("Bluefin Bank", "2026-10-01")
    unsure = engagements.match_account(SE_ACTOR, "northbeem")
    assert (unsure.kind, [c.id for c in unsure.candidates]) == ("unsure", [northbeam])
    # Two slips in a long name, and no other account near it: confident enough to act (with Undo).
    confident = engagements.match_account(SE_ACTOR, "nortbeam logistcs")
    assert (confident.kind, confident.quality) == ("exact", 1)


def test_two_engagements_of_one_account_are_ambiguous_never_a_guess(database_url: str) -> None:
    first = open_engagement("Acme", "2026-10-01", opportunity="Acme logging")
    second = open_engagement("Acme", "2026-10-01", opportunity="Acme SIEM")
    match = engagements.match_account(SE_ACTOR, "acme")
    assert match.kind == "ambiguous"
    assert {c.id for c in match.candidates} == {first, second}


def test_two_accounts_starting_alike_are_ambiguous(database_url: str) -> None:
    open_engagement("Acme Corp", "2026-10-01")
    open_engagement("Acme Logistics", "2026-10-01")
    assert engagements.match_account(SE_ACTOR, "acme").kind == "ambiguous"
    assert engagements.match_account(SE_ACTOR, "acme corp").kind == "exact"


def test_nothing_close_is_none_with_suggestions(database_url: str) -> None:
    open_engagement("Northbeam Logistics", "2026-10-01")
    assert engagements.match_account(SE_ACTOR, "zebra zoo").kind == "none"
    assert engagements.suggestions("Northbeem") == ["Northbeam Logistics"]


def test_my_own_engagements_come_first_then_everyones(database_url: str) -> None:
    mine = open_engagement("Acme Retail", "2026-10-01")
    theirs = open_engagement("Acme Rockets", "2026-10-01", owner=OTHER, seller=OTHER)
    assert [c.id for c in engagements.match_account(SE_ACTOR, "acme").candidates] == [mine]
    assert [c.id for c in engagements.match_account(SE_ACTOR, "acme rockets").candidates] == [theirs]
    assert engagements.match_account(MANAGER_ACTOR, "acme").kind == "ambiguous"
    assert engagements.match_account(Actor(user_id=STRANGER, reader=True), "acme").kind == "ambiguous"
    # Outside the presales team, nothing is matched (a picker or "did you mean" would name accounts).
    with pytest.raises(Forbidden, match="Engagements are for the presales team"):
        engagements.match_account(Actor(user_id=STRANGER), "acme")


def test_closed_engagements_are_not_candidates_for_a_change(database_url: str) -> None:
    done = open_engagement("Acme", "2026-10-01")
    close(done, Outcome.won, "2026-10-02")
    assert engagements.match_account(SE_ACTOR, "acme").kind == "none"
    assert [c.id for c in engagements.match_account(SE_ACTOR, "acme", open_only=False).candidates] == [done]


@pytest.mark.parametrize(
    ("text", "kind", "stage", "note"),
    [
        ("northbeam poc", "change", Stage.poc, ""),
        ("Northbeam Logistics tech qa customer asked about SSO", "change", Stage.tech_qa, "customer asked about SSO"),
        ("northbeam proof of concept kickoff on monday", "change", Stage.poc, "kickoff on monday"),
        ("northbeam poc demo went well", "change", Stage.poc, "demo went well"),
        ("northbeam", "card", None, ""),
        ("Northbeam Logistics", "card", None, ""),
        ("northbeam won", "closing", Stage.closed, ""),
    ],
)
def test_interpreting_the_command_text(database_url: str, text: str, kind: str, stage: Stage | None, note: str) -> None:
    northbeam = open_engagement("Northbeam Logistics", "2026-10-01")
    result = engagements.interpret(SE_ACTOR, text)
    assert result.kind == kind
    assert (result.stage.stage if result.stage else None) == stage
    assert result.note == note
    assert [c.id for c in result.account.candidates] == [northbeam]


def test_an_account_named_like_a_stage_still_reads_right(database_url: str) -> None:
    sizing_ltd = open_engagement("Stage Sizing Ltd", "2026-10-01")
    result = engagements.interpret(SE_ACTOR, "Stage Sizing Ltd demo")
    assert (result.kind, result.stage.stage if result.stage else None) == ("change", Stage.demo)
    assert [c.id for c in result.account.candidates] == [sizing_ltd]
    assert engagements.interpret(SE_ACTOR, "Stage Sizing Ltd").kind == "card"


def test_a_misspelt_stage_after_a_known_account_is_a_guess(database_url: str) -> None:
    open_engagement("Northbeam Logistics", "2026-10-01")
    result = engagements.interpret(SE_ACTOR, "northbeam discvery")
    assert result.kind == "change"
    assert result.stage is not None and (result.stage.kind, result.stage.stage) == ("unsure", Stage.discovery)


def test_an_unknown_account_reads_as_a_card_request_that_finds_nothing(database_url: str) -> None:
    open_engagement("Northbeam Logistics", "2026-10-01")
    result = engagements.interpret(SE_ACTOR, "globex demo")
    assert result.account.kind == "none"


# ----- the command's small parsers -------------------------------------------------------------------------
from handlers.engagements.commands import parse_weeks  # noqa: E402

from bot.errors import InvalidInput  # noqa: E402


@pytest.mark.parametrize(("text", "weeks"), [("", 12), ("--weeks 8", 8), ("--weeks=8", 8), ("-w 3", 3), ("26", 26)])
def test_weeks(text: str, weeks: int) -> None:
    assert parse_weeks(text) == weeks


@pytest.mark.parametrize("text", ["--weeks", "--weeks 0", "--weeks 105", "--weeks lots", "8 9"])
def test_bad_weeks_get_the_usage(text: str) -> None:
    with pytest.raises(InvalidInput, match="--weeks N"):
        parse_weeks(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("northbeam won", ("northbeam", Outcome.won, "")),
        ("Northbeam Logistics no decision budget frozen", ("Northbeam Logistics", Outcome.no_decision, "budget frozen")),
        ("acme no-decision", ("acme", Outcome.no_decision, "")),
        ("acme lost to a competitor who won on price", ("acme", Outcome.lost, "to a competitor who won on price")),
        ("acme", ("acme", None, "")),
    ],
)
def test_split_close(text: str, expected: tuple) -> None:
    assert engagements.split_close(text) == expected


@given(st.text(max_size=60))
@settings(max_examples=200, deadline=None)
def test_the_command_parsers_never_fail_on_any_text(text: str) -> None:
    account, outcome, note = engagements.split_close(text)
    assert outcome is None or account
    try:
        assert 1 <= parse_weeks(text) <= 104
    except InvalidInput:
        pass


# ----- one answer per situation --------------------------------------------------------------------------------
def test_a_closed_engagement_named_plainly_is_the_one_a_change_means(database_url: str) -> None:
    done = open_engagement("Northbeam Logistics", "2026-09-01")
    close(done, Outcome.won, "2026-10-02")
    for text in ("northbeam poc", "Northbeam Logistics tech qa SSO questions"):
        result = engagements.interpret(SE_ACTOR, text)
        assert (result.kind, result.account.kind, [c.id for c in result.account.candidates]) == ("change", "exact", [done])
    assert engagements.closed_named(SE_ACTOR, "northbeam") is not None
    # A likeness is not a plain name, and an open engagement of that name comes first.
    assert engagements.closed_named(SE_ACTOR, "northbem") is None
    open_engagement("Northbeam Logistics", "2026-11-01", opportunity="Northbeam renewal")
    assert engagements.closed_named(SE_ACTOR, "northbeam") is None


def test_a_word_after_a_known_account_that_is_no_outcome_is_named(database_url: str) -> None:
    open_engagement("Polaris Telecom", "2026-09-14")
    assert engagements.unknown_outcome(SE_ACTOR, "polaris maybe") == ("polaris", "maybe")
    assert engagements.unknown_outcome(SE_ACTOR, "Polaris Telecom perhaps later") == ("Polaris Telecom", "perhaps")
    assert engagements.unknown_outcome(SE_ACTOR, "globex maybe") is None


def test_a_misspelt_account_and_stage_are_one_guess(database_url: str) -> None:
    acme = open_engagement("Acme", "2026-11-01")
    result = engagements.interpret(SE_ACTOR, "acmee demoo")
    assert (result.kind, result.account.kind, result.stage.kind if result.stage else None) == ("change", "unsure", "unsure")
    assert result.account.candidates[0].id == acme and result.stage is not None and result.stage.stage is Stage.demo


def test_a_typed_account_reads_whole_engagements_only_for_the_few_it_lists(database_url: str) -> None:
    """A command is matched against every engagement by id and account name alone: the engagements read
    whole (rows, summaries) are the few a match lists, however many the team has, so a worker's memory
    per command does not grow with them."""
    for n in range(150):
        open_engagement(f"Account {n}", "2026-10-01", owner=SE if n % 2 else OTHER, seller=OTHER)
    read_whole: list[int] = []

    def count(target: Engagement, _context: object) -> None:
        read_whole.append(target.id)

    event.listen(Engagement, "load", count)
    try:
        reading = engagements.interpret(SE_ACTOR, "account 7 demo")
        closing = engagements.match_account(MANAGER_ACTOR, "account 1")
    finally:
        event.remove(Engagement, "load", count)
    assert (reading.kind, [c.account for c in reading.account.candidates]) == ("change", ["Account 7"])
    assert (closing.kind, [c.account for c in closing.candidates]) == ("exact", ["Account 1"])
    # Each account match lists at most MAX_CANDIDATES, and a command tries a few readings of its words.
    assert len(set(read_whole)) <= 4 * MAX_CANDIDATES, f"{len(set(read_whole))} of 150 engagements read whole"

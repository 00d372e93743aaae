"""Adoption and the getting-started checklist as people read them: sentences read aloud, names in the
digest (never mentions that would ping), mentions in the App Home, within Slack's limits."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk.models.blocks import Block

from bot.blocks import adoption as blocks
from bot.blocks import digest as digest_blocks
from bot.ids import EngagementIds, HomeIds
from models.schemas.adoption import Adoption, Checklist, Feature, PersonUse, Role, RoleAdoption, Step
from tests.support.text import all_text
from tests.unit.test_digest_blocks import assert_within_limits, sample

SE_STEPS = (Feature.share, Feature.open, Feature.stage_change, Feature.devrel_request, Feature.esat)
NAMES = {"U0SAM0001": "Sam", "U0DANA001": "Dana", "U0ERIK001": "Erik", "U0LENA001": "Lena"}


def role(role: Role, people: int, used: dict[str, list[Feature]], not_yet: list[str]) -> RoleAdoption:
    return RoleAdoption(role=role, people=people, used=[PersonUse(user_id=u, features=f) for u, f in used.items()],
                        not_yet=not_yet)


def team(*roles: RoleAdoption) -> Adoption:
    return Adoption(since=datetime(2026, 11, 16, tzinfo=UTC), until=datetime(2026, 11, 23, tzinfo=UTC),
                    roles=list(roles), names=NAMES)


def name_of(user_id: str) -> str:
    return NAMES.get(user_id, user_id)


def checklist(done: set[Feature], *, expanded: bool = False) -> Checklist:
    return Checklist(role=Role.se, steps=[Step(feature=f, done=f in done) for f in SE_STEPS], expanded=expanded)


def buttons(rendered: list[Block]) -> list[tuple[str, str]]:
    found = []
    for block in (b.to_dict() for b in rendered):
        for element in [block.get("accessory")] + block.get("elements", []):
            if element and element.get("type") == "button":
                found.append((element["text"]["text"], element["action_id"]))
    return found


def test_each_role_is_one_sentence_read_aloud() -> None:
    assert blocks.role_line(role(Role.se, 3, {"U0SAM0001": [Feature.share, Feature.open]}, ["U0ERIK001", "U0DANA001"]),
                            name_of) == "SEs: 1 of 3 used epos; 1 shared an asset, 1 opened an engagement. Not yet: Dana, Erik."
    assert blocks.role_line(role(Role.seller, 2, {}, ["U0DANA001", "U0ERIK001"]), name_of) == \
        "Sellers: none of 2 used epos. Not yet: Dana, Erik."
    assert blocks.role_line(role(Role.devrel, 1, {"U0LENA001": [Feature.devrel_answer]}, []), name_of) == \
        "DevRel: the one DevRel person used epos; 1 answered a DevRel ask."
    assert blocks.role_line(role(Role.manager, 0, {}, []), name_of) == "Managers: nobody is named in EPOS_MANAGERS."
    assert blocks.role_line(role(Role.seller, 0, {}, []), name_of) == "Sellers: no sellers yet."
    assert blocks.role_line(role(Role.other, 2, {"U1": [Feature.search], "U2": [Feature.search]}, []), name_of) == \
        "Others: 2 people in no role used epos; 2 searched for assets."


def test_a_long_list_of_people_not_using_epos_is_cut_with_a_count() -> None:
    line = blocks.role_line(role(Role.se, 40, {}, [f"U{n:08d}" for n in range(40)]), name_of, limit=10)
    assert line.endswith(", and 30 more.") and line.count(",") == 10


def test_the_digest_names_people_and_never_mentions_them() -> None:
    adoption = team(role(Role.se, 2, {"U0SAM0001": [Feature.share]}, ["U0DANA001"]), role(Role.manager, 0, {}, []))
    rendered, _ = digest_blocks.digest_message(sample(adoption=adoption), name_of)
    text = all_text([b.to_dict() for b in rendered])
    assert "*Adoption this week*" in text and "Not yet: Dana." in text and "<@" not in text
    assert_within_limits(rendered)
    # Someone Slack could not name (name_of gives the id back) is named as epos knows them.
    rendered, _ = digest_blocks.digest_message(sample(adoption=adoption), lambda user_id: user_id)
    assert "Not yet: Dana." in all_text([b.to_dict() for b in rendered])


def test_the_digest_section_stays_within_limits_with_thousands_of_people() -> None:
    many = [f"U{n:08d}" for n in range(3000)]
    adoption = team(*(role(r, 3000, {}, many) for r in (Role.se, Role.seller, Role.devrel, Role.manager)))
    rendered, _ = digest_blocks.digest_message(sample(adoption=adoption), name_of)
    assert_within_limits(rendered)


def test_the_digest_looks_up_only_the_names_it_shows_known_names_first() -> None:
    many = [f"U{n:08d}" for n in range(3000)]
    adoption = team(role(Role.se, 3001, {}, [*many, "U0DANA001"]), role(Role.seller, 3000, {}, many))

    shown = adoption.shown_ids()

    # Ten per role: Dana (whose name is known) and the first nine SEs; the first ten sellers.
    assert shown == {"U0DANA001", *many[:10]}
    line = blocks.role_line(adoption.role(Role.se), name_of)
    assert line.startswith("SEs: none of 3001 used epos. Not yet: Dana, U00000000,") and line.endswith("and 2991 more.")


def test_the_home_mentions_people_so_slack_shows_their_names() -> None:
    rendered = blocks.home_blocks(team(role(Role.se, 2, {"U0SAM0001": [Feature.share]}, ["U0DANA001"])))
    assert "Not yet: <@U0DANA001>." in all_text([b.to_dict() for b in rendered])


def test_the_checklist_ticks_done_steps_and_gives_each_a_how_and_a_button() -> None:
    rendered = blocks.checklist_blocks(checklist({Feature.open, Feature.share}))
    text = all_text([b.to_dict() for b in rendered])
    assert "*Getting started as an SE* · 2 of 5 done" in text
    assert ":white_check_mark: ~Open an engagement~" in text and ":white_large_square: *Request DevRel*" in text
    assert "`/devrel ACCOUNT`" in text
    assert buttons(rendered) == [("Find an asset", HomeIds.find_asset), ("New engagement", EngagementIds.new),
                                 ("Show me how", HomeIds.how_to), ("Request DevRel", HomeIds.request_devrel),
                                 ("Show me how", HomeIds.how_to)]


def test_the_checklist_folds_away_once_done_and_can_be_shown_again() -> None:
    folded = blocks.checklist_blocks(checklist(set(SE_STEPS)))
    assert len(folded) == 1 and "all 5 steps done" in all_text([b.to_dict() for b in folded])
    assert buttons(folded) == [("Show the checklist", HomeIds.checklist_show)]

    shown = blocks.checklist_blocks(checklist(set(SE_STEPS), expanded=True))
    assert len(shown) == 7 and buttons(shown)[-1] == ("Hide the checklist", HomeIds.checklist_hide)


def test_show_me_how_explains_the_step_and_an_unknown_one_gets_general_help() -> None:
    title, text = blocks.how_to_text("esat")
    assert title == "Answer an ESAT" and "`/engagement close ACCOUNT won`" in text
    assert blocks.how_to_text("nonsense")[0] == "Getting started"
    assert blocks.how_to_text(None)[0] == "Getting started"


def test_the_manager_is_told_who_was_invited_to_practise_and_who_could_not_be_messaged() -> None:
    assert blocks.invited(["U0SAM0001"], []) == "epos invited <@U0SAM0001> to practise."
    assert blocks.invited(["U0SAM0001", "U0DANA001", "U0ERIK001"], ["U0GONE001"]) == (
        "epos invited <@U0SAM0001>, <@U0DANA001> and <@U0ERIK001> to practise. epos could not message "
        "<@U0GONE001>; ask them to press *Start a practice engagement* on their epos Home.")
    rendered = str([b.to_dict() for b in blocks.home_blocks(team(role(Role.se, 1, {}, ["U0DANA001"])))])
    assert "*Someone new?*" in rendered and "home_invite_practice" in rendered

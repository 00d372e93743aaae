"""Block Kit for engagements and the App Home: escaping, limits, buttons, and what people read."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from slack_sdk.models.blocks import Block

from bot.blocks import engagements as blocks
from bot.blocks import home as home_blocks
from bot.errors import InvalidInput
from handlers.engagements.forms import read_new_form
from models.enums import OPEN_STAGES, AssetType, Outcome, RequestState, Stage
from models.schemas.digest import ClosedCounts, DevRelFigures, MeanMedian, TeamHome
from models.schemas.engagements import (
    AccountMatch,
    AssetSuggestion,
    DevRelLine,
    EngagementCard,
    EngagementPage,
    EngagementSummary,
    EsatFigures,
    EsatPrompt,
    Figures,
    HomeData,
    PlaybookPost,
    StageChangeResult,
    TeamMetrics,
    TimelineEntry,
)
from tests.conftest import SE, SELLER
from tests.engagements_helpers import buttons_in, new_form_values
from tests.reliability_helpers import mrkdwn_texts
from tests.support.text import all_text

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def summary(**overrides: object) -> EngagementSummary:
    values: dict[str, object] = dict(
        id=7, account="Northbeam Logistics", opportunity="Fleet observability", owner_id=SE, seller_id=SELLER,
        focus="observability", channel_id="C0NBDEAL1", stage=Stage.poc, opened_at=datetime(2026, 10, 1, tzinfo=UTC),
        stage_entered_at=datetime(2026, 11, 1, tzinfo=UTC), last_activity_at=datetime(2026, 11, 1, tzinfo=UTC),
        days_in_stage=19, stale=False,
    )
    values.update(overrides)
    return EngagementSummary(**values)  # type: ignore[arg-type]


def card(**overrides: object) -> EngagementCard:
    values: dict[str, object] = dict(
        engagement=summary(), business_challenge="Downtime hurts", technical_needs="Traces",
        timeline=[
            TimelineEntry(kind="note", at=NOW, logged_at=NOW, actor_id=SELLER, note="CFO joins"),
            TimelineEntry(kind="stage", at=datetime(2026, 11, 1, 12, tzinfo=UTC), logged_at=NOW, actor_id=SE,
                          from_stage=Stage.demo, to_stage=Stage.poc, backdated=True, note="kickoff"),
        ],
        timeline_total=2, shares=[], shares_total=0, devrel=[], viewer_may_change=True,
    )
    values.update(overrides)
    return EngagementCard(**values)  # type: ignore[arg-type]


def parsed(message: dict) -> list[dict]:
    for block in Block.parse_all(message["blocks"]):
        block.validate_json()
    assert message["text"]
    return message["blocks"]


def metrics(**overrides: object) -> TeamMetrics:
    values: dict[str, object] = dict(
        since=datetime(2026, 9, 1, tzinfo=UTC), until=datetime(2026, 11, 24, tzinfo=UTC), owner_id=None,
        closed={"won": 2, "lost": 1, "no_decision": 0}, win_rate=2 / 3,
        mttc_days=Figures(mean=40.0, median=38.5, count=3),
        mttc_by_outcome={"won": Figures(mean=35.0, median=35.0, count=2), "lost": Figures(mean=50.0, median=50.0, count=1),
                         "no_decision": Figures()},
        stage_dwell_days_median={"preparation": 3.0, "discovery": 9.5, "demo": 4.0, "poc": 21.0, "tech_qa": None, "sizing": None},
        stage_conversion={"preparation": 1.0, "discovery": 0.5, "demo": 0.75, "poc": 0.5, "tech_qa": None, "sizing": None},
        open_by_stage={"preparation": 1, "discovery": 2, "demo": 0, "poc": 1, "tech_qa": 0, "sizing": 0},
        esat=EsatFigures(mean=4.5, count=2),
    )
    values.update(overrides)
    return TeamMetrics(**values)  # type: ignore[arg-type]


def test_the_card_escapes_user_text_so_nothing_pings() -> None:
    hostile = card(
        engagement=summary(account="<!channel> Acme & Co", opportunity="<@U0BOSS> deal", focus="<!here>"),
        business_challenge="<!everyone> outage", timeline=[
            TimelineEntry(kind="note", at=NOW, logged_at=NOW, actor_id=SE, note="ping <!channel>")],
        timeline_total=1,
    )
    message = blocks.card_message(hostile)
    text = "\n".join([message["text"], *mrkdwn_texts(parsed(message))])  # plain_text (the header) never pings, so only mrkdwn and the fallback matter
    for raw in ("<!channel>", "<!here>", "<!everyone>", "<@U0BOSS>"):
        assert raw not in text
    assert "&lt;!channel&gt; Acme &amp; Co" in text and message["text"].startswith("&lt;!channel&gt;")


def test_the_card_shows_stage_days_timeline_with_backdating_and_its_buttons() -> None:
    shown = parsed(blocks.card_message(card()))
    text = all_text(shown)
    assert "*POC* for 19 days" in text
    assert "Demo → *POC*" in text and "backdated" in text and "kickoff" in text
    assert [b["action_id"] for b in buttons_in(shown)] == ["engagement_change_stage", "engagement_add_note",
                                                         "engagement_close_open", "engagement_set_channel"]
    assert {b["value"] for b in buttons_in(shown)} == {"7"}


def test_a_stale_engagement_is_flagged_and_a_closed_one_offers_reopen_only_to_those_who_may() -> None:
    assert "stale" in all_text(parsed(blocks.card_message(card(engagement=summary(stale=True)))))
    closed = summary(stage=Stage.closed, outcome=Outcome.won, closed_at=NOW)
    labels = [b["text"]["text"] for b in buttons_in(parsed(blocks.card_message(card(engagement=closed))))]
    assert labels == ["Reopen", "Add note", "Deal channel"]
    reader = parsed(blocks.card_message(card(viewer_may_change=False)))
    assert buttons_in(reader) == [] and "Only the owner" in all_text(reader)


def test_long_text_is_clipped_to_slacks_limits() -> None:
    huge = card(engagement=summary(account="A" * 200, opportunity="O" * 200), business_challenge="x" * 5000,
                technical_needs="y" * 5000)
    shown = parsed(blocks.card_message(huge))
    assert len(shown[0]["text"]["text"]) <= 150
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in shown)


def test_a_change_result_offers_undo_and_a_close_result_offers_reopen() -> None:
    moved = StageChangeResult(engagement=summary(), change_id=41, from_stage=Stage.demo, to_stage=Stage.poc,
                              effective_at=NOW, backdated=False, actor_id=SE, note="go")
    shown = parsed(blocks.change_result_message(moved))
    undo = buttons_in(shown)[0]
    assert (undo["text"]["text"], undo["action_id"], undo["value"]) == ("Undo", "engagement_undo", "41")
    assert "Demo → *POC*" in all_text(shown)
    closed = moved.model_copy(update={"to_stage": Stage.closed, "outcome": Outcome.no_decision, "esat_survey_id": 3})
    shown = parsed(blocks.change_result_message(closed))
    assert buttons_in(shown)[0]["text"]["text"] == "Reopen"
    assert "no decision" in all_text(shown) and "ESAT" in all_text(shown)


def test_a_picker_has_one_button_per_candidate_with_distinct_action_ids() -> None:
    candidates = [summary(id=i, opportunity=f"Deal {i}") for i in range(10)]
    match = AccountMatch(kind="ambiguous", query="acme", candidates=candidates, more=3, quality=2)
    shown = parsed(blocks.pick_for_change(match, Stage.demo, "note"))
    choices = buttons_in(shown)
    assert len(choices) == 10 and len({c["action_id"] for c in choices}) == 10
    assert json.loads(choices[4]["value"]) == {"e": 4, "s": "demo", "n": "note"}
    assert "3 more" in all_text(shown) and "never" not in all_text(shown)


def test_list_pages_and_empty_list_points_to_new() -> None:
    page = EngagementPage(scope="all", items=[summary(id=i) for i in range(1, 11)], page=1, pages=3, total=25, open_total=20)
    shown = parsed(blocks.list_message(page))
    labels = [b["text"]["text"] for b in buttons_in(shown)]
    assert labels[-2:] == ["‹ Previous", "Next ›"]
    assert "Page 2 of 3" in all_text(shown) and "20 open · 5 closed" in all_text(shown)
    empty = parsed(blocks.list_message(EngagementPage(scope="mine", items=[], page=0, pages=1, total=0, open_total=0)))
    assert "/engagement new" in all_text(empty) and buttons_in(empty)[0]["action_id"] == "engagement_new_open"


def test_stats_call_out_the_slowest_stage_and_show_missing_figures_as_dashes() -> None:
    text = all_text(parsed(blocks.stats_message(metrics(), scope="team", weeks=12)))
    assert "POC: 21.0 d 🐢 slowest" in text
    assert "Technical Q&A: —" in text
    assert "win rate 67%" in text and "mean 40.0 d, median 38.5 d" in text and "4.5/5 from 2" in text


def test_the_playbook_post_lists_the_checklist_and_assets_or_how_to_find_them() -> None:
    post = PlaybookPost(engagement=summary(), stage=Stage.poc, title="Proof of concept", goal="Prove it",
                        prerequisites=["criteria signed"], calls_to_action=["kickoff"], deliverables=["readout"],
                        asset_types=[AssetType.feature_walkthrough, AssetType.proofshop],
                        assets=[AssetSuggestion(title="OTel walkthrough", url="https://a.example/otel",
                                                type=AssetType.feature_walkthrough)])
    text = all_text(parsed(blocks.playbook_message(post)))
    assert "entered *POC*. Here is the playbook for it." in text  # the stage's one name, not the playbook's title
    assert "criteria signed" in text and "kickoff" in text and "readout" in text
    assert "<https://a.example/otel|OTel walkthrough>" in text
    bare = all_text(parsed(blocks.playbook_message(post.model_copy(update={"assets": []}),
                                                   failed_channel="C0NBDEAL1", reason="not_in_channel")))
    assert "/asset" in bare and "not_in_channel" in bare and "/invite @epos" in bare


def test_the_esat_question_has_five_scores_and_shows_the_answer() -> None:
    prompt = EsatPrompt(survey_id=9, engagement_id=7, account="Northbeam", opportunity="Fleet", owner_id=SE,
                        outcome=Outcome.won)
    scores = [b for b in buttons_in(parsed(blocks.esat_message(prompt))) if b["action_id"].startswith("engagement_esat_score")]
    assert [s["action_id"] for s in scores] == [f"engagement_esat_score:{n}" for n in range(1, 6)]
    assert {s["value"] for s in scores} == {"9"}
    answered = parsed(blocks.esat_message(prompt.model_copy(update={"score": 4, "comment": "smooth"}), answered=True))
    assert all_text(answered).startswith("Thanks! You rated *Northbeam* (Fleet) *4/5*. Your comment: _smooth_. "
                                         "Press another number to change it.")
    assert [b["text"]["text"] for b in buttons_in(answered)][-1] == "Change your comment"
    no_comment = parsed(blocks.esat_message(prompt.model_copy(update={"score": 4}), answered=True))
    assert [b["text"]["text"] for b in buttons_in(no_comment)][-1] == "Add a comment"
    assert "Reminder" in all_text(parsed(blocks.esat_message(prompt.model_copy(update={"reminder": True}))))


def test_forms_fit_slack_and_default_to_today() -> None:
    for view in (blocks.new_form(today=date(2026, 11, 20)),
                 blocks.stage_form(summary(), today=date(2026, 11, 20), metadata="{}"),
                 blocks.close_form(summary(), today=date(2026, 11, 20), metadata="{}"),
                 blocks.note_form(summary(), metadata="{}")):
        assert len(view["title"]["text"]) <= 24 and len(view["blocks"]) <= 100
    stage_view = blocks.stage_form(summary(), today=date(2026, 11, 20), metadata="{}")
    picker = next(b for b in stage_view["blocks"] if b.get("block_id") == "engagement_effective_date")
    assert picker["element"]["initial_date"] == "2026-11-20"
    stage_select = next(b for b in stage_view["blocks"] if b.get("block_id") == "engagement_target_stage")
    assert stage_select["element"]["initial_option"]["value"] == "tech_qa"  # the next stage after POC
    assert "poc" not in [o["value"] for o in stage_select["element"]["options"]]


def test_reading_the_new_form() -> None:
    data = read_new_form(new_form_values(focus="other", focus_other="vector search", opened="2026-11-01"))
    assert (data.focus, data.opened_on, data.channel_id) == ("vector search", date(2026, 11, 1), "C0NBDEAL1")
    with pytest.raises(InvalidInput) as caught:
        read_new_form(new_form_values(focus="other"))
    assert blocks.form_errors(caught.value.field, str(caught.value), default_block="x") == {
        "engagement_focus_other": "Describe the focus when you pick Other, e.g. vector search."}


def test_the_home_stays_within_100_blocks_and_shows_paging() -> None:
    data = HomeData(
        user_id=SE, manager=False, engagements=[summary(id=i, stale=i % 2 == 0) for i in range(1, 16)],
        engagements_total=40, page=0, pages=3,
        devrel_requested=[DevRelLine(id=1, engagement_id=7, account="<!here> Acme", state=RequestState.accepted,
                                     requester_id=SE, assignee_id="U0DEVREL1", meeting_start=NOW, topics=["otel"])],
        devrel_to_answer=[], metrics=metrics(), is_new=False,
    )
    view = home_blocks.home_view(data)
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    for block in Block.parse_all(view["blocks"]):
        block.validate_json()
    text = all_text(view["blocks"])
    assert "Page 1 of 3" in text and "&lt;!here&gt; Acme" in text and "<@U0DEVREL1> joins" in text


def test_the_homes_cancel_buttons_are_unique_and_never_push_it_past_100_blocks() -> None:
    mine = [DevRelLine(id=i, engagement_id=7, account=f"Account {i:03d}", state=RequestState.asking, requester_id=SE,
                       candidate_id="U0DEVREL1", meeting_start=NOW, may_cancel=i % 2 == 0) for i in range(1, 121)]
    data = HomeData(
        user_id=SE, manager=False, engagements=[summary(id=i) for i in range(1, 16)], engagements_total=40, page=0,
        pages=3, devrel_requested=mine, devrel_to_answer=[], metrics=metrics(), is_new=True,
    )
    view = home_blocks.home_view(data)
    assert len(view["blocks"]) == 100
    for block in Block.parse_all(view["blocks"]):
        block.validate_json()
    action_ids = [b["accessory"]["action_id"] for b in view["blocks"] if "accessory" in b]
    assert len(action_ids) == len(set(action_ids))
    cancels = [a for a in action_ids if a.startswith("home_devrel_cancel:")]
    assert cancels and cancels[0] == "home_devrel_cancel:2"
    text = all_text(view["blocks"])
    # Requests beyond the room are counted, with where to cancel them instead.
    shown = sum(f"*Account {i:03d}*" in text for i in range(1, 121))
    assert f"…and {120 - shown} more of your requests" in text and "cancel them from their cards in your DMs" in text


def test_a_managers_home_with_a_quiet_team_says_what_is_missing_and_how_to_get_it() -> None:
    data = HomeData(user_id="U0MANAGE1", manager=True, engagements=[], engagements_total=0, page=0, pages=1,
                    devrel_requested=[], devrel_to_answer=[], metrics=metrics(), is_new=True)
    team = TeamHome(since=NOW, until=NOW, timezone="Europe/Berlin",
                    open_by_stage={stage.value: 0 for stage in OPEN_STAGES}, stale=[], stale_total=0,
                    devrel=DevRelFigures(), closed=ClosedCounts(), win_rate=None, mttc_days=MeanMedian())
    view = home_blocks.home_view(data, team=team)
    for block in Block.parse_all(view["blocks"]):
        block.validate_json()
    sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section" and "text" in b]
    assert home_blocks.WELCOME not in sections and home_blocks.MANAGER_WELCOME in sections
    assert sections[1].endswith("\nNothing closed yet this week.")
    assert sections[2] == ("*Pipeline by stage*\nNothing open. Engagements show here as your SEs open them with "
                           "`/engagement new`.")
    assert sections[3] == "*Stale engagements*\nNone: every open engagement moved within its stage's limit. :tada:"
    assert sections[4] == "*DevRel coverage this week*\nNo requests yet. SEs ask with `/devrel ACCOUNT`."
    assert "Your open engagements" not in all_text(view["blocks"])


def test_a_stage_entered_within_a_day_says_so_and_one_day_is_singular() -> None:
    from bot.blocks.engagement_text import stage_line

    assert stage_line(summary(days_in_stage=0)).startswith("*POC* for less than a day")
    assert stage_line(summary(days_in_stage=1)).startswith("*POC* for 1 day")

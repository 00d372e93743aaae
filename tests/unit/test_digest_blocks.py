"""The digest's Block Kit: within Slack's limits whatever the data, user text never acts as markup."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block

from bot.blocks import digest as blocks
from bot.blocks.text import MESSAGE_BLOCKS, SECTION_TEXT
from bot.services import digest
from models.enums import OPEN_STAGES
from models.schemas.digest import (
    ClosedCounts,
    DevRelFigures,
    Digest,
    EsatSummary,
    MeanMedian,
    OverdueAsset,
    OwnerFigures,
    SearchGap,
    SharedAsset,
    StaleLine,
)
from tests.support.text import all_text
from tests.scheduler_helpers import add_asset, add_engagement, add_search_miss, utc

BERLIN = ZoneInfo("Europe/Berlin")


def assert_within_limits(rendered: list[Block]) -> None:
    data = [block.to_dict() for block in rendered]
    assert len(data) <= MESSAGE_BLOCKS
    for block in Block.parse_all(data):
        block.validate_json()
    for item in data:
        text = item.get("text")
        if isinstance(text, dict):
            assert len(text["text"]) <= SECTION_TEXT
        fields = item.get("fields") or []
        assert len(fields) <= 10
        assert all(len(f["text"]) <= 2000 for f in fields)


def sample(**changes: object) -> Digest:
    base = Digest(
        week="2026-W47",
        since=datetime(2026, 11, 16, tzinfo=BERLIN),
        until=datetime(2026, 11, 23, tzinfo=BERLIN),
        timezone="Europe/Berlin",
        closed=ClosedCounts(won=2, lost=1, no_decision=0),
        win_rate=2 / 3,
        mttc_days=MeanMedian(mean=30.0, median=28.0, count=3),
        mttc_days_trailing_4w=MeanMedian(mean=35.0, median=33.0, count=8),
        mttc_days_trailing_12w=MeanMedian(mean=29.0, median=27.0, count=20),
        open_by_stage={stage.value: 1 for stage in OPEN_STAGES},
        stage_dwell_days_median={stage.value: None for stage in OPEN_STAGES},
        slowest_stage=None,
        stale=[],
        stale_total=0,
        devrel=DevRelFigures(),
        esat=EsatSummary(),
        top_assets=[],
        searches_without_results=[],
        trend=[],
        owners=[],
    )
    return base.model_copy(update=changes)


def name_of(user_id: str) -> str:
    return {"U0A1B2C3D": "Dana"}.get(user_id, user_id)


def test_comparisons_read_as_faster_or_slower_than_the_trailing_weeks() -> None:
    busy = sample(closed=ClosedCounts(won=4, lost=2), mttc_days=MeanMedian(mean=30.0, median=28.0, count=6))
    rendered, fallback = blocks.digest_message(busy, name_of)
    fields = [f["text"] for f in rendered[3].to_dict()["fields"]]
    assert fields == [
        "*This week*\nmean 30.0 days · median 28.0 days, from 6 closes",
        "*Trailing 4 weeks*\nmean 35.0 days · median 33.0 days, from 8 closes\nThis week: ▼ 5.0 days faster",
        "*Trailing 12 weeks*\nmean 29.0 days · median 27.0 days, from 20 closes\nThis week: ▲ 1.0 day slower",
    ]
    assert fallback == "Weekly presales digest 2026-W47: 6 closed (4 won), MTTC 30.0 days, 0 stale engagements."


def test_a_week_of_one_same_day_close_headlines_no_change() -> None:
    one = sample(closed=ClosedCounts(won=1), win_rate=1.0, mttc_days=MeanMedian(mean=0.4, median=0.4, count=1),
                 mttc_days_trailing_4w=MeanMedian(mean=50.8, median=49.0, count=9))
    rendered, _ = blocks.digest_message(one, name_of)
    fields = [f["text"] for f in rendered[3].to_dict()["fields"]]
    assert fields == [
        "*This week*\nmean 0.4 days · median 0.4 days, from 1 close",
        "*Trailing 4 weeks*\nmean 50.8 days · median 49.0 days, from 9 closes"
        "\nThis week: not compared: 1 close this week, 5 needed",
        "*Trailing 12 weeks*\nmean 29.0 days · median 27.0 days, from 20 closes"
        "\nThis week: not compared: 1 close this week, 5 needed",
    ]
    assert "faster" not in all_text([b.to_dict() for b in rendered]) and digest.MIN_CLOSES_TO_COMPARE == 5


def test_a_comparison_needs_enough_closes_on_both_sides() -> None:
    five = MeanMedian(mean=10.0, median=10.0, count=5)
    assert blocks.versus(five, MeanMedian(mean=20.0, median=20.0, count=5)) == "▼ 10.0 days faster"
    assert blocks.versus(five, MeanMedian(mean=20.0, median=20.0, count=4)) == \
        "not compared: 5 closes this week, 5 needed"
    assert blocks.versus(MeanMedian(), MeanMedian(mean=20.0, median=20.0, count=9)) == ""


def test_funnel_rows_read_as_sentences() -> None:
    dwell = {stage.value: None for stage in OPEN_STAGES} | {"discovery": 4.0}
    rendered, _ = blocks.digest_message(sample(stage_dwell_days_median=dwell, slowest_stage="discovery"), name_of)
    funnel = next(b.to_dict()["text"]["text"] for b in rendered if "Funnel" in str(b.to_dict()))
    assert "• Discovery · *1* open · median 4.0 days in stage" in funnel
    assert "• Demo · *1* open · none left it this week" in funnel
    assert "–" not in funnel


def test_empty_sections_say_so_instead_of_vanishing() -> None:
    rendered, _ = blocks.digest_message(sample(closed=ClosedCounts(), win_rate=None, mttc_days=MeanMedian()), name_of)
    texts = "\n".join(str(b.to_dict()) for b in rendered)
    for expected in ("no engagements closed", "No requests this week.", "No ratings this week.",
                     "No assets were shared this week.", "every search found something", "every open engagement moved",
                     "No engagement left a stage this week.", "every asset was verified in time"):
        assert expected in texts
    assert_within_limits(rendered)


def test_assets_overdue_for_review_name_their_verifier_and_how_long() -> None:
    overdue = OverdueAsset(asset_id=3, title="Quota <dashboards>", url="https://assets.example.com/q",
                           verifier_id="U0A1B2C3D", due_at=datetime(2026, 10, 30, 9, tzinfo=BERLIN), days_overdue=24)
    rendered, _ = blocks.digest_message(sample(overdue_assets=[overdue], overdue_assets_total=12), name_of)
    texts = "\n".join(str(b.to_dict()) for b in rendered)
    assert "*Assets overdue for review* (12; `epos assets due` lists them all)" in texts
    assert "<https://assets.example.com/q|Quota &lt;dashboards&gt;> · verifier Dana · due <!date^" in texts
    assert "(24 days overdue)" in texts


def test_devrel_coverage_reads_as_a_sentence() -> None:
    devrel = DevRelFigures(requests=8, accepted=6, accept_rate=0.75, median_minutes_to_accept=42.0, unanswered=1)
    rendered, _ = blocks.digest_message(sample(devrel=devrel), name_of)
    section = [b.to_dict()["text"]["text"] for b in rendered if "DevRel" in str(b.to_dict())][0]
    assert section == "*DevRel coverage*\n8 requests · 6 accepted (75%) · median time to accept 42 min · 1 unanswered"


def test_user_text_is_escaped_so_it_never_pings_or_links() -> None:
    stale = [StaleLine(engagement_id=1, account="<!channel> Acme & Co", opportunity="<https://evil|click>",
                       owner_id="U0A1B2C3D", stage="poc", days=30, threshold_days=21)]
    gaps = [SearchGap(query="<@U0ADMIN01> help", count=2)]
    assets = [SharedAsset(asset_id=1, title="Demo | <b>", url="https://assets.example/x", shares=2)]
    rendered, _ = blocks.digest_message(sample(stale=stale, stale_total=1, searches_without_results=gaps,
                                               top_assets=assets), name_of)
    text = "\n".join(str(b.to_dict()) for b in rendered)
    assert "<!channel>" not in text and "&lt;!channel&gt; Acme &amp; Co" in text
    assert "<@U0ADMIN01>" not in text and "&lt;@U0ADMIN01&gt; help" in text
    assert "<https://evil|click>" not in text
    assert "<https://assets.example/x|Demo ¦ &lt;b&gt;>" in text


def test_huge_lists_are_clipped_with_and_n_more() -> None:
    stale = [StaleLine(engagement_id=i, account="A" * 200, opportunity="O" * 200, owner_id=f"U0{i:07d}", stage="poc",
                       days=40, threshold_days=21) for i in range(10)]
    gaps = [SearchGap(query=f"query {i} " + "x" * 140, count=1) for i in range(10)]
    owners = [OwnerFigures(owner_id=f"U0{i:07d}", open=3, closed=ClosedCounts(won=1), win_rate=1.0,
                           mttc_days=MeanMedian(mean=20.0, median=20.0, count=1), stale=1) for i in range(400)]
    figures = sample(stale=stale, stale_total=480, searches_without_results=gaps, owners=owners)
    rendered, _ = blocks.digest_message(figures, name_of)
    assert_within_limits(rendered)
    stale_text = [b.to_dict()["text"]["text"] for b in rendered if "Stale engagements" in str(b.to_dict())][0]
    assert stale_text.startswith("*Stale engagements* (10 of 480, most overdue first)")
    assert "…and" in stale_text
    thread, _ = blocks.breakdown_message(figures, name_of)
    assert_within_limits(thread)
    assert len(thread) > 2


def test_a_very_large_team_is_cut_short_with_a_pointer_to_the_full_figures() -> None:
    owners = [OwnerFigures(owner_id=f"U0{i:07d}", open=3, closed=ClosedCounts(won=1, lost=2, no_decision=3),
                           win_rate=1 / 6, mttc_days=MeanMedian(mean=20.0, median=20.0, count=6), stale=2)
              for i in range(3000)]
    thread, _ = blocks.breakdown_message(sample(owners=owners), lambda user_id: "N" * 80)
    assert_within_limits(thread)
    last = thread[-1].to_dict()
    assert last["type"] == "context"
    assert "more SEs; `epos digest --week 2026-W47 --json` lists everyone" in last["elements"][0]["text"]


def test_the_digest_of_500_engagements_stays_within_block_kit_limits(database_url: str) -> None:
    rng = random.Random(47)
    stages = [stage.value for stage in OPEN_STAGES]
    for i in range(500):
        owner = f"U0SE{i % 120:05d}"
        opened = utc("2026-06-01 09:00") + timedelta(hours=rng.randrange(0, 24 * 150))
        steps = [(stages[0], opened.strftime("%Y-%m-%d %H:%M"))]
        moment = opened
        for stage in stages[1:rng.randrange(1, len(stages) + 1)]:
            moment += timedelta(days=rng.randrange(1, 20))
            steps.append((stage, moment.strftime("%Y-%m-%d %H:%M")))
        closed = None
        if i % 3 == 0:
            moment += timedelta(days=rng.randrange(1, 30))
            closed = (rng.choice(["won", "lost", "no_decision"]), moment.strftime("%Y-%m-%d %H:%M"))
        if moment > utc("2026-11-22 12:00"):
            continue
        account = f"<Account {i}> & " + "x" * 190
        add_engagement(account[:200], owner, steps, closed=closed, esat=rng.randrange(1, 6) if closed else None)
    for i in range(60):
        add_asset(f"Asset {i} " + "t" * 180, shared_at=["2026-11-18 10:00"] * (i % 5 + 1))
    for i in range(300):
        add_search_miss(f"missing thing {i} " + "q" * 170, "2026-11-19 10:00")

    figures = digest.compute("2026-W47", tz=BERLIN, now=utc("2026-11-23 08:00"))
    assert figures.stale_total > 10 and len(figures.stale) == 10
    assert len(figures.owners) > 50
    rendered, fallback = blocks.digest_message(figures, lambda user_id: user_id)
    assert_within_limits(rendered)
    assert len(fallback) < 3000
    thread, _ = blocks.breakdown_message(figures, lambda user_id: user_id)
    assert_within_limits(thread)


@pytest.mark.parametrize("value", [None, 0.04, 1.0, 12.345])
def test_days_read_naturally(value: float | None) -> None:
    expected = {None: "–", 0.04: "0.0 days", 1.0: "1.0 day", 12.345: "12.3 days"}[value]
    assert blocks.days(value) == expected


def test_plain_text_for_the_terminal_has_no_markup() -> None:
    assets = [SharedAsset(asset_id=1, title="K8s & you", url="https://assets.example/k8s", shares=3)]
    owners = [OwnerFigures(owner_id="U0A1B2C3D", open=2, closed=ClosedCounts(), win_rate=None,
                           mttc_days=MeanMedian(), stale=0)]
    text = blocks.digest_text(sample(top_assets=assets, owners=owners), name_of)
    assert "Weekly presales digest · 2026-W47\n=" in text
    assert "K8s & you (https://assets.example/k8s) · 3 shares" in text
    assert "Dana · 2 open · none closed · nothing stale" in text
    assert "*" not in text
    assert "16 Nov – 22 Nov 2026 (Europe/Berlin)" in text


def test_a_snoozed_stale_engagement_says_so() -> None:
    stale = [StaleLine(engagement_id=1, account="Acme", opportunity="Obs", owner_id="U0A1B2C3D", stage="poc", days=30,
                       threshold_days=21, snoozed_until=datetime(2026, 11, 27, 9, tzinfo=BERLIN))]
    rendered, _ = blocks.digest_message(sample(stale=stale, stale_total=1), name_of)
    assert "*Acme* (Obs) · POC · 30 days idle (limit 21) · Dana · snoozed until Fri 27 Nov" in str(rendered[8].to_dict())

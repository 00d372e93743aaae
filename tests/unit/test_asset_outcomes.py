"""Which assets help win, against a fixture computed by hand (October 2026, UTC; README › Assets in engagements).

Team, closed in October: Alder won 40 d, Birch won 30 d, Cedar lost 10 d, Dogwood won 50 d, Elm no decision
20 d, Hazel won 14 d, Ivy lost 20 d: 7 closed, 4 won (57%), median MTTC 20 d.
The Kubernetes demo went into Alder, Birch, Cedar, Dogwood and Elm while they were open (3 won of 5: 60%,
median MTTC 30 d) and into Fir (open) in October; into Gum (open) only in September, into Hazel only after it
closed, and into a practice engagement: none of those three count. The sizing proofshop went into Cedar and
Fir: two engagements, counts only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, update

from bot import clock, db
from bot.blocks import asset_outcomes as outcome_blocks
from bot.blocks.asset_card import card_dicts
from bot.blocks.asset_outcomes import card_line
from bot.blocks.digest import digest_message
from bot.cli import main
from bot.services import asset_outcomes, assets, digest, people
from models import AssetShare, Engagement
from models.enums import Outcome
from models.schemas.asset_outcomes import DealUse
from models.schemas.assets import SearchPage
from tests.conftest import SE
from tests.scheduler_helpers import SE2, add_asset, add_engagement, utc

THIRD = "U0C3D4E5F"
OCTOBER = (utc("2026-10-01 00:00"), utc("2026-11-01 00:00"))


def share(asset_id: int, engagement_id: int, when: str, user_id: str = SE) -> None:
    with db.transaction() as session:
        session.add(AssetShare(asset_id=asset_id, user_id=user_id, channel_id="C0DEALS01",
                               engagement_id=engagement_id, shared_at=utc(when)))


@pytest.fixture
def deals(database_url: str) -> dict[str, int]:
    e = {
        "alder": add_engagement("Alder", SE, [("discovery", "2026-09-01 10:00"), ("poc", "2026-09-20 10:00")],
                                closed=("won", "2026-10-11 10:00")),
        "birch": add_engagement("Birch", SE, [("preparation", "2026-09-21 10:00")], closed=("won", "2026-10-21 10:00")),
        "cedar": add_engagement("Cedar", SE2, [("discovery", "2026-10-01 10:00")], closed=("lost", "2026-10-11 10:00")),
        "dogwood": add_engagement("Dogwood", SE, [("discovery", "2026-08-12 10:00")],
                                  closed=("won", "2026-10-01 10:00")),
        "elm": add_engagement("Elm", SE, [("discovery", "2026-10-06 10:00"), ("demo", "2026-10-15 10:00")],
                              closed=("no_decision", "2026-10-26 10:00")),
        "fir": add_engagement("Fir", SE, [("discovery", "2026-10-02 10:00")]),
        "gum": add_engagement("Gum", SE, [("discovery", "2026-09-01 10:00")]),
        "hazel": add_engagement("Hazel", SE, [("discovery", "2026-10-01 10:00")], closed=("won", "2026-10-15 10:00")),
        "ivy": add_engagement("Ivy", SE2, [("discovery", "2026-10-05 10:00")], closed=("lost", "2026-10-25 10:00")),
        "practice": add_engagement("Practice", SE, [("discovery", "2026-10-01 10:00")],
                                   closed=("won", "2026-10-10 10:00")),
    }
    with db.transaction() as session:
        session.execute(update(Engagement).where(Engagement.id == e["practice"]).values(practice=True))
    e["k8s"] = add_asset("Kubernetes demo")
    e["sizing"] = add_asset("Sizing proofshop")
    for engagement, when, who in [("alder", "2026-09-10 10:00", SE), ("alder", "2026-09-25 10:00", SE2),
                                  ("birch", "2026-10-01 10:00", SE), ("cedar", "2026-10-05 10:00", SE2),
                                  ("dogwood", "2026-09-01 10:00", SE), ("elm", "2026-10-20 10:00", SE),
                                  ("fir", "2026-10-15 10:00", SE), ("gum", "2026-09-05 10:00", THIRD),
                                  ("hazel", "2026-10-20 10:00", THIRD), ("practice", "2026-10-02 10:00", THIRD)]:
        share(e["k8s"], e[engagement], when, who)
    share(e["sizing"], e["cedar"], "2026-10-06 10:00", SE2)
    share(e["sizing"], e["fir"], "2026-10-16 10:00", SE)
    return e


def test_the_report_matches_the_hand_computed_fixture(deals: dict[str, int]) -> None:
    report = asset_outcomes.report(*OCTOBER)

    assert (report.team_closed, report.team_won) == (7, 4)
    assert report.team_win_rate == pytest.approx(4 / 7)
    assert report.team_mttc_days_median == pytest.approx(20)
    assert [a.title for a in report.assets] == ["Kubernetes demo", "Sizing proofshop"]
    k8s = report.assets[0]
    assert [e.account for e in k8s.engagements] == ["Dogwood", "Alder", "Birch", "Cedar", "Fir", "Elm"]
    assert [(k8s.count(o)) for o in (Outcome.won, Outcome.lost, Outcome.no_decision, None)] == [3, 1, 1, 1]
    assert k8s.rates_shown
    assert k8s.win_rate == pytest.approx(0.6)
    assert k8s.mttc_days_median == pytest.approx(30)
    # Each engagement's stage when the demo first went in (Alder's second share, in POC, does not change it).
    assert k8s.stages == {"discovery": 4, "preparation": 1, "demo": 1}
    assert k8s.sharers == [SE, SE2]


def test_an_asset_in_fewer_than_five_closed_engagements_shows_counts_only(deals: dict[str, int]) -> None:
    sizing = asset_outcomes.report(*OCTOBER).assets[1]

    assert [(e.account, e.outcome) for e in sizing.engagements] == [("Cedar", Outcome.lost), ("Fir", None)]
    assert not sizing.rates_shown
    assert sizing.win_rate is None and sizing.mttc_days_median is None
    # Four closed, three of them won, are still too few for a 75% win rate to mean much.
    lucky = add_asset("Lucky workshop")
    for engagement in ("alder", "birch", "dogwood", "ivy"):
        share(lucky, deals[engagement], "2026-09-30 10:00")
    lucky_line = next(a for a in asset_outcomes.report(*OCTOBER).assets if a.title == "Lucky workshop")
    assert (lucky_line.closed, lucky_line.count(Outcome.won), lucky_line.win_rate) == (4, 3, None)


def test_the_card_counts_and_the_digest_list_read_the_same_engagements(deals: dict[str, int]) -> None:
    uses = asset_outcomes.deal_use([deals["k8s"], deals["sizing"], 999])

    assert uses[deals["k8s"]].model_dump() == {"won": 3, "closed": 5}
    assert uses[deals["sizing"]].model_dump() == {"won": 0, "closed": 1}
    assert 999 not in uses
    assert [(a.title, a.won, a.closed) for a in asset_outcomes.won_deals(*OCTOBER)] == [("Kubernetes demo", 3, 5)]
    assert asset_outcomes.won_deals(utc("2026-11-01 00:00"), utc("2026-12-01 00:00")) == []


@pytest.fixture
def cli_env(deals: dict[str, int], database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, int]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("EPOS_TIMEZONE", "UTC")
    clock.set_now(utc("2026-11-15 00:00"))
    people.remember(SE, name="Sam Carter", timezone="UTC")
    return deals


def test_the_report_as_json_names_assets_people_and_accounts(cli_env: dict[str, int],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assets", "report", "--since", "2026-10-01", "--until", "2026-10-31", "--json"]) == 0

    data = json.loads(capsys.readouterr().out)
    assert data["window"] == {"since": "2026-10-01T00:00:00+00:00", "until": "2026-11-01T00:00:00+00:00"}
    assert data["min_closed_for_rates"] == 5
    assert data["team"] == {"closed": 7, "won": 4, "win_rate": 0.5714, "mttc_days_median": pytest.approx(20)}
    k8s, sizing = data["assets"]
    assert {key: k8s[key] for key in ("title", "type", "engagements", "won", "lost", "no_decision", "open",
                                      "rates_shown", "win_rate", "ses", "shared_by")} == {
        "title": "Kubernetes demo", "type": "demo", "engagements": 6, "won": 3, "lost": 1, "no_decision": 1, "open": 1,
        "rates_shown": True, "win_rate": 0.6, "ses": 2, "shared_by": ["Sam Carter", SE2]}
    assert k8s["mttc_days_median"] == pytest.approx(30)
    assert k8s["used_in"][0] == {
        "account": "Dogwood", "opportunity": "Dogwood opportunity", "owner": "Sam Carter", "stage_at_share": "discovery",
        "first_shared_at": "2026-09-01T10:00:00+00:00", "outcome": "won", "closed_at": "2026-10-01T10:00:00+00:00",
        "mttc_days": pytest.approx(50)}
    assert k8s["used_in"][4]["outcome"] == "open"
    assert (sizing["rates_shown"], sizing["win_rate"], sizing["mttc_days_median"]) == (False, None, None)


def test_the_report_as_text_says_when_an_asset_shows_counts_only(cli_env: dict[str, int], tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "report.txt"
    assert main(["assets", "report", "--since", "2026-10-01", "--until", "2026-10-31", "-o", str(target)]) == 0
    assert capsys.readouterr().out == f"2 assets written to {target}\n"

    text = target.read_text(encoding="utf-8")
    assert "Assets used in engagements, 1 Oct 2026 – 31 Oct 2026 (UTC)" in text
    assert "The team: 7 engagements closed, 4 won (57%), median time to close 20.0 days." in text
    assert "win rate 60% (team 57%) · median time to close 30.0 days (team 20.0 days)" in text
    assert "Dogwood (Dogwood opportunity) · Sam Carter · shared in Discovery · won 1 Oct 2026, 50.0 days after it opened" in text
    sizing = text[text.index("Sizing proofshop"):]
    assert "counts only: fewer than 5 closed" in sizing and "win rate" not in sizing


def test_a_bad_date_is_one_line_saying_how_to_write_it(cli_env: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assets", "report", "--since", "1 Oct"]) == 1
    assert capsys.readouterr().err == "epos assets report: --since '1 Oct' is not a date; write it like 2026-10-01\n"


def test_a_search_card_says_how_many_won_engagements_its_asset_was_used_in(deals: dict[str, int]) -> None:
    page = assets.search("demo kubernetes")
    k8s = next(item for item in page.items if item.card.id == deals["k8s"])

    assert k8s.deals == DealUse(won=3, closed=5)
    # The page's counts come from one grouped query, however many cards it holds.
    pages: list[SearchPage] = []
    assert _share_queries(lambda: pages.append(assets.search("demo"))) == 1
    assert {item.card.title: item.deals for item in pages[0].items} == {
        "Kubernetes demo": DealUse(won=3, closed=5), "Sizing proofshop": DealUse(won=0, closed=1)}
    assert LINE in _context_texts(card_dicts(k8s))
    # The same card without won engagements has no such line, and the remembered blocks are not mixed up.
    assert not any("🏆" in text for text in _context_texts(card_dicts(k8s.model_copy(update={"deals": None}))))
    no_wins = k8s.model_copy(update={"deals": DealUse(won=0, closed=1)})
    assert not any("🏆" in text for text in _context_texts(card_dicts(no_wins)))
    assert card_line(DealUse(won=1, closed=1)) == "🏆 Used in 1 won engagement of 1 closed"


LINE = "🏆 Used in 3 won engagements of 5 closed"


def _share_queries(run: Callable[[], object]) -> int:
    statements: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(db.engine(), "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(db.engine(), "before_cursor_execute", note)
    return sum(1 for statement in statements if "asset_shares" in statement)


def _context_texts(blocks: list[dict]) -> list[str]:
    return [element["text"] for block in blocks if block["type"] == "context" for element in block["elements"]]


def test_the_digest_tells_curators_which_assets_were_used_in_won_engagements_this_quarter(
        deals: dict[str, int]) -> None:
    week = digest.compute("2026-W44", tz=ZoneInfo("UTC"), now=utc("2026-11-02 09:00"))

    assert week.figures()["assets_in_won_engagements"] == {
        "since": "2026-10-01T00:00:00+00:00",
        "assets": [{"title": "Kubernetes demo", "url": "https://assets.example/kubernetes-demo", "won": 3, "closed": 5}]}
    posted, _ = digest_message(week, lambda user_id: user_id)
    assert ("*Assets in won engagements* (Q4 2026 so far; every asset: `epos assets report`)\n"
            "• <https://assets.example/kubernetes-demo|Kubernetes demo> · used in 3 won engagements (5 closed)"
            ) in [block.to_dict().get("text", {}).get("text") for block in posted]
    assert outcome_blocks.digest_section([], "Q1 2027") == (
        "*Assets in won engagements*\nNo asset was shared into an engagement won in Q1 2027 so far.")

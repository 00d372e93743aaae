"""Field-asset interactions per engagement, against a fixture computed by hand (window September 2026, UTC).

An interaction is an asset shared into the engagement's channel, each asset once however often shared.
  E0  no shares                                   opened 09-01 → won 09-11    10 d
  E1  one demo                                    opened 09-01 → lost 09-21   20 d
  E2  a demo shared twice and a proofshop         opened 09-01 → won 09-29    28 d
  E3  a proofshop and a workshop                  opened 09-02 → lost 09-28   26 d
  E4  one demo, still open: not counted.
  0 interactions: closed 1, win rate 1.0, median 10; 1: closed 1, win rate 0.0, median 20;
  2 or more: closed 2, win rate 0.5, median (28 + 26) / 2 = 27.
"""

from __future__ import annotations

import json

import pytest

from bot import clock
from bot.cli import main
from bot.services import assets, interactions, metrics
from models.enums import Outcome
from tests.assets_helpers import asset_by_title, import_sample
from tests.engagements_helpers import close, open_engagement, utc
from tests.unit.test_engagements_cli import cli_env  # noqa: F401 - the fixture

DEMO = "Observability in 15 minutes: from alert to root cause"
PROOFSHOP = "Proving 5 TB/day log ingest on a customer-sized deployment"
WORKSHOP = "Observability fundamentals: hands-on lab for SRE teams"


def share(title: str, channel: str, when: str) -> None:
    assets.record_share(asset_by_title(title).id, "U0A1B2C3D", channel, now=utc(when))


@pytest.fixture
def shared(database_url: str) -> None:
    assets.reset_index()
    import_sample()
    e0 = open_engagement("E0", "2026-09-01", channel_id="C0E0")
    close(e0, Outcome.won, "2026-09-11")
    e1 = open_engagement("E1", "2026-09-01", channel_id="C0E1")
    share(DEMO, "C0E1", "2026-09-02")
    close(e1, Outcome.lost, "2026-09-21")
    e2 = open_engagement("E2", "2026-09-01", channel_id="C0E2")
    share(DEMO, "C0E2", "2026-09-02")
    share(DEMO, "C0E2", "2026-09-03")
    share(PROOFSHOP, "C0E2", "2026-09-04")
    close(e2, Outcome.won, "2026-09-29")
    e3 = open_engagement("E3", "2026-09-02", channel_id="C0E3")
    share(PROOFSHOP, "C0E3", "2026-09-03")
    share(WORKSHOP, "C0E3", "2026-09-04")
    close(e3, Outcome.lost, "2026-09-28")
    open_engagement("E4", "2026-09-05", channel_id="C0E4")
    share(DEMO, "C0E4", "2026-09-06")
    share(DEMO, "C0OTHER", "2026-09-06")  # no engagement's channel: no interaction of any


def test_the_figures_by_interactions_used_match_the_hand_computation(shared: None) -> None:
    figures = metrics.interaction_figures(utc("2026-09-01"), utc("2026-10-01"))

    assert {k: (f.closed, f.win_rate, f.mttc_days_median) for k, f in figures.items()} == {
        "0": (1, pytest.approx(1.0), pytest.approx(10.0)),
        "1": (1, pytest.approx(0.0), pytest.approx(20.0)),
        "2+": (2, pytest.approx(0.5), pytest.approx(27.0)),
    }


def test_stats_json_has_the_interactions(shared: None, cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    assert main(["stats", "--since", "2026-09-01", "--until", "2026-09-30", "--json"]) == 0

    assert json.loads(capsys.readouterr().out)["interactions"] == {
        "0": {"closed": 1, "win_rate": 1.0, "mttc_days_median": 10.0},
        "1": {"closed": 1, "win_rate": 0.0, "mttc_days_median": 20.0},
        "2+": {"closed": 2, "win_rate": 0.5, "mttc_days_median": 27.0},
    }


def test_only_the_first_share_of_a_second_heavy_interaction_gets_the_kind_word(shared: None) -> None:
    clock.set_now(utc("2026-10-01"))
    e5 = "C0E5"
    open_engagement("E5", "2026-09-20", channel_id=e5)
    share(PROOFSHOP, e5, "2026-09-21")
    assert interactions.second_heavy(asset_by_title(PROOFSHOP).id, e5) is None
    share(DEMO, e5, "2026-09-22")
    assert interactions.second_heavy(asset_by_title(DEMO).id, e5) is None
    share(WORKSHOP, e5, "2026-09-23")

    note = interactions.second_heavy(asset_by_title(WORKSHOP).id, e5)

    assert note is not None and note.account == "E5"
    assert note.figures["2+"].mttc_days_median == pytest.approx(27.0)
    share(WORKSHOP, e5, "2026-09-24")
    assert interactions.second_heavy(asset_by_title(WORKSHOP).id, e5) is None

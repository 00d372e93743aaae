"""The challenge map: the shipped default, a bad file named by line, the form's choices, the card's chain,
assets and DevRel people found through the needs, and the figures by challenge."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot import db
from bot.blocks.engagement_card import card_blocks
from bot.blocks.engagement_forms import new_form
from bot.cli.engagements import by_challenge_json
from bot.errors import ConfigError, InvalidInput
from bot.services import assets, challenges, devrel, engagements, metrics
from bot.services.actors import Actor
from handlers.engagements.forms import read_new_form
from models import Engagement
from models.enums import Outcome, Stage
from models.schemas.devrel import RequestDraft
from models.schemas.engagements import NewEngagementIn
from tests.assets_helpers import EXAMPLES
from tests.conftest import SE
from tests.devrel_helpers import HANNAH, LENA, MEETING, NOW, POLICY, add_engagement, load_roster
from tests.engagements_helpers import FIELD, SE_ACTOR, close, new_form_values, utc


@pytest.fixture(autouse=True)
def _default_map_after() -> Iterator[None]:
    yield
    challenges.configure(None)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "team-challenges.yaml"
    path.write_text(text)
    return path


# ----- the file ---------------------------------------------------------------------------------------------
def test_the_default_map_speaks_the_catalogue_and_roster_vocabulary() -> None:
    chart = challenges.configure(None)
    assert {"observability", "security"} <= set(chart.areas) and len(chart.areas) >= 4
    assert chart.area("Observability").challenge("downtime-unknown-cause").text == (
        "Unknown cause of downtime hurts customer satisfaction")
    assert chart.challenge("cloud-blind-spots").text == "Limited visibility and blind spots in cloud workloads"
    # Every topic a need names is one the example catalogue and roster use, so each finds something.
    asset_topics = {t for entry in yaml.safe_load((EXAMPLES / "assets.yaml").read_text()) for t in entry["topics"]}
    roster_topics = {t for entry in yaml.safe_load((EXAMPLES / "roster.yaml").read_text()) for t in entry["topics"]}
    needs = [need for area in chart.areas.values() for need in area.needs]
    assert {t for need in needs for t in need.asset_topics} <= asset_topics
    assert {t for need in needs for t in need.devrel_topics} <= roster_topics


def _map(challenge: str, needs: str = "") -> str:
    """A one-area map: the challenge's lines as given, then a need `tracing` (the challenge on lines 4-6)."""
    return ("observability:\n  label: O\n  challenges:\n" + challenge + "  needs:\n"
            "    - id: tracing\n      text: Distributed tracing\n      asset_topics: [apm]\n" + needs)


DOWNTIME = "    - id: downtime\n      text: Downtime\n      needs: [tracing]\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_map("    - id: downtime\n      text: Downtime\n      needs: [tracing, logs]\n"),
         "line 6, field observability.challenges.1.needs.2: no need 'logs' in this focus area"),
        (_map(DOWNTIME + "      owner: me\n"),
         "line 7, field observability.challenges.1.owner: Extra inputs are not permitted"),
        (_map(DOWNTIME, "    - id: downtime\n      text: Again\n      asset_topics: [apm]\n"),
         "line 11, field observability.needs.2.id: the id 'downtime' is already used at line 4"),
        (_map(DOWNTIME, "    - id: logs\n      text: Logs\n      asset_topics: []\n"),
         "line 13, field observability.needs.2.asset_topics: List should have at least 1 item"),
        ("Observability Area:\n  label: O\n", "line 1, field Observability Area: name focus areas in lower-case"),
        ("observability:\n  label: O\n  challenges: [\n", "line 4: is not valid YAML"),
    ],
)
def test_a_bad_map_stops_epos_naming_the_file_and_the_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        challenges.configure(path)
    assert str(raised.value).startswith(f"{path}: {expected}")


def test_a_team_map_replaces_the_default(tmp_path: Path) -> None:
    path = write(tmp_path, _map(DOWNTIME))
    chart = challenges.configure(path)
    assert list(chart.areas) == ["observability"]
    assert [need.text for need in challenges.current().needs_of("downtime")] == ["Distributed tracing"]


# ----- the form -------------------------------------------------------------------------------------------
def _input(view: dict, prefix: str) -> dict | None:
    return next((b for b in view["blocks"] if str(b.get("block_id", "")).startswith(prefix)), None)


def test_the_form_offers_the_focus_challenges_then_the_needs_they_map_to() -> None:
    chart = challenges.current()
    blank = new_form(today=NOW.date(), chart=chart)
    focus = _input(blank, "engagement_focus")
    assert focus["dispatch_action"] is True
    assert [o["value"] for o in focus["element"]["options"]][:2] == ["observability", "security"]
    assert _input(blank, "engagement_challenge_pick") is None

    security = new_form(today=NOW.date(), chart=chart, focus="security")
    pick = _input(security, "engagement_challenge_pick")
    assert pick["block_id"] == "engagement_challenge_pick:security" and pick["dispatch_action"] is True
    assert [o["text"]["text"] for o in pick["element"]["options"]][0] == (
        "Limited visibility and blind spots in cloud workloads")
    assert "engagement_challenge" in {b.get("block_id") for b in security["blocks"]}
    assert _input(security, "engagement_needs_pick") is None

    picked = new_form(today=NOW.date(), chart=chart, focus="security", challenge_id="cloud-blind-spots")
    needs = _input(picked, "engagement_needs_pick")
    assert needs["block_id"] == "engagement_needs_pick:cloud-blind-spots"
    assert [o["text"]["text"] for o in needs["element"]["initial_options"]] == [
        "Posture management across accounts", "Security events from every source in one SIEM",
        "Detection rules that cover the attacks that matter"]
    # Free text stays for what the map does not hold.
    assert {"engagement_challenge", "engagement_needs"} <= {b.get("block_id") for b in picked["blocks"]}


def test_the_submitted_form_carries_the_challenge_and_the_needs_left_ticked() -> None:
    values = new_form_values(focus="security", challenge="", needs="")
    values["engagement_challenge_pick:security"] = {FIELD: {"type": "static_select", "selected_option": {
        "value": "cloud-blind-spots", "text": {"type": "plain_text", "text": "Limited visibility"}}}}
    values["engagement_needs_pick:cloud-blind-spots"] = {FIELD: {"type": "checkboxes", "selected_options": [
        {"value": "cloud-posture", "text": {"type": "plain_text", "text": "Posture"}}]}}
    data = read_new_form(values)
    assert (data.challenge_id, data.need_ids) == ("cloud-blind-spots", ["cloud-posture"])
    # Sent before Slack showed the needs of the challenge: it brings all of them.
    del values["engagement_needs_pick:cloud-blind-spots"]
    assert read_new_form(values).need_ids == ["cloud-posture", "central-security-logs", "detection-coverage"]


def test_a_challenge_of_another_focus_is_refused_on_its_field(database_url: str) -> None:
    data = NewEngagementIn(account="Acme", opportunity="SIEM", seller_id="U0SELLER1", focus="security",
                           challenge_id="downtime-unknown-cause")
    with pytest.raises(InvalidInput) as raised:
        engagements.create(SE_ACTOR, data, now=NOW)
    assert raised.value.field == "challenge_id" and "not one of this focus area" in str(raised.value)


# ----- the chain in use ---------------------------------------------------------------------------------------
def _open_mapped(focus: str, challenge_id: str, need_ids: list[str], account: str = "Northbeam Logistics") -> int:
    data = NewEngagementIn(account=account, opportunity=f"{account} platform", seller_id="U0SELLER1", focus=focus,
                           challenge_id=challenge_id, need_ids=need_ids, stage=Stage.discovery)
    return engagements.create(SE_ACTOR, data, now=NOW).engagement.id


def test_the_card_shows_challenge_needs_and_matching_assets(catalogue: None) -> None:
    engagement_id = _open_mapped("observability", "observability-cost", ["tiered-retention", "central-log-search"])
    card = engagements.card(engagement_id, viewer=SE_ACTOR, now=NOW)
    assert card.chain is not None and card.chain.challenge == "Monitoring costs grow faster than the business"
    assert [need.text for need in card.chain.needs] == ["Tiered retention that keeps old data cheap",
                                                       "Central log search with 30-day retention"]
    retention = card.chain.needs[0].assets
    assert retention and all(a.url for a in retention)
    text = str([b.to_dict() for b in card_blocks(card)])
    assert "Challenge: *Monitoring costs grow faster than the business*" in text
    assert f"<{retention[0].url}|{retention[0].title}>" in text


def test_stage_posts_rank_assets_tagged_with_the_needs_first(catalogue: None) -> None:
    plain = engagements.create(SE_ACTOR, NewEngagementIn(
        account="Acme", opportunity="Acme platform", seller_id="U0SELLER1", focus="observability",
        stage=Stage.discovery), now=NOW).engagement.id
    mapped = _open_mapped("observability", "kubernetes-blind-spots", ["kubernetes-monitoring"])
    unmapped = [a.title for a in engagements.playbook_post(plain, now=NOW).assets]
    mapped_titles = [a.title for a in engagements.playbook_post(mapped, now=NOW).assets]
    # Discovery's types; the two tagged with both of the need's topics (kubernetes, infrastructure
    # monitoring) first, then the best for the focus as before.
    assert mapped_titles == ["Kubernetes monitoring workshop", "Kubernetes cluster health at a glance", unmapped[0]]
    assert not any("Kubernetes" in title for title in unmapped)


def test_asset_searches_in_a_deal_channel_rank_the_deals_needs_first(catalogue: None) -> None:
    data = NewEngagementIn(account="Polaris", opportunity="5G core", seller_id="U0SELLER1", focus="observability",
                           challenge_id="kubernetes-blind-spots", need_ids=["kubernetes-monitoring"],
                           channel_id="C0POLARIS")
    engagements.create(SE_ACTOR, data, now=NOW)
    assert engagements.need_topics_in("C0POLARIS") == ["kubernetes", "infrastructure monitoring"]
    assert engagements.need_topics_in("C0ELSEWHERE") == [] and engagements.need_topics_in("D0DIRECT1") == []

    elsewhere = [item.card for item in assets.search("observability").items]
    in_the_deal = [item.card for item in assets.search(
        "observability", prefer_topics=engagements.need_topics_in("C0POLARIS")).items]

    assert "kubernetes" not in elsewhere[0].topics
    assert "kubernetes" in in_the_deal[0].topics and "infrastructure monitoring" in in_the_deal[0].topics
    assert {card.id for card in in_the_deal} == {card.id for card in elsewhere}


def test_a_devrel_person_is_chosen_because_of_a_mapped_need(database_url: str) -> None:
    load_roster()

    def asked(need_ids: list[str]) -> str | None:
        engagement_id = add_engagement(account=f"Fleet {len(need_ids)}", focus="fleet platform")
        if need_ids:
            with db.transaction() as session:
                session.get(Engagement, engagement_id).need_ids = need_ids
        draft = RequestDraft(engagement_id=engagement_id, meeting_start=MEETING, duration_minutes=60, topics=[],
                             meeting_link="https://meet.example.com/abc")
        update = devrel.create_request(Actor(user_id=SE), draft, policy=POLICY, now=NOW)
        return update.asked.slack_id if update.asked else None

    # Nobody knows "fleet platform": the first by name is asked. Tracing brings the APM expert.
    assert asked([]) == HANNAH
    assert asked(["distributed-tracing"]) == LENA


# ----- figures ---------------------------------------------------------------------------------------------
def test_win_rate_and_mttc_by_challenge_counts_only_below_five(database_url: str) -> None:
    # downtime-unknown-cause: 5 closed (days 10, 20, 30, 40, 50; won, won, lost, won, no decision) → win
    # rate 3/5, MTTC mean and median 30. cloud-blind-spots: 2 closed → counts only. A practice one, an
    # open one and one with no challenge count for nothing.
    outcomes = [Outcome.won, Outcome.won, Outcome.lost, Outcome.won, Outcome.no_decision]
    for number, outcome in enumerate(outcomes, start=1):
        engagement_id = engagements.create(SE_ACTOR, NewEngagementIn(
            account=f"Down {number}", opportunity="o", seller_id="U0SELLER1", focus="observability",
            challenge_id="downtime-unknown-cause"), now=utc("2026-09-01")).engagement.id
        close(engagement_id, outcome, f"2026-09-{1 + 10 * number:02d}" if number < 3 else
              ["2026-10-01", "2026-10-11", "2026-10-21"][number - 3])
    for number, outcome in enumerate([Outcome.won, Outcome.lost], start=1):
        engagement_id = engagements.create(SE_ACTOR, NewEngagementIn(
            account=f"Cloud {number}", opportunity="o", seller_id="U0SELLER1", focus="security",
            challenge_id="cloud-blind-spots"), now=utc("2026-09-01")).engagement.id
        close(engagement_id, outcome, "2026-09-15")
    practice = engagements.create(SE_ACTOR, NewEngagementIn(
        account="Practice", opportunity="o", seller_id="U0SELLER1", focus="security",
        challenge_id="cloud-blind-spots"), now=utc("2026-09-01"), practice=True).engagement.id
    close(practice, Outcome.won, "2026-09-10")
    engagements.create(SE_ACTOR, NewEngagementIn(account="Open", opportunity="o", seller_id="U0SELLER1",
                                                  focus="observability", challenge_id="downtime-unknown-cause"),
                       now=utc("2026-09-01"))
    plain = engagements.create(SE_ACTOR, NewEngagementIn(account="Plain", opportunity="o", seller_id="U0SELLER1",
                                                         focus="observability"), now=utc("2026-09-01")).engagement.id
    close(plain, Outcome.won, "2026-09-05")

    data = by_challenge_json(metrics.challenge_figures(utc("2026-09-01"), utc("2026-12-01")))

    assert data == {
        "cloud-blind-spots": {"challenge": "Limited visibility and blind spots in cloud workloads", "focus": "security",
                              "closed": {"won": 1, "lost": 1, "no_decision": 0}, "win_rate": None, "mttc_days": None},
        "downtime-unknown-cause": {"challenge": "Unknown cause of downtime hurts customer satisfaction",
                                   "focus": "observability", "closed": {"won": 3, "lost": 1, "no_decision": 1},
                                   "win_rate": 0.6, "mttc_days": {"mean": 30.0, "median": 30.0, "count": 5}},
    }

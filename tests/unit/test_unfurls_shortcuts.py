"""Link previews and message shortcuts, their rules: which pasted links are an asset's, what a preview shows,
how a message becomes a search, a note or a DevRel brief, and the unfurl domains kept in step."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import update

from bot import db, doctor
from bot.blocks.asset_unfurls import unfurl_blocks
from bot.blocks.message_shortcuts import message_note_form
from bot.config import load_settings
from bot.errors import ConfigError
from bot.services import asset_unfurls
from bot.services.message_shortcuts import brief_from_message, message_query, note_from_message
from models import Asset
from models.enums import AssetStatus
from models.schemas.devrel import EngagementChoice
from tests.assets_helpers import asset_by_url
from tests.support.text import all_text
from tests.unit.test_assets_blocks import card

DOMAINS = ["assets.example.com"]
KUBERNETES = "https://assets.example.com/demos/kubernetes-cluster-health"
SLO = "https://assets.example.com/demos/slo-business-view"


def test_a_link_finds_its_asset_with_or_without_a_closing_slash_and_drafts_are_left_alone(catalogue: None) -> None:
    with db.transaction() as session:
        session.execute(update(Asset).where(Asset.url == SLO).values(status=AssetStatus.draft))
    found = asset_unfurls.lookup([KUBERNETES + "/", SLO, "https://assets.example.com/nothing",
                                  "https://other.example.org/demos/kubernetes-cluster-health"], DOMAINS)
    assert [(u.url, u.card.url) for u in found] == [(KUBERNETES + "/", KUBERNETES)]
    assert asset_unfurls.lookup([KUBERNETES], ["docs.example.com"]) == []  # not a domain epos previews


def test_an_archived_assets_replacement_is_the_newest_published_of_its_type_and_topic(catalogue: None) -> None:
    archived = asset_by_url(KUBERNETES)
    assert archived is not None
    with db.transaction() as session:
        session.execute(update(Asset).where(Asset.url == KUBERNETES).values(status=AssetStatus.archived))
    (found,) = asset_unfurls.lookup([KUBERNETES], DOMAINS)
    assert found.archived and found.replacement is not None
    replacement = found.replacement
    assert replacement.type == archived.type and replacement.status == AssetStatus.published
    assert {t.casefold() for t in replacement.topics} & {t.casefold() for t in archived.topics}


def valid(blocks: list[dict]) -> list[dict]:
    for block in Block.parse_all(blocks):
        block.validate_json()
    return blocks


def test_a_preview_is_the_search_card_without_share_or_curation() -> None:
    labels = [e["text"]["text"] for b in valid(unfurl_blocks(card(), None)) if b["type"] == "actions" for e in b["elements"]]
    assert labels == ["👍 Useful", "👎 Not useful"]
    assert "Useful" not in all_text(unfurl_blocks(card(), None, vote=False))


def test_an_archived_preview_offers_the_replacement_or_the_search_to_run() -> None:
    old = card(3, status="archived", topics=["Observability"])
    with_new = all_text(valid(unfurl_blocks(old, card(9, title="Newer demo", topics=["observability"]))))
    assert "was archived" in with_new and "The newest Demo on observability is this one:" in with_new
    assert "Newer demo" in with_new
    without = all_text(valid(unfurl_blocks(old, None)))
    assert "`/asset demo observability`" in without
    walkthrough = card(4, status="archived", type="feature_walkthrough", topics=[])
    assert "`/asset feature walkthrough`" in all_text(unfurl_blocks(walkthrough, None))


def test_a_message_becomes_a_note_with_its_link_and_a_long_one_is_clipped_saying_so() -> None:
    short = note_from_message("  They need SSO.  ", "https://x.slack.com/archives/C1/p1")
    assert short.text == "They need SSO.\n\nFrom a Slack message: https://x.slack.com/archives/C1/p1"
    assert not short.clipped
    long = note_from_message("a" * 2500, "https://x.slack.com/archives/C1/p1")
    assert long.clipped and long.message_length == 2500 and len(long.text) <= 2000
    assert "[… clipped: the message is 2,500 characters and a note holds 2,000; the whole message is at the link]" in long.text
    assert long.text.endswith("From a Slack message: https://x.slack.com/archives/C1/p1")
    unlinked = note_from_message("b" * 2500, None)
    assert "the whole message stays in its conversation" in unlinked.text and unlinked.text.endswith("From a Slack message.")


def test_the_note_form_picks_the_deal_and_warns_of_a_clipped_message() -> None:
    choice = EngagementChoice(id=4, account="Northbeam", opportunity="Fleet", stage="poc", focus="observability",
                              owner_id="U0A1B2C3D", seller_id="U0S1A2B3C")
    view = message_note_form([choice], choice, "note", clipped_from=2500, metadata="{}")
    text = all_text(view["blocks"])
    assert "The message is 2,500 characters and a note holds 2,000" in text
    assert view["blocks"][2]["element"]["initial_option"]["text"]["text"].startswith("Northbeam")
    assert "holds" not in all_text(message_note_form([choice], None, "note", clipped_from=None, metadata="{}")["blocks"])


def test_a_message_as_a_search_and_a_brief() -> None:
    assert message_query("demo\n\nfor   kubernetes") == "demo for kubernetes"
    assert len(message_query("word " * 500)) == 500
    brief = brief_from_message("x" * 2100, None)
    assert brief.clipped and len(brief.asked) == 2000 and brief.asked.endswith("…")
    assert brief_from_message("How?", None).clipped is False


def test_unfurl_domains_are_read_as_hosts_and_a_url_is_refused_by_name() -> None:
    settings = load_settings(_env_file=None, epos_unfurl_domains="Assets.Example.com; docs.example.com")
    assert settings.epos_unfurl_domains == ["assets.example.com", "docs.example.com"]
    with pytest.raises(ConfigError, match="EPOS_UNFURL_DOMAINS: 'https://x.example.com/a' is not a domain"):
        load_settings(_env_file=None, epos_unfurl_domains="https://x.example.com/a")


def test_the_domains_are_compared_with_the_manifest(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.yml"
    manifest.write_text("features:\n  unfurl_domains:\n    - assets.example.com\n    - docs.example.com\n")
    assert asset_unfurls.domain_mismatch(["docs.example.com", "assets.example.com"], manifest) is None
    assert asset_unfurls.domain_mismatch(["assets.example.com", "wiki.example.com"], manifest) == (
        ["docs.example.com"], ["wiki.example.com"])
    assert asset_unfurls.domain_mismatch(["x.example.com"], tmp_path / "absent.yml") is None
    (finding,) = doctor.link_previews(load_settings(_env_file=None, epos_unfurl_domains="wiki.example.com"))
    assert finding.ok is False and "EPOS_UNFURL_DOMAINS has wiki.example.com" in finding.detail
    assert "manifest.yml has assets.example.com" in finding.detail
    assert doctor.link_previews(load_settings(_env_file=None))[0].ok is True


def test_a_start_warns_when_the_domains_differ(database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    from bot import startup

    with caplog.at_level("WARNING", logger="bot.startup"):
        startup.check(load_settings(_env_file=None, database_url=database_url, epos_unfurl_domains="wiki.example.com"),
                      None)
    assert any("link previews: " in r.getMessage() and "wiki.example.com" in r.getMessage() for r in caplog.records)

"""The review DM's buttons over signed HTTP: the verifier's Verify and Edit, and the admins' one-click
Archive, which anyone else is refused."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot import outbox
from bot.app import make_client
from bot.config import Settings
from bot.jobs import MINUTE_JOBS
from bot.scheduler import tick
from bot.services import assets
from bot.services.actors import Actor
from models.enums import AssetStatus
from models.schemas.assets import AssetFields
from tests.assets_helpers import blocks_of, buttons
from tests.conftest import ADMIN, SE, STRANGER
from tests.scheduler_helpers import utc
from tests.support.slack import Call, MockSlack
from tests.support.wire import SlackWire

REVIEWS_ONLY = tuple(job for job in MINUTE_JOBS if job.name == "asset-reviews")
VERIFIER = "U0VERIFY1"
BERLIN_9 = utc("2026-11-23 08:00")  # Monday


@pytest.fixture(autouse=True)
def _unpaced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox, "PACER", outbox.Pacer(0))


def add(title: str, verified: datetime) -> int:
    fields = AssetFields(title=title, type="demo", url=f"https://assets.example.com/{title.lower().replace(' ', '-')}",
                         owner_id=SE, verifier_id=VERIFIER)
    return assets.create(fields, Actor(user_id=SE), admins_configured=False, now=verified).card.id


def reply(slack: MockSlack, name: str) -> Call:
    return slack.wait_for("response_url", lambda c: c.params.get("_name") == name)[0]


def test_the_verifier_verifies_and_edits_from_the_dm_and_only_admins_archive_a_proposal(
        settings: Settings, wire: SlackWire, slack: MockSlack) -> None:
    slack.add_user(VERIFIER, tz="Europe/Berlin")
    kept = add("Quota dashboards", utc("2026-08-01 10:00"))
    old = add("Old workshop", utc("2026-06-01 10:00"))
    assert tick(make_client(settings), settings, BERLIN_9, jobs=REVIEWS_ONLY)["asset-reviews"] == 2
    [dm] = [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == VERIFIER]
    assert [b["action_id"] for b in buttons(blocks_of(dm))][:3] == ["asset_verify", "asset_edit_open", "asset_archive"]

    wire.block_action("asset_verify", user_id=VERIFIER, value=str(kept), channel_id="D0VERIFY1", response_name="verify")
    assert "is verified" in reply(slack, "verify").params["text"]
    assert assets.get(kept).card.verified_by == VERIFIER

    # The verifier is not the owner, yet Edit opens the asset's form for them.
    wire.block_action("asset_edit_open", user_id=VERIFIER, value=str(kept), channel_id="D0VERIFY1")
    opened = slack.wait_for("views.open")[0]
    assert opened.params["view"]["callback_id"] == "asset_edit"

    [proposal] = [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == ADMIN]
    assert "Old workshop" in str(proposal.params["blocks"]) and "Quota dashboards" not in str(proposal.params["blocks"])
    wire.block_action("asset_archive_proposed", user_id=STRANGER, value=str(old), channel_id="D0ADMIN01",
                      response_name="refused")
    refusal = reply(slack, "refused")
    assert refusal.params["response_type"] == "ephemeral" and "Only admins" in refusal.params["text"]
    assert assets.get(old).card.status == AssetStatus.published
    wire.block_action("asset_archive_proposed", user_id=ADMIN, value=str(old), channel_id="D0ADMIN01",
                      response_name="archived")
    assert "Archived" in reply(slack, "archived").params["text"]
    assert assets.get(old).card.status == AssetStatus.archived

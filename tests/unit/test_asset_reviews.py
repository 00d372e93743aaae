"""Asset reviews as verifiers and admins meet them: one DM per verifier at 09:00 their time on a weekday,
once per review period across processes; Verify starting the period again; the admins' queue with its
admin-only Archive; a verifier who left handing over to the admins; `epos assets due`; the card lines."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot import clock, outbox
from bot.app import make_client
from bot.blocks import asset_card
from bot.blocks import asset_review as review_blocks
from bot.cli import main
from bot.config import Settings
from bot.errors import Conflict, Forbidden
from bot.jobs import asset_reviews as job
from bot.services import asset_due, asset_review, assets, claims
from bot.services.actors import Actor
from bot.services.importing import ImportInvalid
from models.enums import AssetStatus, AssetType
from models.schemas.assets import AssetFields, AssetRecord
from tests.conftest import ADMIN
from tests.scheduler_helpers import utc
from tests.support.slack import Call, MockSlack

TOKYO = "U0TOKYO01"
BERLIN = "U0BERLIN1"
OWNER = "U0OWNER01"
# Monday 23 Nov 2026. 09:00 in Tokyo is 00:00 UTC; 09:00 in Berlin (and EPOS_TIMEZONE) is 08:00 UTC.
TOKYO_9 = utc("2026-11-23 00:00")
BERLIN_9 = utc("2026-11-23 08:00")
LONG_AGO = utc("2026-08-01 10:00")  # 90 days on: due 30 Oct, 24 days overdue on the 23rd


@pytest.fixture(autouse=True)
def _unpaced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox, "PACER", outbox.Pacer(0))


@pytest.fixture(autouse=True)
def _ninety_days() -> None:
    asset_due.configure({t: 90 for t in AssetType})


def add(title: str, owner: str, *, verified: datetime = LONG_AGO, verifier: str | None = None,
        every: int | None = None) -> int:
    fields = AssetFields(title=title, type="demo", url=f"https://assets.example.com/{title.lower().replace(' ', '-')}",
                         summary="How it works.", owner_id=owner, verifier_id=verifier, review_every_days=every)
    return assets.create(fields, Actor(user_id=owner), admins_configured=False, now=verified).card.id


def dms(slack: MockSlack, user_id: str) -> list[Call]:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == user_id]


def texts(call: Call) -> str:
    return json.dumps([b.to_dict() for b in Block.parse_all(call.params["blocks"])], ensure_ascii=False)


def run(settings: Settings, now: datetime, owner: str = "replica-1") -> int:
    return job.send_due_reviews(make_client(settings), settings, now, owner=owner)


def test_a_verifier_gets_one_dm_at_nine_in_their_own_timezone_once_per_period(
        settings: Settings, slack: MockSlack) -> None:
    slack.add_user(TOKYO, tz="Asia/Tokyo")
    add("Quota dashboards", TOKYO)
    add("Alert routing", OWNER, verifier=TOKYO)
    add("Fresh demo", TOKYO, verified=utc("2026-11-01 10:00"))

    assert run(settings, utc("2026-11-21 00:00")) == 0  # 09:00 on Saturday in Tokyo
    assert run(settings, utc("2026-11-22 23:59")) == 0  # 08:59 on Monday in Tokyo
    assert run(settings, utc("2026-11-23 09:00")) == 0  # 09:00 UTC is 18:00 in Tokyo: too late that day
    assert dms(slack, TOKYO) == []

    assert run(settings, utc("2026-11-24 00:00")) == 1  # Tuesday, 09:00 in Tokyo
    [dm] = dms(slack, TOKYO)
    assert "Quota dashboards" in texts(dm) and "Alert routing" in texts(dm) and "Fresh demo" not in texts(dm)
    assert "2 of your assets are due for review" in texts(dm)

    # Another process, a restart later that day, the next days: the period was asked about.
    assert run(settings, utc("2026-11-24 00:00"), owner="replica-2") == 0
    assert run(settings, utc("2026-11-24 03:00"), owner="restarted") == 0
    assert run(settings, utc("2026-11-25 00:00")) == 0
    assert len(dms(slack, TOKYO)) == 1


def test_two_processes_claiming_the_same_period_send_one_dm(settings: Settings, slack: MockSlack) -> None:
    slack.add_user(BERLIN, tz="Europe/Berlin")
    add("Sizing sheet", BERLIN)
    barrier = threading.Barrier(3)
    sent: list[int] = []

    def tick(owner: str) -> None:
        barrier.wait()
        sent.append(run(settings, BERLIN_9, owner=owner))

    threads = [threading.Thread(target=tick, args=(f"replica-{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(sent) == [0, 0, 1] and len(dms(slack, BERLIN)) == 1
    assert claims.state(job.JOB, f"{BERLIN}:2026-11-23").done  # type: ignore[union-attr]


def test_verify_starts_the_period_again(settings: Settings, slack: MockSlack) -> None:
    slack.add_user(BERLIN, tz="Europe/Berlin")
    asset_id = add("Sizing sheet", BERLIN)
    assert [a.id for a in asset_review.overdue(BERLIN_9)] == [asset_id]

    result = asset_review.verify(asset_id, Actor(user_id=BERLIN), now=BERLIN_9)
    assert result.card.verified_by == BERLIN and result.card.review_due_at == BERLIN_9 + timedelta(days=90)
    assert asset_review.overdue(BERLIN_9) == []
    assert run(settings, BERLIN_9) == 0
    # The next period is asked about when it falls due (a Monday, 21 Feb 2027).
    assert run(settings, utc("2027-02-22 08:00")) == 1


def test_only_the_verifier_the_owner_or_an_admin_may_verify(database_url: str) -> None:
    asset_id = add("Sizing sheet", OWNER, verifier=BERLIN)
    with pytest.raises(Forbidden, match="Only the verifier"):
        asset_review.verify(asset_id, Actor(user_id="U0SOMEONE"), now=BERLIN_9)
    assert asset_review.verify(asset_id, Actor(user_id=ADMIN, admin=True), now=BERLIN_9).card.verified_by == ADMIN
    with pytest.raises(Forbidden) as refused:
        assets.archive(asset_id, Actor(user_id="U0SOMEONE"))
    assert str(refused.value) == (f"Only the owner (<@{OWNER}>), the verifier (<@{BERLIN}>) or an admin can archive "
                                  "*Sizing sheet*.")
    assets.archive(asset_id, Actor(user_id=BERLIN))  # the verifier may archive, as the owner may
    with pytest.raises(Conflict, match="is archived"):
        asset_review.verify(asset_id, Actor(user_id=BERLIN), now=BERLIN_9)


def test_the_dm_asks_before_archiving_and_edit_opens_the_form() -> None:
    item = asset_review.DueAsset(id=7, title="Quota dashboards", url="https://assets.example.com/q",
                                 type=AssetType.demo, owner_id=OWNER, verifier_id=OWNER, due_at=LONG_AGO,
                                 verified_at=None, verified_by=None, days_overdue=3)
    message = review_blocks.review_message([item])
    elements = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    by_action = {e["action_id"]: e for e in elements}
    assert list(by_action) == ["asset_verify", "asset_edit_open", "asset_archive"]
    assert by_action["asset_archive"]["confirm"]["title"]["text"] == "Archive this asset?"
    assert "confirm" not in by_action["asset_verify"]


def test_admins_are_asked_once_to_archive_what_is_long_overdue_and_only_they_may(
        settings: Settings, slack: MockSlack) -> None:
    slack.add_user(OWNER, tz="Asia/Tokyo")
    long_overdue = add("Old workshop", OWNER, verified=utc("2026-06-01 10:00"))  # due 30 Aug: 85 days
    add("Recent enough", OWNER)  # 24 days overdue: the verifier's DM only
    settings = settings.model_copy(update={"epos_admins": [ADMIN, "U0ADMIN02"]})

    run(settings, utc("2026-11-23 07:00"))  # Tokyo's verifier DM; 08:00 in Berlin, before the admins' time
    assert dms(slack, ADMIN) == []
    run(settings, BERLIN_9)
    run(settings, BERLIN_9 + timedelta(minutes=1), owner="replica-2")
    [first], [second] = dms(slack, ADMIN), dms(slack, "U0ADMIN02")
    for dm in (first, second):
        assert "Old workshop" in texts(dm) and "Recent enough" not in texts(dm) and "asset_archive_proposed" in texts(dm)
    run(settings, utc("2026-11-24 08:00"))
    assert len(dms(slack, ADMIN)) == 1  # once per period

    with pytest.raises(Forbidden, match="Only admins"):
        asset_review.archive_proposed(long_overdue, Actor(user_id=OWNER))
    assert assets.get(long_overdue).card.status == AssetStatus.published  # nothing archived on its own
    result = asset_review.archive_proposed(long_overdue, Actor(user_id=ADMIN, admin=True))
    assert result.card.status == AssetStatus.archived


def test_a_verifier_who_left_hands_their_assets_to_the_admins(settings: Settings, slack: MockSlack) -> None:
    slack.add_user(BERLIN, tz="Europe/Berlin", deleted=True)
    add("Sizing sheet", BERLIN)

    run(settings, BERLIN_9)
    assert dms(slack, BERLIN) == []
    [dm] = dms(slack, ADMIN)
    assert "Sizing sheet" in texts(dm) and "has left" in texts(dm) and "asset_verify" in texts(dm)
    run(settings, utc("2026-11-24 08:00"))
    assert len(dms(slack, ADMIN)) == 1


def test_epos_assets_due_lists_title_url_verifier_due_date_and_days_overdue(
        database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("EPOS_TIMEZONE", "UTC")
    monkeypatch.chdir(tmp_path)
    now = datetime.now(LONG_AGO.tzinfo)
    add("Quota dashboards", OWNER, verified=now - timedelta(days=100))
    add("Alert routing", OWNER, verified=now - timedelta(days=10), verifier=BERLIN, every=7)
    add("Fresh demo", OWNER, verified=now - timedelta(days=10))

    assert main(["assets", "due", "--json"]) == 0
    found: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    assert [(f["title"], f["verifier_id"], f["days_overdue"]) for f in found] == [
        ("Quota dashboards", OWNER, 10), ("Alert routing", BERLIN, 3)]
    assert found[0]["url"] == "https://assets.example.com/quota-dashboards"
    assert found[0]["due"] == (now - timedelta(days=10)).date().isoformat()

    assert main(["assets", "due"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "2 assets overdue for review."


def test_cards_say_who_verified_when_or_since_when_the_review_is_overdue(database_url: str) -> None:
    asset_id = add("Quota dashboards", OWNER, verified=utc("2026-11-11 10:00"))
    card = assets.get(asset_id).card
    line = asset_card.review_line(card, overdue=False)
    assert line == f"✓ verified <!date^{int(utc('2026-11-11 10:00').timestamp())}^{{ago}}|on 11 Nov 2026> by <@{OWNER}>"
    overdue = asset_card.review_line(card, overdue=True)
    assert overdue.startswith("⚠ review overdue since <!date^") and "|9 Feb 2027>" in overdue
    assert f"verifier <@{OWNER}>" in overdue
    # Our own people see it on a share; a customer in a Slack Connect channel does not.
    assert "verified" in json.dumps(asset_card.shared_message(card, OWNER)["blocks"])
    assert "verified" not in json.dumps(asset_card.shared_message(card, OWNER, vote=False)["blocks"])


def test_an_overdue_asset_ranks_a_little_lower_but_stays_in_search(database_url: str) -> None:
    now = datetime.now(LONG_AGO.tzinfo)
    stale = add("Kubernetes cost for platform teams", OWNER, verified=now - timedelta(days=200))
    fresh = add("Kubernetes cost with spot nodes", OWNER, verified=now - timedelta(days=1))
    page = assets.search("kubernetes cost")
    assert [item.card.id for item in page.items] == [fresh, stale]
    assert [item.overdue for item in page.items] == [False, True]
    assert page.items[0].score - page.items[1].score <= 1.25 + 1e-9

    # A better match still wins, overdue or not.
    assert [item.card.id for item in assets.search("kubernetes cost platform").items][0] == stale
    asset_review.verify(stale, Actor(user_id=OWNER))
    assert {item.card.id: item.overdue for item in assets.search("kubernetes cost").items} == {stale: False, fresh: False}


def test_an_asset_falling_due_is_ranked_as_overdue_without_anything_written(database_url: str) -> None:
    now = datetime.now(LONG_AGO.tzinfo)
    falling = add("Kubernetes cost for platform teams", OWNER, verified=now - timedelta(days=89))
    other = add("Kubernetes cost with spot nodes", OWNER, verified=now)
    assert [item.card.id for item in assets.search("kubernetes cost").items] == [falling, other]

    clock.advance(timedelta(days=2))
    assert [(item.card.id, item.overdue) for item in assets.search("kubernetes cost").items] == [
        (other, False), (falling, True)]


def test_verifier_interval_and_verification_go_out_and_come_back_through_a_file(database_url: str) -> None:
    asset_id = add("Quota dashboards", OWNER, verifier=BERLIN, every=30)
    csv_text = assets.render_export(assets.export_records(), "csv")
    assert csv_text.splitlines()[0].endswith(",verifier,review_every_days,verified_at")
    assert f",{BERLIN},30,{LONG_AGO.isoformat()}" in csv_text
    assert assets.import_records(assets.parse_catalogue(csv_text, "csv")).unchanged == 1

    later, earlier = "2026-11-20T09:00:00+00:00", "2026-01-01T09:00:00"
    for verified_at, expected in ((later, utc("2026-11-20 09:00")), (earlier, utc("2026-11-20 09:00"))):
        text = csv_text.replace(LONG_AGO.isoformat(), verified_at).replace(f",{BERLIN},30,", ",,,")
        assets.import_records(assets.parse_catalogue(text, "csv"))
        card = assets.get(asset_id).card
        # An older verification in a file never undoes a newer one; an empty verifier is the owner again.
        assert (card.verified_at, card.verifier, card.review_every_days) == (expected, OWNER, None)

    bad = csv_text.replace(f",{BERLIN},30,", ",someone,0,")
    with pytest.raises(ImportInvalid) as refused:
        assets.parse_catalogue(bad, "csv")
    lines = [problem.message for problem in refused.value.problems]
    assert "'someone' is not a Slack user id like U0123ABCD" in lines
    assert "must be a whole number of days from 1 to 3650" in lines


def test_a_new_verifier_is_asked_at_once_whether_named_by_edit_or_by_import(settings: Settings, slack: MockSlack) -> None:
    for person in (OWNER, BERLIN, TOKYO):
        slack.add_user(person, tz="Europe/Berlin")
    edited, imported = add("Sizing sheet", OWNER), add("Quota dashboards", OWNER)
    assert run(settings, BERLIN_9) == 1  # the owner is asked about both, and does nothing
    tuesday = BERLIN_9 + timedelta(days=1)
    assert run(settings, tuesday) == 0

    fields = assets.get(edited).card.model_dump(include=set(AssetFields.model_fields))
    assets.update(edited, AssetFields(**{**fields, "verifier_id": BERLIN}), Actor(user_id=OWNER),
                  admins_configured=False, now=BERLIN_9)
    record = assets.get(imported).card.model_dump(include=set(AssetRecord.model_fields) - {"verifier_id"})
    assets.import_records([AssetRecord(**{**record, "verifier": TOKYO, "status": "published"})], now=BERLIN_9)

    assert run(settings, tuesday) == 2
    assert "Sizing sheet" in texts(dms(slack, BERLIN)[-1]) and "Quota dashboards" in texts(dms(slack, TOKYO)[-1])


def test_a_verifier_finds_the_assets_they_verify_in_asset_mine_and_a_refusal_names_them(database_url: str) -> None:
    asset_id = add("Sizing sheet", OWNER, verifier=BERLIN)
    assert [item.card.id for item in assets.owned_by(Actor(user_id=BERLIN)).items] == [asset_id]
    with pytest.raises(Forbidden) as refused:
        assets.editable(asset_id, Actor(user_id="U0SOMEONE"))
    assert str(refused.value).startswith(f"Only the owner (<@{OWNER}>), the verifier (<@{BERLIN}>) or an admin can edit")

"""`/asset add`, editing from a card, and curation, over signed HTTP."""

from __future__ import annotations

from typing import Any

from bot.app import make_client
from bot.blocks import assets as blocks
from bot.config import Settings
from bot.notify.engagements import post_playbook, redraw_playbooks
from bot.services import assets
from bot.services.actors import Actor
from models.enums import Stage
from tests.devrel_helpers import add_engagement
from tests.assets_helpers import (
    ask,
    asset_by_title,
    asset_by_url,
    asset_count,
    blocks_of,
    buttons,
    card_titles,
    form_values,
)
from tests.conftest import ADMIN, SE, STRANGER
from tests.support.slack import Call, MockSlack
from tests.support.text import all_text
from tests.support.wire import SlackWire

SE_DEMO = "Observability in 15 minutes: from alert to root cause"
NEW_URL = "https://assets.example.com/demos/otel-slow-checkout"


def open_add_form(wire: SlackWire, slack: MockSlack, user_id: str = SE) -> dict[str, Any]:
    assert wire.command("/asset", "add", user_id=user_id).status == 200
    opened = slack.wait_for("views.open", lambda c: c.params["view"]["callback_id"] == "asset_add")[-1]
    return next(v for v in slack.views.values() if v["callback_id"] == "asset_add" and v["blocks"] == opened.params["view"]["blocks"])


def reply(slack: MockSlack, name: str) -> Call:
    return slack.wait_for("response_url", lambda c: c.params.get("_name") == name)[0]


def dms_to(slack: MockSlack, user_id: str, count: int = 1) -> list[Call]:
    return slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == user_id, count=count)


def test_add_opens_the_form_with_the_owner_defaulting_to_the_submitter(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    view = open_add_form(wire, slack)
    owner = next(b for b in view["blocks"] if b.get("block_id") == "asset_owner")
    assert owner["element"]["initial_user"] == SE
    assert len([b for b in view["blocks"] if b["type"] == "input"]) == 16


def test_a_workshop_with_parts_and_a_marketing_partner_is_saved_and_shown(
        catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    view = open_add_form(wire, slack)
    parts = "Student notebooks: https://assets.example.com/ws/nb\nInstructor deck: https://assets.example.com/ws/deck"
    refused = wire.view_submission(view, form_values(type="demo", parts=parts, partner=ADMIN), user_id=SE)
    assert list(refused.json["errors"]) == ["asset_partner"] and asset_count() == 40
    saved = wire.view_submission(view, form_values(type="workshop", parts=parts, partner=ADMIN), user_id=SE)
    assert saved.status == 200 and not saved.body
    row = asset_by_url(NEW_URL)
    assert row is not None and row.partner_id == ADMIN and [p["label"] for p in row.parts] == [
        "Student notebooks", "Instructor deck"]
    told = all_text(blocks_of(dms_to(slack, SE)[0]))
    assert "<https://assets.example.com/ws/nb|Student notebooks>" in told and f"Marketing partner <@{ADMIN}>" in told


def test_a_bad_url_is_an_error_on_the_url_field_and_nothing_is_written(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    view = open_add_form(wire, slack)
    response = wire.view_submission(view, form_values(url="ftp://files.example.com/demo.zip"), user_id=SE)
    assert response.status == 200
    assert response.json["response_action"] == "errors"
    assert list(response.json["errors"]) == ["asset_url"]
    assert "http:// or https://" in response.json["errors"]["asset_url"]
    assert asset_count() == 40
    # Fixed and submitted again, it is saved.
    fixed = wire.view_submission(view, form_values(), user_id=SE)
    assert fixed.status == 200 and not fixed.body
    assert asset_by_url(NEW_URL) is not None


def test_missing_fields_are_flagged_on_their_blocks(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    view = open_add_form(wire, slack)
    response = wire.view_submission(view, form_values(title="", type=None, url=""), user_id=SE)
    assert set(response.json["errors"]) == {"asset_title", "asset_type", "asset_url"}
    assert asset_count() == 40


def test_a_duplicate_url_is_flagged_naming_the_existing_asset(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    view = open_add_form(wire, slack)
    existing = asset_by_title(SE_DEMO)
    response = wire.view_submission(view, form_values(url=existing.url), user_id=SE)
    assert response.json["response_action"] == "errors"
    assert SE_DEMO in response.json["errors"]["asset_url"]
    assert asset_count() == 40


def test_a_near_duplicate_title_is_flagged_then_saved_on_resubmit(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    view = open_add_form(wire, slack)
    values = form_values(title="Observability in 15 minutes: from alert to root-cause!")
    first = wire.view_submission(view, values, user_id=SE)
    assert first.json["response_action"] == "errors"
    assert first.json["errors"]["asset_title"].startswith(f"An asset titled “{SE_DEMO}” already exists")
    assert asset_count() == 40
    second = wire.view_submission(view, values, user_id=SE)
    assert second.status == 200 and not second.body
    assert asset_count() == 41
    assert asset_by_url(NEW_URL).title == "Observability in 15 minutes: from alert to root-cause!"  # type: ignore[union-attr]


def test_a_non_admins_asset_is_a_draft_and_admins_are_asked_to_review(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    view = open_add_form(wire, slack, SE)
    assert wire.view_submission(view, form_values(), user_id=SE).status == 200
    row = asset_by_url(NEW_URL)
    assert row is not None and row.status == "draft" and row.owner_id == SE
    told = dms_to(slack, SE)[0]
    assert "Saved" in told.params["text"] and "draft" in told.params["text"]
    review = dms_to(slack, ADMIN)[0]
    ids = [b["action_id"] for b in buttons(blocks_of(review))]
    assert "asset_publish" in ids and "asset_archive" in ids
    # Not searchable until published; the admin's Publish makes it so and tells the owner.
    assert NEW_URL not in str(ask(wire, "otel slow checkout", user_id=SE).params["blocks"])
    wire.block_action("asset_publish", user_id=ADMIN, value=str(row.id), channel_id="D0ADMIN01", response_name="published")
    assert "Published" in reply(slack, "published").params["text"]
    assert asset_by_url(NEW_URL).status == "published"  # type: ignore[union-attr]
    assert "is published" in dms_to(slack, SE, count=2)[1].params["text"]


def test_an_admins_asset_is_published_at_once(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    view = open_add_form(wire, slack, ADMIN)
    assert wire.view_submission(view, form_values(owner=SE), user_id=ADMIN).status == 200
    row = asset_by_url(NEW_URL)
    assert row is not None and row.status == "published" and row.owner_id == SE
    assert "It is published" in dms_to(slack, ADMIN)[0].params["text"]
    found = ask(wire, "otel slow checkout", user_id=STRANGER)
    assert "Tracing a slow checkout with OpenTelemetry" in card_titles(blocks_of(found))


def test_a_stranger_pressing_edit_or_archive_is_refused(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    row = asset_by_title(SE_DEMO)
    wire.block_action("asset_edit_open", user_id=STRANGER, value=str(row.id), response_name="edit")
    refusal = reply(slack, "edit")
    assert refusal.params["response_type"] == "ephemeral" and "Only the owner" in refusal.params["text"]
    wire.block_action("asset_archive", user_id=STRANGER, value=str(row.id), response_name="archive")
    assert "Only the owner" in reply(slack, "archive").params["text"]
    wire.block_action("asset_publish", user_id=STRANGER, value=str(row.id), response_name="publish")
    assert "Only admins" in reply(slack, "publish").params["text"]
    assert slack.calls_to("views.open") == []
    assert asset_by_title(SE_DEMO).status == "published"


def test_the_owner_edits_from_the_card_and_the_asset_stays_published(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    row = asset_by_title(SE_DEMO)
    wire.block_action("asset_edit_open", user_id=SE, value=str(row.id))
    opened = slack.wait_for("views.open")[0].params["view"]
    assert opened["callback_id"] == "asset_edit"
    view = next(v for v in slack.views.values() if v["callback_id"] == "asset_edit")
    prefilled = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert prefilled["asset_title"]["initial_value"] == SE_DEMO
    assert prefilled["asset_url"]["initial_value"] == row.url
    values = form_values(title=SE_DEMO, url=row.url, summary="Now with a five-minute version.",
                         topics="observability, apm, logging, root cause analysis", products="Observability",
                         depth="low", scope="broad", interactivity="presentation", cycle="early")
    assert wire.view_submission(view, values, user_id=SE).status == 200
    after = asset_by_title(SE_DEMO)
    assert after.summary == "Now with a five-minute version." and after.status == "published"
    assert "Updated" in dms_to(slack, SE)[0].params["text"] and "summary" in dms_to(slack, SE)[0].params["text"]


def edit_form(wire: SlackWire, slack: MockSlack, asset_id: int, user_id: str) -> dict[str, Any]:
    wire.block_action("asset_edit_open", user_id=user_id, value=str(asset_id))
    opened = slack.wait_for("views.open")[0].params["view"]
    return next(v for v in slack.views.values() if v["callback_id"] == "asset_edit" and v["blocks"] == opened["blocks"])


def test_an_owners_new_link_sends_a_published_asset_back_for_review(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    row = asset_by_title(SE_DEMO)
    view = edit_form(wire, slack, row.id, SE)
    assert view["blocks"][0]["text"]["text"] == blocks.FORM_LINK_REVIEW_NOTE  # said before saving
    values = form_values(title=SE_DEMO, url=NEW_URL, summary=row.summary, topics=", ".join(row.topics),
                         products=", ".join(row.products), depth=row.depth, scope=row.scope,
                         interactivity=row.interactivity, cycle=row.cycle, owner=SE,
                         audience="customer_facing" if row.customer_facing else "internal",
                         parts="\n".join(f"{p['label']}: {p['url']}" for p in row.parts))
    assert wire.view_submission(view, values, user_id=SE).status == 200
    after = asset_by_title(SE_DEMO)
    assert after.url == NEW_URL and after.status == "draft"
    told = dms_to(slack, SE)[0].params["text"]
    assert "(changed: link)" in told and blocks.BACK_TO_DRAFTS in told
    review = dms_to(slack, ADMIN)[0]
    assert f"<@{SE}> changed the link of a published asset, so it is back in the drafts" in review.params["text"]
    assert row.url in review.params["text"]  # the link it had, for the admin to compare
    assert "asset_publish" in [b["action_id"] for b in buttons(blocks_of(review))]
    assert SE_DEMO not in card_titles(blocks_of(ask(wire, "demo observability", user_id=SE)))
    # The admin's Publish puts it back in search and tells the owner, as the message promised.
    wire.block_action("asset_publish", user_id=ADMIN, value=str(row.id), channel_id="D0ADMIN01", response_name="published")
    assert "Published" in reply(slack, "published").params["text"]
    assert "is published" in dms_to(slack, SE, count=2)[1].params["text"]
    assert SE_DEMO in card_titles(blocks_of(ask(wire, "demo observability", user_id=SE)))


def test_an_admins_new_link_keeps_the_asset_published(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    row = asset_by_title(SE_DEMO)
    view = edit_form(wire, slack, row.id, ADMIN)
    assert view["blocks"][0]["text"]["text"] == blocks.FORM_INTRO["edit"]
    values = form_values(title=SE_DEMO, url=NEW_URL, summary=row.summary, topics=", ".join(row.topics),
                         products=", ".join(row.products), owner=SE)
    assert wire.view_submission(view, values, user_id=ADMIN).status == 200
    assert asset_by_title(SE_DEMO).status == "published"
    told = dms_to(slack, ADMIN)[0].params["text"]
    assert "(changed: link" in told and blocks.BACK_TO_DRAFTS not in told
    assert not [c for c in slack.calls_to("chat.postMessage") if "changed the link" in c.params.get("text", "")]
    assert SE_DEMO in card_titles(blocks_of(ask(wire, "demo observability", user_id=SE)))


def test_archive_then_restore_from_the_reply(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    row = asset_by_title(SE_DEMO)
    wire.block_action("asset_archive", user_id=ADMIN, value=str(row.id), response_name="archived")
    answer = reply(slack, "archived")
    assert "Archived" in answer.params["text"]
    assert "asset_restore" in [b["action_id"] for b in buttons(blocks_of(answer))]
    assert asset_by_title(SE_DEMO).status == "archived"
    assert "archived your asset" in dms_to(slack, SE)[0].params["text"]
    assert SE_DEMO not in card_titles(blocks_of(ask(wire, "demo observability", user_id=SE)))
    wire.block_action("asset_restore", user_id=ADMIN, value=str(row.id), response_name="restored")
    assert "Restored" in reply(slack, "restored").params["text"]
    assert asset_by_title(SE_DEMO).status == "published"


def test_drafts_for_admins_and_mine_for_everyone(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    drafts = blocks_of(ask(wire, "drafts", user_id=ADMIN))
    assert "*Drafts awaiting review* (2)" in all_text(drafts)
    assert len(card_titles(drafts)) == 2
    assert "/asset mine" in ask(wire, "drafts", user_id=SE).params["text"]
    mine = blocks_of(ask(wire, "mine", user_id=SE))
    assert SE_DEMO in card_titles(mine)
    assert "asset_edit_open" in [b["action_id"] for b in buttons(mine)]


def test_add_with_words_prefills_the_title(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    wire.command("/asset", "add Kubernetes upgrades without downtime", user_id=SE)
    view = slack.wait_for("views.open")[0].params["view"]
    title = next(b for b in view["blocks"] if b.get("block_id") == "asset_title")
    assert title["element"]["initial_value"] == "Kubernetes upgrades without downtime"
    assert "draft" in view["blocks"][0]["text"]["text"]  # SE is no admin: told up front it will be reviewed


def test_the_add_button_under_a_failed_search_opens_the_form(catalogue: None, wire: SlackWire, slack: MockSlack) -> None:
    wire.block_action("asset_add_open", user_id=ADMIN, value="add")
    view = slack.wait_for("views.open")[0].params["view"]
    assert view["callback_id"] == "asset_add"
    assert "draft" not in view["blocks"][0]["text"]["text"]


def test_archiving_an_asset_redraws_the_playbook_posts_that_list_it(catalogue: None, wire: SlackWire, slack: MockSlack,
                                                                   settings: Settings) -> None:
    engagement_id = add_engagement(stage=Stage.discovery)
    client = make_client(settings)
    post_playbook(client, engagement_id)
    posted = dms_to(slack, SE)[-1]
    assert SE_DEMO in all_text(posted.params["blocks"])

    row = asset_by_title(SE_DEMO)
    wire.block_action("asset_archive", user_id=ADMIN, value=str(row.id), response_name="archived")
    told = slack.wait_for("response_url", lambda c: "playbook post" in c.params.get("text", ""))[-1]
    assert told.params["text"] == "1 playbook post listed it; it now shows the assets that fit instead."
    redraw = slack.wait_for("chat.update", lambda c: c.params.get("ts") == posted.answer["ts"])[-1]
    shown = all_text(redraw.params["blocks"])
    assert SE_DEMO not in shown and "Discovery playbook" in shown
    assert "An asset this playbook listed was archived" in shown
    # Already redrawn: the tick finds nothing left to do.
    assert redraw_playbooks(client) == 0


def test_a_playbook_listing_an_asset_archived_elsewhere_is_redrawn_at_the_next_tick(
        catalogue: None, wire: SlackWire, slack: MockSlack, settings: Settings) -> None:
    engagement_id = add_engagement(stage=Stage.discovery)
    client = make_client(settings)
    post_playbook(client, engagement_id)
    posted = dms_to(slack, SE)[-1]
    assets.archive(asset_by_title(SE_DEMO).id, Actor(user_id=ADMIN, admin=True))  # not from Slack: nobody redraws
    assert redraw_playbooks(client) == 1
    redraw = slack.wait_for("chat.update", lambda c: c.params.get("ts") == posted.answer["ts"])[-1]
    assert SE_DEMO not in all_text(redraw.params["blocks"])

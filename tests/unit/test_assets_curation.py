"""Adding, editing and curating assets; feedback and shares."""

from __future__ import annotations


import pytest
from sqlalchemy import select

from bot import db
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound
from bot.services import assets
from bot.services.actors import Actor
from models import AuditEntry
from models.assets import AssetFeedback, AssetShare
from models.enums import AssetStatus
from models.schemas.assets import AssetFields
from tests.assets_helpers import asset_by_title, asset_count
from tests.conftest import ADMIN, SE, SELLER, STRANGER

OWNER = Actor(user_id=SE)
CURATOR = Actor(user_id=ADMIN, admin=True)
OUTSIDER = Actor(user_id=STRANGER)
SE_DEMO = "Observability in 15 minutes: from alert to root cause"  # owned by SE in the sample


def fields(**overrides: object) -> AssetFields:
    values: dict[str, object] = {
        "title": "Tracing a slow checkout with OpenTelemetry",
        "type": "demo",
        "summary": "Follows one slow request across five services.",
        "url": "https://assets.example.com/demos/otel-slow-checkout",
        "topics": "observability, tracing",
        "owner_id": SE,
    }
    values.update(overrides)
    return AssetFields.model_validate(values)


def audit_actions(asset_id: int) -> list[tuple[str, str]]:
    with db.reading() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "asset", AuditEntry.entity_id == str(asset_id)).order_by(AuditEntry.id)
        )
        return [(e.action, e.actor_id) for e in entries]


@pytest.mark.parametrize(
    ("actor", "admins_configured", "status"),
    [(OWNER, True, AssetStatus.draft), (CURATOR, True, AssetStatus.published), (OWNER, False, AssetStatus.published)],
)
def test_who_adds_decides_draft_or_published(catalogue: None, actor: Actor, admins_configured: bool, status: AssetStatus) -> None:
    result = assets.create(fields(), actor, admins_configured=admins_configured)
    assert result.card.status == status and result.needs_review == (status == AssetStatus.draft)
    # Axes left empty take the type's usual profile.
    assert (result.card.depth, result.card.scope, result.card.interactivity, result.card.cycle) == (
        "low", "broad", "presentation", "early")
    found = [i.card.id for i in assets.search("otel slow checkout").items]
    assert (result.card.id in found) == (status == AssetStatus.published)
    assert audit_actions(result.card.id) == [("created", actor.user_id)]


def test_a_duplicate_url_is_refused_on_the_url_field_naming_the_asset(catalogue: None) -> None:
    with pytest.raises(InvalidInput) as refused:
        assets.create(fields(url="https://assets.example.com/demos/kubernetes-cluster-health/"), OWNER, admins_configured=True)
    assert refused.value.field == "url"
    assert "Kubernetes cluster health at a glance" in str(refused.value)
    assert asset_count() == 40


def test_a_near_duplicate_title_warns_once_per_form_then_saves(catalogue: None) -> None:
    similar = fields(title="Observability in 15 minutes - from alert to root-cause")
    with pytest.raises(InvalidInput) as warned:
        assets.create(similar, OWNER, admins_configured=True, confirm_token="V0FORM01")
    assert warned.value.field == "title"
    assert str(warned.value).startswith(f"An asset titled “{SE_DEMO}” already exists")
    assert asset_count() == 40
    # Another form has not seen the warning yet.
    with pytest.raises(InvalidInput):
        assets.create(similar, OWNER, admins_configured=True, confirm_token="V0FORM02")
    saved = assets.create(similar, OWNER, admins_configured=True, confirm_token="V0FORM01")
    assert saved.card.title == "Observability in 15 minutes - from alert to root-cause"
    assert asset_count() == 41


def test_owner_edits_keep_the_status_and_are_audited(catalogue: None) -> None:
    row = asset_by_title(SE_DEMO)
    result = assets.update(row.id, fields(title=SE_DEMO, url=row.url, topics="observability, apm"), OWNER, admins_configured=True)
    assert result.card.status == AssetStatus.published
    assert set(result.changed) >= {"summary", "topics"}
    assert audit_actions(row.id)[-1] == ("updated", SE)
    again = assets.update(row.id, fields(title=SE_DEMO, url=row.url, topics="observability, apm"), OWNER, admins_configured=True)
    assert again.changed == [] and asset_by_title(SE_DEMO).updated_at == result.card.updated_at


def last_audit_detail(asset_id: int) -> dict[str, object]:
    with db.reading() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "asset", AuditEntry.entity_id == str(asset_id))
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry is not None
        return dict(entry.detail)


NEW_LINK = "https://assets.example.com/demos/observability-in-15-minutes-v2"


def test_an_owner_changing_the_link_of_a_published_asset_sends_it_back_for_review(catalogue: None) -> None:
    row = asset_by_title(SE_DEMO)
    assert SE_DEMO in [item.card.title for item in assets.search("observability 15 minutes").items]
    result = assets.update(row.id, fields(title=SE_DEMO, url=NEW_LINK), OWNER, admins_configured=True)
    assert result.card.status == AssetStatus.draft and asset_by_title(SE_DEMO).status == AssetStatus.draft
    assert result.needs_review and result.previous_url == row.url and "url" in result.changed
    assert SE_DEMO not in [item.card.title for item in assets.search("observability 15 minutes").items]
    detail = last_audit_detail(row.id)
    assert detail["status"] == "draft"
    assert detail["before"]["status"] == "published" and detail["before"]["url"] == row.url  # type: ignore[index]


@pytest.mark.parametrize(
    ("who", "admins_configured", "status"),
    [(CURATOR, True, AssetStatus.published), (OWNER, False, AssetStatus.published), (OWNER, True, AssetStatus.draft)],
    ids=["an admin", "nobody is admin", "a draft"],
)
def test_a_link_change_keeps_the_status_otherwise(
    catalogue: None, who: Actor, admins_configured: bool, status: AssetStatus
) -> None:
    row = asset_by_title(SE_DEMO)
    if status == AssetStatus.draft:
        row = assets.create(fields(), OWNER, admins_configured=True).card  # type: ignore[assignment]
    result = assets.update(row.id, fields(title=row.title, url=NEW_LINK), who, admins_configured=admins_configured)
    assert result.card.status == status and result.card.url == NEW_LINK
    assert not result.needs_review


def test_only_the_owner_or_an_admin_may_edit(catalogue: None) -> None:
    row = asset_by_title(SE_DEMO)
    with pytest.raises(Forbidden, match="Only the owner"):
        assets.editable(row.id, OUTSIDER)
    with pytest.raises(Forbidden):
        assets.update(row.id, fields(url=row.url), OUTSIDER, admins_configured=True)
    assert assets.editable(row.id, CURATOR).id == row.id
    assert asset_by_title(SE_DEMO).summary == row.summary


def test_an_edit_cannot_take_another_assets_url(catalogue: None) -> None:
    row = asset_by_title(SE_DEMO)
    with pytest.raises(InvalidInput) as refused:
        assets.update(row.id, fields(title=SE_DEMO, url="https://assets.example.com/demos/kubernetes-cluster-health"), OWNER, admins_configured=True)
    assert refused.value.field == "url"


def test_admins_publish_drafts_and_nobody_else_can(catalogue: None) -> None:
    draft = assets.create(fields(), OWNER, admins_configured=True).card
    with pytest.raises(Forbidden, match="Only admins"):
        assets.publish(draft.id, OWNER)
    result = assets.publish(draft.id, CURATOR)
    assert result.card.status == AssetStatus.published and result.previous_status == AssetStatus.draft
    with pytest.raises(Conflict, match="already published"):
        assets.publish(draft.id, CURATOR)
    assert [a for a, _ in audit_actions(draft.id)] == ["created", "published"]


def test_archive_and_restore(catalogue: None) -> None:
    row = asset_by_title(SE_DEMO)
    with pytest.raises(Forbidden, match="Only the owner"):
        assets.archive(row.id, OUTSIDER)
    assert assets.archive(row.id, OWNER).card.status == AssetStatus.archived
    # The owner may bring it back, but when admins curate it comes back as a draft for review.
    assert assets.restore(row.id, OWNER, admins_configured=True).card.status == AssetStatus.draft
    assets.archive(row.id, CURATOR)
    assert assets.restore(row.id, CURATOR, admins_configured=True).card.status == AssetStatus.published
    assert [a for a, _ in audit_actions(row.id)][-4:] == ["archived", "restored", "archived", "restored"]


def test_one_vote_per_person_changeable(catalogue: None) -> None:
    row = asset_by_title(SE_DEMO)
    first = assets.vote(row.id, SE, True)
    assert first.changed and first.previous is None and first.card.useful_count == 1
    same = assets.vote(row.id, SE, True)
    assert not same.changed and same.card.useful_count == 1
    moved = assets.vote(row.id, SE, False)
    assert moved.changed and moved.previous is True
    assert (moved.card.useful_count, moved.card.not_useful_count) == (0, 1)
    other = assets.vote(row.id, SELLER, True)
    assert (other.card.useful_count, other.card.not_useful_count) == (1, 1)
    with db.reading() as session:
        assert len(session.scalars(select(AssetFeedback).where(AssetFeedback.asset_id == row.id)).all()) == 2


def test_votes_and_shares_need_a_published_asset(catalogue: None) -> None:
    archived = asset_by_title("Legacy monitoring dashboard tour (classic UI)")
    with pytest.raises(NotFound, match="no longer published"):
        assets.vote(archived.id, SE, True)
    with pytest.raises(NotFound, match="no longer published"):
        assets.published(archived.id)
    with pytest.raises(NotFound):
        assets.vote(999_999, SE, True)


def test_shares_are_counted(catalogue: None) -> None:
    row = asset_by_title(SE_DEMO)
    assets.record_share(row.id, SE, "C0DEALS01")
    card = assets.record_share(row.id, SELLER, "C0DEALS01")
    assert card.share_count == 2
    with db.reading() as session:
        shares = session.scalars(select(AssetShare).where(AssetShare.asset_id == row.id)).all()
        assert [(s.user_id, s.channel_id) for s in shares] == [(SE, "C0DEALS01"), (SELLER, "C0DEALS01")]


def test_drafts_list_is_for_admins_and_mine_lists_my_assets(catalogue: None) -> None:
    with pytest.raises(Forbidden, match="/asset mine"):
        assets.drafts(OWNER)
    listing = assets.drafts(CURATOR)
    assert listing.total == 2 and all(item.card.status == AssetStatus.draft for item in listing.items)
    assert all(item.rights.publish and item.rights.archive for item in listing.items)
    draft = assets.create(fields(), OWNER, admins_configured=True).card
    mine = assets.owned_by(OWNER)
    assert mine.items[0].card.id == draft.id  # drafts first
    assert {item.card.owner_id for item in mine.items} == {SE}
    assert all(item.rights.edit for item in mine.items)


def test_long_lists_are_cut_to_what_one_message_holds(catalogue: None) -> None:
    from bot.blocks.assets import list_message

    topics = ["billing", "caching", "queues", "search", "backups", "sharding", "tenancy", "quotas", "webhooks",
              "retention", "failover", "encryption"]
    for n, topic in enumerate(topics):
        assets.create(fields(title=f"{topic.capitalize()} in practice", url=f"https://assets.example.com/d/{n}"),
                      OWNER, admins_configured=True)
    listing = assets.drafts(CURATOR)
    assert listing.total == 14 and len(listing.items) == 10
    rendered = list_message(listing)
    assert len(rendered["blocks"]) <= 50
    assert len(list_message(assets.owned_by(OWNER))["blocks"]) <= 50

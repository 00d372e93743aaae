"""Who uses epos: each role's people, what they used in a window, who has never used it; and each
person's getting-started checklist, ticked from what they really did.

Uses are read from where each action is already recorded (the audit log, shares, votes, DevRel requests
and answers, searches that found nothing); only searches that found something and looks at the figures,
which change nothing, are written down for this (bot/services/usage.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot import clock, db
from bot.services import assets, engagements, esat, nudges, people, usage
from bot.services.actors import Actor
from models import (
    AssetFeedback,
    AssetShare,
    AuditEntry,
    DevRelPerson,
    DevRelRequest,
    DevRelRequestEvent,
    Engagement,
    SearchMiss,
    UsageDay,
)
from models.engagements import counted
from models.enums import RequestEventKind
from models.schemas.adoption import Adoption, Checklist, Feature, HomeAdoption, PersonUse, Role, RoleAdoption, Step
from models.schemas.devrel import SYSTEM_ACTOR

HOME_WINDOW = timedelta(weeks=4)
# The order a report lists roles in.
ROLES = (Role.se, Role.seller, Role.devrel, Role.manager, Role.other)

# What each role is shown first, in the order worth doing them.
STEPS: dict[Role, tuple[Feature, ...]] = {
    Role.se: (Feature.share, Feature.open, Feature.stage_change, Feature.devrel_request, Feature.esat),
    Role.seller: (Feature.search, Feature.share, Feature.note, Feature.stage_change, Feature.devrel_request),
    Role.devrel: (Feature.devrel_answer, Feature.search, Feature.add_asset, Feature.share),
    Role.manager: (Feature.figures, Feature.search, Feature.note),
}

# (who, when, and which rows) for every place a use of a feature is recorded.
_Source = tuple[InstrumentedAttribute[str], InstrumentedAttribute[datetime], tuple[ColumnElement[bool], ...]]


def _audited(entity: str, *actions: str) -> _Source:
    return AuditEntry.actor_id, AuditEntry.at, (AuditEntry.entity == entity, AuditEntry.action.in_(actions))


SOURCES: dict[Feature, tuple[_Source, ...]] = {
    Feature.search: ((UsageDay.user_id, UsageDay.at, (UsageDay.feature == usage.SEARCH,)),
                     (SearchMiss.user_id, SearchMiss.searched_at, ())),
    Feature.share: ((AssetShare.user_id, AssetShare.shared_at, ()),),
    Feature.vote: ((AssetFeedback.user_id, AssetFeedback.voted_at, ()),),
    Feature.add_asset: (_audited(assets.ENTITY, "created"),),
    Feature.open: (_audited(engagements.ENTITY, "open"),),
    # An undo or a reopen is a stage change too; an import is nobody's use.
    Feature.stage_change: (_audited(engagements.ENTITY, "stage", "close", "undo"),),
    Feature.note: (_audited(engagements.ENTITY, "note"),),
    Feature.devrel_request: ((DevRelRequest.requester_id, DevRelRequest.created_at, ()),),
    Feature.devrel_answer: ((DevRelRequestEvent.actor_id, DevRelRequestEvent.at, (
        DevRelRequestEvent.kind.in_([RequestEventKind.accepted, RequestEventKind.declined, RequestEventKind.assigned]),
        DevRelRequestEvent.actor_id != SYSTEM_ACTOR)),),
    Feature.esat: (_audited(esat.ENTITY, "answer"),),
    Feature.snooze: (_audited(nudges.ENTITY, "snoozed", "unsnoozed"),),
    Feature.figures: ((UsageDay.user_id, UsageDay.at, (UsageDay.feature == usage.FIGURES,)),),
}


def _window(when: InstrumentedAttribute[datetime], since: datetime | None, until: datetime | None) -> list[Any]:
    return [c for c in ((when >= since) if since else None, (when < until) if until else None) if c is not None]


def _uses(session: Session, since: datetime | None, until: datetime) -> dict[str, set[Feature]]:
    """Each person who used epos in [since, until) (since None: ever), with the features they used."""
    found: dict[str, set[Feature]] = {}
    for feature, sources in SOURCES.items():
        for who, when, conditions in sources:
            for user_id in session.scalars(select(who).where(*conditions, *_window(when, since, until)).distinct()):
                found.setdefault(user_id, set()).add(feature)
    return found


def _roles(session: Session, managers: Iterable[str]) -> dict[str, Role]:
    role = {user_id: Role.manager for user_id in managers}
    for user_id in session.scalars(select(DevRelPerson.slack_id).where(DevRelPerson.active.is_(True))):
        role.setdefault(user_id, Role.devrel)
    # A practice engagement makes nobody an SE or a seller in the figures.
    for user_id in session.scalars(select(Engagement.owner_id).where(counted()).distinct()):
        role.setdefault(user_id, Role.se)
    for user_id in session.scalars(select(Engagement.seller_id).where(counted()).distinct()):
        role.setdefault(user_id, Role.seller)
    return role


def _names(user_ids: Sequence[str]) -> dict[str, str]:
    """Names epos has without asking Slack: the roster's, then what users.info told it last."""
    with db.reading() as session:
        names = {slack_id: name for slack_id, name in session.execute(select(DevRelPerson.slack_id, DevRelPerson.name))}
    for user_id, (person, _) in people.cached_many(list(user_ids)).items():
        if person.name and person.name != user_id:
            names[user_id] = person.name
    wanted = set(user_ids)
    return {user_id: name for user_id, name in names.items() if user_id in wanted}


def report(since: datetime, until: datetime, *, managers: Sequence[str]) -> Adoption:
    """Each role's people, who of them used epos in [since, until) and how, and who never has."""
    with db.reading() as session:
        role_of = _roles(session, managers)
        window = _uses(session, since, until)
        ever = _uses(session, None, until)
    names = _names(sorted(set(role_of) | set(window)))
    roles = []
    for role in ROLES:
        holders = sorted(u for u, r in role_of.items() if r is role) if role is not Role.other else \
            sorted(u for u in window if u not in role_of)
        used = [PersonUse(user_id=u, features=sorted(window[u], key=list(Feature).index)) for u in holders if u in window]
        roles.append(RoleAdoption(role=role, people=len(holders), used=used,
                                  not_yet=[u for u in holders if u not in ever]))
    return Adoption(since=since, until=until, roles=roles, names=names)


def role_of(user_id: str, *, managers: Sequence[str]) -> Role:
    """The role whose checklist a person gets; someone with no role yet starts as an SE does."""
    if user_id in managers:
        return Role.manager
    with db.reading() as session:
        devrel, owner, seller = session.execute(select(
            exists().where(DevRelPerson.slack_id == user_id, DevRelPerson.active.is_(True)),
            exists().where(Engagement.owner_id == user_id, counted()),
            exists().where(Engagement.seller_id == user_id, counted()),
        )).one()
    if devrel:
        return Role.devrel
    return Role.seller if seller and not owner else Role.se


def checklist(user_id: str, *, managers: Sequence[str], expanded: bool = False) -> Checklist:
    """The steps of a person's role, each ticked when they have done it at least once."""
    role = role_of(user_id, managers=managers)
    features = STEPS[role]
    checks = [
        or_(*(exists().where(who == user_id, *conditions) for who, _, conditions in SOURCES[feature]))
        for feature in features
    ]
    with db.reading() as session:
        done = session.execute(select(*checks)).one()
    return Checklist(role=role, steps=[Step(feature=f, done=bool(d)) for f, d in zip(features, done, strict=True)],
                     expanded=expanded)


def home(actor: Actor, *, managers: Sequence[str], expanded: bool = False,
         now: datetime | None = None) -> HomeAdoption:
    """A person's checklist; the team's adoption over the last four weeks too for managers and admins."""
    now = now or clock.now()
    team = report(now - HOME_WINDOW, now, managers=managers) if actor.manager or actor.admin else None
    return HomeAdoption(checklist=checklist(actor.user_id, managers=managers, expanded=expanded), team=team)

"""Pilots: a named group of SEs who try the guided path first. Managers and admins create them, change
their members and end them, from Slack or the command line; every change is audited."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from bot import clock, dates, db
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound
from bot.services import audit
from bot.services.actors import Actor
from bot.services.engagements import SLACK_USER
from models import DevRelPerson, Engagement, Pilot, PilotMember
from models.schemas.pilots import PilotMemberOut, PilotOut

ENTITY = "pilot"
# The command line acts with no Slack user behind it; the audit log says so.
CLI_ACTOR = Actor(user_id="cli", admin=True, manager=True)
NAME = re.compile(r"^[\w][\w .,'()-]{0,79}$")


def _require_manager(actor: Actor) -> None:
    if not (actor.manager or actor.admin):
        raise Forbidden("Pilots are run by epos managers and admins; ask one of them to make this change.")


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not NAME.match(name):
        raise InvalidInput("name: use 1 to 80 letters, digits, spaces and simple punctuation, like `Q3 guided path`",
                           field="name")
    return name


def clean_members(ids: Iterable[str]) -> list[str]:
    members: list[str] = []
    for raw in ids:
        user_id = raw.strip().strip("<@>").split("|")[0]
        if not user_id:
            continue
        if not SLACK_USER.match(user_id):
            raise InvalidInput(f"members: {raw.strip()!r} is not a Slack user id like U0123ABCD", field="members")
        if user_id not in members:
            members.append(user_id)
    return members


def _out(session: Session, pilot: Pilot) -> PilotOut:
    rows = session.scalars(select(PilotMember).where(PilotMember.pilot_id == pilot.id).order_by(PilotMember.id)).all()
    return PilotOut(id=pilot.id, name=pilot.name, start_on=pilot.start_on, end_on=pilot.end_on,
                    members=tuple(PilotMemberOut(slack_id=m.slack_id, joined_on=m.joined_on, left_on=m.left_on)
                                  for m in rows))


def _load(session: Session, name: str, *, lock: bool = False) -> Pilot:
    query = select(Pilot).where(Pilot.name == " ".join((name or "").split()))
    pilot = session.scalar(query.with_for_update() if lock else query)
    if pilot is None:
        known = ", ".join(session.scalars(select(Pilot.name).order_by(Pilot.name)).all()) or "none yet"
        raise NotFound(f"name: there is no pilot called {name!r} (pilots: {known})")
    return pilot


def create(actor: Actor, name: str, start_on: date, members: Iterable[str], *, now: datetime | None = None) -> PilotOut:
    _require_manager(actor)
    now = now or clock.now()
    name, members = clean_name(name), clean_members(members)
    if not members:
        raise InvalidInput("members: name at least one SE, like U0123ABCD", field="members")
    with db.transaction() as session:
        if session.scalar(select(Pilot.id).where(Pilot.name == name)) is not None:
            raise Conflict(f"name: a pilot called {name!r} already exists; pick another name or change its members")
        pilot = Pilot(name=name, start_on=start_on, end_on=None, created_by=actor.user_id, created_at=now)
        session.add(pilot)
        session.flush()
        for user_id in members:
            session.add(PilotMember(pilot_id=pilot.id, slack_id=user_id, joined_on=start_on, left_on=None))
        audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=pilot.id, action="create", at=now,
                     name=name, start=start_on.isoformat(), members=members)
        session.flush()
        return _out(session, pilot)


def _add(session: Session, pilot: Pilot, members: list[str], on: date) -> list[str]:
    existing = {m.slack_id: m for m in session.scalars(select(PilotMember).where(PilotMember.pilot_id == pilot.id))}
    joined_on = max(on, pilot.start_on)
    added = []
    for user_id in members:
        member = existing.get(user_id)
        if member is None:
            session.add(PilotMember(pilot_id=pilot.id, slack_id=user_id, joined_on=joined_on, left_on=None))
        elif member.left_on is not None:
            member.joined_on, member.left_on = joined_on, None
        else:
            continue
        added.append(user_id)
    return added


def _remove(session: Session, pilot: Pilot, members: list[str], on: date) -> None:
    current = {m.slack_id: m for m in session.scalars(select(PilotMember).where(
        PilotMember.pilot_id == pilot.id, PilotMember.left_on.is_(None)))}
    if not members:
        raise InvalidInput("members: name at least one SE to remove, like U0123ABCD", field="members")
    unknown = [user_id for user_id in members if user_id not in current]
    if unknown:
        verb = "is" if len(unknown) == 1 else "are"
        raise InvalidInput(f"members: {', '.join(unknown)} {verb} not in the pilot {pilot.name!r}; "
                           "`epos pilot list` shows who is", field="members")
    for user_id in members:
        current[user_id].left_on = max(on, current[user_id].joined_on)


def _end(pilot: Pilot, on: date) -> None:
    if on < pilot.start_on:
        raise InvalidInput(f"end: {on:%Y-%m-%d} is before the pilot started ({pilot.start_on:%Y-%m-%d})", field="end")
    pilot.end_on = on


def add_members(actor: Actor, name: str, ids: Iterable[str], *, on: date, now: datetime | None = None) -> PilotOut:
    """Members added after the start count from `on` (a day in EPOS_TIMEZONE); someone removed comes back."""
    _require_manager(actor)
    now, members = now or clock.now(), clean_members(ids)
    if not members:
        raise InvalidInput("members: name at least one SE to add, like U0123ABCD", field="members")
    with db.transaction() as session:
        pilot = _load(session, name, lock=True)
        if added := _add(session, pilot, members, on):
            audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=pilot.id, action="add", at=now,
                         members=added, on=max(on, pilot.start_on).isoformat())
        session.flush()
        return _out(session, pilot)


def remove_members(actor: Actor, name: str, ids: Iterable[str], *, on: date, now: datetime | None = None) -> PilotOut:
    """A member removed stops counting from `on`; what they opened before still counts for the pilot."""
    _require_manager(actor)
    now, members = now or clock.now(), clean_members(ids)
    with db.transaction() as session:
        pilot = _load(session, name, lock=True)
        _remove(session, pilot, members, on)
        audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=pilot.id, action="remove", at=now,
                     members=members, on=on.isoformat())
        session.flush()
        return _out(session, pilot)


def end(actor: Actor, name: str, on: date, *, now: datetime | None = None) -> PilotOut:
    _require_manager(actor)
    now = now or clock.now()
    with db.transaction() as session:
        pilot = _load(session, name, lock=True)
        _end(pilot, on)
        audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=pilot.id, action="end", at=now,
                     on=on.isoformat())
        session.flush()
        return _out(session, pilot)


def save(actor: Actor, name: str, *, creating: bool, start_on: date | None, members: Iterable[str],
         end_on: date | None, today: date, now: datetime | None = None) -> PilotOut:
    """The pilot form: create the pilot, or bring an existing one's members (from `today`) and end in line
    with the form, all or nothing."""
    _require_manager(actor)
    now, name, wanted = now or clock.now(), clean_name(name), clean_members(members)
    if not wanted:
        raise InvalidInput("members: pick at least one SE", field="members")
    with db.transaction() as session:
        pilot = session.scalar(select(Pilot).where(Pilot.name == name).with_for_update())
        if creating and pilot is not None:
            raise InvalidInput(f"name: a pilot called {name!r} already exists; pick another name", field="name")
        if pilot is None and not creating:
            raise NotFound(f"There is no pilot called {name!r} any more; open the form again from the App Home.")
        if pilot is None:
            if start_on is None:
                raise InvalidInput("start: pick the pilot's first day", field="start")
            pilot = Pilot(name=name, start_on=start_on, end_on=None, created_by=actor.user_id, created_at=now)
            session.add(pilot)
            session.flush()
            _add(session, pilot, wanted, start_on)
            if end_on is not None:
                _end(pilot, end_on)
            audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=pilot.id, action="create", at=now,
                         name=name, start=start_on.isoformat(), members=wanted,
                         end=end_on.isoformat() if end_on else None)
            session.flush()
            return _out(session, pilot)
        current = [m.slack_id for m in session.scalars(select(PilotMember).where(
            PilotMember.pilot_id == pilot.id, PilotMember.left_on.is_(None)))]
        if added := _add(session, pilot, [u for u in wanted if u not in current], today):
            audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=pilot.id, action="add", at=now,
                         members=added, on=max(today, pilot.start_on).isoformat())
        if removed := [u for u in current if u not in wanted]:
            _remove(session, pilot, removed, today)
            audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=pilot.id, action="remove", at=now,
                         members=removed, on=today.isoformat())
        if end_on != pilot.end_on and end_on is not None:
            _end(pilot, end_on)
            audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=pilot.id, action="end", at=now,
                         on=end_on.isoformat())
        elif end_on is None and pilot.end_on is not None:
            # The last day emptied on the form: the pilot runs on, as the form's hint says an empty day means.
            audit.record(session, actor_id=actor.user_id, entity=ENTITY, entity_id=pilot.id, action="reopen", at=now,
                         was=pilot.end_on.isoformat())
            pilot.end_on = None
        session.flush()
        return _out(session, pilot)


def get(name: str) -> PilotOut:
    with db.reading() as session:
        return _out(session, _load(session, name))


def list_pilots() -> list[PilotOut]:
    with db.reading() as session:
        return [_out(session, pilot) for pilot in session.scalars(select(Pilot).order_by(Pilot.start_on, Pilot.id))]


def running(today: date) -> list[PilotOut]:
    """Pilots running on `today`, the latest started first."""
    return sorted((p for p in list_pilots() if p.running_on(today)), key=lambda p: p.start_on, reverse=True)


def members_of_running_pilots(today: date) -> set[str]:
    return {user_id for pilot in running(today) for user_id in pilot.current_members}


def in_rollout_audience(actor: Actor, members: set[str]) -> bool:
    """While a pilot runs (`members`: its current members): the members, sellers on deals they own, DevRel
    on the roster, managers, admins and readers. With no pilot running (`members` empty), everyone."""
    if actor.admin or actor.manager or actor.reader or not members or actor.user_id in members:
        return True
    with db.reading() as session:
        on_a_members_deal = exists().where(Engagement.seller_id == actor.user_id, Engagement.owner_id.in_(members))
        on_the_roster = exists().where(DevRelPerson.slack_id == actor.user_id, DevRelPerson.active.is_(True))
        return bool(session.scalar(select(on_a_members_deal | on_the_roster)))


def kept_out(actors: Iterable[Actor], today: date) -> list[str]:
    """Who of `actors` EPOS_PILOT_ONLY keeps out on `today`."""
    members = members_of_running_pilots(today)
    return [actor.user_id for actor in actors if not in_rollout_audience(actor, members)]


class OpenGate(NamedTuple):
    """Why EPOS_PILOT_ONLY keeps nobody out today, and what to do about it ("" when it closes by itself)."""
    why: str
    fix: str

    @property
    def line(self) -> str:
        return f"{self.why}; {self.fix}" if self.fix else self.why


def open_gate(today: date) -> OpenGate | None:
    """With EPOS_PILOT_ONLY on and no pilot running on `today`, epos answers everyone (it never locks the
    whole team out): what to tell whoever runs epos, so that it is no surprise. None while a pilot runs."""
    found = list_pilots()
    running_now = [pilot for pilot in found if pilot.running_on(today)]
    if any(pilot.current_members for pilot in running_now):
        return None
    if running_now:
        return OpenGate(f"EPOS_PILOT_ONLY is on, but the pilot {running_now[0].name!r} has no members left, so "
                        "epos answers everyone", "add SEs to it (`epos pilot add`) or unset EPOS_PILOT_ONLY")
    upcoming = sorted((pilot for pilot in found if pilot.start_on > today), key=lambda pilot: pilot.start_on)
    if upcoming:
        return OpenGate(f"EPOS_PILOT_ONLY is on, but no pilot runs today, so epos answers everyone until the "
                        f"pilot {upcoming[0].name!r} starts on {dates.day(upcoming[0].start_on)}", "")
    return OpenGate("EPOS_PILOT_ONLY is on, but no pilot runs, so epos answers everyone",
                    "start a pilot (`epos pilot create`, or Start a pilot on a manager's App Home) to keep epos to "
                    "its members, or unset EPOS_PILOT_ONLY once the rollout is done")

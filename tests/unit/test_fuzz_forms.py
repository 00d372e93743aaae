"""Every modal epos opens, submitted with anything in its fields (and with forged metadata): a refused
submission is answered with `response_action: errors` on the form's own blocks and writes nothing; an
accepted one sends only valid Block Kit that pings no one; nothing fails unexpectedly.

The views are the ones epos itself opened (through the App), and the values are generated from their
input blocks, so a new field or form is fuzzed without changing this file.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from slack_bolt import App
from sqlalchemy import select

import models
from bot import clock, db
from bot.config import Settings
from bot.ids import AssetIds, DevRelIds, EngagementIds, HomeIds, PilotIds
from bot.services.devrel import policy_for
from bot.services import devrel
from bot.services.actors import Actor
from handlers.errors import APOLOGY
from models import EsatSurvey
from models.enums import Outcome
from models.schemas.devrel import RequestDraft
from tests.assets_helpers import import_sample
from tests.conftest import ADMIN, SE, SELLER
from tests.devrel_helpers import LENA, load_roster, next_weekday_meeting
from tests.engagements_helpers import open_engagement
from tests.reliability_helpers import (
    action,
    check_sent,
    command,
    error_log,
    hostile_text,
    sent_texts,
    submit,
    sync_app,
)
from tests.support.slack import MockSlack

APOLOGY_START = APOLOGY.split("{", 1)[0][:40]
HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
# Tables a refused submission must leave untouched (the Slack user cache and delivery keys may change).
WATCHED = [t for t in models.Base.metadata.sorted_tables if t.name not in ("slack_users", "processed_deliveries")]


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    with db.reading() as session:
        return {t.name: sorted(map(tuple, session.execute(select(t)).all()), key=repr) for t in WATCHED}


def opened_view(app: App, slack: MockSlack, outcome_calls: list[Any]) -> dict[str, Any]:
    views = [c.params["view"] for c in outcome_calls if c.method in ("views.open", "views.push")]
    assert views, [c.method for c in outcome_calls]
    return views[-1]


class Forms(dict[str, tuple[dict[str, Any], str]]):
    """Form name -> (the view as epos opened it, who it was opened for); short in hypothesis's reports."""

    app: App

    def __repr__(self) -> str:
        return f"<{len(self)} forms>"


@pytest.fixture
def forms(settings: Settings, slack: MockSlack) -> Iterator[Forms]:
    """The App, and every form epos opens, as it opened it, with who it was opened for."""
    from bot.services import assets, engagements

    import_sample()
    load_roster()
    app = sync_app(settings)
    now = clock.now()
    engagement_id = open_engagement("Northbeam Logistics", (now - timedelta(days=20)).strftime("%Y-%m-%d %H:%M"),
                                    channel_id="C0NBDEAL1")
    to_close = open_engagement("Bluefin Bank", (now - timedelta(days=20)).strftime("%Y-%m-%d %H:%M"))
    engagements.close(Actor(user_id=SE), to_close, Outcome.won)
    with db.reading() as session:
        survey_id = session.scalars(select(EsatSurvey.id)).first()
    request = devrel.create_request(
        Actor(user_id=SE),
        RequestDraft(engagement_id=engagement_id, meeting_start=next_weekday_meeting(now), duration_minutes=60,
                     topics=["observability"], meeting_link="https://meet.example.com/abc", customer_asked="?",
                     promised="", held_in_reserve=""),
        policy=policy_for(settings), now=now,
    ).request
    later = devrel.create_request(
        Actor(user_id=SE),
        RequestDraft(engagement_id=engagement_id, meeting_start=next_weekday_meeting(now, days_ahead=7),
                     duration_minutes=60, topics=["observability"], customer_asked="?"),
        policy=policy_for(settings), now=now,
    ).request
    assert later.candidate_id is not None
    accepted = devrel.accept(Actor(user_id=later.candidate_id), later.id, later.version, now=now).request
    assert accepted.assignee_id is not None
    asset_id = assets.search("demo observability").items[0].card.id

    def view_of(outcome: Any) -> dict[str, Any]:
        return opened_view(app, slack, outcome.calls)

    opened = Forms({
        "asset add (SE)": (view_of(command(app, slack, "/asset", "add", user_id=SE)), SE),
        "asset add (admin)": (view_of(command(app, slack, "/asset", "add Tracing", user_id=ADMIN)), ADMIN),
        "asset edit": (view_of(action(app, slack, AssetIds.edit, str(asset_id), user_id=ADMIN)), ADMIN),
        "engagement new": (view_of(command(app, slack, "/engagement", "new", user_id=SE)), SE),
        "stage": (view_of(action(app, slack, EngagementIds.change_stage, str(engagement_id), user_id=SE)), SE),
        "close": (view_of(action(app, slack, EngagementIds.close, str(engagement_id), user_id=SE)), SE),
        "note": (view_of(action(app, slack, EngagementIds.add_note, str(engagement_id), user_id=SE)), SE),
        "deal channel": (view_of(action(app, slack, EngagementIds.set_channel, str(engagement_id), user_id=SE)), SE),
        "esat": (view_of(action(app, slack, EngagementIds.esat_comment, str(survey_id), user_id=SE)), SE),
        "devrel request": (view_of(command(app, slack, "/devrel", "northbeam", user_id=SE)), SE),
        "decline": (view_of(action(app, slack, DevRelIds.decline, f"{request.id}:{request.version}",
                                   user_id=request.candidate_id or LENA)), request.candidate_id or LENA),
        "hand back": (view_of(action(app, slack, DevRelIds.hand_back, f"{accepted.id}:{accepted.version}",
                                     user_id=accepted.assignee_id)), accepted.assignee_id),
        "roster add": (view_of(action(app, slack, DevRelIds.roster_add, "", user_id=ADMIN)), ADMIN),
        "roster edit": (view_of(action(app, slack, DevRelIds.roster_edit, LENA, user_id=ADMIN)), ADMIN),
        "pilot start": (view_of(action(app, slack, PilotIds.open, "", user_id=ADMIN)), ADMIN),
        "practice invite": (view_of(action(app, slack, HomeIds.invite_practice, "home", user_id=ADMIN)), ADMIN),
    })
    opened.app = app
    yield opened


# ----- values as Slack would submit them, for any input element ------------------------------------------
def _dates() -> st.SearchStrategy[str | None]:
    today = date.today()
    return st.one_of(st.none(), st.integers(-400, 400).map(lambda d: (today + timedelta(days=d)).isoformat()),
                     st.sampled_from(["2026-02-30", "0000-00-00", "9999-12-31", "yesterday", ""]), hostile_text)


def _times() -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)),
                     st.sampled_from(["24:00", "25:61", "9", "02:30", ""]), hostile_text)


def _option(value: str | None) -> dict[str, Any] | None:
    return None if value is None else {"value": value, "text": {"type": "plain_text", "text": value[:75] or "-"}}


def _options_of(element: dict[str, Any]) -> list[str]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return [o["value"] for o in options]


# A plausible value for a text field, by a word in its block id, so that many submissions get past
# validation and the hostile text in their other fields reaches what epos saves and renders.
PLAUSIBLE = {"url": "https://assets.example.com/demos/new-one", "link": "https://meet.example.com/xyz",
             "timezone": "Europe/Berlin", "capacity": "4", "topics": "observability, tracing", "products": "APM",
             "title": "Tracing in five minutes", "summary": "Follows one request", "account": "Zephyr Freight",
             "opportunity": "Fleet tracing", "name": "Ada Lovelace", "reason": "On leave that week"}


def plausible_text(block_id: str, element: dict[str, Any]) -> st.SearchStrategy[str]:
    for word, value in PLAUSIBLE.items():
        if word in block_id:
            return st.just(value)
    return st.just(element.get("initial_value") or "Some words")


def element_state(element: dict[str, Any], block_id: str = "") -> st.SearchStrategy[dict[str, Any]]:
    kind = element["type"]
    people = st.one_of(st.none(), st.sampled_from([SE, SELLER, ADMIN, LENA, "U0NOBODY1"]), hostile_text)
    if kind == "plain_text_input":
        plausible = plausible_text(block_id, element)
        return st.one_of(plausible, plausible, plausible, st.none(), hostile_text,
                         st.tuples(plausible, hostile_text).map(" ".join)).map(lambda v: {"type": kind, "value": v})
    if kind in ("static_select", "radio_buttons", "external_select"):
        choices = st.one_of(st.none(), hostile_text, *([st.sampled_from(_options_of(element))] * 3
                                                      if _options_of(element) else []))
        return choices.map(lambda v: {"type": kind, "selected_option": _option(v)})
    if kind in ("multi_static_select", "checkboxes"):
        pool = _options_of(element) or ["x"]
        return st.lists(st.one_of(st.sampled_from(pool), hostile_text), max_size=5).map(
            lambda vs: {"type": kind, "selected_options": [_option(v) for v in vs]})
    if kind == "users_select":
        return people.map(lambda v: {"type": kind, "selected_user": v})
    if kind == "multi_users_select":
        return st.lists(people.filter(bool), max_size=4).map(lambda vs: {"type": kind, "selected_users": vs})
    if kind in ("conversations_select", "channels_select"):
        key = "selected_conversation" if kind == "conversations_select" else "selected_channel"
        return st.one_of(st.none(), st.sampled_from(["C0NBDEAL1", "C0OTHER01", "D0DM00001"]), hostile_text).map(
            lambda v: {"type": kind, key: v})
    if kind == "datepicker":
        return _dates().map(lambda v: {"type": kind, "selected_date": v})
    if kind == "timepicker":
        return _times().map(lambda v: {"type": kind, "selected_time": v})
    if kind == "number_input":
        return st.one_of(st.none(), st.integers(-10**6, 10**6).map(str), hostile_text).map(
            lambda v: {"type": kind, "value": v})
    return st.just({"type": kind})


def plausible_state(element: dict[str, Any], block_id: str) -> st.SearchStrategy[dict[str, Any]]:
    """A value a careful person would give, now and then with hostile text added to a text field."""
    kind = element["type"]
    today = date.today()
    if kind == "plain_text_input":
        plausible = plausible_text(block_id, element)
        return st.one_of(plausible, st.tuples(plausible, hostile_text).map(" ".join)).map(
            lambda v: {"type": kind, "value": v})
    if kind in ("static_select", "radio_buttons", "external_select") and _options_of(element):
        return st.sampled_from(_options_of(element)).map(lambda v: {"type": kind, "selected_option": _option(v)})
    if kind == "users_select":
        return st.sampled_from([SE, SELLER]).map(lambda v: {"type": kind, "selected_user": v})
    if kind == "conversations_select":
        return st.just({"type": kind, "selected_conversation": "C0NBDEAL1"})
    if kind == "datepicker":
        days = [0, -1, -3] if "devrel" not in block_id else [2, 3, 4, 7]
        return st.sampled_from(days).map(lambda d: {"type": kind, "selected_date": (today + timedelta(days=d)).isoformat()})
    if kind == "timepicker":
        return st.sampled_from(["09:00", "15:00", "17:00"]).map(lambda v: {"type": kind, "selected_time": v})
    return element_state(element, block_id)


def form_values(view: dict[str, Any]) -> st.SearchStrategy[dict[str, dict[str, dict[str, Any]]]]:
    """Values for every input of `view`: most as a careful person gives them, up to three anything at all."""
    fields = [(b["block_id"], b["element"]) for b in view.get("blocks") or [] if b.get("type") == "input"]

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, dict[str, dict[str, Any]]]:
        wild = draw(st.sets(st.sampled_from(range(len(fields))), max_size=3)) if fields else set()
        values: dict[str, dict[str, dict[str, Any]]] = {}
        for index, (block_id, element) in enumerate(fields):
            strategy = element_state(element, block_id) if index in wild else plausible_state(element, block_id)
            values[block_id] = {element["action_id"]: draw(strategy)}
        return values

    return build()


FORM_NAMES = ["asset add (SE)", "asset add (admin)", "asset edit", "engagement new", "stage", "close", "note", "esat",
              "deal channel", "devrel request", "decline", "hand back", "roster add", "roster edit"]


@st.composite
def submissions(draw: st.DrawFn, view: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    if draw(st.integers(0, 9)) == 0:  # now and then, forged or mangled metadata
        view = {**view, "private_metadata": draw(st.one_of(hostile_text, st.sampled_from(
            ['{"e": 99999999999999}', '{"e": "1"}', '{"asset_id": -1}', '{"mode": "edit", "slack_id": "<!here>"}',
             '{"request_id": 1, "version": "x"}', '{"s": 99999999999999999999}', '[]', 'null', '{"tz": "Mars/Base"}'])))}
    return view, draw(form_values(view))


@pytest.mark.parametrize("name", FORM_NAMES)
@given(data=st.data())
@hypothesis_settings(max_examples=40, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                            HealthCheck.data_too_large])
def test_any_submission_of_any_form(forms: Forms, slack: MockSlack, name: str, data: st.DataObject) -> None:
    view, values = data.draw(submissions(forms[name][0]))
    user_id = forms[name][1]
    app = forms.app
    before = snapshot()
    with error_log() as errors:
        outcome = submit(app, slack, view, values, user_id=user_id)
    assert not errors.records, f"{name}: {errors.describe()}"
    assert APOLOGY_START not in sent_texts(outcome), name
    check_sent(outcome)
    answer = outcome.body
    event(f"{name}: {'refused' if answer.get('response_action') == 'errors' else 'accepted'}")
    if answer.get("response_action") == "errors":
        input_blocks = {b["block_id"] for b in view.get("blocks") or [] if b.get("type") == "input"}
        assert answer["errors"], name
        assert set(answer["errors"]) <= input_blocks, (
            f"{name}: errors on {set(answer['errors']) - input_blocks}: {answer['errors']}; "
            f"metadata {view.get('private_metadata')!r}")
        for message in answer["errors"].values():
            assert message.strip() and len(message) <= 2000
        assert snapshot() == before, f"{name}: a refused submission wrote to the database"


def test_the_forms_fuzzed_are_every_form_epos_listens_for(forms: Forms) -> None:
    fuzzed = {view["callback_id"] for view, _ in forms.values()}
    listened = set()
    # Every handler module registers its forms from a `VIEWS` table.
    for found in pkgutil.walk_packages([str(HANDLERS)], prefix="handlers."):
        table = getattr(importlib.import_module(found.name), "VIEWS", {})
        listened.update(str(callback_id) for callback_id in table)
    assert listened and fuzzed == listened


@pytest.mark.parametrize("zone", ["America", "Europe", "Mars/Base", "x" * 300, "<!here>", "<script>alert(1)</script>" * 50])
def test_a_timezone_that_is_a_folder_or_too_long_is_a_field_error(zone: str) -> None:
    from handlers.devrel.forms import parse_roster_form
    from tests.support.wire import input_value

    values = {
        DevRelIds.roster_person_block: {DevRelIds.roster_person_select: {"type": "users_select", "selected_user": LENA}},
        DevRelIds.roster_name_block: {DevRelIds.roster_name_input: input_value("Lena Hoffmann")},
        DevRelIds.roster_topics_block: {DevRelIds.roster_topics_input: input_value("observability")},
        DevRelIds.roster_timezone_block: {DevRelIds.roster_timezone_input: input_value(zone)},
        DevRelIds.roster_start_block: {DevRelIds.roster_start_picker: {"type": "timepicker", "selected_time": "09:00"}},
        DevRelIds.roster_end_block: {DevRelIds.roster_end_picker: {"type": "timepicker", "selected_time": "17:00"}},
        DevRelIds.roster_capacity_block: {DevRelIds.roster_capacity_input: input_value("4")},
    }
    entry, errors = parse_roster_form(values, slack_id=None, active=True)
    assert entry is None
    assert list(errors) == [DevRelIds.roster_timezone_block]
    assert "is not an IANA timezone like Europe/Berlin" in errors[DevRelIds.roster_timezone_block]


@pytest.mark.parametrize("name", ["America", "a/" * 400, "<script>alert(1)</script>" * 50, "Europe/Berlin/x/y",
                                  "../../etc/passwd", "Europe/Berlin\x00", ""])
def test_timezone_names_that_are_not_zones_never_raise(name: str) -> None:
    from zoneinfo import ZoneInfo

    from bot import clock
    from bot.notify.zones import named

    team = ZoneInfo("Europe/Berlin")
    assert clock.zone_named(name) is None
    assert named(name, team) is team
    assert clock.zone_named("America/Argentina/ComodRivadavia") is not None
    assert clock.zone_named("Etc/GMT+5") is not None

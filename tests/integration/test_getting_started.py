"""The getting-started checklist and the managers' adoption section in the App Home, over signed HTTP:
ticked from what people really did, folded away once done, shown again on request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot import clock
from tests.support.slack import MockSlack
from tests.support.wire import SlackWire
from tests.conftest import MANAGER, SE
from tests.engagements_helpers import buttons_in, new_form_values, open_engagement
from tests.support.text import all_text
from tests.integration.test_engagements_commands import opened_view
from tests.integration.test_home import HOME, open_home

FIELD = "engagement_field"


def home_showing(slack: MockSlack, user_id: str, text: str) -> dict[str, Any]:
    """The first Home published for `user_id` that shows `text` (a change also republishes the Home)."""
    call = slack.wait_for("views.publish", lambda c: c.params.get("user_id") == user_id
                          and text in all_text(c.params["view"]["blocks"]))[0]
    return call.params["view"]


def test_an_ses_checklist_ticks_what_they_did_over_slack(database_url: str, wire: SlackWire, slack: MockSlack) -> None:
    open_home(wire, SE)
    first = home_showing(slack, SE, "Getting started as an SE")
    assert "0 of 5 done" in all_text(first["blocks"])

    assert wire.command("/engagement", "new", user_id=SE).status == 200
    assert wire.view_submission(opened_view(slack, "engagement_new"), new_form_values(), user_id=SE).status == 200
    assert wire.command("/engagement", "northbeam demo", user_id=SE).status == 200
    open_home(wire, SE)

    text = all_text(home_showing(slack, SE, "2 of 5 done")["blocks"])
    assert "~Open an engagement~" in text and "~Log a stage change~" in text
    assert "*Request DevRel*" in text and "*Answer an ESAT*" in text
    # SEs see no one else's adoption.
    assert "Adoption, last 4 weeks" not in text


def test_a_managers_checklist_folds_away_once_done_and_shows_again(database_url: str, wire: SlackWire,
                                                                    slack: MockSlack) -> None:
    engagement_id = open_engagement("Northbeam Logistics",
                                    (clock.now() - timedelta(days=2)).strftime("%Y-%m-%d %H:%M"))
    wire.command("/engagement", "stats", user_id=MANAGER)
    wire.command("/asset", "quantum networking", user_id=MANAGER)
    wire.block_action("engagement_add_note", user_id=MANAGER, value=str(engagement_id), response_name="n")
    note = {"engagement_note_text": {FIELD: {"type": "plain_text_input", "value": "Coached on the POC plan"}}}
    assert wire.view_submission(opened_view(slack, "engagement_note"), note, user_id=MANAGER).status == 200
    slack.wait_for("response_url", lambda c: c.params.get("_name") == "n")

    open_home(wire, MANAGER)
    folded = home_showing(slack, MANAGER, "all 3 steps done")
    assert "~See the team figures~" not in all_text(folded["blocks"])
    # Managers see the team's adoption, people named by mention (Slack shows their names in the Home).
    assert "*Adoption, last 4 weeks*" in all_text(folded["blocks"])
    assert "SEs: the one SE used epos; 1 opened an engagement." in all_text(folded["blocks"])
    assert "Sellers: the one seller has not used epos. Not yet: <@U0S1A2B3C>." in all_text(folded["blocks"])

    show = next(b for b in buttons_in(folded["blocks"]) if b["action_id"] == "home_checklist_show")
    wire.block_action(show["action_id"], user_id=MANAGER, value=show["value"], view={**HOME, "blocks": folded["blocks"]})
    shown = home_showing(slack, MANAGER, "~See the team figures~")
    assert "~Find an asset~" in all_text(shown["blocks"]) and "~Add a note to a deal~" in all_text(shown["blocks"])

    hide = next(b for b in buttons_in(shown["blocks"]) if b["action_id"] == "home_checklist_hide")
    wire.block_action(hide["action_id"], user_id=MANAGER, value=hide["value"], view={**HOME, "blocks": shown["blocks"]})
    folded_again = slack.wait_for("views.publish", lambda c: c.params.get("user_id") == MANAGER
                                  and "all 3 steps done" in all_text(c.params["view"]["blocks"]), count=2)[1]
    assert "~See the team figures~" not in all_text(folded_again.params["view"]["blocks"])


def test_each_step_has_a_button_that_opens_its_form_or_says_how(database_url: str, wire: SlackWire,
                                                                slack: MockSlack) -> None:
    open_home(wire, SE)
    home = home_showing(slack, SE, "Getting started as an SE")
    labels = [(b["text"]["text"], b["action_id"], b.get("value")) for b in buttons_in(home["blocks"])]
    assert ("New engagement", "engagement_new_open", "open") in labels
    assert ("Show me how", "home_how_to", "stage_change") in labels

    wire.block_action("engagement_new_open", user_id=SE, value="open", view=HOME)
    slack.wait_for("views.open", lambda c: c.params["view"].get("callback_id") == "engagement_new")
    wire.block_action("home_how_to", user_id=SE, value="stage_change", view=HOME)
    how = slack.wait_for("views.open", lambda c: "Log a stage change" in str(c.params["view"]["title"]))[0]
    assert "`/engagement ACCOUNT demo`" in all_text(how.params["view"]["blocks"])

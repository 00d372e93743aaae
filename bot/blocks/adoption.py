"""Adoption and the getting-started checklist as text and Block Kit: the App Home's sections, the
digest's section, and lines the command line prints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ContextBlock, InputBlock, SectionBlock, UserMultiSelectElement

from bot.blocks.kit import Message, button, md, message, modal, plain_text
from bot.blocks.text import FIELD_TEXT, plural, safe
from bot.ids import AssetIds, EngagementIds, HomeIds
from models.schemas.adoption import NAMES_SHOWN, Adoption, Checklist, Feature, Role, RoleAdoption

NameOf = Callable[[str], str]

ROLE_NOUN = {
    Role.se: ("SE", "SEs"),
    Role.seller: ("seller", "sellers"),
    Role.devrel: ("DevRel person", "DevRel people"),
    Role.manager: ("manager", "managers"),
    Role.other: ("other person", "other people"),
}
ROLE_TITLE = {Role.se: "SEs", Role.seller: "Sellers", Role.devrel: "DevRel", Role.manager: "Managers",
              Role.other: "Others"}
DID = {
    Feature.search: "searched for assets",
    Feature.share: "shared an asset",
    Feature.vote: "rated an asset",
    Feature.add_asset: "added an asset",
    Feature.open: "opened an engagement",
    Feature.stage_change: "logged a stage change",
    Feature.note: "added a note",
    Feature.devrel_request: "requested DevRel",
    Feature.devrel_answer: "answered a DevRel ask",
    Feature.esat: "answered an ESAT",
    Feature.snooze: "snoozed a nudge",
    Feature.figures: "looked at the figures",
}
NOBODY = {Role.manager: "nobody is named in EPOS_MANAGERS", Role.other: "nobody else used epos"}
NONE_YET = "no {many} yet"
NOT_YET = "Not yet: {names}."
MORE = "and {count} more"
HOME_TITLE = "*Adoption, last 4 weeks*"
DIGEST_TITLE = "*Adoption this week*"
DETAILS = "Everyone, by name and feature: `epos adoption --json`."

# ----- the checklist ------------------------------------------------------------------------------------
# Each step: what to do, how in one line, and the button (label, action id) that opens its form or says how.
STEP = {
    Feature.share: ("Find an asset and share it",
                    "Type `/asset demo observability` in a deal channel and press *Share in channel*.",
                    ("Find an asset", HomeIds.find_asset)),
    Feature.search: ("Find an asset",
                     "Type `/asset` with a type and a topic, like `/asset walkthrough kubernetes`.",
                     ("Find an asset", HomeIds.find_asset)),
    Feature.open: ("Open an engagement",
                   "Log a customer deal with `/engagement new`; it starts at Preparation. To learn first, press "
                   "*Start a practice engagement* above: it counts nowhere.",
                   ("New engagement", EngagementIds.new)),
    Feature.stage_change: ("Log a stage change",
                           "When a deal moves on, type `/engagement ACCOUNT demo` or press *Change stage* on its card.",
                           ("Show me how", HomeIds.how_to)),
    Feature.devrel_request: ("Request DevRel",
                             "Bring a DevRel colleague into a customer meeting with `/devrel ACCOUNT`.",
                             ("Request DevRel", HomeIds.request_devrel)),
    Feature.esat: ("Answer an ESAT",
                   "Close an engagement (`/engagement close ACCOUNT won`) and rate it in the message epos sends you.",
                   ("Show me how", HomeIds.how_to)),
    Feature.note: ("Add a note to a deal",
                   "Open a deal's card with `/engagement ACCOUNT` and press *Add note*.",
                   ("Show me how", HomeIds.how_to)),
    Feature.devrel_answer: ("Answer a DevRel ask",
                            "When epos asks you to join a meeting, press *Accept* or *Decline* in its message.",
                            ("Show me how", HomeIds.how_to)),
    Feature.add_asset: ("Add an asset of your own",
                        "Type `/asset add` and fill in the form: a title, its type and a link.",
                        ("Add an asset", AssetIds.add_open)),
    Feature.figures: ("See the team figures",
                      "Type `/engagement stats` for MTTC, days per stage and conversion across the team.",
                      ("Show me how", HomeIds.how_to)),
}
HOW_MORE = {
    Feature.stage_change: "Stages go Preparation → Discovery → Demo → POC → Technical Q&A → Sizing → Closed. "
                          "Each change you log posts that stage's playbook and the assets that fit. "
                          "`/engagement help` lists every way to say it.",
    Feature.esat: "epos asks the owner of each engagement it closes how satisfied the customer was, from 1 to 5. "
                  "Your answers make the ESAT figure in the weekly digest.",
    Feature.note: "Notes go on the deal's timeline for its SE, seller and managers to read.",
    Feature.devrel_answer: "A request nobody takes waits in the DevRel channel, where anyone on the roster can "
                           "press *Take it*. `/devrel roster` shows this week's load.",
    Feature.figures: "`/engagement stats mine` shows only your own; the weekly digest brings them to the channel.",
}
ROLE_CHECKLIST = {Role.se: "as an SE", Role.seller: "as a seller", Role.devrel: "in DevRel",
                  Role.manager: "as a manager", Role.other: ""}
CHECKLIST_TITLE = "*Getting started {role}* · {done} of {total} done"
CHECKLIST_DONE = "*Getting started {role}*: all {total} steps done. :tada:"
TICK = {True: ":white_check_mark:", False: ":white_large_square:"}
SHOW = "Show the checklist"
HELP_TITLE = "Getting started"
HELP = "Each command explains itself: `/engagement help`, `/asset help`, `/devrel help`."
HIDE = "Hide the checklist"


def checklist_blocks(checklist: Checklist) -> list[Block]:
    """The steps with a tick, a how and a button each; folded into one line once all are done."""
    role = ROLE_CHECKLIST[checklist.role]
    total = len(checklist.steps)
    if checklist.complete and not checklist.expanded:
        return [SectionBlock(text=md(CHECKLIST_DONE.format(role=role, total=total)),
                             accessory=button(SHOW, HomeIds.checklist_show, "show"))]
    blocks: list[Block] = [SectionBlock(text=md(CHECKLIST_TITLE.format(role=role, done=checklist.done, total=total)))]
    for step in checklist.steps:
        title, how, (label, action_id) = STEP[step.feature]
        text = f"{TICK[step.done]} " + (f"~{title}~" if step.done else f"*{title}*") + f"\n{how}"
        blocks.append(SectionBlock(text=md(text), accessory=button(label, action_id, step.feature.value)))
    if checklist.complete:
        blocks.append(ActionsBlock(elements=[button(HIDE, HomeIds.checklist_hide, "hide")]))
    return blocks


def how_to_text(value: object) -> tuple[str, str]:
    """The title and text of the modal a step's *Show me how* opens (value = the step's feature); a value
    no step has (an old or mangled button) gets the general help."""
    feature = Feature._value2member_map_.get(str(value))
    if not isinstance(feature, Feature) or feature not in STEP:
        return HELP_TITLE, HELP
    title, how, _ = STEP[feature]
    more = HOW_MORE.get(feature)
    return title, how + (f"\n\n{more}" if more else "")


# ----- adoption -----------------------------------------------------------------------------------------
def _names(user_ids: list[str], name_of: NameOf, limit: int) -> str:
    """Names in alphabetical order; anyone shown by their Slack id (no name known) comes last."""
    names = sorted(((name_of(u), u) for u in user_ids), key=lambda pair: (pair[0] == pair[1], pair[0].casefold()))
    names = [name for name, _ in names]
    shown = ", ".join(names[:limit])
    return shown + (f", {MORE.format(count=len(names) - limit)}" if len(names) > limit else "")


def role_line(adoption: RoleAdoption, name_of: NameOf, *, limit: int = NAMES_SHOWN) -> str:
    """One role in a sentence, read aloud: "SEs: 3 of 5 used epos; 3 shared an asset, 1 requested DevRel.
    Not yet: Dana, Erik." `name_of` gives text fit for where it is shown."""
    one, many = ROLE_NOUN[adoption.role]
    if adoption.people == 0:
        return f"{ROLE_TITLE[adoption.role]}: {NOBODY.get(adoption.role, NONE_YET.format(many=many))}."
    used, everyone = len(adoption.used), adoption.people
    if adoption.role is Role.other:
        head = f"{plural(everyone, 'person', 'people')} in no role used epos"
    elif everyone == 1:
        head = f"the one {one} {'used' if used else 'has not used'} epos"
    elif used == everyone:
        head = f"all {everyone} used epos"
    else:
        head = f"{'none' if used == 0 else used} of {everyone} used epos"
    features = ", ".join(f"{count} {DID[feature]}" for feature, count in adoption.feature_counts().items())
    line = f"{ROLE_TITLE[adoption.role]}: {head}" + (f"; {features}." if features else ".")
    if adoption.not_yet:
        line += " " + NOT_YET.format(names=_names(adoption.not_yet, name_of, limit))
    return line


def _lines(adoption: Adoption, name_of: NameOf) -> list[str]:
    return [role_line(r, name_of) for r in adoption.roles if r.role is not Role.other or r.people]


def adoption_section(adoption: Adoption, name_of: NameOf, *, title: str) -> SectionBlock:
    return SectionBlock(text=md("\n".join([title, *(f"• {line}" for line in _lines(adoption, name_of))])))


def home_blocks(adoption: Adoption) -> list[Block]:
    """The managers' App Home section. Mentions show each person's name and notify nobody there."""
    return [adoption_section(adoption, lambda user_id: f"<@{user_id}>", title=HOME_TITLE),
            ContextBlock(elements=[md(DETAILS)]),
            SectionBlock(text=md(INVITE_PROMPT), accessory=button(INVITE_BUTTON, HomeIds.invite_practice, "home"))]


# ----- pointing someone new at a practice engagement (managers) -------------------------------------------
INVITE_PROMPT = ("*Someone new?* Point them at a practice engagement: a made-up deal they walk through every stage, "
                 "with its playbooks and a practice DevRel colleague, counted nowhere.")
INVITE_BUTTON = "Invite to practise"
INVITE_TITLE = "Invite to practise"
INVITE_LABEL = "Who is new to epos"
INVITE_HINT = "Each gets a message from epos with a button that opens their own practice engagement."
INVITE_MOST = 20
INVITATION = ("<@{manager}> invites you to learn the EPOS process on a practice engagement: a made-up customer "
              "you take through every stage, reading each stage's playbook and asking a practice DevRel colleague "
              "for help. It counts in no figure, and you can delete it whenever you like.")
INVITED = "epos invited {names} to practise."
NOT_INVITED = "epos could not message {names}; ask them to press *Start a practice engagement* on their epos Home."
KEPT_OUT = ("{names} {verb} outside the running pilot, so epos does not answer them yet and sent them nothing: "
            "add them to the pilot with *Manage pilot* on your epos Home, then invite them again.")


def invite_modal() -> dict[str, Any]:
    who = UserMultiSelectElement(action_id=HomeIds.invite_field, max_selected_items=INVITE_MOST)
    return modal(HomeIds.invite_modal, INVITE_TITLE, [
        InputBlock(block_id=HomeIds.invite_block, label=plain_text(INVITE_LABEL, FIELD_TEXT), element=who,
                   hint=plain_text(INVITE_HINT, FIELD_TEXT))], submit="Send", close="Cancel")


def invitation(manager_id: str) -> Message:
    text = INVITATION.format(manager=manager_id)
    return message(text, [SectionBlock(text=md(text)), ActionsBlock(elements=[
        button("Start a practice engagement", HomeIds.start_practice, "invitation", style="primary")])])


def invited(sent: list[str], failed: list[str], kept_out: list[str] | None = None) -> str:
    """What the manager is told once the messages have gone (mentions: Slack shows each name)."""
    def names(user_ids: list[str]) -> str:
        mentions = [f"<@{user_id}>" for user_id in user_ids]
        return mentions[0] if len(mentions) == 1 else ", ".join(mentions[:-1]) + " and " + mentions[-1]
    lines = [INVITED.format(names=names(sent))] if sent else []
    if failed:
        lines.append(NOT_INVITED.format(names=names(failed)))
    if kept_out:
        lines.append(KEPT_OUT.format(names=names(kept_out), verb="is" if len(kept_out) == 1 else "are"))
    return " ".join(lines)


def digest_section(adoption: Adoption, name_of: NameOf) -> SectionBlock:
    """The digest's section: names, never mentions, so the channel post pings nobody. Someone Slack could not
    name is named as the roster knows them."""
    def named(user_id: str) -> str:
        name = name_of(user_id)
        return safe(adoption.names.get(user_id, name) if name == user_id else name, 80)

    return adoption_section(adoption, named, title=DIGEST_TITLE)


def text_lines(adoption: Adoption, name_of: NameOf) -> list[str]:
    """For the command line: plain lines."""
    return _lines(adoption, name_of)

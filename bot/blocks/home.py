"""Block Kit for the App Home tab: my open engagements, my DevRel requests, quick actions, my figures and
help for people new to epos; for managers first the team (pipeline, stale engagements, DevRel coverage and
the week's figures, as the weekly digest counts them). At most 100 blocks; engagements are paged beyond one screen, and my DevRel
requests get a block each (for their Cancel button) only while there is room."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.blocks import adoption, kit
from bot.blocks import digest as digest_blocks
from bot.blocks.devrel import CANCEL_BUTTON, cancel_confirm
from bot.blocks.engagement_stats import figures_lines
from bot.blocks.engagement_text import day, label, stage_line
from bot.blocks.text import VIEW_BLOCKS, safe, user
from bot.charts import stage_label
from bot.codecs import EngagementButton, HomePage, RequestButton
from bot.ids import EngagementIds, HomeIds
from models.enums import RequestState
from models.schemas.digest import TeamHome
from models.schemas.engagements import DevRelLine, HomeData

# ----- text ---------------------------------------------------------------------------------------------
TITLE = "epos · your presales desk"
WELCOME = (
    "*Welcome to epos.* It keeps your presales work in Slack:\n"
    "• *Engagements*: log each deal's stage along the EPOS path (preparation → discovery → demo → POC → "
    "technical Q&A → sizing → closed). Each stage brings its playbook and the assets that fit.\n"
    "• *Assets*: find a demo, walkthrough, proofshop or workshop in a second with `/asset`.\n"
    "• *DevRel in the room*: ask for a DevRel colleague to join a customer meeting with `/devrel`.\n"
    "Start by opening your first engagement, or a practice one to learn on: it counts nowhere."
)
MANAGER_WELCOME = (
    "*Welcome to epos.* It keeps your team's presales work in Slack, and this Home shows the team: the "
    "pipeline by stage, the stale engagements, DevRel coverage and this week's figures; the weekly digest "
    "sums up each week in the digest channel.\n"
    "Start with the team below; `/engagement stats` has its figures in detail."
)
TEAM_TITLE = "*Your team this week* (since Monday {since})"
TEAM_CLOSED = "*Closed* {total}: {won} won · {lost} lost · {no_decision} no decision · win rate {rate}"
TEAM_NONE_CLOSED = "Nothing closed yet this week."
TEAM_MTTC = "*MTTC* {figures}"
PIPELINE_TITLE = "*Pipeline by stage* ({total} open)"
PIPELINE_ROW = "{stage} · *{count}* open"
PIPELINE_EMPTY = "*Pipeline by stage*\nNothing open. Engagements show here as your SEs open them with `/engagement new`."
TEAM_DEVREL_TITLE = "*DevRel coverage this week*"
TEAM_NO_DEVREL = "*DevRel coverage this week*\nNo requests yet. SEs ask with `/devrel ACCOUNT`."
ENGAGEMENTS_TITLE = "*Your open engagements* ({total})"
ENGAGEMENTS_EMPTY = "Nothing open. Press *New engagement* to log one, or `/engagement list` to see closed ones."
PAGE_OF = "Page {page} of {pages}"
DEVREL_TITLE = "*DevRel requests*"
DEVREL_MINE = "_You asked_"
DEVREL_THEIRS = "_Waiting for you_"
DEVREL_EMPTY = "No open requests. Ask for a DevRel colleague with `/devrel ACCOUNT`."
DEVREL_NO_ROOM = "…and {count} more of your requests; see and cancel them from their cards in your DMs."
DEVREL_STATE = {
    RequestState.asking: "asking {who}",
    RequestState.in_channel: "posted to the DevRel channel",
    RequestState.accepted: "{who} joins",
    RequestState.cancelled: "cancelled",
    RequestState.expired: "expired",
}
FIGURES_TITLE = {True: "*Team figures, last 12 weeks*", False: "*Your figures, last 12 weeks*"}
FIGURES_MORE = "`/engagement stats` for dwell per stage, conversion and open counts."
FOOTER = "Help: `/engagement help` · `/asset help` · `/devrel help`"
BUTTON = {
    "new": "New engagement",
    "asset": "Find an asset",
    "devrel": "Request DevRel",
    "refresh": "Refresh",
    "practice": "Start a practice engagement",
    "open": "Open",
    "next": "Next ›",
    "previous": "‹ Previous",
}
ASSET_HELP_TITLE = "Find an asset"
ASSET_HELP = (
    "Type `/asset` with a type and a topic in any channel or DM, for example:\n"
    "• `/asset demo observability`\n• `/asset k8s walkthrough`\n• `/asset proofshop security`\n"
    "Results come best first; share one into the deal channel with one click. `/asset help` has more."
)
CLOSE = "Got it"


def _devrel_line(line: DevRelLine) -> str:
    other = line.assignee_id or line.candidate_id
    state = DEVREL_STATE[line.state].format(who=user(other) if other else "someone")
    topics = f" on {safe(', '.join(line.topics), 150)}" if line.topics else ""
    return f"• *{safe(line.account, 150)}* {day(line.meeting_start)}{topics}: {state}"


def _devrel_blocks(data: HomeData, room: int) -> list[Block]:
    """The DevRel section in at most `room` blocks: my requests one block each, with Cancel where I may,
    as long as they fit; any beyond that are counted, with where to find them."""
    text = DEVREL_TITLE
    if data.devrel_to_answer:
        text += "\n" + DEVREL_THEIRS + "\n" + "\n".join(_devrel_line(line) for line in data.devrel_to_answer)
    if not data.devrel_requested:
        return [SectionBlock(text=kit.md(text if data.devrel_to_answer else text + "\n" + DEVREL_EMPTY))]
    blocks: list[Block] = [SectionBlock(text=kit.md(text + "\n" + DEVREL_MINE))]
    lines = list(data.devrel_requested)
    own_blocks = room - len(blocks)
    if len(lines) > own_blocks:
        own_blocks -= 1  # for the count of the rest
    for line in lines[:max(own_blocks, 0)]:
        accessory = None
        if line.may_cancel:
            accessory = kit.button(CANCEL_BUTTON, f"{HomeIds.cancel_devrel}:{line.id}", RequestButton(request_id=line.id).encode(), style="danger",
                                   confirm=cancel_confirm(line.account))
        blocks.append(SectionBlock(text=kit.md(_devrel_line(line)), accessory=accessory))
    rest = lines[max(own_blocks, 0):]
    if rest:
        blocks.append(ContextBlock(elements=[kit.md(DEVREL_NO_ROOM.format(count=len(rest)))]))
    return blocks


def team_blocks(team: TeamHome) -> list[Block]:
    """The team on a manager's Home: the week so far, the pipeline, the most overdue stale engagements and
    DevRel coverage, in the digest's words."""
    tz = ZoneInfo(team.timezone)
    closed = team.closed
    week = [TEAM_TITLE.format(since=day(team.since))]
    if closed.total:
        week.append(TEAM_CLOSED.format(total=closed.total, won=closed.won, lost=closed.lost,
                                       no_decision=closed.no_decision, rate=digest_blocks.percent(team.win_rate)))
        week.append(TEAM_MTTC.format(figures=digest_blocks.mean_median(team.mttc_days)))
    else:
        week.append(TEAM_NONE_CLOSED)
    total = sum(team.open_by_stage.values())
    pipeline = digest_blocks.bullets(
        [PIPELINE_ROW.format(stage=stage_label(stage), count=count) for stage, count in team.open_by_stage.items()],
        title=PIPELINE_TITLE.format(total=total)) if total else PIPELINE_EMPTY
    if team.stale:
        stale = digest_blocks.bullets(
            [digest_blocks.stale_line(line, user(line.owner_id), tz) for line in team.stale],
            title=digest_blocks.STALE_TITLE.format(shown=len(team.stale), total=team.stale_total))
    else:
        stale = digest_blocks.NO_STALE
    devrel = (f"{TEAM_DEVREL_TITLE}\n{digest_blocks.devrel_line(team.devrel)}" if team.devrel.requests
              else TEAM_NO_DEVREL)
    return [SectionBlock(text=kit.md(text)) for text in ("\n".join(week), pipeline, stale, devrel)] + [DividerBlock()]


def _engagement_blocks(data: HomeData) -> list[Block]:
    """My open engagements, a page of them, with paging."""
    blocks: list[Block] = [SectionBlock(text=kit.md(ENGAGEMENTS_TITLE.format(total=data.engagements_total)))]
    if not data.engagements:
        blocks.append(ContextBlock(elements=[kit.md(ENGAGEMENTS_EMPTY)]))
    for item in data.engagements:
        seller = " (you sell it)" if item.seller_id == data.user_id and item.owner_id != data.user_id else ""
        blocks.append(SectionBlock(
            text=kit.md(f"{label(item, 150)}{seller}\n{stage_line(item)}"),
            accessory=kit.button(BUTTON["open"], f"{EngagementIds.show_card}:{item.id}", EngagementButton(id=item.id).encode()),
        ))
    if data.pages > 1:
        paging = []
        if data.page > 0:
            paging.append(kit.button(BUTTON["previous"], HomeIds.previous_page, HomePage(page=data.page - 1).encode()))
        if data.page < data.pages - 1:
            paging.append(kit.button(BUTTON["next"], HomeIds.next_page, HomePage(page=data.page + 1).encode()))
        blocks.append(ActionsBlock(elements=paging))
        blocks.append(ContextBlock(elements=[kit.md(PAGE_OF.format(page=data.page + 1, pages=data.pages))]))
    blocks.append(DividerBlock())
    return blocks


def home_view(data: HomeData, *, team: TeamHome | None = None) -> dict[str, Any]:
    """The Home; `team` (for managers and admins) puts the team first, and their own engagements only when
    they have some."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=TITLE, emoji=True))]
    if data.is_new and data.manager:
        if not (data.adoption and data.adoption.checklist.complete):
            blocks.append(SectionBlock(text=kit.md(MANAGER_WELCOME)))
    elif data.is_new:
        blocks.append(SectionBlock(text=kit.md(WELCOME)))
    blocks.append(ActionsBlock(elements=[
        kit.button(BUTTON["new"], EngagementIds.new, "home", style="primary"),
        kit.button(BUTTON["asset"], HomeIds.find_asset, "home"),
        kit.button(BUTTON["devrel"], HomeIds.request_devrel, "home"),
        kit.button(BUTTON["practice"], HomeIds.start_practice, "home"),
        kit.button(BUTTON["refresh"], HomeIds.refresh, HomePage(page=data.page).encode()),
    ]))
    if data.adoption is not None:
        blocks.extend(adoption.checklist_blocks(data.adoption.checklist))
    blocks.append(DividerBlock())
    if team is not None:
        blocks.extend(team_blocks(team))
    if team is None or data.engagements_total:
        blocks.extend(_engagement_blocks(data))
    tail: list[Block] = [
        DividerBlock(),
        *([SectionBlock(text=kit.md(FIGURES_TITLE[data.manager] + "\n" + "\n".join(figures_lines(data.metrics)))),
           ContextBlock(elements=[kit.md(FIGURES_MORE)])]
          if data.metrics is not None else [SectionBlock(text=kit.md(data.figures_refused or ""))]),
        *(adoption.home_blocks(data.adoption.team) if data.adoption and data.adoption.team else []),
        ContextBlock(elements=[kit.md(FOOTER)]),
    ]
    blocks.extend(_devrel_blocks(data, VIEW_BLOCKS - len(blocks) - len(tail)))
    blocks.extend(tail)
    if len(blocks) > VIEW_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks; the home tab holds at most {VIEW_BLOCKS}")
    return View(type="home", blocks=blocks).to_dict()


def info_modal(title: str, text: str) -> dict[str, Any]:
    return kit.modal(None, title, [SectionBlock(text=kit.md(text))], close=CLOSE)


def asset_help_modal() -> dict[str, Any]:
    return info_modal(ASSET_HELP_TITLE, ASSET_HELP)


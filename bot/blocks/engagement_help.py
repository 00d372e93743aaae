"""`/engagement help`."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ContextBlock, SectionBlock

from bot.blocks import kit
from bot.blocks.engagement_text import BUTTON
from bot.blocks.kit import Message
from bot.ids import EngagementIds
from models.enums import OPEN_STAGES, Stage

HELP_FALLBACK = "How to log engagements with /engagement"
HELP_INTRO = (
    "*Log where each deal stands without leaving Slack.* Every engagement moves along the EPOS path; "
    "each stage change is kept in its log, and entering a stage posts its playbook with matching assets."
)
HELP_COMMANDS = (
    "`/engagement new` open an engagement (a form)\n"
    "`/engagement ACCOUNT STAGE [note]` log a stage change, e.g. `/engagement polaris tech qa security review booked`\n"
    "`/engagement close ACCOUNT won|lost|no-decision [note]` close it, e.g. `/engagement close polaris won signed for 3 years`; "
    "you'll be asked for an ESAT rating\n"
    "`/engagement ACCOUNT` the card: stage, days in stage, timeline, assets shared, DevRel requests\n"
    "`/engagement list` yours (owner or seller) · `/engagement list all` everyone's (managers)\n"
    "`/engagement stats [--weeks N]` MTTC and the funnel, yours or (managers) the team's; default 12 weeks\n"
    "`/engagement help` this message"
)
HELP_STAGES_TITLE = "*The stages, in order*"
HELP_STAGE_WORDS = {
    Stage.preparation: "`prep`",
    Stage.discovery: "`disco`",
    Stage.demo: "`demo`",
    Stage.poc: "`poc`, `proof of concept`",
    Stage.tech_qa: "`tech qa`, `q&a`",
    Stage.sizing: "`sizing`",
}
HELP_TIPS = (
    "Accounts and stages forgive typos; when a name fits several engagements you pick one. "
    "Skips and backward moves are fine. To log a change that happened earlier, use *Change stage* on the "
    "card and pick the day. Only the owner, the seller and presales managers may change an engagement; "
    "anyone may read its card."
)


def help_message() -> Message:
    stages = "\n".join(
        f"{index}. *{stage.label}* ({HELP_STAGE_WORDS[stage]})" for index, stage in enumerate(OPEN_STAGES, start=1)
    ) + "\n7. *Closed*: won, lost or no decision"
    blocks: list[Block] = [
        SectionBlock(text=kit.md(HELP_INTRO)),
        SectionBlock(text=kit.md("*Commands*\n" + HELP_COMMANDS)),
        SectionBlock(text=kit.md(HELP_STAGES_TITLE + "\n" + stages)),
        ContextBlock(elements=[kit.md(HELP_TIPS)]),
        ActionsBlock(elements=[kit.button(BUTTON["new"], EngagementIds.new, "new", style="primary")]),
    ]
    return kit.message(HELP_FALLBACK, blocks)

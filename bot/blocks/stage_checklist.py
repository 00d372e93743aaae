"""The stage checklist on the engagement card (a checkbox per playbook item, ten to an element), the link
form of a deliverable, and the warning after leaving a stage with deliverables open."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, CheckboxesElement, ContextBlock, Option, SectionBlock

from bot.blocks import kit
from bot.blocks.text import OPTION_TEXT, clip, link, plural, safe
from bot.codecs import CHECKLIST_CHUNK, ChecklistBlock, DeliverableForm, fingerprint
from bot.ids import EngagementIds
from models.enums import Stage
from models.schemas.stage_checklists import ChecklistLine, CompletionGroup, DeliverableFigures, most_skipped

GROUP_TITLES = {"prerequisites": "Before you start", "calls_to_action": "Calls to action",
                "deliverables": "Deliverables"}
CHECKLIST_TITLE = "*{stage} checklist* · {done} of {total} ticked"
CONTINUED = "{title} (continued)"
TICK_HINT = "Tick an item when it is done; untick it if it was not. Who ticked what, and when, is kept."
LINKS = "🔗 {links}"
TICKED = "☑️"
OPEN = "⬜"
LINK_TITLE = "Deliverable link"
LINK_LABEL = "Link (optional)"
LINK_LEAD = "✅ Ticked *{item}*. Where can the team find it? Paste its link, or close this to leave it without one."
LINK_HINT = "The discovery summary, the sizing sheet: a document, folder or ticket address starting with https://."
LINK_SAVE = "Save link"
LINK_SKIP = "No link"
BEFORE_LEAVING = ("⚠️ *{stage}* still has {count} not ticked:\n{items}\nYou can move on all the same; tick them on the "
                  "card first if they are done.")
LEFT_OPEN = ("⚠️ *{stage}* was left with {count} not ticked:\n{items}\nThe stage changed all the same; Undo takes "
             "it back if you want to finish them first.")


DIGEST_TITLE = "*Stage checklists* (the last {weeks} weeks)"
DIGEST_STAGES = "Left with every deliverable ticked: {stages}."
DIGEST_COMPLETED = "Closed with every deliverable ticked: {figures}."
DIGEST_NOT_COMPLETED = "Closed with some left open: {figures}."
DIGEST_COST = "Leaving deliverables open went with {days} to close (median)."
DIGEST_SKIPPED = "Most often left open: {items}."
TOO_FEW = "too few to say yet"


def _option(line: ChecklistLine) -> Option:
    """Slack shows 75 characters of an option and 75 more below it: a long item goes on in its description."""
    if len(line.text) <= OPTION_TEXT:
        return kit.option(line.text, line.id)
    head = line.text[:OPTION_TEXT - 1].rsplit(" ", 1)[0]
    rest = line.text[len(head):].strip()
    return Option(text=kit.plain_text(head, OPTION_TEXT), value=line.id,
                  description=kit.plain_text(clip(rest, OPTION_TEXT), OPTION_TEXT))


def _chunks(lines: list[ChecklistLine]) -> list[tuple[str, int, list[ChecklistLine]]]:
    found = []
    for group in GROUP_TITLES:
        items = [line for line in lines if line.group == group]
        for chunk in range(0, len(items), CHECKLIST_CHUNK):
            found.append((group, chunk // CHECKLIST_CHUNK, items[chunk:chunk + CHECKLIST_CHUNK]))
    return found


def stage_checklist_blocks(engagement_id: int, stage: Stage, lines: list[ChecklistLine], *, may_tick: bool) -> list[Block]:
    """The current stage's items: checkboxes for the people who may tick, a plain list for everyone else."""
    if not lines:
        return []
    done = sum(line.ticked for line in lines)
    blocks: list[Block] = [SectionBlock(text=kit.md(CHECKLIST_TITLE.format(stage=stage.label, done=done,
                                                                          total=len(lines))))]
    for group, chunk, items in _chunks(lines):
        title = GROUP_TITLES[group] if chunk == 0 else CONTINUED.format(title=GROUP_TITLES[group])
        if not may_tick:
            rows = "\n".join(f"{TICKED if line.ticked else OPEN} {safe(line.text, 300)}" for line in items)
            blocks.append(SectionBlock(text=kit.md(f"*{title}*\n{rows}")))
            continue
        mask = sum(1 << position for position, line in enumerate(items) if line.ticked)
        block_id = ChecklistBlock(engagement_id=engagement_id, stage=stage, group=group, chunk=chunk,  # type: ignore[arg-type]
                                  fingerprint=fingerprint([line.id for line in items]), ticked=mask).encode()
        options = [_option(line) for line in items]
        ticked = [option for option, line in zip(options, items, strict=True) if line.ticked]
        element = CheckboxesElement(action_id=f"{EngagementIds.tick}:{group}:{chunk}", options=options,
                                    initial_options=ticked or None)
        blocks.append(SectionBlock(block_id=block_id, text=kit.md(f"*{title}*"), accessory=element))
    links = [link(line.link, clip(line.text, 60)) for line in lines if line.link]
    if links:
        blocks.append(ContextBlock(elements=[kit.md(LINKS.format(links=" · ".join(links)))]))
    if may_tick:
        blocks.append(ContextBlock(elements=[kit.md(TICK_HINT)]))
    return blocks


def link_form(line: ChecklistLine, *, engagement_id: int, stage: Stage, response_url: str | None) -> dict[str, Any]:
    """The small form that asks for a deliverable's link right after it is ticked."""
    metadata = DeliverableForm(engagement_id=engagement_id, stage=stage, item_id=line.id,
                               response_url=response_url).encode()
    blocks: list[Block] = [
        SectionBlock(text=kit.md(LINK_LEAD.format(item=safe(line.text, 500)))),
        kit.text_input(EngagementIds.link_block, LINK_LABEL, action_id=EngagementIds.field, initial=line.link,
                       max_length=3000, optional=True, placeholder="https://", hint=LINK_HINT),
    ]
    return kit.modal(EngagementIds.link_modal, LINK_TITLE, blocks, submit=LINK_SAVE, close=LINK_SKIP, metadata=metadata)


def before_leaving_text(stage: Stage, items: list[str]) -> str:
    """The warning on the stage form: what the stage being left still has open; "" when nothing."""
    if not items:
        return ""
    listed = "\n".join(f"• {safe(item, 300)}" for item in items)
    return BEFORE_LEAVING.format(stage=stage.label, count=plural(len(items), "deliverable"), items=listed)


def left_open_text(stage: Stage, items: list[str]) -> str:
    """The warning after a stage change that left deliverables unticked; "" when none were."""
    if not items:
        return ""
    listed = "\n".join(f"• {safe(item, 300)}" for item in items)
    return LEFT_OPEN.format(stage=stage.label, count=plural(len(items), "deliverable"), items=listed)


def _completion(group: CompletionGroup) -> str:
    if not group.closed:
        return "none"
    if group.win_rate is None or group.mttc_days_median is None:
        return f"{plural(group.closed, 'engagement')}, {TOO_FEW}"
    return (f"{plural(group.closed, 'engagement')}, {group.win_rate:.0%} won, a median of "
            f"{group.mttc_days_median:.1f} days to close")


def deliverables_section(figures: DeliverableFigures, *, weeks: int) -> str:
    """For the first digest of each month: do ticked deliverables go with faster, more often won deals?
    Below `figures.min_count` engagements, the counts only."""
    stages = [f"{Stage(stage).label} {share.all_done} of {share.left}"
              + (f" ({share.share:.0%})" if share.share is not None else "")
              for stage, share in figures.by_stage.items() if share.left]
    lines = [DIGEST_TITLE.format(weeks=weeks)]
    if stages:
        lines.append("• " + DIGEST_STAGES.format(stages=", ".join(stages)))
    lines.append("• " + DIGEST_COMPLETED.format(figures=_completion(figures.completed)))
    lines.append("• " + DIGEST_NOT_COMPLETED.format(figures=_completion(figures.not_completed)))
    done, skipped = figures.completed.mttc_days_median, figures.not_completed.mttc_days_median
    if done is not None and skipped is not None and round(skipped - done, 1):
        difference = abs(skipped - done)
        days = f"{difference:.1f} {'day' if difference == 1 else 'days'} {'more' if skipped > done else 'fewer'}"
        lines.append("• " + DIGEST_COST.format(days=days))
    if items := most_skipped(figures):
        lines.append("• " + DIGEST_SKIPPED.format(items=", ".join(
            f"{safe(text, 120)} in {Stage(stage).label} ({count})" for stage, text, count in items)))
    return "\n".join(lines)

"""Block Kit as readable terminal text.

Messages, modals and the App Home are shown as Slack would show them, as far as text allows: headers,
sections with their fields, context lines, images as `[image: alt]`, links as `label <url>`, dividers.
Interactive elements are numbered across what is on screen (`[1] Share in channel`), so typing the
number presses the button; selects and overflow menus list their options.

Everything here is pure: blocks and a `Viewer` in, lines of text out, plus the numbered `Controls`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bot.tryout.controls import ACTIONABLE_TYPES, BUTTON, ELEMENT_NAMES, OVERFLOW, Controls, flat_options
from bot.tryout.mrkdwn import format_date_token, mrkdwn, plain, printable
from bot.tryout.viewer import Viewer

DIVIDER = "─" * 40
HEADER_MARK = "=="
INDENT = "  "
OPTION_INDENT = "      "
MAX_LISTED_OPTIONS = 25


# ----- blocks --------------------------------------------------------------------------------------
def render_blocks(
    blocks: Iterable[dict[str, Any]],
    viewer: Viewer,
    controls: Controls | None = None,
    source: Any = None,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> list[str]:
    """Lines of text for a list of blocks. `values` and `errors` (by block_id) fill in a modal's inputs."""
    lines: list[str] = []
    for block in blocks:
        lines.extend(render_block(block, viewer, controls, source, values=values or {}, errors=errors or {}))
    return lines


def render_block(
    block: dict[str, Any],
    viewer: Viewer,
    controls: Controls | None,
    source: Any,
    *,
    values: dict[str, str],
    errors: dict[str, str],
) -> list[str]:
    kind = block.get("type")
    block_id = str(block.get("block_id", ""))
    style = viewer.style
    if kind == "header":
        return [style.bold(f"{HEADER_MARK} {plain(block.get('text'), viewer)} {HEADER_MARK}")]
    if kind == "divider":
        return [style.dim(DIVIDER)]
    if kind == "section":
        lines: list[str] = []
        if block.get("text"):
            lines.extend(plain(block["text"], viewer).splitlines() or [""])
        fields = [plain(f, viewer) for f in block.get("fields") or []]
        for left, right in zip(fields[::2], fields[1::2] + [""] * (len(fields) % 2), strict=False):
            lines.append(f"{INDENT}{_one_line(left)}" + (f"   |   {_one_line(right)}" if right else ""))
        accessory = block.get("accessory")
        if accessory:
            # Checkboxes beside a title are named by it (`:select Deliverables ...`), as a person reads them.
            titled = accessory.get("type") in ("checkboxes", "radio_buttons") and lines and lines[0].strip()
            lines.extend(INDENT + line for line in render_element(accessory, block_id, viewer, controls, source,
                                                                  label=lines[0].strip() if titled else None))
        return lines
    if kind == "context":
        parts = []
        for element in block.get("elements") or []:
            if element.get("type") == "image":
                parts.append(f"[image: {printable(str(element.get('alt_text', '')))}]")
            else:
                parts.append(plain(element, viewer))
        return [style.dim(INDENT + "  ·  ".join(p.replace("\n", " ") for p in parts))]
    if kind == "image":
        title = plain(block.get("title"), viewer)
        alt = printable(str(block.get("alt_text", "")))
        url = printable(str(block.get("image_url") or (block.get("slack_file") or {}).get("url") or ""))
        return [f"[image: {alt}]" + (f" {title}" if title and title != alt else "") + (f" <{url}>" if url else "")]
    if kind == "actions":
        rendered = [render_element(e, block_id, viewer, controls, source) for e in block.get("elements") or []]
        return _join_elements(rendered)
    if kind == "input":
        return render_input(block, viewer, controls, source, value=values.get(block_id), error=errors.get(block_id))
    if kind == "rich_text":
        return _rich_text(block.get("elements") or [], viewer)
    if kind == "markdown":
        return printable(str(block.get("text", ""))).splitlines()
    if kind == "video":
        return [f"[video: {plain(block.get('title'), viewer)} <{printable(str(block.get('video_url', '')))}>]"]
    if kind == "file":
        return [f"[file: {printable(str(block.get('external_id', '')))}]"]
    return [style.dim(f"[{printable(str(kind))} block]")]


def _one_line(text: str) -> str:
    return " / ".join(part for part in text.splitlines() if part.strip())


def _join_elements(rendered: list[list[str]]) -> list[str]:
    """Buttons share a line; an element with options listed below gets its own lines."""
    lines: list[str] = []
    row: list[str] = []
    for element_lines in rendered:
        if len(element_lines) == 1:
            row.append(element_lines[0])
            continue
        if row:
            lines.append("   ".join(row))
            row = []
        lines.extend(element_lines)
    if row:
        lines.append("   ".join(row))
    return lines


def element_label(element: dict[str, Any], viewer: Viewer) -> str:
    kind = element.get("type")
    if kind == BUTTON:
        return plain(element.get("text"), viewer)
    if kind == OVERFLOW:
        return "more"
    placeholder = plain(element.get("placeholder"), viewer)
    return placeholder or ELEMENT_NAMES.get(str(kind), str(kind))


def render_element(
    element: dict[str, Any], block_id: str, viewer: Viewer, controls: Controls | None, source: Any,
    *, label: str | None = None,
) -> list[str]:
    kind = str(element.get("type", ""))
    style = viewer.style
    if kind == "image":
        return [f"[image: {printable(str(element.get('alt_text', '')))}]"]
    if kind not in ACTIONABLE_TYPES:
        return [style.dim(f"[{kind}]")]
    label = label or element_label(element, viewer)
    number = controls.add(element, block_id, source, label).number if controls is not None else None
    tag = f"[{number}]" if number is not None else "[ ]"
    if kind == BUTTON:
        text = f"{tag} {label}"
        if element.get("style") == "danger":
            text += " (!)"
        if element.get("url"):
            text += f" ↗ <{printable(str(element['url']))}>"
        return [style.accent(text) if element.get("style") == "primary" else text]
    current = describe_initial(element, viewer)
    head = f"{tag} {label} ▾" + (f" {current}" if current else "")
    options = flat_options(element)
    if not options:
        return [head]
    listed = [f"{i}) {plain(o.get('text'), viewer)}" for i, o in enumerate(options[:MAX_LISTED_OPTIONS], 1)]
    if len(options) > MAX_LISTED_OPTIONS:
        listed.append(f"… {len(options) - MAX_LISTED_OPTIONS} more")
    return [head, OPTION_INDENT + "  ".join(listed)]


def describe_initial(element: dict[str, Any], viewer: Viewer) -> str:
    """The value an element starts with, as text (empty when none)."""
    kind = element.get("type")
    if element.get("initial_option"):
        return plain(element["initial_option"].get("text"), viewer)
    if element.get("initial_options"):
        return ", ".join(plain(o.get("text"), viewer) for o in element["initial_options"])
    if kind in ("users_select",) and element.get("initial_user"):
        user_id = str(element["initial_user"])
        return "@" + (viewer.user_name(user_id) or user_id)
    if element.get("initial_users"):
        return ", ".join("@" + (viewer.user_name(u) or u) for u in element["initial_users"])
    for key in ("initial_conversation", "initial_channel"):
        if element.get(key):
            channel_id = str(element[key])
            return "#" + (viewer.channel_name(channel_id) or channel_id)
    for key in ("initial_conversations", "initial_channels"):
        if element.get(key):
            return ", ".join("#" + (viewer.channel_name(c) or c) for c in element[key])
    for key in ("initial_date", "initial_time", "initial_value"):
        if element.get(key) not in (None, ""):
            return printable(str(element[key]))
    if element.get("initial_date_time"):
        moment = datetime.fromtimestamp(int(element["initial_date_time"]), UTC).astimezone(viewer.timezone)
        return moment.strftime("%Y-%m-%d %H:%M")
    return ""


def render_input(
    block: dict[str, Any],
    viewer: Viewer,
    controls: Controls | None,
    source: Any,
    *,
    value: str | None,
    error: str | None,
) -> list[str]:
    element = block.get("element") or {}
    label = plain(block.get("label"), viewer)
    required = "" if block.get("optional") else "*"
    shown = value if value is not None else describe_initial(element, viewer)
    lines = [f"{viewer.style.bold(label + required)}: " + (shown if shown else viewer.style.dim("(empty)"))]
    options = flat_options(element)
    if options:
        listed = [f"{i}) {plain(o.get('text'), viewer)}" for i, o in enumerate(options[:MAX_LISTED_OPTIONS], 1)]
        if len(options) > MAX_LISTED_OPTIONS:
            listed.append(f"… {len(options) - MAX_LISTED_OPTIONS} more")
        lines.append(OPTION_INDENT + "  ".join(listed))
    hint = plain(block.get("hint"), viewer)
    if hint:
        lines.append(viewer.style.dim(INDENT + hint))
    if error:
        lines.append(viewer.style.error(f"{INDENT}! {error}"))
    return lines


def _rich_text(elements: list[dict[str, Any]], viewer: Viewer) -> list[str]:
    lines: list[str] = []
    for element in elements:
        kind = element.get("type")
        text = "".join(_rich_inline(e, viewer) for e in element.get("elements") or [] if e.get("type") != "rich_text_section")
        if kind == "rich_text_section":
            lines.extend(text.splitlines() or [""])
        elif kind == "rich_text_quote":
            lines.extend("> " + line for line in text.splitlines() or [""])
        elif kind == "rich_text_preformatted":
            lines.extend(["```", *text.splitlines(), "```"])
        elif kind == "rich_text_list":
            ordered = element.get("style") == "ordered"
            for index, item in enumerate(element.get("elements") or [], 1):
                item_text = "".join(_rich_inline(e, viewer) for e in item.get("elements") or [])
                lines.append(f"{INDENT * int(element.get('indent', 0))}{f'{index}.' if ordered else '•'} {item_text}")
    return lines


def _rich_inline(element: dict[str, Any], viewer: Viewer) -> str:
    kind = element.get("type")
    if kind == "text":
        text = printable(str(element.get("text", "")))
        style = element.get("style") or {}
        if style.get("bold"):
            text = viewer.style.bold(text)
        if style.get("code"):
            text = f"`{text}`"
        return text
    if kind == "link":
        url = printable(str(element.get("url", "")))
        label = printable(str(element.get("text", "")))
        return f"{label} <{url}>" if label and label != url else url
    if kind == "user":
        user_id = str(element.get("user_id", ""))
        return "@" + (viewer.user_name(user_id) or user_id)
    if kind == "channel":
        channel_id = str(element.get("channel_id", ""))
        return "#" + (viewer.channel_name(channel_id) or channel_id)
    if kind == "emoji":
        return f":{element.get('name', '')}:"
    if kind == "broadcast":
        return "@" + str(element.get("range", "here"))
    if kind == "date":
        try:
            return format_date_token(str(element.get("format", "{date_num}")),
                                     datetime.fromtimestamp(int(element["timestamp"]), UTC), viewer)
        except (KeyError, ValueError):
            return str(element.get("fallback", ""))
    return printable(html.unescape(str(element.get("text", ""))))


# ----- whole surfaces ------------------------------------------------------------------------------
def render_message(
    message: dict[str, Any], viewer: Viewer, controls: Controls | None = None, source: Any = None
) -> list[str]:
    """A message's blocks, or its fallback `text` when it has none (as Slack shows it)."""
    blocks = message.get("blocks") or []
    if blocks:
        return render_blocks(blocks, viewer, controls, source)
    text = str(message.get("text") or "")
    lines = mrkdwn(text, viewer).splitlines() if message.get("mrkdwn", True) else printable(text).splitlines()
    for attachment in message.get("attachments") or []:
        lines.extend("│ " + line for line in render_message(attachment, viewer, controls, source))
    return lines


def render_view(
    view: dict[str, Any],
    viewer: Viewer,
    controls: Controls | None = None,
    source: Any = None,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> list[str]:
    """A modal or the App Home: title, blocks, and the submit / close labels of a modal."""
    lines: list[str] = []
    if view.get("type") == "modal":
        title = plain(view.get("title"), viewer)
        lines.append(viewer.style.bold(f"┌ {title}"))
        body = render_blocks(view.get("blocks") or [], viewer, controls, source, values=values, errors=errors)
        lines.extend("│ " + line for line in body)
        buttons = [plain(view.get("close"), viewer) or "Cancel"]
        if view.get("submit"):
            buttons.append(plain(view.get("submit"), viewer))
        lines.append("└ " + "   ".join(f"[{b}]" for b in buttons))
        return lines
    return render_blocks(view.get("blocks") or [], viewer, controls, source, values=values, errors=errors)


def strip_style(text: str) -> str:
    """Text without ANSI codes (what `:expect` compares against)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)

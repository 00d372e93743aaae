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
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DIVIDER = "─" * 40
HEADER_MARK = "=="
INDENT = "  "
OPTION_INDENT = "      "
MAX_LISTED_OPTIONS = 25

# Elements a person can act on in a message, a modal or the App Home.
BUTTON = "button"
OVERFLOW = "overflow"
SELECT_TYPES = frozenset(
    {
        "static_select", "external_select", "users_select", "conversations_select", "channels_select",
        "multi_static_select", "multi_external_select", "multi_users_select", "multi_conversations_select",
        "multi_channels_select",
    }
)
PICKER_TYPES = frozenset({"datepicker", "timepicker", "datetimepicker", "checkboxes", "radio_buttons"})
ACTIONABLE_TYPES = SELECT_TYPES | PICKER_TYPES | {BUTTON, OVERFLOW}
ELEMENT_NAMES = {
    "static_select": "choose one", "external_select": "search and choose", "users_select": "choose a person",
    "conversations_select": "choose a conversation", "channels_select": "choose a channel",
    "multi_static_select": "choose several", "multi_external_select": "search and choose several",
    "multi_users_select": "choose people", "multi_conversations_select": "choose conversations",
    "multi_channels_select": "choose channels", "datepicker": "date YYYY-MM-DD", "timepicker": "time HH:MM",
    "datetimepicker": "date and time", "checkboxes": "tick any", "radio_buttons": "choose one",
    OVERFLOW: "more actions",
}

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")
_ANGLE = re.compile(r"<([^<>]*)>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_DATE_TOKEN = re.compile(r"\{(\w+)\}")
_SHORTCODE = re.compile(r":[a-z0-9_+-]+:")
_PLACE_OPEN, _PLACE_CLOSE = "\ue000", "\ue001"
_PLACEHOLDER = re.compile(f"{_PLACE_OPEN}(\\d+){_PLACE_CLOSE}")


@dataclass(frozen=True)
class Style:
    """Terminal emphasis. Plain (the default) keeps transcripts readable as text files."""

    color: bool = False

    def _wrap(self, code: str, text: str) -> str:
        if not self.color or not text:
            return text
        # An inner reset would end this style early; start it again after each one.
        inner = text.replace("\x1b[0m", f"\x1b[0m\x1b[{code}m")
        return f"\x1b[{code}m{inner}\x1b[0m"

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def italic(self, text: str) -> str:
        return self._wrap("3", text)

    def strike(self, text: str) -> str:
        return self._wrap("9", text)

    def accent(self, text: str) -> str:
        return self._wrap("36", text)

    def warn(self, text: str) -> str:
        return self._wrap("33", text)

    def error(self, text: str) -> str:
        return self._wrap("31", text)



@dataclass
class Viewer:
    """Who is looking, which decides how mentions, channels and dates read."""

    user_name: Callable[[str], str | None] = lambda _user_id: None
    channel_name: Callable[[str], str | None] = lambda _channel_id: None
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    style: Style = field(default_factory=Style)


@dataclass
class Control:
    """One numbered interactive element on screen."""

    number: int
    element: dict[str, Any]
    block_id: str
    source: Any
    label: str

    @property
    def kind(self) -> str:
        return str(self.element.get("type", ""))

    @property
    def action_id(self) -> str:
        return str(self.element.get("action_id", ""))

    @property
    def options(self) -> list[dict[str, Any]]:
        return flat_options(self.element)


class Controls:
    """Numbers interactive elements in the order they are shown, starting at 1."""

    def __init__(self) -> None:
        self.items: list[Control] = []

    def add(self, element: dict[str, Any], block_id: str, source: Any, label: str) -> Control:
        control = Control(len(self.items) + 1, element, block_id, source, label)
        self.items.append(control)
        return control

    def get(self, number: int) -> Control | None:
        return self.items[number - 1] if 1 <= number <= len(self.items) else None

    def by_label(self, text: str) -> list[Control]:
        """Controls whose label is `text`, else those it starts, ignoring case and emoji (`👍 Useful`)."""
        wanted = label_key(text)
        exact = [c for c in self.items if label_key(c.label) == wanted]
        return exact or [c for c in self.items if wanted and label_key(c.label).startswith(wanted)]

    def __len__(self) -> int:
        return len(self.items)


def is_number(text: str) -> bool:
    """ASCII digits only: `str.isdigit` also accepts `²` and other digits `int()` refuses."""
    return text.isascii() and text.isdigit()


def normalise(text: str) -> str:
    return " ".join(text.casefold().split())


def label_key(text: str) -> str:
    """A button label as typed: without emoji (pictographs or `:shortcodes:`), case or extra spaces."""
    text = _SHORTCODE.sub(" ", text)
    return normalise("".join(c for c in text if unicodedata.category(c) not in ("So", "Sk", "Cf", "Mn")))


def printable(text: str) -> str:
    """Text from the bot with terminal control sequences removed: a message must not drive the terminal."""
    return _CONTROL_CHARS.sub("", text)


def flat_options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def plain(text_object: dict[str, Any] | str | None, viewer: Viewer | None = None) -> str:
    """A text object (plain_text or mrkdwn) as the reader sees it."""
    if text_object is None:
        return ""
    if isinstance(text_object, str):
        return printable(text_object)
    text = str(text_object.get("text", ""))
    if text_object.get("type") == "mrkdwn":
        return mrkdwn(text, viewer or Viewer())
    return printable(_emoji(text) if text_object.get("emoji", True) else text)


# ----- mrkdwn --------------------------------------------------------------------------------------
def mrkdwn(text: str, viewer: Viewer) -> str:
    """Slack's mrkdwn as read in the client: links become `label <url>`, mentions become names, and
    escaped user text (`&lt;!channel&gt;`) shows as the literal text it is."""
    # Links and mentions are set aside first, so emphasis around them (`*<url|title>*`) still pairs up
    # and nothing inside a URL is taken for emphasis.
    placed: list[str] = []

    def set_aside(match: re.Match[str]) -> str:
        placed.append(_angle(match.group(1), viewer))
        return f"{_PLACE_OPEN}{len(placed) - 1}{_PLACE_CLOSE}"

    text = _emphasis(_emoji(_unescape(_ANGLE.sub(set_aside, printable(text).replace(_PLACE_OPEN, "")))), viewer.style)
    return _PLACEHOLDER.sub(lambda m: placed[int(m.group(1))], text)


# Shortcodes Slack shows as pictures; others stay as typed, as in a client without that emoji.
EMOJI = {
    "white_check_mark": "✅", "heavy_check_mark": "✔️", "x": "❌", "warning": "⚠️", "no_entry_sign": "🚫",
    "no_entry": "⛔", "tada": "🎉", "wave": "👋", "handshake": "🤝", "zzz": "💤", "alarm_clock": "⏰",
    "hourglass_flowing_sand": "⏳", "hourglass": "⌛", "palm_tree": "🌴", "loudspeaker": "📢", "mega": "📣",
    "large_green_circle": "🟢", "large_yellow_circle": "🟡", "red_circle": "🔴", "white_circle": "⚪",
    "large_blue_circle": "🔵", "calendar": "📆", "date": "📅", "clock3": "🕒", "bell": "🔔", "memo": "📝",
    "pushpin": "📌", "link": "🔗", "mag": "🔍", "bulb": "💡", "rocket": "🚀", "chart_with_upwards_trend": "📈",
    "bar_chart": "📊", "thumbsup": "👍", "+1": "👍", "thumbsdown": "👎", "-1": "👎", "eyes": "👀",
    "raised_hands": "🙌", "information_source": "ℹ️", "question": "❓", "exclamation": "❗", "star": "⭐",
    "fire": "🔥", "sparkles": "✨", "new": "🆕", "arrow_right": "➡️", "leftwards_arrow_with_hook": "↩️",
    "busts_in_silhouette": "👥", "bust_in_silhouette": "👤", "speech_balloon": "💬", "envelope": "✉️",
    "inbox_tray": "📥", "outbox_tray": "📤", "card_index_dividers": "🗂️", "clipboard": "📋", "lock": "🔒",
    "trophy": "🏆", "snail": "🐌", "stopwatch": "⏱️", "repeat": "🔁", "pencil2": "✏️", "wastebasket": "🗑️",
}
_EMOJI_CODE = re.compile(r":([a-z0-9_+-]+):")


def _emoji(text: str) -> str:
    return _EMOJI_CODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _emphasis(text: str, style: Style) -> str:
    text = _BOLD.sub(lambda m: style.bold(m.group(1)), text)
    text = _ITALIC.sub(lambda m: style.italic(m.group(1)), text)
    return _STRIKE.sub(lambda m: style.strike(m.group(1)), text)


def _angle(inner: str, viewer: Viewer) -> str:
    target, _, label = inner.partition("|")
    label = _unescape(label)
    if target.startswith("@"):
        user_id = target[1:]
        return "@" + (viewer.user_name(user_id) or label or user_id)
    if target.startswith("#"):
        channel_id = target[1:]
        return "#" + (viewer.channel_name(channel_id) or label or channel_id)
    if target.startswith("!"):
        return _special(target[1:], label, viewer)
    url = _unescape(target)
    if label and label != url:
        return f"{label} <{url}>"
    return url


def _special(command: str, label: str, viewer: Viewer) -> str:
    if command in ("here", "channel", "everyone"):
        return "@" + command
    if command.startswith("subteam^"):
        return label or "@group"
    if command.startswith("date^"):
        parts = command.split("^")
        try:
            moment = datetime.fromtimestamp(int(parts[1]), UTC)
            return format_date_token(parts[2] if len(parts) > 2 else "{date_num}", moment, viewer)
        except (IndexError, ValueError, OverflowError):
            return label or command
    return label or command


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _pretty(day: date, today: date, fallback: str) -> str:
    names = {today: "today", today - timedelta(days=1): "yesterday", today + timedelta(days=1): "tomorrow"}
    return names.get(day, fallback)


def format_date_token(template: str, moment: datetime, viewer: Viewer) -> str:
    """`<!date^…^{date_short_pretty} at {time}|…>` in the viewer's own timezone, as Slack shows it."""
    local = moment.astimezone(viewer.timezone)
    today = viewer.now().astimezone(viewer.timezone).date()
    day = local.date()
    hour12 = local.strftime("%I").lstrip("0") or "12"
    tokens = {
        "date_num": local.strftime("%Y-%m-%d"),
        "date": f"{local.strftime('%B')} {_ordinal(local.day)}, {local.year}",
        "date_short": f"{local.strftime('%b')} {local.day}, {local.year}",
        "date_long": f"{local.strftime('%A, %B')} {_ordinal(local.day)}, {local.year}",
        "time": f"{hour12}:{local.strftime('%M %p')}",
        "time_secs": f"{hour12}:{local.strftime('%M:%S %p')}",
    }
    for name in ("date", "date_short", "date_long"):
        tokens[f"{name}_pretty"] = _pretty(day, today, tokens[name])
    return _DATE_TOKEN.sub(lambda m: tokens.get(m.group(1), m.group(0)), template)


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
            lines.extend(INDENT + line for line in render_element(accessory, block_id, viewer, controls, source))
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
    element: dict[str, Any], block_id: str, viewer: Viewer, controls: Controls | None, source: Any
) -> list[str]:
    kind = str(element.get("type", ""))
    style = viewer.style
    if kind == "image":
        return [f"[image: {printable(str(element.get('alt_text', '')))}]"]
    if kind not in ACTIONABLE_TYPES:
        return [style.dim(f"[{kind}]")]
    label = element_label(element, viewer)
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

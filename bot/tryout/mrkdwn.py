"""Slack text as read in the client: text objects, mrkdwn, emoji shortcodes and date tokens.

Links become `label <url>`, mentions become names, `<!date^…>` reads in the viewer's own timezone, and
terminal control sequences from the bot are removed, so a message cannot drive the terminal.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.tryout.viewer import Style, Viewer

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")
_ANGLE = re.compile(r"<([^<>]*)>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_DATE_TOKEN = re.compile(r"\{(\w+)\}")
_PLACE_OPEN, _PLACE_CLOSE = "\ue000", "\ue001"
_PLACEHOLDER = re.compile(f"{_PLACE_OPEN}(\\d+){_PLACE_CLOSE}")


def printable(text: str) -> str:
    """Text from the bot with terminal control sequences removed: a message must not drive the terminal."""
    return _CONTROL_CHARS.sub("", text)


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


def _pretty(day: date, today: date, fallback: str) -> str:
    names = {today: "today", today - timedelta(days=1): "yesterday", today + timedelta(days=1): "tomorrow"}
    return names.get(day, fallback)


def _ago(elapsed: timedelta) -> str:
    """`{ago}` as Slack writes it: "12 days ago", "3 hours ago"; "in 2 days" for a moment ahead."""
    seconds = abs(elapsed.total_seconds())
    for unit, size in (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600),
                       ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            text = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"{text} ago" if elapsed >= timedelta(0) else f"in {text}"
    return "just now"


def format_date_token(template: str, moment: datetime, viewer: Viewer) -> str:
    """`<!date^…^{date_short_pretty} at {time}|…>` in the viewer's own timezone, as Slack shows it to a
    reader whose Slack is set to English (UK) and the 24-hour clock: the style of epos's own dates."""
    local = moment.astimezone(viewer.timezone)
    today = viewer.now().astimezone(viewer.timezone).date()
    day = local.date()
    tokens = {
        "date_num": local.strftime("%Y-%m-%d"),
        "date": f"{local.day} {local:%B %Y}",
        "date_short": f"{local.day} {local:%b %Y}",
        "date_long": f"{local:%A} {local.day} {local:%B %Y}",
        "time": f"{local:%H:%M}",
        "time_secs": f"{local:%H:%M:%S}",
    }
    for name in ("date", "date_short", "date_long"):
        tokens[f"{name}_pretty"] = _pretty(day, today, tokens[name])
    tokens["ago"] = _ago(viewer.now() - moment)
    return _DATE_TOKEN.sub(lambda m: tokens.get(m.group(1), m.group(0)), template)


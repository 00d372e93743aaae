"""Making user text safe and short enough for Block Kit."""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot import dates

ELLIPSIS = "…"

# Slack's limits (see SLACK-FACTS): the builders clip to these rather than let a post fail.
SECTION_TEXT = 3000
FIELD_TEXT = 2000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
OPTION_TEXT = 75
MODAL_TITLE = 24
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
PRIVATE_METADATA = 3000


def escape(text: str) -> str:
    """Escape user text for mrkdwn so `<!channel>`, `<@U…>` and links in it are shown, never acted on."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS


def safe(text: str, limit: int = SECTION_TEXT) -> str:
    """User text for a mrkdwn field: clipped first so an escape sequence is never cut in half."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    pieces, size = [], 0
    for char in text:
        piece = escape(char)
        if size + len(piece) > limit - 1:
            break
        pieces.append(piece)
        size += len(piece)
    return "".join(pieces) + ELLIPSIS


def link(url: str, label: str) -> str:
    """A mrkdwn link whose label is user text. `|` and `>` would end the link early, so they are escaped."""
    return f"<{url.replace('>', '%3E').replace('|', '%7C')}|{escape(label).replace('|', '¦')}>"


def user(user_id: str) -> str:
    """A mention of a Slack user id we hold (never of text a user typed)."""
    return f"<@{user_id}>"


def plural(count: int, one: str, many: str | None = None) -> str:
    """`1 SE`, `3 SEs`, `2 DevRel people`: a count with its noun, read aloud as it is written."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def slack_day(moment: datetime) -> str:
    """A date each reader sees in their own timezone and locale (Slack's date formatting), with `13 Nov
    2026` (UTC) for clients that cannot. Not Slack's "pretty" form: "closed on Today" would not read."""
    return f"<!date^{int(moment.timestamp())}^{{date_short}}|{dates.day(moment)}>"


def slack_moment(moment: datetime, fallback_tz: tzinfo) -> str:
    """A date and time each reader sees in their own timezone and locale, with `Fri 13 Nov 2026, 14:00`
    in `fallback_tz` for clients that cannot."""
    return (f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|"
            f"{escape(dates.moment(moment, fallback_tz))}>")

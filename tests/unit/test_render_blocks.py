"""`epos try` shows Block Kit as readable text: every block type, links, mentions, escaping, numbered buttons."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    ImageBlock,
    ImageElement,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    SectionBlock,
    StaticSelectElement,
)

from bot.blocks.text import escape, link
from bot.tryout.controls import Controls
from bot.tryout.mrkdwn import mrkdwn
from bot.tryout.render import render_blocks, render_message, render_view, strip_style
from bot.tryout.viewer import Style, Viewer

NAMES = {"U0A1B2C3D": "sam", "U0DR1A2B3": "lena"}
CHANNELS = {"C0DEALS01": "deals"}


def viewer(**overrides: object) -> Viewer:
    settings: dict[str, object] = {
        "user_name": NAMES.get,
        "channel_name": CHANNELS.get,
        "timezone": ZoneInfo("Europe/Berlin"),
        "now": lambda: datetime(2026, 11, 13, 9, 0, tzinfo=UTC),
    }
    settings.update(overrides)
    return Viewer(**settings)  # type: ignore[arg-type]


def lines_of(blocks: list, controls: Controls | None = None) -> list[str]:
    return render_blocks([b.to_dict() if hasattr(b, "to_dict") else b for b in blocks], viewer(), controls)


def test_header_divider_and_section_with_a_link() -> None:
    lines = lines_of([
        HeaderBlock(text="Demos for observability"),
        DividerBlock(),
        SectionBlock(text=MarkdownTextObject(text="*" + link("https://assets.example.com/a", "Alert to root cause") + "*")),
    ])
    assert lines[0] == "== Demos for observability =="
    assert set(lines[1]) == {"─"}
    assert lines[2] == "Alert to root cause <https://assets.example.com/a>"


def test_section_fields_are_paired_and_accessory_button_is_numbered() -> None:
    controls = Controls()
    lines = lines_of([
        SectionBlock(
            fields=[MarkdownTextObject(text="*Stage*\nDemo"), MarkdownTextObject(text="*Owner*\n<@U0A1B2C3D>"),
                    MarkdownTextObject(text="*Days*\n4")],
            accessory=ButtonElement(text="Open card", action_id="open", value="7"),
        )
    ], controls)
    assert lines == ["  Stage / Demo   |   Owner / @sam", "  Days / 4", "  [1] Open card"]
    assert controls.get(1) is not None and controls.get(1).action_id == "open"  # type: ignore[union-attr]


def test_context_shows_images_by_alt_text_and_joins_elements() -> None:
    lines = lines_of([
        ContextBlock(elements=[ImageElement(image_url="https://x.example/i.png", alt_text="owner avatar"),
                               MarkdownTextObject(text="Demo · Early cycle")]),
    ])
    assert lines == ["  [image: owner avatar]  ·  Demo · Early cycle"]


def test_image_block_shows_alt_text_title_and_url() -> None:
    lines = lines_of([ImageBlock(image_url="https://x.example/chart.png", alt_text="MTTC chart", title="Trend")])
    assert lines == ["[image: MTTC chart] Trend <https://x.example/chart.png>"]


def test_buttons_are_numbered_across_blocks_in_order() -> None:
    controls = Controls()
    lines = lines_of([
        ActionsBlock(block_id="a1", elements=[
            ButtonElement(text="Share in channel", action_id="share", value="1", style="primary"),
            ButtonElement(text="Archive", action_id="archive", value="1", style="danger"),
        ]),
        ActionsBlock(block_id="a2", elements=[ButtonElement(text="Open", action_id="link", url="https://x.example/d")]),
    ], controls)
    assert lines == ["[1] Share in channel   [2] Archive (!)", "[3] Open ↗ <https://x.example/d>"]
    assert [(c.number, c.label, c.block_id) for c in controls.items] == [
        (1, "Share in channel", "a1"), (2, "Archive", "a1"), (3, "Open", "a2")]
    assert controls.by_label("share in")[0].number == 1
    assert controls.get(4) is None


def test_selects_and_overflow_list_their_options_on_their_own_lines() -> None:
    controls = Controls()
    stage = StaticSelectElement(placeholder="Move to stage", action_id="stage",
                                options=[Option(text="Discovery", value="discovery"), Option(text="Demo", value="demo")],
                                initial_option=Option(text="Discovery", value="discovery"))
    more = OverflowMenuElement(action_id="more", options=[Option(text="Snooze 7 days", value="snooze")])
    lines = lines_of([ActionsBlock(elements=[ButtonElement(text="Close", action_id="close"), stage, more])], controls)
    assert lines == [
        "[1] Close",
        "[2] Move to stage ▾ Discovery",
        "      1) Discovery  2) Demo",
        "[3] more ▾",
        "      1) Snooze 7 days",
    ]
    assert controls.get(2).kind == "static_select"  # type: ignore[union-attr]


def test_escaped_user_text_is_shown_literally_and_never_as_a_mention() -> None:
    typed = "<!channel> ping & <@U0DR1A2B3> <https://evil.example|click>"
    lines = lines_of([SectionBlock(text=MarkdownTextObject(text="Asked: " + escape(typed)))])
    assert lines == ["Asked: " + typed]
    assert "@channel" not in lines[0] and "@lena" not in lines[0]


def test_real_mentions_and_specials_are_shown_by_name() -> None:
    text = mrkdwn("<!here> <@U0A1B2C3D> asked <@U0DR1A2B3|Lena> in <#C0DEALS01> and <#C0OTHER1|ops> <@U0UNKNOWN>", viewer())
    assert text == "@here @sam asked @lena in #deals and #ops @U0UNKNOWN"


def test_dates_are_shown_in_the_viewers_timezone_as_slack_formats_them() -> None:
    moment = int(datetime(2026, 11, 16, 14, 0, tzinfo=UTC).timestamp())
    text = mrkdwn(f"<!date^{moment}^{{date_short_pretty}} at {{time}}|Nov 16>", viewer())
    assert text == "16 Nov 2026 at 15:00"  # as to a reader with English (UK) and the 24-hour clock
    tomorrow = int(datetime(2026, 11, 14, 8, 0, tzinfo=UTC).timestamp())
    assert mrkdwn(f"<!date^{tomorrow}^{{date_pretty}}|x>", viewer()) == "tomorrow"
    assert mrkdwn("<!date^nonsense^{date}|the fallback>", viewer()) == "the fallback"
    checked = int(datetime(2026, 11, 1, 8, 0, tzinfo=UTC).timestamp())
    assert mrkdwn(f"✓ verified <!date^{checked}^{{ago}}|on 1 Nov 2026>", viewer()) == "✓ verified 12 days ago"


def test_emphasis_markers_are_dropped_in_plain_text_and_styled_in_colour() -> None:
    assert mrkdwn("*bold* _italic_ ~gone~ snake_case_name 2*3*4", viewer()) == "bold italic gone snake_case_name 2*3*4"
    coloured = mrkdwn("*bold*", viewer(style=Style(color=True)))
    assert coloured == "\x1b[1mbold\x1b[0m" and strip_style(coloured) == "bold"


def test_terminal_control_sequences_in_bot_text_are_removed() -> None:
    lines = lines_of([SectionBlock(text=MarkdownTextObject(text="title\x1b[2Jcleared\x07"))])
    assert lines == ["title[2Jcleared"]


def test_message_without_blocks_shows_its_text() -> None:
    assert render_message({"text": "Saved *Acme*.\nNext: <https://x.example|the card>"}, viewer()) == [
        "Saved Acme.", "Next: the card <https://x.example>"]


def test_rich_text_lists_quotes_and_code() -> None:
    block = {"type": "rich_text", "elements": [
        {"type": "rich_text_section", "elements": [{"type": "text", "text": "Hello "}, {"type": "user", "user_id": "U0A1B2C3D"}]},
        {"type": "rich_text_list", "style": "ordered", "elements": [
            {"type": "rich_text_section", "elements": [{"type": "text", "text": "first"}]},
            {"type": "rich_text_section", "elements": [{"type": "link", "url": "https://x.example", "text": "second"}]}]},
        {"type": "rich_text_quote", "elements": [{"type": "text", "text": "quoted"}]},
        {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "code"}]},
    ]}
    assert render_blocks([block], viewer()) == ["Hello @sam", "1. first", "2. second <https://x.example>", "> quoted",
                                                "```", "code", "```"]


def test_unknown_blocks_are_named_rather_than_dropped() -> None:
    assert render_blocks([{"type": "table"}], viewer()) == ["[table block]"]


def test_modal_shows_title_inputs_with_values_errors_and_its_buttons() -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "New engagement"},
        "submit": {"type": "plain_text", "text": "Open"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "input", "block_id": "account", "label": {"type": "plain_text", "text": "Account"},
             "element": {"type": "plain_text_input", "action_id": "value"},
             "hint": {"type": "plain_text", "text": "The customer"}},
            {"type": "input", "block_id": "stage", "optional": True, "label": {"type": "plain_text", "text": "Stage"},
             "element": {"type": "static_select", "action_id": "value", "options": [
                 {"text": {"type": "plain_text", "text": "Discovery"}, "value": "discovery"}]}},
        ],
    }
    lines = render_view(view, viewer(), Controls(), values={"account": "Acme"}, errors={"account": "Already open"})
    assert lines == [
        "┌ New engagement",
        "│ Account*: Acme",
        "│   The customer",
        "│   ! Already open",
        "│ Stage: (empty)",
        "│       1) Discovery",
        "└ [Cancel]   [Open]",
    ]


def test_home_view_renders_its_blocks_with_numbered_buttons() -> None:
    controls = Controls()
    home = {"type": "home", "blocks": [HeaderBlock(text="Your engagements").to_dict(),
                                       ActionsBlock(elements=[ButtonElement(text="New engagement", action_id="new")]).to_dict()]}
    assert render_view(home, viewer(), controls, source=("home", "V1")) == ["== Your engagements ==", "[1] New engagement"]
    assert controls.get(1).source == ("home", "V1")  # type: ignore[union-attr]


def test_emoji_shortcodes_become_pictures_and_unknown_ones_stay_as_typed() -> None:
    assert mrkdwn(":white_check_mark: Accepted :made_up_one:", viewer()) == "✅ Accepted :made_up_one:"
    assert mrkdwn("at 10:30:45", viewer()) == "at 10:30:45"

"""Block Kit limits are still checked on every to_dict(), by the same checks slack_sdk would find itself,
and to_dict() gives the same dicts as slack_sdk's own code."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks import speedup
from bot.blocks.speedup import (
    SLACK_SDK_GET_NON_NULL_ATTRIBUTES,
    SLACK_SDK_VALIDATE_JSON,
    _checks_of,
    _get_non_null_attributes,
)

speedup.install()


def checks_found_by_slack_sdk(obj: object) -> list[str]:
    """slack_sdk's own search: every non-dunder attribute of the instance that is a marked method."""
    found = []
    for name in (n for n in dir(obj) if not n.startswith("__")):
        method = getattr(obj, name, None)
        if callable(method) and hasattr(method, "validator"):
            found.append(name)
    return found


SAMPLES = [
    ButtonElement(text="Share", action_id="share", value="1", style="primary",
                  confirm=ConfirmObject(title="Sure?", text="It goes to the channel.")),
    SectionBlock(text=MarkdownTextObject(text="*Title*"), accessory=ButtonElement(text="Open", action_id="o")),
    ActionsBlock(elements=[ButtonElement(text="Next", action_id="n", value="2")]),
    ContextBlock(elements=[MarkdownTextObject(text="page 1 of 3")]),
    HeaderBlock(text="Weekly digest"),
    InputBlock(label="Title", element=PlainTextInputElement(action_id="t"), block_id="title"),
    StaticSelectElement(action_id="s", options=[Option(value="a", text="A")]),
    View(type="modal", title="Add an asset", blocks=[SectionBlock(text="hi")], submit="Save"),
    PlainTextObject(text="plain"),
]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type(s).__name__)
def test_the_same_checks_run_as_slack_sdk_would_find(sample: object) -> None:
    checks = _checks_of(type(sample))

    assert list(checks) == checks_found_by_slack_sdk(sample)


def test_a_button_label_over_slacks_limit_is_still_refused() -> None:
    with pytest.raises(SlackObjectFormationError):
        ButtonElement(text="x" * 80, action_id="a").to_dict()


def test_a_nested_object_over_its_limit_is_refused_through_its_parent() -> None:
    too_long = ButtonElement(text="Open", action_id="a", value="v" * 2001)

    with pytest.raises(SlackObjectFormationError):
        ActionsBlock(elements=[too_long]).to_dict()


def test_a_message_with_too_many_actions_is_refused() -> None:
    with pytest.raises(SlackObjectFormationError):
        ActionsBlock(elements=[ButtonElement(text=str(n), action_id=f"a{n}") for n in range(26)]).to_dict()


def slack_sdks_own_dict(obj: JsonObject, monkeypatch: pytest.MonkeyPatch) -> dict:
    """to_dict() with slack_sdk's own methods back in place."""
    with monkeypatch.context() as patched:
        patched.setattr(JsonObject, "validate_json", SLACK_SDK_VALIDATE_JSON)
        patched.setattr(JsonObject, "get_non_null_attributes", SLACK_SDK_GET_NON_NULL_ATTRIBUTES)
        return obj.to_dict()


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type(s).__name__)
def test_the_dict_is_what_slack_sdk_builds(sample: JsonObject, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _get_non_null_attributes(sample) == SLACK_SDK_GET_NON_NULL_ATTRIBUTES(sample)
    assert sample.to_dict() == slack_sdks_own_dict(sample, monkeypatch)


def test_a_page_of_search_results_is_what_slack_sdk_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.blocks import assets as asset_blocks

    message = asset_blocks.help_message()
    blocks = Block.parse_all(message["blocks"])
    assert [block.to_dict() for block in blocks] == [slack_sdks_own_dict(block, monkeypatch) for block in blocks]


def test_empty_elements_are_left_out_except_where_block_kit_allows_them() -> None:
    from slack_sdk.models.blocks import RichTextBlock, RichTextSectionElement

    empty_section = RichTextSectionElement(elements=[])
    block = RichTextBlock(elements=[empty_section])

    assert empty_section.to_dict() == SLACK_SDK_GET_NON_NULL_ATTRIBUTES(empty_section) == {
        "type": "rich_text_section", "elements": []}
    assert block.to_dict() == {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": []}]}
    assert "accessory" not in SectionBlock(text="hi", fields=[]).to_dict()
    assert "fields" not in SectionBlock(text="hi", fields=[]).to_dict()


@pytest.mark.parametrize("entry_point", ["app", "scheduler"])
def test_every_entry_point_that_renders_blocks_puts_the_faster_lookups_in_place(
    entry_point: str, settings, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    from slack_sdk import WebClient

    from bot.app import create_app
    from bot.scheduler import Scheduler

    monkeypatch.setattr(JsonObject, "validate_json", SLACK_SDK_VALIDATE_JSON)
    monkeypatch.setattr(JsonObject, "get_non_null_attributes", SLACK_SDK_GET_NON_NULL_ATTRIBUTES)

    if entry_point == "app":
        create_app(settings)
    else:
        Scheduler(settings, WebClient(token="xoxb-test"))

    assert JsonObject.validate_json is speedup._validate_json
    assert JsonObject.get_non_null_attributes is speedup._get_non_null_attributes

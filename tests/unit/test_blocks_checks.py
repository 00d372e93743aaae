"""Block Kit limits are still checked on every to_dict(), by the same checks slack_sdk would find itself."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
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

import bot.blocks  # noqa: F401 - installs the per-class lookup of checks
from bot.blocks import _checks_of


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

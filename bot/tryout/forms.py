"""A modal as a form filled field by field in the terminal.

Each input block of the view is a field (bot/tryout/fields.py). An answer is typed as text and turned
into the state value Slack would submit for that element (bot/tryout/answers.py). An empty answer keeps
the field's initial value. Checks the Slack client makes before it lets a modal be submitted (required
fields, lengths, numbers, e-mail and URL formats) are made too; everything else is for the App to judge
in its `view_submission` answer, whose field errors are shown next to their fields so those fields can
be filled again.
"""

from __future__ import annotations

from typing import Any

from bot.tryout.answers import parse_answer
from bot.tryout.controls import normalise
from bot.tryout.fields import Directory, Field, FieldError, client_check, initial_state
from bot.tryout.mrkdwn import plain
from bot.tryout.viewer import Viewer


class Form:
    """The fields of a modal and what has been typed into them."""

    def __init__(self, view: dict[str, Any], viewer: Viewer, previous: Form | None = None) -> None:
        self.view = view
        self.viewer = viewer
        self.errors: dict[str, str] = {}
        self.fields: list[Field] = []
        kept = {(f.block_id, f.action_id): f for f in previous.fields} if previous else {}
        for block in view.get("blocks") or []:
            if block.get("type") != "input" or not block.get("element"):
                continue
            element = block["element"]
            block_id, action_id = str(block.get("block_id", "")), str(element.get("action_id", ""))
            state, shown = initial_state(element, viewer)
            earlier = kept.get((block_id, action_id))
            # Slack keeps what was typed into an input whose block survives a views.update.
            if earlier is not None and earlier.kind == element.get("type"):
                state, shown = earlier.state, earlier.shown
            self.fields.append(
                Field(
                    block_id=block_id,
                    action_id=action_id,
                    element=element,
                    label=plain(block.get("label"), viewer),
                    optional=bool(block.get("optional")),
                    hint=plain(block.get("hint"), viewer),
                    dispatch=bool(block.get("dispatch_action")),
                    state=state,
                    shown=shown,
                )
            )

    @property
    def title(self) -> str:
        return plain(self.view.get("title"), self.viewer)

    @property
    def can_submit(self) -> bool:
        return bool(self.view.get("submit")) or bool(self.fields)

    def shown_values(self) -> dict[str, str]:
        return {f.block_id: f.shown for f in self.fields}

    def find(self, name: str) -> Field:
        """A field by its label (or a unique start of it), block_id or action_id."""
        wanted = normalise(name.rstrip("*").strip())
        for candidates in (
            [f for f in self.fields if normalise(f.label.rstrip("*")) == wanted],
            [f for f in self.fields if wanted in (normalise(f.block_id), normalise(f.action_id))],
            [f for f in self.fields if normalise(f.label).startswith(wanted)],
        ):
            if len(candidates) == 1:
                return candidates[0]
            if len(candidates) > 1:
                names = ", ".join(f.label for f in candidates)
                raise FieldError(f"{name!r} could mean {names}; type more of the label")
        names = ", ".join(f.label for f in self.fields) or "none"
        raise FieldError(f"the form {self.title!r} has no field {name!r}; its fields: {names}")

    def fill(self, target: Field, text: str, directory: Directory) -> None:
        """Put an answer into a field; an empty answer keeps what is there."""
        if text.strip() == "":
            return
        state, shown = parse_answer(target, text.strip(), self.viewer, directory,
                                    lambda query: directory.suggest(self, target, query))
        target.state, target.shown = state, shown
        self.errors.pop(target.block_id, None)

    def problems(self) -> dict[str, str]:
        """What the Slack client would refuse before submitting, by block_id."""
        found: dict[str, str] = {}
        for item in self.fields:
            problem = client_check(item)
            if problem:
                found[item.block_id] = problem
        return found

    def state_values(self) -> dict[str, dict[str, dict[str, Any]]]:
        """`view.state.values` as Slack submits it: every input, by block_id then action_id."""
        values: dict[str, dict[str, dict[str, Any]]] = {}
        for item in self.fields:
            values.setdefault(item.block_id, {})[item.action_id] = item.state
        return values

    def needing_answers(self) -> list[Field]:
        """Fields to ask next: those with an error when there are any, else every field."""
        if self.errors:
            return [f for f in self.fields if f.block_id in self.errors]
        return list(self.fields)

"""Filling in a modal field by field, submitting it (`view_submission`) or closing it."""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any

from bot.tryout.controls import Controls
from bot.tryout.fields import Field, FieldError
from bot.tryout.forms import Form
from bot.tryout.render import render_view
from bot.tryout.step import Step
from bot.tryout.workspace import MODAL

if TYPE_CHECKING:
    from bot.tryout.session import TrySession


class FormFlow:
    """The open form of `TrySession`: asked field by field, submitted or cancelled."""

    # ----- forms -----------------------------------------------------------------------------------
    def _form_directory(self) -> _FormDirectory:
        return _FormDirectory(self)

    def _answer(self, line: str) -> Step:
        form = self.form
        assert form is not None
        asking = self.asking.setdefault(self.persona.user_id, [])
        if not asking:
            if line.strip():
                return Step(error="every field is answered: press Enter to submit, :fill LABEL = VALUE to change one, "
                                  "or :cancel")
            return self.submit()
        current = asking[0]
        try:
            form.fill(current, line, self._form_directory())
        except FieldError as error:
            return Step(lines=[self.style.error(f"  ! {error}")])
        asking.pop(0)
        step = self._dispatch_field(current)
        if step is not None:
            return step
        if not asking:
            return self.submit()
        return Step()

    def _dispatch_field(self, changed: Field) -> Step | None:
        """An input with `dispatch_action` tells the App as soon as it changes, as Slack does."""
        if not changed.dispatch:
            return None
        open_view = self.workspace.top_modal(self.persona.user_id)
        form = self.form
        if open_view is None or form is None:
            return None
        chosen = {key: value for key, value in changed.state.items() if key != "type"}
        action = self.payloads.action(changed.element, changed.block_id, chosen)
        payload = self.payloads.view_action(self._person(), open_view.view, action, self._trigger(), form.state_values())
        response = self.wire.post_payload(payload)
        return self._after(self._check_status(response, f"the change of {changed.label!r}"))

    def fill(self, label: str, value: str) -> Step:
        """Set one field of the open form by its label (scripts, and `:fill`)."""
        form = self.form
        if form is None:
            return Step(error="no form is open")
        try:
            target = form.find(label)
            form.fill(target, value, self._form_directory())
        except FieldError as error:
            return Step(error=str(error))
        asking = self.asking.get(self.persona.user_id)
        if asking and target in asking:
            asking.remove(target)
        lines = [self.style.dim(f"  {target.label}: {target.shown or '(empty)'}")]
        step = self._dispatch_field(target)
        if step is not None:
            step.lines[:0] = lines
            return step
        return Step(lines=lines)

    def _fill_command(self, rest: str) -> Step:
        label, separator, value = rest.partition("=")
        if not separator:
            return Step(error="write :fill LABEL = VALUE, e.g. :fill Account = Acme")
        return self.fill(label.strip(), value.strip())

    def submit(self) -> Step:
        open_view = self.workspace.top_modal(self.persona.user_id)
        form = self.form
        if open_view is None or form is None:
            return Step(error="no form is open")
        if not open_view.view.get("submit") and not form.fields:
            return Step(error=f"{form.title!r} has nothing to submit; :cancel closes it")
        problems = form.problems()
        if problems:
            form.errors = problems
            return self._form_errors(form, "Slack would not send the form yet")
        values = form.state_values()
        payload = self.payloads.view_submission(self._person(), open_view.view, values, self._trigger())
        response = self.wire.post_payload(payload)
        step = self._check_status(response, f"the form {form.title!r}")
        if step.error:
            return self._after(step)
        body: dict[str, Any] = {}
        if response.body.strip():
            try:
                body = json.loads(response.body)
            except ValueError:
                body = {}
        action = body.get("response_action")
        stack = self.workspace.modals.get(self.persona.user_id) or []
        if action == "errors":
            form.errors = {str(k): str(v) for k, v in (body.get("errors") or {}).items()}
            return self._after(self._form_errors(form, "epos sent the form back"))
        if action == "update" and body.get("view"):
            view = {**body["view"], "id": open_view.view.get("id"), "hash": f"h{time.time_ns()}"}
            open_view.view = view
            self._form_for(self.persona.user_id, view)
        elif action == "push" and body.get("view"):
            view = {**body["view"], "id": self.workspace.new_view_id(), "hash": f"h{time.time_ns()}"}
            stack.append(type(open_view)(view=view, owner=self.persona.user_id))
            self._form_for(self.persona.user_id, view)
        elif action == "clear":
            stack.clear()
            step.lines.append(self.style.dim(f"({form.title} closed)"))
        else:
            if stack:
                stack.pop()
            step.lines.append(self.style.dim(f"({form.title} sent)"))
            if stack:
                self._ask_again(stack[-1].view)
        return self._after(step, show_form=bool(stack))

    def _form_errors(self, form: Form, why: str) -> Step:
        self.asking[self.persona.user_id] = form.needing_answers()
        lines = [self.style.warn(f"{why}:")]
        for item in form.fields:
            if item.block_id in form.errors:
                lines.append(self.style.error(f"  ! {item.label}: {form.errors[item.block_id]}"))
        unknown = [k for k in form.errors if k not in {f.block_id for f in form.fields}]
        lines.extend(self.style.error(f"  ! {form.errors[k]}") for k in unknown)
        return Step(lines=lines, field_errors=True)

    def _cancel(self, _rest: str) -> Step:
        open_view = self.workspace.top_modal(self.persona.user_id)
        if open_view is None:
            if self.pending_confirm is not None:
                self.pending_confirm = None
                return Step(lines=["Nothing was sent."])
            return Step(error="no form is open")
        form = self.form
        stack = self.workspace.modals[self.persona.user_id]
        stack.pop()
        step = Step(lines=[self.style.dim(f"({form.title if form else 'form'} closed)")])
        if open_view.view.get("notify_on_close"):
            payload = self.payloads.view_closed(self._person(), open_view.view, form.state_values() if form else {})
            step = self._check_status(self.wire.post_payload(payload), "closing the form")
            step.lines.insert(0, self.style.dim(f"({form.title if form else 'form'} closed)"))
        self.forms.pop(str(open_view.view.get("id", "")), None)
        if stack:
            self._ask_again(stack[-1].view)
        else:
            self.asking.pop(self.persona.user_id, None)
        return self._after(step, show_form=bool(stack))

    def _form_for(self, user_id: str, view: dict[str, Any]) -> Form:
        """The form for a view just opened, pushed or updated; an updated view keeps what was typed."""
        persona = self.directory.by_id.get(user_id, self.persona)
        view_id = str(view.get("id", ""))
        form = Form(view, self.viewer(persona), previous=self.forms.get(view_id))
        self.forms[view_id] = form
        self.asking[user_id] = form.needing_answers() if self.interactive else []
        return form

    def _ask_again(self, view: dict[str, Any]) -> None:
        """Back on a view under one that closed: its answers are kept; ask what it still needs."""
        form = self.forms.get(str(view.get("id", ""))) or self._form_for(self.persona.user_id, view)
        self.asking[self.persona.user_id] = form.needing_answers() if self.interactive else []

    def _render_form(self, screen: Controls) -> list[str]:
        open_view = self.workspace.top_modal(self.persona.user_id)
        form = self.form
        if open_view is None or form is None:
            return []
        source = (MODAL, str(open_view.view.get("id", "")))
        lines = render_view(open_view.view, self.viewer(), screen, source,
                            values=form.shown_values(), errors=form.errors)
        if self.interactive and form.fields:
            lines.append(self.style.dim("Fill it in field by field (Enter keeps the current value; "
                                        ":press N for a button in the form, :cancel to close)."))
        return lines

    def _show_form(self) -> Step:
        if self.form is None:
            return Step(error="no form is open")
        self.screen.begin()
        return Step(lines=self._render_form(self.screen))


class _FormDirectory:
    """People, channels and App-loaded options for the form filler."""

    def __init__(self, session: TrySession) -> None:
        self.session = session

    def user_id(self, text: str) -> str | None:
        persona = self.session.directory.persona(text)
        if persona is not None:
            return persona.user_id
        return text if re.fullmatch(r"[UW][A-Z0-9]{2,}", text) else None

    def channel_id(self, text: str) -> str | None:
        return self.session.directory.channel_id(text)

    def suggest(self, form: Form, target: Field, query: str) -> list[dict[str, Any]]:
        session = self.session
        open_view = session.workspace.top_modal(session.persona.user_id)
        if open_view is None:
            return []
        payload = session.payloads.block_suggestion(session._person(), open_view.view, target.element,
                                                    target.block_id, query, form.state_values())
        response = session.wire.post_payload(payload)
        if response.status != 200 or not response.body.strip():
            raise FieldError(f"epos offered no options for {query!r} (HTTP {response.status})")
        try:
            body = json.loads(response.body)
        except ValueError:
            return []
        options = list(body.get("options") or [])
        for group in body.get("option_groups") or []:
            options.extend(group.get("options") or [])
        return options

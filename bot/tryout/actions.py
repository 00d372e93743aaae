"""Pressing buttons and choosing in selects, as the person at the prompt: `block_actions` to the App."""

from __future__ import annotations

from typing import Any

from bot.tryout.answers import choose
from bot.tryout.controls import BUTTON, Control, is_number
from bot.tryout.fields import FieldError, option_state
from bot.tryout.mrkdwn import plain
from bot.tryout.payloads import MessageRef
from bot.tryout.step import Step
from bot.tryout.workspace import DM, GROUP, HOME, MODAL, Post, ResponseTarget


def clicked(element: dict[str, Any], chosen: dict[str, Any]) -> dict[str, Any]:
    """Checkboxes outside a form act on each click, and Slack sends all that is ticked after it: the boxes
    ticked when shown, with each one named clicked (ticked, or unticked if it was)."""
    ticked = {o.get("value") for o in element.get("initial_options") or []}
    ticked ^= {o.get("value") for o in chosen.get("selected_options") or []}
    options = [o for o in element.get("options") or [] if o.get("value") in ticked]
    return {**chosen, "selected_options": [option_state(o) for o in options]}


class Actions:
    """The buttons, selects and confirmations of `TrySession`."""

    # ----- buttons and selects ---------------------------------------------------------------------
    def _find_control(self, text: str) -> Control | Step:
        if not text:
            return Step(error="say which: :press N or :press LABEL")
        if is_number(text):
            control = self.screen.get(int(text))
            if control is None:
                return Step(error=self._not_on_screen(int(text)))
        else:
            found = self.screen.by_label(text)
            if not found:
                labels = ", ".join(f"[{c.number}] {c.label}" for c in self.screen.items) or "none"
                return Step(error=f"no button labelled {text!r} on screen; on screen: {labels}")
            control = found[0]
        # As in Slack, an open modal covers everything behind it.
        form = self.form
        on_a_form = isinstance(control.source, tuple) and control.source[0] == MODAL
        if form is not None and not on_a_form:
            return Step(error=f"a form is open ({form.title}): finish it, or :cancel it first")
        if form is None and on_a_form:
            return Step(error=f"button {control.number} was on a form that is closed now")
        return control

    def _not_on_screen(self, number: int) -> str:
        shown = f"on screen: {self.screen.numbers()}" if len(self.screen) else "none are on screen"
        source = self.screen.redrawn.get(number)
        post = getattr(source, "number", None)
        if post is not None:
            return (f"button {number} was on an earlier copy of message #{post}, which has changed since; "
                    f"press one of its new buttons below it ({shown})")
        if source is not None:
            return f"button {number} was on a view that has been shown again since; press one of its new buttons ({shown})"
        return f"there is no button {number} on screen ({shown}); :open N shows a message again"

    def _press(self, text: str) -> Step:
        found = self._find_control(text)
        if isinstance(found, Step):
            return found
        if found.kind != BUTTON:
            options = ", ".join(plain(o.get("text")) for o in found.options[:8])
            return Step(error=f"[{found.number}] is a {found.kind}; choose with :select {found.number} OPTION"
                        + (f" ({options})" if options else ""))
        return self._act(found, None)

    def _select(self, text: str) -> Step:
        number, _, choice = text.partition(" ")
        found = self._find_control(number)
        if isinstance(found, Step):
            return found
        if found.kind == BUTTON:
            return Step(error=f"[{found.number}] is a button; press it with {found.number}")
        if not choice.strip():
            return Step(error=f"say what to choose: :select {found.number} OPTION")
        try:
            chosen = choose(found.element, found.block_id, choice.strip(), self.viewer(), self._form_directory())
        except FieldError as error:
            return Step(error=str(error))
        if found.kind == "checkboxes" and not (isinstance(found.source, tuple) and found.source[0] == MODAL):
            chosen = clicked(found.element, chosen)
        return self._act(found, chosen)

    def _act(self, control: Control, chosen: dict[str, Any] | None) -> Step:
        confirm = control.element.get("confirm")
        if confirm:
            self.pending_confirm = (control, chosen)
            viewer = self.viewer()
            yes = plain(confirm.get("confirm"), viewer) or "Yes"
            no = plain(confirm.get("deny"), viewer) or "Cancel"
            return Step(lines=[
                self.style.bold(plain(confirm.get("title"), viewer) or "Are you sure?"),
                *plain(confirm.get("text"), viewer).splitlines(),
                f"Type yes to {yes}, or no to {no}.",
            ])
        return self._send_action(control, chosen)

    def _confirm(self, text: str) -> Step:
        assert self.pending_confirm is not None
        control, chosen = self.pending_confirm
        self.pending_confirm = None
        if text.casefold() in ("y", "yes"):
            return self._send_action(control, chosen)
        return Step(lines=["Nothing was sent."])

    def _send_action(self, control: Control, chosen: dict[str, Any] | None) -> Step:
        source = control.source
        action = self.payloads.action(control.element, control.block_id, chosen)
        trigger_id = self._trigger()
        person = self._person()
        if isinstance(source, Post):
            if source.deleted:
                return Step(error=f"message #{source.number} was deleted")
            name = self._response_name()
            self.workspace.expect_response(name, ResponseTarget(self.persona.user_id, source.channel_id, source))
            ref = MessageRef(
                channel_id=source.channel_id,
                channel_name=self._conversation_name(source),
                ts=source.ts,
                ephemeral=source.ephemeral,
                text=source.text,
                blocks=source.blocks,
                response_url=self._response_url(name),
                thread_ts=source.thread_ts,
            )
            state = {control.block_id: {control.action_id: {"type": control.kind, **(chosen or {})}}} if chosen else {}
            payload = self.payloads.message_action(person, ref, action, trigger_id, state)
        else:
            surface, view_id = source
            view = self._current_view(surface, view_id)
            if view is None:
                return Step(error="that form or App Home is no longer open")
            form = self.form if surface == MODAL else None
            state = form.state_values() if form is not None else {}
            payload = self.payloads.view_action(person, view, action, trigger_id, state)
        if control.element.get("url"):
            note = [f"(Slack would open {control.element['url']} in your browser)"]
        else:
            note = []
        response = self.wire.post_payload(payload)
        step = self._check_status(response, f"the press of {control.label!r}")
        step.lines.extend(note)
        return self._after(step)

    def _current_view(self, surface: str, view_id: str) -> dict[str, Any] | None:
        if surface == HOME:
            home = self.workspace.homes.get(self.persona.user_id)
            return home
        for open_view in self.workspace.modals.get(self.persona.user_id) or []:
            if open_view.view.get("id") == view_id:
                return open_view.view
        return None

    def _conversation_name(self, post: Post) -> str:
        if post.kind == DM:
            return "directmessage"
        if post.kind == GROUP:
            return "mpdm-" + "--".join(sorted(self.directory.user_name(u) or u for u in post.audience or ()))
        return self._channel_name(post.channel_id)

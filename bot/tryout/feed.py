"""What reached Slack since the last line: settling the App, and showing new and changed posts."""

from __future__ import annotations

import time
from typing import Any

from bot.tryout.controls import Controls
from bot.tryout.mrkdwn import mrkdwn
from bot.tryout.personas import Persona
from bot.tryout.render import render_message, render_view, strip_style
from bot.tryout.step import Step
from bot.tryout.workspace import CHANNEL, DELETED, DM, EPHEMERAL, GROUP, HOME, MODAL, NEW, UPDATED, Post

QUIET_FOR = 0.15
SETTLE_CAP = 10.0


class Feed:
    """How `TrySession` waits for the App and shows what arrived, now or after `:wait`."""

    # ----- what arrived ----------------------------------------------------------------------------
    def _settle(self, quiet_for: float = QUIET_FOR) -> None:
        """Wait until the App has finished what the last request started: no listener running and no
        Web API call for a moment (handlers go on working after their ack)."""
        assert self.slack is not None
        deadline = time.monotonic() + SETTLE_CAP
        seen = -1
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            count = len(self.slack.calls) + len(self.slack.responses)
            busy = getattr(self, "executor", None) is not None and self.executor.busy
            if busy or count != seen:
                seen, quiet_since = count, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_for:
                return
            time.sleep(0.005)

    def _after(self, step: Step, immediate: list[Post] | None = None, *, show_form: bool = False) -> Step:
        """Show the current persona what the step produced, and tell who else got something."""
        assert self.slack is not None
        self._settle()
        events = self.workspace.sync(self.slack.calls, self.slack.responses)
        screen = self.screen
        screen.begin()
        lines: list[str] = []
        me = self.persona.user_id
        shown: dict[int, str] = {}
        for post in immediate or []:
            shown.setdefault(post.number, NEW)
        modal_changed = False
        home_changed = False
        for event in events:
            if event.post is not None:
                post = event.post
                if post.visible_to(me):
                    shown.setdefault(post.number, event.kind)
                self._mark_unread(post)
            elif event.kind == MODAL and event.user_id is not None:
                self._form_for(event.user_id, event.view or {})
                modal_changed = modal_changed or event.user_id == me
            elif event.kind == HOME and event.user_id == me:
                home_changed = True
        for number, kind in shown.items():
            post = self.workspace.post(number)
            if post is not None:
                lines.extend(self._render_post(post, screen, kind))
        if home_changed and self.on_home:
            lines.extend(self._render_home(screen))
        if modal_changed or show_form:
            lines.extend(self._render_form(screen))
        lines.extend(self._others_note(events))
        step.lines = lines + step.lines if not step.error else step.lines + lines
        return step

    def _mark_unread(self, post: Post) -> None:
        """Queue a DM, group DM or private message for the personas in it other than the one acting."""
        for user_id in post.audience or ():
            if user_id in self.directory.by_id and user_id != self.persona.user_id:
                queue = self.unread.setdefault(user_id, [])
                if post.number not in queue:
                    queue.append(post.number)

    def _others_note(self, events: list[Any]) -> list[str]:
        counts: dict[str, set[int]] = {}
        me = self.persona.user_id
        for event in events:
            post = event.post
            if post is None or post.audience is None:
                continue
            for user_id in post.audience:
                if user_id in self.directory.by_id and user_id != me:
                    counts.setdefault(user_id, set()).add(post.number)
        notes = []
        for user_id, numbers in counts.items():
            persona = self.directory.by_id[user_id]
            kind = "message" if len(numbers) == 1 else "messages"
            notes.append(self.style.dim(f"({len(numbers)} new {kind} for {persona.key}; :as {persona.key} to read)"))
        return notes

    def _post_header(self, post: Post, kind: str = NEW) -> str:
        where = {
            DM: "DM from epos",
            GROUP: "group DM with " + ", ".join(sorted(self.directory.user_name(u) or u for u in post.audience or ())),
            EPHEMERAL: f"{self._place(post.channel_id)} · only visible to you",
            CHANNEL: self._place(post.channel_id),
        }[post.kind]
        if post.author:
            where += f" · {self.directory.user_name(post.author) or post.author} wrote"
        parent = self.workspace.parent_of(post)
        thread = f" · reply in thread of #{parent.number}" if parent else ""
        state = " · updated" if kind == UPDATED else ""
        return self.style.accent(f"#{post.number} · {where}{thread} · {self._short_when(post.at)}{state}")

    def _place(self, channel_id: str) -> str:
        """A channel by its name; a person's DM with epos (its id, or the person's, as an answer to a form
        opened from a DM or the App Home carries it) as a DM."""
        name = self.directory.channel_name(channel_id)
        if name:
            return f"#{name}"
        if channel_id.startswith("D") or channel_id in self.directory.by_id:
            return "DM with epos"
        return f"#{channel_id}"

    def _render_post(self, post: Post, screen: Controls, kind: str = NEW) -> list[str]:
        if post.deleted or kind == DELETED:
            return [self.style.dim(f"#{post.number} was deleted")]
        body = render_message(post.as_message(), self.viewer(), screen, post)
        for saved in post.files:
            body.append(f"[file: {saved.title} → {saved.path}]")
        return [self._post_header(post, kind)] + ["  " + line for line in body]

    def _render_home(self, screen: Controls) -> list[str]:
        home = self.workspace.homes.get(self.persona.user_id)
        if not home:
            return [self.style.dim("(epos has not published an App Home for you)")]
        source = (HOME, str(home.get("id", "")))
        body = render_view(home, self.viewer(), screen, source)
        return [self.style.accent(f"App Home of {self.persona.key}")] + ["  " + line for line in body]


    def _arrivals(self, events: list[Any]) -> list[str]:
        """After time passed: in full what the current persona and the channels got, a line for everyone else."""
        me = self.persona.user_id
        screen = self.screen
        screen.begin()
        lines: list[str] = []
        mine: dict[int, str] = {}
        others: dict[str, dict[int, Post]] = {}
        for event in events:
            post = event.post
            if post is None:
                if event.kind == MODAL and event.user_id:
                    self._form_for(event.user_id, event.view or {})
                continue
            if post.visible_to(me):
                mine.setdefault(post.number, event.kind)
            self._mark_unread(post)
            for user_id in post.audience or ():
                if user_id in self.directory.by_id and user_id != me:
                    others.setdefault(user_id, {})[post.number] = post
        for number, kind in mine.items():
            post = self.workspace.post(number)
            if post is not None:
                lines.extend(self._render_post(post, screen, kind))
        for user_id, posts in others.items():
            persona = self.directory.by_id[user_id]
            for post in posts.values():
                summary = self._summary(post, persona)
                lines.append(f"  → {persona.key}: #{post.number} {self._kind_word(post)} · {summary}")
        if others:
            lines.append(self.style.dim("  (:as NAME shows them in full)"))
        if not lines:
            lines.append("Nothing arrived for anyone.")
        return lines

    def _kind_word(self, post: Post) -> str:
        return {DM: "DM", GROUP: "group DM", EPHEMERAL: "only for them", CHANNEL: "post"}[post.kind]

    def _summary(self, post: Post, persona: Persona) -> str:
        """One line, as a notification shows it: the message's fallback text, else its first line."""
        viewer = self.viewer(persona)
        lines = [line.strip() for line in mrkdwn(post.text, viewer).splitlines() if line.strip()]
        if not lines:
            lines = [line.strip() for line in render_message(post.as_message(), viewer) if line.strip()]
        if not lines and post.files:
            lines = [f"[file: {post.files[0].title}]"]
        first = strip_style(lines[0]) if lines else "(empty message)"
        return first[:100] + ("…" if len(first) > 100 else "")

"""The `:` commands of `epos try` that move between people, places and time, and check scripts."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot import clock
from bot.tryout import personas as people
from bot.tryout import timeline
from bot.tryout.controls import Controls, is_number, normalise
from bot.tryout.step import Step
from bot.tryout.workspace import CHANNEL, Post

log = logging.getLogger(__name__)
LISTED = 10
LONGEST_WAIT = timedelta(days=31)
_DURATION_PART = re.compile(r"(\d+)\s*([dhm])")


def parse_wait(text: str) -> timedelta:
    """`30m`, `2h`, `3d`, `1d12h`."""
    compact = text.replace(" ", "").casefold()
    parts = _DURATION_PART.findall(compact)
    if not parts or "".join(a + u for a, u in parts) != compact:
        raise ValueError(f"{text!r} is not a duration; type e.g. 30m, 2h, 3d or 1d12h")
    units = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
    try:
        total = sum((int(amount) * units[unit] for amount, unit in parts), timedelta())
    except OverflowError:
        raise ValueError("wait at most 31 days at a time") from None
    if total <= timedelta(0):
        raise ValueError("wait for at least a minute, e.g. :wait 30m")
    if total > LONGEST_WAIT:
        raise ValueError("wait at most 31 days at a time")
    return total


class Commands:
    """The `:as`, `:dm`, `:channel`, `:home`, `:wait`, `:expect`… commands of `TrySession`."""

    # ----- people and places -----------------------------------------------------------------------
    def _as(self, rest: str) -> Step:
        persona = self.directory.persona(rest)
        if persona is None:
            return Step(error=f"{rest!r} is not a persona; :who lists them")
        self.persona = persona
        self.on_home = False
        self.pending_confirm = None
        self.screen = Controls()
        lines = [f"You are now {persona.label}, {persona.name}. It is {self._when(clock.now())}."]
        unread = [self.workspace.post(n) for n in self.unread.pop(persona.user_id, [])]
        waiting = [p for p in unread if p is not None and not p.deleted]
        if waiting:
            lines.append(f"{len(waiting)} unread:")
            for post in waiting:
                lines.extend(self._render_post(post, self.screen))
        if self.form is not None:
            lines.append(f"Your form {self.form.title!r} is still open:")
            lines.extend(self._render_form(self.screen))
        return Step(lines=lines)

    def _who(self) -> list[str]:
        lines = []
        for persona in people.PERSONAS:
            marker = "→" if persona is self.persona else " "
            unread = len(self.unread.get(persona.user_id, []))
            note = f"  {unread} unread" if unread else ""
            featured = "" if persona.featured else self.style.dim("  (in the sample data)")
            lines.append(f"{marker} {persona.key:<7} {persona.role:<8} {persona.name:<16} {persona.user_id}  "
                         f"{persona.timezone}{note}{featured}")
        return lines

    def _inbox(self, _rest: str) -> Step:
        me = self.persona.user_id
        mine = [p for p in self.workspace.posts if not p.deleted and p.audience is not None and me in p.audience]
        self.unread.pop(me, None)
        if not mine:
            return Step(lines=[f"No DMs or private messages for {self.persona.key} yet."])
        return self._last_posts(mine)

    def _channel(self, rest: str) -> Step:
        channel_id = self.directory.channel_id(rest) if rest else self.channel_id
        if channel_id is None:
            return Step(error=f"no channel {rest!r}; :channels lists them")
        posts = [p for p in self.workspace.posts if p.channel_id == channel_id and p.kind == CHANNEL and not p.deleted]
        if not posts:
            return Step(lines=[f"#{self._channel_name(channel_id)} has no posts from epos yet."])
        return self._last_posts(posts)

    def _last_posts(self, posts: list[Post]) -> Step:
        """The last LISTED of `posts`, drawn with their buttons, said so when there are more."""
        self.screen.begin()
        lines = [] if len(posts) <= LISTED else [self.style.dim(f"(the last {LISTED} of {len(posts)}; :open N for others)")]
        for post in posts[-LISTED:]:
            lines.extend(self._render_post(post, self.screen))
        return Step(lines=lines)

    def _channels(self) -> list[str]:
        lines = []
        for channel_id, name in self.directory.channels.items():
            count = sum(1 for p in self.workspace.posts if p.channel_id == channel_id and p.kind == CHANNEL)
            here = "  (you type here)" if channel_id == self.channel_id else ""
            lines.append(f"#{name:<18} {channel_id}  {count} posts{here}")
        return lines

    def _in(self, rest: str) -> Step:
        channel_id = self.directory.channel_id(rest)
        if channel_id is None:
            return Step(error=f"no channel {rest!r}; :channels lists them")
        self.channel_id = channel_id
        return Step(lines=[f"Slash commands now go to #{self._channel_name(channel_id)}."])

    def _open(self, rest: str) -> Step:
        post = self.workspace.post(int(rest.lstrip("#"))) if is_number(rest.lstrip("#")) else None
        if post is None or not post.visible_to(self.persona.user_id):
            return Step(error=f"no message {rest} for {self.persona.key}; :dm and :channel list messages")
        self.screen.begin()
        lines = self._render_post(post, self.screen)
        for reply in self.workspace.replies_to(post):
            if reply.visible_to(self.persona.user_id):
                lines.extend("    " + line for line in self._render_post(reply, self.screen))
        return Step(lines=lines)

    def _home(self, _rest: str) -> Step:
        if self.form is not None:
            return Step(error=f"a form is open ({self.form.title}): finish it, or :cancel it first")
        person = self._person()
        event = self.payloads.app_home_opened(person, self._dm_channel(self.persona),
                                              self.workspace.homes.get(self.persona.user_id))
        response = self.wire.post_event(self.payloads.event_envelope(event))
        step = self._check_status(response, "App Home opened")
        self.on_home = True
        self._settle()
        events = self.workspace.sync(self.slack.calls, self.slack.responses) if self.slack else []
        self.screen.begin()
        for item in events:
            if item.post is not None:
                self._mark_unread(item.post)
        step.lines = self._render_home(self.screen) + step.lines
        return step

    # ----- time ------------------------------------------------------------------------------------
    def _wait(self, rest: str) -> Step:
        try:
            duration = parse_wait(rest)
        except ValueError as error:
            return Step(error=str(error))
        if self.form is not None:
            return Step(error=f"a form is open ({self.form.title}): finish it, or :cancel it first")
        try:
            from bot import scheduler
        except ImportError:
            scheduler = None  # type: ignore[assignment]
        tick = getattr(scheduler, "tick", None)
        start = clock.now()
        end = start + duration
        assert self.slack is not None
        events = []
        problems: list[str] = []
        step = timeline.step_for(duration)
        moment = start
        zone = ZoneInfo(self.persona.timezone)
        while moment < end:
            before = moment
            moment = timeline.next_tick(moment, end, step)
            clock.set_now(moment)
            if self.on_progress is not None and moment.astimezone(zone).date() != before.astimezone(zone).date():
                self.on_progress(f"⏩ {self._short_when(moment)} (waiting until {self._short_when(end)})")
            if tick is not None:
                try:
                    tick(self.app.client, self.settings, moment, owner=self.scheduler_owner)
                except Exception as error:  # the scheduler's failure is shown, and the clock still moves
                    log.exception("the scheduler tick failed at %s", moment.isoformat())
                    problems.append(f"the scheduler failed at {self._short_when(moment)}: {error}")
            # The tick posts before it returns; only listeners it set off would still be running.
            self._settle(quiet_for=0.0)
            events.extend(self.workspace.sync(self.slack.calls, self.slack.responses))
        clock.set_now(end)
        lines = [self.style.bold(f"⏩ {self._when(start)} → {self._short_when(end)}")]
        if tick is None:
            lines.append(self.style.warn("(this build has no scheduler yet, so nothing ran while time passed)"))
        lines.extend(self._arrivals(events))
        step = Step(lines=lines)
        if problems:
            step.error = problems[0]
        return step


    # ----- scripts ---------------------------------------------------------------------------------
    def _expect(self, rest: str, *, present: bool) -> Step:
        wanted = rest.strip().strip('"')
        if not wanted:
            return Step(error="write :expect TEXT")
        found = normalise(wanted) in normalise(self.last_output)
        if found == present:
            verb = "seen" if present else "not seen, as expected"
            return Step(lines=[self.style.dim(f"✓ {verb}: {wanted}")])
        if present:
            return Step(error=f"expected to see {wanted!r} in the last output, but it was not there")
        return Step(error=f"expected not to see {wanted!r} in the last output, but it was there")

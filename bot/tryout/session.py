"""`epos try`: the real App, in-process, against the mock Slack, on a scratch database, driven by typed lines.

The App is built by the same factory as production and served over signed HTTP on loopback; what a
person types becomes the request Slack would send (slash command, `block_actions`,
`view_submission`, `app_home_opened`), and what the App sends back through the Web API is shown as
that person would see it. A controlled clock (`:wait 3d`) runs the scheduler's tick over the time
that passes.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot import clock, db
from bot.app import create_app
from bot.config import Settings, load_settings
from bot.logs import SecretScrubber
from bot.slackmock import APP_ID, TEAM_ID, MockSlack
from bot.tryout import personas as people
from bot.tryout import timeline
from bot.tryout.forms import Field, FieldError, Form, choose
from bot.tryout.payloads import MessageRef, Payloads, Person
from bot.tryout.personas import Directory, Persona
from bot.tryout.render import (
    BUTTON,
    Control,
    Controls,
    Style,
    Viewer,
    is_number,
    mrkdwn,
    normalise,
    plain,
    render_message,
    render_view,
    strip_style,
)
from bot.tryout.workspace import CHANNEL, DELETED, DM, EPHEMERAL, GROUP, HOME, MODAL, NEW, UPDATED, Post, ResponseTarget, Workspace
from bot.web import SLACK_PATH, EposWSGI
from bot.wire import LoopbackServer, SlackWire, WireResponse

log = logging.getLogger(__name__)

# A fixed weekday morning after the sample data, so every session and script tells the same story.
DEFAULT_START = datetime(2026, 11, 13, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
TEAM_TIMEZONE = "Europe/Berlin"
DEFAULT_PERSONA = "sam"
BOT_TOKEN = "xoxb-epos-try-not-a-real-token"
QUIET_FOR = 0.15
SETTLE_CAP = 10.0
LONGEST_WAIT = timedelta(days=31)
# Libraries whose INFO lines would drown the bot's own in epos.log.
QUIETENED_LOGGERS = ("slack_bolt", "slack_sdk", "urllib3", "apscheduler", "alembic")
LISTED = 10
_DURATION_PART = re.compile(r"(\d+)\s*([dhm])")
_COMMAND = re.compile(r"^(/[a-z][a-z0-9_-]*)(?:\s+(.*))?$", re.IGNORECASE)

HELP = """\
Type what you would type in Slack, as the persona shown in the prompt:
  /asset demo observability      find assets          /asset add, /asset help
  /engagement new                open an engagement   /engagement ACCOUNT STAGE [note], /engagement list
  /devrel ACCOUNT                ask DevRel to join a customer meeting
Buttons are numbered: type the number (or :press N, or :press LABEL) to press one.
  :select N OPTION               choose in a select or menu of a message, e.g. :select 3 Demo
Forms (modals) are asked field by field; Enter keeps the current value.
  :cancel                        close the form        :submit  send it as it is
  :fill LABEL = VALUE            set one field without being asked (scripts use indented `LABEL: VALUE`)
People and places:
  :as NAME                       act as someone else (shows what they missed)      :who  everyone
  :dm, :inbox                    your DMs and messages only you can see
  :channel NAME                  a channel's posts      :channels  all channels      :in NAME  type there
  :home                          your App Home          :open N   message #N again
Time:
  :wait 30m | 2h | 3d            let time pass; the scheduler runs reminders, escalations, nudges, the digest
  :time                          what time it is for you
Scripts: :expect TEXT checks the last output contains TEXT; :expect-not TEXT that it does not.
  :help, :quit"""


class Stop(Exception):
    """`:quit`."""


@dataclass
class Step:
    """What one typed line produced."""

    lines: list[str] = field(default_factory=list)
    error: str | None = None
    # A modal answered with field errors: a script may expect that with the next `:expect`.
    field_errors: bool = False
    quit: bool = False

    @property
    def text(self) -> str:
        return strip_style("\n".join(self.lines))


class CountingExecutor(ThreadPoolExecutor):
    """Bolt's listener pool, counting work in flight so the terminal knows when the App has finished."""

    def __init__(self, max_workers: int = 8) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="epos-try-listener")
        self._changed = threading.Condition()
        self._in_flight = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._changed:
            self._in_flight += 1

        def run() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                with self._changed:
                    self._in_flight -= 1
                    self._changed.notify_all()

        return super().submit(run)

    @property
    def busy(self) -> bool:
        with self._changed:
            return self._in_flight > 0


class ErrorCounter(logging.Handler):
    """Counts errors the App logs, so a script step that made the bot apologise fails."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.count = 0
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.last = record.getMessage().splitlines()[0][:200]


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


class TrySession:
    def __init__(
        self,
        *,
        output_dir: Path,
        examples_dir: Path,
        start: datetime | None = None,
        color: bool = False,
        interactive: bool = False,
        base_settings: Settings | None = None,
        persona: str = DEFAULT_PERSONA,
    ) -> None:
        self.output_dir = output_dir
        self.examples_dir = examples_dir
        self.start_at = start or DEFAULT_START
        self.style = Style(color=color)
        self.interactive = interactive
        self.base_settings = base_settings
        self.directory = Directory(channels={**people.CHANNELS, **people.deal_channels(examples_dir / "engagements.yaml")})
        first = self.directory.persona(persona)
        if first is None:
            raise ValueError(f"{persona!r} is not a persona; choose one of {', '.join(p.key for p in people.PERSONAS)}")
        self.persona: Persona = first
        self.channel_id = people.DEALS_CHANNEL
        self.payloads = Payloads()
        self.screen = Controls()
        self.unread: dict[str, list[int]] = {}
        self.on_home = False
        self.asking: dict[str, list[Field]] = {}
        # The form of each open modal, by view id, so a view returned to after a pushed one keeps its answers.
        self.forms: dict[str, Form] = {}
        self.pending_confirm: tuple[Control, dict[str, Any] | None] | None = None
        self.last_output = ""
        self.loaded: dict[str, int] = {}
        self._responses = 0
        self._scratch: Path | None = None
        self._log_handlers: list[logging.Handler] = []
        self._log_levels: dict[str, int] = {}
        self._errors = ErrorCounter()
        self.slack: MockSlack | None = None
        self.server: LoopbackServer | None = None
        # One scheduler instance for the whole session, as one running bot would be.
        self.scheduler_owner = f"epos-try-{secrets.token_hex(4)}"

    # ----- start and stop --------------------------------------------------------------------------
    def open(self) -> list[str]:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._start_logging()
        self._scratch = Path(tempfile.mkdtemp(prefix="epos-try-"))
        database_url = f"sqlite:///{self._scratch / 'epos.db'}"
        clock.set_now(self.start_at)
        self.slack = MockSlack().start()
        for persona in people.PERSONAS:
            self.slack.add_user(persona.user_id, name=persona.name, tz=persona.timezone,
                                restricted=persona.role == people.GUEST)
        for channel, organisation in people.SHARED_DEAL_CHANNELS.items():
            self.slack.share_channel(channel, organisation)
        signing_secret = secrets.token_hex(16)
        overrides: dict[str, Any] = {
            "slack_bot_token": BOT_TOKEN,
            "slack_app_token": None,
            "slack_signing_secret": signing_secret,
            "slack_api_url": self.slack.api_url,
            "slack_team_id": TEAM_ID,
            "slack_app_id": APP_ID,
            "database_url": database_url,
            "epos_admins": people.admins(),
            "epos_managers": people.managers(),
            "epos_timezone": TEAM_TIMEZONE,
            "digest_channel": people.DIGEST_CHANNEL,
            "devrel_channel": people.DEVREL_CHANNEL,
        }
        if self.base_settings is not None:
            self.settings = load_settings(_env_file=None, **{**self.base_settings.model_dump(), **overrides})
        else:
            self.settings = load_settings(_env_file=None, **overrides)
        db.upgrade(database_url)
        db.configure(database_url)
        from bot.tryout.preload import preload

        self.loaded = preload(self.examples_dir, self.settings)
        self.app = create_app(self.settings)
        self.executor = CountingExecutor()
        self.app.listener_runner.listener_executor = self.executor
        self.app.listener_runner.lazy_listener_runner.executor = self.executor  # type: ignore[attr-defined]
        self.server = LoopbackServer(EposWSGI(self.app)).start()
        self.wire = SlackWire(self.server.url + SLACK_PATH, signing_secret)
        self.workspace = Workspace(self.output_dir / "files", clock.now, self._upload)
        for persona in people.PERSONAS:
            self.workspace.remember_dm(self._dm_channel(persona), persona.user_id)
        self._settle()
        self.workspace.sync(self.slack.calls, self.slack.responses)
        return self._welcome()

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
        if self.slack is not None:
            self.slack.stop()
        if getattr(self, "executor", None) is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
        try:
            db.engine().dispose()
        except RuntimeError:
            pass
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
        root = logging.getLogger()
        for handler in self._log_handlers:
            root.removeHandler(handler)
            handler.close()
        for name, level in self._log_levels.items():
            logging.getLogger(name or None).setLevel(level)
        clock.reset()

    def __enter__(self) -> TrySession:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _start_logging(self) -> None:
        root = logging.getLogger()
        self._log_levels = {name: logging.getLogger(name).level for name in ("", *QUIETENED_LOGGERS)}
        file_handler = logging.FileHandler(self.output_dir / "epos.log", encoding="utf-8")
        file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        file_handler.addFilter(SecretScrubber([BOT_TOKEN]))
        self._log_handlers = [file_handler, self._errors]
        for handler in self._log_handlers:
            root.addHandler(handler)
        if root.level > logging.INFO or root.level == logging.NOTSET:
            root.setLevel(logging.INFO)
        for noisy in QUIETENED_LOGGERS:
            logging.getLogger(noisy).setLevel(logging.WARNING)

    @property
    def log_path(self) -> Path:
        return self.output_dir / "epos.log"

    def _upload(self, file_id: str) -> tuple[str, bytes] | None:
        assert self.slack is not None
        if file_id not in self.slack.uploads:
            return None
        return self.slack.upload_names.get(file_id, file_id), self.slack.uploads[file_id]

    def _welcome(self) -> list[str]:
        loaded = ", ".join(f"{count} {what}" for what, count in self.loaded.items())
        if loaded:
            loaded_line = f"Loaded {loaded}."
        else:
            loaded_line = self.style.warn(f"No sample data found in {self.examples_dir}/; pass --examples DIR "
                                          "(a folder with assets.yaml, roster.yaml, engagements.yaml).")
        return [
            self.style.bold("epos try") + ": the whole bot on a scratch database, against a stand-in for Slack.",
            loaded_line,
            f"It is {self._when(clock.now())} for you. Files and the log go to {self.output_dir}/.",
            f"You are {self.persona.label}, typing in #{self._channel_name(self.channel_id)}. "
            "Try /asset demo observability, or :help.",
        ]

    # ----- who and where ---------------------------------------------------------------------------
    def viewer(self, persona: Persona | None = None) -> Viewer:
        persona = persona or self.persona
        return Viewer(
            user_name=self.directory.user_name,
            channel_name=self.directory.channel_name,
            timezone=ZoneInfo(persona.timezone),
            now=clock.now,
            style=self.style,
        )

    def _person(self) -> Person:
        return Person(self.persona.user_id, self.persona.key)

    def _dm_channel(self, persona: Persona) -> str:
        return "D" + persona.user_id[1:]

    def _channel_name(self, channel_id: str) -> str:
        return self.directory.channel_name(channel_id) or channel_id

    def _when(self, moment: datetime, persona: Persona | None = None) -> str:
        zone = ZoneInfo((persona or self.persona).timezone)
        local = moment.astimezone(zone)
        return f"{local.strftime('%A %d %B %Y, %H:%M')} ({zone.key})"

    def _short_when(self, moment: datetime) -> str:
        return moment.astimezone(ZoneInfo(self.persona.timezone)).strftime("%a %d %b %H:%M")

    # ----- the prompt ------------------------------------------------------------------------------
    @property
    def form(self) -> Form | None:
        top = self.workspace.top_modal(self.persona.user_id)
        return self.forms.get(str(top.view.get("id", ""))) if top is not None else None

    @property
    def form_open(self) -> bool:
        return self.form is not None

    def prompt(self) -> str:
        if self.pending_confirm is not None:
            return "Confirm? yes/no> "
        form = self.form
        if form is not None and self.interactive:
            asking = self.asking.get(self.persona.user_id) or []
            if not asking:
                verb = "submit" if form.can_submit else "close"
                return f"{self.persona.key} · {form.title} › Enter to {verb}, :cancel to close> "
            current = asking[0]
            hint = current.prompt_hint()
            mark = "" if current.optional else "*"
            keep = f" [{current.shown}]" if current.shown else ""
            return f"{self.persona.key} · {form.title} › {current.label}{mark}{f' ({hint})' if hint else ''}{keep}: "
        return f"{self.persona.label}> "

    # ----- one typed line --------------------------------------------------------------------------
    def handle(self, line: str) -> Step:
        errors_before = self._errors.count
        try:
            step = self._dispatch(line)
        except Stop:
            return Step(quit=True)
        except Exception as error:  # a fault of the terminal itself must not end the session
            log.exception("epos try could not handle a typed line")
            return Step(error=f"epos try could not do that ({type(error).__name__}: {error}); details in {self.log_path}")
        if self._errors.count > errors_before and step.error is None:
            step.error = f"epos logged an unexpected error ({self._errors.last}); details in {self.log_path}"
        if not line.strip().startswith((":expect", ":help", ":who")):
            self.last_output = step.text
        return step

    def _dispatch(self, line: str) -> Step:
        text = line.strip()
        if self.pending_confirm is not None:
            return self._confirm(text)
        if self.form is not None and self.interactive and not text.startswith(":"):
            return self._answer(line)
        if not text:
            return Step()
        if text.startswith("/"):
            return self._slash(text)
        if is_number(text):
            return self._press(text)
        if text.startswith(":"):
            name, _, rest = text[1:].partition(" ")
            handler = self._commands().get(name.casefold())
            if handler is None:
                return Step(error=f"unknown command :{name}; :help lists the commands")
            return handler(rest.strip())
        return Step(error="type a slash command (e.g. /asset demo observability), a button number, or :help")

    def _commands(self) -> dict[str, Callable[[str], Step]]:
        return {
            "help": lambda _rest: Step(lines=self._help()),
            "quit": self._quit, "exit": self._quit, "q": self._quit,
            "as": self._as, "who": lambda _rest: Step(lines=self._who()),
            "dm": self._inbox, "dms": self._inbox, "inbox": self._inbox,
            "channel": self._channel, "ch": self._channel, "channels": lambda _rest: Step(lines=self._channels()),
            "in": self._in,
            "home": self._home,
            "open": self._open,
            "press": self._press, "p": self._press,
            "select": self._select,
            "cancel": self._cancel, "close": self._cancel,
            "submit": lambda _rest: self.submit(),
            "fill": self._fill_command,
            "form": lambda _rest: self._show_form(),
            "wait": self._wait,
            "time": lambda _rest: Step(lines=[f"It is {self._when(clock.now())}."]),
            "expect": lambda rest: self._expect(rest, present=True),
            "expect-not": lambda rest: self._expect(rest, present=False),
        }

    def _quit(self, _rest: str) -> Step:
        raise Stop

    def _help(self) -> list[str]:
        featured = ", ".join(p.label for p in people.PERSONAS if p.featured)
        return HELP.splitlines() + [f"Personas: {featured}; :who lists everyone.",
                                    f"The bot's log: {self.log_path}"]

    # ----- slash commands --------------------------------------------------------------------------
    def _slash(self, text: str) -> Step:
        if self.form is not None:
            return Step(error=f"a form is open ({self.form.title}): finish it, or :cancel it first")
        match = _COMMAND.match(text)
        if not match:
            return Step(error=f"{text!r} is not a slash command; try /asset demo observability")
        command, arguments = match.group(1).casefold(), (match.group(2) or "").strip()
        self.on_home = False
        name = self._response_name()
        self.workspace.expect_response(name, ResponseTarget(self.persona.user_id, self.channel_id))
        trigger_id = self._trigger()
        fields = self.payloads.command(
            self._person(), command, arguments, channel_id=self.channel_id,
            channel_name=self._channel_name(self.channel_id), response_url=self._response_url(name),
            trigger_id=trigger_id,
        )
        response = self.wire.post_form(fields)
        if response.status == 404:
            return self._after(Step(error=f"epos has no {command} command; :help lists what it answers"))
        step = self._check_status(response, f"{command}")
        acked = response.message
        if acked is not None:
            self.workspace.add_post(
                kind=EPHEMERAL if acked.get("response_type") != "in_channel" else CHANNEL,
                channel_id=self.channel_id, ts=f"{time.time():.6f}", params=acked,
                audience=None if acked.get("response_type") == "in_channel" else frozenset({self.persona.user_id}),
            )
            # Buttons in the acknowledgement answer through the command's response_url, as in Slack.
            self.workspace.responses[name].post = self.workspace.posts[-1]
        return self._after(step, immediate=[self.workspace.posts[-1]] if acked is not None else [])

    def _check_status(self, response: WireResponse, what: str) -> Step:
        if response.status == 200:
            return Step()
        return Step(error=f"epos answered {what} with HTTP {response.status}; details in {self.log_path}")

    def _response_name(self) -> str:
        self._responses += 1
        return f"try{self._responses}"

    def _response_url(self, name: str) -> str:
        assert self.slack is not None
        return self.slack.response_url(name)

    def _trigger(self) -> str:
        trigger_id = self.payloads.trigger_id()
        self.workspace.expect_trigger(trigger_id, self.persona.user_id)
        return trigger_id

    # ----- buttons and selects ---------------------------------------------------------------------
    def _find_control(self, text: str) -> Control | Step:
        if not text:
            return Step(error="say which: :press N or :press LABEL")
        if is_number(text):
            control = self.screen.get(int(text))
            if control is None:
                shown = f"1–{len(self.screen)}" if len(self.screen) else "none are on screen"
                return Step(error=f"there is no button {text} on screen ({shown}); :open N shows a message again")
        else:
            found = self.screen.by_label(text)
            if not found:
                labels = ", ".join(f"[{c.number}] {c.label}" for c in self.screen.items) or "none"
                return Step(error=f"no button labelled {text!r} on screen; on screen: {labels}")
            control = found[0]
        # As in Slack, an open modal covers everything behind it.
        form = self.form
        if form is not None and not (isinstance(control.source, tuple) and control.source[0] == MODAL):
            return Step(error=f"a form is open ({form.title}): finish it, or :cancel it first")
        return control

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
        self.screen = Controls()
        return Step(lines=self._render_form(self.screen))

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
        screen = Controls()
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
        # Numbers refer to what was shown last; a step that showed nothing to press keeps the old ones.
        if len(screen):
            self.screen = screen
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
            EPHEMERAL: f"#{self._channel_name(post.channel_id)} · only visible to you",
            CHANNEL: f"#{self._channel_name(post.channel_id)}",
        }[post.kind]
        parent = self.workspace.parent_of(post)
        thread = f" · reply in thread of #{parent.number}" if parent else ""
        state = " · updated" if kind == UPDATED else ""
        return self.style.accent(f"#{post.number} · {where}{thread} · {self._short_when(post.at)}{state}")

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
        self.screen = Controls()
        lines = [] if len(mine) <= LISTED else [self.style.dim(f"(the last {LISTED} of {len(mine)}; :open N for others)")]
        for post in mine[-LISTED:]:
            lines.extend(self._render_post(post, self.screen))
        return Step(lines=lines)

    def _channel(self, rest: str) -> Step:
        channel_id = self.directory.channel_id(rest) if rest else self.channel_id
        if channel_id is None:
            return Step(error=f"no channel {rest!r}; :channels lists them")
        posts = [p for p in self.workspace.posts if p.channel_id == channel_id and p.kind == CHANNEL and not p.deleted]
        if not posts:
            return Step(lines=[f"#{self._channel_name(channel_id)} has no posts from epos yet."])
        self.screen = Controls()
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
        self.screen = Controls()
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
        self.screen = Controls()
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
        while moment < end:
            moment = timeline.next_tick(moment, end, step)
            clock.set_now(moment)
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

    def _arrivals(self, events: list[Any]) -> list[str]:
        """After time passed: in full what the current persona and the channels got, a line for everyone else."""
        me = self.persona.user_id
        screen = Controls()
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
        if len(screen):
            self.screen = screen
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

"""`epos try`: the real App, in-process, against the mock Slack, on a scratch database, driven by typed lines.

The App is built by the same factory as production and served over signed HTTP on loopback; what a
person types becomes the request Slack would send (slash command, `block_actions`,
`view_submission`, `app_home_opened`), and what the App sends back through the Web API is shown as
that person would see it. A controlled clock (`:wait 3d`) runs the scheduler's tick over the time
that passes.
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot import clock, dates, db
from bot.app import create_app
from bot.config import Settings, load_settings
from bot.logs import SecretScrubber
from bot.slackmock import APP_ID, TEAM_ID, MockSlack
from bot.tryout import personas as people
from bot.tryout.actions import Actions
from bot.tryout.commands import Commands
from bot.tryout.controls import Control, Controls, is_number
from bot.tryout.conversation import Conversation
from bot.tryout.feed import Feed
from bot.tryout.fields import Field
from bot.tryout.form_flow import FormFlow
from bot.tryout.forms import Form
from bot.tryout.payloads import Payloads, Person
from bot.tryout.personas import Directory, Persona
from bot.tryout.step import Step, Stop
from bot.tryout.viewer import Style, Viewer
from bot.tryout.workspace import CHANNEL, EPHEMERAL, ResponseTarget, Workspace
from bot.web import SLACK_PATH, EposWSGI
from bot.wire import LoopbackServer, SlackWire, WireResponse

log = logging.getLogger(__name__)

# A fixed weekday morning after the sample data, so every session and script tells the same story.
DEFAULT_START = datetime(2026, 11, 13, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
TEAM_TIMEZONE = "Europe/Berlin"
DEFAULT_PERSONA = "sam"
BOT_TOKEN = "xoxb-epos-try-not-a-real-token"
# Libraries whose INFO lines would drown the bot's own in epos.log.
QUIETENED_LOGGERS = ("slack_bolt", "slack_sdk", "urllib3", "apscheduler", "alembic")
_COMMAND = re.compile(r"^(/[a-z][a-z0-9_-]*)(?:\s+(.*))?$", re.IGNORECASE)

HELP = """\
Type what you would type in Slack, as the persona shown in the prompt:
  /asset demo observability      find assets          /asset add, /asset help
  /engagement new                open an engagement   /engagement ACCOUNT STAGE [note], /engagement list
  /devrel ACCOUNT                ask DevRel to join a customer meeting
Buttons are numbered: type the number (or :press N, or :press LABEL) to press one.
  :select N OPTION               choose in a select or menu of a message, e.g. :select 3 Demo
                                 tick (or untick) a checklist item: :select Deliverables Agenda
  :say TEXT                      post a message; a link to a catalogue asset in it gets epos's preview
  :shortcut N NAME               a shortcut on message #N, e.g. :shortcut 4 find assets   (:shortcut add an asset)
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


class TrySession(Actions, FormFlow, Feed, Commands, Conversation):
    """One `epos try` session: starts the App and the stand-in for Slack, and turns each typed line into
    what Slack would send. Its parts: `Actions`, `FormFlow`, `Feed`, `Commands` and `Conversation`."""

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
        # Told how far a long `:wait` has got (the terminal shows it on one line as it goes).
        self.on_progress: Callable[[str], None] | None = None
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
        return f"{local:%A %-d %B %Y, %H:%M} ({zone.key})"

    def _short_when(self, moment: datetime) -> str:
        zone = ZoneInfo(self.persona.timezone)
        return f"{dates.short_day(moment, zone)} {dates.clock(moment, zone)}"

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
            "say": self._say,
            "shortcut": self._shortcut,
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


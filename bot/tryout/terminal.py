"""The interactive loop: a prompt per persona, readline history, and the bot's answers as they arrive."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from bot.tryout.session import TrySession

HISTORY_FILE = "history"
HISTORY_LENGTH = 1000


def _readline_history(path: Path) -> Callable[[], None]:
    """Load the history file; returns what saves it again. Without readline (Windows), a no-op."""
    try:
        import readline
    except ImportError:
        return lambda: None
    try:
        readline.read_history_file(path)
    except (FileNotFoundError, OSError):
        pass
    readline.set_history_length(HISTORY_LENGTH)

    def save() -> None:
        try:
            readline.write_history_file(path)
        except OSError:
            pass

    return save


def interact(session: TrySession, *, read: Callable[[str], str] = input, write: Callable[[str], None] = print) -> int:
    save_history = _readline_history(session.output_dir / HISTORY_FILE)
    session.on_progress = write
    try:
        for line in session.open():
            write(line)
        while True:
            try:
                typed = read(session.prompt())
            except EOFError:
                write("")
                break
            except KeyboardInterrupt:
                if session.form is not None:  # Ctrl-C in a form cancels it, as Escape does in Slack
                    write("")
                    step = session.handle(":cancel")
                    for line in step.lines:
                        write(line)
                    continue
                write("  (:quit leaves)")
                continue
            try:
                step = session.handle(typed)
            except KeyboardInterrupt:
                write("  (interrupted; what was sent so far stays sent)")
                continue
            for line in step.lines:
                write(line)
            if step.error:
                write(session.style.error(f"  ! {step.error}"))
            if step.quit:
                break
    finally:
        save_history()
        session.close()
    return 0


def color_wanted(disabled: bool) -> bool:
    import os

    return not disabled and sys.stdout.isatty() and not os.environ.get("NO_COLOR")

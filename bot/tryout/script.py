"""Scripted runs: `epos try --script FILE` types a file's lines one by one and prints the transcript.

The syntax, one step per line:

    # a comment; blank lines are ignored
    /asset demo observability          a slash command, as the current persona
    :press Share in channel            any `:` command (`:as lena`, `:wait 3d`, `:expect TEXT`, ...)
    2                                  a button number on screen
    /engagement new                    ... a command that opens a form, followed by
      Account: Acme Corp               indented `LABEL: VALUE` lines filling its fields;
      Stage: Discovery                 the form is submitted after the last indented line
    :expect Acme Corp                  the last output contains this text (case and spacing aside)

`:fill LABEL = VALUE` and `:submit` do the same as indented lines, one at a time. A form answered
with field errors fails the script unless the next line is an `:expect` that the errors satisfy.
The run stops at the first step that fails: an HTTP status other than 200, an unexpected field
error, an unknown command, a button that is not on screen, a failed `:expect`, or an error the
bot logs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.tryout.session import Step, TrySession

COMMENT = "#"


@dataclass
class ScriptLine:
    number: int
    text: str
    indented: bool


@dataclass
class ScriptResult:
    steps: int
    failed_line: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.failed_line is None


def parse_script(source: str) -> list[ScriptLine]:
    lines = []
    for number, raw in enumerate(source.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith(COMMENT):
            continue
        lines.append(ScriptLine(number, stripped, indented=raw[:1] in (" ", "\t")))
    return lines


def fill_line(text: str) -> tuple[str, str] | None:
    """`LABEL: VALUE` → (label, value); the first `: ` (or a trailing `:`) separates them."""
    if ": " in text:
        label, _, value = text.partition(": ")
    elif text.endswith(":"):
        label, value = text[:-1], ""
    else:
        return None
    return label.strip(), value.strip()


def run_script(session: TrySession, source: str, emit: Callable[[str], None]) -> ScriptResult:
    """Run every line, printing the prompt and the command, then what the bot showed."""
    lines = parse_script(source)
    steps = 0
    # A modal answered with field errors: (line, message) until an `:expect` accepts it.
    pending: tuple[int, str] | None = None
    index = 0

    def show(step: Step) -> None:
        for line in step.lines:
            emit(line)

    while index < len(lines):
        line = lines[index]
        if line.indented:
            block = []
            while index < len(lines) and lines[index].indented:
                block.append(lines[index])
                index += 1
            if pending is not None:
                return _fail(emit, steps, *pending)
            if not session.form_open:
                return _fail(emit, steps, line.number, "indented field answers, but no form is open")
            for answer in block:
                parsed = fill_line(answer.text)
                if parsed is None:
                    return _fail(emit, steps, answer.number, f"write a field answer as `LABEL: VALUE`, not {answer.text!r}")
                label, value = parsed
                step = session.handle(f":fill {label} = {value}")
                steps += 1
                show(step)
                if step.error:
                    return _fail(emit, steps, answer.number, step.error)
            step = session.handle(":submit")
            steps += 1
            show(step)
            if step.error:
                return _fail(emit, steps, block[-1].number, step.error)
            if step.field_errors:
                pending = (block[-1].number, "the form came back with field errors (add an :expect line if intended)")
            continue
        index += 1
        is_expect = line.text.startswith(":expect")
        if pending is not None and not is_expect:
            return _fail(emit, steps, *pending)
        emit(f"{session.prompt()}{line.text}")
        step = session.handle(line.text)
        steps += 1
        show(step)
        if step.quit:
            break
        if step.error:
            return _fail(emit, steps, line.number, step.error)
        if is_expect:
            pending = None
        elif step.field_errors:
            pending = (line.number, "the form came back with field errors (add an :expect line if intended)")
    if pending is not None:
        return _fail(emit, steps, *pending)
    return ScriptResult(steps=steps)


def _fail(emit: Callable[[str], None], steps: int, number: int, error: str) -> ScriptResult:
    emit(f"✗ line {number}: {error}")
    return ScriptResult(steps=steps, failed_line=number, error=error)

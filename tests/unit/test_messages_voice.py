"""Every message text epos's blocks modules hold, in one place for a reviewer to read aloud, and the rules
of one voice that a test can check: counts read as words (no "(s)"), people and channels as Slack names
them (an id only inside a mention), and the words the product uses for its own things.

`EPOS_MESSAGES_DUMP=FILE pytest tests/unit/test_messages_voice.py` writes them all to FILE, module by
module, for that read."""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
from pathlib import Path

import bot.blocks

ID_PLACEHOLDER = re.compile(r"\{(\w*_id)\}")
MENTIONED = re.compile(r"<[@#!]\{(\w+)\}[^>]*>")


def messages() -> dict[str, dict[str, str]]:
    """Module → constant name → text: the module-level strings of every blocks module."""
    found: dict[str, dict[str, str]] = {}
    for info in pkgutil.iter_modules(bot.blocks.__path__):
        module = importlib.import_module(f"bot.blocks.{info.name}")
        texts: dict[str, str] = {}
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, str) and " " in value:
                texts[name] = value
            elif name.isupper() and isinstance(value, dict):
                texts.update({f"{name}[{key}]": text for key, text in value.items()
                              if isinstance(text, str) and " " in text})
        if texts:
            found[info.name] = texts
    return found


def test_every_message_can_be_read_in_one_file(tmp_path: Path) -> None:
    target = Path(os.environ.get("EPOS_MESSAGES_DUMP") or tmp_path / "messages.txt")
    lines = []
    for module, texts in sorted(messages().items()):
        lines.append(f"# bot/blocks/{module}.py")
        lines.extend(f"{name}: {text}" for name, text in texts.items())
        lines.append("")
    target.write_text("\n".join(lines), encoding="utf-8")
    assert len(lines) > 150  # the modules' texts were found, not an empty dump


def test_counts_read_as_words_never_with_a_bracketed_plural() -> None:
    bracketed = [f"{module}.{name}" for module, texts in messages().items() for name, text in texts.items()
                 if "(s)" in text]
    assert bracketed == []


def test_a_person_is_named_by_a_mention_never_by_a_bare_id() -> None:
    bare = []
    for module, texts in messages().items():
        for name, text in texts.items():
            mentioned = set(MENTIONED.findall(text))
            bare.extend(f"{module}.{name}: {{{field}}}" for field in ID_PLACEHOLDER.findall(text)
                        if field not in mentioned)
    assert bare == []


def test_one_word_for_one_thing() -> None:
    """The product's words: a button is pressed (not clicked), an engagement is closed (not lost from sight
    as "deleted"), a DevRel person (not "devrel guy" or "DR")."""
    off = {r"(?<![-\w])[Cc]lick(s|ed)? ": "press"}
    found = [f"{module}.{name}: {word!r} → {better}" for module, texts in messages().items()
             for name, text in texts.items() for word, better in off.items() if re.search(word, text)]
    assert found == []


def test_epos_speaks_of_itself_by_name_never_as_i() -> None:
    """One voice: "epos found no engagement named …", never "I found …" beside "epos asks …"."""
    first_person = re.compile(r"(^|[\s\"(])(I|I'm|I've|I'll|I'd|me|my)\b(?!/)")
    found = [f"{module}.{name}: {text[:60]!r}" for module, texts in messages().items()
             for name, text in texts.items() if first_person.search(text)]
    assert found == []

"""Processes a test started, as Linux's /proc shows them."""

from __future__ import annotations

from pathlib import Path


def _stat(pid: int) -> list[str] | None:
    try:
        # The command name (in parentheses) may hold spaces; the fields after it do not.
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None and int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def running(pid: int) -> bool:
    """Whether `pid` still runs: a zombie (ended, not yet reaped by whoever adopted it) does not."""
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")

"""Waiting for what handlers do after they ack, and after their Slack calls."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually(check: Callable[[], bool], *, timeout: float = 5.0) -> bool:
    """Poll until `check()` holds; False if it still does not after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True

"""Building tens of thousands of objects at once (the nudge and digest lines) without the garbage
collector's full passes taking longer than the work itself."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# The cyclic collector's full passes walk every object in the process, and it starts one each time the
# objects that survived its younger passes have grown by a quarter. Building tens of thousands of lines
# set off several, which together took longer than reading and building the lines (docs/performance.md).
_NO_FULL_COLLECTION = 1_000_000_000


@contextmanager
def building_in_bulk() -> Iterator[None]:
    """Hold off the collector's full passes while tens of thousands of lines are built; its young-object
    passes go on. The lines form no reference cycles, so nothing waits for collection but the collector's
    own bookkeeping; full passes resume afterwards."""
    young, middle, old = gc.get_threshold()
    if old >= _NO_FULL_COLLECTION:  # another thread is building in bulk and restores the threshold
        yield
        return
    gc.set_threshold(young, middle, _NO_FULL_COLLECTION)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, old)

"""Progress bars for long commands (``eval``, ``models pull``), on standard error, only for a person watching.

A bar shows only when standard error is a terminal: a command in a script, a pipe or CI (e.g.
``crowdmap eval detect --json > scores.json``) stays quiet, and standard output carries only results.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm

# How often a bar is redrawn while nothing finishes (a download in another process): the elapsed
# time keeps moving, so a slow step never looks like a hang.
REFRESH_S = 1.0


def progress_bar(*, total: int | None, description: str, unit: str) -> tqdm:
    """A bar over ``total`` steps (None: a counter), shown only when standard error is a terminal."""
    return tqdm(total=total, desc=description, unit=unit, file=sys.stderr, disable=not sys.stderr.isatty())


@contextmanager
def ticking(bar: tqdm, interval_s: float = REFRESH_S) -> Iterator[tqdm]:
    """Redraw ``bar`` every ``interval_s`` while the block runs, then close it."""
    stop = threading.Event()

    def refresh() -> None:
        while not stop.wait(interval_s):
            bar.refresh()

    thread = threading.Thread(target=refresh, name="progress", daemon=True)
    if not bar.disable:
        thread.start()
    try:
        yield bar
    finally:
        stop.set()
        if thread.is_alive():
            thread.join()
        bar.close()

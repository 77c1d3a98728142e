"""One progress-bar style for the whole project."""

from __future__ import annotations

import sys

from tqdm import tqdm


def progress(iterable=None, **kwargs) -> tqdm:
    """A tqdm bar that redraws smoothly on a terminal and sparingly into a log file.

    Redirected output (CI, nohup, a scheduler's log) gets a line every 30 seconds instead
    of a carriage-return update several times per second. ``iterable`` and ``kwargs`` are
    tqdm's; the intervals and ``dynamic_ncols`` given here are defaults a caller may override.
    """
    if not sys.stderr.isatty():
        kwargs.setdefault("mininterval", 30.0)
        kwargs.setdefault("maxinterval", 60.0)
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, **kwargs)

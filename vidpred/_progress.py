"""One progress-bar style for the whole project."""

from __future__ import annotations

import sys

from tqdm import tqdm


class _Lines:
    """A log file's view of a bar: each redraw (``"\\r" + bar``) as a line of its own, so that
    log records written between two redraws start on a line of their own too."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self.encoding = getattr(stream, "encoding", None)  # tqdm draws Unicode blocks where it may

    def write(self, text: str) -> None:
        text = text.replace("\r", "").rstrip()
        if text:
            self._stream.write(text + "\n")

    def flush(self) -> None:
        self._stream.flush()


def progress(iterable=None, **kwargs) -> tqdm:
    """A tqdm bar that redraws smoothly on a terminal and sparingly into a log file.

    Redirected output (CI, nohup, a scheduler's log) gets a line every 30 seconds instead
    of a carriage-return update several times per second. ``iterable`` and ``kwargs`` are
    tqdm's; the intervals and ``dynamic_ncols`` given here are defaults a caller may override.
    """
    if not sys.stderr.isatty():
        kwargs.setdefault("mininterval", 30.0)
        kwargs.setdefault("maxinterval", 60.0)
        kwargs.setdefault("file", _Lines(sys.stderr))
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, **kwargs)

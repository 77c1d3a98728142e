"""The scripts' one error path: an expected failure is one line and exit code 2.

    @script
    def main(argv: list[str] | None = None) -> int:
        ...

Expected failures are what a user can fix: a config or data error, a missing or
unreadable file, a refused output, a folder that cannot be written, a bad flag value
(``ValueError``, ``OSError`` or ``vidpred.errors.ExpectedFailure``). They are logged as one ``ERROR`` line and ``main``
returns 2. Ctrl-C before a script handles it is one line and 130. Anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable

import cv2
import torch

from vidpred.errors import ExpectedFailure

__all__ = ["script", "one_line", "positive", "finite", "set_threads"]

EXIT_EXPECTED = 2

log = logging.getLogger("vidpred")


def one_line(exc: BaseException) -> str:
    """``exc``'s message on one line (a ``KeyError``'s without its quotes)."""
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    message = " ".join(str(text).split())
    return message or type(exc).__name__


def script(main: Callable[[list[str] | None], int]) -> Callable[[list[str] | None], int]:
    """Wrap a script's ``main(argv) -> exit code`` in the one error path."""

    @functools.wraps(main)
    def wrapped(argv: list[str] | None = None) -> int:
        try:
            return main(argv)
        except (ValueError, OSError, ExpectedFailure) as exc:
            log.error("%s", one_line(exc))
            return EXIT_EXPECTED
        except KeyboardInterrupt:
            log.error("interrupted")
            return 130

    return wrapped


def positive(name: str, value: float | int | None) -> None:
    """Raise ``ValueError`` naming the flag unless ``value`` is None or a finite number > 0."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value}")


def finite(name: str, value: float | None, low: float = -math.inf, high: float = math.inf) -> None:
    """Raise ``ValueError`` naming the flag unless ``value`` is None or finite in ``[low, high]``."""
    if value is not None and not (math.isfinite(value) and low <= value <= high):
        bounds = f" in [{low:g}, {high:g}]" if math.isfinite(low) or math.isfinite(high) else ""
        raise ValueError(f"{name} must be a finite number{bounds}, got {value}")


def set_threads(threads: int | None) -> None:
    """Use ``threads`` CPU threads in torch and OpenCV (None: leave their defaults).

    Raises:
        ValueError: ``threads < 1``, naming ``--threads``.
    """
    if threads is None:
        return
    if threads < 1:
        raise ValueError(f"--threads must be >= 1, got {threads}")
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)

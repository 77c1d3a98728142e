"""What every command (``vidpred.commands``) shares: the flags for config, threads and
device, the log format, and the one error path (an expected failure is one line, exit code 2).

    @script
    def main(argv: list[str] | None = None) -> int:
        parser = argparse.ArgumentParser(description=__doc__)
        add_config_args(parser)
        args = parser.parse_args(argv)
        setup_logging()
        cfg = load_config(args.config, args.overrides)
        ...

Expected failures are what a user can fix: a config or data error, a missing or
unreadable file, a refused output, a folder that cannot be written, a bad flag value
(``ValueError``, ``OSError`` or ``vidpred.errors.ExpectedFailure``), too little memory for
the input (``MemoryError``). They are logged as one ``ERROR`` line and ``main``
returns 2. Ctrl-C before a script handles it is one line and 130. Anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import argparse
import codecs
import functools
import logging
import math
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import cv2
import torch

from vidpred.errors import ExpectedFailure
from vidpred.safe_write import TEXT_ERRORS

__all__ = ["script", "one_line", "checkpoint_path", "positive", "finite", "set_threads", "add_config_args",
           "add_set_arg", "add_threads_arg", "add_device_arg", "add_workers_arg", "add_steady_args", "add_report_args",
           "log_format", "setup_logging", "command", "StopRequest", "STOP_SIGNALS"]

EXIT_EXPECTED = 2  # the exit code of an expected failure; argparse's own for a bad flag

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
        _printable_stdout()
        try:
            return main(argv)
        except (ValueError, OSError, ExpectedFailure) as exc:
            log.error("%s", one_line(exc))
            return EXIT_EXPECTED
        except (MemoryError, RuntimeError) as exc:
            if not _out_of_memory(exc):
                raise
            log.error("out of memory%s: give smaller or fewer frames", f" ({one_line(exc)})" if str(exc) else "")
            return EXIT_EXPECTED
        except KeyboardInterrupt:
            log.error("interrupted")
            return 130

    return wrapped


# The signals that stop a run cleanly (a training run with a checkpoint after the step):
# Ctrl-C, SIGTERM, and on Windows Ctrl-Break and closing the console (SIGBREAK), where
# SIGTERM from another process never reaches a handler.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGBREAK") if hasattr(signal, name))


class StopRequest:
    """While installed, the first Ctrl-C (SIGINT, SIGTERM, SIGBREAK) asks the work to stop
    at its next safe point, said in a warning (``signal`` then holds it); a second stops
    at once (``KeyboardInterrupt``), except a second SIGTERM after a SIGTERM in one of
    torchrun's processes, which a stopped job's scheduler and torchrun both send. Used as a
    context manager, or by :meth:`install` and
    :meth:`restore`; the handlers before come back after.

    Args:
        then: what happens on the first, for the warning ("writing the frames predicted so far").
        at_once: what the warning says a second does.
    """

    def __init__(self, then: str, at_once: str = "again to stop at once") -> None:
        self.then, self.at_once = then, at_once
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}
        self._children: set[subprocess.Popen] = set()

    def install(self) -> None:
        """Handle the stop signals here, keeping the handlers they had."""
        self._previous = {s: signal.signal(s, self.request) for s in STOP_SIGNALS}

    def restore(self) -> None:
        """Give the stop signals back the handlers they had before :meth:`install`."""
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous = {}

    def __enter__(self) -> StopRequest:
        self.install()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.restore()

    def request(self, signum: int, frame: object = None) -> None:
        """The handler: the first call asks, the second raises ``KeyboardInterrupt``; each is
        passed on to the commands under way in :meth:`run`."""
        for child in list(self._children):
            child.send_signal(signum)  # nothing once it has ended
        if self.signal is not None:
            if signum == self.signal == signal.SIGTERM and os.environ.get("WORLD_SIZE", "1").strip() not in ("", "1"):
                # A torchrun worker: a scheduler that stops the whole job (Slurm, systemd) sends SIGTERM
                # to it and to torchrun, which passes its own on; one stop, not a second.
                return
            raise KeyboardInterrupt
        self.signal = signum
        log.warning("received %s: %s (%s)", signal.Signals(signum).name, self.then, self.at_once)

    def run(self, cmd: list[str], **popen_kwargs: Any) -> int:
        """Run the command ``cmd`` (``subprocess.Popen``'s keywords) to its end and return its
        exit code, passing it each stop signal this request receives, so that it stops as
        its own Ctrl-C says (a training saves its checkpoint at the first).

        On POSIX the command runs in a session of its own and gets each signal once, through
        here, whether it was a Ctrl-C at the terminal or a ``kill`` of this process alone
        (which would not reach it otherwise). Elsewhere the console delivers Ctrl-C to both
        and nothing is passed on. A command started after the first signal gets it at once.
        """
        own_session = os.name == "posix"
        child = subprocess.Popen(cmd, start_new_session=own_session, **popen_kwargs)
        if own_session:
            self._children.add(child)
            if self.signal is not None:
                child.send_signal(self.signal)
        try:
            return child.wait()
        finally:
            self._children.discard(child)


def _out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` says memory ran out: Python's ``MemoryError``, or PyTorch's (CUDA's
    ``torch.cuda.OutOfMemoryError``, named so in every torch vidpred takes; the CPU allocator's
    ``RuntimeError``, which says "can't allocate memory" on Linux and "not enough memory" on Windows)."""
    if isinstance(exc, (MemoryError, torch.cuda.OutOfMemoryError)):
        return True
    text = str(exc)
    return (isinstance(exc, RuntimeError) and "DefaultCPUAllocator" in text
            and ("can't allocate memory" in text or "not enough memory" in text))


def _printable_stdout() -> None:
    """Print tables to stdout as the report files are written: UTF-8 when redirected, and a
    file name's bytes that are not UTF-8 as their escapes (:data:`~vidpred.safe_write.TEXT_ERRORS`).

    The printed tables hold characters ("\u2212", "\u2014") that Windows' ANSI code page,
    Python's encoding there for a stdout sent to a file or pipe, cannot encode: the print
    at the end of a long evaluation would fail. A console keeps its encoding (Windows' is
    UTF-8); a name read from disk may hold a byte no encoding takes, which fails any print.
    """
    stream = sys.stdout
    if not hasattr(stream, "reconfigure"):
        return
    encoding = getattr(stream, "encoding", None)
    try:
        if encoding and codecs.lookup(encoding).name != "utf-8" and not stream.isatty():
            stream.reconfigure(encoding="utf-8")
        stream.reconfigure(errors=TEXT_ERRORS)
    except (OSError, ValueError, LookupError):  # closed, or not reconfigurable: leave it
        pass


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


def add_set_arg(parser: argparse.ArgumentParser, help: str | None = None, metavar: str = "KEY=VALUE") -> None:
    """``--set KEY=VALUE [KEY=VALUE ...]`` (repeatable) into ``args.overrides``: config values,
    parsed as YAML. Several after one ``--set`` read as they do after one ``--set`` each, the
    way most training tools take overrides."""
    parser.add_argument("--set", dest="overrides", action="extend", nargs="+", default=[], metavar=metavar,
                        help=help or "override config values, e.g. --set train.steps=500 train.batch_size=4 "
                                     "(repeatable; values are YAML)")


def checkpoint_path(text: str, flag: str = "--checkpoint") -> str:
    """A checkpoint flag's value, ``~`` expanded; empty is refused (an unset ``"$CKPT"``
    would otherwise name the current folder, or stand for the default model)."""
    if not text.strip():
        raise ValueError(f"{flag}: the checkpoint path is empty")
    return os.path.expanduser(text)


def user_path(text: str) -> str:
    """A path flag's value with ``~`` expanded: the shell leaves ``--out=~/x`` as it is, and
    ``~`` is then the home folder in every path flag and config key, not a folder named ``~``."""
    return os.path.expanduser(text)


def add_config_args(parser: argparse.ArgumentParser, default: str | None = None, help: str | None = None,
                    set_help: str | None = None) -> None:
    """``--config FILE`` (required unless ``default`` is given) and ``--set KEY=VALUE``."""
    parser.add_argument("--config", required=default is None, default=default, type=user_path,
                        help=help or "YAML config file (see configs/)")
    add_set_arg(parser, help=set_help)


def add_threads_arg(parser: argparse.ArgumentParser, default: int | None = None, help: str | None = None) -> None:
    """``--threads N``: CPU threads (for torch and OpenCV, see ``set_threads``)."""
    parser.add_argument("--threads", type=int, default=default,
                        help=help or "CPU threads for torch and OpenCV (default: torch's choice)")


def add_device_arg(parser: argparse.ArgumentParser) -> None:
    """``--device``: ``auto | cpu | cuda | cuda:N``, for ``vidpred.build.select_device``."""
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N (default auto)")


def add_workers_arg(parser: argparse.ArgumentParser) -> None:
    """``--workers N``: clips scored at once, each in its own thread (check it with ``positive``)."""
    parser.add_argument("--workers", type=int, default=1,
                        help="clips scored at once, each in its own thread (default 1; the number of cores is "
                             "fastest on a CPU; the results do not depend on it)")


def add_steady_args(parser: argparse.ArgumentParser) -> None:
    """``--steady-pan``, ``--steady-zoom`` and ``--steady-roll``
    (:func:`vidpred.evaluation.steady_camera.steady_camera`)."""
    parser.add_argument("--steady-pan", type=float, default=0.0, metavar="MAX_PX",
                        help="score, instead of each clip, a still of its first frame panned steadily at a speed "
                             "drawn from [1, MAX_PX] px per frame (default 0: the clips as they are)")
    parser.add_argument("--steady-zoom", type=float, default=0.0, metavar="MAX_PCT",
                        help="score, instead of each clip, a still of its first frame zoomed steadily in or out by "
                             "a rate drawn from [0.5, MAX_PCT] percent per frame, MAX_PCT at most 4 (default 0)")
    parser.add_argument("--steady-roll", type=float, default=0.0, metavar="MAX_DEG",
                        help="score, instead of each clip, a still of its first frame turned steadily by a rate "
                             "drawn from [0.25, MAX_DEG] degrees per frame, MAX_DEG at most 1 (default 0)")


def add_report_args(parser: argparse.ArgumentParser, out_help: str, force_help: str) -> None:
    """``--out`` (where the report goes), ``--force`` (replace files there that no vidpred
    report wrote) and ``--quiet`` (no progress bars), for the commands that write a report."""
    parser.add_argument("--out", default=None, type=user_path, help=out_help)
    parser.add_argument("--force", action="store_true", help=force_help)
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def log_format(rank: int | None = None) -> str:
    """The one log line format; under torchrun (``rank`` given) each line names its rank."""
    where = f" [rank {rank}]" if rank is not None else ""
    return f"%(asctime)s{where} %(levelname)s %(name)s: %(message)s"


def setup_logging(level: int = logging.INFO, rank: int | None = None) -> None:
    """Log ``level`` and above to stderr in ``log_format(rank)`` (stdout is kept for results)."""
    logging.basicConfig(level=level, format=log_format(rank), stream=sys.stderr)


def command(name: str) -> list[str]:
    """The argv that starts the command ``vidpred.commands.<name>`` in a new process, from any folder."""
    return [sys.executable, "-m", f"vidpred.commands.{name}"]

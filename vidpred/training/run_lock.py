"""One writer per run directory: an exclusive lock held while a run trains.

Two runs writing into one folder would interleave ``metrics.jsonl``, leave two event files
and let the worse run's ``best.pt`` win, and both would exit 0. The lock is an
``fcntl.flock`` on ``<run_dir>/.lock``, which the kernel releases when its process dies, so
a lock left by a killed run is never stale; the file holds the owner's pid for the message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from vidpred.errors import ExpectedFailure

__all__ = ["RunLock", "RunLocked"]


class RunLocked(ExpectedFailure, RuntimeError):
    """Another process is training into this run directory."""


class RunLock:
    """``with RunLock(run_dir):`` or ``acquire()`` / ``release()``."""

    def __init__(self, run_dir: str | Path) -> None:
        self.path = Path(run_dir) / ".lock"
        self._fd: int | None = None

    def acquire(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise self._locked(owner) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def check_free(self) -> None:
        """Raise :class:`RunLocked` if another process holds the lock now; take nothing.

        Asked before anything else is said about the folder (that it holds a run to resume,
        say): while another process trains there, that is what the user needs to hear.
        """
        if self._fd is not None or not self.path.is_file():
            return
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # a shared lock conflicts only with a writer's
        except BlockingIOError:
            raise self._locked(os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown") from None
        finally:
            os.close(fd)  # closing releases a shared lock taken here

    def _locked(self, owner: str) -> RunLocked:
        return RunLocked(f"{self.path.parent} is in use by another run (pid {owner}); wait for it to finish "
                         "or choose another run.name / --run-dir")

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

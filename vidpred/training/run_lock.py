"""One writer per run directory: an exclusive lock held while a run trains.

Two runs writing into one folder would interleave ``metrics.jsonl``, leave two event files
and let the worse run's ``best.pt`` win, and both would exit 0. The lock is an
``fcntl.flock`` on ``<run_dir>/.lock`` (on Windows, ``msvcrt.locking`` of one byte of it),
which the system releases when its process dies, so a lock left by a killed run is never
stale; the file holds the owner's pid for the message.
"""

from __future__ import annotations

import os
from pathlib import Path

from vidpred.errors import ExpectedFailure

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt

__all__ = ["RunLock", "RunLocked"]

# Windows locks are mandatory: no other process may read a locked byte. The locked byte
# lies past the pid text, so that a refused run can still read whom the folder belongs to.
_WINDOWS_LOCK_OFFSET = 64
_PID_BYTES = 32


def _lock(fd: int, shared: bool) -> None:
    """Take the lock without waiting; BlockingIOError when another process holds it.
    Windows has no shared lock: there ``shared`` takes the exclusive one."""
    if fcntl is not None:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        return
    os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError as exc:
        raise BlockingIOError(exc.errno, exc.strerror) from None


def _unlock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return
    os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
    msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def _owner(fd: int) -> str:
    # os.pread does not exist on Windows
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, _PID_BYTES).decode(errors="replace").strip() or "unknown"


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
            _lock(fd, shared=False)
        except BlockingIOError:
            owner = _owner(fd)
            os.close(fd)
            raise self._locked(owner) from None
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
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
            _lock(fd, shared=True)  # a shared lock conflicts only with a writer's
        except BlockingIOError:
            raise self._locked(_owner(fd)) from None
        else:
            _unlock(fd)
        finally:
            os.close(fd)

    def _locked(self, owner: str) -> RunLocked:
        return RunLocked(f"{self.path.parent} is in use by another run (pid {owner}); wait for it to finish "
                         "or choose another run.name / --run-dir")

    def release(self) -> None:
        if self._fd is not None:
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

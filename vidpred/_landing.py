"""Renaming finished files into place: one at a time, and a set of them together.

:func:`replace_file` is ``os.replace`` that waits out Windows' brief refusals.
:func:`landing_together` surrounds the renames of a set of files (a report's), each already
complete beside its target:

* an interrupt (Ctrl-C, SIGTERM, SIGHUP, Ctrl-Break) that arrives among them is held until
  the last one is done, then delivered to the handler it had;
* another process landing a set in the same folders waits for this one (``flock`` on the
  folders where the system has it, a lock file elsewhere);
* a journal of the renames is flushed to disk in every folder of the set before the first
  one and removed after the last, so that the rest of a set whose process was killed among
  them (SIGKILL, a power cut) is landed by the next command that writes there
  (:func:`finish_interrupted_sets`), before its own set and never over it.

:mod:`vidpred.safe_write` is what the rest of vidpred calls.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

# Windows refuses to replace a file that another process holds open for a moment (a reader
# of the checkpoint, an antivirus scan, a search indexer); elsewhere a refusal is final.
_RETRY_REPLACE = os.name == "nt"
_REPLACE_WAITS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)  # seconds: about 3 in all


def landing_path(path: str | Path) -> Path:
    """Where a file written at ``path`` lands once its folders are made, links resolved:
    ``new/../clip.mp4`` is ``clip.mp4``, though ``new`` does not exist yet."""
    path = Path(path)
    return Path(os.path.realpath(path.parent)) / path.name


def process_exists(pid: int) -> bool:
    """Whether a process of id ``pid`` exists on this machine (POSIX: ``kill`` with signal 0,
    which sends nothing); what tells a leftover of a killed process from a live one's."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def replace_file(source: str | Path, target: str | Path) -> None:
    """``os.replace(source, target)``, retried for a few seconds on Windows while another
    process holds ``target`` open."""
    for wait in _REPLACE_WAITS if _RETRY_REPLACE else ():
        try:
            os.replace(source, target)
            return
        except PermissionError:
            time.sleep(wait)
    os.replace(source, target)


@contextlib.contextmanager
def landing_together(renames: Sequence[tuple[Path, Path]]) -> Iterator[None]:
    """Around the block that renames each complete temporary file of ``renames``
    (temporary, target) over its target: interrupts held, the folders locked, a set an
    earlier process left part-renamed there landed first, the temporaries flushed to disk
    and the set's journal written; after it, the folders flushed and the journal removed
    (also when a rename fails: that error is reported, and the set's other temporaries go
    with it)."""
    folders = sorted({os.path.realpath(Path(target).parent) for _, target in renames})
    with _interrupts_held(), _folders_locked(folders) as locked:
        try:
            _finish_journals(folders, locked)  # a set killed part way lands before this one, never over it
        except OSError as exc:  # this set lands all the same: its files are never lost to an earlier one's
            logging.getLogger("vidpred").warning("could not finish the files an earlier command left part-renamed "
                                                 "in %s: %s", ", ".join(folders), exc)
        for tmp, _ in renames:
            sync_file(tmp)
        journals = _write_journal(folders, renames)
        try:
            yield
        finally:
            for folder in folders:
                sync_folder(Path(folder))
            for journal in journals:
                journal.unlink(missing_ok=True)


# The journal of a set of files being renamed into place: written, and flushed to disk, in
# every folder of the set once the set's files are complete on disk and before the first
# rename; removed after the last. One left behind is a set whose process was killed part way.
_JOURNAL_PREFIX = ".vidpred-landing."

# Where a folder's lock cannot be had (held past the wait), how old a journal must be before
# its set is taken for abandoned and finished by another command whose writer cannot be
# looked up: a set's renames take milliseconds (seconds on Windows, while a reader holds a
# file open).
JOURNAL_ABANDONED_AFTER_S = 60.0


def _write_journal(folders: Sequence[str], renames: Sequence[tuple[Path, Path]]) -> list[Path]:
    """Write the journal of ``renames`` (temporary, target) into each of ``folders`` (real
    paths, links resolved) and flush it and the folders to disk; returns the journal's
    copies. Each copy gives the paths from its own folder, so a set whose folders were moved
    together after a kill still lands from it."""
    name = f"{_JOURNAL_PREFIX}{os.getpid()}.{secrets.token_hex(4)}.json"
    copies = [Path(folder) / name for folder in folders]
    real = [(landing_path(tmp), landing_path(target)) for tmp, target in renames]
    for copy in copies:
        here = str(copy.parent)  # a name's lone surrogates are written as "\udce9" and read back as they were
        record = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                             "renames": [[os.path.relpath(tmp, here), os.path.relpath(target, here)]
                                         for tmp, target in real],
                             "journals": [os.path.relpath(other, here) for other in copies]})
        with open(copy, "x", encoding="utf-8") as f:
            f.write(record)
            f.flush()
            os.fsync(f.fileno())
        sync_folder(copy.parent)
    return copies


def finish_interrupted_sets(folder: str | Path) -> list[Path]:
    """Land the rest of every set of files (:func:`vidpred.safe_write.replacing_all`) whose
    process was killed among its renames into ``folder``, from the journal it left there; a
    set still landing in another process is left to it.

    Returns:
        The targets renamed into place.
    """
    folder = os.path.realpath(folder)
    if not os.path.isdir(folder):
        return []
    with _folders_locked([folder]) as locked:
        return _finish_journals([folder], locked)


def _finish_journals(folders: Iterable[str], locked: bool) -> list[Path]:
    """:func:`finish_interrupted_sets` for ``folders``, whose locks this process holds when
    ``locked`` (so no other process is landing a set there)."""
    landed = []
    for folder in folders:
        for journal in sorted(Path(folder).glob(f"{_JOURNAL_PREFIX}*.json")):
            landed += _finish_journal(journal, locked)
    return landed


def _finish_journal(journal: Path, locked: bool) -> list[Path]:
    """Rename the temporaries ``journal`` lists that are still there over their targets (not
    over a target written since the journal: that one is newer) and remove the journal's
    copies; nothing while its writer may still be landing the set."""
    try:
        text = journal.read_text(encoding="utf-8")
        written = journal.stat().st_mtime
    except FileNotFoundError:  # finished meanwhile, from another of its copies
        return []
    age = time.time() - written
    try:
        record = json.loads(text)
        renames, copies = record["renames"], record["journals"]
    except (ValueError, KeyError, TypeError):  # cut off by a power cut: flushed before any rename, so none began
        journal.unlink(missing_ok=True)
        return []
    if not locked and _writer_may_be_landing(record, age):
        return []
    here = journal.parent
    landed = []
    for tmp, target in renames:
        if not (here / tmp).exists():  # renamed before the kill
            continue
        try:
            newer = (here / target).stat().st_mtime > written
        except FileNotFoundError:
            newer = False
        if newer:
            (here / tmp).unlink()
            continue
        replace_file(here / tmp, here / target)
        landed.append(Path(os.path.normpath(here / target)))
    for folder in {(here / target).parent for _, target in renames}:
        sync_folder(folder)
    for copy in copies:
        (here / copy).unlink(missing_ok=True)
    return landed


def _writer_may_be_landing(record: dict, age: float) -> bool:
    """Whether the process that wrote a journal ``age`` seconds old may still be renaming its
    set, judged without the folder's lock: while it runs on this machine, or elsewhere or
    on Windows (where no process can be looked up here) for :data:`JOURNAL_ABANDONED_AFTER_S`."""
    if record.get("host") == socket.gethostname() and os.name != "nt" and isinstance(record.get("pid"), int):
        return process_exists(record["pid"])
    return age < JOURNAL_ABANDONED_AFTER_S


# How long a set's renames wait for another process's in the same folders before going
# ahead anyway: those take milliseconds, so only a stopped or hung process holds them longer.
_LOCK_WAIT_S = 10.0

# Where ``flock`` is missing (Windows) or refused (some network disks), a folder is held by
# a file created there only if absent and removed after the renames; one that has lain this
# long was left by a killed writer (the renames it guards take milliseconds) and is broken.
_LOCK_FILE = ".vidpred-landing.lock"
_LOCK_FILE_LEFT_AFTER_S = 10.0


@contextlib.contextmanager
def _folders_locked(folders: Iterable[str | Path]) -> Iterator[bool]:
    """Hold each of ``folders`` exclusively, taken in one order (so two writers never each
    wait for the other), waiting :data:`_LOCK_WAIT_S` seconds at most a folder; yields
    whether every one was held. Held by an ``flock`` on the folder where the system and
    the file system have it (it goes with the process, so a killed writer leaves none), by
    the lock file :data:`_LOCK_FILE` elsewhere."""
    with contextlib.ExitStack() as stack:
        held = [_hold(folder, stack) for folder in sorted({os.path.realpath(folder) for folder in folders})]
        yield all(held)


def _hold(folder: str, stack: contextlib.ExitStack) -> bool:
    """Take ``folder``'s lock until ``stack`` closes; False when it could not be had in time."""
    deadline = time.monotonic() + _LOCK_WAIT_S
    fd = None
    if fcntl is not None:
        with contextlib.suppress(OSError):
            fd = os.open(folder, os.O_RDONLY)
    if fd is not None:
        stack.callback(os.close, fd)  # closing releases the lock
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.01)
            except OSError:  # no flock on this file system: the lock file
                break
    lock = Path(folder) / _LOCK_FILE
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            if _break_if_left(lock):
                continue
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
            continue
        except OSError:  # no file can be made here
            return False
        try:
            mine = os.fstat(fd)
        finally:
            os.close(fd)
        stack.callback(_release_lock_file, lock, mine)
        return True


def _same_lock_file(a: os.stat_result, b: os.stat_result) -> bool:
    """Whether two looks at a lock file saw one file (the time with it: a file system
    without inode numbers gives every file the same one)."""
    return (a.st_dev, a.st_ino, a.st_mtime_ns) == (b.st_dev, b.st_ino, b.st_mtime_ns)


def _break_if_left(lock: Path) -> bool:
    """Remove the lock file ``lock`` if a killed writer left it (it has lain longer than
    :data:`_LOCK_FILE_LEFT_AFTER_S`); whether to try for the folder again at once. One
    writer at a time breaks a folder's lock file, holding a second file made only if
    absent, and removes the one it found left, never a lock file another writer took since."""
    try:
        seen = os.stat(lock)
    except OSError:  # removed meanwhile
        return True
    if not _left(seen):
        return False
    breaking = lock.with_name(lock.name + ".breaking")
    try:
        os.close(os.open(breaking, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:  # another writer is breaking it (or was killed doing so, and left this)
        with contextlib.suppress(OSError):
            left = os.stat(breaking)
            if _left(left):
                _remove_if_still(breaking, left)
        return False
    except OSError:
        return False
    try:
        _remove_if_still(lock, seen)
    finally:
        breaking.unlink(missing_ok=True)
    return True


def _remove_if_still(path: Path, seen: os.stat_result) -> bool:
    """Remove ``path`` if it is still the file ``seen`` (:func:`_same_lock_file`); whether it
    was removed. The file is first moved aside under a name of this call's own, which only one
    writer can do to a given file, and looked at there: a file another writer made at
    ``path`` since ``seen`` is put back and never removed, however the writers' steps
    interleave."""
    aside = path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}")
    try:
        os.rename(path, aside)
    except OSError:  # gone, or moved aside by another writer first
        return False
    try:
        if _same_lock_file(os.stat(aside), seen):
            return True
        _put_back(aside, path)  # another writer's
        return False
    except OSError:  # the file moved aside cannot be looked at: left where it was found
        _put_back(aside, path)
        return False
    finally:
        with contextlib.suppress(OSError):
            aside.unlink()


def _put_back(aside: Path, path: Path) -> None:
    """Move a lock file moved ``aside`` back to ``path``, unless a writer made one there
    meanwhile (that one is kept). A hard link refuses an existing ``path`` in one step; where
    the file system has none (FAT, exFAT, some network shares), a rename does so on Windows
    (the only systems that lock by file) and after a look elsewhere."""
    try:
        os.link(aside, path)
    except FileExistsError:
        pass
    except OSError:  # no hard links here
        with contextlib.suppress(OSError):
            if not os.path.lexists(path):
                os.rename(aside, path)


def _left(stat: os.stat_result) -> bool:
    """Whether a lock file has lain long enough to have been left by a killed writer."""
    return time.time() - stat.st_mtime > _LOCK_FILE_LEFT_AFTER_S


def _release_lock_file(lock: Path, mine: os.stat_result) -> None:
    """Remove the lock file this process made, and not another writer's in its place."""
    _remove_if_still(lock, mine)


# The signals that stop a process and that it may catch (SIGBREAK: Windows' Ctrl-Break and a closed console):
# held while a set of files lands.
_INTERRUPTS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK")
                    if hasattr(signal, name))


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold :data:`_INTERRUPTS` that arrive during the block and deliver each, once, to the
    handler it had before (Python's KeyboardInterrupt, a trainer's stop, the default end)
    when the block is over. Outside the main thread, where Python takes no handler, the
    block runs as it is, and so does a signal whose handler Python did not install (it could
    not be put back)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    before = {}
    try:
        for signum in _INTERRUPTS:
            if signal.getsignal(signum) is not None:
                before[signum] = signal.signal(signum, lambda signum, frame: arrived.append(signum))
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(arrived):
            signal.raise_signal(signum)


def sync_file(path: Path) -> None:
    """Flush ``path``'s content to disk."""
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def sync_folder(folder: Path) -> None:
    """Flush ``folder``'s entries to disk (a rename into it is durable after), where the
    platform allows it; nothing otherwise."""
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass

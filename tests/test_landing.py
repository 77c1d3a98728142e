"""vidpred/_landing.py: files renamed into place, a set of them together even when interrupted or killed
part way, and a target Windows holds open for a moment."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from vidpred import _landing, safe_write
from vidpred.safe_write import check_output, replacing_all, write_text


def _interrupting_first_rename(monkeypatch, signum: int) -> None:
    """Make the first rename of a set send ``signum`` to this process just after it lands."""
    real, sent = safe_write.replace_file, []

    def replace_then_interrupt(source, target):
        real(source, target)
        if not sent:
            sent.append(signum)
            signal.raise_signal(signum)

    monkeypatch.setattr(safe_write, "replace_file", replace_then_interrupt)


def test_ctrl_c_among_a_sets_renames_is_delivered_once_every_file_has_landed(tmp_path, monkeypatch):
    paths = [tmp_path / "clip.mp4", tmp_path / "scores.csv", tmp_path / "plot.png"]
    for path in paths:
        path.write_text("old")
    _interrupting_first_rename(monkeypatch, signal.SIGINT)
    # Python's own Ctrl-C handler, which a shell's background job (SIGINT ignored) would not have
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            with replacing_all(paths) as temporary:
                for path in temporary:
                    path.write_text("new")
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    finally:
        signal.signal(signal.SIGINT, before)
    assert [p.read_text() for p in paths] == ["new"] * 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "plot.png", "scores.csv"]


@pytest.mark.slow  # a subprocess
@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_sigterm_among_a_sets_renames_ends_the_process_once_every_file_has_landed(tmp_path):
    script = f"""
import signal
from pathlib import Path
from vidpred import safe_write
signal.signal(signal.SIGTERM, signal.SIG_DFL)  # as a process starts unless its parent ignores SIGTERM
real, sent = safe_write.replace_file, []
def replace_then_interrupt(source, target):
    real(source, target)
    if not sent:
        sent.append(1)
        signal.raise_signal(signal.SIGTERM)
safe_write.replace_file = replace_then_interrupt
paths = [Path({str(tmp_path)!r}) / name for name in ("a.md", "b.json", "c.csv")]
with safe_write.replacing_all(paths) as temporary:
    for path in temporary:
        path.write_text("new")
print("not reached")
"""
    for name in ("a.md", "b.json", "c.csv"):
        (tmp_path / name).write_text("old")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(safe_write.__file__).parents[1])})
    assert done.returncode == -signal.SIGTERM, done.stderr
    assert "not reached" not in done.stdout
    assert [(tmp_path / name).read_text() for name in ("a.md", "b.json", "c.csv")] == ["new"] * 3


def _killed_among_renames(tmp_path: Path, names: tuple[str, ...], folders: tuple[str, ...] = ("",)) -> None:
    """Write ``names`` "old", then land a set of them "new" in a subprocess that SIGKILLs
    itself just after the first rename; asserts the set is left mixed."""
    targets = [tmp_path / folder / name for folder in folders for name in names]
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("old")
    script = f"""
import os, signal
from pathlib import Path
from vidpred import safe_write
real = safe_write.replace_file
def replace_then_die(source, target):
    real(source, target)
    os.kill(os.getpid(), signal.SIGKILL)
safe_write.replace_file = replace_then_die
with safe_write.replacing_all([Path(p) for p in {[str(t) for t in targets]!r}]) as temporary:
    for path in temporary:
        path.write_text("new")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(safe_write.__file__).parents[1])})
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert sorted(t.read_text() for t in targets) == ["new"] + ["old"] * (len(targets) - 1)  # mixed


@pytest.mark.slow  # a subprocess
@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_a_set_killed_among_its_renames_is_finished_by_the_next_check_of_its_folder(tmp_path):
    names = ("a.md", "b.json", "c.csv")
    _killed_among_renames(tmp_path, names, folders=("report", "figures"))
    check_output(tmp_path / "figures" / "c.csv", ours=lambda path: True)  # one folder of the set: all of it lands
    assert [(tmp_path / f / n).read_text() for f in ("report", "figures") for n in names] == ["new"] * 6
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == sorted(names)  # no journal, no temporary
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == sorted(names)


@pytest.mark.slow  # a subprocess
@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_a_set_killed_among_its_renames_lands_from_its_folders_moved_together(tmp_path):
    names = ("a.md", "b.json")
    _killed_among_renames(tmp_path / "before", names, folders=("report", "figures"))
    os.rename(tmp_path / "before", tmp_path / "after")
    check_output(tmp_path / "after" / "report" / "a.md", ours=lambda path: True)
    assert [(tmp_path / "after" / f / n).read_text() for f in ("report", "figures") for n in names] == ["new"] * 4
    assert sorted(p.name for p in (tmp_path / "after" / "figures").iterdir()) == sorted(names)


@pytest.mark.slow  # a subprocess
@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_a_set_killed_among_its_renames_lands_before_the_next_set_never_over_it(tmp_path):
    names = ("report.md", "per_clip.json")
    _killed_among_renames(tmp_path, names)
    with replacing_all([tmp_path / name for name in names]) as temporary:
        for path in temporary:
            path.write_text("next")
    assert [(tmp_path / name).read_text() for name in names] == ["next", "next"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    assert _landing.finish_interrupted_sets(tmp_path) == []  # nothing left to land later over "next"


@pytest.mark.skipif(os.name == "nt", reason="flock")
def test_a_journal_whose_writer_is_still_landing_its_set_is_left_to_it(tmp_path, monkeypatch):
    # this process's journal, its folder locked by another open file: as a writer part way through its renames
    target = tmp_path / "report.md"
    target.write_text("old")
    tmp = tmp_path / ".report.md.x.tmp.md"
    tmp.write_text("new")
    journal, = _landing._write_journal([str(tmp_path)], [(tmp, target)])
    monkeypatch.setattr(_landing, "_LOCK_WAIT_S", 0.05)
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)
        assert _landing.finish_interrupted_sets(tmp_path) == []
        assert target.read_text() == "old" and tmp.exists() and journal.exists()
    finally:
        os.close(fd)
    assert _landing.finish_interrupted_sets(tmp_path) == [target]  # locked: nobody is landing it
    assert target.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_a_journal_cut_off_before_any_rename_is_removed_and_nothing_is_renamed(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old")
    tmp = tmp_path / ".report.md.x.tmp.md"
    tmp.write_text("half")
    (tmp_path / f"{_landing._JOURNAL_PREFIX}1.ab.json").write_text('{"pid": 1, "renames": [["')
    assert _landing.finish_interrupted_sets(tmp_path) == []
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == [tmp.name, "report.md"]


def test_without_locks_a_journal_waits_while_its_writer_lives_or_for_a_minute_elsewhere(monkeypatch):
    here = {"host": _landing.socket.gethostname(), "pid": os.getpid()}
    assert _landing._writer_may_be_landing(here, age=1e6)  # alive, however old the journal
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert not _landing._writer_may_be_landing({**here, "pid": int(ended.stdout)}, age=0.0)
    elsewhere = {"host": "another-machine", "pid": os.getpid()}
    assert _landing._writer_may_be_landing(elsewhere, age=_landing.JOURNAL_ABANDONED_AFTER_S - 1)
    assert not _landing._writer_may_be_landing(elsewhere, age=_landing.JOURNAL_ABANDONED_AFTER_S + 1)


def test_a_set_of_files_lands_from_a_thread_where_no_signal_can_be_held(tmp_path):
    paths = [tmp_path / "a.md", tmp_path / "b.json"]
    errors = []

    def write():
        try:
            with replacing_all(paths) as temporary:
                for path in temporary:
                    path.write_text("new")
        except Exception as exc:  # reported to the test's thread
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join()
    assert not errors and [p.read_text() for p in paths] == ["new", "new"]


@pytest.mark.parametrize("lock", ["flock", "lock file"])
def test_two_writers_landing_sets_in_one_folder_take_turns_so_the_last_set_is_whole(tmp_path, monkeypatch, lock):
    if lock == "flock" and _landing.fcntl is None:
        pytest.skip("no flock here")
    if lock == "lock file":  # as on Windows, or on a file system that refuses flock
        monkeypatch.setattr(_landing, "fcntl", None)
    # writer A pauses after its first rename; writer B lands its whole set meanwhile, or waits for A's
    paths = [tmp_path / "report.md", tmp_path / "per_clip.json"]
    real, first_landed = safe_write.replace_file, threading.Event()

    def replace_pausing_writer_a(source, target):
        real(source, target)
        if threading.current_thread().name == "A" and not first_landed.is_set():
            first_landed.set()
            time.sleep(0.5)

    monkeypatch.setattr(safe_write, "replace_file", replace_pausing_writer_a)

    def write(text):
        with replacing_all(paths) as temporary:
            for path in temporary:
                path.write_text(text)

    a = threading.Thread(target=write, args=("A",), name="A")
    a.start()
    assert first_landed.wait(30)
    b = threading.Thread(target=write, args=("B",), name="B")
    b.start()
    a.join()
    b.join()
    assert [p.read_text() for p in paths] == ["B", "B"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["per_clip.json", "report.md"]


def test_a_lock_file_holds_its_folder_until_it_is_older_than_any_set_s_renames(tmp_path, monkeypatch):
    monkeypatch.setattr(_landing, "fcntl", None)
    monkeypatch.setattr(_landing, "_LOCK_WAIT_S", 0.2)
    lock = tmp_path / _landing._LOCK_FILE
    lock.touch()  # another writer's, among its renames
    with _landing._folders_locked([tmp_path]) as held:
        assert not held
    assert lock.exists()
    left = time.time() - _landing._LOCK_FILE_LEFT_AFTER_S - 1
    os.utime(lock, (left, left))  # left by a writer killed among its renames
    with _landing._folders_locked([tmp_path]) as held:
        assert held and lock.stat().st_mtime > left  # broken, and taken
    assert not lock.exists()


def _stat_taking_the_lock_meanwhile(monkeypatch, lock: Path) -> list:
    """``os.stat`` where another writer breaks the left lock file ``lock`` and takes the
    folder (its own lock file, made then) just after this writer has looked at the left one.
    Returns a list that holds the other writer's lock file's stat once it is made."""
    real, taken = os.stat, []

    def stat(path, *args, **kwargs):
        seen = real(path, *args, **kwargs)
        if not taken and os.fspath(path) == os.fspath(lock):
            lock.unlink()
            lock.touch()
            taken.append(real(lock))
        return seen

    monkeypatch.setattr(os, "stat", stat)
    return taken


def test_a_left_lock_file_broken_and_taken_by_another_writer_meanwhile_is_not_broken_again(tmp_path, monkeypatch):
    monkeypatch.setattr(_landing, "fcntl", None)
    monkeypatch.setattr(_landing, "_LOCK_WAIT_S", 0.3)
    lock = tmp_path / _landing._LOCK_FILE
    lock.touch()
    left = time.time() - _landing._LOCK_FILE_LEFT_AFTER_S - 1
    os.utime(lock, (left, left))  # left by a writer killed among its renames
    taken = _stat_taking_the_lock_meanwhile(monkeypatch, lock)
    with _landing._folders_locked([tmp_path]) as held:
        assert not held  # the other writer holds the folder: this one waits, and goes ahead only after the wait
        assert os.path.samestat(os.stat(lock), taken[0])  # the other writer's lock file, as it made it
    assert os.path.samestat(os.stat(lock), taken[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == [_landing._LOCK_FILE]


def test_a_lock_file_left_with_its_breaker_s_file_by_two_killed_writers_is_broken(tmp_path, monkeypatch):
    monkeypatch.setattr(_landing, "fcntl", None)
    monkeypatch.setattr(_landing, "_LOCK_WAIT_S", 0.3)
    lock = tmp_path / _landing._LOCK_FILE
    breaking = tmp_path / (_landing._LOCK_FILE + ".breaking")
    for path in lock, breaking:  # a writer killed among its renames, another killed breaking its lock file
        path.touch()
    left = time.time() - _landing._LOCK_FILE_LEFT_AFTER_S - 1
    os.utime(lock, (left, left))
    os.utime(breaking, (time.time(), time.time()))
    with _landing._folders_locked([tmp_path]) as held:
        assert not held  # the breaker may be alive: not yet
    os.utime(breaking, (left, left))
    with _landing._folders_locked([tmp_path]) as held:
        assert held and lock.stat().st_mtime > left
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_file_made_anew_where_a_left_one_was_seen_is_kept_by_the_writer_removing_the_left_one(tmp_path):
    # Two writers see a left breaker's (or lock) file; the first removes it and makes its own
    # there; the second, removing what it saw, must not remove the first's.
    path = tmp_path / (_landing._LOCK_FILE + ".breaking")
    path.write_bytes(b"left")
    left = time.time() - _landing._LOCK_FILE_LEFT_AFTER_S - 1
    os.utime(path, (left, left))
    seen = os.stat(path)
    assert _landing._remove_if_still(path, seen) and not path.exists()  # the first writer
    path.write_bytes(b"made anew")  # ... and its own file, made at once
    assert not _landing._remove_if_still(path, seen)  # the second writer, late
    assert path.read_bytes() == b"made anew" and sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert not _landing._remove_if_still(tmp_path / "absent", seen)


@pytest.mark.parametrize("third_writer", [False, True])
def test_another_writer_s_lock_file_is_put_back_where_the_file_system_has_no_hard_links(tmp_path, monkeypatch,
                                                                                      third_writer):
    def no_hard_links(src, dst, *args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted", str(dst))

    monkeypatch.setattr(_landing.os, "link", no_hard_links)
    path = tmp_path / _landing._LOCK_FILE
    path.write_bytes(b"left")
    seen = os.stat(path)
    path.unlink()
    path.write_bytes(b"another writer's")  # broken and taken by another writer since it was seen
    others = os.stat(path)
    looked_at = _landing._same_lock_file

    def a_third_writer_meanwhile(stat, seen):
        if third_writer:
            path.write_bytes(b"a third writer's")
        return looked_at(stat, seen)

    monkeypatch.setattr(_landing, "_same_lock_file", a_third_writer_meanwhile)
    assert not _landing._remove_if_still(path, seen)
    if third_writer:  # the third's is kept; the second's, moved aside, is gone as with hard links
        assert path.read_bytes() == b"a third writer's"
    else:
        assert path.read_bytes() == b"another writer's" and os.path.samestat(os.stat(path), others)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_a_writer_done_with_its_folder_removes_its_own_lock_file_and_not_another_s(tmp_path, monkeypatch):
    monkeypatch.setattr(_landing, "fcntl", None)
    lock = tmp_path / _landing._LOCK_FILE
    with _landing._folders_locked([tmp_path]) as held:
        assert held and lock.exists()
        # this writer hung past the limit, and another broke its lock file and took the folder
        lock.unlink()
        lock.touch()
        others = os.stat(lock)
    assert os.path.samestat(os.stat(lock), others)  # the other writer's, left for it to remove
    lock.unlink()
    with _landing._folders_locked([tmp_path]) as held:
        assert held
    assert not lock.exists()  # this writer's own, removed


def _refusing_replace(monkeypatch, refusals: int) -> list:
    """os.replace as Windows does it while another process holds the target open: refused
    ``refusals`` times, then done. Returns the list of attempts."""
    attempts = []
    real = os.replace

    def replace(source, target):
        attempts.append(target)
        if len(attempts) <= refusals:
            raise PermissionError(errno.EACCES, "The process cannot access the file", str(target))
        real(source, target)

    monkeypatch.setattr(_landing.os, "replace", replace)
    monkeypatch.setattr(_landing, "_REPLACE_WAITS", (0.0, 0.0, 0.0))
    return attempts


def test_on_windows_a_briefly_held_target_is_replaced_after_waiting(tmp_path, monkeypatch):
    monkeypatch.setattr(_landing, "_RETRY_REPLACE", True)
    attempts = _refusing_replace(monkeypatch, refusals=2)
    write_text(tmp_path / "a.txt", "new")
    assert (tmp_path / "a.txt").read_text() == "new" and len(attempts) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]  # no temporary file left


def test_a_target_held_longer_than_the_waits_or_refused_elsewhere_is_an_error(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text("old")
    monkeypatch.setattr(_landing, "_RETRY_REPLACE", True)
    attempts = _refusing_replace(monkeypatch, refusals=10)
    with pytest.raises(PermissionError):
        write_text(tmp_path / "a.txt", "new")
    assert len(attempts) == 4  # three waits, then the last try's error
    monkeypatch.setattr(_landing, "_RETRY_REPLACE", False)  # Linux, macOS: a refusal is final
    attempts = _refusing_replace(monkeypatch, refusals=10)
    with pytest.raises(PermissionError):
        write_text(tmp_path / "a.txt", "new")
    assert len(attempts) == 1
    assert (tmp_path / "a.txt").read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


@pytest.mark.skipif(sys.platform != "linux", reason="file names that are not UTF-8")
def test_a_journal_lands_files_whose_names_are_not_utf_8(tmp_path):
    target = tmp_path / os.fsdecode(b"caf\xe9.md")  # Latin-1 bytes: a lone surrogate in Python
    tmp = tmp_path / os.fsdecode(b".caf\xe9.md.x.tmp.md")
    target.write_text("old")
    tmp.write_text("new")
    _landing._write_journal([str(tmp_path)], [(tmp, target)])
    assert _landing.finish_interrupted_sets(tmp_path) == [target]
    assert target.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == [target.name]


def test_a_journal_never_lands_a_file_over_one_written_since(tmp_path):
    target, tmp = tmp_path / "report.md", tmp_path / ".report.md.x.tmp.md"
    tmp.write_text("the killed command's")
    journal, = _landing._write_journal([str(tmp_path)], [(tmp, target)])
    target.write_text("newer")
    later = journal.stat().st_mtime + 1
    os.utime(target, (later, later))
    assert _landing.finish_interrupted_sets(tmp_path) == []
    assert target.read_text() == "newer" and [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_a_set_lands_even_where_an_earlier_set_cannot_be_finished(tmp_path, caplog):
    blocked = tmp_path / "plot.png"  # now a folder that holds a file: nothing can be renamed over it
    blocked.mkdir()
    (blocked / "theirs.txt").write_text("")
    tmp = tmp_path / ".plot.png.x.tmp.png"
    tmp.write_text("the killed command's")
    _landing._write_journal([str(tmp_path)], [(tmp, blocked)])
    with caplog.at_level("WARNING", logger="vidpred"):
        with replacing_all([tmp_path / "report.md"]) as (report,):
            report.write_text("new")
    assert (tmp_path / "report.md").read_text() == "new"
    assert f"could not finish the files an earlier command left part-renamed in {tmp_path}" in caplog.text

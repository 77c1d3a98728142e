"""vidpred/training/run_lock.py with fcntl: who holds a run folder, and that a refusal costs nothing."""

import os

import pytest

from vidpred.training.run_lock import RunLock, RunLocked

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


def test_the_lock_file_names_this_process_over_a_longer_stale_pid(tmp_path):
    (tmp_path / ".lock").write_text("4194304123\n")  # left by a run that died; nobody holds the lock
    with RunLock(tmp_path):
        assert (tmp_path / ".lock").read_text() == f"{os.getpid()}\n"
        with pytest.raises(RunLocked, match=rf"\(pid {os.getpid()}\);"):
            RunLock(tmp_path).acquire()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open descriptors in /proc")
def test_a_refused_acquire_or_check_leaves_no_descriptor_open(tmp_path):
    with RunLock(tmp_path):
        before = len(os.listdir("/proc/self/fd"))
        for _ in range(3):
            with pytest.raises(RunLocked):
                RunLock(tmp_path).acquire()
            with pytest.raises(RunLocked):
                RunLock(tmp_path).check_free()
        assert len(os.listdir("/proc/self/fd")) == before


def test_the_holder_s_own_check_passes_and_a_missing_folder_is_made(tmp_path):
    run_dir = tmp_path / "runs" / "new"
    with RunLock(run_dir) as lock:
        assert (run_dir / ".lock").is_file()
        lock.check_free()  # the lock is this run's own
    RunLock(run_dir).acquire().release()


@pytest.mark.skipif(fcntl is None, reason="flock")
def test_a_check_made_while_another_check_looks_passes_and_an_unnamed_holder_is_unknown(tmp_path):
    path = tmp_path / ".lock"
    path.write_text("")
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # another process's check_free, between its lock and unlock
        RunLock(tmp_path).check_free()  # a check is no writer: both look at once
        fcntl.flock(fd, fcntl.LOCK_UN)
        fcntl.flock(fd, fcntl.LOCK_EX)  # a writer that has not written its pid yet
        with pytest.raises(RunLocked, match=r"\(pid unknown\)"):
            RunLock(tmp_path).acquire()
    finally:
        os.close(fd)


def test_releasing_a_lock_twice_is_harmless(tmp_path):
    lock = RunLock(tmp_path).acquire()
    lock.release()
    lock.release()  # e.g. release() and then the with block's exit
    RunLock(tmp_path).acquire().release()

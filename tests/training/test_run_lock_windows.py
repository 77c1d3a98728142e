"""The run lock where ``fcntl`` does not exist (Windows): ``msvcrt.locking`` instead."""

import errno
import importlib.util
import os
import sys
import types

import pytest

import vidpred.training.run_lock as run_lock_module


class _FakeMsvcrt(types.ModuleType):
    """``msvcrt.locking`` as Windows has it: byte ranges, exclusive, per handle, and
    mandatory (recorded, so that a test can check what a reader would be refused)."""

    LK_UNLCK, LK_LOCK, LK_NBLCK, LK_RLCK, LK_NBRLCK = 0, 1, 2, 3, 4

    def __init__(self):
        super().__init__("msvcrt")
        self.held: dict[tuple, int] = {}  # (file, offset) -> fd
        self.regions: list[tuple[int, int]] = []

    def locking(self, fd, mode, nbytes):
        stat = os.fstat(fd)
        offset = os.lseek(fd, 0, os.SEEK_CUR)
        key = ((stat.st_dev, stat.st_ino), offset, nbytes)
        if mode == self.LK_UNLCK:
            if self.held.get(key) != fd:
                raise PermissionError(errno.EACCES, "Permission denied")
            del self.held[key]
            return
        if key in self.held:
            raise PermissionError(errno.EACCES, "Permission denied")
        self.held[key] = fd
        self.regions.append((offset, nbytes))


@pytest.fixture
def windows_run_lock(monkeypatch):
    fake = _FakeMsvcrt()
    monkeypatch.setitem(sys.modules, "fcntl", None)  # import fcntl raises ImportError
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    spec = importlib.util.spec_from_file_location("_run_lock_on_windows", run_lock_module.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, fake


def test_run_lock_without_fcntl(windows_run_lock, tmp_path):
    module, fake = windows_run_lock
    first = module.RunLock(tmp_path).acquire()
    with pytest.raises(module.RunLocked, match=rf"pid {os.getpid()}\b"):
        module.RunLock(tmp_path).acquire()
    with pytest.raises(module.RunLocked, match=rf"pid {os.getpid()}\b"):
        module.RunLock(tmp_path).check_free()
    first.release()
    module.RunLock(tmp_path).check_free()
    module.RunLock(tmp_path).acquire().release()
    assert not fake.held
    # The pid is read from the start of the file while another process holds the lock:
    # a Windows lock there would refuse that read.
    pid_end = len(f"{os.getpid()}\n")
    assert fake.regions and all(offset >= max(pid_end, module._PID_BYTES) for offset, _ in fake.regions)

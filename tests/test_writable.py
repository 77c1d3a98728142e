"""vidpred/_writable.py: which folders can receive files."""

from __future__ import annotations

import os

import pytest

from vidpred._writable import nearest_existing, unwritable_reason


def test_writable_folders_and_folders_still_to_create(tmp_path):
    assert unwritable_reason(tmp_path) is None
    assert unwritable_reason(tmp_path / "a" / "b") is None  # judged by tmp_path, where it would go
    (tmp_path / "file").write_text("x")
    assert unwritable_reason(tmp_path / "file" / "sub") == f"{tmp_path / 'file'} is not a folder"


def test_refused_writes_name_the_reason_and_the_folder_that_refuses(tmp_path, read_only):
    read_only(tmp_path / "ro")
    (tmp_path / "ro").mkdir()
    assert unwritable_reason(tmp_path / "ro") == "Permission denied"
    assert unwritable_reason(tmp_path / "ro" / "new") == f"Permission denied ({tmp_path / 'ro'})"
    assert unwritable_reason(tmp_path / "elsewhere") is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert unwritable_reason(folder) == "Permission denied"
    finally:
        folder.chmod(0o755)


def test_on_windows_the_answer_is_a_file_actually_created(tmp_path, monkeypatch):
    import errno
    import tempfile

    import vidpred._writable as writable

    monkeypatch.setattr(writable, "_TRY_A_FILE", True)
    denied = tmp_path / "acl"
    denied.mkdir()
    real = tempfile.TemporaryFile

    def temporary_file(*args, dir=None, **kwargs):
        if os.path.abspath(dir) == str(denied):  # an access list refusing this user
            raise PermissionError(errno.EACCES, "Access is denied")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(writable.tempfile, "TemporaryFile", temporary_file)
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: True)  # what Windows answers for any folder
    assert unwritable_reason(denied) == "Access is denied"
    assert unwritable_reason(denied / "new") == f"Access is denied ({denied})"
    assert unwritable_reason(tmp_path) is None and list(tmp_path.iterdir()) == [denied]  # nothing left behind


def test_nearest_existing_is_the_path_or_its_nearest_parent_that_exists(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    assert nearest_existing(tmp_path / "a") == tmp_path / "a"
    assert nearest_existing(tmp_path / "a" / "new" / "deeper" / "out.avi") == tmp_path / "a"
    monkeypatch.chdir(tmp_path)
    assert nearest_existing("a/new/out.avi") == tmp_path / "a"  # relative: from the current folder

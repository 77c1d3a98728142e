"""vidpred/_hashing.py: a file's SHA-256, read once while the file is unchanged."""

from __future__ import annotations

import hashlib
import os

from vidpred._hashing import file_sha256


def test_the_digest_is_hashlib_s_and_a_changed_file_is_read_again(tmp_path, monkeypatch):
    path = tmp_path / "weights.pth"
    path.write_bytes(b"x" * 3_000_000)  # more than one block
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setattr("vidpred._hashing.open", lambda *a, **k: (_ for _ in ()).throw(AssertionError("read")),
                        raising=False)
    assert file_sha256(str(path)) == hashlib.sha256(b"x" * 3_000_000).hexdigest()  # not read again
    monkeypatch.undo()
    path.write_bytes(b"y" * 10)
    os.utime(path, ns=(1, 1))  # even a change that keeps no later time is another file: its size differs
    assert file_sha256(path) == hashlib.sha256(b"y" * 10).hexdigest()

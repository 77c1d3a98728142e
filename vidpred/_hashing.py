"""The SHA-256 of a file's bytes, read once per process while the file is unchanged."""

from __future__ import annotations

import hashlib
from pathlib import Path

_digests: dict[tuple[str, int, int, int], str] = {}  # (path, size, mtime, inode) -> hex SHA-256


def file_sha256(path: str | Path) -> str:
    """The hex SHA-256 of ``path``'s bytes; a file read before and unchanged since (same size,
    modification time and inode) is not read again.

    Raises:
        OSError: the file cannot be read.
    """
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if key not in _digests:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _digests[key] = digest.hexdigest()
    return _digests[key]

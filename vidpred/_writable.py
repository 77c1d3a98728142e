"""Whether a folder can receive files, asked before long work that would end by writing there."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

__all__ = ["nearest_existing", "unwritable_reason"]

# os.access ignores Windows' access control lists (every folder looks writable there)
_TRY_A_FILE = os.name == "nt"


def nearest_existing(path: str | Path) -> Path:
    """``path`` made absolute, or its nearest parent that exists: where it would be created,
    on the disk that would hold it."""
    existing = Path(path).absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return existing


def unwritable_reason(folder: str | Path) -> str | None:
    """Why files cannot be created in ``folder``, or None when they can.

    A folder that does not exist yet is judged by its nearest existing parent (where it
    would be created). ``os.access`` answers as the kernel would for this user: a
    read-only filesystem or missing permission is refused, while root may write into a
    folder whose mode bits say read-only. On Windows, whose access lists ``os.access``
    does not read, a temporary file is created there and removed.
    """
    existing = nearest_existing(folder)
    if not existing.is_dir():
        return f"{existing} is not a folder"
    where = "" if existing == Path(folder).absolute() else f" ({existing})"
    if _TRY_A_FILE:
        try:
            with tempfile.TemporaryFile(dir=existing):
                return None
        except OSError as exc:
            return f"{exc.strerror or exc}{where}"
    if os.access(existing, os.W_OK | os.X_OK):
        return None
    read_only = os.statvfs(existing).f_flag & os.ST_RDONLY
    return os.strerror(errno.EROFS if read_only else errno.EACCES) + where

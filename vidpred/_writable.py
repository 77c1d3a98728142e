"""Whether a folder can receive files, asked before long work that would end by writing there."""

from __future__ import annotations

import errno
import os
from pathlib import Path

__all__ = ["unwritable_reason"]


def unwritable_reason(folder: str | Path) -> str | None:
    """Why files cannot be created in ``folder``, or None when they can.

    A folder that does not exist yet is judged by its nearest existing parent (where it
    would be created). ``os.access`` answers as the kernel would for this user: a
    read-only filesystem or missing permission is refused, while root may write into a
    folder whose mode bits say read-only.
    """
    existing = Path(folder).absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    if os.access(existing, os.W_OK | os.X_OK):
        return None
    read_only = os.statvfs(existing).f_flag & os.ST_RDONLY
    reason = os.strerror(errno.EROFS if read_only else errno.EACCES)
    return reason if existing == Path(folder).absolute() else f"{reason} ({existing})"

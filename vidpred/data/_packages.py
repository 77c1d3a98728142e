"""Running a package client (pip, apt-get, dpkg-deb) and finding what it left, with one-line errors."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Sequence

from vidpred.data.errors import DataError

__all__ = ["run_client", "newest_match"]


def run_client(command: Sequence[str], what: str, cwd: Path | None = None) -> None:
    """Run ``command``; on failure raise a DataError with the last line it wrote to stderr
    (where pip and apt say what failed; stdout's last line when stderr is empty)."""
    try:
        # Clients write in their own encoding (on Windows pip's may not be the code page
        # text=True decodes with): a byte that does not decode must not hide the error.
        result = subprocess.run(list(command), cwd=cwd, capture_output=True, text=True, errors="replace")
    except OSError as exc:
        raise DataError(f"{what} failed: {exc}") from exc
    if result.returncode != 0:
        lines = ([line for line in result.stderr.splitlines() if line.strip()]
                 or [line for line in result.stdout.splitlines() if line.strip()])
        raise DataError(f"{what} failed (exit {result.returncode}): {lines[-1] if lines else 'no output'}")


def newest_match(folder: Path, pattern: str, what: str) -> Path:
    """The last (by name) file of ``folder`` matching ``pattern``; a DataError naming ``what`` if none."""
    found = sorted(folder.glob(pattern))
    if not found:
        raise DataError(f"{what} left no {pattern} in {folder}")
    return found[-1]

"""The command-line programs, one module each, with ``main(argv) -> exit code``.

Each is run as ``python scripts/<name>.py``, ``python -m vidpred.commands.<name>`` or, once
the package is installed, its console script (``vidpred-train``, ``vidpred-eval``, ...;
pyproject.toml lists them). A command parses its own flags (the shared ones from
``vidpred.cli``) and calls the library; commands start one another with
``python -m vidpred.commands.<name>``, never by a file path, so they run from any folder.

What several commands do alike is here: the exit code of a command a stop request ended
(:func:`stopped_exit_code`), and the Markdown table a command prints and writes to ``--out``
(:func:`check_table_output`, :func:`print_table`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from vidpred.cli import StopRequest
from vidpred.evaluation.partial import starts_with_heading
from vidpred.safe_write import check_output, write_text


def stopped_exit_code(stop: StopRequest) -> int:
    """0, or ``128 + the signal's number`` when ``stop`` was signalled and the command wrote
    what it had: the code a training run exits with once its checkpoint is saved."""
    return 0 if stop.signal is None else 128 + int(stop.signal)


def check_table_output(out: str | Path | None, heading: str, force: bool) -> None:
    """Refuse ``--out`` (None: no file) before the work when it holds something other than a
    table that starts with ``heading`` (after a partial mark), unless ``force``."""
    if out:
        check_output(out, ours=lambda p: starts_with_heading(p, heading), what="a table written by this script",
                     force=force)


def print_table(table: str, out: str | Path | None) -> None:
    """Print the Markdown ``table`` and write it to ``out`` too (None: print only)."""
    print(table)
    if out:
        write_text(out, table)
        logging.getLogger("vidpred").info("wrote %s", out)

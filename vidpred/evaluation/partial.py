"""A report of the clips scored before a stop request (Ctrl-C, SIGTERM): its mark, and its
readers' refusal.

Asked to stop, ``scripts/eval_ucf101.py`` and ``scripts/dev_benchmark.py`` finish the clips
in progress, start no other, and write the report of the clips scored: the first ones in
clip order. Every file of it says so: ``report.md`` in its first line ("partial: 2 of 5
clips, stopped by SIGINT"), a JSON file under the key ``"partial"`` (``per_video.json``, a
list of rows when whole, becomes ``{"partial": ..., "videos": [rows]}``), a CSV file in a
first line starting with ``#``. Its means are over the first clips of the selection, not
over the selection, so the readers that compare methods refuse it (:func:`refuse_partial`).
``scripts/extrapolation_rules.py`` and ``scripts/camera_forecast.py`` write one Markdown
table, marked the same way (their unit: clips, videos or camera paths), which they replace
as their own (:func:`starts_with_heading`).
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from vidpred.safe_write import text_starts_with

__all__ = ["STOP_THEN", "STOP_AT_ONCE", "PartialReport", "partial_mark", "partial_line", "partial_heading",
           "refuse_partial", "starts_with_heading"]

# What the first and a second stop signal do, for the warning (vidpred.cli.StopRequest).
STOP_THEN = "finishing the clips started, then writing the report of the clips scored"
STOP_AT_ONCE = "again to stop at once, without a report"


class PartialReport(ValueError):
    """A report that holds only the clips scored before a stop request."""


def partial_mark(n_scored: int, n_clips: int, signum: int | None, unit: str = "clips",
                 none_scored: bool = False) -> dict[str, Any] | None:
    """The mark of a report holding the first ``n_scored`` of ``n_clips`` clips (or other
    ``unit``: ``"videos"``, ``"paths"``, ``"runs"``), stopped by signal ``signum``; None when
    it holds them all.

    Raises:
        KeyboardInterrupt: nothing was scored before the stop: there is no report to write
            (unless ``none_scored``: a summary that says what stopped where, with nothing finished).
    """
    if n_scored == n_clips:
        return None
    if n_scored == 0 and not none_scored:
        raise KeyboardInterrupt
    mark = {"clips_scored": n_scored, "clips_planned": n_clips, "stopped_by": signal.Signals(signum).name}
    return mark if unit == "clips" else {**mark, "unit": unit}


def partial_line(mark: dict[str, Any]) -> str:
    """``"partial: 2 of 5 clips, stopped by SIGINT"``."""
    return f"partial: {_scored(mark)}"


def _scored(mark: dict[str, Any]) -> str:
    return f"{mark['clips_scored']} of {mark['clips_planned']} {_unit(mark)}, stopped by {mark['stopped_by']}"


def _unit(mark: dict[str, Any]) -> str:
    return mark.get("unit", "clips")


def partial_heading(mark: dict[str, Any] | None) -> list[str]:
    """A Markdown report's first lines when it is partial (none when ``mark`` is None)."""
    if not mark:
        return []
    unit, one = _unit(mark), _unit(mark).removesuffix("s")
    return [f"{partial_line(mark)}. Every table below is over these {mark['clips_scored']} {unit}, the first in "
            f"{one} order, not over every {one} selected.", ""]


def starts_with_heading(path: str | Path, heading: str) -> bool:
    """Whether the text file ``path`` starts with ``heading``, after a partial mark
    (:func:`partial_heading`) if it has one: a table a command may replace as its own."""
    if text_starts_with(path, heading):
        return True
    if not text_starts_with(path, "partial: "):
        return False
    return Path(path).read_text(encoding="utf-8").partition("\n\n")[2].startswith(heading)


def refuse_partial(path: str | Path, data: Any) -> None:
    """Raise :class:`PartialReport`, naming ``path``, when ``data`` (a report file's JSON) is partial."""
    mark = data.get("partial") if isinstance(data, dict) else None
    if mark:
        raise PartialReport(f"{path} is a partial report ({_scored(mark)}): its means are not the whole "
                            "selection's; score every clip before comparing methods on it")

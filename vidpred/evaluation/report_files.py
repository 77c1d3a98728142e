"""The evaluation report's files: ``report.md``, ``summary.csv``/``.json`` and
``per_video.csv``/``.json`` (:data:`REPORT_FILES`), written all five or none by
:func:`write_report`, and the check of a report folder before the evaluation
(:func:`check_report_folder`). The averages and the Markdown text are
:mod:`~vidpred.evaluation.report`'s.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from pathlib import Path
from typing import Any, Sequence

from vidpred.evaluation.partial import partial_line
from vidpred.evaluation.report import GROUND_TRUTH, PAPER_TABLE1, markdown_report
from vidpred.evaluation.runner import ClipResult
from vidpred.safe_write import TEXT_ERRORS, check_output_folder, replacing_all

__all__ = ["REPORT_FILES", "check_report_folder", "write_report"]

REPORT_FILES = ("report.md", "summary.csv", "summary.json", "per_video.csv", "per_video.json")


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    return value


def _write_json(path: Path, data: Any) -> None:
    # Strict JSON: NaN/inf become null (their meaning is documented in the report and docs).
    path.write_text(json.dumps(_finite_or_none(data), indent=1, allow_nan=False) + "\n", encoding="utf-8")


def _is_our_report(out_dir: Path) -> bool:
    try:
        summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and {"methods", "protocol", "summary"} <= set(summary)


def check_report_folder(out_dir: str | Path, force: bool = False) -> Path:
    """Refuse ``out_dir`` as a report folder now, before the evaluation whose report it is to hold.

    A folder is accepted when it does not exist, holds none of :data:`REPORT_FILES`, or
    holds an earlier report of this evaluation (its ``summary.json``); with ``force`` also
    when it holds files of those names that vidpred did not write.

    Raises:
        OutputRefused: ``out_dir`` is a file, holds someone else's files of those names,
            or cannot be written.
    """
    checked = check_output_folder(out_dir, REPORT_FILES, ours=_is_our_report, what="vidpred evaluation",
                                  output="report", force=force)
    if _is_our_report(checked):  # said before the work, not found out after it
        earlier = json.loads((checked / "summary.json").read_text(encoding="utf-8"))
        names = [m.get("name") for m in earlier.get("methods", [])
                 if isinstance(m, dict) and m.get("kind") != "baseline"]
        logging.getLogger("vidpred").warning("%s holds the report of an earlier evaluation (%s): this one replaces it",
                                             checked, ", ".join(map(str, names)) or "baselines only")
    return checked


def _write_summary_csv(path: Path, heading: str, summary: dict, methods: Sequence[dict[str, Any]],
                       keys: Sequence[str]) -> None:
    """``summary.csv``: each method's mean of every key, and the ground truth's flicker."""
    with open(path, "w", newline="", encoding="utf-8", errors=TEXT_ERRORS) as f:
        f.write(heading)
        writer = csv.writer(f)
        writer.writerow(["method", "kind", *keys])
        for m in methods:
            writer.writerow([m["name"], m["kind"], *(repr(summary[m["name"]][k]["mean"])
                                                     if k in summary[m["name"]] else "" for k in keys)])
        writer.writerow([GROUND_TRUTH, "data", *(repr(summary[GROUND_TRUTH]["flicker"]["mean"]) if k == "flicker"
                                                 else "" for k in keys)])


def _write_per_video_csv(path: Path, heading: str, results: Sequence[ClipResult], methods: Sequence[str],
                         keys: Sequence[str]) -> None:
    """``per_video.csv``: one row per (clip, method), the clip's facts and the method's scores."""
    fixed = ["video", "start", "n_frames", "height", "width", "moving_fraction", "target_flicker", "method"]
    with open(path, "w", newline="", encoding="utf-8", errors=TEXT_ERRORS) as f:
        f.write(heading)
        writer = csv.writer(f)
        writer.writerow([*fixed, *keys])
        for r in results:
            for name in methods:
                scores = r.scores.get(name, {})
                writer.writerow([r.name, r.start, r.n_frames, r.height, r.width, repr(r.moving_fraction),
                                 repr(r.target_flicker), name,
                                 *(repr(scores[k]) if k in scores else "" for k in keys)])


def write_report(out_dir: str | Path, results: Sequence[ClipResult], summary: dict, meta: dict[str, Any]) -> dict[str, Path]:
    """Write ``report.md``, ``summary.csv``/``.json`` and ``per_video.csv``/``.json`` in ``out_dir``,
    all five or none (an earlier report there stays whole when writing fails part way).

    ``per_video.csv`` has one row per (video, method) so two checkpoints can be compared
    video by video; non-finite values are written ``nan``/``inf`` in CSV and ``null`` in JSON.
    A partial report (``meta["partial"]``) says so in every file (:mod:`vidpred.evaluation.partial`).

    Returns:
        the written paths by short name.
    """
    out_dir = Path(out_dir)
    paths = {name: out_dir / name for name in REPORT_FILES}
    methods = [m["name"] for m in meta["methods"]]
    keys = list(dict.fromkeys(k for name in methods for k in summary[name]))
    partial = meta.get("partial")
    csv_heading = f"# {partial_line(partial)}\r\n" if partial else ""  # the csv module's line ending
    with replacing_all(list(paths.values())) as temporary:
        tmp = dict(zip(paths, temporary))
        tmp["report.md"].write_text(markdown_report(summary, meta), encoding="utf-8", errors=TEXT_ERRORS)
        _write_summary_csv(tmp["summary.csv"], csv_heading, summary, meta["methods"], keys)
        _write_json(tmp["summary.json"], {**meta, "summary": summary,
                                          "paper_table1": [dict(zip(("method", "psnr", "ssim", "sharpness", "source"),
                                                                    row)) for row in PAPER_TABLE1]})
        _write_per_video_csv(tmp["per_video.csv"], csv_heading, results, methods, keys)
        rows = [{"video": r.name, "start": r.start, "n_frames": r.n_frames, "height": r.height, "width": r.width,
                 "moving_fraction": r.moving_fraction, "moving_fractions": r.moving_fractions,
                 "target_flicker": r.target_flicker, "scores": r.scores} for r in results]
        _write_json(tmp["per_video.json"], {"partial": partial, "videos": rows} if partial else rows)
    return paths

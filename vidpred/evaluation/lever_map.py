"""Where each checkpoint lands between two kinds of motion: a map of development-benchmark reports.

A recipe of the refiner can trade one kind of footage for another: what it gains on a still
camera it gives up on a panning one. A table per lever hides that; a map shows it. Each point is one checkpoint of one or more reports of ``scripts/dev_benchmark.py
--out``: its paired per-clip difference against a baseline on one video (x) and on another
(y), with the standard errors as bars. A checkpoint scored in several reports (the same
per-clip scores on both videos) is one point, under the name its first report gives it.

    python scripts/lever_map.py --reports docs/benchmarks/val_seeds docs/benchmarks/val_levers \
        --x val/bikes.mp4 --y val/face_noface_webcam --out map.png
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vidpred.evaluation.paired import PairedDifference, paired_difference
from vidpred.evaluation.partial import refuse_partial
from vidpred.evaluation.predictors import DIS_FLOW, LAST_INPUT
from vidpred.safe_write import image_has_mark, save_marked_figure, shown

__all__ = ["TABLE_START", "LeverPoint", "read_report", "read_settings", "lever_points", "lever_table", "plot_lever_map",
           "is_our_map"]

_SOFTWARE = "vidpred lever_map"  # marks the figures plot_lever_map may replace
TABLE_START = "| | checkpoint |"  # how lever_table's tables begin
# Each point's colour and marker: 20 colours and 9 markers, no pair repeated before the 180th point.
_MARKERS = "osD^v<>p*"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeverPoint:
    """One checkpoint on the map: its paired differences against the baseline on the x and y videos."""

    name: str
    path: str  # the checkpoint the report scored
    report: str  # the first report that scored it
    x: PairedDifference
    y: PairedDifference


def read_report(report_dir: str | Path) -> tuple[list[dict], list[dict]]:
    """``(methods, clips)`` of a development-benchmark report's ``per_clip.json``.

    Raises:
        FileNotFoundError: the folder holds no ``per_clip.json``.
        ValueError: the file is not a development benchmark's, or is partial (a stopped
            benchmark's, :class:`~vidpred.evaluation.partial.PartialReport`).
    """
    path = Path(report_dir) / "per_clip.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: write one with scripts/dev_benchmark.py --out {report_dir}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        refuse_partial(path, data)
        methods, clips = data["methods"], data["clips"]
        if not all(isinstance(c["video"], str) and isinstance(c["source"], str) and isinstance(c["scores"], dict)
                   for c in clips):
            raise TypeError("a clip without its name, source or scores")
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a development benchmark's per-clip scores: {exc}") from None
    return methods, clips


def read_settings(report_dir: str | Path) -> dict | None:
    """What a development-benchmark report's clips were scored under (clips per video, context,
    adaptation, degradation, steady camera motion), from its ``per_clip.json``; None when the
    file records none."""
    settings = json.loads((Path(report_dir) / "per_clip.json").read_text(encoding="utf-8")).get("settings")
    return settings if isinstance(settings, dict) else None


def _refuse_other_settings(report: str | Path, settings: dict | None, first: tuple[str | Path, dict] | None) -> None:
    """Refuse a report scored under other settings than the first report mapped (``first``)."""
    if settings is None or first is None:
        return
    other, theirs = first
    differ = [key for key in dict.fromkeys([*theirs, *settings]) if theirs.get(key) != settings.get(key)]
    if differ:
        said = ", ".join(f"{key} {settings.get(key)!r}" for key in differ)
        raise ValueError(f"{report} was scored with {said}, {other} with "
                         f"{', '.join(f'{key} {theirs.get(key)!r}' for key in differ)}: map reports of one setting "
                         "together")


def _footage(rows: dict[str, list[dict]], key: str) -> dict[str, float | None]:
    """Each clip of the mapped videos by name, with what copying its last input scores on it:
    the same clips of the same footage score the same, whatever the report's settings say."""
    return {c["video"]: c["scores"].get(LAST_INPUT, {}).get(key) for video_rows in rows.values() for c in video_rows}


def _refuse_other_footage(report: str | Path, footage: dict, first: tuple[str | Path, dict] | None) -> None:
    """Refuse a report whose clips of the mapped videos, or their footage (told by copying's
    score, to 0.01 dB), are not the first report's (``first``): a report that records no
    settings (:func:`read_settings`) may still have been scored on other clips, or on a
    steady pan of them, grain or flicker."""
    if first is None:
        return
    other, theirs = first
    if sorted(footage) != sorted(theirs):
        alone = ([f"{clip} in {report} alone" for clip in sorted(set(footage) - set(theirs))]
                 + [f"{clip} in {other} alone" for clip in sorted(set(theirs) - set(footage))])
        raise ValueError(f"{report} scores other clips than {other} ({len(footage)} against {len(theirs)} of the two "
                         f"videos; {alone[0]}): map reports of the same clips together")
    differ = next((clip for clip in footage if footage[clip] is not None and theirs[clip] is not None
                   and abs(footage[clip] - theirs[clip]) > 0.01), None)
    if differ is not None:
        raise ValueError(f"{report} scores {differ} on other footage than {other} (copying the last input: "
                         f"{footage[differ]:.2f} against {theirs[differ]:.2f} dB): a steady camera motion, grain or "
                         "flicker? map reports of one setting together")


def lever_points(report_dirs: Sequence[str | Path], x_video: str, y_video: str, *, against: str = DIS_FLOW,
                 key: str = "psnr_whole_f1") -> list[LeverPoint]:
    """One point per checkpoint: its paired difference against ``against`` on ``x_video`` and ``y_video``.

    Raises:
        ValueError: no report scores both videos, the baseline is missing from one that does, or
            two reports were scored under different settings (:func:`read_settings`), on other
            clips or on other footage (copying the last input scores otherwise).
    """
    points: list[LeverPoint] = []
    # Identical per-clip scores are one checkpoint (its path may differ between reports, and one
    # path may hold other weights in a later report, so the path alone does not tell).
    seen: set = set()
    first_settings = None  # (report, settings) of the first report mapped that says its settings
    first_footage = None  # (report, footage) of the first report mapped
    for report in report_dirs:
        methods, clips = read_report(report)
        rows = {video: [c for c in clips if c["source"] == video] for video in (x_video, y_video)}
        if not all(rows.values()):
            log.warning("%s scores no clip of %s: left off the map", report,
                        " and ".join(video for video in (x_video, y_video) if not rows[video]))
            continue
        settings = read_settings(report)
        _refuse_other_settings(report, settings, first_settings)
        if first_settings is None and settings is not None:
            first_settings = (report, settings)
        footage = _footage(rows, key)
        _refuse_other_footage(report, footage, first_footage)
        first_footage = first_footage or (report, footage)
        if not all(against in c["scores"] for video in (x_video, y_video) for c in rows[video]):
            raise ValueError(f"{report} has no {against!r} scores on every clip of {x_video} and {y_video}")
        keys = {k for video in (x_video, y_video) for c in rows[video] for k in c["scores"][against]}
        if key not in keys:
            raise ValueError(f"score key {key!r} is not in {report} (e.g. {', '.join(sorted(keys)[:6])})")
        for method in methods:
            name = method["name"]
            if method.get("kind") != "checkpoint":
                continue
            scores = tuple((c["video"], c["scores"].get(name, {}).get(key))
                           for video in (x_video, y_video) for c in rows[video])
            if scores in seen:
                continue
            seen.add(scores)
            x, y = (paired_difference(rows[video], name, against, key) for video in (x_video, y_video))
            points.append(LeverPoint(name, method["path"], str(report), x, y))
    if not points:
        raise ValueError(f"no checkpoint of {', '.join(map(str, report_dirs))} is scored on both {x_video} and {y_video}")
    return points


def lever_table(points: Sequence[LeverPoint], x_video: str, y_video: str, against: str = DIS_FLOW) -> str:
    """Markdown: each point's number on the map and its two paired differences, ``mean ± s.e. (wins/n)``."""
    lines = [f"{TABLE_START} − {against}, {x_video} | − {against}, {y_video} | report |", "|---|---|---|---|---|"]
    lines += [f"| {i} | {p.name} (`{p.path}`) | {p.x.text(2)} | {p.y.text(2)} | `{p.report}` |"
              for i, p in enumerate(points, start=1)]
    return "\n".join(lines)


def plot_lever_map(points: Sequence[LeverPoint], path: str | Path, x_video: str, y_video: str, *,
                   against: str = DIS_FLOW, title: str = "") -> Path:
    """PNG: each point with its standard errors as bars; the baseline is at the origin."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 6))
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axvline(0, color="black", linewidth=0.8)
    colours, markers = plt.get_cmap("tab20").colors, _MARKERS
    for i, point in enumerate(points, start=1):  # numbered on the map, named in the legend
        ax.errorbar(point.x.mean, point.y.mean, xerr=point.x.stderr, yerr=point.y.stderr,
                    fmt=markers[i % len(markers)], color=colours[i % len(colours)], markersize=5, capsize=2,
                    alpha=0.85, label=shown(f"{i}. {point.name}"))
        ax.annotate(str(i), (point.x.mean, point.y.mean), textcoords="offset points", xytext=(3, 3), fontsize=7)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    unit = "dB" if points[0].x.key.startswith("psnr") else ""
    ax.set_xlabel(shown(f"{x_video}: − {against} {unit}".rstrip()))
    ax.set_ylabel(shown(f"{y_video}: − {against} {unit}".rstrip()))
    ax.set_title(shown(title or f"{points[0].x.key}, paired over each video's clips (mean ± s.e.)"), fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_marked_figure(fig, path, _SOFTWARE)


def is_our_map(path: str | Path) -> bool:
    """Whether ``path`` is a PNG written by :func:`plot_lever_map`."""
    return image_has_mark(path, "PNG", "Software", _SOFTWARE)

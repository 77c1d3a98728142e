"""Validation quality against training time: read runs' ``validation.jsonl``, plot the curves.

Each run logs, at every validation, its training time (``train_seconds``: time in train
steps, excluding validation and checkpoints) with the model's scores (``"model"``) and the
baselines' on the same validation clips (``"last input"``, ``"Farneback flow (paper)"``,
``"DIS flow"``, ``"blend"``), each under the evaluation's keys (``psnr_whole_f1``); older
runs' flat lines are read too (:func:`vidpred.training.run_log.read_validation`).
``scripts/time_to_quality.py`` trains configs for a fixed number of minutes and draws
these curves, one panel per predicted frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from vidpred.evaluation.predictors import BASELINE_NAMES, DIS_FLOW, FARNEBACK_FLOW, LAST_INPUT
from vidpred.evaluation.scoring import metric_key
from vidpred.safe_write import image_has_mark, save_marked_figure, shown
from vidpred.training.run_log import read_validation
from vidpred.training.validation import MODEL

__all__ = ["TABLE_START", "Curve", "read_curve", "check_one_validation_set", "plot_curves", "curves_table",
           "is_our_plot"]

_SOFTWARE = "vidpred time_to_quality"  # marks the figures plot_curves may replace


@dataclass
class Curve:
    """One run's validation history, one entry per validation, oldest first."""

    label: str  # the run's name in plots and tables
    minutes: list[float]  # training time at each validation (train steps only)
    steps: list[int]
    scores: list[dict[str, dict[str, float]]]  # per validation: {method: {key: value}}

    def series(self, key: str, method: str = MODEL) -> list[float]:
        """``method``'s score ``key`` (``psnr_whole_f1``) at every validation."""
        return [row[method][key] for row in self.scores]

    def final(self, key: str, method: str = MODEL) -> float:
        """``method``'s score ``key`` at the last validation."""
        return self.scores[-1][method][key]

    def best(self, key: str, method: str = MODEL) -> float:
        """The highest of ``method``'s scores ``key`` over the run."""
        return max(self.series(key, method))

    def has(self, key: str, method: str = MODEL) -> bool:
        """Whether the last validation logged ``key`` for ``method``."""
        return key in self.scores[-1].get(method, {})


def read_curve(run_dir: str | Path, label: str | None = None) -> Curve:
    """The validation history of a run directory.

    Raises:
        FileNotFoundError: the run has no ``validation.jsonl`` (nothing validated yet).
    """
    run_dir = Path(run_dir)
    path = run_dir / "validation.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: the run has not validated yet")
    rows = read_validation(path)
    if not rows:
        raise FileNotFoundError(f"{path} is empty: the run has not validated yet")
    return Curve(label=label or run_dir.name, minutes=[r["train_seconds"] / 60 for r in rows],
                 steps=[r["step"] for r in rows],
                 scores=[{name: value for name, value in r.items() if isinstance(value, dict)} for r in rows])


def check_one_validation_set(curves: list[Curve]) -> None:
    """Refuse curves whose runs validated on different clips: their last input's final scores
    differ (copying the last frame scores the same on the same clips, whatever the model), so
    neither the first run's baselines nor each other's curves are theirs to be read against.

    Raises:
        ValueError: naming the two runs and the last input's 1st-frame PSNR on each.
    """
    first = curves[0]
    for curve in curves[1:]:
        theirs, ours = curve.scores[-1].get(LAST_INPUT), first.scores[-1].get(LAST_INPUT)
        if theirs is None or ours is None:
            continue
        differ = [key for key in theirs.keys() & ours.keys() if not _same(theirs[key], ours[key])]
        if differ:
            key = "psnr_whole_f1" if "psnr_whole_f1" in differ else sorted(differ)[0]
            raise ValueError(f"{curve.label!r} and {first.label!r} validated on different clips (the last input "
                             f"scores {key} {theirs[key]:.2f} on one, {ours[key]:.2f} on the other): draw runs of one "
                             "validation set together")


def _same(a: float | None, b: float | None) -> bool:
    """Whether two logged scores are the same, an undefined one (None, NaN) only with another."""
    if a is None or b is None or math.isnan(a) or math.isnan(b):  # undefined (SSIM under 11 px) on both, or not
        return (a is None or math.isnan(a)) == (b is None or math.isnan(b))
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def plot_curves(curves: list[Curve], path: str | Path, *, metric: str = "psnr", title: str = "",
                n_frames: int = 2) -> Path:
    """PNG of ``metric`` against training minutes, one panel per predicted frame, with the
    baselines of the first curve as horizontal lines (the same clips for every run:
    :func:`check_one_validation_set`)."""
    check_one_validation_set(curves)
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    frames = [k for k in range(1, n_frames + 1) if curves[0].has(metric_key(metric, "whole", k))]
    fig, axes = plt.subplots(1, len(frames), figsize=(5.2 * len(frames), 3.8), squeeze=False)
    for ax, k in zip(axes[0], frames):
        key = metric_key(metric, "whole", k)
        for curve in curves:
            ax.plot(curve.minutes, curve.series(key), marker="o", markersize=3, label=shown(curve.label))
        reference = curves[0]
        ax.axhline(reference.final(key, LAST_INPUT), color="grey", linestyle="--", label=LAST_INPUT)
        for name, style in ((FARNEBACK_FLOW, ":"), (DIS_FLOW, "-.")):
            if reference.has(key, name):
                ax.axhline(reference.final(key, name), color="black", linestyle=style, label=name)
        ax.set_xlabel("training time (minutes)")
        ax.set_ylabel(f"validation {metric.upper() if metric == 'psnr' else metric}" + (" (dB)" if metric == "psnr" else ""))
        ax.set_title(f"predicted frame {k}")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="lower right")
    if title:
        fig.suptitle(shown(title))
    fig.tight_layout()
    return save_marked_figure(fig, path, _SOFTWARE)


def is_our_plot(path: str | Path) -> bool:
    """Whether ``path`` is a PNG written by :func:`plot_curves`."""
    return image_has_mark(path, "PNG", "Software", _SOFTWARE)


TABLE_START = "| run | minutes | steps |"  # how curves_table's tables begin


def curves_table(curves: list[Curve], metrics: tuple[str, ...] = ("psnr", "ssim")) -> str:
    """Markdown: each run's final and best validation scores beside the baselines' (those logged;
    the same clips for every run: :func:`check_one_validation_set`)."""
    check_one_validation_set(curves)
    header = TABLE_START.strip("| ").split(" | ")
    for metric in metrics:
        header += [f"{metric} f1 (final / best)", f"{metric} f2 (final / best)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for curve in curves:
        cells = [curve.label, f"{curve.minutes[-1]:.1f}", str(curve.steps[-1])]
        lines.append("| " + " | ".join(cells + _score_cells(curve, metrics, MODEL, with_best=True)) + " |")
    reference = curves[0]
    for name in BASELINE_NAMES:
        if name in reference.scores[-1]:
            lines.append("| " + " | ".join([name, "-", "-"] + _score_cells(reference, metrics, name)) + " |")
    return "\n".join(lines)


def _score_cells(curve: Curve, metrics: tuple[str, ...], method: str, with_best: bool = False) -> list[str]:
    """``method``'s final score (``with_best``: final / best) of each metric on predicted frames
    1 and 2, PSNR to 2 decimals and the others to 3; "-" where it was not logged."""
    cells = []
    for metric in metrics:
        digits = 2 if metric == "psnr" else 3
        for k in (1, 2):
            key = metric_key(metric, "whole", k)
            if not curve.has(key, method):
                cells.append("-")
            elif with_best:
                cells.append(f"{curve.final(key, method):.{digits}f} / {curve.best(key, method):.{digits}f}")
            else:
                cells.append(f"{curve.final(key, method):.{digits}f}")
    return cells

"""Validation quality against training time: read runs' ``validation.jsonl``, plot the curves.

Each run logs, at every validation, its training time (``train_seconds``: time in train
steps, excluding validation and checkpoints) with the model's scores and the baselines'
on the same validation clips (last input: ``baseline_*``; Farneback flow, the paper's: ``flow_*``;
DIS flow: ``dis_*``; blend: ``blend_*``).
``scripts/time_to_quality.py`` trains configs for a fixed number of minutes and draws
these curves, one panel per predicted frame.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from vidpred.safe_write import replacing

__all__ = ["Curve", "read_curve", "plot_curves", "curves_table", "is_our_plot"]

_SOFTWARE = "vidpred time_to_quality"  # marks the figures plot_curves may replace


@dataclass
class Curve:
    """One run's validation history."""

    label: str
    minutes: list[float]
    steps: list[int]
    scores: list[dict[str, float]]  # every logged key per validation

    def series(self, key: str) -> list[float]:
        return [row[key] for row in self.scores]

    def final(self, key: str) -> float:
        return self.scores[-1][key]

    def best(self, key: str) -> float:
        return max(self.series(key))


def read_curve(run_dir: str | Path, label: str | None = None) -> Curve:
    """The validation history of a run directory.

    Raises:
        FileNotFoundError: the run has no ``validation.jsonl`` (nothing validated yet).
    """
    run_dir = Path(run_dir)
    path = run_dir / "validation.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: the run has not validated yet")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        raise FileNotFoundError(f"{path} is empty: the run has not validated yet")
    return Curve(label=label or run_dir.name, minutes=[r["train_seconds"] / 60 for r in rows],
                 steps=[r["step"] for r in rows], scores=rows)


def plot_curves(curves: list[Curve], path: str | Path, *, metric: str = "psnr", title: str = "",
                n_frames: int = 2) -> Path:
    """PNG of ``metric`` against training minutes, one panel per predicted frame, with the
    baselines of the first curve as horizontal lines (they are the same clips for all runs
    of one data split)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = [k for k in range(1, n_frames + 1) if f"{metric}{'' if k == 1 else f'_f{k}'}" in curves[0].scores[0]]
    fig, axes = plt.subplots(1, len(frames), figsize=(5.2 * len(frames), 3.8), squeeze=False)
    for ax, k in zip(axes[0], frames):
        suffix = "" if k == 1 else f"_f{k}"
        for curve in curves:
            ax.plot(curve.minutes, curve.series(metric + suffix), marker="o", markersize=3, label=curve.label)
        reference = curves[0]
        ax.axhline(reference.final(f"baseline_{metric}{suffix}"), color="grey", linestyle="--", label="last input")
        for prefix, label, style in (("flow_", "Farneback flow (paper)", ":"), ("dis_", "DIS flow", "-.")):
            if f"{prefix}{metric}{suffix}" in reference.scores[-1]:
                ax.axhline(reference.final(f"{prefix}{metric}{suffix}"), color="black", linestyle=style, label=label)
        ax.set_xlabel("training time (minutes)")
        ax.set_ylabel(f"validation {metric.upper() if metric == 'psnr' else metric}" + (" (dB)" if metric == "psnr" else ""))
        ax.set_title(f"predicted frame {k}")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with replacing(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png", metadata={"Software": _SOFTWARE})
    plt.close(fig)
    return path


def is_our_plot(path: str | Path) -> bool:
    """Whether ``path`` is a PNG written by :func:`plot_curves`."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.format == "PNG" and image.info.get("Software") == _SOFTWARE
    except (OSError, UnidentifiedImageError):
        return False


def curves_table(curves: list[Curve], metrics: tuple[str, ...] = ("psnr", "ssim")) -> str:
    """Markdown: each run's final and best validation scores beside the baselines' (those logged)."""
    header = ["run", "minutes", "steps"]
    for metric in metrics:
        header += [f"{metric} f1 (final / best)", f"{metric} f2 (final / best)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for curve in curves:
        cells = [curve.label, f"{curve.minutes[-1]:.1f}", str(curve.steps[-1])]
        for metric in metrics:
            for suffix in ("", "_f2"):
                key = metric + suffix
                if key not in curve.scores[-1]:
                    cells.append("-")
                    continue
                digits = 2 if metric == "psnr" else 3
                cells.append(f"{curve.final(key):.{digits}f} / {curve.best(key):.{digits}f}")
        lines.append("| " + " | ".join(cells) + " |")
    reference = curves[0].scores[-1]
    for name, prefix in (("last input", "baseline_"), ("Farneback flow (paper)", "flow_"), ("DIS flow", "dis_"),
                         ("blend", "blend_")):
        if not any(key.startswith(prefix) for key in reference):
            continue
        cells = [name, "-", "-"]
        for metric in metrics:
            for suffix in ("", "_f2"):
                key = prefix + metric + suffix
                digits = 2 if metric == "psnr" else 3
                cells.append(f"{reference[key]:.{digits}f}" if key in reference else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)

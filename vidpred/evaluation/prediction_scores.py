"""The scores ``predict.py`` logs and writes: each predicted frame's PSNR (floored as the
evaluation's), SSIM and edge ratio per method, the lines that sum them up, and the
``--scores`` CSV file."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import torch

from vidpred.evaluation.partial import partial_line
from vidpred.evaluation.scoring import whole_frame_psnr
from vidpred.metrics.sharpness import edge_ratio
from vidpred.metrics.ssim import ssim
from vidpred.safe_write import text_starts_with, write_text

SCORES_HEADER = "frame,steps_ahead,method,psnr,ssim,edges"  # --scores' first line, and how it is known again


def score_frame(scores: dict[str, list[float]], frame: torch.Tensor, target: torch.Tensor, with_ssim: bool) -> None:
    """Append one ``(1, C, H, W)`` frame's PSNR (floored as the evaluation's), SSIM and edge ratio."""
    scores["psnr"] += _psnrs(frame[:, :, None], target[:, :, None])
    scores["edges"].append(float(edge_ratio(frame, target)[0]))
    if with_ssim:
        scores["ssim"].append(float(ssim(frame, target)[0]))


def _psnrs(frames: torch.Tensor, target: torch.Tensor) -> list[float]:
    """Each frame's whole-frame PSNR, floored as the evaluation's is (an exact frame scores 58.92 dB, not inf)."""
    return [float(db) for db in whole_frame_psnr(frames, target, dim=(0, 1, 3, 4))]


def write_scores(path: str | Path, scores: dict[str, dict[str, list[float]]], first_frame: int,
                 one_step: bool, partial: dict | None = None) -> Path:
    """Write ``scores`` (:func:`summary_lines`' argument) as CSV under :data:`SCORES_HEADER`:
    one row per predicted frame and method, frame by frame. ``frame`` is the frame's index in
    the video (the first predicted one is ``first_frame``); ``steps_ahead`` is 1 for every
    frame of a one-step run, ``k`` for a rollout's ``k``-th frame. Values carry six decimals,
    so that frame-by-frame comparisons of the table agree with the log's; an SSIM not
    computed (frames under 11x11 px) and an edge ratio without edges in the truth are left
    empty. A run stopped early (``partial``) says so in a first line starting with ``#``
    (:mod:`vidpred.evaluation.partial`)."""
    text = io.StringIO()
    if partial:
        text.write(f"# {partial_line(partial)}\n")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(SCORES_HEADER.split(","))
    n = len(next(iter(scores.values()))["psnr"])
    for i in range(n):
        for name, values in scores.items():
            ssim_value = values["ssim"][i] if "ssim" in values else float("nan")
            writer.writerow([first_frame + i, 1 if one_step else i + 1, name, f"{values['psnr'][i]:.6f}",
                             *("" if not np.isfinite(v) else f"{v:.6f}" for v in (ssim_value, values["edges"][i]))])
    return write_text(path, text.getvalue())


def is_scores_file(path: Path) -> bool:
    if text_starts_with(path, SCORES_HEADER + "\n"):
        return True
    if not text_starts_with(path, "# partial: "):
        return False
    try:
        with open(path, encoding="utf-8") as f:
            f.readline()
            return f.readline() == SCORES_HEADER + "\n"
    except (OSError, UnicodeDecodeError):
        return False


def score_lines(rows: dict[str, torch.Tensor], target: torch.Tensor) -> list[str]:
    """PSNR (dB) of each predicted frame, one line per row (the model's first, then the baselines').

    Args:
        rows: name -> ``(1, C, K, H, W)`` predictions in ``[-1, 1]``.
        target: ``(1, C, K, H, W)`` in ``[-1, 1]``.
    """
    n = target.shape[2]
    width = max(len(row) for row in (*rows, "PSNR, predicted frame"))
    lines = [f"{'PSNR, predicted frame':<{width}}" + "".join(f"{k:>8}" for k in range(1, n + 1))]
    for row, frames in rows.items():
        lines.append(f"{row:<{width}}" + "".join(f"{v:8.2f}" for v in _psnrs(frames, target)))
    return lines


def summary_lines(scores: dict[str, dict[str, list[float]]]) -> list[str]:
    """Mean PSNR (dB) of each row over the predicted frames, and on how many of them the
    first row (the model) is better than each other row; then each row's mean SSIM (frames
    of at least 11x11 px) and edge ratio, so that a PSNR win bought with blur shows.

    Args:
        scores: row -> ``{"psnr": [...], "edges": [...]}`` and, for frames of at least
            11x11 px, ``"ssim"``: one value per predicted frame; the model's row first.
    """
    psnrs = {row: np.array(values["psnr"]) for row, values in scores.items()}
    model = next(iter(psnrs))
    n = len(psnrs[model])
    width = max(len(row) for row in psnrs)
    lines = [f"PSNR over {n} frames, each predicted one step ahead: mean (min - max)"]
    for row, values in psnrs.items():
        line = f"{row:<{width}}  {values.mean():6.2f} ({values.min():.2f} - {values.max():.2f})"
        if row != model:
            line += f"; {model} better on {int((psnrs[model] > values).sum())} of {n} frames"
        lines.append(line)
    with_ssim = all("ssim" in values for values in scores.values())

    def shape(values: dict[str, list[float]]) -> str:
        mean_edges = float(torch.tensor(values['edges'], dtype=torch.float64).nanmean())  # nan: a flat truth
        edges = f"{mean_edges:.3f}" if np.isfinite(mean_edges) else "n/a (every true frame flat)"
        return f"{float(np.mean(values['ssim'])):.3f} / {edges}" if with_ssim else edges
    lines.append(("mean SSIM / " if with_ssim else "mean ") + "edge ratio (1 = as sharp as the truth, below 1 = smoother): "
                 + ", ".join(f"{row} {shape(values)}" for row, values in scores.items()))
    return lines

"""A picture of one method against each baseline, source by source: is it better on my footage?

One panel per baseline ``b``; in it, one row per source (each video of a development
benchmark, or the whole evaluation), and for each row the paired per-clip difference
``a - b`` (:func:`~vidpred.evaluation.paired.paired_difference`) of the whole-frame PSNR of
the 1st and of the 2nd predicted frame, as bars with their standard errors: green where
``a`` is better on average, red where ``b`` is. Each panel has its own scale: copying is
beaten by decibels where the camera moves, flow extrapolation by tenths.

    python scripts/paired_table.py --eval docs/benchmarks/test_refined --a "refiner (shipped)" \\
        --b "last input" --b "Farneback flow (paper)" --b "DIS flow" --plot margins.png
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vidpred.evaluation.paired import paired_difference
from vidpred.safe_write import image_has_mark, save_marked_figure, shown

__all__ = ["PLOT_KEYS", "plot_paired", "is_our_paired_plot"]

PLOT_KEYS = ("psnr_whole_f1", "psnr_whole_f2")  # the bars of each row, top to bottom
_LABELS = {"psnr_whole_f1": "1st frame", "psnr_whole_f2": "2nd frame"}
_SOFTWARE = "vidpred paired_table"  # marks the figures plot_paired may replace


def plot_paired(rows_by_source: dict[str, list[dict]], a: str, baselines: Sequence[str], path: str | Path,
                title: str = "") -> Path:
    """PNG of ``a - b`` in PSNR (dB), 1st and 2nd predicted frame, per source, one panel per ``b``.

    Args:
        rows_by_source: source name -> its clips' rows (``{"scores": {method: {key: value}}}``),
            in the order they are drawn, top to bottom.
        a: the method compared.
        baselines: the methods it is compared against, one panel each.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    sources = list(rows_by_source)
    height = 0.38  # of a bar, in rows
    fig, axes = plt.subplots(1, len(baselines), figsize=(3.6 * len(baselines) + 1.6, 0.55 * len(sources) + 1.4),
                             sharey=True, squeeze=False)
    for ax, b in zip(axes[0], baselines):
        for j, key in enumerate(PLOT_KEYS):
            diffs = [paired_difference(rows_by_source[s], a, b, key) for s in sources]
            y = np.arange(len(sources)) + (j - 0.5) * height
            means = np.array([d.mean for d in diffs])
            errors = np.nan_to_num(np.array([d.stderr for d in diffs]))
            ax.barh(y, means, height=height, xerr=errors, capsize=2, alpha=1.0 if j == 0 else 0.55,
                    color=np.where(means >= 0, "tab:green", "tab:red"), error_kw={"linewidth": 0.8},
                    label=_LABELS[key])
            for yi, mean, error, d in zip(y, means, errors, diffs):  # beyond the error bar's end
                outward = 1 if mean >= 0 else -1
                ax.annotate(f"{d.mean:+.2f} ({d.wins}/{d.n})", (mean + outward * error, yi), xytext=(3 * outward, 0),
                            textcoords="offset points", va="center", ha="left" if outward > 0 else "right",
                            fontsize=6.5)
        low, high = ax.get_xlim()
        ax.set_xlim(low - 0.45 * (high - low) * (low < 0), high + 0.45 * (high - low))  # room for the labels
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(shown(f"− {b}"), fontsize=9)
        ax.set_xlabel("dB (paired over clips, mean ± s.e.)", fontsize=7)
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(np.arange(len(sources)), [shown(s) for s in sources], fontsize=8)
    axes[0][0].invert_yaxis()  # the first source on top
    axes[0][-1].legend(fontsize=7, frameon=False, loc="lower right")
    fig.suptitle(shown(title or f"{a}: PSNR against each baseline, 1st (dark) and 2nd (light) predicted frame"),
                 fontsize=9)
    fig.tight_layout()
    return save_marked_figure(fig, path, _SOFTWARE)


def is_our_paired_plot(path: str | Path) -> bool:
    """Whether ``path`` is a PNG written by :func:`plot_paired`."""
    return image_has_mark(path, "PNG", "Software", _SOFTWARE)

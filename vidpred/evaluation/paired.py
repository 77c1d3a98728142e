"""Paired per-clip differences between methods scored on the same clips.

Averages hide how often one method wins; and with few clips, differences between clips
(one is easy, another hard) dwarf differences between methods. Comparing two methods
clip by clip removes the clip effect: for each score key, the mean of ``a - b`` over the
clips both scored, its standard error ``std(a - b, ddof=1) / sqrt(n)`` and the number of
clips where ``a`` is better. Higher is better for PSNR, SSIM and sharpness; lower for LPIPS (a
negative ``a - b`` is ``a``'s win). Two scores are best at the truth's value: for the edge
ratio (``edges_*``, best at 1) the difference is how much closer to 1 ``a`` is than ``b``,
``|b - 1| - |a - 1|``, and for the high-frequency share (``flicker``) how much closer to the
target frames' share (the row's ``target_flicker``) ``a``'s is.

Two *recipes* are compared over training seeds (:func:`seed_paired_difference`): a seed
that is lucky on one video lifts every clip of it together, so a clip-level standard error
says nothing about how much a recipe's result depends on its seed. There each seed's mean
difference over the clips is one observation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vidpred.evaluation.partial import refuse_partial

__all__ = ["DIGITS", "DEFAULT_DIGITS", "PairedDifference", "paired_difference", "seed_paired_difference",
           "read_per_video", "check_pairs", "paired_lines", "paired_table", "seed_paired_table"]


@dataclass(frozen=True)
class PairedDifference:
    """The paired difference ``a - b`` of one score key over the clips both methods scored
    (for an edge ratio or a flicker share, how much closer to the truth's ``a`` is), in the
    key's units (dB for PSNR and sharpness)."""

    key: str
    n: int
    mean: float  # mean of a - b
    stderr: float  # standard error of that mean (nan for one clip)
    wins: int  # clips where a is better (the difference > 0; < 0 for LPIPS)

    def text(self, digits: int) -> str:
        """``"+0.21 ± 0.05 (11/12)"``: mean, standard error (left out for one clip), wins/n."""
        se = "" if math.isnan(self.stderr) else f" ± {self.stderr:.{digits}f}"
        return f"{self.mean:+.{digits}f}{se} ({self.wins}/{self.n})"


def read_per_video(eval_dir: str | Path) -> list[dict]:
    """The rows of an evaluation's ``per_video.json`` (``scripts/eval_ucf101.py --out``).

    Raises:
        FileNotFoundError: the folder holds no ``per_video.json``.
        ValueError: the file is not an evaluation's, or is partial (a stopped evaluation's,
            :class:`~vidpred.evaluation.partial.PartialReport`).
    """
    path = Path(eval_dir) / "per_video.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run scripts/eval_ucf101.py with --out {eval_dir}")
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not an evaluation's per-video scores: {exc}") from None
    refuse_partial(path, rows)
    if not isinstance(rows, list) or not all(isinstance(r, dict) and isinstance(r.get("scores"), dict)
                                             and all(isinstance(v, dict) for v in r["scores"].values()) for r in rows):
        raise ValueError(f"{path} is not an evaluation's per-video scores: expected a list of rows, each with "
                         f"'scores' by method")
    return rows


# Digits after the point of a score in the tables (the evaluation's report's too), per metric;
# a metric without an entry gets DEFAULT_DIGITS.
DIGITS = {"psnr": 2, "ssim": 3, "sharpness": 2, "sharpness_official": 2, "lpips": 4, "flicker": 3, "edges": 3}
DEFAULT_DIGITS = 3


def _digits(key: str) -> int:
    """Digits after the point of a paired difference of ``key`` (``psnr_whole_f1``: its metric's, :data:`DIGITS`)."""
    for metric in sorted(DIGITS, key=len, reverse=True):  # sharpness_official before sharpness
        if key == metric or key.startswith(f"{metric}_"):
            return DIGITS[metric]
    return DEFAULT_DIGITS


def _lower_is_better(key: str) -> bool:
    return key.startswith("lpips")


def _summary(key: str, diffs: list[float]) -> PairedDifference:
    """Mean, standard error ``std(ddof=1) / sqrt(n)`` and count of the ``diffs`` where ``a``
    is better: positive, or negative for a key whose lower values are better."""
    n = len(diffs)
    if n == 0:
        return PairedDifference(key, 0, math.nan, math.nan, 0)
    mean = sum(diffs) / n
    stderr = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1) / n) if n > 1 else math.nan
    better = (lambda d: d < 0) if _lower_is_better(key) else (lambda d: d > 0)
    return PairedDifference(key, n, mean, stderr, sum(map(better, diffs)))


def paired_difference(rows: list[dict], a: str, b: str, key: str) -> PairedDifference:
    """``a - b`` for score ``key`` over the clips where both are finite: for an edge ratio
    ``|b - 1| - |a - 1|``, for a flicker share ``|b - t| - |a - t|`` with ``t`` the row's
    ``target_flicker`` (clips without a finite one are left out).

    Raises:
        KeyError: a method is not in the evaluation.
    """
    for name in (a, b):
        if not any(name in row["scores"] for row in rows):
            raise KeyError(f"method {name!r} is not in this evaluation")
    diffs = []
    for row in rows:
        x, y = row["scores"].get(a, {}).get(key), row["scores"].get(b, {}).get(key)
        best = 1.0 if key.startswith("edges") else row.get("target_flicker") if key == "flicker" else None
        if not all(v is not None and math.isfinite(v) for v in (x, y, *([best] if key == "flicker" else []))):
            continue
        diffs.append(x - y if best is None else abs(y - best) - abs(x - best))
    return _summary(key, diffs)


def seed_paired_difference(rows: list[dict], pairs: list[tuple[str, str]], key: str) -> PairedDifference:
    """Recipe ``a`` against recipe ``b`` over training seeds: ``pairs`` holds one ``(a_s, b_s)``
    per seed, each the run of that recipe trained with seed ``s``.

    For each seed the mean over clips of ``a_s - b_s`` (:func:`paired_difference`); then the
    mean over seeds, its standard error over seeds and the seeds where ``a`` is better.
    Seeds that share no scored clip are left out.

    Raises:
        KeyError: a method is not in the evaluation.
    """
    means = [d.mean for d in (paired_difference(rows, a, b, key) for a, b in pairs) if d.n]
    return _summary(key, means)


def check_pairs(rows: list[dict], pairs: list[tuple[str, str]], keys: list[str]) -> None:
    """Raise a ValueError naming every method and key of ``pairs`` and ``keys`` that the
    evaluation lacks, or saying there is nothing to compare."""
    methods = {name for row in rows for name in row["scores"]}
    missing = sorted({name for pair in pairs for name in pair} - methods)
    if missing:
        raise ValueError(f"not in this evaluation: {', '.join(map(repr, missing))} (methods: "
                         f"{', '.join(sorted(methods))})")
    known = {key for row in rows for scores in row["scores"].values() for key in scores}
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise ValueError(f"score key(s) not in this evaluation: {', '.join(unknown)} (e.g. "
                         f"{', '.join(sorted(known)[:6])})")
    if not pairs or not keys:
        raise ValueError("nothing to compare: give different --a and --b methods and at least one key")


def paired_table(rows: list[dict], pairs: list[tuple[str, str]], keys: list[str]) -> str:
    """Markdown: one row per ``(a, b)`` pair, one column per key: ``mean ± s.e. (wins/n)``.

    Raises:
        ValueError: a method or a key that is not in the evaluation, or no pair to compare.
    """
    check_pairs(rows, pairs, keys)
    return "\n".join(paired_lines(rows, pairs, keys, "a − b"))


def paired_lines(rows: list[dict], pairs: list[tuple[str, str]], keys: Sequence[str], heading: str) -> list[str]:
    """The lines of a Markdown table: ``heading`` over the pairs' column, then one row per
    ``(a, b)`` pair and one column per key, each cell :meth:`PairedDifference.text`.

    Unlike :func:`paired_table` nothing is checked: a method or key missing from ``rows``
    gives a cell of no clips.
    """
    lines = [f"| {heading} | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    for a, b in pairs:
        cells = [paired_difference(rows, a, b, key).text(_digits(key)) for key in keys]
        lines.append(f"| {a} − {b} | " + " | ".join(cells) + " |")
    return lines


def seed_paired_table(rows: list[dict], recipes: list[tuple[str, str]], seeds: list[int], keys: list[str]) -> str:
    """Markdown: one row per ``(a, b)`` recipe pair, one column per key, each cell over ``seeds``
    (:func:`seed_paired_difference`); ``a`` and ``b`` name the runs with ``{seed}`` in place of the seed.

    Raises:
        ValueError: a run or a key that is not in the evaluation, no pair to compare, or a seed
            given twice.
    """
    if not recipes or not seeds:
        raise ValueError("nothing to compare: give different --a and --b recipes and at least one seed")
    repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if repeated:  # one run's difference counted twice would pass for another seed's agreement
        raise ValueError(f"seed {', '.join(map(str, repeated))} given twice: each seed is one observation")
    lines = ["| a − b, paired by seed | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    for a, b in recipes:
        pairs = [(a.replace("{seed}", str(s)), b.replace("{seed}", str(s))) for s in seeds]
        check_pairs(rows, pairs, keys)
        cells = [seed_paired_difference(rows, pairs, key).text(_digits(key)) for key in keys]
        lines.append(f"| {a.replace('{seed}', 's')} − {b.replace('{seed}', 's')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

"""The classical extrapolation rules scored on the corpus's clips, and their Markdown tables.

:func:`score_rules` scores each rule of :data:`~vidpred.evaluation.extrapolation_rules.RULES`
(what they are and what they show: :mod:`vidpred.evaluation.extrapolation_rules`) per clip,
stopping early on a stop request and marking the rows partial; :func:`rules_table` reports
each against DIS extrapolation, paired per clip; :func:`speed_hindsight_table` asks what the
best speed of the last step's motion, chosen with the answer known, would gain.

    python scripts/extrapolation_rules.py --subset val
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import torch

from vidpred._progress import progress
from vidpred.cli import StopRequest
from vidpred.config import DataConfig
from vidpred.data.sampler import to_model_input
from vidpred.evaluation.clips import EvalClip, load_eval_clips
from vidpred.evaluation.extrapolation_rules import REFERENCE, RULES, SPEED_FACTORS, SPEED_RULES, frame_psnr
from vidpred.evaluation.paired import paired_difference
from vidpred.evaluation.partial import partial_mark
from vidpred.evaluation.steady_camera import SteadyCamera
from vidpred.metrics.sharpness import edge_ratio
from vidpred.models.optical_flow import reused_flows

__all__ = ["score_rules", "rules_table", "speed_hindsight_table"]


def score_rules(subset: str = "val", root: str | None = None, clips_per_video: int = 12,
                rules: Sequence[str] | None = None, steady: SteadyCamera | None = None,
                cache_dir: str = DataConfig.cache_dir, videos: Sequence[str] | None = None,
                stop: StopRequest | None = None, show_progress: bool = True
                ) -> tuple[dict[str, list[dict]], dict[str, Any] | None]:
    """PSNR and edge ratio (:func:`~vidpred.metrics.sharpness.edge_ratio`: below 1, smoother
    than the truth) of each rule per clip, by video:
    ``{video: [{"scores": {rule: {"psnr_f1", "psnr_f2", "edges_f1", "edges_f2"}}}]}``, and the
    partial mark (:func:`~vidpred.evaluation.partial.partial_mark`; None when every clip was scored).

    The rows have the shape :func:`~vidpred.evaluation.paired.paired_difference` reads. ``steady``
    replaces every clip by a steady pan, zoom or roll of its first frame
    (:mod:`vidpred.evaluation.steady_camera`). ``cache_dir`` keeps the decoded videos.
    ``videos`` scores only those of the subset (:func:`~vidpred.evaluation.clips.load_eval_clips`).
    ``stop`` is installed while the clips are scored: on its first signal the clip in hand is
    finished and the rows hold the clips scored, the first in clip order. ``show_progress``
    draws bars over the decoding and the clips.

    Raises:
        KeyboardInterrupt: stopped before the first clip was scored.
    """
    names = list(RULES) if rules is None else list(rules)
    unknown = [n for n in names if n not in RULES]
    if unknown:
        raise ValueError(f"unknown rules {unknown}; known: {', '.join(RULES)}")
    clips, _ = load_eval_clips(DataConfig(source="corpus", root=root, cache_dir=cache_dir), every=1, start_frame=0,
                               clip_frames=6, min_frames=6, clips_per_video=clips_per_video, subset=subset,
                               progress=show_progress, videos=videos)  # 4 context frames and the 2 scored
    if steady:
        clips = [steady.clip(clip) for clip in clips]
    by_video: dict[str, list[dict]] = {}
    n_scored = 0
    with stop or contextlib.nullcontext():
        for clip in progress(clips, desc="rules", unit="clip", disable=not show_progress):
            if stop is not None and stop.signal is not None:
                break
            by_video.setdefault(clip.video, []).append({"scores": _clip_scores(clip, names)})
            n_scored += 1
    return by_video, partial_mark(n_scored, len(clips), None if stop is None else stop.signal)


def _clip_scores(clip: EvalClip, names: Sequence[str]) -> dict[str, dict[str, float]]:
    """Each rule's ``psnr_f<k>`` (dB) and ``edges_f<k>`` on one 6-frame clip (``fit``: ``k = 1`` only)."""
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in clip.frames]
    frames = to_model_input(torch.from_numpy(clip.frames)[None])  # (1, C, 6, H, W)
    scores = {}
    with reused_flows():  # each pair's DIS flow once per clip, however many rules read it
        for name in names:
            target = (lambda k: frames[:, :, 3]) if name == "fit" else (lambda k: frames[:, :, 3 + k])
            steps = (1,) if name == "fit" else (1, 2)  # the fit is of one step
            scores[name] = {}
            for k in steps:
                prediction = RULES[name](frames, grey, k)
                scores[name][f"psnr_f{k}"] = frame_psnr(prediction, target(k))
                scores[name][f"edges_f{k}"] = float(edge_ratio(prediction.clamp(-1, 1), target(k))[0])
    return scores


def rules_table(by_video: dict[str, list[dict]]) -> str:
    """Markdown: per video and rule, mean PSNR and edge ratio (below 1: smoother than the
    truth, so a PSNR gain bought with blur shows), and the paired PSNR difference against
    DIS, 1st / 2nd frame."""
    lines = []
    for video, rows in by_video.items():
        lines += [f"### {video} ({len(rows)} clips)", "",
                  "| rule | PSNR 1st / 2nd | edge ratio 1st / 2nd | − DIS, 1st | − DIS, 2nd |", "|---|---|---|---|---|"]
        for name in rows[0]["scores"]:
            keys = [f"psnr_f{k}" for k in (1, 2) if f"psnr_f{k}" in rows[0]["scores"][name]]
            means = " / ".join(f"{np.mean([r['scores'][name][key] for r in rows]):.2f}" for key in keys)
            edges = " / ".join(f"{np.nanmean([r['scores'][name][key.replace('psnr', 'edges')] for r in rows]):.3f}"
                               for key in keys)
            cells = ["" if name == REFERENCE or key not in keys else paired_difference(rows, name, REFERENCE, key).text(2)
                     for key in ("psnr_f1", "psnr_f2")]
            lines.append(f"| {name} | {means} | {edges} | {cells[0]} | {cells[1]} |")
        lines.append("")
    return "\n".join(lines)


def speed_hindsight_table(by_video: dict[str, list[dict]]) -> str:
    """Markdown: per video and frame, what choosing the speed of the last step's motion with
    the answer known would gain over keeping it (``DIS refined``): one factor for the whole
    video (the best of :data:`SPEED_FACTORS` over its clips) and one per clip (each clip's
    best). ``by_video`` must hold every rule of :data:`SPEED_RULES`."""
    factors = (1.0,) + SPEED_FACTORS  # the columns of SPEED_RULES
    lines = ["| video | frame | best factor for the video | its gain, dB | best factor per clip: gain, dB |",
             "|---|---|---|---|---|"]
    for video, rows in by_video.items():
        for k in (1, 2):
            key = f"psnr_f{k}"
            gains = np.array([[row["scores"][rule][key] - row["scores"][SPEED_RULES[0]][key] for rule in SPEED_RULES]
                              for row in rows])  # (clips, factors); column 0 is the factor 1
            best = int(gains.mean(0).argmax())
            per_clip = gains.max(1)
            lines.append(f"| {video} | {k} | x{factors[best]} | {_mean_and_error(gains[:, best])} "
                         f"| {_mean_and_error(per_clip)} |")
    return "\n".join(lines) + "\n"


def _mean_and_error(x: np.ndarray) -> str:
    """``"+0.12 ± 0.03"``: the mean of ``x`` and its standard error (left out for one value)."""
    error = f" ± {x.std(ddof=1) / np.sqrt(len(x)):.2f}" if len(x) > 1 else ""
    return f"{x.mean():+.2f}{error}"

"""Score every method on every clip: the per-clip numbers behind the report.

For each clip (uint8 ``(T, H, W, C)``, whole frames):

1. ``context`` = the first ``n_context`` frames, ``future`` = the rest (``(1, C, t, H, W)``
   in ``[-1, 1]``);
2. one backward Farneback flow from the last context frame to the one before gives the
   moving-area mask (``|flow| > flow_threshold``) and the flow baseline's motion;
3. each method predicts ``max(n_scored, flicker_frames)`` frames recursively (fewer when
   the clip is shorter), and frames 1..``n_scored`` are scored against ``future``:
   PSNR, SSIM and sharpness difference on the whole frame (``whole``), on moving areas
   paper-compatibly (``compat``) and on moving pixels only (``moving``), plus LPIPS on the
   whole frame when available;
4. the temporal high-frequency share of the first ``flicker_frames`` predicted frames, and
   of the same target frames, when the clip is long enough.

Result keys are ``<metric>_<region>_f<k>`` (``psnr_compat_f1``, ``ssim_whole_f2``,
``lpips_whole_f1``) and ``flicker``. Undefined values are NaN: moving-area metrics of a clip
with no moving pixel, SSIM on frames under 11 px, LPIPS on frames under its minimum size,
flicker on a clip too short.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Sequence

import torch
from torch import Tensor

from vidpred._progress import progress
from vidpred.data.sampler import to_model_input
from vidpred.evaluation.clips import EvalClip
from vidpred.evaluation.flow import DEFAULT_FLOW_THRESHOLD, backward_flow, moving_mask
from vidpred.evaluation.predictors import Method
from vidpred.metrics import (
    LPIPS,
    masked_psnr,
    masked_sharpness_difference,
    masked_ssim,
    psnr,
    sharpness_difference,
    ssim,
    temporal_high_frequency_share,
)

__all__ = ["Protocol", "ClipResult", "evaluate", "METRICS", "REGIONS", "metric_key"]

logger = logging.getLogger(__name__)

METRICS = ("psnr", "ssim", "sharpness")
REGIONS = ("compat", "moving", "whole")
SSIM_WINDOW = 11


def metric_key(metric: str, region: str, frame: int) -> str:
    """``psnr_compat_f1``: metric, region, 1-based predicted frame."""
    return f"{metric}_{region}_f{frame}"


@dataclass(frozen=True)
class Protocol:
    """The evaluation's fixed choices (see ``docs/evaluation.md``).

    Attributes:
        n_context: context frames given to every method (the paper: 4).
        n_scored: predicted frames scored (the paper: 2, the 2nd predicted recursively).
        flicker_frames: predicted frames whose temporal spectrum is measured (>= 4: with
            fewer, every frequency but DC lies in the upper half and any change counts as
            flicker), or 0 to skip flicker and roll out only ``n_scored`` frames.
        flow_threshold: flow magnitude, px per frame, above which a pixel is moving.
    """

    n_context: int = 4
    n_scored: int = 2
    flicker_frames: int = 4
    flow_threshold: float = DEFAULT_FLOW_THRESHOLD

    def __post_init__(self) -> None:
        if self.n_context < 2:
            raise ValueError(f"n_context must be >= 2 (the flow needs two frames), got {self.n_context}")
        if self.n_scored < 1 or not (self.flicker_frames == 0 or self.flicker_frames >= 4) or self.flow_threshold < 0:
            raise ValueError(f"need n_scored >= 1, flicker_frames 0 or >= 4, flow_threshold >= 0; got {self}")

    @property
    def clip_frames(self) -> int:
        """Frames per clip: the context and the longest rollout any measure uses."""
        return self.n_context + max(self.n_scored, self.flicker_frames)

    @property
    def min_frames(self) -> int:
        """Shortest usable clip: the context and the scored frames (flicker then NaN)."""
        return self.n_context + self.n_scored


@dataclass
class ClipResult:
    """Scores of every method on one clip; ``scores[method][key]`` (see :func:`metric_key`)."""

    name: str
    start: int
    n_frames: int
    height: int
    width: int
    moving_fraction: float  # share of pixels in the moving-area mask
    target_flicker: float  # high-frequency share of the target frames (NaN: clip too short)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)


def _score_frames(pred: Tensor, target: Tensor, mask: Tensor, k: int, lpips: LPIPS | None,
                  has_motion: bool) -> dict[str, float]:
    """All per-frame metrics of predicted frame ``k`` (1-based): ``(1, C, H, W)`` in ``[-1, 1]``."""
    nan = float("nan")
    out: dict[str, float] = {}
    big_enough = min(pred.shape[-2:]) >= SSIM_WINDOW
    out[metric_key("psnr", "whole", k)] = psnr(pred, target).item()
    out[metric_key("ssim", "whole", k)] = ssim(pred, target).item() if big_enough else nan
    out[metric_key("sharpness", "whole", k)] = sharpness_difference(pred, target).item()
    for mode in ("compat", "moving"):
        if not has_motion:  # no moving area: the moving-area metrics do not exist for this clip
            for metric in METRICS:
                out[metric_key(metric, mode, k)] = nan
            continue
        out[metric_key("psnr", mode, k)] = masked_psnr(pred, target, mask, mode).item()
        out[metric_key("ssim", mode, k)] = masked_ssim(pred, target, mask, mode).item() if big_enough else nan
        out[metric_key("sharpness", mode, k)] = masked_sharpness_difference(pred, target, mask, mode).item()
    if lpips is not None:
        try:
            out[metric_key("lpips", "whole", k)] = lpips(pred, target).item()
        except ValueError:  # frames below the backbone's minimum size
            out[metric_key("lpips", "whole", k)] = nan
    return out


@torch.no_grad()
def evaluate_clip(clip: EvalClip, methods: Sequence[Method], protocol: Protocol, device: torch.device,
                  lpips: LPIPS | None = None) -> ClipResult:
    """Score every method on one clip (see the module docstring).

    Args:
        clip: uint8 frames ``(T, H, W, C)``, ``T >= protocol.min_frames``.
        methods: the table's rows.
        protocol: the evaluation's fixed choices.
        device: where tensors and models live.
        lpips: the LPIPS network, or None when skipped.
    """
    x = to_model_input(torch.from_numpy(clip.frames).unsqueeze(0).to(device))  # (1, C, T, H, W) in [-1, 1]
    _, _, T, H, W = x.shape
    if T < protocol.min_frames:
        raise ValueError(f"{clip.name}: {T} frames, the protocol needs at least {protocol.min_frames}")
    context, future = x[:, :, :protocol.n_context], x[:, :, protocol.n_context:]
    n_rollout = future.shape[2]
    flow = backward_flow(context)  # (1, 2, H, W)
    mask = moving_mask(flow, protocol.flow_threshold)  # (1, 1, H, W)
    has_motion = bool(mask.any())
    with_flicker = protocol.flicker_frames > 0 and n_rollout >= protocol.flicker_frames
    result = ClipResult(
        name=clip.name, start=clip.start, n_frames=T, height=H, width=W,
        moving_fraction=mask.float().mean().item(),
        target_flicker=(temporal_high_frequency_share(future[:, :, :protocol.flicker_frames]).item()
                        if with_flicker else math.nan))
    for method in methods:
        prediction = method.predict(context, n_rollout, flow).clamp(-1, 1)  # (1, C, n_rollout, H, W)
        if prediction.shape != future.shape:
            raise RuntimeError(f"{method.name} predicted {tuple(prediction.shape)}, expected {tuple(future.shape)}")
        scores: dict[str, float] = {}
        for k in range(1, protocol.n_scored + 1):
            scores.update(_score_frames(prediction[:, :, k - 1], future[:, :, k - 1], mask, k, lpips, has_motion))
        scores["flicker"] = (temporal_high_frequency_share(prediction[:, :, :protocol.flicker_frames]).item()
                             if with_flicker else math.nan)
        result.scores[method.name] = scores
    return result


def evaluate(clips: Sequence[EvalClip], methods: Sequence[Method], protocol: Protocol, device: torch.device,
             lpips: LPIPS | None = None, show_progress: bool = True) -> list[ClipResult]:
    """Score every method on every clip, one clip at a time (whole frames of any size).

    Args:
        clips: from :func:`~vidpred.evaluation.clips.load_eval_clips`, uint8 ``(T, H, W, C)``.
        methods: the table's rows, names unique.
        protocol: the evaluation's fixed choices.
        device: where tensors and models live.
        lpips: the LPIPS network, or None when skipped.
        show_progress: one progress bar over the clips.

    Returns:
        one :class:`ClipResult` per clip, in order.
    """
    names = [m.name for m in methods]
    if len(set(names)) != len(names):
        raise ValueError(f"method names must be unique, got {names}")
    too_small = [c.name for c in clips if min(c.frames.shape[1:3]) < SSIM_WINDOW]
    if too_small:
        logger.warning("SSIM needs frames of at least %d px; it is NaN for %d clip(s): %s", SSIM_WINDOW,
                       len(too_small), ", ".join(too_small[:5]))
    results = []
    for clip in progress(clips, desc="evaluating", unit="video", disable=not show_progress):
        results.append(evaluate_clip(clip, methods, protocol, device, lpips))
    no_motion = sum(not r.moving_fraction > 0 for r in results)
    if no_motion:
        logger.warning("%d of %d clips have no moving pixel (|flow| <= %g px) and are left out of the "
                       "moving-area scores", no_motion, len(results), protocol.flow_threshold)
    return results

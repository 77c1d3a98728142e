"""Every per-frame score of every method on one clip, computed together (the evaluation's hot loop).

The metric functions in :mod:`vidpred.metrics` score one comparison at a time; called once
per method, frame and averaging mode they repeat most of their work (each paper-compatible
SSIM filtered the target again, each mode filtered the prediction again). Here, per
predicted frame ``k``:

* the target's SSIM moments ``E[y], E[y^2]`` are computed once, for every method and mode;
* each method's squared errors, SSIM map and sharpness term are computed once; the
  whole-frame and moving-pixels values are two averages of each;
* the paper-compatible composite (the target outside the mask) differs from the
  prediction only near and outside the mask, but its SSIM windows that straddle the mask
  border mix both, so it gets its own moments ``E[c], E[c^2], E[cy]`` (3 filterings, not
  the 5 a fresh SSIM would take); frames whose mask covers everything reuse the
  prediction's map, frames without a moving pixel skip it.

The values equal those of :func:`~vidpred.metrics.masked_psnr`,
:func:`~vidpred.metrics.masked_ssim`, :func:`~vidpred.metrics.masked_sharpness_difference`
and their whole-frame counterparts to float64 rounding (``tests/evaluation/test_scoring.py``
checks it on random data); the per-pixel terms and the conversions to dB are theirs
(:func:`~vidpred.metrics.psnr.psnr_from_mse`, :func:`~vidpred.metrics.sharpness.sharpness_term`,
:func:`~vidpred.metrics.masked.masked_mean`, ...), so each metric's arithmetic lives in one place.

Training's validation scores with the same function (whole frames only, no masks) and
averages over clips with the same :func:`clip_mean`, so a checkpoint's validation numbers
and its evaluation on the same clips are the same numbers under the same keys (to the last
bits of float32 when validation predicts several clips in one batch).
"""

from __future__ import annotations

import math
from typing import Literal, Sequence

import torch
from torch import Tensor

from vidpred.metrics import LPIPS
from vidpred.metrics.masked import masked_mean
from vidpred.metrics.official import official_db, official_sharpness_term
from vidpred.metrics.psnr import psnr_from_mse
from vidpred.metrics.sharpness import edge_ratio, sharpness_db, sharpness_term
from vidpred.metrics.ssim import SSIM_WINDOW, blur_valid, gaussian_window, ssim_from_moments
from vidpred.models.perceptual_networks import LPIPS_MIN_SIZE

__all__ = ["SSIM_WINDOW", "REGIONS", "SharpnessUnits", "metric_key", "sharpness_metric", "score_frames", "clip_mean",
           "MSE_FLOOR", "SHARPNESS_FLOOR", "MAX_PSNR_DB", "MAX_SHARPNESS_DB", "whole_frame_psnr"]

REGIONS = ("compat", "moving", "whole")
SharpnessUnits = Literal["unit", "official"]
_PEAK = 2.0  # peak-to-peak of [-1, 1] frames

# An exact prediction (the last input of a video that repeats a frame) has no error. Its
# PSNR and sharpness difference are computed from errors floored at what 8-bit frames
# cannot resolve, the same for every method, so it counts in every mean as a success:
# the MSE at the variance of 8-bit rounding, one grey level's uniform error, (2/255)^2 / 12
# on [-1, 1] frames (PSNR <= 58.92 dB); the mean absolute gradient difference at the mean
# absolute rounding error, a quarter grey level, 1 / (4 * 255) on [0, 1] frames (sharpness
# <= 30.09 dB). In the paper-compatible mode the pixels outside the mask add no error by
# construction, so there the floors scale with the mask's share of the frame. The official
# code's sharpness has its own clamp (88.13 dB) and is left as it is.
MSE_FLOOR = (_PEAK / 255) ** 2 / 12
SHARPNESS_FLOOR = 1 / (4 * 255)
MAX_PSNR_DB = 10 * math.log10(_PEAK**2 / MSE_FLOOR)  # 58.92
MAX_SHARPNESS_DB = 10 * math.log10(1 / SHARPNESS_FLOOR)  # 30.09


def whole_frame_psnr(prediction: Tensor, target: Tensor, dim: int | tuple[int, ...]) -> Tensor:
    """Whole-frame PSNR (dB) as the evaluation scores it, the squared error averaged over
    ``dim``: ``prediction`` clipped to ``[-1, 1]`` first (a saved frame cannot hold an
    overshoot, and the evaluation's callers clip theirs), the error floored at
    :data:`MSE_FLOOR`. ``prediction`` and ``target`` of one shape in ``[-1, 1]``."""
    return psnr_from_mse(((prediction.clamp(-1, 1) - target) ** 2).mean(dim=dim).clamp_min(MSE_FLOOR), _PEAK)


def metric_key(metric: str, region: str, frame: int) -> str:
    """``psnr_compat_f1``: metric, region, 1-based predicted frame."""
    return f"{metric}_{region}_f{frame}"


def sharpness_metric(units: SharpnessUnits) -> str:
    """The result key's metric name for the sharpness difference in ``units``: ``"sharpness"``
    (vidpred's, frames in [0, 1]) or ``"sharpness_official"`` (the official Torch7 code's)."""
    if units not in ("unit", "official"):
        raise ValueError(f"sharpness units must be 'unit' or 'official', got {units!r}")
    return "sharpness" if units == "unit" else "sharpness_official"


def clip_mean(values: Sequence[float]) -> float:
    """The mean over clips of one method's values of one key: the finite ones (NaN: undefined
    on that clip), NaN when there is none. Validation and the report average with it."""
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


@torch.no_grad()
def score_frames(preds: Tensor, target: Tensor, masks: Tensor | None = None, *, sharpness: SharpnessUnits = "unit",
                 lpips: LPIPS | None = None) -> dict[str, Tensor]:
    """PSNR, SSIM and sharpness difference in the three modes (and LPIPS) of every method and frame.

    The one scoring function: the evaluation calls it with the moving-area masks, training's
    validation without (whole frames only), so both report the same keys with the same
    arithmetic.

    Modes (see :mod:`vidpred.metrics.masked`): ``whole`` frame; ``compat``, the official
    code's averaging (outside the mask the prediction is replaced by the target; with
    ``sharpness="official"`` the sharpness instead sets both to -1 there, as that code
    does); ``moving``, the per-pixel terms averaged over the masked pixels only.

    Args:
        preds: ``(M, K, C, H, W)`` in ``[-1, 1]``: M methods' predictions of K frames (the
            callers clip a predictor's overshoot, as a saved frame would be).
        target: ``(K, C, H, W)`` in ``[-1, 1]``: the true frames.
        masks: ``(K, 1, H, W)`` bool, the moving pixels of each frame; None scores the
            ``whole`` region only.
        sharpness: ``"unit"`` (vidpred's units, keys ``sharpness_*``) or ``"official"``
            (:func:`~vidpred.metrics.official.official_sharpness`, keys ``sharpness_official_*``).
        lpips: the LPIPS network (whole frames only), or None.

    Returns:
        ``{metric_key(metric, region, k): (M,) float64}`` for metric in psnr, ssim and the
        sharpness, region in :data:`REGIONS` (``whole`` alone without ``masks``), k in 1..K; ``edges_whole_f<k>``
        (:func:`~vidpred.metrics.edge_ratio`); plus ``lpips_whole_f<k>`` with ``lpips``. NaN
        where undefined: the moving-area modes of a frame without a moving pixel, SSIM on
        frames under 11 px, LPIPS under its minimum size. Never infinite: an exact
        prediction scores the floors' values (:data:`MAX_PSNR_DB`, :data:`MAX_SHARPNESS_DB`).
    """
    whole_only = masks is None
    if whole_only:
        masks = torch.ones(target.shape[0], 1, *target.shape[2:], dtype=torch.bool, device=target.device)
    if preds.dim() != 5 or preds.shape[1:] != target.shape or masks.shape != (target.shape[0], 1, *target.shape[2:]):
        raise ValueError(f"score_frames expects preds (M, K, C, H, W), target (K, C, H, W), masks (K, 1, H, W); got "
                         f"{tuple(preds.shape)}, {tuple(target.shape)}, {tuple(masks.shape)}")
    M, K, C, H, W = preds.shape
    if M > 1:  # one method at a time: the same sums (each method's block is laid out alike), a 1/M of the memory
        parts = [score_frames(preds[i:i + 1], target, None if whole_only else masks, sharpness=sharpness, lpips=lpips)
                 for i in range(M)]
        return {key: torch.cat([part[key] for part in parts]) for key in parts[0]}
    # Contiguous: a sum's order follows the memory layout, and the callers' layouts differ
    # (the evaluation's rollouts are transposed views); the last bits must not.
    P = preds.double().contiguous()
    T = target.double().contiguous()
    moving = masks.bool()
    n_mask = moving.sum(dim=(1, 2, 3))  # (K,)
    out: dict[str, Tensor] = {}

    def put(metric: str, region: str, values: Tensor) -> None:  # values (M, K)
        if whole_only and region != "whole":
            return
        if region != "whole":  # moving-area metrics do not exist for a frame without moving pixels
            values = torch.where(n_mask == 0, torch.full_like(values, math.nan), values)
        for k in range(K):
            out[metric_key(metric, region, k + 1)] = values[:, k].clone()

    for region, values in _psnr_scores(P, T, moving).items():
        put("psnr", region, values)
    for region, values in _ssim_scores(P, T, moving, whole_only).items():
        put("ssim", region, values)
    for region, values in _sharpness_scores(P, T, moving, sharpness, whole_only).items():
        put(sharpness_metric(sharpness), region, values)

    # Edge content relative to the truth's (whole frames): below 1 blurred, above 1 invented edges.
    put("edges", "whole", edge_ratio(P.reshape(M * K, C, H, W), T.expand(M, -1, -1, -1, -1).reshape(M * K, C, H, W))
        .reshape(M, K))

    if lpips is not None:
        if min(H, W) < LPIPS_MIN_SIZE[lpips.net]:  # frames below the backbone's minimum size: no score
            values = torch.full((M, K), math.nan, dtype=torch.float64, device=P.device)
        else:
            values = lpips(preds.reshape(M * K, C, H, W), target.expand(M, -1, -1, -1, -1).reshape(M * K, C, H, W))
            values = values.reshape(M, K)
        put("lpips", "whole", values)
    return out


def _psnr_scores(P: Tensor, T: Tensor, moving: Tensor) -> dict[str, Tensor]:
    """PSNR by region, each ``(M, K)``: one squared-error image per method and frame.
    ``P`` ``(M, K, C, H, W)`` and ``T`` ``(K, C, H, W)`` float64, ``moving`` ``(K, 1, H, W)`` bool."""
    C, H, W = T.shape[1:]
    m = moving.double()
    share = moving.sum(dim=(1, 2, 3)).double() / (H * W)  # (K,): the mask's share of each frame
    squared = (P - T).square()
    return {"whole": psnr_from_mse((squared.sum(dim=(2, 3, 4)) / (C * H * W)).clamp_min(MSE_FLOOR), _PEAK),
            # The composite's error is zero outside the mask.
            "compat": psnr_from_mse(torch.maximum((squared * m).sum(dim=(2, 3, 4)) / (C * H * W), MSE_FLOOR * share),
                                    _PEAK),
            "moving": psnr_from_mse(masked_mean(squared, m).clamp_min(MSE_FLOOR), _PEAK)}


def _ssim_scores(P: Tensor, T: Tensor, moving: Tensor, whole_only: bool) -> dict[str, Tensor]:
    """SSIM by region, each ``(M, K)`` (NaN on frames under :data:`SSIM_WINDOW` px): the
    target's moments once, one map per method and frame. Arguments as :func:`_psnr_scores`."""
    M, K, C, H, W = P.shape
    if min(H, W) < SSIM_WINDOW:
        return {region: torch.full((M, K), math.nan, dtype=torch.float64, device=P.device) for region in REGIONS}
    r = (SSIM_WINDOW - 1) // 2
    window = gaussian_window(SSIM_WINDOW)
    mu_t, e_tt = blur_valid(torch.stack([T, T * T]), window)  # each (K, C, h, w)
    mu_p, e_pp, e_pt = blur_valid(torch.stack([P, P * P, P * T]), window)  # each (M, K, C, h, w)
    ssim_map = ssim_from_moments(mu_p, mu_t, e_pp, e_tt, e_pt)
    whole = ssim_map.mean(dim=(2, 3, 4))
    compat = whole.clone()  # a mask covering every pixel: the composite is the prediction
    n_mask = moving.sum(dim=(1, 2, 3))
    partial = [k for k in range(K) if 0 < n_mask[k] < H * W]  # frames whose composite differs from both
    if partial and not whole_only:
        c = torch.where(moving, P, T)[:, partial]  # the prediction inside the mask, the target outside
        mu_c, e_cc, e_ct = blur_valid(torch.stack([c, c * c, c * T[partial]]), window)
        compat[:, partial] = ssim_from_moments(mu_c, mu_t[partial], e_cc, e_tt[partial], e_ct).mean(dim=(2, 3, 4))
    return {"whole": whole, "moving": masked_mean(ssim_map, moving.double()[..., r:H - r, r:W - r]), "compat": compat}


def _sharpness_scores(P: Tensor, T: Tensor, moving: Tensor, sharpness: SharpnessUnits,
                      whole_only: bool) -> dict[str, Tensor]:
    """The sharpness difference by region, each ``(M, K)``, in ``sharpness``'s units.
    Arguments as :func:`_psnr_scores`."""
    C, H, W = T.shape[1:]
    m = moving.double()
    if sharpness == "unit":
        share = moving.sum(dim=(1, 2, 3)).double() / (H * W)
        term = sharpness_term(P, T)  # (M, K, C, H-1, W-1)
        scores = {"whole": sharpness_db(term.mean(dim=(2, 3, 4)).clamp_min(SHARPNESS_FLOOR)),
                  "moving": sharpness_db(masked_mean(term, m[..., 1:, 1:]).clamp_min(SHARPNESS_FLOOR))}
        if not whole_only:
            compat_term = sharpness_term(torch.where(moving, P, T), T)
            scores["compat"] = sharpness_db(torch.maximum(compat_term.mean(dim=(2, 3, 4)), SHARPNESS_FLOOR * share))
        return scores
    term = official_sharpness_term(P, T)  # (M, K, C, H-2, W-2)
    # The official masking: both frames -1 (black) outside the mask.
    black = torch.full((), -1.0, dtype=torch.float64)
    compat_term = official_sharpness_term(torch.where(moving, P, black), torch.where(moving, T, black))
    return {"whole": official_db(term.sum(dim=(2, 3, 4)) / (C * H * W)),
            "moving": official_db(masked_mean(term, m[..., 1:-1, 1:-1])),
            "compat": official_db(compat_term.sum(dim=(2, 3, 4)) / (C * H * W))}

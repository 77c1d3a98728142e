"""PSNR and sharpness difference as the official evaluation code of Mathieu et al. computes them.

The authors' Torch7 test script (``coupriec/VideoPredictionICLR2016``,
``image_error_measures.lua``, July 2016) produced the paper's Table 1. It works on frames
in ``[-1, 1]`` and converts errors to "[0, 255] units" by multiplying them by 128^2 before
dividing 255^2 by them:

* PSNR: ``10 log10(255^2 / (128^2 MSE))``, so ``10 log10(255^2 / (4 * 128^2)) = -0.034`` dB
  off a PSNR with a peak-to-peak of 2 (vidpred's);
* sharpness difference: ``10 log10(255^2 / (128^2 D))`` where ``D`` is the mean of a
  gradient term on ``[-1, 1]`` frames. The term is *linear* in the data while 128 is
  squared, so these are not the units of any data range; about 2.98 dB above vidpred's
  ``[0, 1]`` units (:func:`vidpred.metrics.sharpness_difference`), before the differences
  in the term itself:

  - each direction is compared separately, ``||dx Y| - |dx Yhat|| + ||dy Y| - |dy Yhat||``
    (vidpred, the project spec and the TensorFlow port by dyelax compare the sums,
    ``|(|dx Y| + |dy Y|) - (|dx Yhat| + |dy Yhat|)|``, which is never larger);
  - with ``dx`` the difference to the left neighbour and ``dy`` to the upper one, over the
    frame minus a 1-pixel border, but divided by the *whole* frame's ``C H W`` values;
* both are clamped: an error at or below 1e-4 (in the 128^2-scaled units) reads as 1e-4,
  so an exact prediction scores 88.13 dB instead of infinity.

Its moving-area evaluation sets every pixel outside the mask to -1 (black) in both the
prediction and the target, then applies these whole-frame functions; a frame whose masked
PSNR reaches 50 dB is left out of all three averages for that frame (see
:data:`OFFICIAL_PSNR_FILTER_DB`).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["OFFICIAL_EPS", "OFFICIAL_PSNR_FILTER_DB", "OFFICIAL_PSNR_OFFSET_DB", "official_db", "official_psnr",
           "official_sharpness", "official_sharpness_term"]

# The Torch7 code's floor on the 128^2-scaled error (its `eps`).
OFFICIAL_EPS = 1e-4
# `if psnr < 50 then ... nbvid = nbvid + 1 end`: frames at or above 50 dB are not averaged.
OFFICIAL_PSNR_FILTER_DB = 50.0
# The official PSNR minus vidpred's (peak-to-peak 2) for the same MSE, above the clamp.
OFFICIAL_PSNR_OFFSET_DB = 10 * math.log10(255.0**2 / (4 * 128.0**2))


def official_db(mean_error: Tensor) -> Tensor:
    """``10 log10(255^2 / max(128^2 * mean_error, 1e-4))``: a mean error on ``[-1, 1]`` data in
    the official code's dB (float64, elementwise; NaN stays NaN)."""
    scaled = (128.0**2 * mean_error.double()).clamp_min(OFFICIAL_EPS)
    return 10 * torch.log10(255.0**2 / scaled)


def official_psnr(pred: Tensor, target: Tensor) -> Tensor:
    """The official code's ``PSNR``: :func:`official_db` of the MSE over all ``C H W`` values.

    Args:
        pred: ``(B, C, H, W)`` in ``[-1, 1]``.
        target: ``(B, C, H, W)`` in ``[-1, 1]``.

    Returns:
        ``(B,)`` float64 dB, at most ``10 log10(255^2 / 1e-4) = 88.13``.
    """
    if pred.shape != target.shape or pred.dim() != 4:
        raise ValueError(f"official_psnr expects two (B, C, H, W) tensors, got {tuple(pred.shape)} and "
                         f"{tuple(target.shape)}")
    return official_db((pred.double() - target.double()).square().mean(dim=(1, 2, 3)))


def official_sharpness_term(pred: Tensor, target: Tensor) -> Tensor:
    r"""The official code's per-pixel sharpness term, on the frame minus a 1-pixel border.

    .. math:: \big||Y_{i,j-1} - Y_{ij}| - |\hat Y_{i,j-1} - \hat Y_{ij}|\big|
              + \big||Y_{i-1,j} - Y_{ij}| - |\hat Y_{i-1,j} - \hat Y_{ij}|\big|,
              \quad 1 \le i \le H-2,\ 1 \le j \le W-2

    Args:
        pred: ``(..., H, W)`` in ``[-1, 1]``, ``H, W >= 3``.
        target: the same shape.

    Returns:
        ``(..., H - 2, W - 2)`` float64.
    """
    def gradients(x: Tensor) -> tuple[Tensor, Tensor]:
        x = x.double()
        centre = x[..., 1:-1, 1:-1]
        return (x[..., 1:-1, :-2] - centre).abs(), (x[..., :-2, 1:-1] - centre).abs()

    pred_dx, pred_dy = gradients(pred)
    target_dx, target_dy = gradients(target)
    return (pred_dx - target_dx).abs() + (pred_dy - target_dy).abs()


def official_sharpness(pred: Tensor, target: Tensor) -> Tensor:
    """The official code's sharpness difference (``computel1difference``) per image.

    The term of :func:`official_sharpness_term` summed over the inner pixels and the
    channels, divided by all ``C H W`` values, in :func:`official_db`.

    Args:
        pred: ``(B, C, H, W)`` in ``[-1, 1]``, ``H, W >= 3``.
        target: ``(B, C, H, W)`` in ``[-1, 1]``.

    Returns:
        ``(B,)`` float64 dB, at most 88.13.

    Example:
        >>> target = torch.zeros(1, 1, 3, 3); target[..., 1, 1] = 1.0
        >>> official_sharpness(torch.zeros(1, 1, 3, 3), target)  # 10 log10(255^2 / (128^2 * 2 / 9))
        tensor([12.5187], dtype=torch.float64)
    """
    if pred.shape != target.shape or pred.dim() != 4 or min(pred.shape[-2:]) < 3:
        raise ValueError(f"official_sharpness expects two (B, C, H, W) tensors with H, W >= 3, got "
                         f"{tuple(pred.shape)} and {tuple(target.shape)}")
    C, H, W = pred.shape[1:]
    return official_db(official_sharpness_term(pred, target).sum(dim=(1, 2, 3)) / (C * H * W))


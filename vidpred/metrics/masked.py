"""PSNR, SSIM and sharpness difference restricted to a pixel mask ("moving areas").

Mathieu et al. (2016) score only the pixels that move (judged by optical flow). There are
two ways to turn a mask into one number, and they give different figures, so every
function here takes ``mode``:

* ``"compat"`` -- **paper-compatible**. Pixels outside the mask are copied from the
  target into the prediction, then the *whole-frame* metric is computed. Masked-out pixels
  contribute zero error but still count in the denominator, as in the official code, so
  the value grows with the static share of the frame (for PSNR by exactly
  ``10 log10(N / N_mask)`` dB over ``"moving"``). SSIM and sharpness see the composite
  image, so windows and neighbour differences that straddle the mask border mix predicted
  and true pixels.
* ``"moving"`` -- **moving pixels only** (honest). The per-pixel error term of each metric
  is averaged over the masked pixels only:

  - PSNR: ``10 log10(L^2 / MSE)`` with the MSE over masked pixels and all channels;
  - SSIM: the SSIM map (11x11 Gaussian window, sigma 1.5, no padding, as
    :func:`vidpred.metrics.ssim`) averaged over the masked pixels whose window lies inside
    the frame (the frame minus a 5-pixel border), all channels;
  - sharpness: the term ``|(∇i Y + ∇j Y) - (∇i Ŷ + ∇j Ŷ)|`` of
    :func:`vidpred.metrics.sharpness_difference` averaged over the masked pixels where it
    is defined (``i, j >= 1``), all channels, on frames mapped to ``[0, 1]``.

  An image whose mask selects no pixel gets NaN (the metric is undefined there).

A mask is ``(B, H, W)`` or ``(B, 1, H, W)``, boolean (or 0/1), shared by all channels.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from vidpred.metrics.psnr import psnr, psnr_from_mse
from vidpred.metrics.sharpness import sharpness_db, sharpness_difference, sharpness_term
from vidpred.metrics.ssim import SSIM_WINDOW, ssim, ssim_map

__all__ = ["MaskMode", "MASK_MODES", "masked_mean", "masked_psnr", "masked_ssim", "masked_sharpness_difference"]

MaskMode = Literal["compat", "moving"]
MASK_MODES: tuple[str, ...] = ("compat", "moving")


def _check(pred: Tensor, target: Tensor, mask: Tensor, mode: str, name: str) -> Tensor:
    """Validate the inputs and return the mask as float64 ``(B, 1, H, W)`` of 0/1."""
    if pred.shape != target.shape or pred.dim() != 4:
        raise ValueError(f"{name} expects two (B, C, H, W) tensors, got {tuple(pred.shape)} and {tuple(target.shape)}")
    if mode not in MASK_MODES:
        raise ValueError(f"{name}: mode must be one of {MASK_MODES}, got {mode!r}")
    if mask.dim() == 3:
        mask = mask.unsqueeze(1)
    B, _, H, W = pred.shape
    if mask.shape != (B, 1, H, W):
        raise ValueError(f"{name}: mask must be (B, H, W) or (B, 1, H, W) = {(B, 1, H, W)}, got {tuple(mask.shape)}")
    return (mask != 0).to(device=pred.device, dtype=torch.float64)


def _composite(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """The prediction inside the mask, the target outside: ``(B, C, H, W)`` float64."""
    return torch.where(mask.bool(), pred.double(), target.double())


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``values`` ``(..., C, h, w)`` over the channels and the pixels where ``mask``
    ``(..., 1, h, w)`` (0/1, broadcastable against ``values``) is 1: ``values.shape[:-3]``,
    NaN where the mask is empty.

    Example:
        >>> masked_mean(torch.tensor([[[[1.0, 3.0]]]]), torch.tensor([[[[0.0, 1.0]]]]))
        tensor([3.])
    """
    count = mask.sum(dim=(-3, -2, -1)) * values.shape[-3]
    total = (values * mask).sum(dim=(-3, -2, -1))
    return torch.where(count > 0, total / count.clamp_min(1), torch.full_like(total, float("nan")))


def masked_psnr(pred: Tensor, target: Tensor, mask: Tensor, mode: MaskMode = "moving",
                data_range: float = 2.0) -> Tensor:
    r"""Per-image PSNR in dB over the masked pixels.

    ``"moving"``: :math:`10 \log_{10}(L^2 / \mathrm{MSE}_M)` with
    :math:`\mathrm{MSE}_M = \frac{1}{C |M|} \sum_{p \in M} \sum_c (Y - \hat Y)^2`.
    ``"compat"``: the whole-frame PSNR of the composite (prediction inside ``M``, target
    outside), i.e. the same squared errors divided by ``C H W``.

    Args:
        pred: ``(B, C, H, W)`` in ``[-1, 1]``.
        target: ``(B, C, H, W)`` in ``[-1, 1]``.
        mask: ``(B, H, W)`` or ``(B, 1, H, W)``, nonzero = moving.
        mode: ``"moving"`` or ``"compat"`` (see the module docstring).
        data_range: peak-to-peak range ``L`` (2 for ``[-1, 1]``).

    Returns:
        ``(B,)`` float64 dB; ``inf`` for an exact match, NaN for an empty mask in ``"moving"``.

    Example:
        >>> t = torch.zeros(1, 3, 4, 4); p = t.clone(); p[..., :2, :] = 0.5
        >>> m = torch.zeros(1, 4, 4, dtype=torch.bool); m[:, :2, :] = True
        >>> masked_psnr(p, t, m, "moving")  # MSE 0.25 over the mask
        tensor([12.0412], dtype=torch.float64)
    """
    m = _check(pred, target, mask, mode, "masked_psnr")
    if mode == "compat":
        return psnr(_composite(pred, target, m), target.double(), data_range)
    return psnr_from_mse(masked_mean((pred.double() - target.double()).square(), m), data_range)


def masked_ssim(pred: Tensor, target: Tensor, mask: Tensor, mode: MaskMode = "moving",
                data_range: float = 2.0, window_size: int = SSIM_WINDOW) -> Tensor:
    r"""Per-image SSIM (11x11 Gaussian window, sigma 1.5) over the masked pixels.

    ``"moving"``: the SSIM map, computed without padding (one value per pixel whose window
    lies inside the frame, i.e. excluding a ``(window_size - 1) // 2`` border), averaged
    over the masked pixels of that region and the channels. Equals
    ``skimage.metrics.structural_similarity(..., full=True)``'s map averaged over the mask
    inside the same border.
    ``"compat"``: :func:`vidpred.metrics.ssim` of the composite (prediction inside the
    mask, target outside) against the target; windows wholly outside the mask score 1.

    Args:
        pred: ``(B, C, H, W)`` in ``[-1, 1]``, ``H, W >= window_size``.
        target: ``(B, C, H, W)`` in ``[-1, 1]``.
        mask: ``(B, H, W)`` or ``(B, 1, H, W)``, nonzero = moving.
        mode: ``"moving"`` or ``"compat"``.
        data_range: ``L`` of the constants, as :func:`~vidpred.metrics.ssim.ssim`'s (frames in ``[-1, 1]``).
        window_size: odd number of Gaussian taps.

    Returns:
        ``(B,)`` float64 in ``[-1, 1]``; NaN in ``"moving"`` when no masked pixel lies
        inside the border.
    """
    m = _check(pred, target, mask, mode, "masked_ssim")
    if mode == "compat":
        return ssim(_composite(pred, target, m), target.double(), data_range, window_size)
    if window_size % 2 == 0 or min(pred.shape[-2:]) < window_size:
        raise ValueError(
            f"masked_ssim needs an odd window_size no larger than H and W, got {window_size} for {tuple(pred.shape)}"
        )
    values = ssim_map(pred, target, data_range, window_size)  # (B, C, H - 2r, W - 2r)
    r = (window_size - 1) // 2
    H, W = pred.shape[-2:]
    return masked_mean(values, m[..., r:H - r, r:W - r])


def masked_sharpness_difference(pred: Tensor, target: Tensor, mask: Tensor, mode: MaskMode = "moving",
                                max_value: float = 1.0) -> Tensor:
    r"""Per-image sharpness difference in dB over the masked pixels.

    With :math:`g(Y)_{ij} = |Y_{ij} - Y_{i-1,j}| + |Y_{ij} - Y_{i,j-1}|` on frames mapped to
    ``[0, 1]`` (see :func:`vidpred.metrics.sharpness_difference` for why):

    ``"moving"``: :math:`10 \log_{10}(\max^2 / \frac{1}{C|M'|}\sum_{(i,j) \in M'} \sum_c
    |g(Y) - g(\hat Y)|)` where ``M'`` is the mask on the pixels with ``i, j >= 1``.
    ``"compat"``: the whole-frame sharpness difference of the composite (prediction inside
    the mask, target outside); a masked pixel's upper and left neighbours may come from the
    target.

    Args:
        pred: ``(B, C, H, W)`` in ``[-1, 1]``, ``H, W >= 2``.
        target: ``(B, C, H, W)`` in ``[-1, 1]``.
        mask: ``(B, H, W)`` or ``(B, 1, H, W)``, nonzero = moving.
        mode: ``"moving"`` or ``"compat"``.
        max_value: peak value in ``[0, 1]`` units.

    Returns:
        ``(B,)`` float64 dB; ``inf`` for matching gradients, NaN for an empty mask in
        ``"moving"``.
    """
    m = _check(pred, target, mask, mode, "masked_sharpness_difference")
    if min(pred.shape[-2:]) < 2:
        raise ValueError(f"masked_sharpness_difference needs H, W >= 2, got {tuple(pred.shape)}")
    if mode == "compat":
        return sharpness_difference(_composite(pred, target, m), target.double(), max_value)
    return sharpness_db(masked_mean(sharpness_term(pred, target), m[..., 1:, 1:]), max_value)

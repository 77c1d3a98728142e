"""Structural dissimilarity loss (Zhao et al. 2017, "Loss functions for image restoration with neural networks").

One minus the SSIM of the evaluation (:func:`vidpred.metrics.ssim.ssim`: an 11-tap Gaussian
window of std 1.5, the valid region, the means read as intensities above black), computed in
the prediction's dtype with a gradient. Where L1 weighs each pixel's error alone, SSIM
weighs a window's contrast and structure: a prediction that softens fine texture (foliage,
grain) by resampling it loses SSIM that a small L1 gain can hide.
"""

from __future__ import annotations

import torch
from torch import Tensor

from vidpred.losses._frames import as_image_batch
from vidpred.metrics.ssim import SSIM_WINDOW, gaussian_window

__all__ = ["ssim_loss"]

_SIGMA = 1.5


def _band(n: int, like: Tensor) -> Tensor:
    """``(n, n - 10)``: column ``j`` holds the Gaussian window's taps in rows ``j .. j + 10``."""
    taps = gaussian_window(SSIM_WINDOW, _SIGMA).to(like)
    band = like.new_zeros(n, n - SSIM_WINDOW + 1)
    for j in range(n - SSIM_WINDOW + 1):
        band[j:j + SSIM_WINDOW, j] = taps
    return band


def _blur_valid(x: Tensor) -> Tensor:
    """:func:`~vidpred.metrics.ssim.blur_valid` with the SSIM window, as two products with
    banded matrices: the same sums, with a gradient. On training crops (128 px) the loss and
    its gradient take several times less time on the CPU than through one-channel
    convolutions: a matrix product multiplies more zeros but is far better vectorised."""
    return _band(x.shape[-2], x).transpose(0, 1) @ x @ _band(x.shape[-1], x)


def ssim_loss(pred: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    r"""One minus the mean SSIM of each predicted frame against its target.

    .. math::

        \mathcal{L}_{ssim}(\hat Y, Y) = \frac{1}{|P|} \sum_{p \in P} \big(1 - \mathrm{SSIM}(\hat Y, Y)(p)\big)

    over ``P``, every channel's pixels whose 11x11 window lies inside the frame, of every frame
    of every clip; 0 for identical frames, at most 2 (SSIM lies in ``[-1, 1]``).

    Args:
        pred, target: ``(B, C, T, H, W)`` or ``(B, C, H, W)`` float in ``[-1, 1]``, the same shape, ``H, W >= 11``.
        reduction: ``"mean"`` (the formula) or ``"sum"`` (over pixels instead of averaged).

    Example:
        >>> import torch
        >>> target = torch.linspace(-1, 1, 16 * 16).view(1, 1, 16, 16)
        >>> abs(float(ssim_loss(target, target))) < 1e-6  # float32: 0 to rounding
        True
        >>> flat = torch.zeros(1, 1, 16, 16)  # two flat greys, 127.5 and 63.75 of 255: luminance alone
        >>> round(float(ssim_loss(flat, flat - 0.5)), 5)  # 1 - (2 * 127.5 * 63.75 + 2.55^2) / (127.5^2 + 63.75^2 + 2.55^2)
        0.19994
    """
    pred, target = as_image_batch(pred, target, reduction)
    if min(pred.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(f"ssim_loss needs frames of at least {SSIM_WINDOW} px, got {tuple(pred.shape[-2:])}")
    x, y = pred, target.to(pred.dtype)
    mu_x, mu_y, e_xx, e_yy, e_xy = _blur_valid(torch.stack([x, y, x * x, y * y, x * y]))
    # ssim_from_moments' formula, out of place so that the gradient flows (it builds the map in
    # its inputs' memory); the means as intensities above black (-1)
    c1, c2 = (0.01 * 2) ** 2, (0.03 * 2) ** 2
    lum_x, lum_y = mu_x + 1, mu_y + 1
    structure = (2 * (e_xy - mu_x * mu_y) + c2) / (e_xx - mu_x.square() + e_yy - mu_y.square() + c2)
    dissimilarity = 1 - (2 * lum_x * lum_y + c1) / (lum_x.square() + lum_y.square() + c1) * structure
    return dissimilarity.mean() if reduction == "mean" else dissimilarity.sum()

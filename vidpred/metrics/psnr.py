"""Peak signal-to-noise ratio (Mathieu et al. 2016; the sharper-predictions article, "Evaluation metrics")."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["psnr", "psnr_from_mse"]


def psnr(pred: Tensor, target: Tensor, data_range: float = 2.0) -> Tensor:
    r"""Per-image PSNR in dB.

    .. math:: \mathrm{PSNR}(Y, \hat Y) = 10 \log_{10} \frac{L^2}{\frac{1}{N}\sum (Y - \hat Y)^2}

    with ``N = C * H * W`` and ``L = data_range`` (2 for ``[-1, 1]`` frames, the peak to
    peak of the data, as ``skimage.metrics.peak_signal_noise_ratio(data_range=2)``).
    Computed in float64 whatever the input dtype; identical images give ``inf``.

    Args:
        pred: ``(B, C, H, W)`` in ``[-1, 1]``.
        target: ``(B, C, H, W)`` in ``[-1, 1]``.
        data_range: peak-to-peak range of the data.

    Returns:
        ``(B,)`` float64, dB.
    """
    if pred.shape != target.shape or pred.dim() != 4:
        raise ValueError(f"psnr expects two (B, C, H, W) tensors, got {tuple(pred.shape)} and {tuple(target.shape)}")
    return psnr_from_mse((pred.double() - target.double()).square().mean(dim=(1, 2, 3)), data_range)


def psnr_from_mse(mse: Tensor, data_range: float = 2.0) -> Tensor:
    """``10 log10(data_range^2 / mse)`` elementwise: the dB of any mean squared error (a whole
    frame's, a masked one's, a floored one's); ``inf`` for 0, NaN stays NaN."""
    # data_range**2 / 0 = inf and log10(inf) = inf: no special case needed, and no warning.
    return 10 * torch.log10(data_range**2 / mse)

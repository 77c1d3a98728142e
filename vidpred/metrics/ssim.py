"""Structural similarity (Wang et al. 2004), the SSIM column of Mathieu et al. 2016's Table 1."""

from __future__ import annotations

import kornia
from torch import Tensor

__all__ = ["ssim"]


def ssim(pred: Tensor, target: Tensor, data_range: float = 2.0, window_size: int = 11, sigma: float = 1.5) -> Tensor:
    r"""Per-image mean SSIM with a Gaussian window.

    .. math::

        \mathrm{SSIM}(x, y) = \frac{(2\mu_x\mu_y + c_1)(2\sigma_{xy} + c_2)}
            {(\mu_x^2 + \mu_y^2 + c_1)(\sigma_x^2 + \sigma_y^2 + c_2)},
        \quad c_1 = (0.01 L)^2,\ c_2 = (0.03 L)^2

    with local statistics under an ``window_size`` x ``window_size`` Gaussian window of std
    ``sigma`` (population covariance), averaged over channels and the valid region (the
    ``(window_size - 1) // 2`` border pixels, where the window leaves the image, are
    dropped). This matches ``skimage.metrics.structural_similarity(..., data_range=2,
    gaussian_weights=True, sigma=1.5, use_sample_covariance=False, channel_axis=...)``,
    whose window for sigma 1.5 is 11 taps. The map comes from ``kornia.metrics.ssim``
    with ``eps=0`` and ``padding="valid"``; computed in float64.

    Args:
        pred: ``(B, C, H, W)`` in ``[-1, 1]``; ``H, W >= window_size``.
        target: ``(B, C, H, W)`` in ``[-1, 1]``.
        data_range: peak-to-peak range of the data (``L``).
        window_size: odd number of Gaussian taps.
        sigma: Gaussian std; kornia fixes it at 1.5, so other values raise ``ValueError``.

    Returns:
        ``(B,)`` float64 in ``[-1, 1]``.
    """
    if pred.shape != target.shape or pred.dim() != 4:
        raise ValueError(f"ssim expects two (B, C, H, W) tensors, got {tuple(pred.shape)} and {tuple(target.shape)}")
    if sigma != 1.5:
        raise ValueError(f"ssim: kornia.metrics.ssim uses a fixed Gaussian sigma of 1.5, got sigma={sigma}")
    if window_size % 2 == 0 or min(pred.shape[-2:]) < window_size:
        raise ValueError(
            f"ssim needs an odd window_size no larger than H and W, got {window_size} for {tuple(pred.shape)}"
        )
    ssim_map = kornia.metrics.ssim(
        pred.double(), target.double(), window_size, max_val=float(data_range), eps=0.0, padding="valid"
    )  # (B, C, H - window_size + 1, W - window_size + 1)
    return ssim_map.mean(dim=(1, 2, 3))

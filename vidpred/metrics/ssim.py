"""Structural similarity (Wang et al. 2004), the SSIM column of Mathieu et al. 2016's Table 1."""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["SSIM_WINDOW", "ssim", "ssim_map", "ssim_from_moments", "gaussian_window", "blur_valid"]

SSIM_WINDOW = 11  # taps of the protocol's Gaussian window (sigma 1.5): scikit-image's and kornia's


def gaussian_window(window_size: int = SSIM_WINDOW, sigma: float = 1.5) -> Tensor:
    """The 1-D Gaussian taps ``exp(-n^2 / 2 sigma^2)`` at integer offsets ``n`` from the centre,
    normalised to sum 1: ``(window_size,)`` float64 (scikit-image's and kornia's window)."""
    offsets = torch.arange(window_size, dtype=torch.float64) - (window_size - 1) / 2
    taps = torch.exp(-offsets.square() / (2 * sigma**2))
    return taps / taps.sum()


def blur_valid(x: Tensor, window: Tensor) -> Tensor:
    """Separable filtering of every plane of ``x`` by ``window`` (both axes), valid part only.

    Args:
        x: ``(..., H, W)``; ``H, W >= len(window)``.
        window: odd number of taps, ``(K,)``.

    Returns:
        ``(..., H - K + 1, W - K + 1)``, same dtype and device as ``x``.

    On the CPU in float64 the planes go through OpenCV's separable filter, several times
    faster than a float64 ``conv2d`` (which has no vectorised kernel); elsewhere through two
    depthwise convolutions. Both sum the same products, so they agree to rounding (1e-16).
    The OpenCV path carries no gradient: the SSIM loss (:mod:`vidpred.losses.ssim`) blurs
    with banded matrix products of its own.
    """
    K = window.numel()
    r = (K - 1) // 2
    H, W = x.shape[-2:]
    planes = x.reshape(-1, H, W)
    if x.device.type == "cpu" and x.dtype == torch.float64:
        source = planes.detach().contiguous().numpy()
        taps = window.to(torch.float64).numpy()
        out = np.empty_like(source)
        for i in range(len(source)):  # dst= writes in place: no fresh memory per plane
            cv2.sepFilter2D(source[i], cv2.CV_64F, taps, taps, dst=out[i], borderType=cv2.BORDER_REFLECT)
        blurred = torch.from_numpy(out[:, r:H - r, r:W - r])
    else:
        w = window.to(dtype=x.dtype, device=x.device)
        blurred = F.conv2d(planes.unsqueeze(1), w.view(1, 1, 1, K))
        blurred = F.conv2d(blurred, w.view(1, 1, K, 1)).squeeze(1)
    return blurred.reshape(*x.shape[:-2], H - 2 * r, W - 2 * r)


def ssim_from_moments(mu_x: Tensor, mu_y: Tensor, e_xx: Tensor, e_yy: Tensor, e_xy: Tensor,
                      data_range: float = 2.0, low: float = -1.0) -> Tensor:
    r"""The SSIM map from local moments ``E[x], E[y], E[x^2], E[y^2], E[xy]``.

    Population (co)variances ``E[x^2] - E[x]^2``; constants ``(0.01 L)^2, (0.03 L)^2``.
    The luminance term reads the means as intensities above black, ``E[x] - low``: SSIM is
    defined on nonnegative intensities, and on signed data its luminance term would change
    with the offset (mid-grey patches 25 grey levels apart would score about -0.96 on
    ``[-1, 1]`` data, not 0.98), so on ``[-1, 1]`` frames it equals SSIM on the same frames
    as 8-bit ``[0, 255]`` or ``[0, 1]`` images. Separate from :func:`ssim_map` so that
    moments shared between several comparisons (one target against several predictions)
    are filtered once: the ``y`` moments may broadcast against the ``x`` ones.

    The ``x`` moments ``mu_x``, ``e_xx`` and ``e_xy`` are overwritten (the map is built in
    their memory: a 240x320 comparison would otherwise allocate a dozen fresh images);
    ``mu_y`` and ``e_yy`` are only read.
    """
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    var_y = e_yy - mu_y.square()
    covariance = e_xy.sub_(mu_x * mu_y)
    var_x = e_xx.sub_(mu_x.square())
    lum_y = mu_y - low
    lum_x = mu_x.sub_(low)
    numerator = covariance.mul_(2).add_(c2).mul_(lum_x * lum_y * 2 + c1)  # (2 s_xy + c2)(2 l_x l_y + c1)
    denominator = var_x.add_(var_y).add_(c2).mul_(lum_x.square_().add_(lum_y.square_()).add_(c1))
    return numerator.div_(denominator)


def _check(pred: Tensor, target: Tensor, window_size: int, sigma: float, name: str) -> None:
    if pred.shape != target.shape or pred.dim() != 4:
        raise ValueError(f"{name} expects two (B, C, H, W) tensors, got {tuple(pred.shape)} and {tuple(target.shape)}")
    if sigma != 1.5:
        raise ValueError(f"{name}: the Gaussian window of the protocol has sigma 1.5, got sigma={sigma}")
    if window_size % 2 == 0 or min(pred.shape[-2:]) < window_size:
        raise ValueError(
            f"{name} needs an odd window_size no larger than H and W, got {window_size} for {tuple(pred.shape)}"
        )


def ssim_map(pred: Tensor, target: Tensor, data_range: float = 2.0, window_size: int = SSIM_WINDOW,
             sigma: float = 1.5) -> Tensor:
    """The SSIM map without padding: one value per pixel whose window lies inside the frame.

    Args:
        pred: ``(B, C, H, W)`` in ``[-1, 1]``; ``H, W >= window_size``.
        target: ``(B, C, H, W)`` in ``[-1, 1]``.
        data_range: ``L`` of the constants ``c1, c2``; the frames are in ``[-1, 1]`` whatever it
            is (their black is -1: frames in ``[0, 1]`` must be mapped to ``2 x - 1`` first).
        window_size: odd number of Gaussian taps.
        sigma: Gaussian std; the protocol's 1.5 only.

    Returns:
        ``(B, C, H - 2r, W - 2r)`` float64 with ``r = (window_size - 1) // 2``.
    """
    _check(pred, target, window_size, sigma, "ssim_map")
    x, y = pred.double(), target.double()
    window = gaussian_window(window_size, sigma)
    # One filtering pass over the five moment images of every channel and image.
    mu_x, mu_y, e_xx, e_yy, e_xy = blur_valid(torch.stack([x, y, x * x, y * y, x * y]), window)  # (B, C, h, w) each
    return ssim_from_moments(mu_x, mu_y, e_xx, e_yy, e_xy, data_range=data_range)


def ssim(pred: Tensor, target: Tensor, data_range: float = 2.0, window_size: int = SSIM_WINDOW,
         sigma: float = 1.5) -> Tensor:
    r"""Per-image mean SSIM with a Gaussian window.

    .. math::

        \mathrm{SSIM}(x, y) = \frac{(2\mu_x\mu_y + c_1)(2\sigma_{xy} + c_2)}
            {(\mu_x^2 + \mu_y^2 + c_1)(\sigma_x^2 + \sigma_y^2 + c_2)},
        \quad c_1 = (0.01 L)^2,\ c_2 = (0.03 L)^2

    with local statistics under an ``window_size`` x ``window_size`` Gaussian window of std
    ``sigma`` (population covariance), averaged over channels and the valid region (the
    ``(window_size - 1) // 2`` border pixels, where the window leaves the image, are
    dropped), and the means taken as intensities above black (``x + 1``, see
    :func:`ssim_from_moments`). This matches
    ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, channel_axis=...)`` on the same frames as ``[0, 255]``
    images with ``data_range=255`` (or ``[0, 1]`` with 1), whose window for sigma 1.5 is 11
    taps, and ``kornia.metrics.ssim(..., eps=0, padding="valid")`` on ``[0, 1]`` images.
    Computed in float64 (:func:`ssim_map`).

    Args:
        pred: ``(B, C, H, W)`` in ``[-1, 1]``; ``H, W >= window_size``.
        target: ``(B, C, H, W)`` in ``[-1, 1]``.
        data_range: ``L`` of the constants ``c1, c2``; the frames are in ``[-1, 1]`` whatever it
            is (their black is -1: frames in ``[0, 1]`` must be mapped to ``2 x - 1`` first).
        window_size: odd number of Gaussian taps.
        sigma: Gaussian std; only the protocol's 1.5 (other values raise ``ValueError``).

    Returns:
        ``(B,)`` float64 in ``[-1, 1]``.
    """
    _check(pred, target, window_size, sigma, "ssim")
    return ssim_map(pred, target, data_range, window_size, sigma).mean(dim=(1, 2, 3))

"""Temporal flicker: the share of a clip's temporal energy at high frequencies (the path-loss note).

The path-loss note argues that per-frame losses cannot tell a smooth prediction from one that
flickers ([129, 129, 129] and [127, 129, 127] have the same MSE against [128, 128, 128])
and proposes to look at the temporal spectrum: "take an 1D FFT of each pixel ... we should
see more high frequency components in the predicted videos". This module turns that into
one number per clip, to be compared between a predicted clip and its target clip.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["temporal_energy", "temporal_high_frequency_share", "HIGH_FREQUENCY_CUTOFF"]

# Frequencies are in cycles per frame, from 0 to the Nyquist 0.5; the upper half starts
# strictly above 0.25, so with 4 frames only the frame-to-frame alternation counts as high.
HIGH_FREQUENCY_CUTOFF = 0.25
# Temporal energy per value below which a clip counts as unchanging. Rounding leaves ~1e-32
# in the FFT of a constant; one grey level of change on one pixel is ~1e-5: far apart.
_STATIC_ENERGY = 1e-20


def temporal_energy(clip: Tensor) -> tuple[Tensor, Tensor]:
    r"""Temporal spectral energy of every pixel, summed per clip: ``(high, total)``.

    For each pixel and channel, :math:`X_k = \sum_t x_t e^{-2\pi i k t / T}` (a full FFT
    along time); the energy at frequency :math:`f_k` (``torch.fft.fftfreq(T)``, cycles per
    frame) is :math:`|X_k|^2`. ``total`` sums it over every non-zero frequency (the DC term
    is the pixel's mean brightness, not change), ``high`` over :math:`|f_k| > 0.25`, the
    upper half of the temporal band. By Parseval, ``total = T * sum_t (x_t - mean)^2``.

    Args:
        clip: ``(B, C, T, H, W)`` in ``[-1, 1]``, ``T >= 2``.

    Returns:
        ``(high, total)``, each ``(B,)`` float64, summed over channels and pixels.
    """
    if clip.dim() != 5 or clip.shape[2] < 2:
        raise ValueError(f"temporal_energy expects (B, C, T, H, W) with T >= 2, got {tuple(clip.shape)}")
    B, C, T, H, W = clip.shape
    if B > 1:  # one clip at a time: the same sums, a 1/B of the memory (5 GB for five 1080x1920 clips at once)
        parts = [temporal_energy(clip[i:i + 1]) for i in range(B)]
        return torch.cat([high for high, _ in parts]), torch.cat([total for _, total in parts])
    x = clip.double()
    # Removing the mean first keeps a constant pixel's non-DC energy at rounding level.
    deviation = (x - x.mean(dim=2, keepdim=True)).transpose(1, 2).reshape(B, T, C * H * W)
    # The spectrum as dot products with each frequency's cosine and sine over time: the
    # same sums as an FFT along time, which on this strided axis took twice as long.
    t = torch.arange(T, dtype=torch.float64, device=clip.device)
    frequencies = torch.fft.fftfreq(T, dtype=torch.float64, device=clip.device)[1:]  # cycles per frame, no DC
    phase = 2 * torch.pi * frequencies[:, None] * t[None, :]  # (T - 1, T)
    parts = torch.matmul(torch.cat([torch.cos(phase), torch.sin(phase)]), deviation)  # (B, 2 (T - 1), C H W)
    per_frequency = parts.square().sum(dim=2)  # (B, 2 (T - 1))
    per_frequency = per_frequency[:, :T - 1] + per_frequency[:, T - 1:]  # |X_k|^2 = Re^2 + Im^2
    high = per_frequency[:, frequencies.abs() > HIGH_FREQUENCY_CUTOFF].sum(dim=1)
    total = per_frequency.sum(dim=1)
    return high, total


def temporal_high_frequency_share(clip: Tensor) -> Tensor:
    r"""Share of a clip's temporal (non-DC) energy above 0.25 cycles per frame.

    ``high / total`` from :func:`temporal_energy`: low for a clip that changes smoothly (a
    linear ramp over 4 frames gives 0.2), 1 for a pure frame-to-frame alternation. A clip
    that does not change at all (temporal energy below 1e-20 per value, i.e. rounding
    noise) is defined to have share 0: nothing flickers. Compare a prediction's share with its target's: a higher share than the
    target's means the prediction flickers.

    Args:
        clip: ``(B, C, T, H, W)`` in ``[-1, 1]``, ``T >= 2`` (use at least 4 frames: with
            2 or 3 every change is "high").

    Returns:
        ``(B,)`` float64 in ``[0, 1]``.

    Example:
        >>> target = torch.full((1, 1, 3, 1, 1), 128 / 127.5 - 1)
        >>> smooth, flicker = target + 1 / 127.5, target + torch.tensor([-1., 1., -1.]).view(1, 1, 3, 1, 1) / 127.5
        >>> temporal_high_frequency_share(torch.cat([target, smooth, flicker]))
        tensor([0., 0., 1.], dtype=torch.float64)
    """
    high, total = temporal_energy(clip)
    changes = total > _STATIC_ENERGY * clip[0].numel()
    return torch.where(changes, high / total.clamp_min(torch.finfo(torch.float64).tiny), torch.zeros_like(total))

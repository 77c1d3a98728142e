"""Laplacian-pyramid L1 loss (Lap1 of Bojanowski et al. 2018, "Optimizing the latent space of generative networks").

An L1 distance taken band by band: a misplaced edge costs at the fine bands, a wrong
brightness or a shifted blob at the coarse ones, each band weighted the same per pixel.
"""

from __future__ import annotations

import torch.nn.functional as F
from kornia.geometry.transform import pyrdown
from torch import Tensor

from vidpred.losses._frames import as_image_batch

__all__ = ["laplacian_pyramid", "laplacian_loss", "smallest_frame"]


def _up(x: Tensor, size) -> Tensor:
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)


def smallest_frame(levels: int) -> int:
    """The smallest frame side a pyramid of ``levels`` levels takes: ``3 * 2^(levels-2)``, 1 for one level.

    Each pyrdown pads its input by reflecting 2 pixels (the 5x5 Gaussian), which needs at least 3,
    and the last of the ``levels - 1`` pyrdowns gets ``floor(side / 2^(levels-2))`` pixels.
    """
    return 1 if levels <= 1 else 3 * 2 ** (levels - 2)


def laplacian_pyramid(image: Tensor, levels: int) -> list[Tensor]:
    """Band-pass levels of ``image`` ``(N, C, H, W)``, finest first; the last is the low-pass residual.

    ``G_0 = image``, ``G_{j+1} = pyrdown(G_j)`` (Gaussian 5x5, then half size); level ``j < levels - 1``
    is ``G_j - up(G_{j+1})`` (bilinear, to ``G_j``'s size) and the last is ``G_{levels-1}``:
    ``image`` is rebuilt exactly by ``G_j = L_j + up(G_{j+1})`` from the coarsest level up.
    ``H, W >= smallest_frame(levels)``.
    """
    if levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels}")
    if min(image.shape[-2:]) < smallest_frame(levels):
        raise ValueError(f"{levels} levels need frames of at least {smallest_frame(levels)} px, "
                         f"got {tuple(image.shape[-2:])}")
    bands, current = [], image
    for _ in range(levels - 1):
        smaller = pyrdown(current)
        bands.append(current - _up(smaller, current.shape[-2:]))
        current = smaller
    bands.append(current)
    return bands


def laplacian_loss(pred: Tensor, target: Tensor, levels: int = 4, reduction: str = "mean") -> Tensor:
    r"""Sum over pyramid levels of the mean absolute difference of the levels.

    .. math::

        \mathcal{L}_{lap}(\hat Y, Y) = \sum_{j=0}^{J-1} \frac{1}{|L^j|} \lVert L^j(\hat Y) - L^j(Y) \rVert_1

    with :func:`laplacian_pyramid`'s levels; the per-level mean is Lap1's ``2^{2j}`` weighting
    of sums, since level ``j`` has ``4^{-j}`` as many pixels.

    Args:
        pred, target: ``(B, C, T, H, W)`` or ``(B, C, H, W)`` in ``[-1, 1]``, the same shape, ``H, W >=``
            :func:`smallest_frame` ``(levels)`` (12 px for 4 levels).
        levels: pyramid levels, >= 1 (1: plain L1).
        reduction: ``"mean"`` (the formula) or ``"sum"`` (each level summed instead of averaged).

    Example:
        >>> import torch
        >>> target = torch.zeros(1, 1, 16, 16)
        >>> float(laplacian_loss(target + 0.5, target))  # a constant offset lives in the low-pass level only
        0.5
    """
    pred, target = as_image_batch(pred, target, reduction)
    bands = zip(laplacian_pyramid(pred, levels), laplacian_pyramid(target, levels))
    diffs = [(a - b).abs() for a, b in bands]
    return sum(d.mean() if reduction == "mean" else d.sum() for d in diffs)

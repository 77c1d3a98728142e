"""Sharpness: the difference of Mathieu et al. 2016 (the sharper-predictions article, "Evaluation metrics") and the edge ratio.

The sharpness difference scores how well the prediction's gradients *match* the target's,
so a prediction that is sharp in the wrong places scores low, and so does a blurred one:
it cannot tell them apart. :func:`edge_ratio` can: it compares how much edge content
each has, wherever it is.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["edge_ratio", "sharpness_difference", "sharpness_term", "sharpness_db"]


def _gradient_magnitude_sum(x: Tensor) -> Tensor:
    """``|x_ij - x_(i-1)j| + |x_ij - x_i(j-1)|`` for ``i, j >= 1``: ``(B, C, H-1, W-1)``."""
    vertical = (x[..., 1:, 1:] - x[..., :-1, 1:]).abs()
    horizontal = (x[..., 1:, 1:] - x[..., 1:, :-1]).abs()
    return vertical + horizontal


def sharpness_term(pred: Tensor, target: Tensor) -> Tensor:
    r"""The per-pixel term of the sharpness difference, ``|(∇i Y + ∇j Y) - (∇i Ŷ + ∇j Ŷ)|``.

    On frames mapped from ``[-1, 1]`` to ``[0, 1]`` (see :func:`sharpness_difference` for
    why), where both neighbours exist (``i, j >= 1``).

    Args:
        pred: ``(..., H, W)`` in ``[-1, 1]``, ``H, W >= 2``.
        target: ``(..., H, W)`` in ``[-1, 1]``, broadcastable against ``pred``.

    Returns:
        ``(..., H - 1, W - 1)`` float64.
    """
    return (_gradient_magnitude_sum((target.double() + 1) / 2) - _gradient_magnitude_sum((pred.double() + 1) / 2)).abs()


def sharpness_db(mean_term: Tensor, max_value: float = 1.0) -> Tensor:
    """``10 log10(max_value^2 / mean_term)`` elementwise: the dB of a mean of :func:`sharpness_term`
    (over a whole frame, a mask, or floored); ``inf`` for 0, NaN stays NaN."""
    return 10 * torch.log10(max_value**2 / mean_term)


def sharpness_difference(pred: Tensor, target: Tensor, max_value: float = 1.0) -> Tensor:
    r"""Per-image sharpness difference in dB (higher: the prediction's edges match better).

    .. math::

        \mathrm{Sharp.diff}(Y, \hat Y) = 10 \log_{10} \frac{\max^2}
            {\frac{1}{N} \sum_{i,j} \big|(\nabla_i Y + \nabla_j Y) - (\nabla_i \hat Y + \nabla_j \hat Y)\big|},
        \quad \nabla_i Y = |Y_{i,j} - Y_{i-1,j}|,\ \nabla_j Y = |Y_{i,j} - Y_{i,j-1}|

    over the ``(H-1) x (W-1)`` pixels where both neighbours exist and all channels
    (``N = C (H-1)(W-1)``).

    Units: unlike PSNR the denominator is a mean *absolute* difference, so the value is
    not invariant to rescaling the data range (doubling the range adds only 3 dB where
    PSNR would stay put). To fix the units, frames are mapped from ``[-1, 1]`` to
    ``[0, 1]`` before the gradients are taken, and ``max_value`` is 1; computing on
    ``[-1, 1]`` instead would read 3.01 dB lower. Computed in float64; identical images
    give ``inf``.

    Args:
        pred: ``(B, C, H, W)`` in ``[-1, 1]``, ``H, W >= 2``.
        target: ``(B, C, H, W)`` in ``[-1, 1]``.
        max_value: peak value in the ``[0, 1]`` units.

    Returns:
        ``(B,)`` float64, dB.
    """
    if pred.shape != target.shape or pred.dim() != 4 or min(pred.shape[-2:]) < 2:
        raise ValueError(
            f"sharpness_difference expects two (B, C, H, W) tensors with H, W >= 2, "
            f"got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
    return sharpness_db(sharpness_term(pred, target).mean(dim=(1, 2, 3)), max_value)


def edge_ratio(pred: Tensor, target: Tensor) -> Tensor:
    r"""Per-image edge content of the prediction relative to the target's (1: as sharp as the truth).

    .. math::

        \mathrm{Edges}(\hat Y, Y) = \frac{\sum_{i,j} \nabla_i \hat Y + \nabla_j \hat Y}
                                        {\sum_{i,j} \nabla_i Y + \nabla_j Y}

    with the absolute neighbour differences of :func:`sharpness_difference`, over all
    channels. Below 1 the prediction is smoother than the truth (blur); above 1 it holds
    more edges than the truth (noise, ringing, or texture invented by an adversarial
    term). It does not say whether the edges are in the right place; the sharpness
    difference and PSNR do.

    Args:
        pred: ``(B, C, H, W)`` in ``[-1, 1]``, ``H, W >= 2``.
        target: ``(B, C, H, W)`` in ``[-1, 1]``.

    Returns:
        ``(B,)`` float64; NaN where the target has no edge at all.

    Example:
        >>> target = torch.tensor([[[[-1.0, 1.0], [1.0, -1.0]]]])
        >>> float(edge_ratio(0.5 * target, target))
        0.5
    """
    if pred.shape != target.shape or pred.dim() != 4 or min(pred.shape[-2:]) < 2:
        raise ValueError(
            f"edge_ratio expects two (B, C, H, W) tensors with H, W >= 2, got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
    edges_pred = _gradient_magnitude_sum(pred.double()).sum(dim=(1, 2, 3))
    edges_target = _gradient_magnitude_sum(target.double()).sum(dim=(1, 2, 3))
    return torch.where(edges_target > 0, edges_pred / edges_target.clamp_min(1e-300),
                       torch.full_like(edges_target, float("nan")))

"""Gradient difference loss (GDL), Mathieu et al. 2016; formula as in the sharper-predictions article, "Combining losses"."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["gradient_difference_loss"]


def _abs_pow(x: Tensor, alpha: float) -> Tensor:
    """``|x|**alpha`` with a finite (zero) gradient at ``x = 0`` for every ``alpha > 0``.

    For ``alpha < 1`` the derivative of ``|x|**alpha`` is infinite at 0, and autograd's
    ``inf * 0`` turns it into NaN; that happens whenever prediction and target have equal
    gradients at a pixel (flat regions, saturated tanh). Taking the power only where
    ``x != 0`` keeps the value exact and picks 0 as the subgradient there.
    """
    magnitude = x.abs()
    if alpha == 1:
        return magnitude
    if alpha == 2:
        return x.square()
    if alpha > 1:
        return magnitude.pow(alpha)  # derivative alpha*|x|^(alpha-1) is 0 at 0: safe
    nonzero = magnitude > 0
    safe = torch.where(nonzero, magnitude, torch.ones_like(magnitude))
    return torch.where(nonzero, safe.pow(alpha), torch.zeros_like(magnitude))


def gradient_difference_loss(pred: Tensor, target: Tensor, alpha: float = 1.0, reduction: str = "mean") -> Tensor:
    r"""Penalise differences between the image gradients of prediction and target.

    .. math::

        \mathcal{L}_{gdl}(\hat Y, Y) = \sum_{i,j}
            \big|\,|Y_{i,j} - Y_{i-1,j}| - |\hat Y_{i,j} - \hat Y_{i-1,j}|\,\big|^\alpha
          + \big|\,|Y_{i,j-1} - Y_{i,j}| - |\hat Y_{i,j-1} - \hat Y_{i,j}|\,\big|^\alpha

    over the last two dims (i: rows, j: columns) of tensors of any rank; all leading dims
    (batch, channel, time) are summed as well.

    Reductions:
        - ``"sum"``: the formula above exactly.
        - ``"mean"``: (sum of the vertical term) / (number of vertical pairs) + (sum of the
          horizontal term) / (number of horizontal pairs), i.e. ``v.mean() + h.mean()``;
          the scale of an Lp mean, independent of frame size. Not equal to ``"sum"``
          divided by one count, because the two terms have ``(H-1)W`` and ``H(W-1)``
          elements.
        - ``"none"``: a map of ``pred``'s shape; element ``(i, j)`` holds the vertical term
          for pair ``(i-1, i)`` (0 in row 0) plus the horizontal term for pair ``(j-1, j)``
          (0 in column 0), so ``none.sum() == sum``.

    The gradient of ``|.|^alpha`` at 0 is taken as 0 for every alpha (see ``_abs_pow``), so
    ``alpha < 1`` is safe with identical gradients.

    Args:
        pred: ``(..., H, W)``, e.g. ``(B, C, T, H, W)`` or ``(B, C, H, W)``, in ``[-1, 1]``.
        target: same shape, in ``[-1, 1]``.
        alpha: exponent > 0 (paper: 1 or 2; default 1).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        A scalar, or ``(..., H, W)`` for ``"none"``.

    Example:
        >>> target = torch.tensor([[[[0.0, 1.0]]]])  # (1, 1, 1, 2): one horizontal step of 1
        >>> gradient_difference_loss(torch.zeros_like(target), target, reduction="sum")
        tensor(1.)
    """
    if pred.shape != target.shape:
        raise ValueError(f"pred and target shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    if pred.dim() < 2:
        raise ValueError(f"gradient_difference_loss needs at least 2 dims (H, W), got {tuple(pred.shape)}")
    if alpha <= 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")

    def vertical(x: Tensor) -> Tensor:
        return (x[..., 1:, :] - x[..., :-1, :]).abs()  # (..., H-1, W)

    def horizontal(x: Tensor) -> Tensor:
        return (x[..., :, 1:] - x[..., :, :-1]).abs()  # (..., H, W-1)

    v = _abs_pow(vertical(target) - vertical(pred), alpha)
    h = _abs_pow(horizontal(target) - horizontal(pred), alpha)
    if reduction == "sum":
        return v.sum() + h.sum()
    if reduction == "mean":
        # An empty term (H == 1 or W == 1) contributes nothing rather than NaN.
        return (v.mean() if v.numel() else v.sum()) + (h.mean() if h.numel() else h.sum())
    return F.pad(v, (0, 0, 1, 0)) + F.pad(h, (1, 0))

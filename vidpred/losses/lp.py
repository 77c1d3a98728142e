"""Per-pixel Lp reconstruction loss (Mathieu et al. 2016, the Lp loss; the sharper-predictions article, "Methodology")."""

from __future__ import annotations

from torch import Tensor

__all__ = ["lp_loss"]

REDUCTIONS = ("mean", "sum", "none")


def reduce_loss(values: Tensor, reduction: str) -> Tensor:
    """Reduce element-wise loss values: ``"mean"`` | ``"sum"`` | ``"none"`` (unchanged).

    Shared by the element-wise losses of this package (Lp, path).
    """
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    if reduction == "none":
        return values
    raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def lp_loss(pred: Tensor, target: Tensor, p: int = 2, reduction: str = "mean") -> Tensor:
    r"""Lp distance between prediction and target.

    .. math:: \mathcal{L}_p(\hat Y, Y) = \frac{1}{N} \sum |\hat Y - Y|^p, \quad p \in \{1, 2\}

    (the paper writes the sum :math:`\|G(X) - Y\|_p^p`; ``reduction="sum"`` gives it).

    Args:
        pred: any shape, e.g. ``(B, C, T, H, W)`` or ``(B, C, H, W)``, in ``[-1, 1]``.
        target: same shape as ``pred``, in ``[-1, 1]``.
        p: 1 or 2.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` (element-wise, ``pred``'s shape).

    Returns:
        A scalar, or ``|pred - target|^p`` element-wise for ``"none"``.

    Example:
        >>> import torch
        >>> lp_loss(torch.zeros(1, 3, 2, 2), torch.ones(1, 3, 2, 2), p=1)
        tensor(1.)
    """
    if p not in (1, 2):
        raise ValueError(f"lp_loss supports p in {{1, 2}}, got {p}")
    if pred.shape != target.shape:
        raise ValueError(f"pred and target shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    diff = pred - target
    return reduce_loss(diff.abs() if p == 1 else diff.square(), reduction)

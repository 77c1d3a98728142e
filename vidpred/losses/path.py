"""Path loss: compare clips as paths through image space (the path-loss note, "A Better Loss Function Take 2")."""

from __future__ import annotations

import torch
from torch import Tensor

from vidpred.losses.lp import reduce_loss

__all__ = ["clip_path", "path_loss"]


def clip_path(clip: Tensor, anchor: Tensor | None = None) -> Tensor:
    """A clip as a discrete path: its start point, then its consecutive steps.

    Args:
        clip: ``(B, C, T, H, W)`` in ``[-1, 1]``.
        anchor: ``(B, C, H, W)`` in ``[-1, 1]`` (the last context frame) or None.

    Returns:
        ``(B, C, T, H, W)``: ``[Y_1, Y_2 - Y_1, ..., Y_T - Y_{T-1}]`` without an anchor,
        ``[Y_1 - A, Y_2 - Y_1, ..., Y_T - Y_{T-1}]`` with one; values in ``[-2, 2]``.
    """
    start = clip[:, :, :1] if anchor is None else clip[:, :, :1] - anchor.unsqueeze(2)
    return torch.cat([start, clip[:, :, 1:] - clip[:, :, :-1]], dim=2)


def path_loss(pred: Tensor, target: Tensor, anchor: Tensor | None = None, reduction: str = "mean") -> Tensor:
    r"""Mean squared difference between the paths of the predicted and target clips.

    .. math::

        P(Y) = [Y_1 - A,\ Y_2 - Y_1,\ \dots,\ Y_T - Y_{T-1}], \qquad
        \mathcal{L}_{path}(\hat Y, Y) = \frac{1}{N} \sum \big(P(Y) - P(\hat Y)\big)^2

    with ``A = 0`` when no anchor is given (the path-loss note's ``video_diff_loss``). Frame MSE
    treats frames independently; this loss sees the steps between them, so a flickering
    prediction costs more than a smooth one with the same frame error. The path-loss note's example
    (one pixel, target ``[128, 128, 128]``): ``[129, 129, 129]`` gives 1/3 and
    ``[127, 129, 127]`` gives 3, while both have frame MSE 1.

    The anchor (the last context frame) makes the first element the first predicted
    step's motion ``Y_1 - A``. Both paths share the same anchor, so it cancels in the
    difference: ``(Y_1 - A) - (Yhat_1 - A) = Y_1 - Yhat_1``, and the value is the same as
    without one. It is accepted so that callers state the path they mean; the loss only
    differs from frame MSE when ``T >= 2``.

    Args:
        pred: ``(B, C, T, H, W)`` in ``[-1, 1]``.
        target: ``(B, C, T, H, W)`` in ``[-1, 1]``.
        anchor: ``(B, C, H, W)`` in ``[-1, 1]`` or None.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` (squared path difference,
            ``(B, C, T, H, W)``).

    Returns:
        A scalar, or ``(B, C, T, H, W)`` for ``"none"``.
    """
    if pred.shape != target.shape or pred.dim() != 5:
        raise ValueError(
            f"pred and target must both be (B, C, T, H, W), got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
    if anchor is not None and (anchor.shape[:2] != pred.shape[:2] or anchor.shape[2:] != pred.shape[3:]):
        raise ValueError(f"anchor must be (B, C, H, W) matching pred {tuple(pred.shape)}, got {tuple(anchor.shape)}")
    difference = clip_path(target, anchor) - clip_path(pred, anchor)
    return reduce_loss(difference.square(), reduction)

"""Checks and layout shared by the losses that compare frames as images (Laplacian, census, SSIM)."""

from __future__ import annotations

from torch import Tensor


def as_image_batch(pred: Tensor, target: Tensor, reduction: str) -> tuple[Tensor, Tensor]:
    """``pred`` and ``target`` as ``(N, C, H, W)`` batches of frames, after checking them.

    Args:
        pred, target: ``(B, C, T, H, W)`` (each time step becomes an image) or ``(B, C, H, W)``,
            the same shape.
        reduction: must be ``"mean"`` or ``"sum"``.

    Raises:
        ValueError: the shapes differ or are neither 4-D nor 5-D, or an unknown reduction.
    """
    if pred.shape != target.shape:
        raise ValueError(f"pred and target shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    if pred.dim() not in (4, 5):
        raise ValueError(f"expected (B, C, T, H, W) or (B, C, H, W), got {tuple(pred.shape)}")
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    if pred.dim() == 5:
        B, C, T, H, W = pred.shape
        pred, target = (x.transpose(1, 2).reshape(B * T, C, H, W) for x in (pred, target))
    return pred, target

"""Small helpers on frames that the refiner and the readings of its context share: the reduced
working size, shrinking to it, and whether a position lies in the frame."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = ["in_frame", "shrunk", "working_size"]


def working_size(H: int, W: int, scale: int) -> tuple[int, int]:
    """About ``1/scale`` of a frame's size, a multiple of 4 (the U-Net's two stride-2 levels)."""
    return max(4, round(H / (4 * scale)) * 4), max(4, round(W / (4 * scale)) * 4)


def shrunk(x: Tensor, size: tuple[int, int]) -> Tensor:
    """``(B, c, H, W)`` -> ``(B, c, *size)``, area-averaged (bilinear where it is larger)."""
    H, W = x.shape[-2:]
    return F.interpolate(x, size=size, mode="area" if H >= size[0] and W >= size[1] else "bilinear")


def in_frame(x: Tensor, y: Tensor, H: int, W: int) -> Tensor:
    """Whether the positions ``(x, y)`` (pixels) lie within an ``H`` x ``W`` frame's pixel centres."""
    return (x >= 0) & (x <= W - 1) & (y >= 0) & (y <= H - 1)

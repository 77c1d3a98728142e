"""Plumbing shared by the multi-scale generator, discriminator and trainer.

Image pyramids (public: the trainer builds target and context pyramids with them) and the
small helpers both networks use to read their layer tables and stack frames.

Scale k of an ``n_scales`` pyramid (coarsest k = 0) has size ``H / 2**(n_scales - 1 - k)``;
the finest element is the input itself. Downsampling is average pooling, so pooling by 4
equals pooling by 2 twice and every level is the block mean of the finest frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import torch.nn.functional as F
from torch import Tensor

T_row = TypeVar("T_row")

__all__ = ["downsample", "upsample2x", "pyramid", "stack_frames", "table_rows", "scaled_width"]


def downsample(x: Tensor, factor: int) -> Tensor:
    """Average-pool the last two dims by ``factor``.

    Args:
        x: frames ``(B, C, H, W)`` or clips ``(B, C, T, H, W)``, any range (values are
            averaged, so ``[-1, 1]`` stays ``[-1, 1]``).
        factor: pooling factor >= 1; ``H`` and ``W`` must be divisible by it.

    Returns:
        ``(B, C, H / factor, W / factor)`` or ``(B, C, T, H / factor, W / factor)``.
    """
    if factor < 1:
        raise ValueError(f"downsample factor must be >= 1, got {factor}")
    if x.dim() not in (4, 5):
        raise ValueError(f"downsample expects (B, C, H, W) or (B, C, T, H, W), got shape {tuple(x.shape)}")
    height, width = x.shape[-2:]
    if height % factor or width % factor:
        # avg_pool2d would silently drop the last rows/columns and shift the pyramid.
        raise ValueError(f"downsample by {factor} needs H and W divisible by {factor}, got {height}x{width}")
    if factor == 1:
        return x
    if x.dim() == 4:
        return F.avg_pool2d(x, factor)
    B, C, T, H, W = x.shape
    pooled = F.avg_pool2d(x.reshape(B, C * T, H, W), factor)  # (B, C*T, H/f, W/f)
    return pooled.reshape(B, C, T, H // factor, W // factor)


def upsample2x(x: Tensor) -> Tensor:
    """Bilinear x2 upsampling (``align_corners=False``) of the last two dims.

    Args:
        x: ``(B, C, H, W)`` (or ``(B, C, T, H, W)``, time folded into channels), any range.

    Returns:
        ``(B, C, 2H, 2W)`` (or ``(B, C, T, 2H, 2W)``); bilinear weights are convex, so the
        range of ``x`` is preserved.
    """
    if x.dim() == 4:
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    if x.dim() == 5:
        B, C, T, H, W = x.shape
        up = F.interpolate(x.reshape(B, C * T, H, W), scale_factor=2, mode="bilinear", align_corners=False)
        return up.reshape(B, C, T, 2 * H, 2 * W)
    raise ValueError(f"upsample2x expects (B, C, H, W) or (B, C, T, H, W), got shape {tuple(x.shape)}")


def pyramid(x: Tensor, n_scales: int) -> list[Tensor]:
    """Average-pooling pyramid, coarsest first.

    Args:
        x: ``(B, C, H, W)`` or ``(B, C, T, H, W)`` in ``[-1, 1]``; ``H`` and ``W`` divisible
            by ``2**(n_scales - 1)``.
        n_scales: number of levels >= 1.

    Returns:
        ``n_scales`` tensors; element k has spatial size ``(H, W) / 2**(n_scales - 1 - k)``
        and the last element is ``x`` itself.
    """
    if n_scales < 1:
        raise ValueError(f"n_scales must be >= 1, got {n_scales}")
    return [downsample(x, 2 ** (n_scales - 1 - k)) for k in range(n_scales)]


def stack_frames(clip: Tensor) -> Tensor:
    """Stack a clip's frames along channels, frame-major.

    Args:
        clip: ``(B, C, T, h, w)``, any range.

    Returns:
        ``(B, T*C, h, w)``; frame t owns channels ``t*C .. t*C + C - 1``.
    """
    B, C, T, h, w = clip.shape
    return clip.transpose(1, 2).reshape(B, T * C, h, w)


def table_rows(n_scales: int, table: Sequence[T_row]) -> list[T_row]:
    """The finest ``n_scales`` rows of a coarse-to-fine layer table.

    Scales beyond the table's length are extra coarser scales and repeat its first row.
    """
    if n_scales < 1:
        raise ValueError(f"n_scales must be >= 1, got {n_scales}")
    if n_scales <= len(table):
        return list(table[len(table) - n_scales :])
    return [table[0]] * (n_scales - len(table)) + list(table)


def scaled_width(n_maps: int, width: float) -> int:
    """Feature-map count under a width multiplier: ``max(1, round(n_maps * width))``."""
    return max(1, round(n_maps * width))

"""Spatial self-attention over the positions of a 2D feature map (SAGAN-style, the CogVideo loss notes).

Convolutions only relate neighbouring positions; one attention layer lets every position
of a (small, late) feature map see every other, so a discriminator can compare distant
parts of a frame (e.g. an object and its shadow, both sides of an occlusion).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["SelfAttention2d"]


class SelfAttention2d(nn.Module):
    r"""Residual single-head self-attention across the ``H*W`` positions.

    .. math::

        q, k = W_q x, W_k x \in \mathbb{R}^{d \times HW},\quad v = W_v x,\quad
        y = x + W_o\, v\, \mathrm{softmax}_{\text{keys}}\!\big(k^\top q / \sqrt d\big)

    with 1x1 convolutions ``W_q, W_k`` (``d = max(1, channels // 8)``), ``W_v, W_o``
    (``channels``). The softmax is written out rather than calling
    ``scaled_dot_product_attention`` because the gradient penalty differentiates the
    discriminator twice, and fused attention kernels need not support double backward.
    ``W_o`` is not zero-initialised, so every parameter gets a gradient from the first step.

    Args:
        channels: input and output channels.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be >= 1, got {channels}")
        self.key_dim = max(1, channels // 8)
        self.query = nn.Conv2d(channels, self.key_dim, 1)
        self.key = nn.Conv2d(channels, self.key_dim, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` -> ``(B, C, H, W)``."""
        B, C, H, W = x.shape
        q = self.query(x).flatten(2)  # (B, d, HW)
        k = self.key(x).flatten(2)  # (B, d, HW)
        v = self.value(x).flatten(2)  # (B, C, HW)
        scores = torch.bmm(q.transpose(1, 2), k) / math.sqrt(self.key_dim)  # (B, HW queries, HW keys)
        attended = torch.bmm(v, scores.softmax(dim=-1).transpose(1, 2))  # (B, C, HW)
        return x + self.out(attended.view(B, C, H, W))

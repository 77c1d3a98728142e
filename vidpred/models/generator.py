"""Multi-scale (Laplacian-pyramid) next-frame generator of Mathieu, Couprie & LeCun (2016).

Layer table (feature maps / kernels per scale, coarse to fine, for 4 scales):

=========  ===========================  ==================
scale      feature maps                 kernels
=========  ===========================  ==================
1 (H/8)    128, 256, 128                3, 3, 3, 3
2 (H/4)    128, 256, 128                5, 3, 3, 5
3 (H/2)    128, 256, 512, 256, 128      5, 3, 3, 3, 3, 5
4 (H)      128, 256, 512, 256, 128      7, 5, 5, 5, 5, 7
=========  ===========================  ==================

The last kernel of each row belongs to the conv that maps to the ``channels`` output.
With RGB and 4 context frames this is 12,569,740 parameters (paper: ~12.6 M).
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vidpred.models._pyramid import pyramid, scaled_width, stack_frames, table_rows, upsample2x

__all__ = ["MultiScaleGenerator", "GENERATOR_TABLE"]

logger = logging.getLogger(__name__)

# (feature maps, kernels) per scale, coarsest first; kernels has one more entry (output conv).
GENERATOR_TABLE: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...] = (
    ((128, 256, 128), (3, 3, 3, 3)),
    ((128, 256, 128), (5, 3, 3, 5)),
    ((128, 256, 512, 256, 128), (5, 3, 3, 3, 3, 5)),
    ((128, 256, 512, 256, 128), (7, 5, 5, 5, 5, 7)),
)


class MultiScaleGenerator(nn.Module):
    """Laplacian-pyramid generator: each scale refines the upsampled coarser prediction.

    Scale 1 sees the context at its size (``channels * n_context`` input channels); scale
    k > 1 also sees the upsampled prediction of scale k-1 (``channels * (n_context + 1)``).
    Each scale is a stack of same-padded convs with ReLU between them.

    The residual is accumulated on the pre-tanh activations:
    ``z_1 = G'_1(X_1)``, ``Y_1 = tanh(z_1)``;
    ``z_k = up(z_{k-1}) + G'_k(X_k, up(Y_{k-1}))``, ``Y_k = tanh(z_k)``.
    The paper writes ``Y_k = up(Y_{k-1}) + G'_k(...)`` with a tanh output; adding after a
    tanh would either leave [-1, 1] or need a second squashing per scale, which compounds
    saturation across scales. Summing pre-activations keeps every ``Y_k`` in ``(-1, 1)``
    with one tanh, and the finer scales still only learn a correction to the coarser one.
    No layer is zero-initialised, so every parameter receives a gradient from step one.

    Args:
        n_context: number of past frames.
        channels: channels per frame (3 for RGB).
        n_scales: pyramid levels; the finest ``n_scales`` rows of the paper table are
            used, and scales beyond 4 repeat the coarsest row.
        width: multiplier on every feature-map count, ``max(1, round(m * width))``.
    """

    def __init__(self, n_context: int = 4, channels: int = 3, n_scales: int = 4, width: float = 1.0) -> None:
        super().__init__()
        if n_context < 1 or channels < 1 or width <= 0:
            raise ValueError(f"bad generator size: n_context={n_context}, channels={channels}, width={width}")
        self.n_context = n_context
        self.channels = channels
        self.n_scales = n_scales
        self.width = width
        self.scales = nn.ModuleList()
        for k, (maps, kernels) in enumerate(table_rows(n_scales, GENERATOR_TABLE)):
            in_channels = channels * n_context if k == 0 else channels * (n_context + 1)
            sizes = [in_channels, *(scaled_width(m, width) for m in maps), channels]
            layers: list[nn.Module] = []
            for i, kernel in enumerate(kernels):
                layers.append(nn.Conv2d(sizes[i], sizes[i + 1], kernel, padding=kernel // 2))
                if i < len(kernels) - 1:
                    layers.append(nn.ReLU())
            self.scales.append(nn.Sequential(*layers))

    @property
    def last_layer(self) -> nn.Parameter:
        """Weight of the finest scale's output convolution, ``(channels, maps, k, k)``.

        Every finest-scale prediction passes through it last, so the adaptive adversarial
        weight (seed 003) compares the loss gradients there.
        """
        return self.scales[-1][-1].weight

    @property
    def size_multiple(self) -> int:
        """``forward`` needs H and W divisible by this (``2**(n_scales - 1)``)."""
        return 2 ** (self.n_scales - 1)

    def _check_context(self, context: Tensor) -> None:
        if context.dim() != 5 or context.shape[1] != self.channels or context.shape[2] != self.n_context:
            raise ValueError(
                f"context must be (B, {self.channels}, {self.n_context}, H, W), got {tuple(context.shape)}"
            )

    def forward(self, context: Tensor) -> list[Tensor]:
        """Predict the next frame at every scale.

        Args:
            context: ``(B, C, n_context, H, W)`` in ``[-1, 1]``, oldest frame first; ``H`` and
                ``W`` divisible by ``2**(n_scales - 1)``.

        Returns:
            ``n_scales`` predictions, coarsest first, each ``(B, C, H / 2**(n_scales-1-k),
            W / 2**(n_scales-1-k))`` in ``(-1, 1)``.
        """
        self._check_context(context)
        H, W = context.shape[-2:]
        if H % self.size_multiple or W % self.size_multiple:
            raise ValueError(
                f"MultiScaleGenerator.forward needs H and W divisible by {self.size_multiple} "
                f"(2**(n_scales-1)), got {H}x{W}; use predict() for arbitrary sizes"
            )
        predictions: list[Tensor] = []
        z_prev: Tensor | None = None
        y_prev: Tensor | None = None
        for net, context_k in zip(self.scales, pyramid(context, self.n_scales)):
            x_k = stack_frames(context_k)  # (B, n_context*C, h_k, w_k)
            if z_prev is None:
                z = net(x_k)
            else:
                z = upsample2x(z_prev) + net(torch.cat([x_k, upsample2x(y_prev)], dim=1))
            y = torch.tanh(z)  # (B, C, h_k, w_k)
            predictions.append(y)
            z_prev, y_prev = z, y
        return predictions

    def predict(self, context: Tensor) -> Tensor:
        """Finest next-frame prediction for any frame size.

        The context is padded at the bottom and right to the next multiple of
        ``2**(n_scales - 1)`` (reflect, or replicate when the pad exceeds what reflect
        allows) and the prediction cropped back, so pooling blocks stay aligned with the
        top-left corner as they are for training patches.

        Args:
            context: ``(B, C, n_context, H, W)`` in ``[-1, 1]``, any ``H``, ``W``.

        Returns:
            ``(B, C, H, W)`` in ``(-1, 1)``.
        """
        self._check_context(context)
        B, C, T, H, W = context.shape
        pad_h = -H % self.size_multiple
        pad_w = -W % self.size_multiple
        if pad_h == 0 and pad_w == 0:
            return self(context)[-1]
        mode = "reflect" if pad_h < H and pad_w < W else "replicate"
        if mode == "replicate":
            logger.debug("predict: %dx%d too small to reflect-pad by (%d, %d); replicating", H, W, pad_h, pad_w)
        padded = F.pad(context.reshape(B, C * T, H, W), (0, pad_w, 0, pad_h), mode=mode)
        padded = padded.reshape(B, C, T, H + pad_h, W + pad_w)
        return self(padded)[-1][..., :H, :W]

    def rollout(self, context: Tensor, n_future: int, return_scales: bool = False) -> Tensor | list[Tensor]:
        """Predict ``n_future`` frames recursively.

        Each finest prediction becomes the newest context frame (the oldest is dropped) for
        the next step. Gradients flow through the recursion (nothing is detached).

        Args:
            context: ``(B, C, n_context, H, W)`` in ``[-1, 1]``.
            n_future: number of frames to predict, >= 1.
            return_scales: if False, use :meth:`predict` (any ``H``, ``W``) and return the
                finest clip; if True, use :meth:`forward` (``H``, ``W`` divisible by
                ``2**(n_scales - 1)``) and return every scale.

        Returns:
            ``(B, C, n_future, H, W)`` in ``(-1, 1)``; with ``return_scales`` a list over
            scales, coarsest first, of ``(B, C, n_future, h_k, w_k)``.
        """
        if n_future < 1:
            raise ValueError(f"n_future must be >= 1, got {n_future}")
        per_step: list[list[Tensor]] = []  # [step][scale]; a single (finest) scale without return_scales
        for _ in range(n_future):
            scales = self(context) if return_scales else [self.predict(context)]
            per_step.append(scales)
            context = torch.cat([context[:, :, 1:], scales[-1].unsqueeze(2)], dim=2)
        clips = [torch.stack(over_time, dim=2) for over_time in zip(*per_step)]  # (B, C, n_future, h_k, w_k)
        return clips if return_scales else clips[0]

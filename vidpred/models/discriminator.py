"""Multi-scale conditional discriminator of Mathieu, Couprie & LeCun (2016).

Layer table (coarse to fine, for 4 scales and 32x32 patches):

=========  ==================  ==========  ================
scale      conv maps           kernels     fully connected
=========  ==================  ==========  ================
1 (4 px)   64                  3           512, 256, 1
2 (8 px)   64, 128, 128        3, 3, 3     1024, 512, 1
3 (16 px)  128, 256, 256       5, 5, 5     1024, 512, 1
4 (32 px)  128, 256, 512, 128  7, 7, 5, 5  1024, 512, 1
=========  ==================  ==========  ================

Each scale: same-padded convs with an activation after each, one 2x2 max-pool, then the
fully connected layers with an activation between them; the output is a logit. With RGB,
4 context frames and 32x32 patches this is 63,632,004 parameters (paper: ~63.6 M).
There is no BatchNorm: the trainer runs D twice (real, fake) per step, which would break
DDP's buffer sync.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from vidpred.models._pyramid import scaled_width, stack_frames, table_rows

__all__ = ["MultiScaleDiscriminator", "DISCRIMINATOR_TABLE"]

# (conv maps, conv kernels, fully connected sizes) per scale, coarsest first.
DISCRIMINATOR_TABLE: tuple[tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]], ...] = (
    ((64,), (3,), (512, 256, 1)),
    ((64, 128, 128), (3, 3, 3), (1024, 512, 1)),
    ((128, 256, 256), (5, 5, 5), (1024, 512, 1)),
    ((128, 256, 512, 128), (7, 7, 5, 5), (1024, 512, 1)),
)


class MultiScaleDiscriminator(nn.Module):
    """One conditional patch discriminator per pyramid scale.

    Scale k judges the context at its size together with one frame (real or predicted),
    stacked along channels (``channels * (n_context + 1)`` input channels, frame-major, the
    judged frame last), at spatial size ``patch_size / 2**(n_scales - 1 - k)``.

    Args:
        n_context: number of context frames.
        channels: channels per frame.
        patch_size: finest spatial size (square); must be divisible by ``2**n_scales`` so
            that the coarsest scale can be max-pooled.
        n_scales: pyramid levels; the finest ``n_scales`` rows of the table are used and
            scales beyond 4 repeat the coarsest row.
        width: multiplier on conv maps and hidden fully connected sizes (never the final 1).
        leaky_slope: 0 for ReLU, > 0 for LeakyReLU with that slope (seed 002's GAN hack).
    """

    def __init__(
        self,
        n_context: int = 4,
        channels: int = 3,
        patch_size: int = 32,
        n_scales: int = 4,
        width: float = 1.0,
        leaky_slope: float = 0.0,
    ) -> None:
        super().__init__()
        if n_context < 1 or channels < 1 or width <= 0 or leaky_slope < 0:
            raise ValueError(
                f"bad discriminator size: n_context={n_context}, channels={channels}, "
                f"width={width}, leaky_slope={leaky_slope}"
            )
        if n_scales < 1 or patch_size % 2**n_scales:
            raise ValueError(
                f"patch_size must be divisible by 2**n_scales "
                f"(each scale max-pools by 2), got patch_size={patch_size}, n_scales={n_scales}"
            )
        self.n_context = n_context
        self.channels = channels
        self.patch_size = patch_size
        self.n_scales = n_scales
        self.sizes = [patch_size // 2 ** (n_scales - 1 - k) for k in range(n_scales)]
        in_channels = channels * (n_context + 1)
        self.scales = nn.ModuleList()
        for size, (maps, kernels, fc) in zip(self.sizes, table_rows(n_scales, DISCRIMINATOR_TABLE)):
            conv_sizes = [in_channels, *(scaled_width(m, width) for m in maps)]
            layers: list[nn.Module] = []
            for i, kernel in enumerate(kernels):
                layers += [nn.Conv2d(conv_sizes[i], conv_sizes[i + 1], kernel, padding=kernel // 2)]
                layers += [self._activation(leaky_slope)]
            layers += [nn.MaxPool2d(2), nn.Flatten()]
            fc_sizes = [conv_sizes[-1] * (size // 2) ** 2, *(scaled_width(f, width) for f in fc[:-1]), 1]
            for i in range(len(fc_sizes) - 1):
                layers.append(nn.Linear(fc_sizes[i], fc_sizes[i + 1]))
                if i < len(fc_sizes) - 2:
                    layers.append(self._activation(leaky_slope))
            self.scales.append(nn.Sequential(*layers))

    @staticmethod
    def _activation(leaky_slope: float) -> nn.Module:
        return nn.LeakyReLU(leaky_slope) if leaky_slope > 0 else nn.ReLU()

    def forward(self, context_scales: Sequence[Tensor], frame_scales: Sequence[Tensor]) -> list[Tensor]:
        """Logits that each scale's frame is real.

        Args:
            context_scales: ``n_scales`` tensors, coarsest first, ``(B, C, n_context, h_k, w_k)``
                in ``[-1, 1]`` with ``h_k = w_k = patch_size / 2**(n_scales - 1 - k)``
                (``vidpred.models.pyramid(context, n_scales)``).
            frame_scales: ``n_scales`` tensors ``(B, C, h_k, w_k)`` in ``[-1, 1]``: the real
                next frame's pyramid or the generator's per-scale outputs.

        Returns:
            ``n_scales`` logits (no sigmoid), each ``(B,)``.
        """
        if len(context_scales) != self.n_scales or len(frame_scales) != self.n_scales:
            raise ValueError(
                f"expected {self.n_scales} scales, got {len(context_scales)} context and {len(frame_scales)} frame"
            )
        logits: list[Tensor] = []
        for k, (net, context, frame) in enumerate(zip(self.scales, context_scales, frame_scales)):
            size = self.sizes[k]
            expected_context = (self.channels, self.n_context, size, size)
            expected_frame = (self.channels, size, size)
            if tuple(context.shape[1:]) != expected_context or tuple(frame.shape[1:]) != expected_frame:
                raise ValueError(
                    f"scale {k}: discriminator built for patch_size={self.patch_size} expects context "
                    f"(B, *{expected_context}) and frame (B, *{expected_frame}), "
                    f"got {tuple(context.shape)} and {tuple(frame.shape)}"
                )
            clip = torch.cat([context, frame.unsqueeze(2)], dim=2)  # (B, C, n_context+1, h, w)
            logits.append(net(stack_frames(clip)).squeeze(1))  # (B,)
        return logits

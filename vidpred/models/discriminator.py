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

Each scale: convs with an activation after each, one 2x2 max-pool, then the fully
connected layers with an activation between them; the output is a logit. The official
Torch7 code (and its best-known TensorFlow port) uses unpadded ("valid") convolutions:
on the 32x32 scale the maps shrink 32 -> 26 -> 20 -> 16 -> 12 before pooling, and with
RGB, 4 context frames and 32x32 patches the network has 17,003,140 parameters
(``padding="valid"``). Same-padded convolutions keep the maps at the scale's size:
63,632,004 parameters (``padding="same"``).
There is no BatchNorm: real and predicted frames go through D in one batch, so a batch
statistic would let each frame's verdict depend on the others in it (and the gradient
penalty differentiates D one sample at a time).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from vidpred.models._pyramid import scaled_width, stack_frames, table_rows

__all__ = ["MultiScaleDiscriminator", "DISCRIMINATOR_TABLE", "INPUTS", "PADDINGS", "frame_differences", "smallest_valid_patch"]

PADDINGS = ("valid", "same")
INPUTS = ("frames", "differences")

# (conv maps, conv kernels, fully connected sizes) per scale, coarsest first.
DISCRIMINATOR_TABLE: tuple[tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]], ...] = (
    ((64,), (3,), (512, 256, 1)),
    ((64, 128, 128), (3, 3, 3), (1024, 512, 1)),
    ((128, 256, 256), (5, 5, 5), (1024, 512, 1)),
    ((128, 256, 512, 128), (7, 7, 5, 5), (1024, 512, 1)),
)


def _pooled_size(size: int, kernels: Sequence[int], padding: str) -> int:
    """Side of a scale's maps after its convs and the 2x2 max-pool (0: nothing left)."""
    after = size - sum(k - 1 for k in kernels) if padding == "valid" else size
    return max(after, 0) // 2


def smallest_valid_patch(n_scales: int) -> int:
    """The smallest patch size (a multiple of ``2**(n_scales - 1)``) whose every scale
    keeps at least a 2x2 map after its unpadded convolutions."""
    rows = table_rows(n_scales, DISCRIMINATOR_TABLE)
    step = 2 ** (n_scales - 1)
    size = step
    while any(_pooled_size(size // 2 ** (n_scales - 1 - k), kernels, "valid") < 1
              for k, (_, kernels, _) in enumerate(rows)):
        size += step
    return size


def frame_differences(clip: Tensor) -> Tensor:
    """``(B, C, T, h, w)`` -> the first frame followed by the ``T - 1`` differences between
    consecutive frames: an invertible change of basis that puts each frame's change from the
    one before in a channel of its own, where a small discriminator need not learn to
    cancel two nearly equal inputs to see it."""
    return torch.cat([clip[:, :, :1], clip[:, :, 1:] - clip[:, :, :-1]], dim=2)


class MultiScaleDiscriminator(nn.Module):
    """One conditional patch discriminator per pyramid scale.

    Scale k judges the context at its size together with one frame (real or predicted),
    stacked along channels (``channels * (n_context + 1)`` input channels, frame-major, the
    judged frame last), at spatial size ``patch_size / 2**(n_scales - 1 - k)``.

    Args:
        n_context: number of context frames.
        channels: channels per frame.
        patch_size: finest spatial size (square); divisible by ``2**n_scales`` with
            ``same`` padding (every scale max-pools by 2), by ``2**(n_scales - 1)`` and at
            least :func:`smallest_valid_patch` with ``valid`` padding.
        n_scales: pyramid levels; the finest ``n_scales`` rows of the table are used and
            scales beyond 4 repeat the coarsest row.
        width: multiplier on conv maps and hidden fully connected sizes (never the final 1).
        leaky_slope: 0 for ReLU, > 0 for LeakyReLU with that slope (the sharper-predictions article's GAN hack).
        padding: ``valid`` (the official code) or ``same`` (module docstring).
        inputs: ``frames`` (the paper's: context and judged frame as they are) or
            ``differences`` (:func:`frame_differences` of that clip).
    """

    def __init__(
        self,
        n_context: int = 4,
        channels: int = 3,
        patch_size: int = 32,
        n_scales: int = 4,
        width: float = 1.0,
        leaky_slope: float = 0.0,
        padding: str = "same",
        inputs: str = "frames",
    ) -> None:
        super().__init__()
        if padding not in PADDINGS:
            raise ValueError(f"discriminator padding must be one of {', '.join(PADDINGS)}, got {padding!r}")
        if inputs not in INPUTS:
            raise ValueError(f"discriminator inputs must be one of {', '.join(INPUTS)}, got {inputs!r}")
        if n_context < 1 or channels < 1 or width <= 0 or leaky_slope < 0:
            raise ValueError(
                f"bad discriminator size: n_context={n_context}, channels={channels}, "
                f"width={width}, leaky_slope={leaky_slope}"
            )
        if n_scales < 1:
            raise ValueError(f"n_scales must be >= 1, got {n_scales}")
        if padding == "same" and patch_size % 2**n_scales:
            raise ValueError(
                f"patch_size must be divisible by 2**n_scales "
                f"(each scale max-pools by 2), got patch_size={patch_size}, n_scales={n_scales}"
            )
        if padding == "valid":
            smallest = smallest_valid_patch(n_scales)
            if patch_size % 2 ** (n_scales - 1) or patch_size < smallest:
                raise ValueError(
                    f"patch_size {patch_size} is too small or not a multiple of {2 ** (n_scales - 1)} for the "
                    f"unpadded convolutions of a {n_scales}-scale discriminator: the smallest that works is {smallest}"
                )
        self.padding = padding
        self.inputs = inputs
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
                layers += [nn.Conv2d(conv_sizes[i], conv_sizes[i + 1], kernel,
                                     padding=kernel // 2 if padding == "same" else 0)]
                layers += [self._activation(leaky_slope)]
            layers += [nn.MaxPool2d(2), nn.Flatten()]
            pooled = _pooled_size(size, kernels, padding)
            fc_sizes = [conv_sizes[-1] * pooled**2, *(scaled_width(f, width) for f in fc[:-1]), 1]
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
        return [net(x).squeeze(1) for net, x in zip(self.scales, self._scale_inputs(context_scales, frame_scales))]

    def features(self, context_scales: Sequence[Tensor], frame_scales: Sequence[Tensor]) -> list[Tensor]:
        """Each scale's last hidden layer (after its activation), ``(B, F_k)``: what the
        logit is a linear function of. Same arguments as :meth:`forward`."""
        return [net[:-1](x) for net, x in zip(self.scales, self._scale_inputs(context_scales, frame_scales))]

    def _scale_inputs(self, context_scales: Sequence[Tensor], frame_scales: Sequence[Tensor]) -> list[Tensor]:
        """Per scale, the context and the judged frame as one ``(B, C * (n_context + 1), h, w)`` input."""
        if len(context_scales) != self.n_scales or len(frame_scales) != self.n_scales:
            raise ValueError(
                f"expected {self.n_scales} scales, got {len(context_scales)} context and {len(frame_scales)} frame"
            )
        inputs: list[Tensor] = []
        for k, (context, frame) in enumerate(zip(context_scales, frame_scales)):
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
            if self.inputs == "differences":
                clip = frame_differences(clip)
            inputs.append(stack_frames(clip))
        return inputs

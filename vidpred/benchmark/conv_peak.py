"""The machine's convolution peak: what large, well-shaped convolutions reach here.

A training iteration's speed means little on its own; its fraction of this peak, measured
in the same process (same threads, same load from other jobs), says how much is left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from vidpred.build import synchronize

__all__ = ["PEAK_SHAPES", "ConvProbe", "ConvShape", "conv_peak"]


@dataclass(frozen=True)
class ConvShape:
    """A same-padded 2-D convolution: batch, in/out channels, square size, square kernel."""

    batch: int
    in_channels: int
    out_channels: int
    size: int
    kernel: int

    def flops(self) -> int:
        """Forward FLOPs (2 per multiply-add), the count ``torch.utils.flop_counter`` uses."""
        return 2 * self.batch * self.out_channels * self.in_channels * self.kernel**2 * self.size**2


# Large 3x3 and 5x5 convolutions at the paper's 32x32 scale: wide enough to fill the
# vector units, 19.3 and 13.4 GFLOP forward (a fraction of a second in float32).
PEAK_SHAPES = (ConvShape(16, 256, 256, 32, 3), ConvShape(16, 128, 128, 32, 5))


class ConvProbe:
    """One convolution, set up once, whose throughput can be sampled again and again.

    Args:
        shape: the convolution.
        dtype: ``torch.float32`` or ``torch.bfloat16`` (weights and activations).
        device: where to run.
        channels_last: NHWC weights and activations.
        backward: time forward + input gradient + weight gradient (3x the forward FLOPs),
            as in training, instead of the forward alone.
    """

    def __init__(self, shape: ConvShape, dtype: torch.dtype, *, device: torch.device | str = "cpu",
                 channels_last: bool = True, backward: bool = False) -> None:
        self.device = torch.device(device)
        self.flops = shape.flops() * (3 if backward else 1)
        self.backward = backward
        generator = torch.Generator(device="cpu").manual_seed(0)
        conv = nn.Conv2d(shape.in_channels, shape.out_channels, shape.kernel, padding=shape.kernel // 2)
        self.conv = conv.to(device=self.device, dtype=dtype)
        x = torch.randn(shape.batch, shape.in_channels, shape.size, shape.size, generator=generator)
        self.x = x.to(device=self.device, dtype=dtype)
        if channels_last:
            self.conv = self.conv.to(memory_format=torch.channels_last)
            self.x = self.x.contiguous(memory_format=torch.channels_last)
        self.x.requires_grad_(backward)
        self._run()  # oneDNN builds (and caches) its kernels and weight reorders on the first call

    def _run(self) -> None:
        """One forward pass, or with ``backward`` one forward and backward pass."""
        if self.backward:
            self.conv.zero_grad(set_to_none=True)
            out = self.conv(self.x)
            out.backward(torch.ones_like(out))
        else:
            with torch.no_grad():
                self.conv(self.x)

    def gflops(self, repeats: int = 1) -> float:
        """Best GFLOP/s of ``repeats`` calls (other jobs only ever slow a call down)."""
        best = float("inf")
        for _ in range(repeats):
            synchronize(self.device)
            start = time.perf_counter()
            self._run()
            synchronize(self.device)
            best = min(best, time.perf_counter() - start)
        return self.flops / best / 1e9


def conv_peak(
    dtype: torch.dtype,
    *,
    device: torch.device | str = "cpu",
    channels_last: bool = True,
    shapes: tuple[ConvShape, ...] = PEAK_SHAPES,
    repeats: int = 3,
) -> dict:
    """Peak convolution throughput for ``dtype``: the best of ``shapes``, forward and training.

    Returns:
        ``{"gflops": best, "by_shape": {"<b>x<cin>-><cout>@<s>k<k> fwd|train": gflops, ...}}``.
    """
    by_shape = {}
    for shape in shapes:
        for backward in (False, True):
            name = (f"{shape.batch}x{shape.in_channels}->{shape.out_channels}@{shape.size}"
                    f"k{shape.kernel} {'train' if backward else 'fwd'}")
            probe = ConvProbe(shape, dtype, device=device, channels_last=channels_last, backward=backward)
            by_shape[name] = round(probe.gflops(repeats), 1)
    return {"gflops": max(by_shape.values()), "by_shape": by_shape}

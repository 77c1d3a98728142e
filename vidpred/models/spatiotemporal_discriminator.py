"""Spatio-temporal discriminator on whole clips (the CogVideo loss notes).

A per-frame discriminator cannot see flicker, jitter or inconsistent motion; this one
judges the whole clip ``(B, C, T, H, W)`` (context then real or predicted future frames):

1. a 3D convolution stem, then ``n_3d`` downsampling stages of
   ``Blur3d -> Conv3d(stride 2)``: early layers see motion at coarse resolution;
2. time folded into channels and mixed by a 1x1 convolution;
3. ``n_2d`` stages of ``SelfAttention2d -> Blur2d -> Conv2d(stride 2)``: later layers
   compare positions across the frame;
4. a 3x3 convolution to one map, averaged over positions: one logit per clip.

Every strided convolution is preceded by the ``[1, 2, 1]`` binomial blur (blurpool), so
the logits do not alias a one-pixel shift into a different verdict. LeakyReLU after each
convolution; no normalisation layers (the gradient penalty differentiates D per sample,
and DDP needs no buffer sync). Time is strided only while at least 3 frames remain, so
clips of 2 frames and more work. Channels: ``width * 64`` after the stem, doubled at
each downsampling, capped at ``width * 512``.
"""

from __future__ import annotations

from torch import Tensor, nn

from vidpred.models._pyramid import scaled_width
from vidpred.models.attention import SelfAttention2d
from vidpred.models.blurpool import Blur2d, Blur3d

__all__ = ["SpatioTemporalDiscriminator"]

BASE_MAPS = 64
MAX_MAPS = 512


class SpatioTemporalDiscriminator(nn.Module):
    """Hinge-loss critic of whole clips: 3D convolutions, then 2D with self-attention.

    Args:
        channels: channels per frame.
        n_frames: clip length T the model is built for (``n_context + n_future``), >= 2.
        size: clip height and width it is built for; must be divisible by
            ``2**(n_3d + n_2d)`` (each stage halves it).
        width: multiplier on the feature maps (64 after the stem, x2 per stage, cap 512).
        n_3d: strided 3D stages (>= 1).
        n_2d: strided 2D stages, each preceded by self-attention when ``attention``.
        attention: use spatial self-attention in the 2D stages.
        leaky_slope: LeakyReLU slope.
    """

    def __init__(
        self,
        channels: int = 3,
        n_frames: int = 5,
        size: int = 32,
        width: float = 1.0,
        n_3d: int = 2,
        n_2d: int = 2,
        attention: bool = True,
        leaky_slope: float = 0.2,
    ) -> None:
        super().__init__()
        if channels < 1 or n_frames < 2 or width <= 0 or n_3d < 1 or n_2d < 0 or leaky_slope < 0:
            raise ValueError(
                f"bad spatio-temporal discriminator: channels={channels}, n_frames={n_frames}, width={width}, "
                f"n_3d={n_3d}, n_2d={n_2d}, leaky_slope={leaky_slope}"
            )
        if size % 2 ** (n_3d + n_2d) or size // 2 ** (n_3d + n_2d) < 2:
            raise ValueError(
                f"size {size} must be divisible by 2**(n_3d + n_2d) = {2 ** (n_3d + n_2d)} and leave "
                "at least 2x2 positions (the blur reflects borders)"
            )
        self.channels, self.n_frames, self.size = channels, n_frames, size

        def maps(stage: int) -> int:
            return scaled_width(min(BASE_MAPS * 2**stage, MAX_MAPS), width)

        def act() -> nn.Module:
            return nn.LeakyReLU(leaky_slope)

        layers3d: list[nn.Module] = [nn.Conv3d(channels, maps(0), 3, padding=1), act()]
        T = n_frames
        for stage in range(n_3d):
            t_stride = 2 if T >= 3 else 1  # keep at least 2 frames for the temporal blur
            layers3d += [Blur3d(), nn.Conv3d(maps(stage), maps(stage + 1), 3, stride=(t_stride, 2, 2), padding=1), act()]
            T = (T - 1) // t_stride + 1
        self.frames_after_3d = T
        self.stage3d = nn.Sequential(*layers3d)
        self.fold = nn.Sequential(nn.Conv2d(maps(n_3d) * T, maps(n_3d), 1), act())  # time folded into channels
        layers2d: list[nn.Module] = []
        for stage in range(n_3d, n_3d + n_2d):
            if attention:
                layers2d.append(SelfAttention2d(maps(stage)))
            layers2d += [Blur2d(), nn.Conv2d(maps(stage), maps(stage + 1), 3, stride=2, padding=1), act()]
        self.stage2d = nn.Sequential(*layers2d)
        self.head = nn.Conv2d(maps(n_3d + n_2d), 1, 3, padding=1)

    def forward(self, clip: Tensor) -> Tensor:
        """Logits that clips are real.

        Args:
            clip: ``(B, C, T, H, W)`` in ``[-1, 1]`` with ``T = n_frames``, ``H = W = size``
                (context then real or predicted future frames).

        Returns:
            ``(B,)`` logits (unbounded; the hinge loss wants > 1 for real, < -1 for fake).
        """
        expected = (self.channels, self.n_frames, self.size, self.size)
        if clip.dim() != 5 or tuple(clip.shape[1:]) != expected:
            raise ValueError(f"expected clips (B, *{expected}), got {tuple(clip.shape)}")
        h = self.stage3d(clip)  # (B, M, T', H/2^n_3d, W/2^n_3d)
        B, M, T, h_size, w_size = h.shape
        h = self.fold(h.reshape(B, M * T, h_size, w_size))  # (B, M, h, w)
        h = self.stage2d(h)  # (B, M', h / 2^n_2d, w / 2^n_2d)
        return self.head(h).mean(dim=(1, 2, 3))  # (B,)

"""Harder footage from the same clips: sensor grain and brightness flicker.

On grainy footage the optical flow of still texture is noise, and under flicker every frame
carries its own exposure: both are where flow extrapolation can fall below copying the last
frame. :class:`Degradation` makes such footage from clean clips, the same way on every run:

* ``grain``: independent Gaussian noise on every pixel, channel and frame, its standard
  deviation in grey levels (0-255);
* ``flicker``: every frame's brightness multiplied by its own factor drawn uniformly from
  ``[1 - flicker, 1 + flicker]`` (as old film or a lamp on the mains flickers).

Flicker is applied first, then grain (the sensor's noise is added after the light), and the
result is rounded back to 8 bits. The random draws depend only on the clip's name, so every
method, run and machine scores the same degraded frames, context and targets alike.

    python scripts/dev_benchmark.py --subset test --checkpoint vidpred/pretrained/refiner.pt --grain 10
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from dataclasses import dataclass

import numpy as np

from vidpred.evaluation.clips import EvalClip

__all__ = ["Degradation"]


@dataclass(frozen=True)
class Degradation:
    """Grain and flicker added to evaluation clips (module docstring); zero: the clip as it is."""

    grain: float = 0.0  # noise standard deviation, grey levels
    flicker: float = 0.0  # brightness factors drawn from [1 - flicker, 1 + flicker]

    def __post_init__(self) -> None:
        if not (math.isfinite(self.grain) and self.grain >= 0):
            raise ValueError(f"grain must be a finite standard deviation >= 0 (grey levels), got {self.grain}")
        if not 0 <= self.flicker < 1:
            raise ValueError(f"flicker must lie in [0, 1), got {self.flicker}")

    def __bool__(self) -> bool:
        return self.grain > 0 or self.flicker > 0

    def describe(self) -> str:
        """One phrase for a report, e.g. ``"grain of 10 grey levels, flicker of ±10%"``."""
        parts = ([f"grain of {self.grain:g} grey levels"] if self.grain else []) + \
                ([f"flicker of ±{100 * self.flicker:g}%"] if self.flicker else [])
        return ", ".join(parts) or "none"

    def frames(self, frames: np.ndarray, seed: int) -> np.ndarray:
        """``frames`` (uint8 ``(T, H, W, C)``) degraded with the draws of ``seed``; a new array."""
        if frames.dtype != np.uint8 or frames.ndim != 4:
            raise ValueError(f"frames must be uint8 (T, H, W, C), got {frames.dtype} {frames.shape}")
        rng = np.random.default_rng(seed)
        out = frames.astype(np.float32)
        if self.flicker:
            out *= rng.uniform(1 - self.flicker, 1 + self.flicker, (len(frames), 1, 1, 1)).astype(np.float32)
        if self.grain:
            out += rng.normal(0.0, self.grain, out.shape).astype(np.float32)
        return np.clip(np.round(out), 0, 255).astype(np.uint8)

    def clip(self, clip: EvalClip) -> EvalClip:
        """``clip`` degraded, its draws seeded by its name (the clip itself if nothing is added)."""
        if not self:
            return clip
        return dataclasses.replace(clip, frames=self.frames(clip.frames, zlib.crc32(clip.name.encode())))

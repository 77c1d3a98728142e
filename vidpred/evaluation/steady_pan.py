"""Steady camera motion from the same clips: a still of each clip panned at constant speed.

A tripod pan, a dolly or drone shot, a scrolling screen: footage whose motion keeps its
speed exactly, where constant-velocity extrapolation is right and any shortening of the
velocity is pure loss. :class:`SteadyPan` makes such footage from the clips of a benchmark
split, so a model is scored on it with the split's own content (no test video's frames are
seen on validation): clip frame ``t`` is the window of the clip's first frame at offset
``t (dx, dy)``, a whole number of pixels per frame (no resampling, so every frame is as sharp
as the still), the speed drawn from ``[1, max_speed]`` px and the direction from the full
circle. The window keeps at least half of the frame's width and height; a clip too small
for its draw gets a proportionally slower pan. The draws depend only on the clip's name.

    python scripts/dev_benchmark.py --subset val --checkpoint vidpred/pretrained/refiner.pt --steady-pan 8
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from dataclasses import dataclass

import numpy as np

from vidpred.evaluation.clips import EvalClip

__all__ = ["SteadyPan"]


@dataclass(frozen=True)
class SteadyPan:
    """Steady pans over each clip's first frame (module docstring); 0: the clip as it is."""

    max_speed: float = 0.0  # px per frame

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_speed) and (self.max_speed == 0 or self.max_speed >= 1)):
            raise ValueError(f"steady-pan speed must be 0 (off) or at least 1 px per frame, got {self.max_speed}")

    def __bool__(self) -> bool:
        return self.max_speed > 0

    def describe(self) -> str:
        return f"a still of each clip's first frame panned steadily at 1-{self.max_speed:g} px per frame"

    def step(self, name: str, n_frames: int, height: int, width: int) -> tuple[int, int]:
        """The whole-pixel offset ``(dx, dy)`` per frame of the clip called ``name``."""
        rng = np.random.default_rng(zlib.crc32(f"steady pan {name}".encode()))
        speed, angle = rng.uniform(1.0, self.max_speed), rng.uniform(0.0, 2 * math.pi)
        vx, vy = speed * math.cos(angle), speed * math.sin(angle)
        # the window (the frame less the path) keeps at least half of each side: a slower pan
        # in the same direction where the frame is too small for the draw
        limit_x, limit_y = (width // 2) // max(1, n_frames - 1), (height // 2) // max(1, n_frames - 1)
        room = min(1.0, limit_x / abs(vx) if vx else 1.0, limit_y / abs(vy) if vy else 1.0)
        dx = int(np.clip(round(vx * room), -limit_x, limit_x))
        dy = int(np.clip(round(vy * room), -limit_y, limit_y))
        if (dx, dy) == (0, 0):
            raise ValueError(f"{name}: {width}x{height} frames are too small for a steady pan of {n_frames} frames")
        return dx, dy

    def frames(self, still: np.ndarray, n_frames: int, step: tuple[int, int]) -> np.ndarray:
        """``n_frames`` windows of ``still`` (``(H, W, C)``), the window moving by ``step`` each frame."""
        H, W = still.shape[:2]
        dx, dy = step
        span_x, span_y = abs(dx) * (n_frames - 1), abs(dy) * (n_frames - 1)
        h, w = H - span_y, W - span_x
        if h < 1 or w < 1:
            raise ValueError(f"a {W}x{H} still cannot hold a pan of {n_frames} frames by {step} px")
        x0, y0 = (0 if dx >= 0 else span_x), (0 if dy >= 0 else span_y)
        return np.stack([still[y0 + t * dy: y0 + t * dy + h, x0 + t * dx: x0 + t * dx + w] for t in range(n_frames)])

    def clip(self, clip: EvalClip) -> EvalClip:
        """``clip`` replaced by a steady pan over its first frame (the clip itself when off)."""
        if not self:
            return clip
        T, H, W, _ = clip.frames.shape
        return dataclasses.replace(clip, frames=self.frames(clip.frames[0], T, self.step(clip.name, T, H, W)))

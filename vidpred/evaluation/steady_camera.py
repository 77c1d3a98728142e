"""Steady camera motion from the same clips: a still of each clip panned, zoomed or rolled at a constant rate.

A tripod pan, a dolly or drone shot, a zoom lens, a scrolling screen: footage whose motion
keeps its rate exactly, where constant-velocity extrapolation is right and any shortening
of the velocity is pure loss. These classes make such footage from the clips of a benchmark
split, so a model is scored on it with the split's own content (no test video's frames are
seen on validation). The draws depend only on the clip's name.

* :class:`SteadyPan`: clip frame ``t`` is the window of the clip's first frame at offset
  ``t (dx, dy)``, a whole number of pixels per frame (no resampling, so every frame is as
  sharp as the still), the speed drawn from ``[1, max_speed]`` px and the direction from the
  full circle. The window keeps at least half of the frame's width and height; a clip too
  small for its draw gets a proportionally slower pan.
* :class:`SteadyZoom`: clip frame ``t`` is the still magnified ``g**t`` times about a fixed
  point (in or out, ``g - 1`` drawn from ``[0.5, max_rate]`` percent per frame, the point from
  the middle sixth of each side), at two thirds of the still's size. Every frame is rendered
  the same way, a bilinear sample on a 4x finer grid averaged over 4x4 blocks, and shrinks the
  still by 1.03-1.25x, so no frame is an enlargement and all are about equally sharp.
* :class:`SteadyRoll`: the still turned by ``roll`` degrees per frame (0.25 to ``max_roll``,
  either way) about a point within a twenty-fourth of each side from its centre, the middle
  frame unturned, rendered as the zooms are (1.25 still pixels per frame pixel).

    python scripts/dev_benchmark.py --subset val --checkpoint vidpred/pretrained/refiner.pt --steady-pan 8
    python scripts/dev_benchmark.py --subset val --checkpoint vidpred/pretrained/refiner.pt --steady-zoom 4
    python scripts/dev_benchmark.py --subset val --checkpoint vidpred/pretrained/refiner.pt --steady-roll 1
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from dataclasses import dataclass

import cv2
import numpy as np

from vidpred.evaluation.clips import EvalClip

__all__ = ["SteadyCamera", "SteadyPan", "SteadyRoll", "SteadyZoom", "ViewMotion", "render_views", "steady_camera"]


def _clip_draws(kind: str, name: str) -> np.random.Generator:
    """The random stream of the clip called ``name`` for ``kind`` of motion: the same on every run."""
    return np.random.default_rng(zlib.crc32(f"{kind} {name}".encode()))


@dataclass(frozen=True)
class SteadyPan:
    """Steady pans over each clip's first frame (module docstring); 0: the clip as it is."""

    max_speed: float = 0.0  # px per frame

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_speed) and (self.max_speed == 0 or self.max_speed >= 1)):
            raise ValueError(f"steady-pan speed must be 0 (off) or at least 1 px per frame, got {self.max_speed}")

    def __bool__(self) -> bool:
        return self.max_speed > 0

    kind = "steady pan"  # what the report calls every scored clip

    def describe(self) -> str:
        return f"a still of each clip's first frame panned steadily at 1-{self.max_speed:g} px per frame"

    def step(self, name: str, n_frames: int, height: int, width: int) -> tuple[int, int]:
        """The whole-pixel offset ``(dx, dy)`` per frame of the clip called ``name``."""
        rng = _clip_draws("steady pan", name)
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


_OUT = 2 / 3  # the zoomed frames' size, a fraction of the still's
_WIDEST = 5 / 6  # the widest view's span, a fraction of the still's (1.25 still px per frame px)
_SUPERSAMPLE = 4


@dataclass(frozen=True)
class ViewMotion:
    """One clip's zoom and roll: the magnification and turn per frame and the fixed point
    (still pixels)."""

    factor: float  # > 1: zooming in, < 1: zooming out
    cx: float
    cy: float
    roll: float = 0.0  # degrees per frame, counter-clockwise in the picture's content


def render_views(still: np.ndarray, n_frames: int, motion: ViewMotion) -> np.ndarray:
    """``n_frames`` views of ``still`` (``(H, W, C)`` uint8), each ``motion.factor`` times the one
    before and turned by ``motion.roll`` degrees (the middle frame unturned)."""
    H, W, C = still.shape
    h, w = max(1, round(H * _OUT)), max(1, round(W * _OUT))
    magnification = motion.factor ** np.arange(n_frames)
    magnification = magnification / magnification.min()  # the widest view is 1
    if magnification.max() > _WIDEST / _OUT:
        raise ValueError(f"a zoom of {motion.factor:g} per frame over {n_frames} frames enlarges the still")
    k = _SUPERSAMPLE
    out = []
    for t, m in enumerate(magnification):
        s = W * _WIDEST / w / m  # still pixels per frame pixel, at least 1
        angle = math.radians(motion.roll * (t - (n_frames - 1) / 2))
        cos, sin = s * math.cos(angle), s * math.sin(angle)
        # fine pixel j has its centre at frame coordinate (j + 0.5) / k; frame point u (from
        # the frame's centre) is still coordinate c + s R u, whose pixel index is that less 0.5
        du, dv = 0.5 / k - w / 2, 0.5 / k - h / 2
        affine = np.array([[cos / k, -sin / k, motion.cx - 0.5 + cos * du - sin * dv],
                           [sin / k, cos / k, motion.cy - 0.5 + sin * du + cos * dv]])
        fine = cv2.warpAffine(still, affine, (w * k, h * k), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REFLECT_101)
        frame = fine.reshape(h, k, w, k, C).astype(np.float32).mean(axis=(1, 3))
        out.append(np.clip(np.rint(frame), 0, 255).astype(np.uint8))
    return np.stack(out)


class _ViewsOfStill:
    """What the zooms and rolls share: ``frames`` renders the views a subclass's ``step(name,
    height, width)`` draws, ``clip`` replaces a clip by them."""

    frames = staticmethod(render_views)

    def clip(self, clip: EvalClip) -> EvalClip:
        """``clip`` replaced by the views of its first frame (the clip itself when off)."""
        if not self:
            return clip
        T, H, W, _ = clip.frames.shape
        return dataclasses.replace(clip, frames=render_views(clip.frames[0], T, self.step(clip.name, H, W)))


@dataclass(frozen=True)
class SteadyZoom(_ViewsOfStill):
    """Steady zooms into or out of each clip's first frame (module docstring); 0: the clip as it is."""

    max_rate: float = 0.0  # percent magnification per frame

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_rate) and (self.max_rate == 0 or 0.5 <= self.max_rate <= 4)):
            raise ValueError(f"steady-zoom rate must be 0 (off) or 0.5-4 percent per frame, got {self.max_rate}")

    def __bool__(self) -> bool:
        return self.max_rate > 0

    kind = "steady zoom"  # what the report calls every scored clip

    def describe(self) -> str:
        return (f"a still of each clip's first frame zoomed steadily in or out by 0.5-{self.max_rate:g}% per frame "
                f"(frames at {_OUT:.2g} of its size)")

    def check_frames(self, n_frames: int) -> None:
        """Raise ``ValueError`` when the fastest zoom drawn would enlarge the still over
        ``n_frames`` frames (:func:`render_views`): say so before any clip is drawn."""
        if (1 + self.max_rate / 100) ** (n_frames - 1) > _WIDEST / _OUT:
            longest = 1 + int(math.log(_WIDEST / _OUT) / math.log(1 + self.max_rate / 100))
            raise ValueError(f"a steady zoom of up to {self.max_rate:g}% per frame keeps every frame a shrink of the "
                             f"still over at most {longest} frames; the clips have {n_frames}: zoom slower "
                             "(--steady-zoom) or give fewer context frames (--n-context)")

    def step(self, name: str, height: int, width: int) -> ViewMotion:
        """The zoom of the clip called ``name`` over a ``height`` x ``width`` still."""
        rng = _clip_draws("steady zoom", name)
        rate = rng.uniform(0.5, self.max_rate) / 100
        factor = 1 + rate if rng.random() < 0.5 else 1 / (1 + rate)
        # the widest view spans 5/6 of each side; its centre may move by the rest
        cx = width / 2 + rng.uniform(-1, 1) * width / 12
        cy = height / 2 + rng.uniform(-1, 1) * height / 12
        return ViewMotion(factor, cx, cy)


@dataclass(frozen=True)
class SteadyRoll(_ViewsOfStill):
    """Steady rolls of each clip's first frame about a point near its centre (module
    docstring): ``roll`` degrees per frame from ``[0.25, max_roll]``, either way, no zoom, the
    frames rendered as the zooms are; 0: the clip as it is."""

    max_roll: float = 0.0  # degrees per frame

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_roll) and (self.max_roll == 0 or 0.25 <= self.max_roll <= 1)):
            raise ValueError(f"steady-roll rate must be 0 (off) or 0.25-1 degrees per frame, got {self.max_roll}")

    def __bool__(self) -> bool:
        return self.max_roll > 0

    kind = "steady roll"  # what the report calls every scored clip

    def describe(self) -> str:
        return (f"a still of each clip's first frame rolled steadily by 0.25-{self.max_roll:g} degrees per frame "
                f"(frames at {_OUT:.2g} of its size)")

    def step(self, name: str, height: int, width: int) -> ViewMotion:
        """The roll of the clip called ``name`` over a ``height`` x ``width`` still."""
        rng = _clip_draws("steady roll", name)
        roll = rng.uniform(0.25, self.max_roll) * (1 if rng.random() < 0.5 else -1)
        # a turned view needs more room than a zoomed one: its centre moves by half as much
        cx = width / 2 + rng.uniform(-1, 1) * width / 24
        cy = height / 2 + rng.uniform(-1, 1) * height / 24
        return ViewMotion(1.0, cx, cy, roll)


SteadyCamera = SteadyPan | SteadyZoom | SteadyRoll


def steady_camera(pan: float = 0.0, zoom: float = 0.0, roll: float = 0.0) -> SteadyCamera:
    """The steady motion of ``--steady-pan MAX_PX``, ``--steady-zoom MAX_PCT`` or
    ``--steady-roll MAX_DEG`` (all 0: off)."""
    if sum(bool(x) for x in (pan, zoom, roll)) > 1:
        raise ValueError("--steady-pan, --steady-zoom and --steady-roll cannot be combined: choose one camera motion")
    return SteadyRoll(roll) if roll else SteadyZoom(zoom) if zoom else SteadyPan(pan)

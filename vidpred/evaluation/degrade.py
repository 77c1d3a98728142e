"""Harder footage from the same clips: smaller frames, sensor grain, brightness flicker, a
fade, a burnt-in caption, letterbox bars, frames turned upright as a phone held in portrait
films them, and lossy compression.

On grainy footage the optical flow of still texture is noise, and under flicker every frame
carries its own exposure: both are where flow extrapolation can fall below copying the last
frame. In a fade (an edit's fade to black, or a camera's exposure settling) every frame is
darker or brighter than the last by the same step, which copying and flow both miss. A
caption burnt into every frame (a camera's timestamp) holds still while the scene moves
under it, and letterbox bars (a wide film in a taller frame) are still black edges the
scene moves against. :class:`Degradation` makes such footage from clean clips, the same way
on every run:

* ``height``: every frame resized to this many rows, its width in proportion (area
  averaging when shrinking, as a camera of fewer pixels sees the scene): the same motion,
  a larger share of each frame a step;
* ``grain``: independent Gaussian noise on every pixel, channel and frame, its standard
  deviation in grey levels (0-255);
* ``flicker``: every frame's brightness multiplied by its own factor drawn uniformly from
  ``[1 - flicker, 1 + flicker]`` (as old film or a lamp on the mains flickers);
* ``fade``: every frame's brightness a steady step darker than the last, this fraction of
  the first frame's (a fade to black); negative, a step brighter, up to the last frame as
  it is (a fade in); with ``fade_frames``, only the clip's first ``fade_frames`` frames
  fade, the ones after them holding the faded brightness (fading in, the fade ends at
  full brightness): a fade that ends within the clip; with ``fade_white``, the fade goes
  to white (or comes from it) instead: each frame's distance from white shrinks by the step;
* ``dissolve``: a cross-dissolve, an edit's transition from one scene to the next: each
  frame a mix of the clip and a second scene, the same clip turned a half turn (upside
  down, its motion reversed), the second scene's share growing by this step a frame from
  none in the first frame;
* ``caption``: a white timestamp outlined in black at the bottom left and a red recording
  mark at the top right, the same in every frame;
* ``letterbox``: black bars above and below, each this fraction of the frame's height (the
  frames grow taller by both);
* ``portrait``: every frame turned a quarter turn clockwise, so a landscape clip becomes a
  tall one whose horizontal motion runs down the frame (a phone held upright);
* ``jpeg``: every frame compressed as a JPEG of this quality (1-100), as a webcam's or a
  camera's motion-JPEG stream stores it: 8x8 blocks whose artefacts change from frame to
  frame, since each frame is compressed alone.

The resizing comes first, then the turn, then the dissolve, then flicker and the fade, then grain (the sensor's noise is added after the light), and the
result is rounded back to 8 bits; the caption is drawn on that, the bars added, and every frame
compressed last, as the file that reaches a user was. The
random draws depend only on the clip's name, so every method, run and machine scores the same
degraded frames, context and targets alike.

    python scripts/dev_benchmark.py --subset test --checkpoint vidpred/pretrained/refiner.pt --grain 10
    python scripts/dev_benchmark.py --subset test --checkpoint vidpred/pretrained/refiner.pt --caption --letterbox 0.15
    python scripts/dev_benchmark.py --subset test --checkpoint vidpred/pretrained/refiner.pt --jpeg 30
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from dataclasses import dataclass

import cv2
import numpy as np

from vidpred.evaluation.clips import EvalClip

__all__ = ["Degradation"]


@dataclass(frozen=True)
class Degradation:
    """Grain, flicker, a caption and letterbox bars added to evaluation clips (module
    docstring); zero: the clip as it is."""

    grain: float = 0.0  # noise standard deviation, grey levels
    flicker: float = 0.0  # brightness factors drawn from [1 - flicker, 1 + flicker]
    fade: float = 0.0  # brightness step per frame: > 0 fades to black, < 0 fades in
    fade_frames: int = 0  # how many of the clip's first frames fade or dissolve (0: all of them)
    fade_white: bool = False  # the fade goes to white (or comes from it), not to black
    dissolve: float = 0.0  # the second scene's share added a frame in a cross-dissolve (0: none)
    caption: bool = False  # a still timestamp and recording mark burnt into every frame
    letterbox: float = 0.0  # black bars above and below, each this fraction of the frame's height
    portrait: bool = False  # every frame turned a quarter turn clockwise
    jpeg: int = 0  # every frame compressed as a JPEG of this quality (1-100); 0: not compressed
    height: int = 0  # every frame resized to this many rows first, its width in proportion; 0: as it is

    def __post_init__(self) -> None:
        if not (math.isfinite(self.grain) and self.grain >= 0):
            raise ValueError(f"grain must be a finite standard deviation >= 0 (grey levels), got {self.grain}")
        if not 0 <= self.flicker < 1:
            raise ValueError(f"flicker must lie in [0, 1), got {self.flicker}")
        if not -1 < self.fade < 1:
            raise ValueError(f"fade must lie in (-1, 1) (the brightness step per frame), got {self.fade}")
        if self.fade_frames < 0 or self.fade_frames == 1 or (self.fade_frames and not (self.fade or self.dissolve)):
            raise ValueError(f"fade_frames must be 0 (every frame fades) or >= 2 with a fade or a dissolve, "
                             f"got {self.fade_frames}")
        if self.fade_white and not self.fade:
            raise ValueError("fade_white needs a fade (its step per frame)")
        if not 0 <= self.dissolve < 1:
            raise ValueError(f"dissolve must lie in [0, 1) (the second scene's share added a frame), got {self.dissolve}")
        if not 0 <= self.letterbox <= 1:
            raise ValueError(f"letterbox must lie in [0, 1] (each bar's share of the frame's height), got {self.letterbox}")
        if isinstance(self.jpeg, bool) or not isinstance(self.jpeg, int) or not 0 <= self.jpeg <= 100:
            raise ValueError(f"jpeg must be a JPEG quality from 1 to 100 (0: not compressed), got {self.jpeg!r}")
        if isinstance(self.height, bool) or not isinstance(self.height, int) or not (self.height == 0 or
                                                                                      self.height >= _MIN_HEIGHT):
            raise ValueError(f"height must be 0 (as it is) or at least {_MIN_HEIGHT} rows, got {self.height!r}")

    def __bool__(self) -> bool:
        return self.grain > 0 or self.flicker > 0 or self.fade != 0 or self.dissolve > 0 or self.caption \
            or self.letterbox > 0 or self.portrait or self.jpeg > 0 or self.height > 0

    def describe(self) -> str:
        """One phrase for a report, e.g. ``"grain of 10 grey levels, flicker of ±10%"``."""
        parts = ([f"every frame resized to {self.height} rows"] if self.height else []) + \
                (["each frame turned a quarter turn (portrait)"] if self.portrait else []) + \
                ([f"a cross-dissolve of {100 * self.dissolve:g}% a frame"
                  + (f" over the first {self.fade_frames} frames" if self.fade_frames else "")] if self.dissolve else []) + \
                ([f"grain of {self.grain:g} grey levels"] if self.grain else []) + \
                ([f"flicker of ±{100 * self.flicker:g}%"] if self.flicker else []) + \
                ([f"a fade {self._fade_kind()} of {100 * abs(self.fade):g}% a frame"
                  + (f" over the first {self.fade_frames} frames" if self.fade_frames else "")] if self.fade else []) + \
                (["a still caption burnt in"] if self.caption else []) + \
                ([f"letterbox bars of {100 * self.letterbox:g}% of the height above and below"] if self.letterbox else []) + \
                ([f"every frame a JPEG of quality {self.jpeg}"] if self.jpeg else [])
        return ", ".join(parts) or "none"

    def frames(self, frames: np.ndarray, seed: int) -> np.ndarray:
        """``frames`` (uint8 ``(T, H, W, C)``) degraded with the draws of ``seed``; a new array."""
        if frames.dtype != np.uint8 or frames.ndim != 4:
            raise ValueError(f"frames must be uint8 (T, H, W, C), got {frames.dtype} {frames.shape}")
        rng = np.random.default_rng(seed)
        if self.height:
            frames = np.stack([_resized(frame, self.height) for frame in frames])
        if self.portrait:
            frames = np.ascontiguousarray(np.rot90(frames, k=-1, axes=(1, 2)))
        out = frames.astype(np.float32)
        if self.dissolve:  # the clip turned a half turn comes in (held after fade_frames frames)
            steps = np.minimum(np.arange(len(out), dtype=np.float32), (self.fade_frames or len(out)) - 1)
            share = np.minimum(self.dissolve * steps, 1)[:, None, None, None]
            out = (1 - share) * out + share * out[:, ::-1, ::-1]
        if self.flicker:
            out *= rng.uniform(1 - self.flicker, 1 + self.flicker, (len(frames), 1, 1, 1)).astype(np.float32)
        if self.fade and self.fade_white:  # the distance from white scaled
            out = 255 - (255 - out) * self._fade_factors(len(frames))[:, None, None, None]
        elif self.fade:
            out *= self._fade_factors(len(frames))[:, None, None, None]
        if self.grain:
            out += rng.normal(0.0, self.grain, out.shape).astype(np.float32)
        out = np.clip(np.round(out), 0, 255).astype(np.uint8)
        if self.caption:
            for frame in out:
                _draw_caption(frame)
        if self.letterbox:
            bar = round(self.letterbox * out.shape[1])
            out = np.pad(out, ((0, 0), (bar, bar), (0, 0), (0, 0)))
        if self.jpeg:
            out = np.stack([_jpeg_compressed(frame, self.jpeg) for frame in out])
        return out

    def _fade_kind(self) -> str:
        """``"out"``, ``"in"``, ``"out to white"`` or ``"in from white"``."""
        if self.fade_white:
            return "out to white" if self.fade > 0 else "in from white"
        return "out" if self.fade > 0 else "in"

    def _fade_factors(self, length: int) -> np.ndarray:
        """Each of ``length`` frames' brightness factor: 1, 1 - fade, 1 - 2 fade, ... fading out;
        fading in, the same read from the last fading frame back; after ``fade_frames``
        frames, the last fading frame's."""
        fading = min(self.fade_frames or length, length)
        steps = np.minimum(np.arange(length, dtype=np.float32), fading - 1)
        factors = 1 - abs(self.fade) * (steps if self.fade > 0 else fading - 1 - steps)
        if factors.min() <= 0:
            end = "white" if self.fade_white else "black"
            raise ValueError(f"a fade of {self.fade:g} a frame reaches {end} within {length} frames; "
                             f"use one under {1 / max(length - 1, 1):.3g}")
        return factors

    def clip(self, clip: EvalClip) -> EvalClip:
        """``clip`` degraded, its draws seeded by its name (the clip itself if nothing is added)."""
        if not self:
            return clip
        return dataclasses.replace(clip, frames=self.frames(clip.frames, zlib.crc32(clip.name.encode())))


_MIN_HEIGHT = 16  # rows: DIS and the refiner's working size need a few


def _resized(frame: np.ndarray, height: int) -> np.ndarray:
    """``frame`` (uint8 ``(H, W, C)``) resized to ``height`` rows and the width in proportion
    (at least 1): area averaging when it shrinks, bicubic when it grows."""
    H, W, C = frame.shape
    width = max(1, round(W * height / H))
    out = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA if height < H else cv2.INTER_CUBIC)
    return out.reshape(height, width, C)


def _jpeg_compressed(frame: np.ndarray, quality: int) -> np.ndarray:
    """``frame`` (uint8 ``(H, W, C)``, RGB or grey) encoded as a JPEG of ``quality`` and decoded again."""
    colour = frame.shape[2] == 3
    ok, data = cv2.imencode(".jpg", frame[..., ::-1] if colour else frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError(f"OpenCV could not encode a {frame.shape} frame as a JPEG")
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR if colour else cv2.IMREAD_GRAYSCALE)
    return np.ascontiguousarray(decoded[..., ::-1]) if colour else decoded.reshape(frame.shape)


_CAPTION = "2026-12-07 10:42:17"


def _draw_caption(frame: np.ndarray) -> None:
    """Burn a camera's caption into ``frame`` (uint8 ``(H, W, C)``, in place): a white timestamp
    outlined in black at the bottom left, a red recording mark at the top right, sized to the frame."""
    H, W, C = frame.shape
    scale = H / 400
    thick = max(1, round(2 * scale))
    white, black, red = ((255,) * C, (0,) * C, (255, 0, 0)[:C] if C == 3 else (255,) * C)
    at = (round(0.03 * W), round(0.94 * H))
    cv2.putText(frame, _CAPTION, at, cv2.FONT_HERSHEY_SIMPLEX, scale, black, 3 * thick, cv2.LINE_AA)
    cv2.putText(frame, _CAPTION, at, cv2.FONT_HERSHEY_SIMPLEX, scale, white, thick, cv2.LINE_AA)
    cv2.putText(frame, "REC", (round(0.85 * W), round(0.08 * H)), cv2.FONT_HERSHEY_SIMPLEX, scale, red, 2 * thick,
                cv2.LINE_AA)

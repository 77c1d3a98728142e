"""Synthetic training videos: real photographs moved by a random camera, with moving cut-outs.

Optical-flow networks learned large and global motion from real photos moved synthetically
(FlyingChairs, FlyingThings) and carried it over to real footage. The same recipe gives a
video predictor motion that real clips show rarely -- fast pans, zooms, rotations, shake --
on real-image textures, and with every motion known:

* **camera** -- a background photo warped per frame by an affine map (pan, zoom, rotation)
  whose rates are constant (constant velocity) or change linearly over the clip (constant
  acceleration), plus handheld shake (a small random offset per frame). A share of videos
  (``still_fraction``) has a still camera, so a model also learns to leave still content put;
* **layers** -- up to ``max_layers`` polygons and ellipses cut from other photos, each moving
  by its own affine motion, composited in a fixed depth order (later layers in front); with
  ``max_wander > 0`` a moving layer's path also wanders (half of them only wander), its
  velocity a mean-reverting random walk, so its next step is only partly predictable from
  its last ones, as a head or a hand moves;
* **sensor** -- a slow global gain drift, Gaussian noise and per-frame JPEG compression.

Warps are bilinear (``cv2.warpAffine``); the background reflects at the photo's border, and
its crop is placed so that the whole camera path usually stays inside the photo. A scene is
drawn by :func:`sample_scene` (every random choice of a video, from one generator) and drawn
into frames by :func:`render_scene`, which is deterministic; :func:`generate_synthetic_video`
does both for a seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from vidpred.config import SEED_BLOCK
from vidpred.data.photos import photo_library

__all__ = [
    "Layer",
    "Motion",
    "Scene",
    "generate_synthetic_video",
    "render_scene",
    "sample_scene",
    "synthetic_seeds",
]

_SEED_BLOCK = SEED_BLOCK  # one data.synthetic.seed's videos
_SHAKE_FRACTION = 0.3  # share of moving-camera videos with handheld shake
_LAYER_RADIUS = (0.1, 0.3)  # layer radius as a fraction of the frame's shorter side


def synthetic_seeds(base_seed: int, n: int) -> list[int]:
    """Seeds of ``n`` synthetic videos: ``base_seed * 1_000_000 + i``, a block per base seed."""
    if base_seed < 0 or not 0 <= n <= _SEED_BLOCK:
        raise ValueError(f"need base_seed >= 0 and n in [0, {_SEED_BLOCK}], got {base_seed}, {n}")
    start = base_seed * _SEED_BLOCK
    return list(range(start, start + n))


# --------------------------------------------------------------------------------------
# Scene description
# --------------------------------------------------------------------------------------


def _ramp_integral(rates: tuple[float, float] | np.ndarray, n_frames: int) -> np.ndarray:
    """Integral over frames ``0..T-1`` of a rate going linearly from ``rates[0]`` to ``rates[1]``.

    ``d(t) = r0 t + (r1 - r0) t^2 / (2 (T - 1))``, so ``d(0) = 0``; equal rates give ``r0 t``.
    ``rates``: ``(2, ...)``. Returns float64 ``(T, ...)``.
    """
    r0, r1 = np.asarray(rates, dtype=np.float64)
    t = np.arange(n_frames, dtype=np.float64).reshape((-1,) + (1,) * r0.ndim)
    return r0 * t + (r1 - r0) * t * t / (2.0 * max(n_frames - 1, 1))


@dataclass(frozen=True)
class Motion:
    """Affine motion whose per-frame rates change linearly from the first frame to the last.

    Equal start and end rates give constant velocity, different ones constant acceleration.

    Attributes:
        velocity: ``((vx, vy) at the start, (vx, vy) at the end)``, output pixels per frame.
        zoom: log-scale change per frame (start, end); positive grows the content.
        rotation: radians per frame (start, end); positive turns x towards y (clockwise on screen).
    """

    velocity: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 0.0), (0.0, 0.0))
    zoom: tuple[float, float] = (0.0, 0.0)
    rotation: tuple[float, float] = (0.0, 0.0)

    def path(self, n_frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Offset float64 ``(T, 2)`` (x, y) pixels, log-scale ``(T,)`` and angle ``(T,)`` from frame 0."""
        return (_ramp_integral(self.velocity, n_frames), _ramp_integral(self.zoom, n_frames),
                _ramp_integral(self.rotation, n_frames))


@dataclass(frozen=True)
class Layer:
    """A cut-out: a polygon of a photo, moving over the frames.

    Attributes:
        photo: index into the photo library.
        corner: ``(x, y)`` top-left corner, in the resized photo, of the square sprite holding the cut-out.
        size: sprite side, pixels.
        outline: float ``(K, 2)`` polygon vertices ``(x, y)`` in sprite pixels.
        position: ``(x, y)`` output position of the sprite's centre at frame 0.
        angle: rotation at frame 0, radians.
        motion: its own motion, added to ``position`` and ``angle``.
        photo_scale: the photo is first resized by this factor (area averaging), so a
            cut-out shows a good part of a large photo rather than a flat patch of it.
        wander: float ``(T, 2)`` extra ``(x, y)`` offset of each frame (None: none), added
            to ``motion``'s path.
    """

    photo: int
    corner: tuple[int, int]
    size: int
    outline: np.ndarray
    position: tuple[float, float]
    angle: float = 0.0
    motion: Motion = field(default_factory=Motion)
    photo_scale: float = 1.0
    wander: np.ndarray | None = None


@dataclass(frozen=True)
class Scene:
    """Everything random about one synthetic video; :func:`render_scene` draws it.

    Attributes:
        background: index of the background photo in the photo library.
        photo_scale: the background photo is first resized by this factor (area averaging
            when < 1, so the per-frame warps never minify much and do not alias).
        centre: ``(x, y)`` point of the resized photo shown at the frame centre at frame 0.
        magnification: output pixels per resized-photo pixel at frame 0.
        camera: the background's motion (content moves by ``camera.path``).
        shake: float ``(T, 2)`` extra ``(x, y)`` content offset of each frame (handheld shake).
        layers: cut-outs from the farthest to the nearest.
        gain: brightness factor at the first and last frame (geometric in between).
        noise_sigma: standard deviation of Gaussian noise on the 0..255 scale.
        noise_seed: seed of the noise.
        jpeg_quality: JPEG quality of every frame (None: no compression).
    """

    background: int
    photo_scale: float
    centre: tuple[float, float]
    magnification: float
    camera: Motion
    shake: np.ndarray
    layers: tuple[Layer, ...] = ()
    gain: tuple[float, float] = (1.0, 1.0)
    noise_sigma: float = 0.0
    noise_seed: int = 0
    jpeg_quality: int | None = None


# --------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------


def _velocity(rng: np.random.Generator, max_speed: float) -> tuple[float, float]:
    """A random ``(vx, vy)``: speed ``max_speed * u^2`` (u uniform), so slow motion is common."""
    speed = max_speed * rng.random() ** 2
    heading = rng.uniform(0.0, 2.0 * math.pi)
    return speed * math.cos(heading), speed * math.sin(heading)


def _motion(rng: np.random.Generator, max_speed: float, max_zoom: float, max_rotation: float) -> Motion:
    """Constant velocity or (half the time) constant acceleration; zoom and rotation each half the time."""
    accelerate = rng.random() < 0.5

    def rates(draw):
        start = draw()
        return (start, draw() if accelerate else start)

    velocity = rates(lambda: _velocity(rng, max_speed))
    zoom = rates(lambda: rng.uniform(-max_zoom, max_zoom)) if rng.random() < 0.5 else (0.0, 0.0)
    rotation = rates(lambda: rng.uniform(-max_rotation, max_rotation)) if rng.random() < 0.5 else (0.0, 0.0)
    return Motion(velocity, zoom, rotation)


def _place_background(rng: np.random.Generator, photo_hw: tuple[int, int], offset: np.ndarray,
                      log_scale: np.ndarray, angle: np.ndarray, height: int, width: int
                      ) -> tuple[float, tuple[float, float], float]:
    """Photo scale, centre and magnification that keep the whole camera path inside the photo.

    ``offset`` float ``(T, 2)`` (x, y) output pixels and ``log_scale`` ``(T,)`` are the
    camera's path (:meth:`Motion.path`, shake included); the centre is ``(x, y)`` in the
    resized photo (see :class:`Scene`).

    The path needs ``need`` output pixels (frame grown by the widest zoom-out, a square of the
    frame's diagonal when rotating, plus the travel); the magnification is between the
    smallest that fits and 1.5 times that (more would mostly show upsampling blur). A photo
    larger than needed is resized down first.
    """
    half = np.array([width, height], np.float64) / 2.0
    if np.any(angle):
        half[:] = math.hypot(width, height) / 2.0
    widest = math.exp(-min(log_scale.min(), 0.0))
    # Frame t shows centre + (-offset[t] +- half) * exp(-log_scale[t]) / magnification (x, y):
    # the offset shrinks or grows with the zoom as the frame does.
    # (and turns with the rotation: the frame's centre is R(-angle[t]) (-offset[t]) away).
    c, s = np.cos(angle), np.sin(angle)
    shift = -np.stack([c * offset[:, 0] + s * offset[:, 1], -s * offset[:, 0] + c * offset[:, 1]], axis=1)
    inverse = np.exp(-log_scale)[:, None]
    lo = ((shift - half) * inverse).min(axis=0)  # output pixels at magnification 1
    hi = ((shift + half) * inverse).max(axis=0)
    need = hi - lo  # (x, y)
    size = np.array([photo_hw[1], photo_hw[0]], np.float64)
    magnification = float(np.max(need / size)) * rng.uniform(1.0, 1.5)
    photo_scale = min(1.0, magnification / widest)  # the narrowest frame is then 1:1 or magnified
    magnification /= photo_scale
    size = size * photo_scale
    low = -lo / magnification
    high = size - hi / magnification
    centre = np.where(low <= high, low + rng.random(2) * np.maximum(high - low, 0.0), (low + high) / 2.0)
    return photo_scale, (float(centre[0]), float(centre[1])), magnification


def _outline(rng: np.random.Generator, radius: float, centre: float) -> np.ndarray:
    """A random star-shaped polygon or an ellipse of about ``radius``, float ``(K, 2)`` around ``centre``."""
    if rng.random() < 0.5:
        k = int(rng.integers(5, 13))
        angles = np.sort(rng.uniform(0.0, 2.0 * math.pi, k))
        radii = radius * rng.uniform(0.5, 1.0, k)
    else:
        angles = np.linspace(0.0, 2.0 * math.pi, 48, endpoint=False)
        ratio, tilt = rng.uniform(0.4, 1.0), rng.uniform(0.0, math.pi)
        # Polar form of an ellipse with semi-axes radius and ratio * radius, turned by tilt.
        radii = ratio * radius / np.sqrt((ratio * np.cos(angles - tilt)) ** 2 + np.sin(angles - tilt) ** 2)
    return np.stack([centre + radii * np.cos(angles), centre + radii * np.sin(angles)], axis=1)


def _wander(rng: np.random.Generator, n_frames: int, max_wander: float) -> np.ndarray:
    """float64 ``(T, 2)`` offsets from frame 0 whose per-frame steps follow ``v_t = r v_{t-1} + s e_t``.

    ``s`` uniform in ``[0, max_wander]`` pixels, ``r`` uniform in ``[0, 0.9]``: the best
    forecast of the next step from the last is ``r`` times it, a damped one.
    """
    sigma, memory = rng.uniform(0.0, max_wander), rng.uniform(0.0, 0.9)
    steps = np.zeros((n_frames, 2))
    kicks = rng.normal(0.0, sigma, (n_frames, 2))
    for t in range(1, n_frames):
        steps[t] = memory * steps[t - 1] + kicks[t]
    return np.cumsum(steps, axis=0)


def _layer(rng: np.random.Generator, photos: Sequence[np.ndarray], background: int, height: int, width: int,
           max_speed: float, still_fraction: float, max_zoom: float, max_rotation: float,
           n_frames: int, max_wander: float) -> Layer:
    """A random cut-out of a photo other than the ``background``'s (when there is another), placed
    anywhere in the ``height x width`` frame; the speeds and rates as :func:`sample_scene`'s,
    ``max_rotation`` in radians per frame."""
    n = len(photos)
    photo = int(rng.integers(n - 1)) if n > 1 else 0
    photo += int(n > 1 and photo >= background)  # another photo than the background's when there is one
    ph, pw = photos[photo].shape[:2]
    radius = rng.uniform(*_LAYER_RADIUS) * min(height, width)
    # The sprite spans a third to all of the photo's shorter side.
    photo_scale = min(1.0, (2 * radius + 3) / (min(ph, pw) * rng.uniform(1.0 / 3.0, 1.0)))
    ph, pw = max(round(ph * photo_scale), 1), max(round(pw * photo_scale), 1)
    size = min(2 * math.ceil(radius) + 3, ph, pw)
    radius = min(radius, (size - 3) / 2.0)
    outline = _outline(rng, radius, (size - 1) / 2.0)
    corner = (int(rng.integers(pw - size + 1)), int(rng.integers(ph - size + 1)))
    position = (rng.uniform(0.0, width), rng.uniform(0.0, height))
    angle = rng.uniform(0.0, 2.0 * math.pi)
    still = rng.random() < still_fraction
    motion = Motion() if still else _motion(rng, max_speed, max_zoom, max_rotation)
    wander = None
    # Drawn only when asked for: with max_wander = 0 a scene takes no random number for it.
    if max_wander > 0 and not still:
        wander = _wander(rng, n_frames, max_wander)
        if rng.random() < 0.5:  # half the wanderers only wander, as a head in front of a webcam
            motion = Motion()
    return Layer(photo, corner, size, outline, position, angle, motion, photo_scale, wander)


def sample_scene(rng: np.random.Generator, photos: Sequence[np.ndarray], n_frames: int, height: int, width: int, *,
                 max_speed: float = 12.0, still_fraction: float = 0.2, max_layers: int = 3, max_zoom: float = 0.01,
                 max_rotation: float = 1.0, max_shake: float = 1.0, max_noise: float = 8.0,
                 jpeg_fraction: float = 0.7, max_wander: float = 0.0) -> Scene:
    """Draw every random choice of one video (see :func:`generate_synthetic_video` for the arguments).

    ``photos`` are uint8 ``(H, W, 3)`` RGB (:func:`vidpred.data.photos.photo_library`); only
    the ones it picks (a background and one per layer) are read.
    """
    background = int(rng.integers(len(photos)))
    if rng.random() < still_fraction:
        camera, shake = Motion(), np.zeros((n_frames, 2))
    else:
        camera = _motion(rng, max_speed, max_zoom, math.radians(max_rotation))
        sigma = rng.uniform(0.0, max_shake) if rng.random() < _SHAKE_FRACTION else 0.0
        shake = rng.normal(0.0, 1.0, (n_frames, 2)) * sigma
    offset, log_scale, angle = camera.path(n_frames)
    photo_scale, centre, magnification = _place_background(
        rng, photos[background].shape[:2], offset + shake, log_scale, angle, height, width)
    layers = tuple(_layer(rng, photos, background, height, width, max_speed, still_fraction, max_zoom,
                          math.radians(max_rotation), n_frames, max_wander)
                   for _ in range(int(rng.integers(max_layers + 1))))
    gain_start = rng.uniform(0.8, 1.2)
    gain = (gain_start, gain_start * math.exp(rng.uniform(-0.15, 0.15))) if rng.random() < 0.5 else (gain_start,) * 2
    noise_sigma = rng.uniform(0.0, max_noise) if rng.random() < 0.7 else 0.0
    noise_seed = int(rng.integers(2**63))
    jpeg_quality = int(rng.integers(30, 96)) if rng.random() < jpeg_fraction else None
    return Scene(background, photo_scale, centre, magnification, camera, shake, layers, gain, noise_sigma,
                 noise_seed, jpeg_quality)


# --------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------


def _similarity(scale: float, angle: float, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """float64 ``(2, 3)`` map ``x -> target + scale * R(angle) (x - source)`` on ``(x, y)`` points."""
    c, s = scale * math.cos(angle), scale * math.sin(angle)
    a = np.array([[c, -s], [s, c]])
    return np.concatenate([a, (target - a @ source)[:, None]], axis=1)


def _resized(photo: np.ndarray, scale: float) -> np.ndarray:
    """``photo`` resized by ``scale`` (area averaging when shrinking); the sizes round to pixels."""
    if scale == 1.0:
        return photo
    ph, pw = photo.shape[:2]
    size = (max(round(pw * scale), 1), max(round(ph * scale), 1))
    return cv2.resize(photo, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def _render_background(scene: Scene, photo: np.ndarray, n_frames: int, height: int, width: int) -> np.ndarray:
    """float32 ``(T, H, W, 3)`` on the 0..255 scale."""
    photo = _resized(photo, scene.photo_scale)
    offset, log_scale, angle = scene.camera.path(n_frames)
    offset = offset + scene.shake
    frame_centre = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    frames = np.empty((n_frames, height, width, 3), np.float32)
    for t in range(n_frames):
        warp = _similarity(scene.magnification * math.exp(log_scale[t]), angle[t], np.asarray(scene.centre),
                           frame_centre + offset[t])
        frames[t] = cv2.warpAffine(photo, warp, (width, height), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REFLECT)
    return frames


def _sprite(layer: Layer, photo: np.ndarray) -> np.ndarray:
    """float32 ``(S, S, 4)``: the cut-out's RGB premultiplied by its anti-aliased coverage, and the coverage."""
    x, y, s = layer.corner[0], layer.corner[1], layer.size
    rgb = _resized(photo, layer.photo_scale)[y:y + s, x:x + s].astype(np.float32)
    if rgb.shape[:2] != (s, s):
        raise ValueError(f"layer sprite {s}x{s} at {layer.corner} does not fit in a {photo.shape[:2]} photo")
    mask = np.zeros((s, s), np.uint8)
    vertices = np.rint(np.asarray(layer.outline) * 16).astype(np.int32)  # 4 fractional bits
    cv2.fillPoly(mask, [vertices], 255, lineType=cv2.LINE_AA, shift=4)
    alpha = mask.astype(np.float32) / 255.0
    # Premultiplied, so bilinear warping does not bleed the (undefined) outside colour into the edge.
    return np.concatenate([rgb * alpha[:, :, None], alpha[:, :, None]], axis=2)


def _composite_layer(frames: np.ndarray, layer: Layer, photo: np.ndarray) -> None:
    """Draw ``layer`` over ``frames`` (float32 ``(T, H, W, 3)``) in place."""
    n_frames, height, width, _ = frames.shape
    sprite = _sprite(layer, photo)
    offset, log_scale, angle = layer.motion.path(n_frames)
    if layer.wander is not None:
        offset = offset + layer.wander[:n_frames]
    sprite_centre = np.full(2, (layer.size - 1) / 2.0)
    corners = np.array([[-1.0, -1.0, 1.0], [layer.size, -1.0, 1.0], [-1.0, layer.size, 1.0],
                        [layer.size, layer.size, 1.0]])  # (x, y, 1), a pixel beyond the sprite
    for t in range(n_frames):
        warp = _similarity(math.exp(log_scale[t]), layer.angle + angle[t], sprite_centre,
                           np.asarray(layer.position) + offset[t])
        # Only the frame region the sprite can cover is warped and blended.
        reach = corners @ warp.T  # (4, 2)
        x0, y0 = np.maximum(np.floor(reach.min(axis=0)), 0).astype(int)
        x1, y1 = np.minimum(np.ceil(reach.max(axis=0)) + 1, (width, height)).astype(int)
        if x0 >= x1 or y0 >= y1:
            continue
        warp[:, 2] -= (x0, y0)
        warped = cv2.warpAffine(sprite, warp, (int(x1 - x0), int(y1 - y0)), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        region = frames[t, y0:y1, x0:x1]
        region *= 1.0 - warped[:, :, 3:]
        region += warped[:, :, :3]


def _jpeg(frame: np.ndarray, quality: int) -> np.ndarray:
    """A uint8 RGB frame through JPEG at ``quality`` and back."""
    ok, encoded = cv2.imencode(".jpg", frame[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR)[:, :, ::-1]


def render_scene(scene: Scene, photos: Sequence[np.ndarray], n_frames: int, height: int, width: int) -> np.ndarray:
    """Draw ``scene``: background, layers from far to near, gain, noise, JPEG.

    Args:
        scene: from :func:`sample_scene` with the same ``photos``.
        photos: uint8 ``(H, W, 3)`` RGB, the library the scene's indices point into.
        n_frames, height, width: output size ``T, H, W``.

    Returns:
        uint8 ``(T, H, W, 3)`` RGB.
    """
    frames = _render_background(scene, photos[scene.background], n_frames, height, width)
    for layer in scene.layers:
        _composite_layer(frames, layer, photos[layer.photo])
    g0, g1 = scene.gain
    if g0 != 1.0 or g1 != 1.0:
        gain = g0 * (g1 / g0) ** (np.arange(n_frames) / max(n_frames - 1, 1))
        frames *= gain.astype(np.float32)[:, None, None, None]
    if scene.noise_sigma > 0:
        noise = np.random.default_rng(scene.noise_seed).standard_normal(frames.shape, dtype=np.float32)
        frames += np.float32(scene.noise_sigma) * noise
    np.rint(frames, out=frames)  # in place: the frames are the largest array here
    np.clip(frames, 0, 255, out=frames)
    video = frames.astype(np.uint8)
    if scene.jpeg_quality is not None:
        for t in range(n_frames):
            video[t] = _jpeg(video[t], scene.jpeg_quality)
    return video


def generate_synthetic_video(seed: int, n_frames: int, height: int, width: int, *,
                             photos: Sequence[np.ndarray] | str | Path | None = None, max_speed: float = 12.0,
                             still_fraction: float = 0.2, max_layers: int = 3, max_zoom: float = 0.01,
                             max_rotation: float = 1.0, max_shake: float = 1.0, max_noise: float = 8.0,
                             jpeg_fraction: float = 0.7, max_wander: float = 0.0) -> np.ndarray:
    """One synthetic video, deterministic for ``seed`` (and the photos).

    Args:
        seed: non-negative; ``np.random.default_rng(seed)`` draws the whole scene.
        n_frames, height, width: output size ``T, H, W``.
        photos: None for scikit-image's photos (:data:`vidpred.data.photos.PHOTOS`), a
            folder of photos, or uint8 arrays (:func:`vidpred.data.photos.photo_library`).
        max_speed: largest camera and layer speed, output pixels per frame; speeds are
            ``max_speed * u^2`` with ``u`` uniform, so half are below ``max_speed / 4``.
        still_fraction: share of videos with a still camera (and of layers that stay put).
        max_layers: cut-out layers per video, uniform in ``0..max_layers``.
        max_zoom: largest zoom rate, log-scale per frame (0.01: about 1% per frame).
        max_rotation: largest rotation rate, degrees per frame.
        max_shake: largest standard deviation of the handheld shake, pixels.
        max_noise: largest noise standard deviation on the 0..255 scale (30% of videos: none).
        jpeg_fraction: share of videos compressed with JPEG, quality uniform in 30..95.
        max_wander: largest standard deviation, pixels, of the random kicks to a moving
            layer's velocity each frame (0: layers move by their affine motion alone).

    Returns:
        uint8 ``(T, H, W, 3)`` RGB.
    """
    if seed < 0 or n_frames < 1 or height < 8 or width < 8:
        raise ValueError(f"need seed >= 0, n_frames >= 1 and a frame of at least 8x8, got seed {seed}, "
                         f"{n_frames}x{height}x{width}")
    if min(max_speed, max_layers, max_zoom, max_rotation, max_shake, max_noise, max_wander) < 0:
        raise ValueError("max_speed, max_layers, max_zoom, max_rotation, max_shake, max_noise and max_wander "
                         "must be >= 0")
    if not (0.0 <= still_fraction <= 1.0 and 0.0 <= jpeg_fraction <= 1.0):
        raise ValueError("still_fraction and jpeg_fraction must be in [0, 1]")
    library = photo_library(photos)
    scene = sample_scene(np.random.default_rng(seed), library, n_frames, height, width, max_speed=max_speed,
                         still_fraction=still_fraction, max_layers=max_layers, max_zoom=max_zoom,
                         max_rotation=max_rotation, max_shake=max_shake, max_noise=max_noise,
                         jpeg_fraction=jpeg_fraction, max_wander=max_wander)
    return render_scene(scene, library, n_frames, height, width)

"""Procedural videos: panning 1/f^beta colour noise with bouncing textured objects.

The generator is the embedded default dataset: it needs no download, is deterministic for a
seed, and has the two properties a video predictor needs to learn something transferable:

* **natural-image statistics** -- the background and every object texture are coloured
  noise whose power spectrum falls as ``1/f^beta`` (``beta = 2`` is the classic natural-image
  exponent), with correlated colour channels (a shared luminance field plus weaker chroma);
* **predictable motion** -- the camera pans at a constant sub-pixel velocity and each object
  moves at its own constant velocity, reflecting off the frame borders. Four past frames
  determine the next one except at the frame of a bounce.

Every translation is applied in the Fourier domain (multiplying the spectrum of a periodic
texture by a phase ramp), so sub-pixel motion does not blur: a frame at a fractional offset
is as sharp as one at an integer offset, which interpolation-based warping would not give
(its blur would oscillate with the fractional part and teach the model a fake flicker).

Objects occlude one another by a fixed depth order (object 0 is the farthest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vidpred.config import SEED_BLOCK

__all__ = ["generate_video", "procedural_seeds", "SUBSETS"]

SUBSETS = ("train", "val", "test")
# Seeds of one (base_seed, subset) pair live in a block of this many consecutive integers;
# blocks never overlap, so train/val/test (and different base seeds) never share a video.
_SEED_BLOCK = SEED_BLOCK  # one data.procedural.seed's videos of a subset

_SHAPES = ("ellipse", "rectangle", "blob")


# --------------------------------------------------------------------------------------
# Seeds
# --------------------------------------------------------------------------------------


def procedural_seeds(base_seed: int, subset: str, n: int) -> list[int]:
    """Seeds of the ``n`` procedural videos of ``subset`` ("train" | "val" | "test").

    Seeds are consecutive integers in a block reserved for ``(base_seed, subset)``:
    ``(3 * base_seed + subset_index) * 1_000_000 + i``. Blocks are disjoint, so the three
    subsets never share a video, and nor do two different base seeds.

    Raises:
        ValueError: unknown subset, negative ``base_seed``/``n``, or ``n`` above 1,000,000.
    """
    if subset not in SUBSETS:
        raise ValueError(f"subset must be one of {SUBSETS}, got {subset!r}")
    if base_seed < 0:
        raise ValueError(f"base_seed must be >= 0, got {base_seed}")
    if not 0 <= n <= _SEED_BLOCK:
        raise ValueError(f"n must be in [0, {_SEED_BLOCK}], got {n}")
    start = (3 * base_seed + SUBSETS.index(subset)) * _SEED_BLOCK
    return list(range(start, start + n))


# --------------------------------------------------------------------------------------
# Noise synthesis
# --------------------------------------------------------------------------------------


def _power_law_spectrum(rng: np.random.Generator, n_fields: int, height: int, width: int, beta: float) -> np.ndarray:
    """Random half-plane spectra (``rfft2`` layout) of ``n_fields`` periodic noise images.

    Returns complex64 ``(n_fields, height, width // 2 + 1)``; the inverse transform has zero
    mean, a standard deviation close to 1 (Hermitian symmetry of the ``fx = 0`` column is
    not enforced, which drops a few percent of the power) and a power spectrum proportional
    to ``1 / f^beta``.
    """
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    f = np.sqrt(fy * fy + fx * fx)
    f[0, 0] = 1.0  # any non-zero value avoids 0 ** -beta; the DC amplitude is set to 0 below
    amplitude = f ** (-beta / 2.0)
    amplitude[0, 0] = 0.0
    # Nyquist bins have no well-defined sub-pixel phase (their shifted value is complex and
    # irfft would drop the imaginary part); removing them costs nothing at 1/f^beta.
    if height % 2 == 0:
        amplitude[height // 2, :] = 0.0
    if width % 2 == 0:
        amplitude[:, -1] = 0.0
    # complex64 throughout: spectra are only ever inverted, and single-precision FFTs are
    # ~3x faster than double ones.
    shape = (n_fields, height, width // 2 + 1)
    spectrum = rng.standard_normal(shape, dtype=np.float32) + 1j * rng.standard_normal(shape, dtype=np.float32)
    spectrum *= amplitude.astype(np.float32)
    # Normalise with Parseval's theorem (columns 1..W/2-1 of an rfft stand for two columns).
    weight = np.full(width // 2 + 1, 2.0, dtype=np.float32)
    weight[0] = 1.0
    if width % 2 == 0:
        weight[-1] = 1.0
    variance = ((spectrum.real**2 + spectrum.imag**2) * weight).sum(axis=(1, 2)) / float(height * width) ** 2
    spectrum /= np.sqrt(np.maximum(variance, 1e-12)).astype(np.float32)[:, None, None]
    return spectrum


def _colour_mix(rng: np.random.Generator, contrast: float) -> np.ndarray:
    """A float32 3x3 matrix mapping (luminance, chroma1, chroma2) noise fields to RGB.

    Natural colour is strongly correlated across channels: a luminance field shared by R, G
    and B (with a per-channel gain) dominates, two weaker chroma fields tint it.
    """
    gains = rng.uniform(0.7, 1.3, size=3)
    chroma = rng.normal(0.0, 0.3, size=(3, 2))
    mix = np.concatenate([gains[:, None], chroma], axis=1)
    return (contrast * mix).astype(np.float32)


def _shift_phase(height: int, width: int, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Phase ramps translating a periodic image by ``(dy, dx)`` pixels (content moves by +d).

    ``dy, dx``: float ``(T,)``. Returns complex64 ``(T, 1, height, width // 2 + 1)``.
    """
    # The ramp is separable; exponentiating two 1-D ramps is far cheaper than a 2-D one.
    ramp_y = np.exp(-2j * np.pi * np.fft.fftfreq(height)[None, :] * dy[:, None]).astype(np.complex64)
    ramp_x = np.exp(-2j * np.pi * np.fft.rfftfreq(width)[None, :] * dx[:, None]).astype(np.complex64)
    return (ramp_y[:, :, None] * ramp_x[:, None, :])[:, None]


def _inverse_crop(spectrum: np.ndarray, size: tuple[int, int], height: int, width: int) -> np.ndarray:
    """``irfft2(spectrum, s=size)[..., :height, :width]`` without transforming unused rows.

    ``spectrum``: complex ``(..., size[0], size[1] // 2 + 1)``. Returns float32 ``(..., height, width)``.
    """
    rows = np.fft.ifft(spectrum, axis=-2)[..., :height, :]
    return np.fft.irfft(rows, n=size[1], axis=-1)[..., :width].astype(np.float32, copy=False)


def _fast_size(n: int) -> int:
    """Smallest size >= n whose only prime factors are 2, 3 and 5 (fast for pocketfft)."""
    while True:
        m = n
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


# --------------------------------------------------------------------------------------
# Scene description
# --------------------------------------------------------------------------------------


@dataclass
class _Object:
    """One foreground object: its shape, motion and texture (everything :func:`_composite_object` needs)."""

    shape: str
    radius_y: float  # half-extent of the shape (before rotation), pixels
    radius_x: float
    angle: float  # fixed orientation, radians
    harmonics: np.ndarray  # blob outline: (K, 3) rows of (order, amplitude, phase)
    bound: float  # radius of a circle containing the shape; bounces keep it in the frame
    start: np.ndarray  # (2,) centre at t = 0, (y, x)
    velocity: np.ndarray  # (2,) pixels per frame, (vy, vx)
    texture: np.ndarray  # complex64 (3, S, S // 2 + 1) spectrum of the RGB texture (zero mean)
    colour: np.ndarray  # (3,) mean RGB on the 0..255 scale


def _bounce(start: float, velocity: float, low: float, high: float, t: np.ndarray) -> np.ndarray:
    """Position at times ``t`` of a point moving at ``velocity`` and reflecting off [low, high].

    Unfolding the reflections gives a triangle wave of period ``2 * (high - low)``.
    """
    span = high - low
    if span <= 0:
        return np.full(t.shape, (low + high) / 2.0)
    u = np.mod(start - low + velocity * t, 2.0 * span)
    return low + np.where(u > span, 2.0 * span - u, u)


def _object_alpha(obj: _Object, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage in [0, 1] at offsets ``(y, x)`` (pixels) from the object centre.

    Coverage is ``clip(0.5 - d, 0, 1)`` with ``d`` an approximate signed distance to the
    outline in pixels, which gives a one-pixel soft edge that moves smoothly sub-pixel.
    """
    c, s = math.cos(obj.angle), math.sin(obj.angle)
    u = c * x + s * y
    v = -s * x + c * y
    if obj.shape == "ellipse":
        a, b = obj.radius_x, obj.radius_y
        rho = np.sqrt((u / a) ** 2 + (v / b) ** 2)
        grad = np.sqrt((u / a**2) ** 2 + (v / b**2) ** 2) / np.maximum(rho, 1e-6)
        dist = (rho - 1.0) / np.maximum(grad, 1e-6)
    elif obj.shape == "rectangle":
        dist = np.maximum(np.abs(u) - obj.radius_x, np.abs(v) - obj.radius_y)
    else:  # blob: a circle with a few low-order harmonics on its radius
        r = np.sqrt(u * u + v * v)
        theta = np.arctan2(v, u)
        outline = np.ones_like(theta)
        for order, amplitude, phase in obj.harmonics:
            outline = outline + amplitude * np.cos(order * theta + phase)
        dist = r - obj.radius_x * outline
    return np.clip(0.5 - dist, 0.0, 1.0)


def _sample_object(rng: np.random.Generator, height: int, width: int, beta: float, max_speed: float) -> _Object:
    """A random object for a ``height x width`` frame: shape, size, start, velocity (``|v|`` in
    ``[0.25, 1] * max_speed``), a ``1/f^beta`` texture and a mean colour."""
    size = min(height, width)
    shape = _SHAPES[int(rng.integers(len(_SHAPES)))]
    radius_y = rng.uniform(0.10, 0.22) * size
    radius_x = rng.uniform(0.10, 0.22) * size
    angle = rng.uniform(0.0, math.pi)
    harmonics = np.zeros((0, 3))
    if shape == "blob":
        radius_x = radius_y = max(radius_x, radius_y)
        orders = np.arange(2, 5, dtype=float)
        harmonics = np.stack([orders, rng.uniform(0.0, 0.12, 3), rng.uniform(0.0, 2 * math.pi, 3)], axis=1)
        bound = radius_x * (1.0 + harmonics[:, 1].sum())
    elif shape == "rectangle":
        bound = math.hypot(radius_x, radius_y)
    else:
        bound = max(radius_x, radius_y)
    # Keep room to move on small frames: the bounding circle never exceeds 40% of the frame.
    scale = min(1.0, 0.4 * size / bound)
    radius_x, radius_y, bound = radius_x * scale, radius_y * scale, bound * scale
    start = np.array([rng.uniform(bound, height - bound), rng.uniform(bound, width - bound)])
    speed = rng.uniform(0.25, 1.0) * max_speed
    heading = rng.uniform(0.0, 2 * math.pi)
    velocity = speed * np.array([math.sin(heading), math.cos(heading)])
    sprite = _fast_size(2 * math.ceil(bound) + 4)
    texture = np.einsum("cf,fhw->chw", _colour_mix(rng, rng.uniform(15.0, 30.0)),
                        _power_law_spectrum(rng, 3, sprite, sprite, beta))
    colour = rng.uniform(30.0, 225.0, size=3)
    return _Object(shape, radius_y, radius_x, angle, harmonics, bound, start, velocity, texture, colour)


# --------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------


def _render_background(rng: np.random.Generator, n_frames: int, height: int, width: int, beta: float,
                       pan_speed: float) -> np.ndarray:
    """Panning background, float32 ``(T, H, W, 3)`` on the 0..255 scale, moving ``pan_speed``
    pixels per frame in a random direction.

    The noise is synthesised on a periodic canvas large enough that the window never sees
    the same canvas pixel twice over the clip (no visible wrap-around).
    """
    heading = rng.uniform(0.0, 2 * math.pi)
    velocity = pan_speed * np.array([math.sin(heading), math.cos(heading)])  # (vy, vx)
    travel = np.abs(velocity) * max(n_frames - 1, 0)
    canvas_h = _fast_size(height + math.ceil(travel[0]) + 2)
    canvas_w = _fast_size(width + math.ceil(travel[1]) + 2)
    spectrum = np.einsum("cf,fhw->chw", _colour_mix(rng, rng.uniform(28.0, 40.0)),
                         _power_law_spectrum(rng, 3, canvas_h, canvas_w, beta))
    mean = rng.uniform(70.0, 185.0, size=3)
    t = np.arange(n_frames, dtype=float)
    phase = _shift_phase(canvas_h, canvas_w, velocity[0] * t, velocity[1] * t)
    frames = _inverse_crop(spectrum[None] * phase, (canvas_h, canvas_w), height, width)  # (T, 3, H, W)
    frames = frames.transpose(0, 2, 3, 1) + mean.astype(np.float32)  # (T, H, W, 3)
    return np.ascontiguousarray(frames)


def _composite_object(frames: np.ndarray, obj: _Object, n_frames: int) -> None:
    """Alpha-blend ``obj`` over ``frames`` (float32 ``(T, H, W, 3)``) in place."""
    _, height, width, _ = frames.shape
    t = np.arange(n_frames, dtype=float)
    cy = _bounce(obj.start[0], obj.velocity[0], obj.bound, height - obj.bound, t)
    cx = _bounce(obj.start[1], obj.velocity[1], obj.bound, width - obj.bound, t)
    iy, ix = np.floor(cy).astype(int), np.floor(cx).astype(int)
    fy, fx = cy - iy, cx - ix  # sub-pixel remainder, applied as a Fourier shift
    size = obj.texture.shape[1]
    half = size // 2
    texture = _inverse_crop(obj.texture[None] * _shift_phase(size, size, fy, fx), (size, size), size, size)
    texture = texture.transpose(0, 2, 3, 1) + obj.colour.astype(np.float32)  # (T, S, S, 3)
    # Pixel centres of the sprite relative to the (sub-pixel) object centre.
    grid = np.arange(size, dtype=np.float32) - half + 0.5
    fy32, fx32 = fy.astype(np.float32), fx.astype(np.float32)
    alpha = _object_alpha(obj, grid[None, :, None] - fy32[:, None, None], grid[None, None, :] - fx32[:, None, None])
    for k in range(n_frames):
        top, left = iy[k] - half, ix[k] - half
        y0, x0 = max(top, 0), max(left, 0)
        y1, x1 = min(top + size, height), min(left + size, width)
        if y0 >= y1 or x0 >= x1:
            continue
        a = alpha[k, y0 - top:y1 - top, x0 - left:x1 - left, None]
        tex = texture[k, y0 - top:y1 - top, x0 - left:x1 - left]
        region = frames[k, y0:y1, x0:x1]
        region += a * (tex - region)


def generate_video(seed: int, n_frames: int, height: int, width: int, *, n_objects: int = 3, beta: float = 2.0,
                   max_speed: float = 2.0, pan_speed: float = 1.0) -> np.ndarray:
    """Generate one procedural video, deterministic for ``seed``.

    Args:
        seed: non-negative integer; ``np.random.default_rng(seed)`` drives everything. The
            background is drawn from its own child stream, so for a given seed it does not
            depend on ``n_objects`` or ``max_speed``.
        n_frames, height, width: output size ``T, H, W``.
        n_objects: textured foreground objects (ellipses, rectangles, blobs) drawn in a
            fixed depth order, each with its own 1/f^beta texture and colour.
        beta: spectral exponent; power spectrum ~ ``1/f^beta`` (2 is natural-image-like).
        max_speed: objects move at a constant velocity with ``|v|`` uniform in
            ``[0.25, 1] * max_speed`` pixels per frame and bounce off the frame borders.
        pan_speed: the background pans at exactly this many pixels per frame (random
            direction, sub-pixel allowed).

    Returns:
        uint8 ``(T, H, W, 3)`` RGB.
    """
    if n_frames < 1 or height < 4 or width < 4:
        raise ValueError(f"need n_frames >= 1 and a frame of at least 4x4, got {n_frames}x{height}x{width}")
    if n_objects < 0 or beta < 0 or max_speed < 0 or pan_speed < 0:
        raise ValueError("n_objects, beta, max_speed and pan_speed must be >= 0")
    background_rng, object_rng = np.random.default_rng(seed).spawn(2)
    frames = _render_background(background_rng, n_frames, height, width, beta, pan_speed)
    for _ in range(n_objects):
        _composite_object(frames, _sample_object(object_rng, height, width, beta, max_speed), n_frames)
    return np.clip(np.rint(frames), 0, 255).astype(np.uint8)

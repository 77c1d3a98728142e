from __future__ import annotations

import cv2
import numpy as np
import pytest

from vidpred.data.procedural import generate_video, procedural_seeds


def _best_shift(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None, center=(0.0, 0.0), span=2.5, step=0.25):
    """Translation (dy, dx) that best maps frame ``a`` onto frame ``b`` (bicubic warp, grid search)."""
    a, b = a.astype(np.float32), b.astype(np.float32)
    h, w = a.shape[:2]
    best = (np.inf, 0.0, 0.0)
    for dy in np.arange(center[0] - span, center[0] + span + 1e-9, step):
        for dx in np.arange(center[1] - span, center[1] + span + 1e-9, step):
            warped = cv2.warpAffine(a, np.float32([[1, 0, dx], [0, 1, dy]]), (w, h), flags=cv2.INTER_CUBIC,
                                    borderMode=cv2.BORDER_REFLECT)
            err = (warped - b) ** 2
            err = err[mask].mean() if mask is not None else err[6:-6, 6:-6].mean()
            if err < best[0]:
                best = (err, dy, dx)
    return best


def _fine_shift(a, b, mask=None):
    _, dy, dx = _best_shift(a, b, mask)
    return _best_shift(a, b, mask, center=(dy, dx), span=0.25, step=0.05)


def _spectrum_slope(frame: np.ndarray) -> float:
    """Slope of log power vs log frequency of the radially averaged spectrum (Hann-windowed)."""
    gray = frame.astype(np.float64).mean(axis=-1)
    gray -= gray.mean()
    n = gray.shape[0]
    window = np.hanning(n)
    power = np.abs(np.fft.fft2(gray * window[:, None] * window[None, :])) ** 2
    f = np.sqrt(np.fft.fftfreq(n)[:, None] ** 2 + np.fft.fftfreq(n)[None, :] ** 2)
    ring = np.round(f * n).astype(int)
    radii = np.arange(2, n // 4)  # skip DC/window leakage and the quantisation-noise floor
    radial = np.array([power[ring == r].mean() for r in radii])
    return float(np.polyfit(np.log(radii / n), np.log(radial), 1)[0])


def test_deterministic_for_a_seed_and_different_across_seeds():
    a = generate_video(11, 6, 32, 40)
    b = generate_video(11, 6, 32, 40)
    c = generate_video(12, 6, 32, 40)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a.astype(int) - c).mean() > 10


@pytest.mark.parametrize("shape", [(1, 16, 16), (5, 48, 80), (3, 80, 48)])
def test_shape_and_dtype(shape):
    video = generate_video(0, *shape)
    assert video.shape == (*shape, 3)
    assert video.dtype == np.uint8
    assert video.std() > 10  # textured, not flat


def test_background_pans_at_constant_velocity():
    video = generate_video(7, 10, 64, 64, n_objects=0, pan_speed=1.3)
    shifts = []
    for t in range(len(video) - 1):
        err, dy, dx = _fine_shift(video[t], video[t + 1])
        static = ((video[t + 1].astype(float) - video[t]) ** 2)[6:-6, 6:-6].mean()
        assert err < static / 10  # the shifted frame predicts the next one far better than a copy
        shifts.append((dy, dx))
    shifts = np.array(shifts)
    np.testing.assert_allclose(shifts, np.broadcast_to(shifts.mean(axis=0), shifts.shape), atol=0.1)
    assert np.linalg.norm(shifts.mean(axis=0)) == pytest.approx(1.3, abs=0.1)


@pytest.mark.parametrize("seed", [1, 7])  # seeds whose object bounces within 16 frames
def test_objects_move_at_constant_velocity_between_bounces(seed):
    # The background depends only on the seed, so the object is where the two videos differ.
    n_frames, max_speed = 16, 2.0
    with_object = generate_video(seed, n_frames, 64, 64, n_objects=1, pan_speed=0.0, max_speed=max_speed)
    background = generate_video(seed, n_frames, 64, 64, n_objects=0, pan_speed=0.0, max_speed=max_speed)
    masks = np.abs(with_object.astype(int) - background).max(axis=-1) > 10
    assert masks.any(axis=(1, 2)).all()
    shifts = np.array([_fine_shift(with_object[t], with_object[t + 1], masks[t] | masks[t + 1])[1:]
                       for t in range(n_frames - 1)])
    speeds = np.linalg.norm(shifts, axis=1)
    assert (speeds > 0.2).all() and (speeds <= max_speed + 0.1).all()
    # A bounce changes the velocity in one step; all other steps repeat the previous one.
    same_as_before = np.abs(np.diff(shifts, axis=0)).max(axis=1) <= 0.15
    assert same_as_before.mean() >= 0.75
    # It did bounce, and a bounce reverses a velocity component without changing its size.
    assert (np.sign(shifts[0]) != np.sign(shifts[-1])).any()
    np.testing.assert_allclose(np.abs(shifts[0]), np.abs(shifts[-1]), atol=0.15)


@pytest.mark.parametrize("beta", [1.0, 2.0, 3.0])
def test_power_spectrum_falls_as_one_over_f_to_the_beta(beta):
    slopes = [_spectrum_slope(generate_video(seed, 1, 128, 128, n_objects=0, beta=beta)[0]) for seed in range(3)]
    assert np.mean(slopes) == pytest.approx(-beta, abs=0.3)


def test_spectrum_with_objects_stays_natural():
    slopes = [_spectrum_slope(generate_video(seed, 1, 128, 128, beta=2.0)[0]) for seed in range(4)]
    assert np.mean(slopes) == pytest.approx(-2.0, abs=0.5)


def test_colour_channels_are_correlated():
    frame = generate_video(5, 1, 64, 64, n_objects=0)[0].reshape(-1, 3).astype(float)
    corr = np.corrcoef(frame.T)
    assert corr[0, 1] > 0.3 and corr[0, 2] > 0.3 and corr[1, 2] > 0.3


def test_procedural_seeds_are_disjoint_and_deterministic():
    subsets = {s: procedural_seeds(0, s, 500) for s in ("train", "val", "test")}
    assert all(len(set(seeds)) == 500 for seeds in subsets.values())
    assert not set(subsets["train"]) & set(subsets["val"])
    assert not set(subsets["train"]) & set(subsets["test"])
    assert not set(subsets["val"]) & set(subsets["test"])
    assert procedural_seeds(0, "val", 500) == subsets["val"]
    assert procedural_seeds(0, "train", 3) == subsets["train"][:3]  # prefixes are stable
    assert not set(procedural_seeds(1, "train", 500)) & set().union(*map(set, subsets.values()))


def test_procedural_seeds_rejects_bad_arguments():
    with pytest.raises(ValueError, match="subset"):
        procedural_seeds(0, "validation", 3)
    with pytest.raises(ValueError, match="base_seed must be >= 0, got -1"):
        procedural_seeds(-1, "train", 3)


@pytest.mark.parametrize("size", [(32, 96), (96, 32)])
def test_an_object_stays_whole_in_a_frame_of_any_shape(size):
    # Bounces keep the object's bounding circle in the frame, in each direction by that side's
    # length: it is seen in every frame, never cut by a frame edge or by its own sprite.
    from vidpred.data.procedural import _composite_object, _object_alpha, _sample_object

    height, width = size
    for seed in range(12):  # ellipses, rectangles and blobs among them
        obj = _sample_object(np.random.default_rng(seed), height, width, 2.0, 3.0)
        obj.texture[:] = 0  # flat: the frame shows the coverage times the colour
        obj.colour[:] = 255.0
        frames = np.zeros((60, height, width, 3), np.float32)
        _composite_object(frames, obj, 60)
        grid = np.arange(-80, 81, dtype=float)
        area = _object_alpha(obj, grid[:, None], grid[None, :]).sum()  # the whole shape, uncut
        # 1%: the anti-aliased rim of a shape touching the frame edge is the only loss
        np.testing.assert_allclose(frames[..., 0].sum(axis=(1, 2)) / 255, area, rtol=0.01)

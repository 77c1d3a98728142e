"""Steady pans over a clip's first frame: whole-pixel windows of the still, the same pan for a
name on every run, and a slower pan where the frame is small."""

import numpy as np
import pytest

from vidpred.evaluation.clips import EvalClip
from vidpred.evaluation.steady_pan import SteadyPan


def _clip(name: str = "val/x.mp4@0", T: int = 6, H: int = 60, W: int = 80) -> EvalClip:
    rng = np.random.default_rng(0)
    return EvalClip(name, 0, rng.integers(0, 256, (T, H, W, 3), dtype=np.uint8))


def test_every_frame_is_the_still_shifted_by_a_whole_step():
    clip = _clip()
    panned = SteadyPan(8).clip(clip)
    T, H, W, _ = clip.frames.shape
    dx, dy = SteadyPan(8).step(clip.name, T, H, W)
    assert (dx, dy) != (0, 0)
    h, w = panned.frames.shape[1:3]
    assert (h, w) == (H - abs(dy) * (T - 1), W - abs(dx) * (T - 1))
    assert h >= H // 2 and w >= W // 2
    still = clip.frames[0]
    x0, y0 = (0 if dx >= 0 else abs(dx) * (T - 1)), (0 if dy >= 0 else abs(dy) * (T - 1))
    for t in range(T):  # frame t is the still's window at t steps along the pan: its content moves by -(dx, dy)
        assert np.array_equal(panned.frames[t], still[y0 + t * dy: y0 + t * dy + h, x0 + t * dx: x0 + t * dx + w])
    # the next frame is the previous one moved: where both see the still, they agree exactly
    a, b = panned.frames[2], panned.frames[3]
    ys, xs = slice(max(dy, 0), h + min(dy, 0)), slice(max(dx, 0), w + min(dx, 0))
    ys_b, xs_b = slice(max(-dy, 0), h + min(-dy, 0)), slice(max(-dx, 0), w + min(-dx, 0))
    assert np.array_equal(a[ys, xs], b[ys_b, xs_b])


def test_a_known_step_by_hand():
    still = np.arange(10 * 12, dtype=np.uint8).reshape(10, 12, 1)
    frames = SteadyPan(4).frames(still, 3, (2, -1))  # right by 2, up by 1 per frame
    assert frames.shape == (3, 8, 8, 1)
    assert np.array_equal(frames[0], still[2:10, 0:8])
    assert np.array_equal(frames[1], still[1:9, 2:10])
    assert np.array_equal(frames[2], still[0:8, 4:12])


def test_the_draws_depend_only_on_the_name_and_cover_the_speeds():
    pan = SteadyPan(8)
    assert pan.step("a@0", 6, 360, 640) == pan.step("a@0", 6, 360, 640)
    steps = [pan.step(f"v@{i}", 6, 360, 640) for i in range(200)]
    speeds = [np.hypot(*s) for s in steps]
    assert 0.7 <= min(speeds) < 2 and 7 < max(speeds) <= 8.5
    assert {np.sign(dx) for dx, _ in steps} == {-1, 0, 1} and {np.sign(dy) for _, dy in steps} == {-1, 0, 1}


def test_a_small_frame_gets_a_slower_pan_and_off_is_the_clip_itself():
    for i in range(50):
        dx, dy = SteadyPan(8).step(f"small@{i}", 6, 24, 24)  # at most 12 px of path per side
        assert abs(dx) * 5 <= 12 and abs(dy) * 5 <= 12 and (dx, dy) != (0, 0)
    clip = _clip()
    assert SteadyPan(0).clip(clip) is clip and not SteadyPan(0)
    with pytest.raises(ValueError, match="at least 1 px"):
        SteadyPan(0.5)
    with pytest.raises(ValueError, match="too small"):
        SteadyPan(8).step("tiny@0", 6, 8, 8)

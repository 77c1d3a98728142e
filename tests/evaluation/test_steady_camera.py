"""Steady camera motion over a clip's first frame: whole-pixel pans, zooms rendered exactly on a
ramp, the same motion for a name on every run, and a slower pan where the frame is small."""

import math

import numpy as np
import pytest

from vidpred.evaluation.clips import EvalClip
from vidpred.evaluation.steady_camera import SteadyPan, SteadyRoll, SteadyZoom, ViewMotion


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


# Steep along x, then along y: a half-pixel error along either axis is 2 grey levels.
RAMPS = [(4.0, 1.0), (1.0, 4.0)]


@pytest.mark.parametrize("ax, ay", RAMPS)
def test_a_zoomed_ramp_is_the_ramp_at_each_frame_pixels_place(ax, ay):
    # Bilinear sampling and block means are exact on a linear ramp, so every frame pixel must
    # equal the ramp at the still coordinate of its centre: cx + (u + 0.5 - w/2) s / m - 0.5.
    H, W = 40, 50
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    ramp = 10 + ax * xs + ay * ys  # 10..245 or 10..215
    still = np.rint(ramp).astype(np.uint8)[..., None].repeat(3, axis=2)
    step = ViewMotion(factor=1.04, cx=26.0, cy=19.5)
    frames = SteadyZoom(4).frames(still, 6, step)
    h, w = round(H * 2 / 3), round(W * 2 / 3)
    assert frames.shape == (6, h, w, 3)
    v, u = np.mgrid[0:h, 0:w].astype(np.float64)
    for t in range(6):
        s = W * 5 / 6 / w / 1.04 ** t  # zooming in: the 1st frame is the widest view
        x = step.cx + (u + 0.5 - w / 2) * s - 0.5
        y = step.cy + (v + 0.5 - h / 2) * s - 0.5
        expected = 10 + ax * x + ay * y
        assert np.abs(frames[t, ..., 0].astype(np.float64) - expected).max() <= 1.0, t  # two roundings to whole grey levels
    # zooming out runs the same views backwards
    out = SteadyZoom(4).frames(still, 6, ViewMotion(1 / 1.04, 26.0, 19.5))
    assert np.array_equal(out, frames[::-1])


def test_zoom_draws_depend_only_on_the_name_and_cover_both_directions():
    zoom = SteadyZoom(3)
    assert zoom.step("a@0", 360, 640) == zoom.step("a@0", 360, 640)
    steps = [zoom.step(f"v@{i}", 360, 640) for i in range(200)]
    rates = [max(s.factor, 1 / s.factor) - 1 for s in steps]
    assert 0.005 <= min(rates) < 0.007 and 0.028 < max(rates) <= 0.03
    assert any(s.factor > 1 for s in steps) and any(s.factor < 1 for s in steps)
    assert all(abs(s.cx - 320) <= 640 / 12 and abs(s.cy - 180) <= 360 / 12 for s in steps)
    # the fixed point fills the middle sixth of each side, each side by its own length, either side of the centre
    assert max(abs(s.cx - 320) for s in steps) > 0.9 * 640 / 12 and max(abs(s.cy - 180) for s in steps) > 0.9 * 360 / 12
    assert min(s.cx for s in steps) < 320 < max(s.cx for s in steps)
    assert min(s.cy for s in steps) < 180 < max(s.cy for s in steps)
    clip = _clip()
    zoomed = zoom.clip(clip)
    assert zoomed.frames.shape == (6, 40, 53, 3) and zoomed.frames.dtype == np.uint8
    assert np.array_equal(zoomed.frames, zoom.frames(clip.frames[0], 6, zoom.step(clip.name, 60, 80)))


def test_zoom_off_is_the_clip_itself_and_bad_rates_are_refused():
    clip = _clip()
    assert SteadyZoom(0).clip(clip) is clip and not SteadyZoom(0)
    for bad in (0.2, 5.0, float("nan")):
        with pytest.raises(ValueError, match="0.5-4 percent"):
            SteadyZoom(bad)
    with pytest.raises(ValueError, match="enlarges"):
        SteadyZoom(4).frames(clip.frames[0], 12, ViewMotion(1.04, 40, 30))


@pytest.mark.parametrize("ax, ay", RAMPS)
def test_a_rolled_ramp_is_the_ramp_at_each_frame_pixels_turned_place(ax, ay):
    # As for the zoom: a ramp sampled and block-averaged stays exact, so every frame pixel
    # must equal the ramp at c + s R(theta_t) (u + 0.5 - w/2, v + 0.5 - h/2) - 0.5.
    import math
    H, W = 40, 50
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    still = np.rint(10 + ax * xs + ay * ys).astype(np.uint8)[..., None].repeat(3, axis=2)
    roll = SteadyRoll(1)
    step = roll.step("v@3", H, W)
    assert step.factor == 1.0 and 0.25 <= abs(step.roll) <= 1
    assert abs(step.cx - W / 2) <= W / 24 and abs(step.cy - H / 2) <= H / 24
    frames = SteadyZoom.frames(still, 6, step)
    h, w = round(H * 2 / 3), round(W * 2 / 3)
    v, u = np.mgrid[0:h, 0:w].astype(np.float64)
    s = W * 5 / 6 / w
    for t in range(6):
        a = math.radians(step.roll * (t - 2.5))
        du, dv = u + 0.5 - w / 2, v + 0.5 - h / 2
        x = step.cx + s * (math.cos(a) * du - math.sin(a) * dv) - 0.5
        y = step.cy + s * (math.sin(a) * du + math.cos(a) * dv) - 0.5
        assert np.abs(frames[t, ..., 0].astype(np.float64) - (10 + ax * x + ay * y)).max() <= 1.0, t
    clip = _clip()
    assert np.array_equal(roll.clip(clip).frames, SteadyZoom.frames(clip.frames[0], 6, roll.step(clip.name, 60, 80)))
    assert SteadyRoll(0).clip(clip) is clip
    rolls = [roll.step(f"v@{i}", 360, 640).roll for i in range(100)]
    assert min(rolls) < 0 < max(rolls) and all(0.25 <= abs(r) <= 1 for r in rolls)
    with pytest.raises(ValueError, match="0.25-1 degrees"):
        SteadyRoll(2)


class _Draws:
    """Stands in for a clip's random stream: ``uniform`` returns the given values in turn."""

    def __init__(self, *values):
        self.values = list(values)

    def uniform(self, low, high):
        value = self.values.pop(0)
        assert low <= value <= high
        return value


@pytest.mark.parametrize("turn, expected", [(0.0, (2, 3)), (np.pi, (-2, -3))])
def test_a_pan_too_fast_for_the_frame_slows_along_its_own_direction(monkeypatch, turn, expected):
    from vidpred.evaluation import steady_camera

    # 5 px per frame at atan2(4, 3): (3, 4). Over 6 frames a 30 px high frame leaves 15 px of
    # path, 3 per frame (200 px wide: 20), so the pan slows by 3/4 to (2.25, 3): whole pixels (2, 3).
    angle = np.arctan2(4, 3) + turn
    monkeypatch.setattr(steady_camera, "_clip_draws", lambda kind, name: _Draws(5.0, angle))
    assert SteadyPan(8).step("v@0", 6, 30, 200) == expected
    monkeypatch.setattr(steady_camera, "_clip_draws", lambda kind, name: _Draws(5.0, angle))
    assert SteadyPan(8).step("v@0", 6, 360, 640) == tuple(np.sign(expected) * (3, 4))  # room enough: as drawn


def test_one_px_per_frame_is_the_slowest_pan_and_a_pan_longer_than_the_still_is_refused():
    assert SteadyPan(1) and SteadyPan(1).max_speed == 1
    still = np.zeros((10, 12, 1), np.uint8)
    assert SteadyPan(4).frames(still, 3, (0, 4)).shape == (3, 2, 12, 1)  # 8 of 10 rows of path, 2 left
    with pytest.raises(ValueError, match="a 12x10 still cannot hold a pan of 3 frames by \\(6, 0\\) px"):
        SteadyPan(4).frames(still, 3, (6, 0))
    with pytest.raises(ValueError, match="cannot hold"):
        SteadyPan(4).frames(still, 3, (0, -5))


def test_the_command_line_motion_is_the_one_asked_for_and_off_by_default():
    from vidpred.evaluation.steady_camera import steady_camera

    assert not steady_camera() and steady_camera() == SteadyPan(0)
    assert steady_camera(pan=8) == SteadyPan(8)
    assert steady_camera(zoom=2) == SteadyZoom(2) and steady_camera(roll=0.5) == SteadyRoll(0.5)
    with pytest.raises(ValueError, match="cannot be combined"):
        steady_camera(pan=8, roll=0.5)


@pytest.mark.parametrize("height, width, expected", [
    (30, 30, (2, 3)),  # 15 px of path per side over 5 steps: 3 px a step; (3, 4) slowed by 3/4
    (200, 30, (3, 2)),  # (4, 3): 3 px a step across, so slowed by 3/4 along its own direction
])
def test_a_pan_too_fast_for_a_small_frame_slows_to_the_room_its_five_steps_leave(monkeypatch, height, width,
                                                                                 expected):
    from vidpred.evaluation import steady_camera

    angle = math.atan2(4, 3) if expected == (2, 3) else math.atan2(3, 4)
    monkeypatch.setattr(steady_camera, "_clip_draws", lambda kind, name: _Draws(5.0, angle))
    assert SteadyPan(8).step("v@0", 6, height, width) == expected


def test_a_pan_to_the_left_starts_at_the_right_of_the_still():
    still = np.arange(4 * 12, dtype=np.uint8).reshape(4, 12, 1)
    frames = SteadyPan(4).frames(still, 3, (-3, 0))  # left by 3 px per frame: 6 px of path
    assert frames.shape == (3, 4, 6, 1)
    assert np.array_equal(frames[0], still[:, 6:12])
    assert np.array_equal(frames[1], still[:, 3:9])
    assert np.array_equal(frames[2], still[:, 0:6])


def test_the_longest_clip_a_zoom_may_span_is_checked_to_the_frame():
    # 1.04 ** 5 = 1.217 stays under the 1.25 a zoom may span; 1.04 ** 6 = 1.265 does not
    SteadyZoom(4).check_frames(6)
    with pytest.raises(ValueError, match="over at most 6 frames; the clips have 7"):
        SteadyZoom(4).check_frames(7)


def test_a_zoom_out_is_the_inverse_of_the_zoom_in_of_its_rate():
    from vidpred.evaluation.steady_camera import _clip_draws

    outs = 0
    for i in range(40):
        name = f"v@{i}"
        rng = _clip_draws("steady zoom", name)
        rate = rng.uniform(0.5, 4) / 100
        factor = SteadyZoom(4).step(name, 90, 120).factor
        if factor < 1:
            outs += 1
            assert factor == pytest.approx(1 / (1 + rate), rel=1e-12)
        else:
            assert factor == pytest.approx(1 + rate, rel=1e-12)
    assert outs > 5

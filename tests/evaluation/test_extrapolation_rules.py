"""The extrapolation rules built on the camera's motion (a homography over the flow field),
and the fusion of two estimates of the last step."""

import cv2
import numpy as np
import pytest
import torch
from skimage import data as skdata

from vidpred.evaluation import extrapolation_rules
from vidpred.evaluation.baselines import flow_extrapolation
from vidpred.evaluation.extrapolation_rules import _camera_where_it_fits
from vidpred.evaluation.scoring import MAX_PSNR_DB


def test_the_camera_replaces_the_flow_only_where_it_fits():
    flow = torch.zeros(1, 2, 60, 80)
    flow[:, 0], flow[:, 1] = 2.0, -1.0  # a pan ...
    flow[:, 0, 10:14, 10:14] += 0.5  # ... with noise the camera explains to within 1 px
    flow[:, 0, 20:35, 30:50] = -3.0  # and a subject moving against it
    fitted = _camera_where_it_fits(flow, tolerance=1.0)
    pan = torch.tensor([2.0, -1.0]).view(1, 2, 1, 1)
    assert torch.allclose(fitted[:, :, 10:14, 10:14], pan.expand(1, 2, 4, 4), atol=0.05)  # the 0.5-px noise is gone
    assert torch.equal(fitted[:, :, 20:35, 30:50], flow[:, :, 20:35, 30:50])  # the subject keeps its flow
    assert torch.allclose(fitted[:, :, 40:, :], flow[:, :, 40:, :], atol=0.05)
    assert torch.equal(_camera_where_it_fits(flow, tolerance=0.0), flow)  # nothing fits within 0 px


def test_the_fused_flow_takes_each_estimate_where_it_rebuilds_the_last_step(monkeypatch):
    texture = torch.rand(1, 3, 1, 48, 96, generator=torch.Generator().manual_seed(0)) * 2 - 1
    frames = torch.cat([texture.roll(-2 * (3 - t), dims=-1) for t in range(4)], dim=2)  # 2 px a step to the right
    step = torch.zeros(1, 2, 48, 96)
    step[:, 0] = -2.0  # newest(p) = previous(p - 2 x): the exact backward flow
    left, right = step.clone(), step.clone()
    left[..., 48:] = 0.0  # each estimate is right on one half of the frame only
    right[..., :48] = 0.0
    monkeypatch.setattr(extrapolation_rules, "_dis", lambda *a: left)
    monkeypatch.setattr(extrapolation_rules, "_farneback", lambda *a: right)
    grey = [np.zeros((48, 96), np.uint8)] * 4  # not read: both estimates are given
    fused = extrapolation_rules._fused_velocity(frames, grey, window=9)
    inner = [slice(None), slice(None), slice(4, -4)]
    assert torch.equal(fused[(*inner, slice(4, 43))], step[(*inner, slice(4, 43))])  # DIS's half, away from the seam
    assert torch.equal(fused[(*inner, slice(53, 92))], step[(*inner, slice(53, 92))])  # Farneback's half


def test_the_past_frames_are_aligned_and_fused_only_where_they_agree(monkeypatch):
    texture = torch.rand(1, 3, 1, 32, 64, generator=torch.Generator().manual_seed(0)) - 0.5
    truth = torch.cat([texture.roll(2 * t, dims=-1) for t in range(6)], dim=2)  # 2 px a step to the right
    step = torch.zeros(1, 2, 32, 64)
    step[:, 0] = -2.0  # frame t(p) = frame t-1(p - 2 x): the exact backward flow of every step
    monkeypatch.setattr(extrapolation_rules, "_dis", lambda *a: step)
    grey = [np.zeros((32, 64), np.uint8)] * 6  # not read: the flows are given
    inner = (..., slice(8, None))  # where no source leaves the frame (3 steps of 2 px back, at k = 2)
    for k in (1, 2):
        for aligned in extrapolation_rules._aligned_past(truth, grey, k, n=3):
            assert torch.allclose(aligned[inner], truth[:, :, 3 + k][inner], atol=1e-5)
    frames = truth.clone()
    frames[:, :, 3] += 0.01  # the newest frame off by 1.3 grey levels everywhere: within tau = 4 levels
    frames[:, :, 2, 10:20] += 0.5  # the one before off by 64 levels on some rows: beyond it
    for k in (1, 2):
        target = truth[:, :, 3 + k]
        fused = extrapolation_rules._fused_past(frames, grey, k, n=2, tau=4.0)
        assert torch.allclose(fused[..., :10, 8:], target[..., :10, 8:] + 0.005, atol=1e-5)  # the two averaged
        assert torch.allclose(fused[..., 10:20, 8:], target[..., 10:20, 8:] + 0.01, atol=1e-5)  # the newest alone
        mean = extrapolation_rules._fused_past(frames, grey, k, n=2, tau=float("inf"))
        assert torch.allclose(mean[..., 10:20, 8:], target[..., 10:20, 8:] + 0.255, atol=1e-5)  # unguarded: blended


def test_fusion_on_a_clip_without_noise_is_the_clip(monkeypatch):
    # black footage: the clip's noise and so tau are 0, and every aligned frame agrees with the newest
    still = torch.full((1, 3, 6, 16, 24), -1.0)
    monkeypatch.setattr(extrapolation_rules, "_dis", lambda *a: torch.zeros(1, 2, 16, 24))
    grey = [np.zeros((16, 24), np.uint8)] * 6  # not read: the flows are given
    for name in ("fused past 3 auto", "soft past 3 auto", "fused past 3 auto, box 3"):
        for k in (1, 2):
            torch.testing.assert_close(extrapolation_rules.RULES[name](still, grey, k), still[:, :, 3 + k])


def test_the_camera_oracle_swaps_only_the_cameras_motion(monkeypatch):
    # A pan of 2 px a step that speeds up to 3 px, with a patch moving 3 px a step of its own
    # (well outside RANSAC's 1-px inliers): the camera oracle keeps the patch's own motion and
    # takes the camera's next step from the true frame.
    H, W = 40, 64
    grey = [np.full((H, W), t, np.uint8) for t in range(6)]  # told apart by value only

    def flow(dx):
        f = torch.zeros(1, 2, H, W)
        f[:, 0] = dx
        return f

    def fake_dis(source, destination, setting="medium"):
        if source[0, 0] == 3 and destination[0, 0] == 2:  # the last step: the camera 2 px, the patch 3 px more
            assert setting == "refined"
            last = flow(-2.0)
            last[:, 0, 10:20, 20:30] = -5.0
            return last
        k = int(source[0, 0]) - 3  # the true next k steps: the camera 3 px a step
        return flow(-3.0 * k)

    monkeypatch.setattr(extrapolation_rules, "_dis", fake_dis)
    offsets = []
    monkeypatch.setattr(extrapolation_rules, "_resample", lambda frame, offset, mode: offsets.append(offset) or frame)
    frames = torch.zeros(1, 3, 6, H, W)
    for k in (1, 2):
        extrapolation_rules.RULES["camera oracle"](frames, grey, k)
        expected = flow(-3.0 * k)
        expected[:, 0, 10:20, 20:30] -= 3.0 * k  # the patch's own 3 px a step, extrapolated
        assert torch.allclose(offsets[-1], expected, atol=1e-3)
        # the last step's camera is k px short of the truth; x0.25 leaves a quarter of that
        extrapolation_rules.RULES["camera error x0.25"](frames, grey, k)
        assert torch.allclose(offsets[-1], expected + flow(0.25 * k), atol=1e-3)


def test_the_camera_forecasts_replace_only_the_cameras_part_of_the_last_step(monkeypatch):
    # The camera's steps, oldest first: 1, 2 and 4 px to the left; a patch moves 3 px more in
    # the last step (outside RANSAC's 1-px inliers). Each forecast replaces the camera's 4 px
    # by its own, and the patch keeps its 3 px.
    H, W = 40, 64
    grey = [np.full((H, W), t, np.uint8) for t in range(6)]
    camera_steps = {1: 1.0, 2: 2.0, 3: 4.0}  # the step ending at frame t, px

    def fake_dis(source, destination, setting="medium"):
        t = int(source[0, 0])
        assert t - int(destination[0, 0]) == 1 and (setting == "refined") == (t == 3)
        f = torch.zeros(1, 2, H, W)
        f[:, 0] = camera_steps[t]  # the backward flow of content moving left
        if t == 3:
            f[:, 0, 10:20, 20:30] += 3.0
        return f

    monkeypatch.setattr(extrapolation_rules, "_dis", fake_dis)
    offsets = []
    monkeypatch.setattr(extrapolation_rules, "_resample", lambda frame, offset, mode: offsets.append(offset) or frame)
    a, b = extrapolation_rules.CAMERA_DAMPING
    forecasts = {"camera damped": a * 4 + b * (4 - 2), "camera mean 2": 3.0, "camera mean 3": 7 / 3}
    for rule, camera in forecasts.items():
        for k in (1, 2):
            extrapolation_rules.RULES[rule](torch.zeros(1, 3, 6, H, W), grey, k)
            expected = torch.zeros(1, 2, H, W)
            expected[:, 0] = k * camera
            expected[:, 0, 10:20, 20:30] += 3.0 * k
            assert torch.allclose(offsets[-1], expected, atol=1e-3), rule


def test_the_reference_rule_is_the_evaluation_s_dis_baseline():
    photo = skdata.astronaut()[100:196, 100:228]  # a real photo, panned by 1.5 px a frame
    frames = np.stack([cv2.warpAffine(photo, np.float32([[1, 0, 1.5 * t], [0, 1, 0.5 * t]]), (128, 96))
                       for t in range(6)])
    clip = (torch.from_numpy(frames).float() / 127.5 - 1).permute(3, 0, 1, 2)[None]  # (1, 3, 6, H, W)
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    for k in (1, 2):
        ours = extrapolation_rules.RULES[extrapolation_rules.REFERENCE](clip, grey, k)
        torch.testing.assert_close(ours, flow_extrapolation(clip[:, :, :4], k, method="dis")[:, :, -1], atol=1e-5, rtol=0)


def test_the_blurred_and_sharpened_rules_filter_refined_dis_s_prediction(monkeypatch):
    impulse = torch.zeros(1, 1, 21, 21)
    impulse[..., 10, 10] = 1.0
    monkeypatch.setitem(extrapolation_rules.RULES, "DIS refined, composed", lambda frames, grey, k: impulse)
    offsets = torch.arange(-3, 4, dtype=torch.float64)  # sigma 1: taps out to 3 px
    taps = torch.exp(-offsets ** 2 / 2)
    taps /= taps.sum()
    kernel = (taps[:, None] * taps[None, :]).float()  # the 2-D Gaussian, separable
    blurred = extrapolation_rules.RULES["blurred 1.0"](None, None, 1)
    torch.testing.assert_close(blurred[0, 0, 7:14, 7:14], kernel)  # an impulse blurs into the kernel itself
    assert blurred.sum().item() == pytest.approx(1.0)
    sharpened = extrapolation_rules.RULES["sharpened 0.5 s1.0"](None, None, 1)
    torch.testing.assert_close(sharpened, impulse + 0.5 * (impulse - blurred))  # p + a (p - G * p)
    assert sharpened[0, 0, 10, 10].item() == pytest.approx(1 + 0.5 * (1 - kernel[3, 3].item()))
    flat = torch.full((1, 1, 9, 9), 0.3)
    monkeypatch.setitem(extrapolation_rules.RULES, "DIS refined, composed", lambda frames, grey, k: flat)
    for name in ("blurred 0.35", "sharpened 0.35 s0.6"):  # a flat picture, borders included, is left as it is
        torch.testing.assert_close(extrapolation_rules.RULES[name](None, None, 1), flat)


def test_a_sharpened_prediction_s_overshoot_is_clipped_before_it_is_scored():
    target = torch.full((1, 3, 12, 12), -1.0)
    target[..., 6:] = 1.0  # a hard edge, exactly in range
    sharpened = target + 0.5 * (target - extrapolation_rules._gaussian(target, 1.0))  # overshoots both sides
    assert sharpened.min().item() < -1.1 and sharpened.max().item() > 1.1
    assert extrapolation_rules.frame_psnr(sharpened, target) == pytest.approx(MAX_PSNR_DB)  # clipped: exact
    assert extrapolation_rules.frame_psnr(target * 0.5, target) == pytest.approx(10 * np.log10(4 / 0.25))


def _recording_flows(monkeypatch, H, W, flows=None):
    """Replace the DIS and Farneback estimates by ``flows[(source, destination, setting)]`` (zero
    motion by default), frames told apart by their grey level; returns the list of calls made."""
    calls = []

    def fake_dis(source, destination, setting="medium"):
        calls.append((int(source[0, 0]), int(destination[0, 0]), setting))
        return (flows or {}).get(calls[-1], torch.zeros(1, 2, H, W))

    def fake_farneback(source, destination, refine=False):
        calls.append((int(source[0, 0]), int(destination[0, 0]), "Farneback refined" if refine else "Farneback"))
        return torch.zeros(1, 2, H, W)

    monkeypatch.setattr(extrapolation_rules, "_dis", fake_dis)
    monkeypatch.setattr(extrapolation_rules, "_farneback", fake_farneback)
    return calls


@pytest.mark.parametrize("rule, k, expected", [
    ("followed", 1, [(3, 2, "medium")]),
    ("followed, composed", 2, [(3, 2, "medium")]),
    ("DIS fine", 1, [(3, 2, "fine")]),
    ("DIS refined", 1, [(3, 2, "refined")]),
    ("Farneback refined, composed", 1, [(3, 2, "Farneback refined")]),
    ("fused 15, composed", 1, [(3, 2, "refined"), (3, 2, "Farneback")]),
    ("check 31", 1, [(3, 2, "medium"), (2, 1, "medium")]),
    ("clip check", 1, [(2, 1, "medium"), (2, 1, "medium"), (2, 1, "fast"), (3, 2, "medium")]),
    ("clip check F", 1, [(2, 1, "medium"), (2, 1, "medium"), (2, 1, "Farneback"), (3, 2, "medium")]),
    ("fixed point 3", 2, [(3, 2, "medium")]),
    ("camera still, rest followed", 1, [(3, 2, "medium")]),
    ("camera fit 1", 1, [(3, 2, "medium")]),
    ("camera mean 3", 1, [(3, 2, "refined"), (2, 1, "medium"), (1, 0, "medium")]),
    ("camera oracle", 2, [(3, 2, "refined"), (5, 3, "medium")]),
    ("oracle", 2, [(5, 3, "medium")]),
    ("splatted, composed", 2, [(3, 2, "refined")]),  # the holes' backward warp along the same flow
    ("splatted fit, composed", 1, [(3, 2, "refined")]),
    ("projected speed, composed", 2, [(3, 2, "refined")]),
])
def test_each_rule_estimates_its_flows_between_the_frames_it_names(monkeypatch, rule, k, expected):
    H, W = 16, 24
    calls = _recording_flows(monkeypatch, H, W)
    grey = [np.full((H, W), t, np.uint8) for t in range(6)]
    frames = torch.arange(6.0).sub(3).div(4).view(1, 1, 6, 1, 1).expand(1, 3, 6, H, W)  # frame t: (t - 3) / 4
    predicted = extrapolation_rules.RULES[rule](frames, grey, k)
    assert calls == expected
    torch.testing.assert_close(predicted, frames[:, :, 3])  # without motion, the newest frame again


@pytest.mark.parametrize("rule, k, expected, shown", [
    ("mean past 3", 1, [(3, 2, "refined"), (3, 2, "refined"), (2, 1, "refined")], (0 - 0.25 - 0.5) / 3),
    # the clip's noise is frame 3 less frame 2, 0.25: the threshold 0.5 lets frame 2 in
    ("fused past 2 auto", 2, [(3, 2, "refined"), (3, 2, "refined"), (3, 2, "refined")], -0.25 / 2),
    ("fit", 1, [(3, 2, "medium")], -0.25),  # frame 2 rebuilding frame 3
])
def test_the_fusions_and_the_fit_read_the_frames_they_name(monkeypatch, rule, k, expected, shown):
    H, W = 16, 24
    calls = _recording_flows(monkeypatch, H, W)
    grey = [np.full((H, W), t, np.uint8) for t in range(6)]
    frames = torch.arange(6.0).sub(3).div(4).view(1, 1, 6, 1, 1).expand(1, 3, 6, H, W)
    predicted = extrapolation_rules.RULES[rule](frames, grey, k)
    assert calls == expected
    torch.testing.assert_close(predicted, torch.full((1, 3, H, W), shown))


def _panned(H, W, steps, seed=0):
    """``(1, 3, len(steps), H, W)``: a smooth texture shifted right by ``steps[t]`` px in frame ``t``."""
    texture = torch.from_numpy(cv2.GaussianBlur(np.random.default_rng(seed).random((H, W + 40)).astype(np.float32),
                                                (0, 0), 2.0))
    texture = (texture - texture.mean()) / texture.std() * 0.3
    return torch.stack([texture.roll(s, dims=-1)[:, 20:20 + W] for s in steps]).view(1, 1, len(steps), H, W) \
        .expand(1, 3, len(steps), H, W)


def _uniform(H, W, dx, dy=0.0):
    flow = torch.zeros(1, 2, H, W)
    flow[:, 0], flow[:, 1] = dx, dy
    return flow


def test_the_checks_pick_the_motion_that_rebuilt_the_newest_frame_from_the_one_before(monkeypatch):
    H, W = 32, 48
    # Frame 3 is frame 2 panned by 2 px; frames 0 and 1 repeat frame 3 and frame 4 frame 2: only
    # the step from frame 2 to frame 3 tells the pan apart from stillness.
    frames = _panned(H, W, [6, 6, 4, 6, 4, 8])
    grey = [np.full((H, W), t, np.uint8) for t in range(6)]
    offsets = []
    monkeypatch.setattr(extrapolation_rules, "_resample", lambda frame, offset, mode: offsets.append(offset) or frame)
    pan, last = _uniform(H, W, -2.0), _uniform(H, W, -3.0)  # the step before, and the newest (told apart)
    calls = _recording_flows(monkeypatch, H, W, {(2, 1, "medium"): pan, (3, 2, "medium"): last,
                                                 (2, 1, "fast"): torch.zeros(1, 2, H, W)})
    extrapolation_rules.RULES["clip check"](frames, grey, 1)
    assert calls[-1] == (3, 2, "medium")  # DIS's motion rebuilt frame 3 from frame 2; DIS fast's did not
    torch.testing.assert_close(offsets[-1], last)
    extrapolation_rules.RULES["check 31"](frames, grey, 2)
    inner = (..., slice(4, -4), slice(8, -8))
    torch.testing.assert_close(offsets[-1][inner], 2 * last[inner])  # the pan, not stillness, everywhere inside


def test_the_persistence_of_the_motion_damps_it_and_a_floor_keeps_still_regions_still(monkeypatch):
    H, W = 8, 8
    seen = []
    # the steps, newest first: 0.1, 0.2 and 0.4 px: each step half the one before
    monkeypatch.setattr(extrapolation_rules, "context_flows",
                        lambda context, n: seen.append(context.shape) or [_uniform(H, W, d) for d in (0.1, 0.2, 0.4)])
    offsets = []
    monkeypatch.setattr(extrapolation_rules, "_resample", lambda frame, offset, mode: offsets.append(offset) or frame)
    frames = torch.zeros(1, 3, 6, H, W)
    # (0.1 * 0.2 + 0.2 * 0.4) / (0.2² + 0.4²) = 0.1 / 0.2: half the newest step's speed
    extrapolation_rules.RULES["AR clip"](frames, None, 2)
    torch.testing.assert_close(offsets[-1], _uniform(H, W, 2 * 0.5 * 0.1))
    # per region the floor of 0.05 px² joins the energy: 0.1 / 0.25
    extrapolation_rules.RULES["AR 63"](frames, None, 1)
    torch.testing.assert_close(offsets[-1], _uniform(H, W, 0.4 * 0.1))
    assert seen == [(1, 3, 4, H, W)] * 2  # the context frames alone


def test_the_residual_rules_keep_the_cameras_motion_and_damp_the_rest(monkeypatch):
    H, W = 48, 64
    flow = _uniform(H, W, -2.0)
    flow[:, 0, 10:20, 20:40] = -5.0  # a patch moving 3 px a step more than the pan
    _recording_flows(monkeypatch, H, W, {(3, 2, "medium"): flow})
    offsets = []
    monkeypatch.setattr(extrapolation_rules, "_resample", lambda frame, offset, mode: offsets.append(offset) or frame)
    grey = [np.full((H, W), t, np.uint8) for t in range(6)]
    extrapolation_rules.RULES["residual 0.7"](torch.zeros(1, 3, 6, H, W), grey, 1)
    torch.testing.assert_close(offsets[-1][:, 0, 30:, 5:], torch.full((1, 18, 59), -2.0), atol=1e-3, rtol=0)
    torch.testing.assert_close(offsets[-1][:, 0, 10:20, 26:40], torch.full((1, 10, 14), -2.0 - 0.7 * 3),
                               atol=1e-3, rtol=0)  # followed inside the patch: -2 and 0.7 of its own 3 px
    extrapolation_rules.RULES["camera"](torch.zeros(1, 3, 6, H, W), grey, 2)
    torch.testing.assert_close(offsets[-1], _uniform(H, W, -4.0), atol=1e-3, rtol=0)


def test_the_fixed_point_and_the_composition_follow_a_zoom(monkeypatch):
    H, W = 20, 40
    x = torch.arange(W, dtype=torch.float32)
    zoom = torch.zeros(1, 2, H, W)
    zoom[:, 0] = -0.1 * x  # the content moves 10% away from column 0 a step
    _recording_flows(monkeypatch, H, W, {(3, 2, "medium"): zoom})
    resampled = []
    monkeypatch.setattr(extrapolation_rules, "_resample",
                        lambda frame, offset, mode: resampled.append((frame, offset)) or frame)
    grey = [np.full((H, W), t, np.uint8) for t in range(6)]
    frames = torch.arange(6.0).view(1, 1, 6, 1, 1).expand(1, 3, 6, H, W)
    for k in (1, 2):
        extrapolation_rules.RULES["fixed point 3"](frames, grey, k)
        frame, offset = resampled[-1]
        assert torch.equal(frame, frames[:, :, 3])
        c = 0.1 * k  # s = p + k f1(s) by three steps from p + k f1(p): -c x (1 - c + c² - c³)
        torch.testing.assert_close(offset[:, 0], (-c * x * (1 - c + c ** 2 - c ** 3)).expand(1, H, W), atol=1e-4,
                                   rtol=0)
        extrapolation_rules.RULES["composed"](frames, grey, k)
        # s_1 = p - 0.1 x; s_2 = s_1 - 0.1 (x - 0.1 x): an offset of -0.19 x
        torch.testing.assert_close(resampled[-1][1][:, 0], ((-0.1, -0.19)[k - 1] * x).expand(1, H, W), atol=1e-4,
                                   rtol=0)


def test_the_oracle_outside_takes_the_true_frame_exactly_where_the_source_leaves_the_frame(monkeypatch):
    H, W = 10, 12
    monkeypatch.setattr(extrapolation_rules, "_resample", lambda frame, offset, mode: torch.full_like(frame, -1.0))
    grey = [np.full((H, W), t, np.uint8) for t in range(6)]
    frames = torch.arange(6.0).div(10).view(1, 1, 6, 1, 1).expand(1, 3, 6, H, W)
    rows, columns = torch.arange(H).view(H, 1), torch.arange(W).view(1, W)
    # the source of (x, y) is (x - 2k, y + k): outside left of column 2k and below row H - 1 - k;
    # for (x + 1.5k, y - k): right of column W - 1 - 1.5k and above row k
    for (dx, dy), outside in (((-2.0, 1.0), lambda k: (columns < 2 * k) | (rows > H - 1 - k)),
                              ((1.5, -1.0), lambda k: (columns > W - 1 - 1.5 * k) | (rows < k))):
        _recording_flows(monkeypatch, H, W, {(3, 2, "medium"): _uniform(H, W, dx, dy)})
        for k in (1, 2):
            expected = torch.where(outside(k), frames[0, 0, 3 + k], torch.tensor(-1.0)).expand(1, 3, H, W)
            torch.testing.assert_close(extrapolation_rules.RULES["oracle outside"](frames, grey, k), expected)


def test_the_past_is_fused_below_the_threshold_only(monkeypatch):
    newest = torch.zeros(1, 3, 4, 4)
    older = torch.zeros(1, 3, 4, 4)
    older[..., 0, :] = 0.5
    older[..., 1, :] = 0.0313  # 3.99 grey levels of 255 on [-1, 1]
    older[..., 2, :] = 0.0315  # 4.02
    monkeypatch.setattr(extrapolation_rules, "_aligned_past", lambda frames, grey, k, n: [newest, older])
    monkeypatch.setattr(extrapolation_rules, "_clip_noise", lambda frames, grey: 0.25)
    fused = extrapolation_rules._fused_past(None, None, 1, 2, tau=4.0)[0, 0]
    assert fused[:, 0].tolist() == pytest.approx([0.0, 0.0313 / 2, 0.0, 0.0])
    # auto: twice the clip's noise, 0.5: a difference of exactly 0.5 is not below it
    fused = extrapolation_rules._fused_past(None, None, 1, 2, tau=None)[0, 0]
    assert fused[:, 0].tolist() == pytest.approx([0.0, 0.0313 / 2, 0.0315 / 2, 0.0])
    soft = extrapolation_rules._fused_past(None, None, 1, 2, tau=None, soft=True)[0, 0]
    weight = np.exp(-1.0)  # d = tau
    assert soft[0, 0].item() == pytest.approx(weight * 0.5 / (1 + weight))


def test_predictions_are_clamped_to_the_range_of_the_frames(monkeypatch):
    H, W = 8, 16
    frames = torch.full((1, 3, 6, H, W), -1.0)
    frames[..., W // 2:] = 1.0  # a hard edge: bicubic resampling overshoots it
    _recording_flows(monkeypatch, H, W, {(3, 2, "medium"): _uniform(H, W, 0.5)})
    grey = [np.full((H, W), t, np.uint8) for t in range(6)]
    predicted = extrapolation_rules.RULES["bicubic"](frames, grey, 1)
    assert predicted.min().item() == -1.0 and predicted.max().item() == 1.0


def test_the_blur_replicates_the_border():
    picture = torch.zeros(1, 1, 9, 9)
    picture[..., 0] = 1.0  # a bright first column
    taps = torch.exp(-torch.arange(-3, 4, dtype=torch.float64) ** 2 / 2)
    taps /= taps.sum()
    blurred = extrapolation_rules._gaussian(picture, 1.0)
    # beyond the border the first column repeats: the taps at offsets -3 to 0 fall on 1
    assert blurred[0, 0, 4, 0].item() == pytest.approx(taps[:4].sum().item(), abs=1e-6)


@pytest.mark.parametrize("order", ["speed", "fit", "mean"])
def test_the_splatted_rule_moves_a_subject_whole_and_keeps_the_backward_warp_in_the_hole(monkeypatch, order):
    """A bright bar 3 px wide moving 2 px right a step over a still dark background: the true next
    frame has it 2 px further. Sampled backward, the flow at its new leading columns is the
    background's (still): they stay dark. Splatted, the bar lands whole where it is in front:
    with the faster in front; with the pixel the last step's flow rebuilt better in front (the
    background it will cover flickered in the last step); not without an order (the mean)."""
    H, W = 5, 16
    frames = torch.full((1, 3, 6, H, W), -1.0)
    for t in range(6):
        frames[..., t, :, 2 * t:2 * t + 3] = 1.0  # frame 3: columns 6-8
    frames[..., 2, :, 9:11] = -0.5  # the flicker: frame 2's background there, not rebuilt by the flow
    flow = torch.zeros(1, 2, H, W)
    flow[:, 0, :, 6:9] = -2.0  # the bar's pixels came from 2 px to the left
    _recording_flows(monkeypatch, H, W, {(3, 2, "refined"): flow})
    grey = [np.full((H, W), t, np.uint8) for t in range(6)]
    predicted = extrapolation_rules.RULES[f"splatted {order}, composed" if order != "mean" else "splatted, composed"](
        frames, grey, 1)
    backward = extrapolation_rules.RULES["DIS refined, composed"](frames, grey, 1)
    front = {"speed": 1.0, "fit": 1.0, "mean": 0.0}[order]  # where bar and background land together
    torch.testing.assert_close(predicted[..., 8], frames[:, :, 4, :, 8])
    torch.testing.assert_close(predicted[..., 9:11], torch.full((1, 3, H, 2), front), atol=1e-3, rtol=0)
    torch.testing.assert_close(predicted[..., 6:8], backward[..., 6:8])  # the hole it leaves: the backward warp
    torch.testing.assert_close(predicted[..., 6:8], frames[:, :, 4, :, 6:8])
    assert backward[..., 9:11].eq(-1.0).all()  # sampled backward, the bar's front is missing

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

"""DIS flow refined at full resolution: against a rotation's exact flow, and as the refiner's option."""

import cv2
import numpy as np
import pytest
import torch
from skimage import data as skdata

from vidpred.build import build_generator
from vidpred.config import ConfigError, config_from_dict, validate
from vidpred.models.optical_flow import dis_flow, reused_flows
from vidpred.models.refiner import FlowRefiner, context_flows
from vidpred.models.warp import warp


def _turned_photo(degrees: float) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """A real photo, the same turned by ``degrees`` about its centre, and the exact flow
    ``f`` with ``turned(p) = photo(p + f(p))`` as ``(1, 2, H, W)``."""
    photo = np.ascontiguousarray(cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2GRAY)[100:420, 60:460])
    H, W = photo.shape
    M = cv2.getRotationMatrix2D(((W - 1) / 2, (H - 1) / 2), degrees, 1.0)
    turned = cv2.warpAffine(photo, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    back = cv2.invertAffineTransform(M)
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    source_x = back[0, 0] * xs + back[0, 1] * ys + back[0, 2]
    source_y = back[1, 0] * xs + back[1, 1] * ys + back[1, 2]
    return photo, turned, torch.from_numpy(np.stack([source_x - xs, source_y - ys])).float()[None]


def _tensor(grey: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(grey).float()[None, None] / 127.5 - 1


@pytest.mark.parametrize("degrees", [0.5, 1.0])
def test_full_size_refinement_halves_the_error_across_edges(degrees):
    # A warp's error is, to first order, the flow's error across edges (grad I . error); the
    # medium preset, fitted at half resolution, leaves 0.75-0.8 grey levels of it on a turned
    # photo, the refinement about half.
    photo, turned, exact = _turned_photo(degrees)
    gx = torch.from_numpy(cv2.Sobel(turned.astype(np.float32), cv2.CV_32F, 1, 0) / 8)
    gy = torch.from_numpy(cv2.Sobel(turned.astype(np.float32), cv2.CV_32F, 0, 1) / 8)
    inner = (slice(None), slice(None), slice(24, -24), slice(24, -24))
    across, rebuilt = {}, {}
    for refine in (False, True):
        flow = dis_flow(_tensor(turned), _tensor(photo), refine=refine)
        error = flow - exact
        across[refine] = ((gx * error[0, 0] + gy * error[0, 1]) ** 2)[24:-24, 24:-24].mean().sqrt().item()
        rebuilt[refine] = ((warp(_tensor(photo), flow) - _tensor(turned))[inner] ** 2).mean().sqrt().item() * 127.5
    assert 0.6 < across[False] < 1.0
    assert across[True] < 0.6 * across[False]
    assert rebuilt[True] < 0.65 * rebuilt[False]  # the refined flow rebuilds the turned photo better


def test_the_refiner_reads_the_last_steps_flow_refined_when_asked():
    photo, turned, _ = _turned_photo(1.0)
    frames = [_tensor(cv2.warpAffine(photo, cv2.getRotationMatrix2D((200, 160), -t, 1.0), (400, 320),
                                     flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)) for t in range(4)]
    clip = torch.stack(frames, dim=2).expand(-1, 3, -1, -1, -1)  # (1, 3, 4, H, W), grey as RGB
    plain, refined = context_flows(clip, 2), context_flows(clip, 2, refine=True)
    assert torch.equal(plain[0], dis_flow(clip[:, :, -1], clip[:, :, -2]))
    assert torch.equal(refined[0], dis_flow(clip[:, :, -1], clip[:, :, -2], refine=True))
    assert not torch.equal(plain[0], refined[0])
    # the older step keeps DIS's flow (brought to the newest frame's pixels along f1, now refined)
    assert torch.equal(refined[1], warp(dis_flow(clip[:, :, -2], clip[:, :, -3]), refined[0]))
    torch.manual_seed(0)
    model = FlowRefiner(width=8, refine_flows=True)
    assert model.refine_flows and not FlowRefiner(width=8).refine_flows
    v = model.motion(clip)
    assert v.shape == (1, 2, 320, 400) and torch.isfinite(v).all()
    cfg = config_from_dict({"model": {"generator": {"head": "refiner", "n_scales": 1, "width": 0.25,
                                                    "refine_flows": True}, "discriminator": {"enabled": False}}})
    validate(cfg)
    assert build_generator(cfg).refine_flows
    with pytest.raises(ConfigError, match="refine_flows is for the refiner head"):
        validate(config_from_dict({"model": {"generator": {"refine_flows": True}}}))


def test_the_rules_refined_dis_is_the_models():
    from vidpred.evaluation.extrapolation_rules import _dis

    photo, turned, _ = _turned_photo(0.5)
    assert torch.equal(_dis(turned, photo, "refined"), dis_flow(_tensor(turned), _tensor(photo), refine=True))
    assert not torch.equal(_dis(turned, photo, "refined"), _dis(turned, photo))


def _counted_dis_estimates(monkeypatch) -> list[bool]:
    """DIS as OpenCV makes it from here on, each estimate noted in the list returned (True:
    started from a given flow)."""
    from vidpred.models import optical_flow

    calls = []
    create = cv2.DISOpticalFlow_create

    class Counted:
        def __init__(self, preset):
            self.dis = create(preset)

        def calc(self, a, b, flow):
            calls.append(flow is not None)
            return self.dis.calc(a, b, flow)

        def __getattr__(self, name):  # its settings, as OpenCV's
            return getattr(self.dis, name)

    monkeypatch.setattr(optical_flow.cv2, "DISOpticalFlow_create", Counted)
    return calls


def test_reused_flows_estimate_each_pair_once_and_change_nothing(monkeypatch):
    from vidpred.models import optical_flow

    photo = skdata.astronaut()[::4, ::4]  # 128x128
    frames = [_tensor(cv2.cvtColor(np.ascontiguousarray(photo[:, 2 * t:2 * t + 96]), cv2.COLOR_RGB2GRAY))
              for t in range(6)]
    clip = torch.stack(frames, dim=2).expand(-1, 3, -1, -1, -1)  # (1, 3, 6, 128, 96): a 2-px pan
    windows = [clip[:, :, k:k + 4] for k in range(3)]
    alone = [context_flows(w, 3, refine=True) for w in windows]
    calls = _counted_dis_estimates(monkeypatch)
    with optical_flow.reused_flows():
        along = [context_flows(w, 3, refine=True) for w in windows]
        again = dis_flow(clip[:, :, 5], clip[:, :, 4], refine=True)  # the newest pair, refined once more
    assert len(calls) == 5  # three windows of three steps over six frames: five distinct pairs
    for a, b in zip(alone, along):
        assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert torch.equal(again, alone[2][0])
    dis_flow(clip[:, :, 5], clip[:, :, 4])
    assert len(calls) == 6  # outside the block every call estimates


SMALL_FRAMES = """
import sys, torch
from vidpred.models.optical_flow import dis_flow
for h, w in [(1, 1), (8, 8), (11, 11), (12, 40), (14, 200), (16, 100), (24, 200), (300, 12), (2, 2000)]:
    x = torch.rand(2, 3, h, w) * 2 - 1
    for preset in ("medium", "fast", "ultrafast"):
        flow = dis_flow(x, x.roll(1, -1), preset=preset, refine=preset == "medium")
        assert flow.shape == (2, 2, h, w) and bool(flow.isfinite().all()), (h, w, preset)
print("done")
"""


@pytest.mark.slow  # a process of its own: OpenCV's DIS crashes the process on some of these sizes
def test_dis_flow_takes_frames_of_any_size(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", SMALL_FRAMES], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "done", result.stderr[-2000:]


@pytest.mark.parametrize("size", [(10, 10), (12, 24), (11, 30), (16, 100)])  # enlarged, bar the last
def test_dis_flow_on_short_wide_frames_finds_the_shift(size):
    h, w = size
    photo = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2GRAY)[200:200 + h, 100:102 + w].astype(np.float32)
    moved, before = photo[:, 1:w + 1], photo[:, :w]  # moved(p) = before(p + (1, 0))
    flow = dis_flow(_tensor(moved), _tensor(before))
    assert flow.shape == (1, 2, h, w)
    assert abs(float(flow[0, 0].median()) - 1) < 0.05 and float(flow[0, 1].abs().median()) < 0.05


def test_dis_flow_leaves_frames_large_enough_as_opencv_sees_them():
    photo = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2GRAY)
    a, b = np.ascontiguousarray(photo[100:164, 100:180]), np.ascontiguousarray(photo[102:166, 101:181])
    expected = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(a, b, None)
    flow = dis_flow(_tensor(a).float(), _tensor(b).float())
    assert torch.equal(flow[0].permute(1, 2, 0), torch.from_numpy(expected))


def test_grey_levels_weigh_red_green_and_blue_as_rgb():
    from vidpred.models.optical_flow import _grey_uint8

    frames = torch.full((3, 3, 2, 2), -1.0)
    for channel in range(3):
        frames[channel, channel] = 1.0  # pure red, green, blue
    # ITU-R 601 luma: 0.299 R + 0.587 G + 0.114 B of 255
    assert [int(g[0, 0]) for g in _grey_uint8(frames)] == [76, 150, 29]


def test_backward_flow_uses_the_named_estimator_from_the_last_frame_back():
    from vidpred.models.optical_flow import backward_flow, farneback_flow

    photo = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2GRAY)
    frames = torch.stack([_tensor(np.ascontiguousarray(photo[100 + t:164 + t, 100 + 2 * t:180 + 2 * t]))
                          for t in range(3)], dim=2).float()
    assert torch.equal(backward_flow(frames, "farneback"), farneback_flow(frames[:, :, -1], frames[:, :, -2]))
    assert torch.equal(backward_flow(frames, "dis"), dis_flow(frames[:, :, -1], frames[:, :, -2]))


def test_reused_flows_tell_pairs_with_the_same_source_apart():
    from vidpred.models.optical_flow import reused_flows

    photo = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2GRAY)
    a, b, c = (_tensor(np.ascontiguousarray(photo[100:164, 100 + dx:180 + dx])).float() for dx in (0, 1, 3))
    with reused_flows():
        first, second = dis_flow(a, b), dis_flow(a, c)
    assert torch.equal(first, dis_flow(a, b)) and torch.equal(second, dis_flow(a, c))


@pytest.mark.parametrize("size, k", [((240, 320), 1), ((24, 50), 1), ((14, 40), 2), ((10, 10), 5)])
def test_dis_magnification_by_hand(size, k):
    # Medium preset: finest scale 1, 8 px patches. Starting level min(round(log2(long / 32)),
    # floor(log2(short / 8))): 24x50 -> min(round(0.64), 1) = 1, kept; 14x40 -> 0, and at
    # 28x80 -> min(round(1.32), 1) = 1; 10x10 -> 40x40 gives min(round(0.32), 2) = 0, 50x50
    # min(round(0.64), 2) = 1.
    from vidpred.models.optical_flow import _dis_magnification

    assert _dis_magnification(*size, 1, 8) == k


def test_backward_flow_of_a_clip_of_two_frames():
    from vidpred.models.optical_flow import backward_flow

    photo = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2GRAY)
    frames = torch.stack([_tensor(np.ascontiguousarray(photo[100:164, 100 + 2 * t:180 + 2 * t]))
                          for t in range(2)], dim=2).float()
    assert torch.equal(backward_flow(frames, "dis"), dis_flow(frames[:, :, 1], frames[:, :, 0]))
    with pytest.raises(ValueError, match="T >= 2"):
        backward_flow(frames[:, :, :1], "dis")


def test_farneback_follows_a_motion_beyond_its_window():
    # A 9x9 window alone follows a few pixels of motion (here 1.4 of 8 px); the 3-level pyramid, the whole pan.
    from vidpred.models.optical_flow import farneback_flow

    photo = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2GRAY)
    previous, last = (_tensor(np.ascontiguousarray(photo[100:228, 100 + dx:260 + dx])) for dx in (0, 8))
    flow = farneback_flow(last, previous)  # last(p) = previous(p + (8, 0))
    assert flow[0, 0, 16:-16, 16:-16].median().item() == pytest.approx(8.0, abs=0.25)
    assert flow[0, 1, 16:-16, 16:-16].abs().median().item() < 0.25


def test_reused_flows_keep_the_most_recently_used_pairs():
    from collections import OrderedDict

    from vidpred.models.optical_flow import reused_flows

    photo = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2GRAY)
    a, b, c = (_tensor(np.ascontiguousarray(photo[100:164, 100 + dx:180 + dx])).float() for dx in (0, 1, 3))
    store = OrderedDict()
    with reused_flows(max_pairs=2, store=store):
        ab, _, ab_again, bc = dis_flow(a, b), dis_flow(a, c), dis_flow(a, b), dis_flow(b, c)
    # (a, b) was used again after (a, c), so (a, c) is the one dropped for (b, c).
    assert torch.equal(ab_again, ab)
    kept = [torch.from_numpy(flow).permute(2, 0, 1) for flow in store.values()]
    assert len(kept) == 2 and torch.equal(kept[0], ab[0]) and torch.equal(kept[1], bc[0])


def test_dis_flows_back_are_each_steps_dis_flow_with_each_frame_made_grey_once(monkeypatch):
    from vidpred.models import optical_flow
    from vidpred.models.optical_flow import dis_flows_back

    photo = skdata.astronaut()[::4, ::4]
    torch.manual_seed(0)
    frames = [torch.from_numpy(np.ascontiguousarray(photo[:, 3 * t:3 * t + 90])).permute(2, 0, 1).float() / 127.5 - 1
              for t in range(5)]  # a 3-px pan of a colour photo
    clip = torch.stack(frames, dim=1)[None].repeat(2, 1, 1, 1, 1)
    clip[1] = clip[1].flip(-1) + 0.01 * torch.randn_like(clip[1])  # the second clip pans the other way
    expected = [dis_flow(clip[:, :, 4 - j], clip[:, :, 3 - j], refine=j == 0) for j in range(3)]
    converted = []
    grey = optical_flow._grey_uint8
    monkeypatch.setattr(optical_flow, "_grey_uint8", lambda x: converted.append(1) or grey(x))
    flows = dis_flows_back(clip, 3, refine_newest=True)
    assert len(converted) == 4  # the four newest frames, once each
    assert all(torch.equal(a, b) for a, b in zip(flows, expected))
    assert float(flows[0][0, 0].mean()) == pytest.approx(3, abs=0.3)  # newest(p) = previous(p + 3 px)
    assert float(flows[0][1, 0].mean()) == pytest.approx(-3, abs=0.3)
    assert torch.equal(dis_flows_back(clip, 1)[0], dis_flow(clip[:, :, 4], clip[:, :, 3]))
    for n in (0, 5):
        with pytest.raises(ValueError, match=f"need 1 <= n_steps < T, got n_steps={n} with T=5"):
            dis_flows_back(clip, n)
    with pytest.raises(ValueError, match=r"expects \(B, C, T, H, W\), got \(2, 3, 128, 90\)"):
        dis_flows_back(clip[:, :, 0], 1)


def test_grey_levels_of_a_clamped_frame_and_of_grey_frames():
    from vidpred.models.optical_flow import _grey_uint8

    frames = torch.tensor([-3.0, -1.0, 0.0, 1.0, 2.0]).reshape(1, 1, 1, 5)
    assert _grey_uint8(frames)[0].tolist() == [[0, 0, 128, 255, 255]]  # 127.5 rounds to even
    assert _grey_uint8(frames.expand(-1, 3, -1, -1))[0].tolist() == [[0, 0, 128, 255, 255]]
    assert frames.tolist() == [[[[-3.0, -1.0, 0.0, 1.0, 2.0]]]]  # the caller's frames unchanged
    with pytest.raises(ValueError, match="needs grey or RGB frames, got 2 channels"):
        _grey_uint8(frames.expand(-1, 2, -1, -1))


def test_reused_flows_tell_presets_apart():
    from vidpred.models.optical_flow import reused_flows

    photo = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2GRAY)
    # 128x160: large enough for either preset, so neither enlarges the pair (the same grey levels)
    a, b = (_tensor(np.ascontiguousarray(photo[100:228, 100 + dx:260 + dx])).float() for dx in (0, 2))
    with reused_flows():
        fast, medium = dis_flow(a, b, preset="ultrafast"), dis_flow(a, b)
    assert torch.equal(fast, dis_flow(a, b, preset="ultrafast")) and torch.equal(medium, dis_flow(a, b))
    assert not torch.equal(fast, medium)


def test_the_flow_of_a_frame_enlarged_for_dis_is_averaged_back_over_each_pixels_block():
    # 14x40 is too small for the medium preset: DIS runs on the pair enlarged 2x, and each
    # pixel's flow is the mean over its 2x2 block, in the small frame's pixels.
    photo = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2GRAY)
    a, b = (np.ascontiguousarray(photo[200:214, 100 + dx:140 + dx]) for dx in (0, 1))
    big = [cv2.resize(x, (80, 28), interpolation=cv2.INTER_CUBIC) for x in (a, b)]
    enlarged = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(*big, None)  # (28, 80, 2)
    expected = enlarged.reshape(14, 2, 40, 2, 2).mean(axis=(1, 3)) / 2
    flow = dis_flow(_tensor(a).float(), _tensor(b).float())
    torch.testing.assert_close(flow[0].permute(1, 2, 0), torch.from_numpy(expected), atol=1e-5, rtol=0)


def test_the_full_size_refinement_has_the_documented_settings():
    from vidpred.models.optical_flow import full_size_refinement

    refinement = full_size_refinement()  # smoothness 20, colour constancy 5, gradient constancy 10
    assert (refinement.getAlpha(), refinement.getDelta(), refinement.getGamma()) == (20.0, 5.0, 10.0)
    assert (refinement.getFixedPointIterations(), refinement.getSorIterations()) == (5, 5)


@pytest.mark.parametrize("size", [(144, 176), (20, 48)])  # (20, 48): enlarged for DIS, the start with it
def test_dis_started_from_a_shift_reaches_a_pan_beyond_its_pyramid(size):
    photo = np.ascontiguousarray(cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2GRAY))
    H, W = size
    step = W // 4
    later, earlier = (_tensor(np.ascontiguousarray(photo[200:200 + H, x:x + W])) for x in (150 + step, 150))
    # later(p) = earlier(p + (step, 0)): from still, DIS's pyramid stops far short of it
    assert (dis_flow(later, earlier)[0, 0].median() - step).abs() > 2
    start = torch.tensor([step - 3.0, 1.0]).view(1, 2, 1, 1).expand(1, 2, H, W)
    started = dis_flow(later, earlier, start=start)[0]
    assert (started[0].median() - step).abs() < 0.25 and started[1].median().abs() < 0.25
    with reused_flows():  # a started pair is not taken for the one from still
        dis_flow(later, earlier)
        assert torch.equal(dis_flow(later, earlier, start=start)[0], started)


def test_reused_flows_estimate_a_started_pair_once_for_each_start(monkeypatch):
    photo = np.ascontiguousarray(cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2GRAY))
    later, earlier = (_tensor(np.ascontiguousarray(photo[200:344, x:x + 176])) for x in (194, 150))
    start = torch.tensor([41.0, 1.0]).view(1, 2, 1, 1).expand(1, 2, 144, 176)
    alone = dis_flow(later, earlier, start=start, refine=True)
    calls = _counted_dis_estimates(monkeypatch)
    with reused_flows():
        again = [dis_flow(later, earlier, start=start, refine=refine) for refine in (True, False, True)]
        other = dis_flow(later, earlier, start=start + 0.5)
    assert calls == [True, True]  # once from each start (True: started); the refinement is made anew on the copy
    assert torch.equal(again[0], alone) and torch.equal(again[2], alone)
    assert torch.equal(again[1], dis_flow(later, earlier, start=start))
    assert not torch.equal(other, again[1])

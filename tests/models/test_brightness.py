"""Fades and cross-dissolves read along a context's flows (vidpred/models/brightness.py); the
refiner reading them: tests/models/test_refiner.py."""

import math

import pytest
import torch
from skimage import data as skdata

from vidpred.models import brightness
from vidpred.models.optical_flow import dis_flows_back

def test_each_step_s_brightness_is_the_median_log_ratio_read_along_its_flow(photo_clips):
    pan = photo_clips.pan((3, 0), 4)
    faded = photo_clips.faded(pan, 1.0, 0.95, 0.9, 0.85)
    steps = brightness.brightness_steps(faded, dis_flows_back(faded, 3))  # newest step first
    expected = [math.log(0.85 / 0.9), math.log(0.9 / 0.95), math.log(0.95)]
    assert steps[0].tolist() == pytest.approx(expected, abs=0.004)
    still = photo_clips.faded(photo_clips.pan((0, 0), 4), 1.0, 0.95, 0.9, 0.85)  # nothing moves: read where they stand
    assert brightness.brightness_steps(still)[0].tolist() == pytest.approx(expected, abs=0.004)
    # a photo lit brighter to the right (3% more every 3 px), panned: every pixel gets brighter
    # as the brighter part slides over it, while the exposure stays; read along the steps'
    # flows, no step changes
    photo = torch.from_numpy(skdata.astronaut()).permute(2, 0, 1).float() / 255  # (3, 512, 512) in [0, 1]
    photo = photo * torch.exp(0.01 * (torch.arange(512.0) - 300)).clamp(max=1)
    lit = torch.stack([photo[:, 200:296, 150 + 3 * t:278 + 3 * t] for t in range(4)], dim=1).unsqueeze(0) * 2 - 1
    assert (brightness.brightness_steps(lit)[0] > 0.01).all()
    assert brightness.brightness_steps(lit, dis_flows_back(lit, 3))[0].abs().max() < 0.003
    assert brightness.brightness_steps(torch.full((1, 3, 4, 32, 32), -1.0)).eq(0).all()  # black: nothing lit


@pytest.mark.parametrize("steps, rate", [
    ([-0.05, -0.05, -0.05], 1 - math.exp(0.05)),  # a steady fade to black: -5.1% of the newest a frame
    ([0.02, 0.03, 0.011], 1 - math.exp(-0.02)),  # brightening, each step within half the newest's of it
    ([-0.05, -0.02, -0.05], 0.0),  # a step 0.03 off the newest's, over half of it: not steady
    ([-0.05, 0.05, -0.05], 0.0),  # flicker: the steps change sign
    ([-0.009, -0.009, -0.009], 0.0),  # under FADE_STEP: a still scene's noise
])
def test_a_fade_is_steps_that_agree_and_its_rate_is_the_newest_step_s(steps, rate):
    assert brightness.fade_rate(torch.tensor([steps])).item() == pytest.approx(rate, abs=1e-6)


def test_brightened_scales_the_levels_and_clips_them():
    frames = torch.tensor([[[0.0, 0.9, -1.0]], [[0.0, 0.9, -1.0]]])  # (B=2, 1, 3)
    out = brightness.brightened(frames, torch.tensor([0.8, 1.2]))
    # level 0.5 x 0.8 = 0.4 (-0.2); 0.95 x 0.8 = 0.76 (0.52); black stays black; 0.95 x 1.2 clipped to 1
    torch.testing.assert_close(out, torch.tensor([[[-0.2, 0.52, -1.0]], [[0.2, 1.0, -1.0]]]))
    assert brightness.brightened(frames, torch.ones(2)) is frames


def test_a_fade_s_older_frames_are_brought_to_the_newest_s_brightness(photo_clips):
    pan = photo_clips.pan((3, 0), 4)
    faded = photo_clips.faded(pan, 1.0, 0.95, 0.9, 0.85)
    steps = brightness.brightness_steps(faded, dis_flows_back(faded, 3))
    levelled = brightness.fade_levelled(faded, steps, torch.tensor([True]))
    assert torch.equal(levelled[:, :, -1], faded[:, :, -1])  # the newest frame, which predictions resample
    # each older frame at 0.85 of its own levels, as the newest is: within a grey level and a half
    assert (levelled - photo_clips.faded(pan, 0.85, 0.85, 0.85, 0.85)).abs().max() < 3 / 255
    assert brightness.fade_levelled(faded, steps, torch.tensor([False])) is faded


def test_a_fade_to_white_is_read_towards_white_and_a_fade_to_black_as_before(photo_clips):
    pan = photo_clips.pan((3, 0), 4)
    flows = dis_flows_back(photo_clips.whitened(pan, 1.0, 0.95, 0.9, 0.85), 3)
    steps, white = brightness.fade_pivots(photo_clips.whitened(pan, 1.0, 0.95, 0.9, 0.85), flows)
    expected = [math.log(0.85 / 0.9), math.log(0.9 / 0.95), math.log(0.95)]  # the distances' log ratios
    assert white.tolist() == [True] and steps[0].tolist() == pytest.approx(expected, abs=0.004)
    # read towards black, the same fade is uneven: dark pixels lifted most, the median ratio off the distances'
    assert brightness.brightness_steps(photo_clips.whitened(pan, 1.0, 0.95, 0.9, 0.85), flows)[0].tolist() != \
        pytest.approx([-e for e in expected], abs=0.02)
    for clip in (photo_clips.faded(pan, 1.0, 0.95, 0.9, 0.85), photo_clips.faded(pan, 0.85, 0.9, 0.95, 1.0)):  # to black, from black
        flows = dis_flows_back(clip, 3)
        steps, white = brightness.fade_pivots(clip, flows)
        assert white.tolist() == [False] and torch.equal(steps, brightness.brightness_steps(clip, flows))
    clip = photo_clips.whitened(pan, 0.85, 0.9, 0.95, 1.0)  # in from white
    assert brightness.fade_pivots(clip, dis_flows_back(clip, 3))[1].tolist() == [True]


def test_brightened_towards_white_scales_the_distances_from_white():
    frames = torch.tensor([[[0.0, 0.9, -1.0]], [[0.0, 0.9, -1.0]]])  # (B=2, 1, 3): levels 0.5, 0.95, 0
    out = brightness.brightened(frames, torch.tensor([0.8, 0.8]), torch.tensor([True, False]))
    # towards white: distances 0.5, 0.05, 1 times 0.8 -> levels 0.6 (0.2), 0.96 (0.92), 0.2 (-0.6); the other clip as before
    torch.testing.assert_close(out, torch.tensor([[[0.2, 0.92, -0.6]], [[-0.2, 0.52, -1.0]]]))
    assert torch.equal(brightness.brightened(frames, torch.tensor([0.8, 1.2]), torch.tensor([False, False])),
                       brightness.brightened(frames, torch.tensor([0.8, 1.2])))


def test_a_cross_dissolve_s_changes_repeat_and_motion_noise_and_flicker_do_not(photo_clips):
    def read(clip: torch.Tensor) -> bool:
        flows = dis_flows_back(clip, 3)
        steps = brightness.brightness_steps(clip, flows)
        greys = [clip[:, :, t].mean(dim=1, keepdim=True) for t in range(4)]
        changes = brightness.step_changes(greys, flows, steps, torch.zeros(1, dtype=torch.bool))
        return bool(brightness.dissolving(changes).item())

    pan = photo_clips.pan((3, 0), 4)
    assert read(photo_clips.dissolved(photo_clips.pan((0, 0), 4), 0.05)) and read(photo_clips.dissolved(photo_clips.pan((1, 0), 4), 0.05))
    # under the still second scene, a first one moving 3 px a frame: the second's texture, moved
    # along the first's flow, changes more than the mix does, and the steps no longer repeat
    assert not read(photo_clips.dissolved(pan, 0.05))
    assert not read(pan) and not read(photo_clips.pan((0, 0), 4))
    noise = torch.Generator().manual_seed(0)
    assert not read((photo_clips.pan((0, 0), 4) + 0.02 * torch.randn(pan.shape, generator=noise)).clamp(-1, 1))
    assert not read(photo_clips.faded(pan, 1.0, 1.08, 0.97, 1.06))  # flicker: a change of brightness, not of the picture
    assert not read(photo_clips.faded(pan, 1.0, 0.95, 0.9, 0.85))  # a fade is read as one (the fade's steps relight it)
    greys = [pan[:, :, t].mean(dim=1, keepdim=True) for t in range(4)]
    flows = dis_flows_back(pan, 2)
    changes = brightness.step_changes(greys, flows, torch.zeros(1, 3), torch.zeros(1, dtype=torch.bool))
    assert len(changes) == 2 and not brightness.dissolving(changes).any()  # two steps: never read


def test_flicker_rarely_reads_as_a_fade():
    # each frame's exposure drawn on its own from [1 - a, 1 + a]: four frames' steps seldom agree
    draws = torch.Generator().manual_seed(0)
    for a in (0.05, 0.1, 0.2):
        exposure = 1 + a * (2 * torch.rand(100_000, 4, generator=draws) - 1)
        steps = (exposure[:, 1:].log() - exposure[:, :-1].log()).flip(1)  # newest first
        assert 0 < (brightness.fade_rate(steps) != 0).float().mean() < 0.01, a

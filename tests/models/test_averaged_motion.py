"""Test-time averaging of refiners' motion: the mean velocity, one warp, and a mirror pair
that treats left and right alike."""

import pytest
import torch
from skimage import data as skdata

from vidpred.models.averaged_motion import AveragedMotion
from vidpred.models.generator import MultiScaleGenerator
from vidpred.models.refiner import FlowRefiner
from vidpred.models.warp import warp


def _clip(n_frames: int = 4, size: tuple[int, int] = (64, 96)) -> torch.Tensor:
    """(1, 3, T, H, W) in [-1, 1]: a real photo drifting right and down, 2 px and 1 px a frame."""
    photo = torch.from_numpy(skdata.chelsea()).permute(2, 0, 1).float() / 127.5 - 1
    H, W = size
    return torch.stack([photo[:, 100 - t: 100 - t + H, 120 - 2 * t: 120 - 2 * t + W] for t in range(n_frames)],
                       dim=1).unsqueeze(0)


def _refiner(seed: int, **kwargs) -> FlowRefiner:
    """A refiner whose choice depends on what it sees (the output layer made large enough to matter)."""
    torch.manual_seed(seed)
    model = FlowRefiner(width=8, **kwargs).eval()
    with torch.no_grad():
        model.out.weight.mul_(30.0)
    return model


def _mirror_flow(flow: torch.Tensor) -> torch.Tensor:
    return flow.flip(-1) * torch.tensor([-1.0, 1.0]).view(1, 2, 1, 1)


@torch.no_grad()
def test_one_member_without_mirror_is_that_member():
    member, clip = _refiner(0), _clip()
    frames, flows, _ = AveragedMotion([member]).rollout_with_motion(clip, 2)
    own_frames, own_flows, _ = member.rollout_with_motion(clip, 2)
    assert torch.equal(frames, own_frames) and torch.equal(flows, own_flows)


@torch.no_grad()
def test_the_motion_is_the_members_mean_and_the_frame_one_warp_along_it():
    a, b, clip = _refiner(0), _refiner(1), _clip()
    va, vb = a.motion(clip), b.motion(clip)
    assert (va - vb).abs().max() > 0.1  # the two members disagree somewhere
    frames, flows, _ = AveragedMotion([a, b]).rollout_with_motion(clip, 2)
    mean = (va + vb) / 2
    assert torch.allclose(flows[:, :, 0], mean, atol=1e-6)
    assert torch.allclose(flows[:, :, 1], 2 * mean, atol=1e-6)  # constant velocity
    assert torch.allclose(frames[:, :, 1], warp(clip[:, :, -1], 2 * mean), atol=1e-6)  # one resampling, not a blend
    assert torch.allclose(AveragedMotion([a, a, b, b]).motion_and_persistence(clip)[0], mean, atol=1e-6)


@torch.no_grad()
def test_a_mirror_pair_treats_left_and_right_alike():
    member, clip = _refiner(0), _clip()
    mirrored_clip = clip.flip(-1)
    # the member alone does not: its answer for the mirrored clip is not its answer mirrored
    assert (member.motion(mirrored_clip) - _mirror_flow(member.motion(clip))).abs().max() > 0.1
    pair = AveragedMotion([member], mirror=True)
    assert torch.allclose(pair.motion_and_persistence(mirrored_clip)[0],
                          _mirror_flow(pair.motion_and_persistence(clip)[0]), atol=1e-5)
    # and it is the mean of the two looks
    expected = (member.motion(clip) + _mirror_flow(member.motion(mirrored_clip))) / 2
    assert torch.allclose(pair.motion_and_persistence(clip)[0], expected, atol=1e-6)


@torch.no_grad()
def test_the_persistence_is_averaged_and_mirrored_too():
    member, clip = _refiner(0, step_scale=True), _clip()
    velocity, persistence = AveragedMotion([member], mirror=True).motion_and_persistence(clip)
    _, own = member.motion_and_persistence(clip)
    _, seen_mirrored = member.motion_and_persistence(clip.flip(-1))
    assert persistence.shape == (1, 1, 64, 96)
    assert torch.allclose(persistence, (own + seen_mirrored.flip(-1)) / 2, atol=1e-6)


def test_members_that_cannot_be_averaged_are_refused():
    with pytest.raises(ValueError, match="at least one member"):
        AveragedMotion([])
    with pytest.raises(ValueError, match="only refiners"):
        AveragedMotion([MultiScaleGenerator(n_scales=1)])
    with pytest.raises(ValueError, match="different numbers of context frames"):
        AveragedMotion([FlowRefiner(n_context=4, width=8), FlowRefiner(n_context=5, width=8)])
    with pytest.raises(ValueError, match="persistence"):
        AveragedMotion([FlowRefiner(width=8), FlowRefiner(width=8, step_scale=True)])
    with pytest.raises(ValueError, match="roll out the same way"):
        AveragedMotion([FlowRefiner(width=8), FlowRefiner(width=8, rollout="composed")])
    assert AveragedMotion([FlowRefiner(width=8, rollout="composed")]).rollout_mode == "composed"


@torch.no_grad()
def test_a_mirror_pair_predicts_alike_under_a_float64_default_dtype():
    member, clip = _refiner(0), _clip()
    pair = AveragedMotion([member], mirror=True)
    expected = pair.rollout_with_motion(clip, 2)
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # a program of float64 tensors, the model still float32
    try:
        got = pair.rollout_with_motion(clip, 2)
    finally:
        torch.set_default_dtype(before)
    for tensor, want in zip(got[:2], expected[:2]):  # the frames and the motion
        assert tensor.dtype == torch.float32 and torch.equal(tensor, want)


@torch.no_grad()
def test_the_average_keeps_the_newest_frame_s_brightness_where_a_member_reads_a_fade():
    clip = _clip() * 0.5 - 0.2  # levels in the middle of the range: nothing clipped
    faded = ((clip + 1) * torch.tensor([1.0, 0.95, 0.9, 0.85]).view(1, 1, 4, 1, 1)) - 1  # a fade to black
    member = _refiner(0, fades=True)
    assert member.motion_persistence_and_fade(faded)[2].rate.item() < -0.05  # the member reads it
    frames, flows, _ = AveragedMotion([member]).rollout_with_motion(faded, 2)
    # one warp of the newest frame along the member's own motion, unrelit
    torch.testing.assert_close(frames[:, :, 0], warp(faded[:, :, -1], flows[:, :, 0]))
    assert torch.equal(flows, member.rollout_with_motion(faded, 2)[1])

"""The flow-refining predictor: flows of the context, shapes at real frame sizes, its start
at DIS extrapolation, and what each reading of its context does to its predictions (its
gradients: tests/models/test_gradients.py; the readings themselves: test_scene_steps.py,
test_frame_timing.py, test_brightness.py)."""

import math

import pytest
import torch

import vidpred.models._frames as frames
import vidpred.models.refiner as refiner_module
from vidpred.models import scene_steps
from vidpred.build import build_generator
from vidpred.config import ConfigError, config_from_dict, validate
from vidpred.metrics import psnr
from vidpred.models.camera_motion import camera_flow
from vidpred.models.optical_flow import farneback_flow, dis_flow
from vidpred.models.refiner import FlowRefiner, VelocityPredictor, context_flows
from vidpred.models.warp import warp


def _zero_output(model: FlowRefiner) -> FlowRefiner:
    """The network's output fixed at "the last step's velocity, no correction"."""
    with torch.no_grad():
        model.out.weight.zero_()
        model.out.bias.zero_()
        model.out.bias[1] = 10.0  # softmax weight 1 - 4e-35 on f1 (logits are scaled by 8)
    return model


def test_context_flows_of_a_pan_are_the_shift_at_every_step(photo_clips):
    clip = photo_clips.pan((2, 1), 4)  # content moves by (-2, -1) per frame: newest(p) = previous(p + (2, 1))
    flows = context_flows(clip, 3)
    inner = (slice(None), slice(None), slice(16, -16), slice(16, -16))
    for flow in flows:
        assert flow[inner][:, 0].median().item() == pytest.approx(2.0, abs=0.1)
        assert flow[inner][:, 1].median().item() == pytest.approx(1.0, abs=0.1)


def test_untrained_output_layer_at_zero_is_dis_extrapolation_without_compounding(photo_clips):
    torch.manual_seed(0)
    model = _zero_output(FlowRefiner(n_flows=3, scale=4, width=8)).eval()
    clip = photo_clips.pan((3, 0), 4)
    with torch.no_grad():
        frames, flows, _ = model.rollout_with_motion(clip, 2)
    f1 = dis_flow(clip[:, :, -1], clip[:, :, -2])
    last = clip[:, :, -1]
    torch.testing.assert_close(flows[:, :, 1], 2 * f1)
    # Frame 2 is the real last frame sampled once at 2 * f1, not a warp of frame 1.
    torch.testing.assert_close(frames[:, :, 1], warp(last, 2 * f1))
    torch.testing.assert_close(frames[:, :, 0], warp(last, f1))


@pytest.mark.parametrize("size", [(240, 320), (540, 960)])
def test_predicts_whole_frames_of_real_sizes(size):
    torch.manual_seed(0)
    model = FlowRefiner(width=8).eval()
    context = torch.rand(1, 3, 4, *size) * 2 - 1
    with torch.no_grad():
        prediction = model.rollout(context, 2)
    assert prediction.shape == (1, 3, 2, *size)
    assert torch.isfinite(prediction).all() and prediction.abs().max() <= 1


def test_a_still_context_stays_still_when_untrained(photo_clips):
    model = _zero_output(FlowRefiner(width=8)).eval()
    frame = photo_clips.pan((0, 0), 1)
    context = frame.expand(-1, -1, 4, -1, -1)
    with torch.no_grad():
        prediction = model.rollout(context, 2)
    torch.testing.assert_close(prediction, frame.expand(-1, -1, 2, -1, -1), atol=1e-4, rtol=0)


def test_built_from_config_and_checked():
    # The multi-scale discriminator judges the generator's scales, and the refiner has one.
    cfg = config_from_dict({"model": {"generator": {"head": "refiner", "n_scales": 1, "width": 0.5, "n_flows": 2},
                                      "discriminator": {"enabled": False}},
                            "data": {"patch_size": 64}})
    validate(cfg)
    model = build_generator(cfg)
    assert isinstance(model, FlowRefiner) and model.width == 16 and model.n_flows == 2
    with pytest.raises(ConfigError, match="n_scales must be 1"):
        validate(config_from_dict({"model": {"generator": {"head": "refiner"}}}))
    with pytest.raises(ConfigError, match="n_flows"):
        validate(config_from_dict({"model": {"generator": {"head": "refiner", "n_scales": 1, "n_flows": 4}}}))
    with pytest.raises(ConfigError, match="working_scale"):
        validate(config_from_dict({"model": {"generator": {"head": "refiner", "n_scales": 1,
                                                                   "working_scale": 3}}}))


def test_the_rollouts_are_the_config_s_values():
    # export_model.py offers ROLLOUTS and the config accepts its Literal: the two lists are one.
    from typing import get_args, get_type_hints

    from vidpred.config import GeneratorConfig

    assert set(refiner_module.ROLLOUTS) == set(get_args(get_type_hints(GeneratorConfig)["rollout"]))


def test_rejects_a_bad_context():
    model = FlowRefiner(width=8)
    with pytest.raises(ValueError, match="context must be"):
        model.motion(torch.zeros(1, 3, 3, 32, 32))
    with pytest.raises(ValueError, match="n_future"):
        model.rollout(torch.zeros(1, 3, 4, 32, 32), 0)


def test_the_correction_is_bounded_however_large_the_network_output(photo_clips):
    model = FlowRefiner(width=8).eval()
    with torch.no_grad():
        model.out.bias[model.n_candidates:] = 1e6  # a runaway correction
        velocity = model.motion(photo_clips.pan((0, 0), 4, size=(64, 80)))
    # Working size 16x20 for 64x80 frames: at most 4 working pixels = 16 frame pixels. On a
    # still clip every candidate is 0, so the runaway correction is all there is: the bound itself.
    torch.testing.assert_close(velocity, torch.full_like(velocity, 16.0), atol=1e-3, rtol=0)
    with torch.no_grad():
        model.out.bias[model.n_candidates:] = -1e6  # and the other way
        velocity = model.motion(photo_clips.pan((0, 0), 4, size=(64, 80)))
    torch.testing.assert_close(velocity, torch.full_like(velocity, -16.0), atol=1e-3, rtol=0)


def test_without_a_correction_the_velocity_stays_among_the_candidates(photo_clips):
    torch.manual_seed(0)
    model = FlowRefiner(width=8, max_correction=0).eval()
    assert model.out.out_channels == model.n_candidates
    with torch.no_grad():
        model.out.bias[:] = torch.tensor([50.0, -50.0, -50.0, -50.0, -50.0])  # all weight on "still"
        velocity = model.motion(photo_clips.pan((3, 0), 4, size=(64, 80)))
    assert velocity.abs().max().item() < 1e-6  # a runaway output picks a candidate, it cannot leave them


def test_global_context_makes_the_choice_depend_on_the_whole_frame(monkeypatch):
    # Zero optical flows (DIS itself looks at the whole frame): the velocity is then the
    # network's correction alone, and what it depends on is the network's receptive field.
    monkeypatch.setattr(refiner_module, "dis_flows_back",
                        lambda context, n, refine_newest=False: [torch.zeros_like(context[:, :2, 0])] * n)
    torch.manual_seed(0)
    local, wide = FlowRefiner(width=8), FlowRefiner(width=8, global_context=True)
    for model in (local, wide):
        with torch.no_grad():  # weights large enough that the logits respond to the features
            model.out.weight.mul_(50)
    context = torch.rand(1, 3, 4, 64, 256) * 2 - 1
    changed = context.clone()
    changed[..., 192:] = torch.rand(1, 3, 4, 64, 64) * 2 - 1  # only the right quarter changes
    # Far from the change (the left quarter), only the model with the frame-wide mean sees it.
    far = (slice(None), slice(None), slice(None), slice(0, 48))
    assert torch.equal(local.motion(context)[far], local.motion(changed)[far])
    assert not torch.allclose(wide.motion(context)[far], wide.motion(changed)[far])


def test_the_farneback_candidates_are_its_flow_and_are_chosen_when_weighted(photo_clips):
    torch.manual_seed(0)
    model = FlowRefiner(width=8, max_correction=0, farneback=True).eval()
    assert model.n_candidates == 7 and model.out.out_channels == 7
    context = photo_clips.pan((3, 0), 4, size=(64, 80))
    expected = farneback_flow(context[:, :, -1], context[:, :, -2])
    with torch.no_grad():
        model.out.bias[:] = torch.tensor([-50.0] * 5 + [50.0, -50.0])  # all weight on Farneback's flow as it is
        velocity = model.motion(context)
    torch.testing.assert_close(velocity, expected)
    assert expected[:, 0, 16:-16, 16:-16].median().item() == pytest.approx(3, abs=0.5)  # the pan, as Farneback sees it
    fresh = FlowRefiner(width=8, farneback=True)  # as training starts: gradients reach every parameter
    fresh.rollout(context, 2).abs().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in fresh.parameters())


def test_step_scale_sets_how_far_the_motion_persists_after_the_first_frame(photo_clips):
    torch.manual_seed(0)
    model = FlowRefiner(width=8, max_correction=0, step_scale=True).eval()
    assert model.out.out_channels == model.n_candidates + 1
    context = photo_clips.pan((3, 0), 4, size=(64, 80))
    with torch.no_grad():
        model.out.weight.zero_()
        model.out.bias[:] = torch.tensor([-50.0, 50.0, -50.0, -50.0, -50.0, -50.0])  # f1, motion stops
        _, flows, _ = model.rollout_with_motion(context, 3)
        torch.testing.assert_close(flows[:, :, 1], flows[:, :, 0])  # the 2nd and 3rd frames stay at the 1st's place
        torch.testing.assert_close(flows[:, :, 2], flows[:, :, 0])
        model.out.bias[-1] = 50.0  # the motion persists: constant velocity
        _, flows, _ = model.rollout_with_motion(context, 3)
        torch.testing.assert_close(flows[:, :, 2], 3 * flows[:, :, 0])
        model.out.bias[-1] = 0.0  # a = 1/2: the 3rd frame twice as far as the 1st
        _, flows, _ = model.rollout_with_motion(context, 3)
        torch.testing.assert_close(flows[:, :, 2], 2 * flows[:, :, 0])
    fresh = FlowRefiner(width=8, step_scale=True)  # the persistence learns from the 2nd frame's error alone
    fresh.rollout(context, 1).abs().mean().backward()
    assert fresh.out.bias.grad[-1] == 0
    fresh.zero_grad()
    fresh.rollout(context, 2).abs().mean().backward()
    assert fresh.out.bias.grad[-1] != 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in fresh.parameters())


class _FixedVelocity(VelocityPredictor):
    """A velocity field given by hand: what the rollouts do with it, whatever chose it."""

    def __init__(self, velocity: torch.Tensor, rollout: str) -> None:
        super().__init__()
        self.velocity, self.rollout_mode = velocity, rollout

    def motion_and_persistence(self, context):
        return self.velocity, None


def test_a_composed_rollout_follows_a_zoom_exactly_and_a_linear_one_does_not():
    # A steady zoom about c by g per frame: newest(p) = previous(c + (p - c) / g), so the
    # velocity is v(p) = (1/g - 1)(p - c) and frame k samples the newest frame at
    # c + (p - c) / g**k. Composing v does that exactly (bilinear sampling is exact on a
    # linear field); p + k v(p) misses by (1/g - 1)**2 |p - c| at the 2nd frame.
    H, W, g, c = 40, 56, 1.05, (30.0, 17.0)
    ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float32), torch.arange(W, dtype=torch.float32), indexing="ij")
    rel = torch.stack([xs - c[0], ys - c[1]])[None]  # (1, 2, H, W)
    velocity = (1 / g - 1) * rel
    context = torch.zeros(1, 3, 4, H, W)
    inner = (slice(None), slice(None), slice(4, -4), slice(4, -4))  # sources inside the frame
    _, composed, _ = _FixedVelocity(velocity, "composed").rollout_with_motion(context, 3)
    for k in (1, 2, 3):
        torch.testing.assert_close(composed[:, :, k - 1][inner], ((1 / g ** k - 1) * rel)[inner], atol=1e-4, rtol=0)
    _, linear, _ = _FixedVelocity(velocity, "linear").rollout_with_motion(context, 2)
    torch.testing.assert_close(linear[:, :, 1], 2 * velocity)
    miss = (linear[:, :, 1] - composed[:, :, 1])[inner].abs()
    torch.testing.assert_close(miss, ((1 / g - 1) ** 2 * rel)[inner].abs(), atol=1e-4, rtol=0)
    assert miss.max() > 0.05


def test_on_a_uniform_velocity_both_rollouts_agree_and_composed_is_chosen_by_config():
    velocity = torch.tensor([1.5, -0.5]).view(1, 2, 1, 1).expand(1, 2, 24, 32).clone()
    context = torch.zeros(1, 3, 4, 24, 32)
    _, composed, _ = _FixedVelocity(velocity, "composed").rollout_with_motion(context, 3)
    _, linear, _ = _FixedVelocity(velocity, "linear").rollout_with_motion(context, 3)
    inner = (slice(None), slice(None), slice(None), slice(4, -4), slice(4, -4))
    torch.testing.assert_close(composed[inner], linear[inner])
    cfg = config_from_dict({"model": {"generator": {"head": "refiner", "n_scales": 1, "width": 0.25,
                                                    "rollout": "composed"}, "discriminator": {"enabled": False}}})
    validate(cfg)
    assert build_generator(cfg).rollout_mode == "composed"
    assert FlowRefiner(width=8).rollout_mode == "linear"  # checkpoints saved before the key roll out as they did
    with pytest.raises(ConfigError, match="is for the refiner head"):
        validate(config_from_dict({"model": {"generator": {"rollout": "composed"}}}))
    with pytest.raises(ValueError, match="rollout must be one of"):
        FlowRefiner(width=8, rollout="curved")


def test_a_composed_rollout_samples_the_flows_noise_twice_instead_of_doubling_it():
    # A pan of (2, 1) px per frame seen through a noisy flow, noise independent from pixel to
    # pixel: p + 2 v(p) doubles the noise at p (variance 4 s^2), the composed step adds the
    # noise at p and at p + v(p) (about 2 s^2, less where bilinear sampling averages it).
    torch.manual_seed(0)
    s = 0.2
    velocity = torch.tensor([2.0, 1.0]).view(1, 2, 1, 1) + s * torch.randn(1, 2, 64, 64)
    context = torch.zeros(1, 3, 4, 64, 64)
    inner = (slice(None), slice(None), slice(8, -8), slice(8, -8))
    truth = torch.tensor([4.0, 2.0]).view(1, 2, 1, 1)
    _, linear, _ = _FixedVelocity(velocity, "linear").rollout_with_motion(context, 2)
    _, composed, _ = _FixedVelocity(velocity, "composed").rollout_with_motion(context, 2)
    linear_var = ((linear[:, :, 1] - truth)[inner] ** 2).mean().item()
    composed_var = ((composed[:, :, 1] - truth)[inner] ** 2).mean().item()
    assert linear_var == pytest.approx(4 * s ** 2, rel=0.1)
    assert 1.0 * s ** 2 < composed_var < 2.2 * s ** 2


def test_camera_still_keeps_a_zoom_where_it_is_and_follows_a_subject():
    # A zoom's field followed to where the content came from misses the zoom's own velocity
    # by (1/g - 1)^2 |p - c|; kept still it is exact. On top of it, a subject whose motion
    # the camera does not explain is followed as before.
    H, W, c = 48, 64, (30.0, 22.0)
    ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float32), torch.arange(W, dtype=torch.float32), indexing="ij")
    zoom = -0.05 * torch.stack([xs - c[0], ys - c[1]])[None]  # (1, 2, H, W)
    inner = (slice(None), slice(None), slice(6, -6), slice(6, -6))
    plain = FlowRefiner.candidates([zoom])[:, 2]
    still = FlowRefiner.candidates([zoom], camera_still=True)[:, 2]
    torch.testing.assert_close(still[inner], zoom[inner], atol=2e-3, rtol=0)
    assert (plain - zoom)[inner].abs().max() > 0.05  # the followed field is off by up to 0.08 px
    subject = zoom.clone()
    subject[:, 0, 20:30, 10:20] += 3.0  # a patch moving 3 px further right than the zoom takes it
    still = FlowRefiner.candidates([subject], camera_still=True)[:, 2]
    torch.testing.assert_close(still, zoom + warp(subject - zoom, subject), atol=2e-3, rtol=0)
    cfg = config_from_dict({"model": {"generator": {"head": "refiner", "n_scales": 1, "width": 0.25,
                                                    "camera_still": True}, "discriminator": {"enabled": False}}})
    validate(cfg)
    assert build_generator(cfg).camera_still and not FlowRefiner(width=8).camera_still
    with pytest.raises(ConfigError, match="camera_still is for the refiner head"):
        validate(config_from_dict({"model": {"generator": {"camera_still": True}}}))


def test_compiling_reaches_the_modules_a_rollout_runs(monkeypatch):
    from torch import nn
    from vidpred.training.precision import prepare_module

    compiled, called = set(), set()
    monkeypatch.setattr(nn.Module, "compile", lambda self, *a, **k: compiled.add(self))  # record, do not compile
    model = FlowRefiner(n_context=3, n_flows=2, width=4)
    prepare_module(model, compile=True)
    for module in model.modules():
        module.register_forward_pre_hook(lambda m, _: called.add(m))
    model.rollout(torch.rand(1, 3, 3, 32, 32) * 2 - 1, 2)
    assert compiled & called


def _linear_field(a: float, b: float, size=(24, 40)) -> torch.Tensor:
    """(1, 2, H, W) flow whose x component is a * x + b at column x (y component 0): a warp
    samples it exactly, so a field sampled at p + o(p) is a * (x + o_x(p)) + b."""
    H, W = size
    field = torch.zeros(1, 2, H, W)
    field[:, 0] = a * torch.arange(W, dtype=torch.float32) + b
    return field


def test_the_projected_candidate_carries_a_subjects_velocity_to_where_it_lands(photo_clips):
    # A camera panning 1 px a step, and a 4 px wide subject moving 3 px a step (f1 -1 and -3).
    # Followed, the columns the subject is about to cover keep the background's -1; projected,
    # the subject lands in front of the background there (the faster in front), and the
    # columns it leaves, where nothing lands, take the followed candidate's velocity.
    H, W = 6, 24
    f1 = torch.full((1, 2, H, W), -1.0)
    f1[:, 1] = 0.0
    f1[:, 0, :, 8:12] = -3.0  # the subject: columns 8-11, landing on 11-14
    followed, projected = FlowRefiner.candidates([f1], projected=True)[0, 2:]
    assert FlowRefiner.candidates([f1]).shape[1] == 3
    # the background landing on 13 and 14 too weighs e^-8 of the subject (2 px a step slower)
    torch.testing.assert_close(projected[0, :, 11:15], torch.full((H, 4), -3.0), atol=2e-3, rtol=0)
    torch.testing.assert_close(followed[0, :, 13:15], torch.full((H, 2), -1.0))
    for hole in (0, 9, 10):  # the left border and where the subject was
        torch.testing.assert_close(projected[:, :, hole], followed[:, :, hole])
    # everywhere else the background's pan, in the holes too (followed from where their content came)
    torch.testing.assert_close(projected[0, :, [*range(0, 11), *range(15, W)]], torch.full((H, 20), -1.0))
    assert projected[1].eq(0).all()
    model = FlowRefiner(width=8, max_correction=0, projected=True)
    assert model.n_candidates == 6 and model.out.out_channels == 6
    context = photo_clips.pan((3, 0), 4, size=(64, 80))
    model.rollout(context, 2).abs().mean().backward()  # gradients reach every parameter
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    cfg = config_from_dict({"model": {"generator": {"head": "refiner", "n_scales": 1, "width": 0.25,
                                                    "projected": True}, "discriminator": {"enabled": False}}})
    validate(cfg)
    assert build_generator(cfg).n_candidates == 6


def test_candidates_by_hand_on_linear_fields():
    f1, f2, f3, other = _linear_field(0.1, 1.0), _linear_field(0.0, 3.0), _linear_field(0.2, -1.0), _linear_field(
        -0.1, 2.0)
    out = FlowRefiner.candidates([f1, f2, f3], (other,))
    x = torch.arange(40, dtype=torch.float32)
    inner = slice(4, 28)  # where p + flow stays inside the frame
    expected = [0 * x, 0.1 * x + 1, 0.1 * (x + 0.1 * x + 1) + 1,  # still, f1, f1 followed along itself
                (0.1 * x + 1 + 3) / 2, (0.1 * x + 1 + 3 + 0.2 * x - 1) / 3,  # means over the last 2 and 3 steps
                -0.1 * x + 2, -0.1 * (x - 0.1 * x + 2) + 2]  # the other flow, and followed along itself
    assert out.shape == (1, 7, 2, 24, 40)
    for k, want in enumerate(expected):
        torch.testing.assert_close(out[0, k, 0, :, inner], want[inner].expand(24, -1), atol=1e-5, rtol=0)
    assert out[:, :, 1].abs().max() == 0


def test_older_flows_are_sampled_where_the_pixel_was_along_all_later_steps(monkeypatch):
    # Frame t of the context is flat at t / 10, so a stub DIS can tell which step it is asked for.
    steps = {3: _linear_field(0.0, 3.0), 2: _linear_field(0.1, 0.0), 1: _linear_field(0.2, 0.0)}
    monkeypatch.setattr(refiner_module, "dis_flows_back", lambda context, n, refine_newest=False:
                        [steps[round(context[0, 0, -1 - j, 0, 0].item() * 10)] for j in range(n)])
    context = (torch.arange(4, dtype=torch.float32) / 10).view(1, 1, 4, 1, 1).expand(1, 3, 4, 24, 40)
    f1, f2, f3 = context_flows(context, 3)
    x = torch.arange(40, dtype=torch.float32)[4:24]
    # f2 at p + f1 = x + 3; f3 at p + f1 + f2 = x + 3 + 0.1 (x + 3)
    torch.testing.assert_close(f2[0, 0, 0, 4:24], 0.1 * (x + 3), atol=1e-5, rtol=0)
    torch.testing.assert_close(f3[0, 0, 0, 4:24], 0.2 * (x + 3 + 0.1 * (x + 3)), atol=1e-5, rtol=0)


def _network_input(context: torch.Tensor, **settings: int) -> torch.Tensor:
    """What a refiner (``FlowRefiner(width=8, **settings)``) reads in its first convolution predicting from ``context``."""
    model = FlowRefiner(**{"width": 8, **settings}).eval()
    seen = []
    model.enc1.register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0]))
    with torch.no_grad():
        model.motion(context)
    return seen[0]


def test_the_network_sees_where_f1_fails_to_explain_the_last_step(photo_clips):
    # On a pan DIS's f1 is exact, so the fit error the network reads is small away from the border.
    clip = photo_clips.pan((2, 1), 4, size=(64, 64))
    fit_error = _network_input(clip, n_flows=1, scale=1, width=4)[:, -3:, 8:-8, 8:-8]
    assert fit_error.abs().mean() < 0.05 < (clip[:, :, -1] - clip[:, :, -2]).abs().mean()


def test_an_untrained_refiner_starts_at_0_93_on_f1_and_a_persistence_of_0_98(photo_clips):
    # With the output layer's weights at 0 the network outputs its initial biases: a logit
    # of 4 on f1 among 5 candidates (softmax e^4 / (e^4 + 4) = 0.932) and a persistence
    # logit of 4 (sigmoid 0.982).
    model = FlowRefiner(n_flows=3, scale=4, width=8, max_correction=0.0, step_scale=True).eval()
    with torch.no_grad():
        model.out.weight.zero_()
        clip = photo_clips.pan((3, 1), 4, size=(64, 96))
        velocity, persistence = model.motion_and_persistence(clip)
        candidates = FlowRefiner.candidates(context_flows(clip, 3))
    w1 = math.exp(4) / (math.exp(4) + 4)
    weights = torch.tensor([(1 - w1) / 4, w1, (1 - w1) / 4, (1 - w1) / 4, (1 - w1) / 4]).view(1, 5, 1, 1, 1)
    torch.testing.assert_close(velocity, (weights * candidates).sum(dim=1), atol=1e-4, rtol=0)
    torch.testing.assert_close(persistence, torch.full_like(persistence, 1 / (1 + math.exp(-4))))


def test_the_network_halves_the_working_size_at_each_of_its_two_levels(photo_clips):
    # 64x80 frames at scale 4: a working size of 16x20 (a multiple of 4), then 8x10 and 4x5, and back up.
    model = FlowRefiner(width=8).eval()
    sizes = {}
    for name in ("enc1", "enc2", "enc3", "dec2", "dec1"):
        getattr(model, name).register_forward_hook(
            lambda module, inputs, output, name=name: sizes.__setitem__(name, tuple(output.shape[-2:])))
    with torch.no_grad():
        model.motion(photo_clips.pan((0, 0), 4, size=(64, 80)))
    assert sizes == {"enc1": (16, 20), "enc2": (8, 10), "enc3": (4, 5), "dec2": (8, 10), "dec1": (16, 20)}


def test_a_scale_that_is_not_a_power_of_2_is_refused():
    for scale in (0, 3, 6):
        with pytest.raises(ValueError, match="power of 2"):
            FlowRefiner(scale=scale, width=8)


def test_the_network_sees_the_frames_area_averaged_to_the_working_size(photo_clips):
    # 64x80 frames at scale 4: the working size 16x20 is a 4x reduction, each value the mean of a 4x4 block.
    context = photo_clips.pan((2, 0), 4, size=(64, 80))
    seen = _network_input(context)
    for t in range(4):
        torch.testing.assert_close(seen[:, 3 * t:3 * t + 3], torch.nn.functional.avg_pool2d(context[:, :, t], 4))


def test_a_context_too_short_for_the_flows_is_refused_when_the_model_is_built():
    with pytest.raises(ValueError, match="need n_context >= n_flows"):
        FlowRefiner(n_context=3, n_flows=3, width=8)
    assert FlowRefiner(n_context=4, n_flows=3, width=8).n_flows == 3
    with pytest.raises(ValueError, match="skipped_frames reads three steps: it needs n_flows >= 3, got 2"):
        FlowRefiner(n_flows=2, width=8, skipped_frames=True)


def test_the_projected_candidate_takes_the_followed_velocity_where_under_half_a_pixel_lands():
    # A camera panning 1 px a step, and a subject (columns 8-11) moving 1.75 px a step: column 9
    # receives a quarter of pixel 8 (landing at 9.75) and nothing else, a hole; column 10 three
    # quarters of it, enough to carry the subject's velocity.
    H, W = 6, 24
    f1 = torch.full((1, 2, H, W), -1.0)
    f1[:, 1] = 0.0
    f1[:, 0, :, 8:12] = -1.75
    followed, projected = FlowRefiner.candidates([f1], projected=True)[0, 2:]
    torch.testing.assert_close(projected[:, :, 9], followed[:, :, 9])
    assert followed[0, 0, 9].item() == pytest.approx(-1.1875, abs=1e-5)  # f1 at 9 - 1.75: a quarter into the subject
    torch.testing.assert_close(projected[0, :, 10], torch.full((H,), -1.75))


def test_the_correction_bound_is_in_each_axis_own_working_pixels(photo_clips):
    # 72x80 frames at scale 4: a working size of 16x20, so a working pixel is 4.5 frame pixels
    # high and 4 wide, and the bound of 4 working pixels is 18 px in y and 16 px in x.
    model = FlowRefiner(width=8).eval()
    with torch.no_grad():
        model.out.bias[model.n_candidates:] = 1e6
        velocity = model.motion(photo_clips.pan((0, 0), 4, size=(72, 80)))
    torch.testing.assert_close(velocity[:, 0], torch.full_like(velocity[:, 0], 16.0), atol=1e-3, rtol=0)
    torch.testing.assert_close(velocity[:, 1], torch.full_like(velocity[:, 1], 18.0), atol=1e-3, rtol=0)


def test_the_network_reads_flows_in_units_of_4_working_pixels_and_where_f1_fails(photo_clips):
    # 64x80 frames at scale 4: after the 4 frames (12 channels), each flow in working-size
    # pixels (a quarter of the frame's) divided by 4, then f1's fit error, all area-averaged.
    context = photo_clips.pan((6, 2), 4, size=(64, 80))
    seen = _network_input(context)
    flows = context_flows(context, 3)
    pool = torch.nn.functional.avg_pool2d
    for j, flow in enumerate(flows):
        torch.testing.assert_close(seen[:, 12 + 2 * j:14 + 2 * j], pool(flow / 4, 4) / 4)
    fit_error = warp(context[:, :, -2], flows[0]) - context[:, :, -1]
    torch.testing.assert_close(seen[:, 18:21], pool(fit_error, 4))


def test_the_networks_output_reaches_the_frame_from_its_pixel_centres(photo_clips):
    # A correction rising along x at the working size (16x20), small enough that tanh is
    # linear: spread over 64x80 frames from each working pixel's centre, each 4x4 block of the
    # frame averages back to its working pixel's value, 4 working px = 16 frame px per unit.
    model = FlowRefiner(width=8).eval()
    K = model.n_candidates
    output = torch.zeros(1, K + 2, 16, 20)
    output[:, K] = 0.001 * torch.arange(20.0)
    model.out.register_forward_hook(lambda module, inputs, out: output)
    with torch.no_grad():
        velocity = model.motion(photo_clips.pan((0, 0), 4, size=(64, 80)))  # a still clip: every candidate 0
    blocks = torch.nn.functional.avg_pool2d(velocity[:, :1], 4)[0, 0]
    torch.testing.assert_close(blocks[:, 1:-1], 16 * torch.tanh(output[0, K, :, 1:-1]), atol=1e-6, rtol=0)
    assert velocity[:, 1].abs().max() == 0


def test_global_context_appends_the_frame_wide_mean_of_the_coarsest_features(photo_clips):
    torch.manual_seed(0)
    model = FlowRefiner(width=8, global_context=True).eval()
    got = {}
    model.enc3.register_forward_hook(lambda module, inputs, output: got.__setitem__("e3", output))
    model.dec2.register_forward_pre_hook(lambda module, inputs: got.__setitem__("seen", inputs[0]))
    with torch.no_grad():
        model.motion(photo_clips.pan((2, 1), 4, size=(64, 80)))
    mean = got["e3"].mean(dim=(2, 3), keepdim=True)  # (1, 32, 1, 1), after the 32 feature maps themselves
    torch.testing.assert_close(got["seen"][:, 32:64], mean.expand(-1, -1, 8, 10))


def test_tiny_frames_run_the_network_at_its_smallest_working_size_of_4_px(photo_clips):
    model = FlowRefiner(width=8).eval()
    sizes = {}
    model.enc1.register_forward_hook(lambda module, inputs, output: sizes.__setitem__("enc1", tuple(output.shape[-2:])))
    with torch.no_grad():
        velocity = model.motion(photo_clips.pan((1, 0), 4, size=(16, 20)))
    assert sizes["enc1"] == (4, 4) and velocity.shape == (1, 2, 16, 20)


def test_a_refiner_reading_cuts_copies_a_newest_frame_that_starts_a_scene(photo_clips):
    torch.manual_seed(0)
    reading, not_reading = FlowRefiner(width=8, scene_cuts=True).eval(), FlowRefiner(width=8).eval()
    not_reading.load_state_dict(reading.state_dict())
    clip = photo_clips.cut_to("coffee", photo_clips.pan((3, 0), 4), 1)
    with torch.no_grad():
        frames = reading.rollout(clip, 2)
        torch.testing.assert_close(frames, clip[:, :, -1:].expand_as(frames), rtol=0, atol=1e-5)  # (grid_sample's rounding)
        assert not torch.equal(not_reading.rollout(clip, 2), frames)


def test_a_refiner_reading_cuts_predicts_a_new_scene_without_the_frames_before_it(photo_clips):
    torch.manual_seed(0)
    model = FlowRefiner(width=8, scene_cuts=True).eval()
    after_astronaut = photo_clips.cut_to("coffee", photo_clips.pan((3, 0), 4), 2)
    after_chelsea = after_astronaut.clone()
    after_chelsea[:, :, :2] = photo_clips.cut_to("chelsea", after_astronaut, 4)[:, :, :2]
    with torch.no_grad():
        torch.testing.assert_close(model.rollout(after_astronaut, 2), model.rollout(after_chelsea, 2), rtol=0, atol=0)
        # and where no cut is found, reading them changes nothing
        plain = FlowRefiner(width=8).eval()
        plain.load_state_dict(model.state_dict())
        clip = photo_clips.pan((3, 0), 4)
        assert torch.equal(model.rollout(clip, 2), plain.rollout(clip, 2))


def test_the_cut_scores_read_from_the_refiner_s_own_working_size_frames_are_the_scores(photo_clips):
    clip = photo_clips.cut_to("coffee", photo_clips.pan((3, 0), 4), 2)
    steps = refiner_module.dis_flows_back(clip, 3)
    size = frames.working_size(*clip.shape[-2:], 4)
    greys = [frames.shrunk(clip[:, :, t], size).mean(dim=1, keepdim=True) for t in range(4)]
    scores = scene_steps.unexplained_change(clip, steps)
    torch.testing.assert_close(scene_steps.unexplained_change(clip, steps, greys), scores, rtol=0, atol=1e-5)
    assert scores[0, 1] > 0.5 > 0.1 > scores[0, 0]  # the cut, and a step within a scene


def test_a_refiner_telling_pans_from_cuts_does_not_copy_a_pan_its_flow_missed(monkeypatch, photo_clips):
    missed = lambda context, n, refine_newest=False: [torch.zeros(context.shape[0], 2, *context.shape[-2:])] * n
    monkeypatch.setattr(refiner_module, "dis_flows_back", missed)
    torch.manual_seed(0)
    cuts = FlowRefiner(width=8, scene_cuts=True).eval()
    pans = FlowRefiner(width=8, scene_cuts=True, pans_not_cuts=True).eval()
    pans.load_state_dict(cuts.state_dict())
    clip = photo_clips.pan((12, -8), 4)
    with torch.no_grad():
        copied = cuts.rollout(clip, 2)
        torch.testing.assert_close(copied, clip[:, :, -1:].expand_as(copied), rtol=0, atol=1e-5)
        assert (pans.rollout(clip, 2) - copied).abs().max() > 0.01
        cut = photo_clips.cut_to("coffee", clip, 1)  # a cut stays one
        torch.testing.assert_close(pans.rollout(cut, 2), cut[:, :, -1:].expand_as(copied), rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="pans_not_cuts .* needs scene_cuts"):
        FlowRefiner(width=8, pans_not_cuts=True)
    with pytest.raises(ConfigError, match="pans_not_cuts .* needs model.generator.scene_cuts"):
        validate(config_from_dict({"model": {"generator": {"head": "refiner", "n_scales": 1, "pans_not_cuts": True},
                                             "discriminator": {"enabled": False}}}))


def test_a_refiner_reading_repeated_frames_moves_on_after_one_and_stops_in_a_hold(photo_clips):
    pan = photo_clips.pan((3, 0), 6)
    reading = _zero_output(FlowRefiner(width=8, repeated_frames=True)).eval()
    plain = _zero_output(FlowRefiner(width=8)).eval()

    def error(frames: torch.Tensor, *truth: int) -> float:  # mean absolute error away from the borders
        return float((frames - pan[:, :, list(truth)])[..., 16:-16, 16:-16].abs().mean())

    with torch.no_grad():
        after_repeat = photo_clips.repeated(pan, 0, 1, 2, 2)
        # the motion goes on from frame 2 (to frames 3 and 4 of the pan); not reading repeats, it stops there
        moved_on, stopped = reading.rollout(after_repeat, 2), plain.rollout(after_repeat, 2)
        assert error(moved_on, 3, 4) < 0.02 < 0.1 < error(stopped, 3, 4)
        assert error(stopped, 2, 2) < 1e-3
        hold = photo_clips.repeated(pan, 0, 1, 1, 1)
        assert error(reading.rollout(hold, 2), 1, 1) < 1e-3
        clip = photo_clips.repeated(pan, 0, 1, 2, 3)  # nothing repeated: the same to the bit
        assert torch.equal(reading.rollout(clip, 2), plain.rollout(clip, 2))


def test_a_refiner_reading_fades_carries_one_on_and_leaves_other_clips_to_the_bit(photo_clips):
    pan = photo_clips.pan((3, 0), 6)
    faded = photo_clips.faded(pan, 1.0, 0.95, 0.9, 0.85, 0.8, 0.75)
    reading = _zero_output(FlowRefiner(width=8, fades=True)).eval()
    plain = _zero_output(FlowRefiner(width=8)).eval()

    def error(frames: torch.Tensor) -> float:  # against frames 4 and 5, away from the borders
        return float((frames - faded[:, :, 4:])[..., 16:-16, 16:-16].abs().mean())

    with torch.no_grad():
        carried, kept = reading.rollout(faded[:, :, :4], 2), plain.rollout(faded[:, :, :4], 2)
        # kept at the newest frame's brightness, the prediction is 0.05 and 0.10 of the levels too bright
        assert error(carried) < 0.01 < 0.02 < error(kept)
        velocity, _, fade = reading.motion_persistence_and_fade(faded[:, :, :4])
        assert fade.rate.item() == pytest.approx(1 - 0.9 / 0.85, abs=0.003) and not fade.white.any()  # the newest step, -0.05 of 0.85: -5.9% a frame
        assert velocity[..., 16:-16, 16:-16].mean(dim=(2, 3))[0].tolist() == pytest.approx([3.0, 0.0], abs=0.05)
        clip = pan[:, :, :4]  # no fade: the same to the bit, and no rate
        assert torch.equal(reading.rollout(clip, 2), plain.rollout(clip, 2))
        assert reading.motion_persistence_and_fade(clip)[2].rate.eq(0).all() and plain.motion_persistence_and_fade(clip)[2] is None


def test_a_refiner_reading_white_fades_carries_one_on_and_leaves_other_clips_to_the_bit(photo_clips):
    pan = photo_clips.pan((3, 0), 6)
    whitened = photo_clips.whitened(pan, 1.0, 0.95, 0.9, 0.85, 0.8, 0.75)
    white = _zero_output(FlowRefiner(width=8, fades=True, white_fades=True)).eval()
    black = _zero_output(FlowRefiner(width=8, fades=True)).eval()

    def error(frames: torch.Tensor, clip: torch.Tensor) -> float:  # against frames 4 and 5, away from the borders
        return float((frames - clip[:, :, 4:])[..., 16:-16, 16:-16].abs().mean())

    with torch.no_grad():
        read, as_black = white.rollout(whitened[:, :, :4], 2), black.rollout(whitened[:, :, :4], 2)
        assert error(read, whitened) < 0.01 and 2 * error(read, whitened) < error(as_black, whitened)
        fade = white.motion_persistence_and_fade(whitened[:, :, :4])[2]
        assert fade.white.tolist() == [True] and fade.rate.item() == pytest.approx(1 - 0.9 / 0.85, abs=0.003)
        for clip in (photo_clips.faded(pan[:, :, :4], 1.0, 0.95, 0.9, 0.85), pan[:, :, :4]):  # a fade to black, none: to the bit
            assert torch.equal(white.rollout(clip, 2), black.rollout(clip, 2))
    with pytest.raises(ValueError, match="white_fades .* needs fades"):
        FlowRefiner(width=8, white_fades=True)


def test_a_refiner_reading_dissolves_carries_one_on_and_leaves_other_clips_to_the_bit(photo_clips):
    clip = photo_clips.dissolved(photo_clips.pan((1, 0), 6), 0.05)
    reading = _zero_output(FlowRefiner(width=8, fades=True, dissolves=True)).eval()
    plain = _zero_output(FlowRefiner(width=8, fades=True)).eval()

    def error(frames: torch.Tensor) -> float:  # against frames 4 and 5, away from the borders
        return float((frames - clip[:, :, 4:])[..., 16:-16, 16:-16].abs().mean())

    with torch.no_grad():
        carried, kept = reading.rollout(clip[:, :, :4], 2), plain.rollout(clip[:, :, :4], 2)
        assert 2 * error(carried) < error(kept)
        assert reading.motion_persistence_and_fade(clip[:, :, :4])[2].dissolve is not None
        for other in (photo_clips.pan((3, 0), 4), photo_clips.faded(photo_clips.pan((3, 0), 4), 1.0, 0.95, 0.9, 0.85)):  # no dissolve, a fade
            assert torch.equal(reading.rollout(other, 2), plain.rollout(other, 2))
            assert reading.motion_persistence_and_fade(other)[2].dissolve is None
    with pytest.raises(ValueError, match="dissolves .* needs fades and n_flows >= 3"):
        FlowRefiner(width=8, dissolves=True)
    with pytest.raises(ValueError, match="dissolves .* needs fades and n_flows >= 3"):
        FlowRefiner(width=8, fades=True, n_flows=2, dissolves=True)


def test_a_refiner_reading_skipped_frames_moves_a_frame_s_step_after_one(photo_clips):
    pan = photo_clips.pan((3, 0), 9)
    reading = _zero_output(FlowRefiner(width=8, skipped_frames=True)).eval()
    plain = _zero_output(FlowRefiner(width=8)).eval()

    def error(frames: torch.Tensor, *truth: int) -> float:  # mean absolute error away from the borders
        return float((frames - pan[:, :, list(truth)])[..., 24:-24, 24:-24].abs().mean())

    with torch.no_grad():
        skipped = photo_clips.repeated(pan, 0, 1, 2, 4)
        # the next frames are 5 and 6; carrying the double step on predicts 6 and 8
        assert error(reading.rollout(skipped, 2), 5, 6) < 0.02 < 0.1 < error(plain.rollout(skipped, 2), 5, 6)
        assert error(plain.rollout(skipped, 2), 6, 8) < 0.02
        clip = photo_clips.repeated(pan, 0, 1, 2, 3)  # nothing skipped: the same to the bit
        assert torch.equal(reading.rollout(clip, 2), plain.rollout(clip, 2))


def test_the_pixels_whose_content_entered_the_frame_are_those_whose_flow_leaves_it():
    flow = torch.zeros(1, 2, 4, 8)
    flow[:, 0] = 3.0  # newest(p) = previous(p + 3): columns 5-7 came from beyond the right edge
    flow[:, 1, :2] = -1.5  # and rows 0-1 from above the top
    inside = ~refiner_module.entered(flow)[0, 0]
    assert inside.shape == (4, 8)
    assert inside[:, :5].tolist() == [[False] * 5, [False] * 5, [True] * 5, [True] * 5]
    assert not inside[:, 5:].any()
    assert not refiner_module.entered(torch.zeros(2, 2, 3, 3)).any()  # a still frame: nothing entered


def test_followed_within_keeps_a_pixel_s_own_field_where_it_would_land_on_a_guess():
    # A pan of 3 px: columns 9-11 of a 12-wide frame entered over the step, and their flow is
    # the estimator's guess (here 9.0). Followed along the pan, columns 6-8 land on it.
    flow = torch.zeros(1, 2, 2, 12)
    flow[:, 0] = 3.0
    field = flow.clone()
    field[:, 0, :, 9:] = 9.0
    plain = warp(field, flow)[0, 0, 0]
    within = refiner_module.followed_within(field, flow)[0, 0, 0]
    assert plain.tolist() == [3.0] * 6 + [9.0] * 6  # columns 6-8 take up the guess
    assert within.tolist() == [3.0] * 9 + [9.0] * 3  # they keep their own; 9-11 land outside: the border
    # landing between a guessed pixel and its neighbour counts as landing on it
    flow[:, 0, :, 5] = 3.5  # column 5 lands at 8.5, between 8 and the guessed 9
    assert refiner_module.followed_within(field, flow)[0, 0, 0, 5] == 3.0  # its own
    assert warp(field, flow)[0, 0, 0, 5] == pytest.approx(6.0)  # halfway to the guess


@pytest.mark.parametrize("camera_still", [False, True])
def test_followed_inside_the_followed_candidate_of_a_pan_is_the_pan_up_to_its_entering_strip(camera_still):
    H, W, step = 24, 40, 6
    f1 = torch.zeros(1, 2, H, W)
    f1[:, 0] = step
    f1[:, 0, :, W - step:] = step + torch.linspace(2.0, 4.0, step)  # DIS's guess where the scene came in
    plain = FlowRefiner.candidates([f1], camera_still=camera_still)[0, 2, 0]
    inside = FlowRefiner.candidates([f1], camera_still=camera_still, followed_inside=True)[0, 2, 0]
    strip = slice(W - 2 * step, W - step)  # the pixels that land on the guess
    assert (plain[4:-4, strip] - step).abs().min() > 1.5  # they took it up
    torch.testing.assert_close(inside[:, : W - step], f1[0, 0, :, : W - step], atol=1e-3, rtol=0)
    torch.testing.assert_close(inside[:, : W - 2 * step], plain[:, : W - 2 * step])  # elsewhere as before
    out = FlowRefiner.candidates([f1], camera_still=camera_still, followed_inside=True)
    torch.testing.assert_close(out[:, [0, 1]], FlowRefiner.candidates([f1], camera_still=camera_still)[:, [0, 1]])


def test_a_refiner_following_inside_predicts_a_fast_pan_s_edge_better_and_the_rest_the_same(photo_clips):
    clip = photo_clips.pan((12, 0), 6, size=(96, 160))
    context, truth = clip[:, :, :4], clip[:, :, 4]
    scores = {}
    for inside in (False, True):
        model = _zero_output(FlowRefiner(width=8, camera_still=True, followed_inside=inside)).eval()
        with torch.no_grad():
            model.out.bias[1], model.out.bias[2] = 0.0, 10.0  # every pixel takes the followed candidate
            scores[inside] = (model.rollout(context, 1)[:, :, 0] - truth).square().mean(dim=(0, 1))
    inner = (slice(4, -4), slice(0, 160 - 36))  # away from the edge the scene comes in from (and DIS's top and bottom rows)
    torch.testing.assert_close(scores[True][inner], scores[False][inner], atol=1e-6, rtol=0)
    second = (slice(4, -4), slice(160 - 24, 160 - 12))  # the strip that lands on the guess: ten times closer
    assert scores[True][second].mean() < 0.2 * scores[False][second].mean()
    assert scores[True].mean() < scores[False].mean()
    cfg = config_from_dict({"model": {"generator": {"head": "refiner", "n_scales": 1, "width": 0.25,
                                                    "followed_inside": True}, "discriminator": {"enabled": False}}})
    validate(cfg)
    assert build_generator(cfg).followed_inside and not FlowRefiner(width=8).followed_inside
    with pytest.raises(ConfigError, match="followed_inside is for the refiner head"):
        validate(config_from_dict({"model": {"generator": {"followed_inside": True}}}))


def test_a_refiner_reading_pan_flows_follows_a_pan_its_flow_missed(photo_clips):
    clip = photo_clips.pan((32, 8), 5, size=(144, 176))  # a fifth of the frame a step: beyond DIS's pyramid here
    context, truth = clip[:, :, :4], clip[:, :, 4]
    assert scene_steps.scene_cut_steps(context, refiner_module.dis_flows_back(context, 3))[0, 0]
    scores = {}
    for kind in ("cuts", "pans", "pan flows"):
        torch.manual_seed(0)
        model = _zero_output(FlowRefiner(width=8, scene_cuts=True, pans_not_cuts=kind != "cuts",
                                         pan_flows=kind == "pan flows")).eval()
        with torch.no_grad():
            scores[kind] = float(psnr(model.rollout(context, 1)[:, :, 0], truth))
    # copying, then the flow that missed, then the pan's own flow (all but the strip that came in)
    assert scores["pan flows"] > scores["pans"] + 3 and scores["pans"] > scores["cuts"]
    with pytest.raises(ValueError, match="pan_flows .* needs pans_not_cuts"):
        FlowRefiner(width=8, scene_cuts=True, pan_flows=True)


def test_a_refiner_restarting_pans_predicts_a_pan_dis_missed_in_part_better(photo_clips):
    clip = photo_clips.pan((-20, -20), 5, size=(144, 176))  # the newest step under the cut line, DIS's flow of it off
    context, truth = clip[:, :, :4], clip[:, :, 4]
    scores = {}
    for restarts in (False, True):
        torch.manual_seed(0)
        model = _zero_output(FlowRefiner(width=8, refine_flows=True, pan_restarts=restarts)).eval()
        with torch.no_grad():
            scores[restarts] = float(psnr(model.rollout(context, 1)[:, :, 0], truth))
    assert scores[True] > scores[False] + 2
    cfg = config_from_dict({"model": {"generator": {"head": "refiner", "n_scales": 1, "pan_restarts": True},
                                      "discriminator": {"enabled": False}}})
    validate(cfg)
    assert build_generator(cfg).pan_restarts and not FlowRefiner(width=8).pan_restarts
    with pytest.raises(ConfigError, match="pan_restarts is for the refiner head"):
        validate(config_from_dict({"model": {"generator": {"pan_restarts": True}}}))


def test_still_with_camera_makes_the_still_candidate_the_camera_s_motion_where_it_moves_16_px_or_more():
    H = W = 161
    gy, gx = torch.meshgrid(torch.arange(H, dtype=torch.float32), torch.arange(W, dtype=torch.float32), indexing="ij")
    zoom = 0.25 * torch.stack([gx - 80, gy - 80]).unsqueeze(0)  # a camera zooming about the centre: 0.25 r px
    radius = zoom.norm(dim=1, keepdim=True) / 0.25
    f2 = torch.full_like(zoom, 0.5)
    plain = FlowRefiner.candidates([zoom, f2])
    still = FlowRefiner.candidates([zoom, f2], still_with_camera=True)
    assert plain[:, 0].abs().max() == 0
    clear = ((radius - 64).abs() > 1).expand_as(zoom)  # away from the 16-px circle
    torch.testing.assert_close(still[:, 0][clear], torch.where(radius >= 64, zoom, 0 * zoom)[clear], atol=1e-3, rtol=0)
    torch.testing.assert_close(still[:, 1:], plain[:, 1:])  # every other candidate as it was
    subject = torch.zeros(1, 2, H, W)
    subject[:, 0, 40:100, 40:100] = 30.0  # a still camera, a fast subject: the camera's motion is none
    assert FlowRefiner.candidates([subject, f2], still_with_camera=True)[:, 0].abs().max() < 1e-3


def test_a_refiner_with_still_with_camera_moves_a_fast_pan_its_full_step(photo_clips):
    clip = photo_clips.pan((20, 0), 5, size=(144, 176))
    context, truth = clip[:, :, :4], clip[:, :, 4]
    velocities, scores = {}, {}
    for with_camera in (False, True):
        model = FlowRefiner(width=8, max_correction=0, still_with_camera=with_camera).eval()
        with torch.no_grad():
            model.out.weight.zero_()
            model.out.bias[:] = torch.tensor([0.0, math.log(9) / 8, -50.0, -50.0, -50.0])  # 10% still, 90% f1
            velocities[with_camera] = model.motion(context)
            scores[with_camera] = float(psnr(model.rollout(context, 1)[:, :, 0], truth))
    f1 = context_flows(context, 1)[0]
    camera = camera_flow(f1)
    assert (camera - torch.tensor([20.0, 0.0]).view(1, 2, 1, 1)).abs().max() < 0.5  # the pan, within half a pixel
    # off: the still candidate's tenth of the weight takes a tenth off each step; on, the camera's step
    torch.testing.assert_close(velocities[False], 0.9 * f1, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(velocities[True], 0.9 * f1 + 0.1 * camera, atol=1e-4, rtol=1e-4)
    assert scores[True] > scores[False] + 2
    cfg = config_from_dict({"model": {"generator": {"head": "refiner", "n_scales": 1, "still_with_camera": True},
                                      "discriminator": {"enabled": False}}})
    validate(cfg)
    assert build_generator(cfg).still_with_camera and not FlowRefiner(width=8).still_with_camera
    with pytest.raises(ConfigError, match="still_with_camera is for the refiner head"):
        validate(config_from_dict({"model": {"generator": {"still_with_camera": True}}}))

"""The last-input, flow-extrapolation (Farneback and DIS) and blend baselines."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import torch

from vidpred.data import to_model_input
from vidpred.evaluation import Blend, backward_flow, fit_blend_weight, flow_extrapolation, last_input, warp
from vidpred.metrics import psnr

INNER = (..., slice(12, -12), slice(12, -12))  # away from the border the warp replicates


def _pan(offsets, top: int = 200, left: int = 150, height: int = 96, width: int = 128) -> torch.Tensor:
    """A window of the astronaut photo at horizontal ``offsets``, one per frame: ``(1, 3, T, H, W)``."""
    photo = skimage.data.astronaut()  # (512, 512, 3) uint8
    frames = np.stack([photo[top:top + height, left + o:left + o + width] for o in offsets])
    return to_model_input(torch.from_numpy(frames).unsqueeze(0))


def test_last_input_repeats_the_last_context_frame():
    context = torch.rand(2, 3, 4, 8, 8) * 2 - 1
    out = last_input(context, 3)
    assert out.shape == (2, 3, 3, 8, 8)
    for k in range(3):
        torch.testing.assert_close(out[:, :, k], context[:, :, -1])


def test_flow_baseline_beats_last_input_on_pure_translation(translating_clip):
    x = to_model_input(torch.from_numpy(translating_clip(n_frames=6, speed=2)).unsqueeze(0))
    context, target = x[:, :, :4], x[:, :, 4:]
    flow = backward_flow(context)
    by_flow, by_copy = flow_extrapolation(context, 2, flow), last_input(context, 2)
    assert by_flow.shape == target.shape
    inner = (..., slice(8, -8), slice(8, -8))
    for k in range(2):
        flow_psnr = psnr(by_flow[:, :, k][inner], target[:, :, k][inner]).item()
        copy_psnr = psnr(by_copy[:, :, k][inner], target[:, :, k][inner]).item()
        assert flow_psnr > copy_psnr + 10, (k, flow_psnr, copy_psnr)
    # Frame k uses k times the flow of the last step, computed when not given.
    torch.testing.assert_close(flow_extrapolation(context, 2), by_flow)
    torch.testing.assert_close(by_flow[:, :, 1], warp(context[:, :, -1], 2 * flow))


def test_dis_extrapolation_recovers_an_integer_pan_of_a_photo():
    x = _pan([3 * t for t in range(6)])  # the view moves 3 px right per frame
    context, target = x[:, :, :4], x[:, :, 4:]
    by_dis = flow_extrapolation(context, 2, method="dis")
    torch.testing.assert_close(by_dis, flow_extrapolation(context, 2, backward_flow(context, "dis")))
    for k in range(2):
        error = (by_dis[:, :, k][INNER] - target[:, :, k][INNER]).abs()
        assert psnr(by_dis[:, :, k][INNER], target[:, :, k][INNER]).item() > 40, k
        assert error.median().item() < 1 / 127.5, k  # under one grey level at most pixels
        copy_psnr = psnr(context[:, :, -1][INNER], target[:, :, k][INNER]).item()
        assert psnr(by_dis[:, :, k][INNER], target[:, :, k][INNER]).item() > copy_psnr + 15


def test_blend_mixes_last_input_and_extrapolation_with_its_weight():
    x = _pan([0, 2, 4, 6])
    flow = backward_flow(x, "dis")
    mixed = Blend(0.3, "dis")(x, 2, flow)
    expected = 0.3 * last_input(x, 2) + 0.7 * flow_extrapolation(x, 2, flow)
    torch.testing.assert_close(mixed, expected)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Blend(1.5, "dis")


def _clips(offsets_of):
    """Six clips of 5 frames from different windows: contexts (first 4) and 5th frames."""
    clips = [_pan([start + o for o in offsets_of]) for start in range(0, 60, 10)]
    return [c[:, :, :4] for c in clips], [c[:, :, 4] for c in clips]


def test_fitted_blend_weight_picks_the_flow_on_a_steady_pan():
    fit = fit_blend_weight(*_clips([0, 2, 4, 6, 8]))
    assert fit.blend.weight == 0.0
    assert fit.mse == min(fit.mse_by_flow.values()) < fit.mse_last_input / 20
    assert fit.n_clips == 6


def test_fitted_blend_weight_picks_the_copy_on_a_back_and_forth_shake():
    # +2, -2, +2, -2 px: the last step's motion reverses, extrapolating it doubles the error.
    fit = fit_blend_weight(*_clips([0, 2, 0, 2, 0]))
    assert fit.blend.weight >= 0.8
    assert fit.mse <= fit.mse_last_input < min(fit.mse_by_flow.values()) / 1.5


def test_n_future_must_be_positive():
    with pytest.raises(ValueError, match="n_future must be >= 1, got 0"):
        last_input(torch.zeros(1, 3, 4, 8, 8), 0)


def test_blend_terms_are_summed_on_the_clips_device(monkeypatch):
    # Meta tensors stand in for a GPU's: a total kept on the CPU stays there (on CUDA it
    # raises). The flow (OpenCV) and the warp (autocast knows no meta device) are stubbed.
    from vidpred.evaluation import baselines
    from vidpred.evaluation.flow import FLOW_METHODS

    monkeypatch.setattr(baselines, "flow_extrapolation", lambda context, n, flow, method: context[:, :, -1:] / 2)
    meta = torch.device("meta")
    contexts = [torch.zeros(1, 3, 4, 8, 8, device=meta)] * 2
    targets = [torch.zeros(1, 3, 8, 8, device=meta)] * 2
    flows = [{method: torch.zeros(1, 2, 8, 8, device=meta) for method in FLOW_METHODS}] * 2
    terms = baselines._blend_terms(contexts, targets, flows)
    assert set(terms) == set(FLOW_METHODS)
    assert {t.device for t in terms.values()} == {meta}


def _known_mixture(mix):
    """Two smooth clips, their flows given, and targets ``mix * last + (1 - mix) * E`` with ``E`` the
    farneback extrapolation; also ``mean((last - E)^2)`` over the clips."""
    from vidpred.models.warp import warp

    generator = torch.Generator().manual_seed(0)
    contexts, targets, flows = [], [], []
    for _ in range(2):
        coarse = torch.rand(1, 3 * 4, 4, 4, generator=generator) * 2 - 1
        # smooth content: a longer shift is further off than a short one
        context = torch.nn.functional.interpolate(coarse, size=(16, 16), mode="bilinear").view(1, 3, 4, 16, 16)
        shift = torch.zeros(1, 2, 16, 16)
        shift[:, 0] = 1.0
        extrapolated = warp(context[:, :, -1], shift)
        contexts.append(context)
        targets.append(mix * context[:, :, -1] + (1 - mix) * extrapolated)
        flows.append({"farneback": shift, "dis": -4 * shift})  # DIS further off
    dd = np.mean([((c[:, :, -1] - warp(c[:, :, -1], f["farneback"])).double() ** 2).mean().item()
                  for c, f in zip(contexts, flows)])
    return contexts, targets, flows, dd


@pytest.mark.parametrize("mix", [0.3, 1.0])
def test_fitted_blend_weight_recovers_a_known_mixture(mix):
    # With the flows given, the farneback extrapolation E is known; a target mix * last +
    # (1 - mix) * E has MSE (w - mix)^2 mean((last - E)^2), zero at w = mix (grid points).
    contexts, targets, flows, dd = _known_mixture(mix)
    fit = fit_blend_weight(contexts, targets, flows=flows)
    assert fit.blend.flow_method == "farneback"
    assert fit.blend.weight == pytest.approx(mix)
    assert fit.mse == pytest.approx(0.0, abs=1e-12)
    assert fit.mse_last_input == pytest.approx((1 - mix) ** 2 * dd)
    assert fit.mse_by_flow["farneback"] == pytest.approx(mix**2 * dd)


def test_a_target_beyond_the_last_input_gets_the_last_input_not_a_weight_past_1():
    # mix 1.2: MSE (w - 1.2)^2 mean((last - E)^2), least on the grid 0..1 at w = 1.
    contexts, targets, flows, dd = _known_mixture(1.2)
    fit = fit_blend_weight(contexts, targets, flows=flows)
    assert fit.blend.weight == 1.0
    assert fit.mse == pytest.approx(0.2**2 * dd) and fit.mse == pytest.approx(fit.mse_last_input)


def test_a_blend_fit_needs_one_target_per_context_and_a_grid_that_ends_at_1():
    contexts, targets = [torch.zeros(1, 3, 4, 8, 8)] * 2, [torch.zeros(1, 3, 8, 8)] * 2
    with pytest.raises(ValueError, match="got 0 and 0"):
        fit_blend_weight([], [])
    with pytest.raises(ValueError, match="got 2 and 1"):  # not fitted on the first clip alone
        fit_blend_weight(contexts, targets[:1])
    for step in (0.3, 0.4, 2.0):  # 0, 0.3, 0.6, 0.9 never reaches the last input (weight 1)
        with pytest.raises(ValueError, match=f"the grid step must divide 1, got {step}"):
            fit_blend_weight(contexts, targets, step=step)


def test_one_future_frame_is_the_last_input():
    context = torch.rand(2, 3, 4, 8, 8) * 2 - 1
    out = last_input(context, 1)
    assert out.shape == (2, 3, 1, 8, 8)
    torch.testing.assert_close(out[:, :, 0], context[:, :, -1])


def test_a_blend_fit_reads_each_clips_own_flows():
    # A steady pan and a shake: with their flows given, the fit is the one that computes them.
    from vidpred.evaluation.flow import FLOW_METHODS

    clips = [_pan([0, 2, 4, 6, 8]), _pan([0, 3, 0, 3, 0])]
    contexts, targets = [c[:, :, :4] for c in clips], [c[:, :, 4] for c in clips]
    flows = [{method: backward_flow(c, method) for method in FLOW_METHODS} for c in contexts]
    given, computed = fit_blend_weight(contexts, targets, flows=flows), fit_blend_weight(contexts, targets)
    assert given.blend == computed.blend
    assert given.mse == pytest.approx(computed.mse) and given.mse_by_flow == pytest.approx(computed.mse_by_flow)


def test_a_grid_step_only_close_to_a_divisor_of_1_is_refused():
    contexts, targets = [torch.zeros(1, 3, 4, 8, 8)], [torch.zeros(1, 3, 8, 8)]
    with pytest.raises(ValueError, match="the grid step must divide 1, got 0.333"):
        fit_blend_weight(contexts, targets, step=0.333)  # 3 steps of it end at 0.999

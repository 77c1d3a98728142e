"""The generator's residual and flow heads (the paper's pixel head: test_generator.py)."""

from __future__ import annotations

import math

import pytest
import torch

from vidpred.models import MultiScaleGenerator
from vidpred.models.warp import warp

SMALL = 1 / 16


def _context(batch: int = 2, height: int = 32, width: int = 32, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, 4, height, width, generator=generator) * 2 - 1


def _zero_outputs(model: MultiScaleGenerator) -> None:
    with torch.no_grad():
        for net in model.scales:
            net[-1].weight.zero_()
            net[-1].bias.zero_()


@pytest.mark.parametrize("head", ["residual", "flow"])
def test_heads_predict_every_scale_in_range(head):
    model = MultiScaleGenerator(width=SMALL, head=head)
    outputs = model(_context())
    assert [tuple(y.shape) for y in outputs] == [(2, 3, 4, 4), (2, 3, 8, 8), (2, 3, 16, 16), (2, 3, 32, 32)]
    for y in outputs:
        assert y.dtype == torch.float32 and torch.isfinite(y).all() and y.abs().max() <= 1


def test_flow_head_channels():
    model = MultiScaleGenerator(width=SMALL, head="flow")
    # Finer scales also see the upsampled flow (2 channels); every scale outputs flow, mask, RGB.
    assert [scale[0].in_channels for scale in model.scales] == [12, 17, 17, 17]
    assert [scale[-1].out_channels for scale in model.scales] == [6, 6, 6, 6]


def test_residual_head_at_zero_output_equals_the_last_input():
    model = MultiScaleGenerator(width=SMALL, head="residual")
    _zero_outputs(model)
    context = _context()
    outputs = model(context)
    assert torch.equal(outputs[-1], context[:, :, -1])
    # Every coarser scale returns the last input at its size (the block mean).
    torch.testing.assert_close(outputs[0], torch.nn.functional.avg_pool2d(context[:, :, -1], 8))


def test_flow_head_with_zero_flow_and_an_all_warp_mask_returns_the_input():
    model = MultiScaleGenerator(width=SMALL, head="flow")
    _zero_outputs(model)
    with torch.no_grad():
        model.scales[0][-1].bias[2] = 40.0  # mask logit: sigmoid(40) = 1 in float32
    context = _context()
    frame, flow, mask = model.predict_with_motion(context)
    assert torch.equal(flow, torch.zeros_like(flow)) and torch.equal(mask, torch.ones_like(mask))
    torch.testing.assert_close(frame, context[:, :, -1], atol=1e-6, rtol=0)


def test_flow_head_integer_flow_shifts_the_last_frame():
    # Only the coarsest scale predicts flow: 0.25 px there is 2 px at the finest scale.
    model = MultiScaleGenerator(width=SMALL, head="flow")
    _zero_outputs(model)
    with torch.no_grad():
        model.scales[0][-1].bias[0] = 0.25  # x flow at scale 1 (H/8)
        model.scales[0][-1].bias[2] = 40.0
    context = _context()
    frame, flow, _ = model.predict_with_motion(context)
    torch.testing.assert_close(flow[:, 0], torch.full_like(flow[:, 0], 2.0))
    torch.testing.assert_close(frame[..., :-2], context[:, :, -1, :, 2:], atol=1e-5, rtol=0)
    torch.testing.assert_close(frame, warp(context[:, :, -1], flow), atol=1e-6, rtol=0)


def test_untrained_residual_and_flow_heads_start_near_the_last_input():
    context = _context()
    torch.manual_seed(0)
    pixels = MultiScaleGenerator(width=SMALL, head="pixels")(context)[-1]
    gap_pixels = (pixels - context[:, :, -1]).abs().mean()
    for head in ("residual", "flow"):
        torch.manual_seed(0)
        out = MultiScaleGenerator(width=SMALL, head=head)(context)[-1]
        assert (out - context[:, :, -1]).abs().mean() < 0.2 * gap_pixels, head


def test_flow_head_gradients_reach_the_flow_and_the_mask():
    model = MultiScaleGenerator(width=SMALL, head="flow")
    context = _context()
    predictions, motion = model.forward_with_motion(context)
    for tensor in (*motion.flows, *motion.masks):
        tensor.retain_grad()
    target = torch.roll(context[:, :, -1], shifts=1, dims=-1)
    sum((y - torch.nn.functional.avg_pool2d(target, 2 ** (3 - k))).abs().mean()
        for k, y in enumerate(predictions)).backward()
    assert all(f.grad is not None and f.grad.abs().sum() > 0 for f in motion.flows)
    assert all(m.grad is not None and m.grad.abs().sum() > 0 for m in motion.masks)


def test_flow_head_predicts_any_size_and_rolls_out_with_motion():
    model = MultiScaleGenerator(width=SMALL, head="flow").eval()
    context = _context(batch=1, height=30, width=45)
    with torch.no_grad():
        frames, flows, masks = model.rollout_with_motion(context, 3)
        plain = model.rollout(context, 3)
    assert frames.shape == (1, 3, 3, 30, 45) and flows.shape == (1, 2, 3, 30, 45) and masks.shape == (1, 1, 3, 30, 45)
    torch.testing.assert_close(frames, plain)
    assert ((masks > 0) & (masks < 1)).all()


def test_pixel_head_has_no_motion():
    model = MultiScaleGenerator(width=SMALL)
    _, motion = model.forward_with_motion(_context())
    assert motion is None
    _, flow, mask = model.predict_with_motion(_context())
    assert flow is None and mask is None


def test_flow_head_under_bf16_autocast_is_finite_and_float32():
    torch.manual_seed(0)
    model = MultiScaleGenerator(width=SMALL, head="flow")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        outputs = model(_context())
    assert all(y.dtype == torch.float32 and torch.isfinite(y).all() for y in outputs)
    # The same frames as in float32, to bf16's three significant digits (outputs within [-1, 1]).
    for y, reference in zip(outputs, model(_context())):
        torch.testing.assert_close(y, reference, atol=0.02, rtol=0)


def test_unknown_head_is_refused():
    with pytest.raises(ValueError, match="head must be one of pixels, residual, flow"):
        MultiScaleGenerator(width=SMALL, head="optical")


def test_every_pyramid_head_is_a_config_value():
    # A head added to HEADS is also a value of GeneratorConfig.head (vidpred/config.py), or no config reaches it.
    from typing import get_args, get_type_hints

    from vidpred.config import GeneratorConfig
    from vidpred.models.generator import HEADS

    accepted = get_args(get_type_hints(GeneratorConfig)["head"])
    assert set(HEADS) <= set(accepted), f"add {sorted(set(HEADS) - set(accepted))} to GeneratorConfig.head"


def test_flow_head_blends_the_warped_frame_and_its_pixels_by_the_mask():
    # Zero flow, mask logit 0 (sigmoid 1/2) and pixel pre-activation atanh(1/2): the frame is
    # 1/2 last + (1 - 1/2) 1/2 at every scale, here the finest.
    model = MultiScaleGenerator(width=SMALL, head="flow")
    _zero_outputs(model)
    with torch.no_grad():
        model.scales[0][-1].bias[3:] = math.atanh(0.5)
    context = _context()
    frame, _, mask = model.predict_with_motion(context)
    torch.testing.assert_close(mask, torch.full_like(mask, 0.5))
    torch.testing.assert_close(frame, 0.5 * context[:, :, -1] + 0.25, atol=1e-6, rtol=0)

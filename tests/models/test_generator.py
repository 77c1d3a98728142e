from __future__ import annotations

import numpy as np
import pytest
import torch

from vidpred.models import MultiScaleGenerator

SMALL = 1 / 16  # 8/16/32 feature maps: runs in milliseconds on a CPU


def _context(batch: int = 2, n_context: int = 4, height: int = 32, width: int = 32, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, n_context, height, width, generator=generator) * 2 - 1


def test_forward_returns_each_scale_coarsest_first():
    model = MultiScaleGenerator(width=SMALL)
    outputs = model(_context())
    assert [tuple(y.shape) for y in outputs] == [(2, 3, 4, 4), (2, 3, 8, 8), (2, 3, 16, 16), (2, 3, 32, 32)]
    for y in outputs:
        assert torch.isfinite(y).all()
        assert y.abs().max() < 1


def test_input_channels_follow_the_paper():
    model = MultiScaleGenerator(n_context=4, channels=3, width=SMALL)
    first_convs = [scale[0] for scale in model.scales]
    assert [conv.in_channels for conv in first_convs] == [12, 15, 15, 15]
    assert [scale[-1].out_channels for scale in model.scales] == [3, 3, 3, 3]


def test_paper_width_parameter_count():
    count = sum(p.numel() for p in MultiScaleGenerator().parameters())
    assert abs(count - 12.6e6) / 12.6e6 < 0.01, f"generator has {count:,} parameters, paper ~12.6 M"
    assert count == 12_569_740, f"generator has {count:,} parameters"


def test_width_multiplier_rounds_and_never_reaches_zero():
    model = MultiScaleGenerator(width=0.001)
    assert all(conv.out_channels == 1 for scale in model.scales for conv in list(scale)[:-1:2])
    assert len(model(_context(batch=1))) == 4


def test_forward_rejects_size_not_divisible_by_pyramid():
    model = MultiScaleGenerator(width=SMALL)
    with pytest.raises(ValueError, match="divisible by 8"):
        model(_context(height=30, width=32))
    with pytest.raises(ValueError, match="context must be"):
        model(_context(n_context=3))


def test_predict_full_frame_from_patch_sized_model():
    model = MultiScaleGenerator(width=SMALL).eval()
    with torch.no_grad():
        frame = model.predict(_context(batch=1, height=240, width=320))
    assert frame.shape == (1, 3, 240, 320)
    assert torch.isfinite(frame).all() and frame.abs().max() < 1


# (3, 5) is too small to reflect; reflecting (4, 12) by 4 rows would need a 5th: both replicate.
@pytest.mark.parametrize("size, numpy_mode", [((30, 45), "reflect"), ((3, 5), "edge"), ((4, 12), "edge")])
def test_predict_pads_and_crops_any_size(size, numpy_mode):
    model = MultiScaleGenerator(width=SMALL).eval()
    context = _context(height=size[0], width=size[1])
    with torch.no_grad():
        frame = model.predict(context)
    assert frame.shape == (2, 3, *size)
    assert torch.isfinite(frame).all()
    # The same as the forward pass on the context padded at the bottom and right to the next
    # multiple of 8 (padded here by NumPy), cropped back to the top-left H x W.
    H, W = size
    padded = np.pad(context.numpy(), [(0, 0)] * 3 + [(0, -H % 8), (0, -W % 8)], mode=numpy_mode)
    with torch.no_grad():
        expected = model(torch.from_numpy(padded))[-1][..., :H, :W]
    torch.testing.assert_close(frame, expected, rtol=0, atol=0)


def test_predict_equals_forward_finest_when_divisible():
    model = MultiScaleGenerator(width=SMALL).eval()
    context = _context()
    with torch.no_grad():
        torch.testing.assert_close(model.predict(context), model(context)[-1])


def test_rollout_equals_manual_recursion():
    model = MultiScaleGenerator(width=SMALL).eval()
    context = _context()
    with torch.no_grad():
        clip = model.rollout(context, n_future=3)
        manual, window = [], context
        for _ in range(3):
            frame = model.predict(window)
            manual.append(frame)
            window = torch.cat([window[:, :, 1:], frame.unsqueeze(2)], dim=2)
    assert clip.shape == (2, 3, 3, 32, 32)
    torch.testing.assert_close(clip, torch.stack(manual, dim=2))
    # Step 2 must see step 1's prediction, not the true frame: it differs from predicting
    # step 2 from a context whose newest frame is something else.
    with torch.no_grad():
        other = model.predict(torch.cat([context[:, :, 1:], context[:, :, -1:]], dim=2))
    assert not torch.allclose(clip[:, :, 1], other)


def test_rollout_return_scales():
    model = MultiScaleGenerator(width=SMALL).eval()
    context = _context()
    with torch.no_grad():
        scales = model.rollout(context, n_future=2, return_scales=True)
        finest = model.rollout(context, n_future=2)
    assert [tuple(s.shape) for s in scales] == [(2, 3, 2, 4, 4), (2, 3, 2, 8, 8), (2, 3, 2, 16, 16), (2, 3, 2, 32, 32)]
    torch.testing.assert_close(scales[-1], finest)
    torch.testing.assert_close(scales[0][:, :, 0], model(context)[0])


def test_rollout_keeps_gradient_through_recursion():
    model = MultiScaleGenerator(width=SMALL)
    context = _context(batch=1).requires_grad_()
    clip = model.rollout(context, n_future=2)
    # The oldest context frame is dropped after step 1, so it reaches step 2 only through
    # step 1's prediction.
    (grad,) = torch.autograd.grad(clip[:, :, 1].sum(), context)
    assert grad[:, :, 0].abs().sum() > 0


@pytest.mark.parametrize("n_scales", [1, 2, 3, 4, 5])
def test_any_number_of_scales_builds_and_runs(n_scales):
    model = MultiScaleGenerator(n_scales=n_scales, width=SMALL)
    outputs = model(_context())
    sizes = [32 // 2 ** (n_scales - 1 - k) for k in range(n_scales)]
    assert [y.shape[-1] for y in outputs] == sizes
    # Fewer scales keep the finest rows; more repeat the coarsest row (3 convs + output).
    expected_convs = {1: [6], 2: [6, 6], 3: [4, 6, 6], 4: [4, 4, 6, 6], 5: [4, 4, 4, 6, 6]}[n_scales]
    assert [len(scale) // 2 + 1 for scale in model.scales] == expected_convs


@pytest.mark.parametrize("head", ["pixels", "residual", "flow"])
def test_predicts_motion_says_whether_a_rollout_gives_flows(head):
    from vidpred.models.refiner import FlowRefiner

    generator = MultiScaleGenerator(n_context=4, channels=3, n_scales=2, width=0.0625, head=head)
    _, flows, _ = generator.rollout_with_motion(torch.rand(1, 3, 4, 32, 32) * 2 - 1, 2)
    assert generator.predicts_motion == (flows is not None) == (head == "flow")
    refiner = FlowRefiner(width=4)
    assert refiner.predicts_motion and refiner.rollout_with_motion(torch.rand(1, 3, 4, 32, 32) * 2 - 1, 2)[1] is not None


def test_a_grey_generator_of_one_context_frame():
    # The smallest sizes accepted: 1 channel, 1 frame; finer scales also see the coarser prediction.
    model = MultiScaleGenerator(n_context=1, channels=1, n_scales=2, width=SMALL)
    assert [scale[0].in_channels for scale in model.scales] == [1, 2]
    outputs = model(torch.rand(2, 1, 1, 8, 8) * 2 - 1)
    assert [tuple(y.shape) for y in outputs] == [(2, 1, 4, 4), (2, 1, 8, 8)]


def test_last_layer_is_the_output_conv_of_the_finest_scale():
    # The paper's finest row ends in a 7x7 conv to the frame's channels; only the finest prediction passes through it.
    model = MultiScaleGenerator(width=SMALL)
    assert model.last_layer.shape == (3, 8, 7, 7)
    context = _context()
    with torch.no_grad():
        before = model(context)
        model.last_layer.mul_(2.0)
        after = model(context)
    assert all(torch.equal(a, b) for a, b in zip(before[:-1], after[:-1]))
    assert not torch.allclose(before[-1], after[-1])

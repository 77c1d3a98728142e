"""Backward and forward warping, and the flow colour wheel."""

from __future__ import annotations

import pytest
import torch

from vidpred.models.warp import flow_to_color, sample_at, splat, warp


def test_warp_integer_shift_is_exact():
    frames = torch.rand(2, 3, 10, 12) * 2 - 1
    flow = torch.zeros(2, 2, 10, 12)
    flow[:, 0] = 2.0  # out(y, x) = in(y, x + 2)
    flow[:, 1] = -1.0  # out(y, x) = in(y - 1, ...)
    out = warp(frames, flow)
    # Exact up to float32 rounding of the sampling grid (bilinear weights of 1 and ~1e-7).
    torch.testing.assert_close(out[..., 1:, :-2], frames[..., :-1, 2:], atol=1e-6, rtol=0)
    # Outside the image the border is replicated.
    torch.testing.assert_close(out[..., 1:, -2:], frames[..., :-1, -1:].expand(-1, -1, -1, 2), atol=1e-6, rtol=0)


def test_zero_flow_returns_the_input():
    frames = torch.rand(1, 3, 7, 9) * 2 - 1
    torch.testing.assert_close(warp(frames, torch.zeros(1, 2, 7, 9)), frames, atol=1e-6, rtol=0)


def test_half_pixel_flow_averages_neighbours():
    frames = torch.tensor([[[[0.0, 1.0, 3.0]]]])  # (1, 1, 1, 3)
    flow = torch.zeros(1, 2, 1, 3)
    flow[:, 0] = 0.5
    out = warp(frames, flow)
    torch.testing.assert_close(out[0, 0, 0], torch.tensor([0.5, 2.0, 3.0]))


def test_bicubic_half_pixel_uses_keys_cubic_weights():
    # Keys' cubic (a = -0.75, PyTorch's) at t = 0.5: weights -0.09375, 0.59375, 0.59375, -0.09375.
    frames = torch.tensor([[[[0.0, 1.0, 3.0, 6.0, 10.0, 15.0]]]])
    flow = torch.zeros(1, 2, 1, 6)
    flow[:, 0] = 0.5
    out = warp(frames, flow, mode="bicubic")
    expected = -0.09375 * 0.0 + 0.59375 * 1.0 + 0.59375 * 3.0 - 0.09375 * 6.0  # position 1.5
    assert out[0, 0, 0, 1].item() == pytest.approx(expected, abs=1e-5)
    assert warp(frames, flow)[0, 0, 0, 1].item() == pytest.approx(2.0, abs=1e-6)  # bilinear: the mean
    shift = torch.zeros(1, 2, 1, 6)
    shift[:, 0] = 1.0
    torch.testing.assert_close(warp(frames, shift, mode="bicubic")[..., :-1], frames[..., 1:], atol=1e-5, rtol=0)


def _bilinear_reference(frames: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """``frames(p + flow(p))`` by explicit bilinear weights, for positions inside the frame."""
    _, _, H, W = frames.shape
    ys, xs = torch.meshgrid(torch.arange(H, dtype=frames.dtype), torch.arange(W, dtype=frames.dtype), indexing="ij")
    x, y = xs + flow[:, 0], ys + flow[:, 1]
    x0, y0 = x.detach().floor().long().clamp(max=W - 2), y.detach().floor().long().clamp(max=H - 2)
    wx, wy = (x - x0).unsqueeze(1), (y - y0).unsqueeze(1)

    def at(rows, cols):  # (B, C, H, W) gathered at per-pixel integer positions
        return frames[torch.arange(frames.shape[0])[:, None, None], :, rows, cols].permute(0, 3, 1, 2)

    return ((1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x0 + 1))
            + wy * ((1 - wx) * at(y0 + 1, x0) + wx * at(y0 + 1, x0 + 1)))


def test_warp_passes_gradients_to_frames_and_flow():
    # Against an explicit bilinear interpolation differentiated by autograd, with every
    # sampling position strictly inside the frame and off the pixel grid (where it is smooth).
    generator = torch.Generator().manual_seed(0)
    frames = torch.rand(2, 3, 6, 7, generator=generator) * 2 - 1
    flow = torch.rand(2, 2, 6, 7, generator=generator) * 0.8 + 0.1  # 0.1 to 0.9 px right and down
    flow[:, 1, -1, :] *= -1  # the last row samples up, the last column left: inside the frame
    flow[:, 0, :, -1] *= -1
    weights = torch.rand(2, 3, 6, 7, generator=generator)  # a loss that weighs each output differently
    grads = []
    for fn in (warp, _bilinear_reference):
        f, v = frames.clone().requires_grad_(), flow.clone().requires_grad_()
        out = fn(f, v)
        (out * weights).sum().backward()
        grads.append((out.detach(), f.grad, v.grad))
    (out, frames_grad, flow_grad), (expected, frames_expected, flow_expected) = grads
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(frames_grad, frames_expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(flow_grad, flow_expected, atol=1e-5, rtol=0)
    # Each output is a convex combination of inputs: its weight in the loss is handed on whole.
    torch.testing.assert_close(frames_grad.sum(dim=(2, 3)), weights.sum(dim=(2, 3)))
    assert flow_grad.abs().mean() > 0.1  # the flow's gradient is no rounding residue


def test_warp_under_bf16_autocast_keeps_subpixel_flow():
    frames = torch.linspace(-1, 1, 16).reshape(1, 1, 1, 16).expand(1, 1, 4, 16).contiguous()
    flow = torch.zeros(1, 2, 4, 16)
    flow[:, 0] = 0.25
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = warp(frames, flow)
    step = 2 / 15
    torch.testing.assert_close(out[..., :-1], frames[..., :-1] + 0.25 * step, atol=1e-6, rtol=0)


def test_warp_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="warp expects"):
        warp(torch.zeros(1, 3, 4, 4), torch.zeros(1, 2, 4, 5))


def test_flow_to_color_encodes_direction_as_hue_and_speed_as_saturation():
    flow = torch.zeros(1, 2, 1, 4)
    flow[0, :, 0, 1] = torch.tensor([2.0, 0.0])  # right, full speed: hue 0 = red
    flow[0, :, 0, 2] = torch.tensor([0.0, 1.0])  # down, half speed
    flow[0, :, 0, 3] = torch.tensor([-2.0, 0.0])  # left, full speed: hue pi = cyan
    rgb = flow_to_color(flow)
    torch.testing.assert_close(rgb[0, :, 0, 0], torch.ones(3))  # no motion: white
    torch.testing.assert_close(rgb[0, :, 0, 1], torch.tensor([1.0, 0.0, 0.0]), atol=1e-5, rtol=0)
    torch.testing.assert_close(rgb[0, :, 0, 3], torch.tensor([0.0, 1.0, 1.0]), atol=1e-5, rtol=0)
    # Down (+y in image coordinates) at half speed: hue 90 degrees at saturation 0.5, which
    # HSV -> RGB maps to (X + m, C + m, m) with C = 0.5, X = 0.25, m = 0.5.
    torch.testing.assert_close(rgb[0, :, 0, 2], torch.tensor([0.75, 1.0, 0.5]), atol=1e-5, rtol=0)
    # A fixed scale saturates nothing below it.
    assert flow_to_color(flow, max_magnitude=4.0)[0, :, 0, 1].min() == pytest.approx(0.5, abs=1e-5)


def test_flow_to_color_of_a_field_without_motion_is_white():
    still = torch.zeros(2, 2, 3, 4)
    torch.testing.assert_close(flow_to_color(still), torch.ones(2, 3, 3, 4))
    torch.testing.assert_close(flow_to_color(still, max_magnitude=0.0), torch.ones(2, 3, 3, 4))


def test_flow_to_color_saturates_at_each_images_own_fastest_pixel():
    # Image 0 moves 1 px at its top pixel and 2 px below it; image 1 moves 4 px. At value 1 a
    # pixel's smallest RGB channel is 1 - saturation: 1 - 1/2, 1 - 2/2, then 1 - 4/4 twice.
    flow = torch.zeros(2, 2, 2, 1)
    flow[0, 0, 0, 0], flow[0, 0, 1, 0] = 1.0, 2.0
    flow[1, 0] = 4.0
    lowest = flow_to_color(flow).amin(dim=1)  # (B, H, W)
    torch.testing.assert_close(lowest, torch.tensor([[[0.5], [0.0]], [[0.0], [0.0]]]), atol=1e-5, rtol=0)


def _uniform(H, W, dx, dy=0.0):
    flow = torch.zeros(1, 2, H, W)
    flow[:, 0], flow[:, 1] = dx, dy
    return flow


def test_a_splat_by_whole_pixels_is_the_shifted_frame_and_leaves_a_hole_where_it_came_from():
    frame = torch.arange(24.0).reshape(1, 1, 4, 6)
    offset = _uniform(4, 6, 2.0, 1.0)
    moved, coverage = splat(frame, offset, torch.zeros(1, 1, 4, 6))
    torch.testing.assert_close(moved[..., 1:, 2:], frame[..., :-1, :-2])
    assert moved[..., :1, :].eq(0).all() and moved[..., :, :2].eq(0).all()
    expected = torch.zeros(1, 1, 4, 6)
    expected[..., 1:, 2:] = 1.0
    torch.testing.assert_close(coverage, expected)


def test_a_splat_by_half_a_pixel_shares_each_pixel_between_two():
    frame = torch.tensor([[[[2.0, 4.0, 8.0]]]])
    moved, coverage = splat(frame, _uniform(1, 3, 0.5), torch.zeros(1, 1, 1, 3))
    # pixel 1 receives half of pixels 0 and 1, pixel 2 half of 1 and 2; half of 2 leaves the frame;
    # pixel 0 only half of itself: normalized by the weight that landed, it keeps its value
    torch.testing.assert_close(moved, torch.tensor([[[[2.0, 3.0, 6.0]]]]))
    torch.testing.assert_close(coverage, torch.tensor([[[[0.5, 1.0, 1.0]]]]))


def test_where_two_pixels_land_together_the_more_important_is_in_front():
    frame = torch.tensor([[[[1.0, -1.0]]]])
    offset = torch.zeros(1, 2, 1, 2)
    offset[0, 0, 0, 0] = 1.0  # pixel 0 lands on pixel 1
    moved, _ = splat(frame, offset, torch.tensor([[[[0.0, -20.0]]]]))
    assert moved[0, 0, 0, 1] == pytest.approx(1.0, abs=1e-6)
    moved, _ = splat(frame, offset, torch.tensor([[[[-20.0, 0.0]]]]))
    assert moved[0, 0, 0, 1] == pytest.approx(-1.0, abs=1e-6)
    moved, _ = splat(frame, offset, torch.zeros(1, 1, 1, 2))
    assert moved[0, 0, 0, 1] == pytest.approx(0.0, abs=1e-6)  # no order: the mean
    moved, _ = splat(frame, offset, torch.tensor([[[[300.0, 280.0]]]]))  # e^300 overflows float32; the gap counts
    assert moved[0, 0, 0, 1] == pytest.approx(1.0, abs=1e-6)


def test_a_pixel_moved_by_a_fraction_in_x_and_y_is_shared_among_four_by_bilinear_weights():
    frame = torch.zeros(1, 1, 5, 5)
    frame[..., 1, 1] = 1.0
    offset = torch.zeros(1, 2, 5, 5)
    offset[:, 0, 1, 1], offset[:, 1, 1, 1] = 1.25, 0.5  # the pixel at (x 1, y 1) lands at (2.25, 1.5)
    _, coverage = splat(frame, offset)
    expected = torch.ones(1, 1, 5, 5)
    expected[..., 1, 1] = 0.0  # it left
    expected[..., 1:3, 2:4] += torch.tensor([[0.75 * 0.5, 0.25 * 0.5], [0.75 * 0.5, 0.25 * 0.5]])
    torch.testing.assert_close(coverage, expected)
    moved, _ = splat(frame, offset)
    shares = expected[..., 1:3, 2:4] - 1.0
    torch.testing.assert_close(moved[..., 1:3, 2:4], shares / (shares + 1.0))  # its share of what landed


def test_a_batch_splats_each_frame_along_its_own_offset():
    torch.manual_seed(0)
    frames, offset, importance = torch.rand(3, 2, 9, 11), 3 * torch.randn(3, 2, 9, 11), torch.randn(3, 1, 9, 11)
    moved, coverage = splat(frames, offset, importance)
    for b in range(3):
        alone = splat(frames[b:b + 1], offset[b:b + 1], importance[b:b + 1])
        torch.testing.assert_close(moved[b:b + 1], alone[0])
        torch.testing.assert_close(coverage[b:b + 1], alone[1])


def test_a_splat_passes_gradients_to_frames_and_offset():
    frames = torch.rand(1, 1, 6, 7, requires_grad=True)
    offset = (0.3 * torch.ones(1, 2, 6, 7)).requires_grad_()
    moved, _ = splat(frames, offset)
    (moved * torch.linspace(0, 1, 7)).sum().backward()
    assert frames.grad.abs().sum() > 0 and offset.grad.abs().sum() > 0


def test_splat_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="splat expects frames"):
        splat(torch.zeros(1, 3, 4, 4), torch.zeros(1, 2, 4, 5))
    with pytest.raises(ValueError, match="importance must be"):
        splat(torch.zeros(1, 3, 4, 4), torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 4))


def test_warp_returns_the_frames_own_dtype():
    frames = torch.linspace(-1, 1, 48).reshape(1, 1, 6, 8).to(torch.bfloat16)
    flow = torch.full((1, 2, 6, 8), 0.5)
    out = warp(frames, flow)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out, warp(frames.float(), flow).to(torch.bfloat16))


def test_coverage_counts_every_pixel_landing_whatever_its_importance():
    frame = torch.tensor([[[[1.0, -1.0]]]])
    offset = torch.zeros(1, 2, 1, 2)
    offset[0, 0, 0, 0] = 1.0  # pixel 0 lands on pixel 1, in front of it or behind it
    for importance in ([0.0, -20.0], [-20.0, 0.0]):
        _, coverage = splat(frame, offset, torch.tensor([[[importance]]]))
        torch.testing.assert_close(coverage, torch.tensor([[[[0.0, 2.0]]]]))


def test_flow_to_color_shows_speeds_beyond_max_magnitude_fully_saturated():
    flow = torch.zeros(1, 2, 1, 2)
    flow[0, :, 0, 0] = torch.tensor([0.0, 2.0])  # down at twice max_magnitude: hue 90 degrees
    flow[0, :, 0, 1] = torch.tensor([-3.0, 0.0])  # left at three times
    torch.testing.assert_close(flow_to_color(flow, max_magnitude=1.0), flow_to_color(flow, max_magnitude=2.0))
    # hue 90 degrees at saturation 1 and value 1: (X, C, 0) with C = 1, X = 0.5
    torch.testing.assert_close(flow_to_color(flow, max_magnitude=1.0)[0, :, 0, 0], torch.tensor([0.5, 1.0, 0.0]),
                               atol=1e-5, rtol=0)


def test_sampling_at_every_other_pixel_is_the_warp_there_to_the_bit():
    g = torch.Generator().manual_seed(0)
    frames, flow = torch.rand(2, 3, 15, 20, generator=g), 3 * torch.randn(2, 2, 15, 20, generator=g)
    xs = torch.arange(0, 20, 2, dtype=torch.float32).view(1, 1, -1)
    ys = torch.arange(0, 15, 2, dtype=torch.float32).view(1, -1, 1)
    sampled = sample_at(frames, xs + flow[:, 0, ::2, ::2], ys + flow[:, 1, ::2, ::2])
    assert sampled.shape == (2, 3, 8, 10)
    assert torch.equal(sampled, warp(frames, flow)[..., ::2, ::2])
    # by hand: halfway between two pixels, and beyond the border (replicated)
    row = torch.tensor([[[[0.0, 10.0, 20.0]]]])
    out = sample_at(row, torch.tensor([[[0.5, 1.25, 7.0, -3.0]]]), torch.zeros(1, 1, 4))
    assert out.flatten().tolist() == [5.0, 12.5, 20.0, 0.0]

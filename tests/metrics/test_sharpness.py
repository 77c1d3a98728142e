from __future__ import annotations

import math

import pytest
import torch

from vidpred.metrics import edge_ratio, sharpness_difference


def _from_unit(values: list[list[float]]) -> torch.Tensor:
    """A (1, 1, H, W) frame given in [0, 1] units, returned in [-1, 1] as the metric expects."""
    return torch.tensor(values).reshape(1, 1, len(values), len(values[0])) * 2 - 1


def test_hand_worked_value():
    target = _from_unit([[0, 0, 0], [0, 0.5, 0], [0, 0, 0]])
    pred = _from_unit([[0, 0, 0], [0, 0.25, 0], [0, 0, 0]])
    # Pixels (i, j) with i, j >= 1, as |Y_ij - Y_(i-1)j| + |Y_ij - Y_i(j-1)|:
    #   target: (1,1) 0.5+0.5=1, (1,2) 0+0.5=0.5, (2,1) 0.5+0=0.5, (2,2) 0
    #   pred:   (1,1) 0.5,       (1,2) 0.25,      (2,1) 0.25,      (2,2) 0
    # mean |difference| = (0.5 + 0.25 + 0.25 + 0) / 4 = 0.25 -> 10 log10(1 / 0.25)
    assert sharpness_difference(pred, target).item() == pytest.approx(10 * math.log10(4))
    # against a flat prediction: mean (1 + 0.5 + 0.5 + 0) / 4 = 0.5
    flat = _from_unit([[0.25] * 3] * 3)
    assert sharpness_difference(flat, target).item() == pytest.approx(10 * math.log10(2))
    # max_value is a peak, squared as in PSNR: 10 log10(2^2 / 0.25).
    assert sharpness_difference(pred, target, max_value=2.0).item() == pytest.approx(10 * math.log10(16))


def test_batched_per_image_and_identical_is_inf():
    target = torch.rand(3, 3, 16, 16) * 2 - 1
    pred = target.clone()
    pred[1:] = torch.rand(2, 3, 16, 16) * 2 - 1
    values = sharpness_difference(pred, target)
    assert values.shape == (3,) and values.dtype == torch.float64
    assert math.isinf(values[0].item())
    torch.testing.assert_close(values[1:], sharpness_difference(pred[1:], target[1:]))


def test_sharper_prediction_scores_higher():
    target = torch.rand(1, 3, 32, 32) * 2 - 1
    blurred = torch.nn.functional.avg_pool2d(target, 3, stride=1, padding=1, count_include_pad=False)
    slightly_noisy = target + 0.02 * torch.randn_like(target)
    assert sharpness_difference(slightly_noisy, target) > sharpness_difference(blurred, target)


def test_edge_ratio_hand_worked_and_limits():
    target = _from_unit([[0, 0, 0], [0, 0.5, 0], [0, 0, 0]])
    pred = _from_unit([[0, 0, 0], [0, 0.25, 0], [0, 0, 0]])
    # Edge sums (in [-1, 1] units, twice the [0, 1] ones): target 2 * (1 + 0.5 + 0.5) = 4, pred 2 * 1 = 2.
    assert edge_ratio(pred, target).item() == pytest.approx(0.5)
    assert edge_ratio(target, target).item() == 1.0
    frames = torch.rand(2, 3, 16, 16) * 2 - 1
    blurred = torch.nn.functional.avg_pool2d(frames, 3, stride=1, padding=1, count_include_pad=False)
    noisy = frames + 0.3 * torch.randn_like(frames)
    assert (edge_ratio(blurred, frames) < 0.8).all() and (edge_ratio(noisy, frames) > 1.05).all()
    flat = torch.zeros(1, 3, 4, 4)
    assert math.isnan(edge_ratio(frames[:1, :, :4, :4], flat).item())  # a target without edges
    with pytest.raises(ValueError, match=r"edge_ratio expects two \(B, C, H, W\) tensors.*got \(2, 3, 16, 16\) and \(1, 3, 16, 16\)"):
        edge_ratio(frames, frames[:1])


def test_sharpness_term_is_the_hand_worked_per_pixel_term_and_broadcasts():
    from vidpred.metrics.sharpness import sharpness_term

    target = _from_unit([[0, 0, 0], [0, 0.5, 0], [0, 0, 0]])
    pred = _from_unit([[0, 0, 0], [0, 0.25, 0], [0, 0, 0]])
    # the per-pixel differences of test_hand_worked_value, (i, j) >= 1
    assert sharpness_term(pred, target)[0, 0].tolist() == [[0.5, 0.25], [0.25, 0.0]]
    # several predictions (M, B, C, H, W) against one target (B, C, H, W)
    stacked = sharpness_term(torch.stack([pred, target]), target)
    assert stacked.shape == (2, 1, 1, 2, 2) and stacked[1].abs().sum() == 0


def test_frames_of_two_by_two_have_one_compared_pixel():
    # The smallest frame the metric takes: only pixel (1, 1) has an upper and a left neighbour.
    target = _from_unit([[0, 0], [0, 0.5]])  # 0.5 + 0.5 = 1
    pred = _from_unit([[0, 0], [0, 0.25]])  # 0.25 + 0.25 = 0.5
    assert sharpness_difference(pred, target).item() == pytest.approx(10 * math.log10(1 / 0.5))


def test_edge_ratio_of_faint_edges():
    # Edge sums far below 1 are compared as they are: 0.02 against 0.04.
    target = torch.tensor([[[[0.0, 0.0], [0.0, 0.02]]]])  # pixel (1, 1): 0.02 + 0.02
    assert edge_ratio(target / 2, target).item() == pytest.approx(0.5)


def test_frames_one_pixel_across_are_refused():
    line = torch.zeros(1, 3, 1, 8)
    with pytest.raises(ValueError, match="H, W >= 2"):
        sharpness_difference(line, line)
    with pytest.raises(ValueError, match="H, W >= 2"):
        edge_ratio(line.transpose(2, 3), line.transpose(2, 3))

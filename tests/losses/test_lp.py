from __future__ import annotations

import pytest
import torch

from vidpred.losses import lp_loss


def test_hand_worked_values():
    pred = torch.tensor([0.0, 0.5, -1.0, 1.0])
    target = torch.tensor([0.0, -0.5, 1.0, 1.0])  # |diff| = 0, 1, 2, 0
    assert lp_loss(pred, target, p=1).item() == pytest.approx(3 / 4)
    assert lp_loss(pred, target, p=2).item() == pytest.approx(5 / 4)
    assert lp_loss(pred, target, p=2, reduction="sum").item() == pytest.approx(5)
    torch.testing.assert_close(lp_loss(pred, target, p=1, reduction="none"), torch.tensor([0.0, 1.0, 2.0, 0.0]))


def test_zero_for_identical_inputs():
    clip = torch.rand(2, 3, 2, 8, 8) * 2 - 1
    assert lp_loss(clip, clip.clone(), p=1) == 0
    assert lp_loss(clip, clip.clone(), p=2) == 0


@pytest.mark.parametrize("p", [1, 2])
def test_sum_is_mean_times_count(p):
    pred, target = torch.randn(2, 3, 2, 4, 5, dtype=torch.float64), torch.randn(2, 3, 2, 4, 5, dtype=torch.float64)
    torch.testing.assert_close(lp_loss(pred, target, p, "sum"), lp_loss(pred, target, p, "mean") * pred.numel())
    torch.testing.assert_close(lp_loss(pred, target, p, "none").sum(), lp_loss(pred, target, p, "sum"))


@pytest.mark.parametrize("p", [1, 2])
def test_gradcheck(p):
    pred = torch.randn(1, 2, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    target = torch.randn(1, 2, 2, 3, 3, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: lp_loss(x, target, p), (pred,))


def test_rejects_bad_arguments():
    x = torch.zeros(2, 2)
    with pytest.raises(ValueError, match="p in"):
        lp_loss(x, x, p=3)
    with pytest.raises(ValueError, match="reduction"):
        lp_loss(x, x, reduction="max")
    with pytest.raises(ValueError, match="shapes differ"):
        lp_loss(x, torch.zeros(2, 3))

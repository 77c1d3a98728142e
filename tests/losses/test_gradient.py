from __future__ import annotations

import pytest
import torch

from vidpred.losses import gradient_difference_loss

# target rows [0, 1] / [2, 4]: vertical steps |2-0| = 2, |4-1| = 3; horizontal |1-0| = 1, |4-2| = 2
TARGET = torch.tensor([[[[0.0, 1.0], [2.0, 4.0]]]])  # (1, 1, 2, 2)


def test_hand_worked_against_flat_prediction():
    flat = torch.zeros_like(TARGET)
    assert gradient_difference_loss(flat, TARGET, alpha=1, reduction="sum").item() == pytest.approx(2 + 3 + 1 + 2)
    assert gradient_difference_loss(flat, TARGET, alpha=2, reduction="sum").item() == pytest.approx(4 + 9 + 1 + 4)
    # mean: vertical mean (2+3)/2 plus horizontal mean (1+2)/2
    assert gradient_difference_loss(flat, TARGET, alpha=1).item() == pytest.approx(2.5 + 1.5)
    expected_map = torch.tensor([[[[0.0, 1.0], [2.0, 3.0 + 2.0]]]])
    torch.testing.assert_close(gradient_difference_loss(flat, TARGET, reduction="none"), expected_map)


def test_exponents_above_two_are_taken_as_given():
    # alpha = 3 against a flat prediction: 2^3 + 3^3 (vertical) + 1^3 + 2^3 (horizontal).
    flat = torch.zeros_like(TARGET)
    assert gradient_difference_loss(flat, TARGET, alpha=3, reduction="sum").item() == pytest.approx(8 + 27 + 1 + 8)
    assert gradient_difference_loss(flat, TARGET, alpha=2.5, reduction="sum").item() == pytest.approx(
        2**2.5 + 3**2.5 + 1 + 2**2.5)


def test_hand_worked_against_textured_prediction():
    pred = torch.tensor([[[[0.0, -1.0], [0.0, 0.0]]]])  # vertical steps 0, 1; horizontal 1, 0
    # | |2|-0 | + | |3|-1 | + | |1|-1 | + | |2|-0 | = 2 + 2 + 0 + 2
    assert gradient_difference_loss(pred, TARGET, reduction="sum").item() == pytest.approx(6)
    assert gradient_difference_loss(pred, TARGET, alpha=2, reduction="sum").item() == pytest.approx(12)


def test_zero_for_identical_shifted_and_sign_flipped_inputs():
    clip = torch.rand(2, 3, 2, 8, 8) * 2 - 1
    assert gradient_difference_loss(clip, clip.clone()) == 0
    # The formula compares gradient magnitudes only: a brightness offset or a contrast
    # inversion costs nothing (the Lp term is what anchors intensities).
    torch.testing.assert_close(gradient_difference_loss(clip + 0.25, clip), torch.tensor(0.0))
    torch.testing.assert_close(gradient_difference_loss(-clip, clip), torch.tensor(0.0))


def test_reductions_are_consistent():
    pred, target = torch.randn(2, 3, 2, 5, 5), torch.randn(2, 3, 2, 5, 5)
    total = gradient_difference_loss(pred, target, reduction="sum")
    torch.testing.assert_close(gradient_difference_loss(pred, target, reduction="none").sum(), total)
    # square frames: both terms have (H-1)*W elements, so mean = sum / ((H-1)*W*leading)
    n_pairs = 2 * 3 * 2 * 4 * 5
    torch.testing.assert_close(gradient_difference_loss(pred, target, reduction="mean") * n_pairs, total)


def test_any_rank_over_last_two_dims():
    pred, target = torch.randn(2, 3, 4, 6, 7), torch.randn(2, 3, 4, 6, 7)
    folded = gradient_difference_loss(pred.flatten(0, 2), target.flatten(0, 2), reduction="none")
    torch.testing.assert_close(gradient_difference_loss(pred, target, reduction="none").flatten(0, 2), folded)
    torch.testing.assert_close(
        gradient_difference_loss(pred, target), gradient_difference_loss(pred.flatten(0, 2), target.flatten(0, 2))
    )


@pytest.mark.parametrize("alpha", [1.0, 2.0, 1.5])
def test_gradcheck_away_from_kinks(alpha):
    generator = torch.Generator().manual_seed(0)
    pred = torch.randn(1, 2, 4, 5, dtype=torch.float64, generator=generator).requires_grad_()
    target = torch.randn(1, 2, 4, 5, dtype=torch.float64, generator=generator)
    assert torch.autograd.gradcheck(lambda x: gradient_difference_loss(x, target, alpha=alpha), (pred,))


def test_fractional_alpha_hand_worked():
    # The textured case's per-pair differences 2, 2 (vertical) and 0, 2 (horizontal), to the power 0.5:
    # the pair whose gradients match costs 0, not 0^0.5 replaced by anything else.
    pred = torch.tensor([[[[0.0, -1.0], [0.0, 0.0]]]])
    assert gradient_difference_loss(pred, TARGET, alpha=0.5, reduction="sum").item() == pytest.approx(3 * 2**0.5)
    assert gradient_difference_loss(pred, TARGET, alpha=0.5).item() == pytest.approx(2**0.5 + 2**0.5 / 2)


def test_fractional_alpha_has_finite_gradient_where_gradients_match():
    target = torch.rand(1, 1, 6, 6)
    pred = target.clone()
    pred[..., :3, :] += 0.1  # matching gradients inside the top rows, not across the seam
    pred.requires_grad_()
    loss = gradient_difference_loss(pred, target, alpha=0.5)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(pred.grad).all()
    assert pred.grad.abs().sum() > 0


def test_rejects_bad_arguments():
    x = torch.zeros(1, 4, 4)
    with pytest.raises(ValueError, match="alpha"):
        gradient_difference_loss(x, x, alpha=0)
    with pytest.raises(ValueError, match="reduction"):
        gradient_difference_loss(x, x, reduction="avg")

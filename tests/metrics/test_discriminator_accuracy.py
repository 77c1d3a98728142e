"""Discriminator accuracy and logit gap on hand-made logits."""

from __future__ import annotations

import pytest
import torch

from vidpred.metrics.discriminator import discriminator_accuracy


def test_hand_made_logits():
    real = torch.tensor([3.0, 0.5, -0.2, 0.0])  # above 0: 2 of 4 (0.0 is not above)
    fake = torch.tensor([-1.0, -2.0, 0.0, 4.0])  # at or below 0: 3 of 4
    out = discriminator_accuracy(real, fake)
    assert float(out["acc_real"]) == 0.5 and float(out["acc_fake"]) == 0.75
    assert float(out["acc"]) == 0.625
    assert float(out["gap"]) == pytest.approx(0.825 - 0.25)


def test_scales_are_pooled_and_the_threshold_moves():
    real = [torch.tensor([1.0, 1.0]), torch.tensor([-1.0, 2.0, 2.0, 2.0])]  # 5 of 6 above 0
    fake = [torch.tensor([-1.0]), torch.tensor([0.5])]
    out = discriminator_accuracy(real, fake)
    assert float(out["acc_real"]) == pytest.approx(5 / 6) and float(out["acc_fake"]) == 0.5
    shifted = discriminator_accuracy(real, fake, threshold=1.5)
    assert float(shifted["acc_real"]) == pytest.approx(3 / 6) and float(shifted["acc_fake"]) == 1.0


def test_at_chance_constant_logits():
    out = discriminator_accuracy(torch.zeros(8), torch.zeros(8))
    assert float(out["acc"]) == 0.5 and float(out["gap"]) == 0.0


def test_empty_is_refused():
    with pytest.raises(ValueError, match="needs at least one real and one fake logit"):
        discriminator_accuracy(torch.zeros(0), torch.zeros(3))

from __future__ import annotations

import math

import pytest
import torch

from vidpred.losses import bce_d_loss, bce_g_loss, sample_labels
from vidpred.models import MultiScaleDiscriminator, MultiScaleGenerator, pyramid

LOG2 = math.log(2)


def test_zero_logits_cost_log_2_per_term():
    zeros = [torch.zeros(4) for _ in range(3)]
    assert bce_g_loss(zeros).item() == pytest.approx(3 * LOG2)
    assert bce_d_loss(zeros, zeros).item() == pytest.approx(2 * 3 * LOG2)


def test_hand_worked_logits():
    real = [torch.tensor([2.0, -1.0])]
    fake = [torch.tensor([0.5, -3.0])]
    # BCE(x, 1) = log(1 + e^-x), BCE(x, 0) = log(1 + e^x); batch means, then summed
    expected_d = (math.log1p(math.exp(-2)) + math.log1p(math.exp(1))) / 2 + (
        math.log1p(math.exp(0.5)) + math.log1p(math.exp(-3))
    ) / 2
    assert bce_d_loss(real, fake).item() == pytest.approx(expected_d)
    expected_g = (math.log1p(math.exp(-0.5)) + math.log1p(math.exp(3))) / 2
    assert bce_g_loss(fake).item() == pytest.approx(expected_g)


def test_soft_labels_per_scale_and_labels_above_one():
    logits = [torch.tensor([10.0]), torch.tensor([0.0])]
    labels = [torch.tensor([1.2]), torch.tensor([0.7])]
    # BCE-with-logits(x, y) = softplus(x) - y x: 10.0000454 - 12 < 0 is allowed for y > 1
    first = math.log1p(math.exp(10)) - 1.2 * 10
    second = LOG2  # softplus(0) - 0.7 * 0
    fake_term = 2 * LOG2
    assert bce_d_loss(logits, [torch.zeros(1)] * 2, real_target=labels).item() == pytest.approx(
        first + second + fake_term, rel=1e-5
    )
    assert first < 0
    with pytest.raises(ValueError, match="real_target has 1 scales"):
        bce_d_loss(logits, logits, real_target=labels[:1])


def test_sample_labels_range_shape_and_reproducibility():
    like = torch.zeros(1000, dtype=torch.float64)
    labels = sample_labels(like, 0.7, 1.2, generator=torch.Generator().manual_seed(3))
    assert labels.shape == like.shape and labels.dtype == torch.float64
    assert labels.min() >= 0.7 and labels.max() <= 1.2
    assert 0.9 < labels.mean() < 1.0
    again = sample_labels(like, 0.7, 1.2, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(labels, again)
    # Equal bounds are allowed (high >= low): a fixed label, no noise.
    assert torch.equal(sample_labels(like, 0.9, 0.9), torch.full_like(like, 0.9))
    with pytest.raises(ValueError, match=r"sample_labels needs low <= high, got \[0.3, 0.0\]"):
        sample_labels(like, 0.3, 0.0)


def test_adversarial_gradient_reaches_the_generator():
    torch.manual_seed(0)
    generator = MultiScaleGenerator(width=1 / 16)
    discriminator = MultiScaleDiscriminator(width=1 / 16)
    discriminator.requires_grad_(False)
    context = torch.rand(2, 3, 4, 32, 32) * 2 - 1

    loss = bce_g_loss(discriminator(pyramid(context, 4), generator(context)))
    loss.backward()

    missing = [name for name, p in generator.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, f"generator parameters without an adversarial gradient: {missing}"
    assert all(p.grad is None for p in discriminator.parameters())

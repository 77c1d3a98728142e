from __future__ import annotations

import pytest
import torch

from vidpred.losses.gradient_penalty import gradient_penalty


def test_linear_critic_has_gradient_norm_w():
    # D(x) = w . x over a (C, T, H, W) = (1, 1, 1, 2) clip: gradient w everywhere, norm 5.
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    x = torch.randn(6, 1, 1, 1, 2, requires_grad=True)
    logits = (x.flatten(1) * w).sum(dim=1)
    penalty = gradient_penalty(logits, x)
    assert penalty.item() == pytest.approx((5 - 1) ** 2)
    # create_graph: the penalty trains D. d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||.
    penalty.backward()
    torch.testing.assert_close(w.grad, 2 * 4 * torch.tensor([3.0, 4.0]) / 5)


def test_unit_norm_costs_nothing_and_per_sample_values():
    w = torch.tensor([0.6, 0.8])
    x = torch.randn(3, 2, requires_grad=True)
    assert gradient_penalty(x @ w, x).item() == pytest.approx(0.0, abs=1e-12)
    # D(x) = ||x||^2 / 2 has gradient x: per-sample penalty (||x_b|| - 1)^2.
    x = torch.tensor([[3.0, 4.0], [0.0, 1.0], [0.0, 0.5]], requires_grad=True)
    values = gradient_penalty(0.5 * x.square().sum(dim=1), x, reduction="none")
    torch.testing.assert_close(values, torch.tensor([16.0, 0.0, 0.25]))
    assert gradient_penalty(0.5 * x.square().sum(dim=1), x, reduction="sum").item() == pytest.approx(16.25)


def test_real_part_of_a_concatenated_batch():
    # Real clips fed together with fakes: only the real logits are differentiated.
    w = torch.tensor([3.0, 4.0])
    real = torch.randn(2, 2, requires_grad=True)
    fake = torch.randn(2, 2)
    logits = torch.cat([real, fake]) @ w
    assert gradient_penalty(logits[:2], real).item() == pytest.approx(16.0)


def test_needs_inputs_that_require_grad():
    x = torch.randn(2, 2)
    with pytest.raises(ValueError, match="requires_grad"):
        gradient_penalty(x.sum(dim=1), x)


def test_zero_centred_r1_penalty():
    # R1: the squared gradient norm itself; w = (3, 4) gives 25 and d/dw ||w||^2 = 2 w.
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    x = torch.randn(5, 2, requires_grad=True)
    penalty = gradient_penalty(x @ w, x, center=0.0)
    assert penalty.item() == pytest.approx(25.0)
    penalty.backward()
    torch.testing.assert_close(w.grad, torch.tensor([6.0, 8.0]))
    # D(x) = ||x||^2 / 2: per-sample ||x_b||^2.
    x = torch.tensor([[3.0, 4.0], [0.0, 1.0]], requires_grad=True)
    values = gradient_penalty(0.5 * x.square().sum(dim=1), x, reduction="none", center=0.0)
    torch.testing.assert_close(values, torch.tensor([25.0, 1.0]))

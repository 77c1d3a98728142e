from __future__ import annotations

import pytest
import torch

from vidpred.losses.hinge import hinge_d_loss, hinge_g_loss


def test_hand_worked_values():
    real = torch.tensor([2.0, 0.0, -1.0])  # hinges 0, 1, 2 -> mean 1
    fake = torch.tensor([-3.0, 0.5])  # hinges 0, 1.5 -> mean 0.75
    assert hinge_d_loss(real, fake).item() == pytest.approx(1.75)
    assert hinge_g_loss(fake).item() == pytest.approx(1.25)  # -mean(-3, 0.5)


def test_zero_logits_cost_two_and_satisfied_discriminator_costs_nothing():
    assert hinge_d_loss(torch.zeros(4), torch.zeros(4)).item() == 2.0
    real = torch.tensor([1.0, 5.0], requires_grad=True)
    fake = torch.tensor([-1.0, -7.0], requires_grad=True)
    loss = hinge_d_loss(real, fake)
    loss.backward()
    assert loss.item() == 0.0
    assert torch.equal(real.grad, torch.zeros(2)) and torch.equal(fake.grad, torch.zeros(2))


def test_gradients_point_the_right_way():
    real = torch.zeros(2, requires_grad=True)
    fake = torch.zeros(2, requires_grad=True)
    hinge_d_loss(real, fake).backward()
    assert torch.equal(real.grad, torch.full((2,), -0.5))  # D raises real logits
    assert torch.equal(fake.grad, torch.full((2,), 0.5))  # and lowers fake ones
    fake_g = torch.zeros(4, requires_grad=True)
    hinge_g_loss(fake_g).backward()
    assert torch.equal(fake_g.grad, torch.full((4,), -0.25))  # G raises them, never saturating

from __future__ import annotations

import pytest
import torch
from torch import nn

from vidpred.losses import generator_objective, gradient_difference_loss, lp_loss
from vidpred.losses.adaptive import adaptive_weight


def _tiny():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x = torch.randn(5, 4)
    out = model(x)
    rec = (out - torch.randn(5, 3)).square().mean()
    adv = -out.sum(dim=1).mean() * 7.0  # an arbitrarily scaled adversarial loss
    return model, rec, adv


def test_equals_the_gradient_norm_ratio_at_the_last_layer():
    model, rec, adv = _tiny()
    last = model[2].weight
    w = adaptive_weight(rec, adv, last)
    # Independently: both gradients with autograd.grad, then the ratio.
    g_rec = torch.autograd.grad(rec, last, retain_graph=True)[0]
    g_adv = torch.autograd.grad(adv, last, retain_graph=True)[0]
    expected = g_rec.norm() / (g_adv.norm() + 1e-4)
    assert w.item() == pytest.approx(expected.item(), rel=1e-6)
    assert not w.requires_grad and w.dim() == 0
    (rec + w * adv).backward()  # the graph is still there for the real backward


def test_is_clamped():
    model, rec, adv = _tiny()
    assert adaptive_weight(rec, adv * 1e-9, model[2].weight, max_weight=3.0).item() == 3.0
    assert adaptive_weight(rec, adv, model[2].weight, max_weight=1e-6).item() == pytest.approx(1e-6)


def test_generator_objective_applies_it():
    # The adversarial part of the total is w * l_adv * L_adv (not l_adv * L_adv).
    torch.manual_seed(0)
    last = torch.randn(3, requires_grad=True)
    pred = (last.view(1, 3, 1, 1, 1) * torch.ones(2, 3, 2, 4, 4)).tanh()
    target = torch.rand(2, 3, 2, 4, 4) * 2 - 1
    adv = -(pred * torch.randn_like(pred)).mean() * 50
    total, terms = generator_objective(
        [pred], [target], None, l_adv=0.05, l_p=1.0, p=1, l_gdl=1.0, gdl_alpha=1.0, l_path=0.0,
        adv_losses={"x": adv}, last_layer=last,
    )
    rec = lp_loss(pred, target, p=1) + gradient_difference_loss(pred, target)
    g_rec = torch.autograd.grad(rec, last, retain_graph=True)[0]
    g_adv = torch.autograd.grad(adv, last, retain_graph=True)[0]
    w = terms["g_adv_weight"]
    assert w.item() == pytest.approx((g_rec.norm() / (g_adv.norm() + 1e-4)).item(), rel=1e-5)
    assert w.item() != pytest.approx(1.0)
    assert total.item() == pytest.approx((rec + w * 0.05 * adv).item(), rel=1e-6)

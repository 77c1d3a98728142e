from __future__ import annotations

import pytest
import torch
from torch import nn

from vidpred.losses import generator_objective
from vidpred.losses.adaptive import adaptive_weight


def _tiny():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x = torch.randn(5, 4)
    out = model(x)
    rec = (out - torch.randn(5, 3)).square().mean()
    adv = -out.sum(dim=1).mean() * 7.0  # an arbitrarily scaled adversarial loss
    return model, rec, adv


def _two_layers():
    """``out = W relu(V x)`` with numbers chosen so the last layer's gradients are easy by hand.

    ``h = relu(V x) = (1, 2, 2)`` (norm 3) and ``out = W h = (1, 2)``. For any loss L of
    ``out``, ``dL/dW = (dL/dout) h^T``, so ``||dL/dW|| = ||dL/dout|| * ||h|| = 3 ||dL/dout||``.
    """
    x = torch.tensor([1.0, 2.0])
    V = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.5]], requires_grad=True)
    W = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], requires_grad=True)
    out = W @ torch.relu(V @ x)
    return W, out


def test_hand_worked_ratio_at_the_last_layer():
    W, out = _two_layers()
    # rec = ||out - (4, -2)||^2 = 25, dL/dout = 2 (out - t) = (-6, 8): ||dL/dW|| = 3 * 10 = 30.
    rec = (out - torch.tensor([4.0, -2.0])).square().sum()
    # adv = -2 (0.28 out_0 + 0.96 out_1), dL/dout = (-0.56, -1.92): ||dL/dW|| = 3 * 2 = 6.
    adv = -2 * (0.28 * out[0] + 0.96 * out[1])
    assert rec.item() == 25.0
    w = adaptive_weight(rec, adv, W)
    assert w.item() == pytest.approx(30 / (6 + 1e-4), rel=1e-6)  # eps 1e-4 in the denominator
    assert not w.requires_grad and w.dim() == 0
    # The adversarial loss scaled by 10 gets a tenth of the weight: w * adv's gradient is fixed.
    assert adaptive_weight(rec, 10 * adv, W).item() == pytest.approx(30 / (60 + 1e-4), rel=1e-6)
    assert adaptive_weight(rec, adv, W, max_weight=4.0).item() == 4.0
    (rec + w * adv).backward()  # the graph is still there for the real backward
    # w is a constant there: dL/dout = (-6, 8) + w (-0.56, -1.92), and dL/dW = dL/dout h^T with h = (1, 2, 2).
    d_out = torch.tensor([-6.0, 8.0]) + w.item() * torch.tensor([-0.56, -1.92])
    torch.testing.assert_close(W.grad, torch.outer(d_out, torch.tensor([1.0, 2.0, 2.0])))


def test_generator_objective_by_hand():
    # pred (1, 1, 1, 1, 2) = out, l_p = 1 (p = 2, mean over 2 values), no GDL:
    # L_rec = ((1 - 4)^2 + (2 + 2)^2) / 2 = 12.5, dL_rec/dout = out - t = (-3, 4): ||dL/dW|| = 15.
    # Two discriminators, GMAN mean: L_adv = (a + b) / 2 with a = -2 (0.28 out_0 + 0.96 out_1)
    # = -4.4 and b = 3 a = -13.2, so L_adv = -8.8 and dL_adv/dout = (-1.12, -3.84): ||dL/dW|| = 12.
    # w = 15 / (12 + 1e-4); total = 12.5 + w * 0.1 * (-8.8).
    W, out = _two_layers()
    pred = out.view(1, 1, 1, 1, 2)
    target = torch.tensor([4.0, -2.0]).view(1, 1, 1, 1, 2)
    a = -2 * (0.28 * out[0] + 0.96 * out[1])
    total, terms = generator_objective(
        [pred], [target], l_adv=0.1, l_p=1.0, p=2, l_gdl=0.0, gdl_alpha=1.0, l_path=0.0,
        adv_losses={"a": a, "b": 3 * a}, last_layer=W,
    )
    w = 15 / (12 + 1e-4)
    assert terms["g_lp"].item() == pytest.approx(12.5)
    assert terms["g_adv"].item() == pytest.approx(-8.8)
    assert terms["g_adv_weight"].item() == pytest.approx(w, rel=1e-6)
    assert total.item() == pytest.approx(12.5 - w * 0.88, rel=1e-6)


def test_is_clamped():
    model, rec, adv = _tiny()
    assert adaptive_weight(rec, adv * 1e-9, model[2].weight, max_weight=3.0).item() == 3.0
    assert adaptive_weight(rec, adv, model[2].weight, max_weight=1e-6).item() == pytest.approx(1e-6)
    # Unclamped this would be 30 / (6e-9 + 1e-4), about 3e5; the default clamp is taming-transformers' 1e4.
    W, out = _two_layers()
    rec = (out - torch.tensor([4.0, -2.0])).square().sum()
    adv = -2e-9 * (0.28 * out[0] + 0.96 * out[1])
    assert adaptive_weight(rec, adv, W).item() == 1e4

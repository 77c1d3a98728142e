import pytest
import torch
from torch import nn

from vidpred.models.spectral_norm import apply_spectral_norm, largest_singular_value


def test_largest_singular_value_by_hand():
    linear = nn.Linear(2, 2, bias=False)
    conv = nn.Conv2d(1, 2, 1, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[3.0, 0.0], [0.0, -2.0]]))  # diagonal: singular values 3 and 2
        conv.weight.copy_(torch.tensor([3.0, 4.0]).view(2, 1, 1, 1))  # one column (3, 4): its length, 5
    assert largest_singular_value(linear) == pytest.approx(3.0)
    assert largest_singular_value(conv) == pytest.approx(5.0)


def test_every_conv_and_linear_layer_ends_near_one():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 4, 3), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(16, 1))
    with torch.no_grad():
        for layer in (model[0], model[3]):
            layer.weight.mul_(10.0)
    assert apply_spectral_norm(model) is model
    model.train()
    for _ in range(20):  # one power iteration per training forward pass
        model(torch.randn(3, 2, 4, 4))
    for layer in (model[0], model[3]):
        assert largest_singular_value(layer) == pytest.approx(1.0, rel=1e-3)

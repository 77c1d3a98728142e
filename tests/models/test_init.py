"""He initialisation of the discriminators (vidpred/models/init.py)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from vidpred.models._pyramid import pyramid
from vidpred.models.discriminator import MultiScaleDiscriminator
from vidpred.models.init import he_init_
from vidpred.models.spatiotemporal_discriminator import SpatioTemporalDiscriminator


@pytest.mark.parametrize("slope", [0.0, 0.2])
def test_weight_variance_and_zero_biases(slope):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(16, 64, 5), nn.LeakyReLU(slope), nn.Conv3d(8, 32, 3), nn.Linear(400, 300))
    he_init_(net, slope)
    for layer, fan_in in zip([net[0], net[2], net[3]], [16 * 25, 8 * 27, 400]):
        expected = math.sqrt(2 / ((1 + slope**2) * fan_in))
        assert float(layer.weight.detach().std()) == pytest.approx(expected, rel=0.05)
        assert abs(float(layer.weight.detach().mean())) < 0.1 * expected
        assert torch.count_nonzero(layer.bias) == 0


def _finest_scale_logits(init: str) -> torch.Tensor:
    torch.manual_seed(0)
    model = MultiScaleDiscriminator(n_context=4, channels=3, patch_size=32, n_scales=4, width=0.0625,
                                    leaky_slope=0.2)
    if init == "he":
        he_init_(model, 0.2)
    x = torch.rand(64, 3, 5, 32, 32) * 2 - 1
    frames = [f[:, :, 0] for f in pyramid(x[:, :, 4:], 4)]
    with torch.no_grad():
        return model(pyramid(x[:, :, :4], 4), frames)[-1]


def test_the_quickstart_discriminator_is_no_longer_a_constant_at_initialisation():
    # With PyTorch's default the finest scale's logits vary by about 1e-3 from input to
    # input (the signal shrinks through its seven layers); with He they vary by order 0.1-1.
    default, he = _finest_scale_logits("default"), _finest_scale_logits("he")
    assert float(default.std()) < 0.01
    assert float(he.std()) > 0.1
    assert float(he.std()) > 30 * float(default.std())


def test_every_layer_of_the_spatiotemporal_discriminator_is_initialised():
    torch.manual_seed(0)
    model = he_init_(SpatioTemporalDiscriminator(width=0.125, n_frames=5, size=32), 0.2)
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Conv3d, nn.Linear))]
    assert len(layers) >= 6
    for layer in layers:
        fan_in = layer.weight[0].numel()
        # The sample standard deviation of n normal draws is within 4 / sqrt(2 n) of the true
        # one but for 1 in 15000: tight enough to tell fan_in from fan_out (a factor sqrt(2)
        # on the 3x3 convolutions) or PyTorch's default (a factor 0.42).
        tolerance = 4 / math.sqrt(2 * layer.weight.numel())
        assert float(layer.weight.detach().std()) == pytest.approx(math.sqrt(2 / (1.04 * fan_in)), rel=tolerance)
        assert layer.bias is None or torch.count_nonzero(layer.bias) == 0

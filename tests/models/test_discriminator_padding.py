"""The discriminator's unpadded ("valid") convolutions of the official code."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vidpred.config import ConfigError, config_from_dict, validate
from vidpred.models import MultiScaleDiscriminator, pyramid
from vidpred.models.discriminator import smallest_valid_patch


def _inputs(batch: int = 2, size: int = 32, n_scales: int = 4):
    clip = torch.rand(batch, 3, 5, size, size, generator=torch.Generator().manual_seed(0)) * 2 - 1
    return pyramid(clip[:, :, :4], n_scales), pyramid(clip[:, :, 4], n_scales)


def test_parameter_counts_at_width_1():
    assert sum(p.numel() for p in MultiScaleDiscriminator(padding="valid").parameters()) == 17_003_140
    assert sum(p.numel() for p in MultiScaleDiscriminator(padding="same").parameters()) == 63_632_004


def test_valid_map_sizes_per_scale():
    model = MultiScaleDiscriminator(padding="valid", width=1 / 16)
    context, frame = _inputs()
    shapes = []
    for net, c, f in zip(model.scales, context, frame):
        x = torch.cat([c, f.unsqueeze(2)], dim=2).transpose(1, 2).flatten(1, 2)
        for layer in net:
            if isinstance(layer, nn.MaxPool2d):
                shapes.append(tuple(x.shape[-2:]))
            x = layer(x)
        assert x.shape == (2, 1)
    # 4 px: 3x3 -> 2; 8 px: three 3x3 -> 2; 16 px: three 5x5 -> 4; 32 px: 7, 7, 5, 5 -> 12.
    assert shapes == [(2, 2), (2, 2), (4, 4), (12, 12)]
    linears = [next(m for m in net if isinstance(m, nn.Linear)) for net in MultiScaleDiscriminator(padding="valid").scales]
    assert [l.in_features for l in linears] == [64 * 1, 128 * 1, 256 * 4, 128 * 36]


@pytest.mark.parametrize("n_scales", [1, 2, 3, 4])
def test_smallest_patch_works_and_one_step_below_is_refused(n_scales):
    smallest = smallest_valid_patch(n_scales)
    model = MultiScaleDiscriminator(padding="valid", width=1 / 16, n_scales=n_scales, patch_size=smallest)
    logits = model(*_inputs(size=smallest, n_scales=n_scales))
    assert all(torch.isfinite(logit).all() for logit in logits)
    below = smallest - 2 ** (n_scales - 1)
    with pytest.raises(ValueError, match=f"the smallest that works is {smallest}"):
        MultiScaleDiscriminator(padding="valid", n_scales=n_scales, patch_size=below)


def test_config_names_the_smallest_patch():
    cfg = config_from_dict({"data": {"patch_size": 16}, "model": {
        "generator": {"n_scales": 4}, "discriminator": {"n_scales": 4, "padding": "valid"}}})
    with pytest.raises(ConfigError, match="the smallest that works is 32"):
        validate(cfg)


def test_paper_config_uses_valid_padding():
    from pathlib import Path

    from vidpred.config import load_config

    root = Path(__file__).resolve().parents[2]
    assert load_config(root / "configs" / "paper_ucf101.yaml").model.discriminator.padding == "valid"

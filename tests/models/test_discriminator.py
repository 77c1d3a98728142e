from __future__ import annotations

import pytest
import torch
from torch import nn

from vidpred.models import MultiScaleDiscriminator, pyramid
from vidpred.models.discriminator import frame_differences

SMALL = 1 / 16


def _inputs(batch: int = 2, size: int = 32, n_scales: int = 4, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    clip = torch.rand(batch, 3, 5, size, size, generator=generator) * 2 - 1
    return pyramid(clip[:, :, :4], n_scales), pyramid(clip[:, :, 4], n_scales)


def test_logits_per_scale():
    model = MultiScaleDiscriminator(width=SMALL)
    logits = model(*_inputs())
    assert len(logits) == 4
    assert all(logit.shape == (2,) and torch.isfinite(logit).all() for logit in logits)


def test_layer_sizes_follow_the_paper():
    model = MultiScaleDiscriminator()
    assert [scale[0].in_channels for scale in model.scales] == [15, 15, 15, 15]
    linears = [[m for m in scale if isinstance(m, nn.Linear)] for scale in model.scales]
    assert [[(l.in_features, l.out_features) for l in scale] for scale in linears] == [
        [(64 * 2 * 2, 512), (512, 256), (256, 1)],
        [(128 * 4 * 4, 1024), (1024, 512), (512, 1)],
        [(256 * 8 * 8, 1024), (1024, 512), (512, 1)],
        [(128 * 16 * 16, 1024), (1024, 512), (512, 1)],
    ]
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def test_paper_width_parameter_count():
    count = sum(p.numel() for p in MultiScaleDiscriminator().parameters())
    assert abs(count - 63.6e6) / 63.6e6 < 0.01, f"discriminator has {count:,} parameters, paper ~63.6 M"
    assert count == 63_632_004, f"discriminator has {count:,} parameters"


def test_leaky_slope_selects_the_activation():
    relu_model = MultiScaleDiscriminator(width=SMALL)
    leaky_model = MultiScaleDiscriminator(width=SMALL, leaky_slope=0.2)
    assert not any(isinstance(m, nn.LeakyReLU) for m in relu_model.modules())
    slopes = {m.negative_slope for m in leaky_model.modules() if isinstance(m, nn.LeakyReLU)}
    assert slopes == {0.2}
    assert not any(type(m) is nn.ReLU for m in leaky_model.modules())
    leaky_model.load_state_dict(relu_model.state_dict())  # same parameters, different activation
    inputs = _inputs()
    assert not torch.allclose(torch.stack(relu_model(*inputs)), torch.stack(leaky_model(*inputs)))


def test_wrong_spatial_size_is_a_clear_error():
    model = MultiScaleDiscriminator(width=SMALL, patch_size=32)
    with pytest.raises(ValueError, match="scale 0: discriminator built for patch_size=32"):
        model(*_inputs(size=64))
    with pytest.raises(ValueError, match="expected 4 scales"):
        model(*_inputs(n_scales=3, size=16))
    with pytest.raises(ValueError, match="divisible"):
        MultiScaleDiscriminator(patch_size=24, n_scales=4)


@pytest.mark.parametrize("n_scales", [1, 2, 3, 4, 5])
def test_any_number_of_scales_builds_and_runs(n_scales):
    model = MultiScaleDiscriminator(n_scales=n_scales, width=SMALL)
    logits = model(*_inputs(n_scales=n_scales))
    assert [logit.shape for logit in logits] == [(2,)] * n_scales


def test_frame_differences_by_hand():
    # One channel, one pixel, frames 1, 3, 6, 10: the first frame, then 2, 3, 4.
    clip = torch.tensor([1.0, 3.0, 6.0, 10.0]).reshape(1, 1, 4, 1, 1)
    assert frame_differences(clip).flatten().tolist() == [1.0, 2.0, 3.0, 4.0]
    # Invertible: the running sum gives the frames back.
    clip = torch.randn(2, 3, 5, 4, 4, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(frame_differences(clip).cumsum(dim=2), clip, atol=1e-6)


def test_difference_inputs_reach_the_first_convolution():
    context, frame = _inputs(batch=1)
    frame = [c[:, :, -1] for c in context]  # the judged frame repeats the last context frame
    seen = {}
    model = MultiScaleDiscriminator(width=SMALL, inputs="differences")
    model.scales[-1][0].register_forward_pre_hook(lambda module, args: seen.update(x=args[0]))
    model(context, frame)
    x = seen["x"]  # (1, 3 * 5, 32, 32), frame-major
    assert torch.equal(x[:, :3], context[-1][:, :, 0])
    assert torch.allclose(x[:, 3:6], context[-1][:, :, 1] - context[-1][:, :, 0])
    assert torch.count_nonzero(x[:, 12:15]) == 0  # judged frame minus the last context frame


def test_unknown_inputs_is_a_clear_error():
    with pytest.raises(ValueError, match="inputs must be one of frames, differences"):
        MultiScaleDiscriminator(width=SMALL, inputs="flow")


@pytest.mark.parametrize("inputs", ["frames", "differences"])
def test_logits_are_the_last_layer_of_the_features(inputs):
    model = MultiScaleDiscriminator(width=SMALL, leaky_slope=0.2, inputs=inputs)
    args = _inputs(batch=3)
    features, logits = model.features(*args), model(*args)
    assert [f.shape for f in features] == [(3, s[-2].out_features) for s in
                                           ([m for m in scale if isinstance(m, nn.Linear)] for scale in model.scales)]
    for scale, f, logit in zip(model.scales, features, logits):
        assert torch.allclose(scale[-1](f).squeeze(1), logit, atol=1e-6)


def test_a_wrong_context_or_frame_alone_is_a_clear_error():
    model = MultiScaleDiscriminator(width=SMALL, patch_size=32)
    context, frames = _inputs()
    with pytest.raises(ValueError, match=r"scale 0: .* expects context \(B, \*\(3, 4, 4, 4\)\)"):
        model([c[:, :, 1:] for c in context], frames)  # 3 context frames, the judged frames right
    with pytest.raises(ValueError, match=r"scale 0: .* and frame \(B, \*\(3, 4, 4\)\)"):
        model(context, [f[:, :1] for f in frames])  # one channel, the context right

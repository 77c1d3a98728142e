from __future__ import annotations

import pytest
import torch
from torch import nn

from vidpred.losses.gradient_penalty import gradient_penalty
from vidpred.models.attention import SelfAttention2d
from vidpred.models.blurpool import Blur2d, Blur3d
from vidpred.models.spatiotemporal_discriminator import SpatioTemporalDiscriminator


def _clips(batch: int, n_frames: int, size: int = 32, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, n_frames, size, size, generator=generator) * 2 - 1


@pytest.mark.parametrize("n_frames", [2, 5, 6])
def test_one_finite_logit_per_clip(n_frames):
    model = SpatioTemporalDiscriminator(n_frames=n_frames, width=0.125)
    logits = model(_clips(3, n_frames))
    assert logits.shape == (3,) and torch.isfinite(logits).all()
    assert model.frames_after_3d >= 2  # time is strided only while the temporal blur has room


def test_three_d_first_then_two_d_with_attention_and_a_blur_before_every_strided_conv():
    model = SpatioTemporalDiscriminator(n_frames=6, width=0.125, n_3d=2, n_2d=2)
    layers = [m for m in model.modules() if not isinstance(m, (nn.Sequential, SpatioTemporalDiscriminator))]
    convs3d = [m for m in layers if isinstance(m, nn.Conv3d)]
    assert convs3d and all(isinstance(m, nn.Conv3d) for m in model.stage3d.modules() if isinstance(m, nn.Conv2d | nn.Conv3d))
    assert sum(isinstance(m, SelfAttention2d) for m in model.stage2d) == 2
    for seq, conv_type, blur_type in ((model.stage3d, nn.Conv3d, Blur3d), (model.stage2d, nn.Conv2d, Blur2d)):
        children = list(seq)
        strided = [i for i, m in enumerate(children) if isinstance(m, conv_type) and max(m.stride) > 1]
        assert strided and all(isinstance(children[i - 1], blur_type) for i in strided)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def test_gradient_penalty_backpropagates_through_attention_and_blur():
    model = SpatioTemporalDiscriminator(n_frames=5, width=0.125)
    real = _clips(2, 5).requires_grad_()
    penalty = gradient_penalty(model(real), real)
    penalty.backward()
    conv_weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in conv_weights)


def test_clips_are_judged_independently():
    # No layer mixes the batch: a clip's logit does not depend on its neighbours.
    model = SpatioTemporalDiscriminator(n_frames=5, width=0.125)
    clips = _clips(3, 5)
    torch.testing.assert_close(model(clips)[:1], model(clips[:1]))


def test_shapes_are_checked():
    model = SpatioTemporalDiscriminator(n_frames=5, width=0.125)
    with pytest.raises(ValueError, match="expected clips"):
        model(_clips(1, 6))
    with pytest.raises(ValueError, match="divisible"):
        SpatioTemporalDiscriminator(size=24, n_3d=2, n_2d=2)


def test_self_attention_keeps_shape_and_mixes_positions():
    torch.manual_seed(0)
    attention = SelfAttention2d(16)
    x = torch.randn(2, 16, 4, 4)
    y = attention(x)
    assert y.shape == x.shape
    x2 = x.clone()
    x2[:, :, 0, 0] += 1.0  # a change at one corner reaches the opposite corner
    assert not torch.allclose(attention(x2)[:, :, 3, 3], y[:, :, 3, 3])


def test_attention_over_fewer_than_8_channels_keeps_one_key_dimension():
    attention = SelfAttention2d(4)  # 4 // 8 = 0 key dimensions: at least 1
    assert attention.query.out_channels == attention.key.out_channels == 1
    x = torch.randn(2, 4, 3, 3)
    assert torch.isfinite(attention(x)).all()


@pytest.mark.parametrize("n_frames, time_strides, frames_after", [(8, [2, 2], 2), (5, [2, 2], 2), (3, [2, 1], 2),
                                                                  (2, [1, 1], 2)])
def test_time_is_halved_while_at_least_3_frames_remain(n_frames, time_strides, frames_after):
    # A stride-2 conv (kernel 3, padding 1) keeps (T - 1) // 2 + 1 frames: 8 -> 4 -> 2, 5 -> 3 -> 2, 3 -> 2.
    model = SpatioTemporalDiscriminator(n_frames=n_frames, width=0.125, n_3d=2)
    strided = [m for m in model.stage3d if isinstance(m, nn.Conv3d) and m.stride[1] == 2]
    assert [m.stride[0] for m in strided] == time_strides
    assert model.frames_after_3d == frames_after == model.stage3d(_clips(1, n_frames)).shape[2]


def test_every_stage_halves_height_and_width():
    model = SpatioTemporalDiscriminator(n_frames=5, size=32, width=0.125, n_3d=2, n_2d=2)
    seen = []
    model.head.register_forward_pre_hook(lambda module, inputs: seen.append(tuple(inputs[0].shape[-2:])))
    model(_clips(1, 5))
    assert model.stage3d(_clips(1, 5)).shape[-2:] == (8, 8)  # 32 / 2**2
    assert seen == [(2, 2)]  # 32 / 2**4

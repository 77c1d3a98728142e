"""vidpred/models/_pyramid.py: pooling, upsampling, pyramids and the layer-table helpers, by hand."""

from __future__ import annotations

import pytest
import torch

from vidpred.models._pyramid import downsample, pyramid, scaled_width, stack_frames, table_rows, upsample2x


def test_downsample_is_the_block_mean():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    # Blocks {0, 1, 4, 5}, {2, 3, 6, 7}, {8, 9, 12, 13}, {10, 11, 14, 15}.
    assert downsample(x, 2).view(2, 2).tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert downsample(x, 4).item() == 7.5
    assert downsample(x, 1) is x


def test_downsample_clips_frame_by_frame():
    clip = torch.rand(2, 3, 4, 8, 8)  # (B, C, T, H, W)
    pooled = downsample(clip, 2)
    assert pooled.shape == (2, 3, 4, 4, 4)
    # Independently: split H and W into (blocks, 2) and average within each block; frames never mix.
    blocks = clip.reshape(2, 3, 4, 4, 2, 4, 2).mean(dim=(4, 6))
    torch.testing.assert_close(pooled, blocks)
    torch.testing.assert_close(downsample(clip, 4), clip.reshape(2, 3, 4, 2, 4, 2, 4).mean(dim=(4, 6)))


def test_downsample_refuses_what_would_shift_the_pyramid():
    with pytest.raises(ValueError, match="divisible by 2"):
        downsample(torch.zeros(1, 1, 6, 5), 2)
    with pytest.raises(ValueError, match=">= 1"):
        downsample(torch.zeros(1, 1, 4, 4), 0)
    with pytest.raises(ValueError, match="expects"):
        downsample(torch.zeros(4, 4), 2)


def test_upsample2x_by_hand():
    # align_corners=False: output column i samples input x = (i + 0.5) / 2 - 0.5, clamped to
    # [0, 1] here: -0.25, 0.25, 0.75, 1.25 -> 0, 0.25, 0.75, 1.
    x = torch.tensor([0.0, 1.0]).view(1, 1, 1, 2)
    up = upsample2x(x)
    assert up.shape == (1, 1, 2, 4)
    assert up[0, 0].tolist() == [[0.0, 0.25, 0.75, 1.0]] * 2
    clip = torch.rand(2, 3, 4, 5, 6) * 2 - 1
    up_clip = upsample2x(clip)
    assert up_clip.shape == (2, 3, 4, 10, 12)
    torch.testing.assert_close(up_clip[:, :, 1], upsample2x(clip[:, :, 1]))
    assert up_clip.min() >= clip.min() and up_clip.max() <= clip.max()  # convex weights
    with pytest.raises(ValueError, match="expects"):
        upsample2x(torch.zeros(3, 4))


def test_pyramid_levels():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    levels = pyramid(x, 3)
    assert [tuple(level.shape[-2:]) for level in levels] == [(1, 1), (2, 2), (4, 4)]
    assert levels[-1] is x  # the finest level is the input itself
    assert levels[0].item() == 7.5  # the coarsest, the mean of everything
    assert levels[1].view(-1).tolist() == [2.5, 4.5, 10.5, 12.5]
    assert pyramid(x, 1) == [x]
    with pytest.raises(ValueError, match="n_scales"):
        pyramid(x, 0)


def test_stack_frames_is_frame_major():
    clip = torch.tensor([[10.0, 11.0, 12.0], [20.0, 21.0, 22.0]]).view(1, 2, 3, 1, 1)  # channel c, frame t holds 10 (c + 1) + t
    stacked = stack_frames(clip)
    assert stacked.shape == (1, 6, 1, 1)
    assert stacked.view(-1).tolist() == [10.0, 20.0, 11.0, 21.0, 12.0, 22.0]


def test_table_rows_take_the_finest_and_repeat_the_coarsest():
    table = ["coarse", "middle", "fine"]
    assert table_rows(2, table) == ["middle", "fine"]
    assert table_rows(3, table) == table
    assert table_rows(5, table) == ["coarse", "coarse", "coarse", "middle", "fine"]
    with pytest.raises(ValueError, match="n_scales"):
        table_rows(0, table)


def test_scaled_width_rounds_and_keeps_one_map():
    assert scaled_width(128, 0.0625) == 8
    assert scaled_width(128, 1.0) == 128
    assert scaled_width(100, 0.125) == 12  # 12.5 rounds to the even 12
    assert scaled_width(3, 0.1) == 1  # never zero maps

"""vidpred/training/visualize.py: where each frame of the sample and motion grids goes, and its values."""

from __future__ import annotations

import numpy as np
import torch

from vidpred.build import build_generator
from vidpred.config import config_from_dict
from vidpred.training.visualize import motion_grid, sample_grid, sample_images


def _cell(grid: torch.Tensor, row: int, col: int, size: tuple[int, int], padding: int) -> torch.Tensor:
    """The (3, h, w) picture at ``row``, ``col`` of a make_grid of frames of ``size`` (h, w)."""
    h, w = size
    top, left = padding + row * (h + padding), padding + col * (w + padding)
    return grid[:, top : top + h, left : left + w]


def test_the_sample_grid_is_one_row_per_clip_context_prediction_target_error():
    # Grey clips (B=2, C=1) of 2x2 frames, 2 context frames and 1 predicted: 5 panels a row. -1.5 is shown as -1.
    context = torch.tensor([[-1.5, 0.0], [1.0, -0.5]]).view(2, 1, 2, 1, 1).expand(2, 1, 2, 2, 2)
    prediction = torch.tensor([0.5, 1.5]).view(2, 1, 1, 1, 1).expand(2, 1, 1, 2, 2)  # 1.5 is shown as 1
    target = torch.tensor([-0.5, 0.0]).view(2, 1, 1, 1, 1).expand(2, 1, 1, 2, 2)
    grid = sample_grid(context, prediction, target, padding=1)
    assert grid.shape == (3, 1 + 2 * 3, 1 + 5 * 3)
    # Shown as (x + 1) / 2; the error panel as |prediction - target| / 2, of the prediction before its clamp.
    expected = [[0.0, 0.5, 0.75, 0.25, 0.5], [1.0, 0.25, 1.0, 0.5, 0.75]]
    for row, values in enumerate(expected):
        for col, value in enumerate(values):
            assert torch.allclose(_cell(grid, row, col, (2, 2), 1), torch.full((3, 2, 2), value)), (row, col)
    assert torch.all(grid[:, 0, :] == 1.0) and torch.all(grid[:, :, 0] == 1.0)  # white padding


def test_the_sample_grid_shows_colour_clips_channel_by_channel():
    context = torch.zeros(1, 3, 1, 2, 2)
    context[:, 0] = 1.0  # red at 1, green and blue at 0: shown as (1, 0.5, 0.5)
    same = torch.zeros(1, 3, 1, 2, 2)
    grid = sample_grid(context, same, same, padding=0)
    assert grid.shape == (3, 2, 8)
    assert torch.equal(grid[:, 0, 0], torch.tensor([1.0, 0.5, 0.5]))
    assert torch.equal(grid[:, 0, 6], torch.zeros(3))  # exact prediction: a black error panel


def _flows() -> torch.Tensor:
    """Two clips of 2 predicted 1x2 frames; the second moves 4x as fast as the first. A flow is
    where each pixel is sampled from: content moving right is sampled from its left."""
    flow = torch.zeros(1, 2, 2, 1, 2)  # (B, (x, y), T, H, W)
    flow[0, 0, 0, 0, 1] = -1.0  # frame 1: one pixel moving right at 1 px (the wheel's red)
    flow[0, 0, 1, 0, 1] = -2.0  # frame 2: the same pixel at 2 px, the clip's fastest
    return torch.cat([flow, 4 * flow])


def test_the_motion_grid_shares_one_speed_scale_per_clip():
    grid = motion_grid(_flows(), None, padding=1)
    assert grid.shape == (3, 1 + 2 * 2, 1 + 2 * 3)  # a row per clip, a 1x2 frame per predicted frame
    white, red, half_red = torch.ones(3), torch.tensor([1.0, 0.0, 0.0]), torch.tensor([1.0, 0.5, 0.5])
    for row in (0, 1):  # each clip on its own scale: the same colours at 1x and 4x the speed
        first, second = _cell(grid, row, 0, (1, 2), 1)[:, 0], _cell(grid, row, 1, (1, 2), 1)[:, 0]
        assert torch.allclose(first[:, 0], white) and torch.allclose(second[:, 0], white)
        assert torch.allclose(first[:, 1], half_red, atol=1e-5)  # half the clip's fastest speed
        assert torch.allclose(second[:, 1], red, atol=1e-5)
    assert torch.all(grid[:, 0, :] == 1.0) and torch.all(grid[:, :, 0] == 1.0)  # white padding


def test_the_motion_grid_puts_each_clip_s_masks_after_its_flows():
    masks = torch.tensor([[0.25, 0.75], [1.5, -1.0]]).view(2, 1, 2, 1, 1).expand(2, 1, 2, 1, 2)
    grid = motion_grid(_flows(), masks, padding=1)
    assert grid.shape == (3, 1 + 2 * 2, 1 + 4 * 3)  # 2 rows of 1x2 frames: 2 flows, then 2 masks
    first, second = _cell(grid, 1, 0, (1, 2), 1), _cell(grid, 1, 1, (1, 2), 1)  # clip 2's flows
    assert torch.allclose(first[:, 0, 1], torch.tensor([1.0, 0.5, 0.5]), atol=1e-5)
    assert torch.allclose(second[:, 0, 1], torch.tensor([1.0, 0.0, 0.0]), atol=1e-5)
    expected_masks = [[0.25, 0.75], [1.0, 0.0]]  # clamped to [0, 1]
    for row, values in enumerate(expected_masks):
        for frame, value in enumerate(values):
            assert torch.allclose(_cell(grid, row, 2 + frame, (1, 2), 1), torch.full((3, 1, 2), value)), (row, frame)
    assert torch.all(grid[:, 0, :] == 1.0) and torch.all(grid[:, :, 0] == 1.0)  # white padding


def test_the_progress_picture_shows_four_clips_and_leaves_the_generator_as_it_found_it():
    cfg = config_from_dict({"model": {"generator": {"n_scales": 2, "width": 0.0625}}})
    torch.manual_seed(0)
    generator = build_generator(cfg).eval()
    clips = [np.random.default_rng(i).integers(0, 256, (6, 16, 16, 3), dtype=np.uint8) for i in range(6)]
    grid, _ = sample_images(generator, clips, cfg.model.n_context, 2, torch.device("cpu"))
    padding = 2
    assert grid.shape[1] == 4 * (16 + padding) + padding  # one row per clip, the first four clips
    assert not generator.training  # evaluated, then left in eval mode

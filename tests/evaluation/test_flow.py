"""Farneback flow and the moving-area mask on clips with known motion."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from vidpred.data import to_model_input
from vidpred.evaluation import backward_flow, farneback_flow, moving_mask


def _x(frames: np.ndarray) -> torch.Tensor:
    return to_model_input(torch.from_numpy(frames).unsqueeze(0))  # (1, C, T, H, W)


def test_flow_convention_on_a_pure_translation(translating_clip):
    x = _x(translating_clip(speed=2))  # content moves 2 px left per frame
    flow = backward_flow(x[:, :, :4])  # last(p) = previous(p + flow): the content came from 2 px right
    assert flow.shape == (1, 2, 64, 80) and flow.dtype == torch.float32
    inner = flow[0, :, 10:-10, 10:-10]
    assert inner[0].median().item() == pytest.approx(2.0, abs=0.05)
    assert inner[1].abs().median().item() < 0.05
    forward = farneback_flow(x[:, :, 2], x[:, :, 3])
    assert forward[0, 0, 10:-10, 10:-10].median().item() == pytest.approx(-2.0, abs=0.05)


def test_mask_covers_the_moving_square_and_little_else(square_clip):
    frames, footprint = square_clip(size=128, side=24, speed=3)
    mask = moving_mask(backward_flow(_x(frames)[:, :, :4]))[0, 0].numpy()  # context frames 0..3
    square = footprint(3)  # where the square is in the last context frame
    path = (footprint(2) | square).astype(np.uint8)
    near = {r: cv2.dilate(path, np.ones((2 * r + 1, 2 * r + 1), np.uint8)).astype(bool) for r in (4, 8)}
    assert (mask & square).sum() / square.sum() > 0.95  # the square is in
    assert not (mask & ~near[8]).any()  # nothing moves 8 px away from the square's path
    assert (mask & near[4]).sum() / mask.sum() > 0.8  # and most of the mask hugs it
    assert mask.sum() < 3 * square.sum()


def test_static_clip_has_no_moving_pixel(square_clip):
    frames, _ = square_clip(speed=0)
    assert not moving_mask(backward_flow(_x(frames)[:, :, :4])).any()


def test_threshold_is_in_pixels(translating_clip):
    flow = backward_flow(_x(translating_clip(speed=1))[:, :, :4])[..., 10:-10, 10:-10]  # |flow| ~ 1 px
    assert moving_mask(flow, 0.5).float().mean() > 0.99
    assert moving_mask(flow, 1.5).float().mean() < 0.01


def test_the_mask_thresholds_the_flows_length():
    # (x, y) flows and whether each moves by more than 0.5 px: the Euclidean length decides.
    vectors = [((0.4, 0.4), True), ((0.3, 0.3), False), ((0.0, 0.8), True), ((-0.45, 0.0), False),
               ((0.0, -0.6), True), ((0.8, 0.0), True)]
    flow = torch.tensor([v for v, _ in vectors]).T.reshape(1, 2, 1, len(vectors))
    assert moving_mask(flow)[0, 0, 0].tolist() == [moving for _, moving in vectors]


def test_a_flow_of_exactly_the_threshold_is_not_moving():
    flow = torch.zeros(1, 2, 1, 2)
    flow[0, 0, 0, 0], flow[0, 0, 0, 1] = 0.5, 0.5001
    assert moving_mask(flow)[0, 0, 0].tolist() == [False, True]


def test_the_mask_refuses_a_field_that_is_not_two_channels():
    with pytest.raises(ValueError, match="moving_mask expects a"):
        moving_mask(torch.zeros(1, 3, 4, 4))

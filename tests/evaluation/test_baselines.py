"""The last-input and optical-flow baselines."""

from __future__ import annotations

import pytest
import torch

from vidpred.data import to_model_input
from vidpred.evaluation import backward_flow, flow_extrapolation, last_input, warp
from vidpred.metrics import psnr


def test_last_input_repeats_the_last_context_frame():
    context = torch.rand(2, 3, 4, 8, 8) * 2 - 1
    out = last_input(context, 3)
    assert out.shape == (2, 3, 3, 8, 8)
    for k in range(3):
        torch.testing.assert_close(out[:, :, k], context[:, :, -1])


def test_flow_baseline_beats_last_input_on_pure_translation(translating_clip):
    x = to_model_input(torch.from_numpy(translating_clip(n_frames=6, speed=2)).unsqueeze(0))
    context, target = x[:, :, :4], x[:, :, 4:]
    flow = backward_flow(context)
    by_flow, by_copy = flow_extrapolation(context, 2, flow), last_input(context, 2)
    assert by_flow.shape == target.shape
    inner = (..., slice(8, -8), slice(8, -8))  # away from the border the warp replicates
    for k in range(2):
        flow_psnr = psnr(by_flow[:, :, k][inner], target[:, :, k][inner]).item()
        copy_psnr = psnr(by_copy[:, :, k][inner], target[:, :, k][inner]).item()
        assert flow_psnr > copy_psnr + 10, (k, flow_psnr, copy_psnr)
    # Frame k uses k times the flow of the last step, computed when not given.
    torch.testing.assert_close(flow_extrapolation(context, 2), by_flow)
    torch.testing.assert_close(by_flow[:, :, 1], warp(context[:, :, -1], 2 * flow))


def test_n_future_must_be_positive():
    with pytest.raises(ValueError):
        last_input(torch.zeros(1, 3, 4, 8, 8), 0)

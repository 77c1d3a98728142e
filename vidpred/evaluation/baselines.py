"""The paper's two baselines: repeat the last input frame; extrapolate it along optical flow.

Both have the signature of every predictor the evaluation scores,
``predict(context, n_future, flow) -> (B, C, n_future, H, W)``, where ``flow`` is the clip's
:func:`~vidpred.evaluation.flow.backward_flow` (computed once per clip, shared with the
moving-area mask).
"""

from __future__ import annotations

import torch
from torch import Tensor

from vidpred.evaluation.flow import backward_flow
from vidpred.models.warp import warp

__all__ = ["last_input", "flow_extrapolation", "warp"]


def last_input(context: Tensor, n_future: int, flow: Tensor | None = None) -> Tensor:
    """Predict every future frame as a copy of the last context frame.

    Args:
        context: ``(B, C, T, H, W)`` in ``[-1, 1]``.
        n_future: frames to predict, >= 1.
        flow: ignored (the common predictor signature).

    Returns:
        ``(B, C, n_future, H, W)`` in ``[-1, 1]``.
    """
    if n_future < 1:
        raise ValueError(f"n_future must be >= 1, got {n_future}")
    return context[:, :, -1:].expand(-1, -1, n_future, -1, -1).clone()


def flow_extrapolation(context: Tensor, n_future: int, flow: Tensor | None = None) -> Tensor:
    """Constant-velocity extrapolation of the last frame along its optical flow.

    With ``flow`` the backward flow of the last step (``last(p) ≈ previous(p + flow(p))``),
    a pixel that moved by ``-flow`` over the last step is assumed to keep moving the same
    way, so frame ``k`` ahead is ``last(p + k * flow(p))``: one bilinear resampling of the
    real last frame per predicted frame (extrapolating k times the flow, not warping
    predictions recursively, which would blur with every step). The flow sampled at the
    *target* pixel stands in for the flow of the pixel that will land there: exact for
    smooth motion fields, wrong at occlusion boundaries, as for any single-flow baseline.

    Args:
        context: ``(B, C, T, H, W)`` in ``[-1, 1]``, ``T >= 2``.
        n_future: frames to predict, >= 1.
        flow: ``(B, 2, H, W)`` backward flow of the last step; computed with
            :func:`~vidpred.evaluation.flow.backward_flow` when None.

    Returns:
        ``(B, C, n_future, H, W)`` in ``[-1, 1]``.
    """
    if n_future < 1:
        raise ValueError(f"n_future must be >= 1, got {n_future}")
    if flow is None:
        flow = backward_flow(context)
    last = context[:, :, -1]
    return torch.stack([warp(last, k * flow) for k in range(1, n_future + 1)], dim=2)

"""The moving-area mask of the evaluation, and the optical flow it is judged by.

The paper scores "moving areas" judged by EpicFlow between the last two frames; EpicFlow is
not available here, so vidpred uses OpenCV's Farneback dense flow
(:func:`~vidpred.models.optical_flow.farneback_flow`) on the grey-level frames: the *backward*
flow from the last context frame to the one before it, defined at the pixels of the last
context frame. The same flow drives the Farneback extrapolation baseline; DIS flow
(:func:`~vidpred.models.optical_flow.dis_flow`) drives the DIS baseline.
"""

from __future__ import annotations

from torch import Tensor

from vidpred.models.optical_flow import (DIS_PRESET, FARNEBACK_PARAMS, FLOW_METHODS, backward_flow, dis_flow,
                                         farneback_flow)

__all__ = ["FARNEBACK_PARAMS", "DIS_PRESET", "DEFAULT_FLOW_THRESHOLD", "FLOW_METHODS", "farneback_flow", "dis_flow",
           "backward_flow", "moving_mask"]

# Pixels move when |flow| > 0.5 px per frame. Measured with these parameters on textured
# 240x320 frames: a static scene re-encoded as JPEG (quality 50-95, grey-level noise of
# sigma 2) reads 0.03-0.06 px at the median and at most 0.2 px at the 99th percentile
# (isolated pixels up to 0.54), while true shifts of 0.25-4 px are measured within
# 0.01 px. 0.5 px is clear of that noise; 1 px would sit exactly on the procedural data's
# camera pan (1 px per frame) and split its background at random.
DEFAULT_FLOW_THRESHOLD = 0.5


def moving_mask(flow: Tensor, threshold: float = DEFAULT_FLOW_THRESHOLD) -> Tensor:
    """Pixels whose flow magnitude exceeds ``threshold``.

    Args:
        flow: ``(B, 2, H, W)`` in pixels.
        threshold: pixels per frame (default 0.5; see :data:`DEFAULT_FLOW_THRESHOLD`).

    Returns:
        ``(B, 1, H, W)`` bool, True = moving.
    """
    if flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f"moving_mask expects a (B, 2, H, W) flow, got {tuple(flow.shape)}")
    return flow.float().norm(dim=1, keepdim=True) > threshold

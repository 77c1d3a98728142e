"""Backward warping by a dense flow field, and flow fields as colour-wheel pictures.

One warp serves the flow-extrapolation baselines, the pyramid's flow head and the
refiner: ``out(p) = frames(p + flow(p))``, bilinear, with the border replicated.
"""

from __future__ import annotations

import math

import kornia
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["warp", "flow_to_color"]


def warp(frames: Tensor, flow: Tensor, mode: str = "bilinear") -> Tensor:
    """Backward warp: ``out(p) = frames(p + flow(p))``, bilinear, borders replicated.

    Computed in float32 outside autocast (``grid_sample`` sums four weighted neighbours; in
    bf16 a flow of a few pixels would lose its sub-pixel part), returned in ``frames``' dtype.

    Args:
        frames: ``(B, C, H, W)``, any range.
        flow: ``(B, 2, H, W)`` (x, y) in pixels of ``frames``.
        mode: ``"bilinear"`` (everything vidpred predicts) or ``"bicubic"`` (compared in
            :mod:`vidpred.evaluation.extrapolation_rules`; it can overshoot the input range).

    Returns:
        ``(B, C, H, W)``; bilinear: a convex combination of input pixels, so ``[-1, 1]`` stays
        ``[-1, 1]``.

    Example:
        >>> frames = torch.arange(12.0).reshape(1, 1, 3, 4)
        >>> flow = torch.zeros(1, 2, 3, 4); flow[:, 0] = 1.0  # sample one pixel to the right
        >>> warp(frames, flow)[0, 0, 0].tolist()
        [1.0, 2.0, 3.0, 3.0]
    """
    if frames.dim() != 4 or flow.shape != (frames.shape[0], 2, *frames.shape[-2:]):
        raise ValueError(f"warp expects frames (B, C, H, W) and flow (B, 2, H, W), got "
                         f"{tuple(frames.shape)} and {tuple(flow.shape)}")
    B, _, H, W = frames.shape
    with torch.autocast(frames.device.type, enabled=False):
        ys, xs = torch.meshgrid(torch.arange(H, device=frames.device, dtype=torch.float32),
                                torch.arange(W, device=frames.device, dtype=torch.float32), indexing="ij")
        x = xs + flow[:, 0].float()  # (B, H, W), sampling positions in pixels
        y = ys + flow[:, 1].float()
        # align_corners=True maps -1 and 1 to the centres of the first and last pixels.
        grid = torch.stack([2 * x / max(W - 1, 1) - 1, 2 * y / max(H - 1, 1) - 1], dim=-1)  # (B, H, W, 2)
        out = F.grid_sample(frames.float(), grid, mode=mode, padding_mode="border", align_corners=True)
    return out.to(frames.dtype)


def flow_to_color(flow: Tensor, max_magnitude: float | None = None) -> Tensor:
    """Colour-wheel picture of a flow field: hue is the direction, saturation the speed.

    Args:
        flow: ``(B, 2, H, W)`` (x, y) in pixels.
        max_magnitude: speed shown fully saturated; default the largest in each image
            (at least 1e-6, so zero flow is white).

    Returns:
        ``(B, 3, H, W)`` RGB in ``[0, 1]``; white where nothing moves.
    """
    if flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f"flow_to_color expects a (B, 2, H, W) flow, got {tuple(flow.shape)}")
    flow = flow.detach().float()
    magnitude = flow.norm(dim=1, keepdim=True)  # (B, 1, H, W)
    if max_magnitude is None:
        scale = magnitude.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)
    else:
        scale = torch.full_like(magnitude[:, :, :1, :1], max(max_magnitude, 1e-6))
    hue = torch.atan2(flow[:, 1:2], flow[:, 0:1]) % (2 * math.pi)
    saturation = (magnitude / scale).clamp(0, 1)
    hsv = torch.cat([hue, saturation, torch.ones_like(hue)], dim=1)
    return kornia.color.hsv_to_rgb(hsv).clamp(0, 1)

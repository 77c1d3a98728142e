"""Backward and forward warping by a dense flow field, and flow fields as colour-wheel pictures.

One warp serves the flow-extrapolation baselines, the pyramid's flow head and the
refiner: ``out(p) = frames(p + flow(p))``, bilinear, with the border replicated.
:func:`splat` moves pixels forward instead, each to ``p + offset(p)``: where a subject
moves over a still background, its front edge arrives with it.
"""

from __future__ import annotations

import math

import kornia
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["warp", "sample_at", "splat", "flow_to_color"]


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
    H, W = frames.shape[-2:]
    ys, xs = torch.meshgrid(torch.arange(H, device=frames.device, dtype=torch.float32),
                            torch.arange(W, device=frames.device, dtype=torch.float32), indexing="ij")
    return sample_at(frames, xs + flow[:, 0].float(), ys + flow[:, 1].float(), mode)


def sample_at(frames: Tensor, x: Tensor, y: Tensor, mode: str = "bilinear") -> Tensor:
    """``frames`` ``(B, C, H, W)`` sampled at the positions ``(x, y)``, each ``(B, h, w)`` in
    pixels of ``frames`` (any ``h``, ``w``), borders replicated: ``(B, C, h, w)`` in
    ``frames``' dtype, computed in float32 (:func:`warp` samples at ``p + flow(p)``)."""
    H, W = frames.shape[-2:]
    with torch.autocast(frames.device.type, enabled=False):
        # align_corners=True maps -1 and 1 to the centres of the first and last pixels. Filled
        # in place: torch.stack along the last dimension took longer than the sampling here.
        grid = torch.empty(*x.shape, 2, dtype=torch.float32, device=x.device)
        grid[..., 0] = 2 * x.float() / max(W - 1, 1) - 1
        grid[..., 1] = 2 * y.float() / max(H - 1, 1) - 1
        out = F.grid_sample(frames.float(), grid, mode=mode, padding_mode="border", align_corners=True)
    return out.to(frames.dtype)


def splat(frames: Tensor, offset: Tensor, importance: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Forward warp: each pixel ``p`` of ``frames`` moved to ``p + offset(p)``, bilinearly.

    Where pixels land together, each counts in proportion to its bilinear weight times
    ``exp(importance)`` (softmax splatting, Niklaus & Liu 2020), relative to the most
    important pixel landing there: an importance a few units above the others' puts a
    pixel in front, as a z-buffer would. Computed in float32 outside autocast; no gradient
    reaches ``offset`` through the landing places (only through the bilinear weights).

    Args:
        frames: ``(B, C, H, W)``, any range.
        offset: ``(B, 2, H, W)`` (x, y) in pixels.
        importance: ``(B, 1, H, W)``, or None (every pixel alike: where several land, their mean).

    Returns:
        ``(moved, coverage)``: ``(B, C, H, W)``, 0 where nothing lands, and ``(B, 1, H, W)``, the
        sum of the bilinear weights landing on each pixel: about 1 where the motion is smooth,
        0 in the holes it opens, above 1 where pixels pile up.

    Example:
        >>> frames = torch.arange(4.0).reshape(1, 1, 1, 4)
        >>> offset = torch.zeros(1, 2, 1, 4); offset[:, 0] = 1.0  # one pixel to the right
        >>> moved, coverage = splat(frames, offset)
        >>> moved[0, 0, 0].tolist(), coverage[0, 0, 0].tolist()
        ([0.0, 0.0, 1.0, 2.0], [0.0, 1.0, 1.0, 1.0])
    """
    if frames.dim() != 4 or offset.shape != (frames.shape[0], 2, *frames.shape[-2:]):
        raise ValueError(f"splat expects frames (B, C, H, W) and offset (B, 2, H, W), got "
                         f"{tuple(frames.shape)} and {tuple(offset.shape)}")
    B, C, H, W = frames.shape
    if importance is not None and importance.shape != (B, 1, H, W):
        raise ValueError(f"importance must be (B, 1, H, W) = {(B, 1, H, W)}, got {tuple(importance.shape)}")
    device = frames.device
    with torch.autocast(device.type, enabled=False):
        ys, xs = torch.meshgrid(torch.arange(H, device=device, dtype=torch.float32),
                                torch.arange(W, device=device, dtype=torch.float32), indexing="ij")
        x = (xs + offset[:, 0].float()).flatten()  # (B H W,), batch after batch
        y = (ys + offset[:, 1].float()).flatten()
        first = torch.arange(B, device=device).repeat_interleave(H * W) * (H * W)  # each pixel's batch start
        z = torch.zeros(B * H * W, device=device) if importance is None else importance.float().flatten()
        x0, y0 = x.detach().floor(), y.detach().floor()
        corners = []  # per corner: the pixels landing inside, where they land, their bilinear weights
        for xi, yi in ((x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1)):
            inside = ((xi >= 0) & (xi <= W - 1) & (yi >= 0) & (yi <= H - 1)).nonzero().squeeze(1)
            target = first[inside] + (yi[inside] * W + xi[inside]).long()
            bilinear = (1 - (x[inside] - xi[inside]).abs()) * (1 - (y[inside] - yi[inside]).abs())
            corners.append((inside, target, bilinear))
        front = torch.full((B * H * W,), -math.inf, device=device)  # the largest importance landing on each pixel
        for inside, target, _ in corners:
            front.scatter_reduce_(0, target, z[inside].detach(), reduce="amax")
        values = frames.float().permute(1, 0, 2, 3).reshape(C, -1)
        moved = torch.zeros(C, B * H * W, device=device)
        weight = torch.zeros(B * H * W, device=device)
        coverage = torch.zeros(B * H * W, device=device)
        for inside, target, bilinear in corners:
            w = bilinear * (z[inside] - front[target]).exp()  # at most the bilinear weight: no overflow
            moved = moved.index_add(1, target, values[:, inside] * w)
            weight = weight.index_add(0, target, w)
            coverage = coverage.index_add(0, target, bilinear)
        moved = moved / weight.clamp_min(1e-12)
    moved = moved.reshape(C, B, H, W).permute(1, 0, 2, 3).to(frames.dtype)
    return moved, coverage.reshape(B, 1, H, W)


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

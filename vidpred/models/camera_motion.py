"""The camera's share of a flow field: the homography that best explains it.

A camera that pans, zooms or rolls over a scene (or turns in place over any scene) moves
the picture by a homography. Fitted to a dense flow with RANSAC, that homography is the
camera's motion; what it does not explain is the motion of subjects of their own (and
parallax). :func:`camera_flow` returns it as a flow field, which the refiner's followed
candidate (:mod:`vidpred.models.refiner`, ``camera_still``) keeps where it is while the rest
travels with the content: a steady zoom's flow field holds still in the frame, a subject's
motion moves with the subject.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import Tensor

__all__ = ["camera_flow", "homographies"]

# About this many sample points per side of the frame (at least every 4 px).
_GRID = 40


def homographies(flow: Tensor, threshold: float = 1.0) -> list[np.ndarray | None]:
    """The homography that best explains each flow field (RANSAC on a grid of its vectors).

    Args:
        flow: ``(B, 2, H, W)`` flows in pixels, x then y (``p`` moves to ``p + flow(p)``).
        threshold: RANSAC's inlier distance, pixels.

    Returns:
        For each field, the ``3x3`` float64 matrix ``h`` taking ``p`` to ``h(p)`` in
        homogeneous pixel coordinates, or None where no homography could be fitted.
    """
    if flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f"flow must be (B, 2, H, W), got {tuple(flow.shape)}")
    H, W = flow.shape[-2:]
    step = max(4, min(H, W) // _GRID)
    ys, xs = np.mgrid[step // 2:H:step, step // 2:W:step].reshape(2, -1)
    if len(xs) < 4:
        return [None] * flow.shape[0]
    source = np.stack([xs, ys], 1).astype(np.float32)
    samples = flow.detach()[:, :, ys, xs].float().cpu().numpy()  # (B, 2, N)
    return [cv2.findHomography(source, source + field.T, cv2.RANSAC, threshold)[0] for field in samples]


def camera_flow(flow: Tensor, threshold: float = 1.0) -> Tensor:
    """The homography that best explains each flow field, as a flow field.

    Args:
        flow: ``(B, 2, H, W)`` flows in pixels, x then y (``p`` moves to ``p + flow(p)``).
        threshold: RANSAC's inlier distance, pixels.

    Returns:
        ``(B, 2, H, W)`` float32 on ``flow``'s device: ``h(p) - p`` for each field's fitted
        homography ``h`` (:func:`homographies`; zero where none could be fitted). Not
        differentiable.
    """
    fitted = homographies(flow, threshold)
    B, _, H, W = flow.shape
    gy, gx = np.mgrid[0:H, 0:W].astype(np.float64)
    pixels = np.stack([gx, gy, np.ones_like(gx)], -1)
    out = np.zeros((B, 2, H, W), dtype=np.float32)
    for b, homography in enumerate(fitted):
        if homography is None:
            continue
        mapped = pixels @ homography.T
        out[b, 0] = mapped[..., 0] / mapped[..., 2] - gx
        out[b, 1] = mapped[..., 1] / mapped[..., 2] - gy
    return torch.from_numpy(out).to(flow.device)

"""Cuts between scenes and fast pans among a context's steps, read from the steps' flows.

A step whose flow explains almost none of its change cuts from one scene to another
(:func:`scene_cut_steps`), unless one shift of the whole frame explains it: a pan too fast
for DIS's pyramid (:func:`fast_pans`). A step under the cut line that the whole frame moves
by several pixels may still be a pan DIS reached only in part (:func:`restarted_pans`). The
refiner (``vidpred/models/refiner.py``) reads these before its network sees the context;
what each rule gains and costs is in docs/results.md ("Cuts between scenes", "Fast pans read
as cuts", "Fast pans under the cut line").
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from vidpred.models._frames import shrunk, working_size
from vidpred.models.optical_flow import dis_flow
from vidpred.models.warp import warp

__all__ = ["SCENE_CUT_RESIDUAL", "cut_greys", "fast_pans", "frame_shift", "from_newest_scene", "restarted_pans",
           "scene_cut_steps", "shift_started_flow", "shifted_change", "unexplained_change"]

# A context step is a cut between scenes when its flow leaves this much of the change
# unexplained (scene_cut_steps): the mean absolute difference of the standardized grey levels.
# On the corpus's validation videos, steps within a scene reach 0.245 (fast motion blur on
# bikes.mp4) and its cuts start at 0.81 (docs/results.md, "Cuts between scenes").
SCENE_CUT_RESIDUAL = 0.4
# With pans_not_cuts, a step over that line is still no cut when one shift of the whole frame
# leaves no more of the change unexplained over the pixels both frames show, at least
# _MIN_SHARED of them: a pan too fast for DIS's flow on small frames. The shift is phase
# correlation's, and only one whose peak reaches _MIN_PEAK (1 for a frame that moves whole,
# about 0 between unrelated frames) is taken. On the validation videos shrunk to 144 rows and
# panned by up to 128 px a frame, the steps over the line that one shift explains peak at
# 0.45-0.79, a flat video whose shift was misfound at 0.15-0.20, and bikes.mp4's cuts at
# 0.13 or less (docs/results.md, "Fast pans read as cuts").
_MIN_SHARED = 0.5
_MIN_PEAK = 0.3
# With pan_restarts, a step under that line whose whole frame phase correlation finds moving
# by at least _MIN_RESTART pixels (its peak at least _MIN_PEAK) is flowed again by DIS started
# from that shift, the new flow kept where it leaves at most _RESTART_GAIN of the first one's
# change unexplained: a pan DIS's pyramid reaches only in part. On the validation videos'
# steady pans (up to 32 and 64 px a frame as they are; up to 64 and 128 px at 144 rows), the
# newest steps so replaced moved 19-37 px, none lost more than 0.06 dB in DIS's extrapolation
# and the others gained up to 25 dB, where taking any new flow that explains more lost up to
# 0.61 (docs/results.md, "Fast pans under the cut line"). Slower steps DIS's pyramid reaches:
# the gate spares them a second flow.
_MIN_RESTART = 8.0
_RESTART_GAIN = 0.9
# A frame flatter than this standard deviation of its grey levels (in [-1, 1]) is not
# stretched further by the standardization: its noise would pass for a cut.
_FLAT_FRAME_STD = 0.02


def scene_cut_steps(context: Tensor, steps: list[Tensor], greys: list[Tensor] | None = None,
                    pans: bool = False, residuals: Tensor | None = None) -> Tensor:
    """Which of the last context steps cut from one scene to another: ``(B, len(steps))``
    bool, newest step first: those whose :func:`unexplained_change` exceeds
    :data:`SCENE_CUT_RESIDUAL` (with ``pans``, but for the :func:`fast_pans`).

    Args:
        context: ``(B, C, T, H, W)``.
        steps: ``dis_flows_back(context, n)``: ``steps[j]`` from frame ``T-1-j`` back to ``T-2-j``.
        greys: the frames' grey levels at a quarter of the frame size (:func:`cut_greys`), where
            the caller has them.
        pans: a step one shift of the whole frame explains is no cut (a pan faster than the
            flow reaches).
        residuals: ``unexplained_change(context, steps, greys)``, where the caller has it.
    """
    greys = cut_greys(context) if greys is None else greys
    residuals = unexplained_change(context, steps, greys) if residuals is None else residuals
    cuts = residuals > SCENE_CUT_RESIDUAL
    if pans:
        for b, j in fast_pans(context, cuts, greys):
            cuts[b, j] = False
    return cuts


def fast_pans(context: Tensor, over: Tensor, greys: list[Tensor] | None = None) -> dict[tuple[int, int], Tensor]:
    """Of the steps ``over`` the cut line (``(B, n)`` bool, newest first), those one shift of
    the whole frame explains (:func:`frame_shift` no further from it than the line): for each,
    ``(b, j)`` -> that shift as a backward flow in the frame's pixels, ``(2,)`` (x, y)."""
    T, H, W = context.shape[2], *context.shape[-2:]
    greys = cut_greys(context) if greys is None else greys
    h, w = greys[0].shape[-2:]
    pans = {}
    for b, j in over.nonzero().tolist():
        misfit, (dx, dy) = frame_shift(greys[T - 1 - j][b, 0], greys[T - 2 - j][b, 0])
        if misfit <= SCENE_CUT_RESIDUAL:  # later(p) = earlier(p - d): the backward flow is -d
            pans[(b, j)] = torch.tensor([-dx * W / w, -dy * H / h], dtype=torch.float32)
    return pans


def shifted_change(later: Tensor, earlier: Tensor) -> float:
    """How much of a step one shift of the whole frame leaves unexplained: :func:`frame_shift`'s
    misfit."""
    return frame_shift(later, earlier)[0]


def frame_shift(later: Tensor, earlier: Tensor) -> tuple[float, tuple[float, float]]:
    """The one shift of the whole frame that best explains a step, and how much of the step
    it leaves unexplained: over the shifts within half a pixel (in quarters) of the one phase
    correlation finds from ``earlier`` to ``later`` (``(h, w)`` grey levels; its sub-pixel
    estimate is a quarter pixel off on small frames), the least mean absolute difference of
    the two frames' grey levels over the pixels both show, each standardized there (as
    :func:`unexplained_change` measures along a flow), and that shift ``(dx, dy)``:
    ``later(p) ≈ earlier(p - (dx, dy))``. The misfit is infinite where the frames share fewer
    than :data:`_MIN_SHARED` of the pixels, or where phase correlation's peak is under
    :data:`_MIN_PEAK` (no one shift moves the frame)."""
    a, b = (x.detach().float().cpu().numpy() for x in (later, earlier))
    (dx, dy), peak = _phase_shift(a, b)
    if peak < _MIN_PEAK:
        return float("inf"), (dx, dy)
    offsets = np.arange(-2, 3) / 4
    return min((_shifted_misfit(a, b, dx + ox, dy + oy), (dx + ox, dy + oy)) for ox in offsets for oy in offsets)


def _phase_shift(later: np.ndarray, earlier: np.ndarray) -> tuple[tuple[float, float], float]:
    """Phase correlation's shift ``(dx, dy)`` from ``earlier`` to ``later`` (float32 ``(h, w)``),
    ``later(p) ≈ earlier(p - (dx, dy))``, and its peak (1 for a frame that moves whole, about 0
    between unrelated frames); each frame tapered to its edges by a Hann window first."""
    h, w = later.shape
    return cv2.phaseCorrelate(earlier, later, cv2.createHanningWindow((w, h), cv2.CV_32F))


def restarted_pans(context: Tensor, steps: list[Tensor], greys: list[Tensor], residuals: Tensor | None = None,
                   refine_newest: bool = False) -> list[Tensor]:
    """``steps`` (:func:`~vidpred.models.optical_flow.dis_flows_back`'s, newest first) with each
    step under the cut line that the whole frame moves by :data:`_MIN_RESTART` pixels or more
    (phase correlation's shift on the cut score's ``greys``, its peak at least :data:`_MIN_PEAK`)
    flowed again by DIS started from that shift, where the new flow leaves at most
    :data:`_RESTART_GAIN` of the first one's change unexplained (:func:`unexplained_change`): a
    pan that DIS's pyramid reaches only in part. ``residuals``: ``unexplained_change(context,
    steps, greys)``, where the caller has it. ``refine_newest``: the newest step's new flow
    refined as its first was. New tensors: the caller's ``steps`` are left as they were. A
    step under the cut line stays under it, so the cuts the first flows give are the cuts."""
    T, H, W = context.shape[2], *context.shape[-2:]
    h, w = greys[0].shape[-2:]
    steps = [flow.clone() for flow in steps]
    residuals = unexplained_change(context, steps, greys) if residuals is None else residuals
    for b, j in (residuals <= SCENE_CUT_RESIDUAL).nonzero().tolist():
        later, earlier = (greys[t][b, 0].detach().float().cpu().numpy() for t in (T - 1 - j, T - 2 - j))
        (dx, dy), peak = _phase_shift(later, earlier)
        shift = (-dx * W / w, -dy * H / h)  # the backward flow, in the frame's pixels
        if peak < _MIN_PEAK or math.hypot(*shift) < _MIN_RESTART:
            continue
        flow = shift_started_flow(context, b, j, shift, refine_newest)
        frames = context[b:b + 1, :, :T - j]  # the step's later frame newest
        residual = unexplained_change(frames, [flow], [grey[b:b + 1] for grey in greys[:T - j]])[0, 0]
        if residual <= _RESTART_GAIN * residuals[b, j]:
            steps[j][b] = flow[0]
    return steps


def shift_started_flow(context: Tensor, b: int, j: int, shift: Tensor | tuple[float, float],
                       refine_newest: bool = False) -> Tensor:
    """DIS's backward flow of clip ``b``'s step ``j`` (newest first) of ``context``
    (``(B, C, T, H, W)``), started from ``shift`` (the whole frame's backward flow ``(x, y)``,
    in the frame's pixels) instead of from still: ``(1, 2, H, W)``. ``refine_newest``: refined
    at full size where ``j`` is the newest step."""
    T, H, W = context.shape[2], *context.shape[-2:]
    start = torch.as_tensor(shift, dtype=torch.float32, device=context.device).view(1, 2, 1, 1).expand(1, 2, H, W)
    later, earlier = context[b:b + 1, :, T - 1 - j], context[b:b + 1, :, T - 2 - j]
    return dis_flow(later, earlier, refine=refine_newest and j == 0, start=start)


def _shifted_misfit(later: np.ndarray, earlier: np.ndarray, dx: float, dy: float) -> float:
    """:func:`frame_shift`'s misfit for ``later(p) = earlier(p - (dx, dy))``."""
    h, w = later.shape
    moved = cv2.warpAffine(earlier, np.float32([[1, 0, dx], [0, 1, dy]]), (w, h), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=float("nan"))
    shared = ~np.isnan(moved)
    if shared.mean() < _MIN_SHARED:
        return float("inf")
    a, b = later[shared], moved[shared]
    a = (a - a.mean()) / max(float(a.std()), _FLAT_FRAME_STD)
    b = (b - b.mean()) / max(float(b.std()), _FLAT_FRAME_STD)
    return float(np.abs(a - b).mean())


def unexplained_change(context: Tensor, steps: list[Tensor], greys: list[Tensor] | None = None) -> Tensor:
    """How much of each of the last context steps its backward flow ``steps[j]`` leaves
    unexplained: ``(B, len(steps))``, the mean absolute difference between the step's later
    frame and its earlier frame warped along the flow, both in grey levels area-averaged to
    a quarter of the frame size (the refiner's working size; so sensor noise counts for
    little) and standardized over the frame (zero mean, unit standard deviation), so that a
    change of brightness or contrast alone explains itself. About 0.01-0.1 within a scene
    (up to 0.2 under strong grain), 0.5-1 between unrelated frames.

    Args:
        context: ``(B, C, T, H, W)``.
        steps: ``dis_flows_back(context, n)``: ``steps[j]`` from frame ``T-1-j`` back to ``T-2-j``.
        greys: the ``T`` frames' grey levels at that size, ``(B, 1, h, w)`` each, where the
            caller has them; else made here.
    """
    T, H, W = context.shape[2], *context.shape[-2:]
    greys = cut_greys(context) if greys is None else greys
    h, w = greys[0].shape[-2:]
    to_small = torch.tensor([w / W, h / H], device=context.device).view(1, 2, 1, 1)
    residuals = []
    for j, flow in enumerate(steps):
        moved = warp(greys[T - 2 - j], F.interpolate(flow, size=(h, w), mode="nearest") * to_small)
        residuals.append((_standardized(greys[T - 1 - j]) - _standardized(moved)).abs().mean(dim=(1, 2, 3)))
    return torch.stack(residuals, dim=1)


def cut_greys(context: Tensor) -> list[Tensor]:
    """Each context frame's grey levels area-averaged to a quarter of the frame size, as the
    cut scores read them (:func:`unexplained_change`, :func:`shifted_change`): ``T`` tensors
    ``(B, 1, h, w)`` float32."""
    size = working_size(*context.shape[-2:], 4)
    return [shrunk(context[:, :, t].float().mean(dim=1, keepdim=True), size) for t in range(context.shape[2])]


def _standardized(grey: Tensor) -> Tensor:
    """``(B, 1, H, W)`` to zero mean and unit standard deviation over each frame."""
    mean = grey.mean(dim=(2, 3), keepdim=True)
    return (grey - mean) / (grey - mean).square().mean(dim=(2, 3), keepdim=True).sqrt().clamp_min(_FLAT_FRAME_STD)


def from_newest_scene(context: Tensor, steps: list[Tensor],
                      cuts: Tensor | None = None) -> tuple[Tensor, list[Tensor], Tensor]:
    """The context as it would be had the newest scene begun with it: in each clip whose
    last steps hold a cut (``cuts``, else :func:`scene_cut_steps`), the frames before the
    newest cut are the first frame after it, and the steps' flows from there back are zero
    (still).

    Returns:
        the context, the steps' flows, and ``(B,)`` bool: the newest step is the cut (the
        newest frame is the only one of its scene).
    """
    cuts = scene_cut_steps(context, steps) if cuts is None else cuts
    if not cuts.any():
        return context, steps, cuts[:, 0]
    T, n = context.shape[2], len(steps)
    context, steps = context.clone(), [step.clone() for step in steps]
    for b in torch.nonzero(cuts.any(dim=1)).flatten().tolist():
        j = int(torch.nonzero(cuts[b]).min())  # the newest cut: between frames T-2-j and T-1-j
        context[b, :, :T - 1 - j] = context[b, :, T - 1 - j:T - j]
        for k in range(j, n):
            steps[k][b] = 0.0
    return context, steps, cuts[:, 0]

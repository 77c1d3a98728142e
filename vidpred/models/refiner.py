"""Flow-refining next-frame predictor: classical flow in, a learned choice of motion out.

Constant-velocity extrapolation along the last step's optical flow (OpenCV's DIS) is the
strongest simple predictor on footage with a moving camera; what it gets wrong is the
*forecast* (the camera's next move is not its last one, a noisy flow moves still texture).
:class:`FlowRefiner` keeps the classical estimate and learns where to depart from it, as
SDC-Net refines the flows of a frozen estimator:

1. DIS backward flows of the last ``n_flows`` context steps, each brought to the newest
   frame's pixels (``f1``: newest -> previous; ``f2``: previous -> the one before, sampled
   along ``f1``; ...); with ``scene_cuts``, a step its flow cannot explain is a cut between
   scenes, and the context starts there (:func:`from_newest_scene`);
2. candidate velocities from them (:meth:`FlowRefiner.candidates`: still, ``f1``, ``f1``
   followed to where the content goes, means over the last steps);
3. a small U-Net at ``1/scale`` of the frame size sees the context frames, those flows and
   how well ``f1`` explains the last step, and outputs per-pixel softmax weights over the
   candidates (and, with ``max_correction > 0``, a bounded velocity correction);
4. frame ``k`` ahead is the newest real frame sampled at ``p + flow_k(p)``, the velocity
   followed ``k`` steps (:meth:`VelocityPredictor.rollout_with_motion`: ``k v(p)`` in the
   ``linear`` rollout, each step continuing from where the one before ended in the
   ``composed`` one the shipped model uses): every predicted frame is *one* resampling of
   a real frame, so the 2nd frame is not a warp of a warp, and texture is moved, not
   redrawn (sharp output); with ``fades``, in a context whose steps all change its
   brightness alike (:func:`fade_rate`), that frame is relit to carry the fade on.

With the default candidates the weights start at 0.93 on ``f1``, so an untrained model is
close to DIS-flow extrapolation. The flows and the network run at a reduced size, the warp at the full
size (as DMVFN and RIFE do): 3.6 GFLOPs for a 640x360 frame besides the three flows.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vidpred.models.camera_motion import camera_flow
from vidpred.models.optical_flow import dis_flow, dis_flows_back, farneback_flow
from vidpred.models.warp import sample_at, splat, warp

__all__ = ["FlowRefiner", "VelocityPredictor", "context_flows", "scene_cut_steps", "cut_greys", "fast_pans",
           "frame_shift", "shifted_change", "unexplained_change", "from_newest_scene",
           "changed_fractions", "repeated_steps", "repeats_among", "without_repeats",
           "brightness_steps", "fade_pivots", "fade_rate", "Fade", "fade_levelled", "brightened", "step_changes",
           "dissolving", "step_ratios", "skipped_newest", "entered", "followed_within",
           "REFINER_WIDTH", "ROLLOUTS", "SCENE_CUT_RESIDUAL", "REPEAT_CHANGED", "REPEAT_RATIO", "FADE_STEP", "FADE_SPREAD",
           "DISSOLVE_CORRELATION", "DISSOLVE_SLOPE", "SKIPPED_RATIO", "STEADY_RATIO"]

REFINER_WIDTH = 32  # feature maps of the first level at model.generator.width 1

# Flows enter the network in units of this many working-size pixels, so typical motion is O(1).
_FLOW_UNIT = 4.0
_OUT_INIT_SCALE = 0.1
# Initial logit of the last step's velocity (the others start at 0): the untrained model
# is nearly DIS-flow extrapolation.
_LAST_STEP_LOGIT = 4.0
# Initial logit of the motion's persistence after the 1st frame: sigmoid(4) = 0.98, nearly
# constant velocity.
_PERSISTENCE_LOGIT = 4.0
# The network's logit outputs are multiplied by this, so a learning-rate step moves the
# choice between candidates as fast as it moves the correction.
_LOGIT_SCALE = 8.0
# The default bound (tanh) of the velocity correction, in working-size pixels. Even bounded,
# the correction can run to its bound everywhere after a few thousand iterations, where
# its gradient vanishes and training never recovers (docs/results.md): the shipped config
# keeps this bound and stops at 1,500 iterations, before that happens.
_MAX_CORRECTION = 4.0
# The projected candidate's z-buffer: where a step's content lands on the same pixel, the
# faster in front (for a camera moving through a still scene, the nearer), one pixel a step
# faster weighing e^4 times as much.
_PROJECTION_ORDER = 4.0
# Below this sum of bilinear weights landing on a pixel, the projected candidate has a hole
# there (content it cannot know appears) and takes the followed candidate's velocity.
_MIN_COVERAGE = 0.5
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
# A context step repeats its earlier frame (a frame shown twice, as a conversion to a higher
# frame rate or a camera that drops a frame shows it) when fewer than REPEAT_CHANGED of its
# pixels change by _CHANGE_LEVEL or more, while the step before it changed at least
# REPEAT_CHANGED of them and more than 1 / REPEAT_RATIO times as many as it (so a still scene
# filmed without noise is no repeat, nor is a hold). The corpus's repeated frames
# (bigbuckbunny.mp4's conversion, cup.mp4's, mbt-cube's capture) change 0-0.9% of their
# pixels after steps changing 7-53%; the steps after a moving one that come closest without
# being repeats change 1.6-2.0%, with the step before them under five times as many
# (docs/results.md, "Repeated frames").
REPEAT_CHANGED = 0.02
REPEAT_RATIO = 0.2
_CHANGE_LEVEL = 3 * 2 / 255  # 3 grey levels of 255, in [-1, 1]
# A context is a steady fade (an edit's fade to or from black, a camera's exposure settling)
# when every step's brightness (brightness_steps: the median log ratio of its pixels, read
# along its flow) changes the same way, by at least FADE_STEP, and no step's change differs
# from the newest's by more than FADE_SPREAD of it: flicker's independent exposures seldom
# line up so (0.6-0.7% of contexts of ±10% flicker), and a scene whose light holds reads
# far under FADE_STEP (docs/results.md, "Fades").
FADE_STEP = 0.01
FADE_SPREAD = 0.5
# A context is a cross-dissolve (an edit mixing the next scene in over a few frames) when each
# of its three steps changes the picture in a way its motion and its change of brightness do
# not explain (step_changes), and each step's such change repeats the one before it: their
# correlation over the pixels above DISSOLVE_CORRELATION, the newer's least-squares slope on
# the older within DISSOLVE_SLOPE. None of the validation videos' 60 clips as they are, nor
# under flicker, passes (noise and occlusions do not repeat; flicker is a change of
# brightness); 48 of the same clips made dissolves do (docs/results.md, "Cross-dissolves").
# Read at full size: shrunk, a step's motion blur and occlusions repeat enough to pass.
DISSOLVE_CORRELATION = 0.5
DISSOLVE_SLOPE = (0.5, 2.0)
# ... and each such change is at least this root-mean-square (half a grey level of 255, in
# [-1, 1]): steps that change nothing (a still picture, a frame shown twice) do not repeat a change.
_DISSOLVE_MIN_CHANGE = 1 / 255
# A context's newest step skips a frame (a conversion to a lower frame rate leaves one in a
# few out; a camera or a call under load drops one) when it moves the content SKIPPED_RATIO
# times as far as the step before, in the same direction, and the step before moves it
# STEADY_RATIO times as far as the one before that (step_ratios: medians over the pixels
# that move in both older steps). Along the test videos as they are, 34 of 1,617 contexts
# come so, most of them where a capture dropped a frame (docs/results.md, "Skipped frames").
SKIPPED_RATIO = (1.6, 2.5)
STEADY_RATIO = (0.7, 1.4)
# The pixels whose flow in a step is under this many pixels do not move in it.
_MOVING_PX = 0.5
# Pixels darker than this share of the range, or as near its top, are left out of a step's
# change of brightness: their 8-bit ratios are coarse, and clipped ones do not scale.
_LIT = 20 / 255
# A frame flatter than this standard deviation of its grey levels (in [-1, 1]) is not
# stretched further by the standardization: its noise would pass for a cut.
_FLAT_FRAME_STD = 0.02


def context_flows(context: Tensor, n_flows: int, refine: bool = False) -> list[Tensor]:
    """DIS backward flows of the last ``n_flows`` steps, all at the newest frame's pixels.

    ``flows[0]`` (``f1``): newest(p) ≈ previous(p + f1(p)). ``flows[j]``: the step j frames
    earlier, sampled where the newest frame's pixel was then (along the composed flows), so
    each is that pixel's displacement over that step.

    Args:
        context: ``(B, C, T, H, W)`` in ``[-1, 1]``, ``T > n_flows``.
        n_flows: steps, >= 1.
        refine: ``f1`` refined at full resolution (``dis_flow(refine=True)``). The older
            flows are left as DIS gives them: they reach the prediction only through the
            network's reduced-size input and the mean candidates, where refining them moved
            no validation score by more than 0.001 dB and cost 12-17 ms each at 640x360
            (docs/ablations.md, "Flows refined at full size").

    Returns:
        ``n_flows`` tensors ``(B, 2, H, W)`` float32, (x, y) in pixels.
    """
    T = context.shape[2]
    if not 1 <= n_flows < T:
        raise ValueError(f"need 1 <= n_flows < T, got n_flows={n_flows} with T={T}")
    with torch.no_grad():
        return _at_newest_pixels(dis_flows_back(context, n_flows, refine_newest=refine))


def _at_newest_pixels(steps: list[Tensor]) -> list[Tensor]:
    """Each step's backward flow (newest step first), the older ones sampled where the
    newest frame's pixel was at that step (:func:`context_flows`)."""
    flows, offset = [steps[0]], steps[0]
    for step in steps[1:]:
        at_pixel = warp(step, offset)  # that step's flow where the pixel was
        flows.append(at_pixel)
        offset = offset + at_pixel
    return flows


def scene_cut_steps(context: Tensor, steps: list[Tensor], greys: list[Tensor] | None = None,
                    pans: bool = False) -> Tensor:
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
    """
    greys = cut_greys(context) if greys is None else greys
    cuts = unexplained_change(context, steps, greys) > SCENE_CUT_RESIDUAL
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


def restarted_pans(context: Tensor, steps: list[Tensor], greys: list[Tensor],
                   refine_newest: bool = False) -> list[Tensor]:
    """``steps`` (:func:`~vidpred.models.optical_flow.dis_flows_back`'s, newest first) with each
    step under the cut line that the whole frame moves by :data:`_MIN_RESTART` pixels or more
    (phase correlation's shift on the cut score's ``greys``, its peak at least :data:`_MIN_PEAK`)
    flowed again by DIS started from that shift, where the new flow leaves at most
    :data:`_RESTART_GAIN` of the first one's change unexplained (:func:`unexplained_change`): a
    pan that DIS's pyramid reaches only in part. ``refine_newest``: the newest step's new flow
    refined as its first was. The other steps' flows are the same tensors."""
    T, H, W = context.shape[2], *context.shape[-2:]
    h, w = greys[0].shape[-2:]
    steps = [flow.clone() for flow in steps]
    residuals = unexplained_change(context, steps, greys)
    for b, j in (residuals <= SCENE_CUT_RESIDUAL).nonzero().tolist():
        later, earlier = (greys[t][b, 0].detach().float().cpu().numpy() for t in (T - 1 - j, T - 2 - j))
        (dx, dy), peak = _phase_shift(later, earlier)
        shift = (-dx * W / w, -dy * H / h)  # the backward flow, in the frame's pixels
        if peak < _MIN_PEAK or math.hypot(*shift) < _MIN_RESTART:
            continue
        frames = context[b:b + 1, :, :T - j]  # the step's later frame newest
        start = torch.tensor(shift, dtype=torch.float32, device=context.device).view(1, 2, 1, 1).expand(1, 2, H, W)
        flow = dis_flow(frames[:, :, -1], frames[:, :, -2], refine=refine_newest and j == 0, start=start)
        if unexplained_change(frames, [flow], [g[b:b + 1] for g in greys[:T - j]])[0, 0] <= _RESTART_GAIN * residuals[b, j]:
            steps[j][b] = flow[0]
    return steps


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
    size = _working_size(*context.shape[-2:], 4)
    return [_shrunk(context[:, :, t].float().mean(dim=1, keepdim=True), size) for t in range(context.shape[2])]


def _working_size(H: int, W: int, scale: int) -> tuple[int, int]:
    """About ``1/scale`` of a frame's size, a multiple of 4 (the U-Net's two stride-2 levels)."""
    return max(4, round(H / (4 * scale)) * 4), max(4, round(W / (4 * scale)) * 4)


def _shrunk(x: Tensor, size: tuple[int, int]) -> Tensor:
    """``(B, c, H, W)`` -> ``(B, c, *size)``, area-averaged (bilinear where it is larger)."""
    H, W = x.shape[-2:]
    return F.interpolate(x, size=size, mode="area" if H >= size[0] and W >= size[1] else "bilinear")


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


def changed_fractions(context: Tensor) -> Tensor:
    """``(B, T - 1)``, newest step first: the fraction of each context step's pixels whose grey
    level (the mean of the channels) changes by 3 levels of 255 or more.

    Args:
        context: ``(B, C, T, H, W)`` in ``[-1, 1]``.
    """
    grey = context.float().mean(dim=1)  # (B, T, H, W)
    changed = ((grey[:, 1:] - grey[:, :-1]).abs() >= _CHANGE_LEVEL).float().mean(dim=(2, 3))
    return changed.flip(1)


def repeated_steps(context: Tensor) -> Tensor:
    """Which context steps show their earlier frame again: ``(B, T - 1)`` bool, newest step
    first. A step repeats when it changes fewer than :data:`REPEAT_CHANGED` of its pixels,
    the step before it at least that many, and the step fewer than :data:`REPEAT_RATIO` times
    as many as the step before it (:func:`changed_fractions`). So no two steps in a row
    repeat, and the oldest step, with no step before it, never does.

    Args:
        context: ``(B, C, T, H, W)`` in ``[-1, 1]``.
    """
    return repeats_among(changed_fractions(context))


def repeats_among(changed: Tensor) -> Tensor:
    """:func:`repeated_steps` from the steps' :func:`changed_fractions` ``(B, n)``, newest first."""
    step, before = changed[:, :-1], changed[:, 1:]
    repeats = (step < REPEAT_CHANGED) & (before >= REPEAT_CHANGED) & (step < REPEAT_RATIO * before)
    return torch.cat([repeats, torch.zeros_like(repeats[:, :1])], dim=1)


def without_repeats(context: Tensor, repeats: Tensor | None = None) -> Tensor:
    """The context with each repeated frame (``repeats``, else :func:`repeated_steps`) taken
    out, the frames after it moved one place older and the oldest frame shown again at the
    start (a step that is still), so every step left is one of the motion's: a frame shown
    twice in a row, as a conversion from 24 to 30 frames a second shows one in four, is
    followed by the motion of the steps before it rather than read as a stop.

    A hold (two or more steps in a row that change nothing) stays a hold: only its first
    step repeats by :func:`repeated_steps`, so its newest step is still, and the motion stops.

    Returns:
        ``(B, C, T, H, W)``: ``context`` itself where no clip has a repeated frame.
    """
    repeats = repeated_steps(context) if repeats is None else repeats
    if not repeats.any():
        return context
    T = context.shape[2]
    out = context.clone()
    for b in torch.nonzero(repeats.any(dim=1)).flatten().tolist():
        kept = [0] + [t for t in range(1, T) if not repeats[b, T - 1 - t]]  # frame t ends step T-1-t
        out[b] = context[b][:, [kept[0]] * (T - len(kept)) + kept]
    return out


def brightness_steps(context: Tensor, flows: list[Tensor] | None = None) -> Tensor:
    """``(B, T - 1)``, newest step first: each context step's change of brightness, the
    median over pixels of the log of their grey level's ratio (every other row and column;
    pixels lit in both frames, between :data:`_LIT` of the range and as far from its top).

    A change of exposure or a fade scales every pixel alike, so the median is its log ratio;
    content moving over the pixels changes them too (a bright surface sliding into view reads
    as a brightening), unless ``flows`` bring the earlier frame's content to the later frame's
    pixels first: ``flows[j]``, the ``j``-th newest step's flow from its later frame back to
    the earlier (:func:`~vidpred.models.optical_flow.dis_flows_back`), pixels whose source
    left the frame left out. 0 where fewer than one pixel in a thousand counts.

    Args:
        context: ``(B, C, T, H, W)`` in ``[-1, 1]``.
        flows: the newest steps' flows ``(B, 2, H, W)`` in pixels, newest first; steps beyond
            them are compared where they stand.
    """
    return torch.stack([_median_log_ratio(*pair) for pair in _step_levels(context, flows)], dim=1)


def fade_pivots(context: Tensor, flows: list[Tensor] | None = None) -> tuple[Tensor, Tensor]:
    """Each clip's steps of brightness read towards the end of the range that describes them
    better: ``(B, T - 1)`` steps, newest first, and ``(B,)`` bool, True where they are read
    towards white.

    A fade to black scales every pixel's level alike (:func:`brightness_steps`); a fade to
    white scales every pixel's distance from white alike, lifting dark pixels more than bright
    ones. Each step is read both ways (the median log ratio of the levels, and of their
    distances from white); a clip is read towards white where, summed over its steps, the
    median absolute error of the later frame's levels so predicted from the earlier's is
    smaller that way. Its steps towards black are :func:`brightness_steps`' to the bit.
    """
    black, white, misfit_black, misfit_white = [], [], 0.0, 0.0
    for later, earlier, counted in _step_levels(context, flows):
        black.append(_median_log_ratio(later, earlier, counted))
        white.append(_median_log_ratio(-later, -earlier, counted))
        misfit_black = misfit_black + _median_misfit(later, earlier, counted, black[-1])
        misfit_white = misfit_white + _median_misfit(-later, -earlier, counted, white[-1])
    towards_white = misfit_white < misfit_black
    return torch.where(towards_white[:, None], torch.stack(white, dim=1), torch.stack(black, dim=1)), towards_white


def _step_levels(context: Tensor, flows: list[Tensor] | None) -> list[tuple[Tensor, Tensor, Tensor]]:
    """Each context step, newest first: its later frame's grey ``(B, 1, h, w)`` at every other
    row and column, the earlier frame's brought there along the step's flow (where it stands
    beyond ``flows``), and where the earlier frame's content came from inside the frame
    (:func:`brightness_steps`)."""
    grey = context.float().mean(dim=1, keepdim=True)  # (B, 1, T, H, W)
    T, (H, W) = grey.shape[2], grey.shape[-2:]
    xs = torch.arange(0, W, 2, device=grey.device, dtype=torch.float32).view(1, 1, -1)  # every other pixel
    ys = torch.arange(0, H, 2, device=grey.device, dtype=torch.float32).view(1, -1, 1)
    pairs = []
    for j in range(T - 1):
        later, earlier = grey[:, :, T - 1 - j, ::2, ::2], grey[:, :, T - 2 - j]
        if flows is not None and j < len(flows):
            x, y = xs + flows[j][:, 0, ::2, ::2], ys + flows[j][:, 1, ::2, ::2]  # (B, h, w): where each came from
            counted = _in_frame(x, y, H, W).unsqueeze(1)
            earlier = sample_at(earlier, x, y)
        else:
            counted, earlier = torch.ones_like(later, dtype=torch.bool), earlier[..., ::2, ::2]
        pairs.append((later, earlier, counted))
    return pairs


def _lit_levels(later: Tensor, earlier: Tensor, counted: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``later`` and ``earlier`` (grey ``(B, 1, h, w)`` in ``[-1, 1]``) as levels in ``[0, 1]``,
    ``(B, h * w)``, and which of the ``counted`` pixels are lit in both (:data:`_LIT`)."""
    later, earlier = ((later + 1) / 2).flatten(1), ((earlier + 1) / 2).flatten(1)
    counted = counted.flatten(1) & (later >= _LIT) & (later <= 1 - _LIT) & (earlier >= _LIT) & (earlier <= 1 - _LIT)
    return later, earlier, counted


def _median_log_ratio(later: Tensor, earlier: Tensor, counted: Tensor) -> Tensor:
    """``(B,)``: the median of ``log(later / earlier)`` over the ``counted`` pixels lit in both
    (grey ``(B, 1, h, w)`` in ``[-1, 1]``); 0 where under one in a thousand are."""
    later, earlier, counted = _lit_levels(later, earlier, counted)
    return _counted_median(later.clamp_min(_LIT).log() - earlier.clamp_min(_LIT).log(), counted)


def _median_misfit(later: Tensor, earlier: Tensor, counted: Tensor, step: Tensor) -> Tensor:
    """``(B,)``: the median, over the ``counted`` pixels lit in both, of how far ``later``'s
    levels lie from ``earlier``'s scaled by the step's ratio ``exp(step)`` (as in
    :func:`_median_log_ratio`); 0 where under one in a thousand are."""
    later, earlier, counted = _lit_levels(later, earlier, counted)
    return _counted_median((later - earlier * torch.exp(step)[:, None]).abs(), counted)


def _counted_median(values: Tensor, counted: Tensor) -> Tensor:
    """``(B,)``: the median of ``values`` ``(B, n)`` over the ``counted`` ones; 0 where under
    one in a thousand are."""
    median = torch.where(counted, values, torch.full_like(values, float("nan"))).nanmedian(dim=1).values
    return torch.where(counted.float().mean(dim=1) >= 1e-3, median, torch.zeros_like(median))


class Fade(NamedTuple):
    """Each clip's fade, as predictions carry it on: frame ``k`` ahead is the newest frame
    relit by ``1 + k * rate`` (:func:`brightened`), and in a cross-dissolve changed by ``k``
    times the context steps' mean change (:func:`dissolving`)."""

    rate: Tensor  # (B,): :func:`fade_rate`, 0 where the clip does not fade
    white: Tensor  # (B,) bool: its distance from white scales (a fade to or from white), not its level
    # (B, C, H, W): in a cross-dissolve, the context steps' mean change at the newest frame's
    # pixels (0 for the clips that do not dissolve); None where none does
    dissolve: Tensor | None = None


def fade_rate(steps: Tensor) -> Tensor:
    """``(B,)``: in a steady fade (:data:`FADE_STEP`, :data:`FADE_SPREAD`), the newest step's
    change of brightness as a fraction of the newest frame's, so that the frame ``k`` ahead
    is ``1 + k * rate`` times as bright as the newest (the brightness going on in a straight
    line, as a fade to black darkens by the same amount each frame); 0 elsewhere.

    Args:
        steps: the context's :func:`brightness_steps` ``(B, n)``, newest first, ``n >= 2``
            (a fade is two steps that agree, at least).
    """
    newest = steps[:, :1]
    steady = (steps * newest.sign() >= FADE_STEP).all(dim=1) & \
             ((steps - newest).abs() <= FADE_SPREAD * newest.abs()).all(dim=1) & (steps.shape[1] >= 2)
    return torch.where(steady, 1 - torch.exp(-newest[:, 0]), torch.zeros_like(newest[:, 0]))


def brightened(frames: Tensor, factor: Tensor, white: Tensor | None = None) -> Tensor:
    """``frames`` (``(B, C, ...)`` in ``[-1, 1]``) with their levels in ``[0, 1]`` multiplied by
    ``factor`` ``(B,)`` (for the clips ``white`` ``(B,)`` bool marks, their distances from
    white), clipped to the range; the frames themselves where every factor is 1."""
    if bool((factor == 1).all()):
        return frames
    factor = factor.view(-1, *([1] * (frames.dim() - 1))).to(frames.dtype)
    out = (frames + 1) * factor - 1
    if white is not None and bool(white.any()):
        out = torch.where(white.view(factor.shape), 1 - (1 - frames) * factor, out)
    return out.clamp(-1, 1)


def fade_levelled(context: Tensor, steps: Tensor, fading: Tensor, white: Tensor | None = None) -> Tensor:
    """The context with every older frame of each ``fading`` clip ``(B,)`` bool brought to
    the newest frame's brightness by its :func:`brightness_steps` ``steps`` (read towards
    white for the clips ``white`` marks: :func:`fade_pivots`), so its flows and the network
    see one exposure; ``context`` itself where no clip fades. The newest frame, which
    predictions resample, is never changed."""
    if not fading.any():
        return context
    # frame t's log brightness below the newest: the sum of the steps after it
    after = torch.cumsum(steps, dim=1).flip(1)  # (B, T - 1): frames 0 .. T-2
    factors = torch.where(fading[:, None], torch.exp(after), torch.ones_like(after))
    out = context.clone()
    for t in range(context.shape[2] - 1):
        out[:, :, t] = brightened(context[:, :, t], factors[:, t], white)
    return out


def step_changes(frames: list[Tensor], flows: list[Tensor], steps: Tensor, white: Tensor) -> list[Tensor]:
    """Each context step's change of the picture that neither its motion nor its change of
    brightness explains, newest step first, all at the newest frame's pixels: the later
    frame less the earlier one brought along the step's flow and relit by its
    :func:`brightness_steps` step (towards white for the clips ``white`` marks).

    Args:
        frames: the context's frames ``(B, C, H, W)`` in ``[-1, 1]``, oldest first (grey to
            read a dissolve, in colour to carry one on).
        flows: each of the newest steps' own flow, later frame back to the earlier, newest
            first, ``(B, 2, H, W)`` in pixels (:func:`~vidpred.models.optical_flow.dis_flows_back`).
        steps: ``(B, >= len(flows))`` the steps' brightness (log ratios), newest first; zeros
            to leave the brightness in the change.
        white: ``(B,)`` bool.
    """
    T, changes = len(frames), []
    for j, flow in enumerate(flows):
        relit = brightened(warp(frames[T - 2 - j], flow), torch.exp(steps[:, j]), white)
        change = frames[T - 1 - j] - relit
        for newer in reversed(flows[:j]):  # brought to the newest frame's pixels
            change = warp(change, newer)
        changes.append(change)
    return changes


def dissolving(changes: list[Tensor]) -> Tensor:
    """``(B,)`` bool: each step's :func:`step_changes` repeats the one before it
    (:data:`DISSOLVE_CORRELATION`, :data:`DISSOLVE_SLOPE`), as a cross-dissolve's do: the
    next scene mixes in by the same share each frame, while noise and occlusions do not
    repeat. False with fewer than three steps, or where a step changes next to nothing."""
    out = torch.full(changes[0].shape[:1], len(changes) >= 3, dtype=torch.bool, device=changes[0].device)
    for change in changes:
        out &= change.flatten(1).pow(2).mean(dim=1).sqrt() >= _DISSOLVE_MIN_CHANGE
    for newer, older in zip(changes, changes[1:]):
        a, b = newer.flatten(1), older.flatten(1)
        a0, b0 = a - a.mean(dim=1, keepdim=True), b - b.mean(dim=1, keepdim=True)
        correlation = (a0 * b0).sum(dim=1) / (a0.norm(dim=1) * b0.norm(dim=1)).clamp_min(1e-12)
        slope = (a * b).sum(dim=1) / (b * b).sum(dim=1).clamp_min(1e-12)
        out &= (correlation > DISSOLVE_CORRELATION) & (slope > DISSOLVE_SLOPE[0]) & (slope < DISSOLVE_SLOPE[1])
    return out


def step_ratios(flows: list[Tensor]) -> Tensor:
    """``(B, n - 1)``, newest first: how far each step moves the content against the step
    before it, the median over pixels of ``f_j . f_(j+1) / |f_(j+1)|^2`` (the step's flow along
    the one before's), over the pixels that move by :data:`_MOVING_PX` or more in every step
    but the newest (every other row and column); NaN where under 5% of them do.

    Args:
        flows: the context's steps' flows at the newest frame's pixels, newest first
            (:func:`context_flows`), ``n >= 2``, each ``(B, 2, H, W)``.
    """
    flows = [f[..., ::2, ::2].float() for f in flows]
    # (B, N); squared lengths: torch's norm over the two flow channels is slow on the CPU
    moving = torch.stack([f.pow(2).sum(dim=1) >= _MOVING_PX ** 2 for f in flows[1:]]).all(dim=0).flatten(1)
    ratios = []
    for later, earlier in zip(flows, flows[1:]):
        ratio = ((later * earlier).sum(dim=1) / earlier.pow(2).sum(dim=1).clamp_min(1e-6)).flatten(1)
        median = torch.where(moving, ratio, torch.full_like(ratio, float("nan"))).nanmedian(dim=1).values
        ratios.append(torch.where(moving.float().mean(dim=1) >= 0.05, median, torch.full_like(median, float("nan"))))
    return torch.stack(ratios, dim=1)


def skipped_newest(flows: list[Tensor]) -> Tensor:
    """``(B,)`` bool: whether the context's newest step skips a frame (:data:`SKIPPED_RATIO`,
    :data:`STEADY_RATIO`; :func:`step_ratios` of ``flows``, the context's steps' flows at the
    newest frame's pixels, newest first, at least three)."""
    if len(flows) < 3:
        raise ValueError(f"a skipped frame is read from three steps' flows, got {len(flows)}")
    ratios = step_ratios(flows[:3])
    low, high = SKIPPED_RATIO
    steady_low, steady_high = STEADY_RATIO
    return (ratios[:, 0] >= low) & (ratios[:, 0] <= high) & (ratios[:, 1] >= steady_low) & (ratios[:, 1] <= steady_high)


def entered(flow: Tensor) -> Tensor:
    """``(B, 1, H, W)`` bool: the pixels whose content entered the frame over the step the
    backward ``flow`` ``(B, 2, H, W)`` spans: ``p + flow(p)`` lies outside the older frame,
    so no pixel there matched and the flow is the estimator's guess (on a pan, the strip
    along the edge the scene comes in from, as wide as the step)."""
    H, W = flow.shape[-2:]
    x = torch.arange(W, device=flow.device, dtype=flow.dtype).view(1, 1, W) + flow[:, 0]
    y = torch.arange(H, device=flow.device, dtype=flow.dtype).view(1, H, 1) + flow[:, 1]
    return ~_in_frame(x, y, H, W).unsqueeze(1)


def _in_frame(x: Tensor, y: Tensor, H: int, W: int) -> Tensor:
    """Whether the positions ``(x, y)`` (pixels) lie within an ``H`` x ``W`` frame's pixel centres."""
    return (x >= 0) & (x <= W - 1) & (y >= 0) & (y <= H - 1)


def followed_within(field: Tensor, flow: Tensor) -> Tensor:
    """``field`` ``(B, c, H, W)`` followed along the backward ``flow``: sampled at
    ``p + flow(p)`` (:func:`warp`), but kept as it is at ``p`` where ``p + flow(p)`` lands
    inside the frame on a pixel whose content :func:`entered` it over the step (whose flow is
    a guess), or between one and its neighbours. Where ``p + flow(p)`` leaves the frame, the
    border is sampled, as :func:`warp` does."""
    guessed = entered(flow)
    lands_on_guess = (warp(guessed.float(), flow) > 1e-3) & ~guessed
    return torch.where(lands_on_guess, field, warp(field, flow))


def _conv(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1), nn.LeakyReLU(0.1))


ROLLOUTS = ("linear", "composed")


class VelocityPredictor(nn.Module):
    """A predictor whose every frame is one resampling of the newest context frame along a
    velocity field: subclasses give :meth:`motion_and_persistence`, this class the rollouts
    (``rollout_mode``: how frames after the 1st follow the velocity, :meth:`rollout_with_motion`)."""

    rollout_mode = "linear"
    predicts_motion = True  # rollout_with_motion gives each predicted frame's flow

    def motion_and_persistence(self, context: Tensor) -> tuple[Tensor, Tensor | None]:
        """The velocity ``(B, 2, H, W)`` and its persistence ``(B, 1, H, W)`` or None: each
        subclass's own (:class:`FlowRefiner`, :class:`~vidpred.models.averaged_motion.AveragedMotion`)."""
        raise NotImplementedError(f"{type(self).__name__} must define motion_and_persistence")

    def motion_persistence_and_fade(self, context: Tensor) -> tuple[Tensor, Tensor | None, Fade | None]:
        """:meth:`motion_and_persistence`, and each clip's :class:`Fade` (frame ``k`` ahead
        ``1 + k * rate`` times as bright as the newest context frame, or as far from white;
        :func:`fade_rate`) or None where every prediction keeps the newest frame's brightness
        (here always; :class:`FlowRefiner` with ``fades`` reads fades)."""
        return (*self.motion_and_persistence(context), None)

    def motion(self, context: Tensor) -> Tensor:
        """The velocity ``v`` at the newest frame's pixels (:meth:`motion_and_persistence`)."""
        return self.motion_and_persistence(context)[0]

    def rollout_with_motion(self, context: Tensor, n_future: int) -> tuple[Tensor, Tensor, None]:
        """``n_future`` frames, frame ``k`` the newest context frame sampled at ``p + flow_k(p)``:
        ``flow_1 = v`` and ``flow_k = flow_(k-1) + a(p) v(q)``, with ``q = p`` (rollout
        ``"linear"``: ``(1 + (k - 1) a) v(p)``) or ``q = p + flow_(k-1)(p)`` (``"composed"``: the
        step continues from where the one before ended); ``a`` = 1 without a learned persistence.
        In a fade (:meth:`motion_persistence_and_fade`), frame ``k`` is then made
        ``1 + k * rate`` times as bright, or as far from white (:func:`brightened`).

        Returns:
            frames ``(B, C, n_future, H, W)`` in ``[-1, 1]``, flows ``(B, 2, n_future, H, W)``,
            and None (no mask).
        """
        if n_future < 1:
            raise ValueError(f"n_future must be >= 1, got {n_future}")
        velocity, persistence, fade = self.motion_persistence_and_fade(context)
        last = context[:, :, -1].float()
        a = 1.0 if persistence is None else persistence
        flows = [velocity]
        for _ in range(n_future - 1):
            step = warp(velocity, flows[-1]) if self.rollout_mode == "composed" else velocity
            flows.append(flows[-1] + a * step)
        frames = [warp(last, flow) for flow in flows]
        if fade is not None:  # frame k ahead 1 + k * rate times as bright (or as far from white), never past the end
            frames = [brightened(frame, (1 + k * fade.rate).clamp_min(0), fade.white)
                      for k, frame in enumerate(frames, 1)]
        if fade is not None and fade.dissolve is not None:  # a dissolve's change, k times, moved with the content
            frames = [(frame + k * warp(fade.dissolve, flow)).clamp(-1, 1)
                      for k, (frame, flow) in enumerate(zip(frames, flows), 1)]
        return torch.stack(frames, dim=2), torch.stack(flows, dim=2), None

    def rollout(self, context: Tensor, n_future: int, return_scales: bool = False) -> Tensor | list[Tensor]:
        """``(B, C, n_future, H, W)``; with ``return_scales`` a one-element list (one scale)."""
        frames = self.rollout_with_motion(context, n_future)[0]
        return [frames] if return_scales else frames

    def predict_with_motion(self, context: Tensor) -> tuple[Tensor, Tensor, None]:
        """The next frame ``(B, C, H, W)`` in ``[-1, 1]``, its flow ``(B, 2, H, W)`` in pixels,
        and None (no mask), for ``context`` ``(B, C, n_context, H, W)`` in ``[-1, 1]``."""
        frames, flows, _ = self.rollout_with_motion(context, 1)
        return frames[:, :, 0], flows[:, :, 0], None

    def predict(self, context: Tensor) -> Tensor:
        """The next frame ``(B, C, H, W)`` for any frame size."""
        return self.predict_with_motion(context)[0]

    def forward(self, context: Tensor) -> list[Tensor]:
        """The next frame as a one-scale list, as the pyramid generator's ``forward`` gives
        its scales (training calls :meth:`rollout`)."""
        return [self.predict(context)]


class FlowRefiner(VelocityPredictor):
    """Refine DIS-flow extrapolation with a small U-Net (module docstring).

    Args:
        n_context: context frames (>= ``n_flows + 1``).
        channels: channels per frame.
        n_flows: DIS flows of the last steps given to the network (1-3).
        scale: the network runs at ``1/scale`` of the frame size (power of 2).
        width: feature maps of the first level (doubling at each of 3 levels).
        max_correction: bound of the velocity correction added to the chosen candidate, in
            working-size pixels (tanh); 0: no correction, the velocity is a convex
            combination of the candidates and cannot leave their range.
        global_context: concatenate the frame-wide mean of the coarsest features to them, so
            the choice can depend on the whole frame's motion (is the camera moving?).
        farneback: also see the last step's Farneback flow (smoother than DIS's: better on flat
            scenes and grainy footage, worse on large motion) and offer it, as it is and
            followed, as two more candidates.
        step_scale: learn, per pixel, how far the motion persists after the 1st predicted
            frame: each step after the 1st adds ``a`` times the velocity, ``a`` in ``(0, 1)``
            (1: constant velocity; 0: the motion stops after one frame, as a subject that
            stops or turns; linear rollout: frame ``k`` displaced by ``(1 + (k - 1) a) v``).
            Without it ``a`` is 1.
        rollout: ``"linear"`` or ``"composed"``, how frames after the 1st follow the
            velocity (:meth:`VelocityPredictor.rollout_with_motion`).
        camera_still: the followed candidate keeps the camera's motion (a homography fitted
            to ``f1``, :func:`~vidpred.models.camera_motion.camera_flow`) where it is and
            follows only the rest, ``c(p) + r(p + f1(p))`` with ``r = f1 - c``: a steady
            zoom's field holds still in the frame, a subject's motion travels with it.
            Off: ``f1(p + f1(p))``, all of it followed.
        followed_inside: the followed candidate does not take up the flow of the pixels
            whose content entered the newest frame over the last step (:func:`entered`: their
            flow is DIS's guess, matched to nothing): where ``p + f1(p)`` lands on one, the
            pixel keeps its own (:func:`followed_within`). Off: on a fast pan the strip inward
            of the edge the scene comes in from, as wide as the step, is moved by the guess.
        refine_flows: the last step's DIS flow ``f1`` refined at full resolution
            (:func:`~vidpred.models.optical_flow.dis_flow` with ``refine``; :func:`context_flows`).
        projected: one more candidate, ``f1`` carried forward to where each pixel's content
            lands (:func:`~vidpred.models.warp.splat`, the faster content in front; the
            followed candidate in the holes): a moving subject's front edge arrives with it,
            where the followed candidate samples the still background's velocity there.
        scene_cuts: a cut between scenes among the context's last ``n_flows`` steps
            (:func:`scene_cut_steps`) starts the context there (:func:`from_newest_scene`): the
            frames before it are the first frame after it, still; a clip whose newest step
            is the cut is predicted by copying the newest frame. Off: every context frame
            is read as the same scene's.
        pans_not_cuts: with ``scene_cuts``, a step one shift of the whole frame explains
            (:func:`shifted_change`) is no cut, however little of it its flow explains: a pan
            faster than DIS's flow reaches on small frames. Off: such a step is read as a cut.
        pan_flows: with ``pans_not_cuts``, such a step's flow is DIS's again, started from the
            shift (:func:`~vidpred.models.optical_flow.dis_flow` with ``start``) instead of
            from still. Off: its flow is the one that missed the motion.
        pan_restarts: a step under the cut line whose whole frame moves by 8 px or more
            (phase correlation) is flowed again by DIS started from that shift, the new flow
            kept where it explains a tenth more of the step (:func:`restarted_pans`): a pan
            DIS's pyramid reaches only in part. Off: every such step keeps DIS's flow from still.
        repeated_frames: a context frame that shows the frame before it again (a frame-rate
            conversion's or a dropped frame's, :func:`repeated_steps`) is taken out of the
            context (:func:`without_repeats`), so the motion goes on after it. Off: a repeated
            newest frame reads as a stop, and the prediction copies it.
        fades: in a steady fade of the whole frame's brightness (:func:`fade_rate`: a fade to
            or from black, an exposure settling), the context's older frames are brought to the
            newest one's brightness before its flows are read (:func:`fade_levelled`), and each
            predicted frame carries the fade on by the newest step's change
            (:meth:`motion_persistence_and_fade`). Off: every prediction keeps the newest
            frame's brightness.
        white_fades: with ``fades``, each clip's steps are read towards black or towards white,
            whichever describes them better (:func:`fade_pivots`), so a fade to or from white
            (every pixel's distance from white scaled alike, dark pixels lifted most) is
            levelled and carried on as one. Off: every fade is read as one to or from black.
        dissolves: with ``fades``, in a cross-dissolve (:func:`dissolving`: each context step
            changes the picture beyond its motion and brightness as the step before did), frame
            ``k`` ahead adds ``k`` times the three steps' mean change (:func:`step_changes`, in
            colour, at full size), moved with the content, so the next scene goes on mixing in.
            Off: every prediction keeps the newest frame's mix.
        skipped_frames: where the context's newest step skips a frame (:func:`skipped_newest`:
            it moves the content twice as far as the steady steps before it, as a conversion to
            a lower frame rate or a dropped frame makes it), the velocity is halved: each frame
            ahead moves one of the steady steps. Off: the double step is carried on.

    Attributes:
        head: ``"refiner"`` (read by code that asks a generator for its kind).
    """

    head = "refiner"

    def __init__(self, n_context: int = 4, channels: int = 3, n_flows: int = 3, scale: int = 4,
                 width: int = REFINER_WIDTH, max_correction: float = _MAX_CORRECTION,
                 global_context: bool = False, farneback: bool = False, step_scale: bool = False,
                 rollout: str = "linear", camera_still: bool = False, refine_flows: bool = False,
                 projected: bool = False, scene_cuts: bool = False, repeated_frames: bool = False,
                 fades: bool = False, skipped_frames: bool = False, followed_inside: bool = False,
                 white_fades: bool = False, dissolves: bool = False, pans_not_cuts: bool = False,
                 pan_flows: bool = False, pan_restarts: bool = False) -> None:
        super().__init__()
        if rollout not in ROLLOUTS:
            raise ValueError(f"rollout must be one of {', '.join(ROLLOUTS)}, got {rollout!r}")
        self.rollout_mode = rollout
        self.camera_still = bool(camera_still)
        self.followed_inside = bool(followed_inside)
        self.refine_flows = bool(refine_flows)
        self.projected = bool(projected)
        self.scene_cuts = bool(scene_cuts)
        self.pans_not_cuts = bool(pans_not_cuts)
        if self.pans_not_cuts and not self.scene_cuts:
            raise ValueError("pans_not_cuts tells fast pans from cuts between scenes: it needs scene_cuts")
        self.pan_flows = bool(pan_flows)
        if self.pan_flows and not self.pans_not_cuts:
            raise ValueError("pan_flows estimates the flow of the fast pans pans_not_cuts finds: "
                             "it needs pans_not_cuts")
        self.pan_restarts = bool(pan_restarts)
        self.repeated_frames = bool(repeated_frames)
        self.fades = bool(fades)
        self.white_fades = bool(white_fades)
        if self.white_fades and not self.fades:
            raise ValueError("white_fades reads fades to and from white as well: it needs fades")
        self.dissolves = bool(dissolves)
        if self.dissolves and not (self.fades and n_flows >= 3):
            raise ValueError(f"dissolves reads three steps' changes after their changes of brightness: it needs fades "
                             f"and n_flows >= 3, got fades={self.fades}, n_flows={n_flows}")
        self.skipped_frames = bool(skipped_frames)
        if n_context < n_flows + 1 or n_flows < 1:
            raise ValueError(f"need n_context >= n_flows + 1 >= 2, got n_context={n_context}, n_flows={n_flows}")
        if self.skipped_frames and n_flows < 3:
            raise ValueError(f"skipped_frames reads three steps: it needs n_flows >= 3, got {n_flows}")
        if scale < 1 or scale & (scale - 1):
            raise ValueError(f"scale must be a power of 2, got {scale}")
        if not max_correction >= 0:
            raise ValueError(f"max_correction must be >= 0, got {max_correction}")
        self.max_correction = float(max_correction)
        self.global_context = bool(global_context)
        self.farneback = bool(farneback)
        self.step_scale = bool(step_scale)
        self.n_context, self.channels, self.n_flows, self.scale, self.width = n_context, channels, n_flows, scale, width
        # frames, flows (and Farneback's), f1's fit error
        c_in = channels * n_context + 2 * (n_flows + self.farneback) + channels
        w = width
        self.enc1 = nn.Sequential(_conv(c_in, w), _conv(w, w))
        self.enc2 = nn.Sequential(_conv(w, 2 * w, 2), _conv(2 * w, 2 * w))
        self.enc3 = nn.Sequential(_conv(2 * w, 4 * w, 2), _conv(4 * w, 4 * w), _conv(4 * w, 4 * w))
        self.dec2 = nn.Sequential(_conv((8 if global_context else 4) * w + 2 * w, 2 * w), _conv(2 * w, 2 * w))
        self.dec1 = nn.Sequential(_conv(2 * w + w, w), _conv(w, w))
        # One logit per candidate velocity, then a velocity correction (2), then the logit of
        # the motion's persistence after the 1st frame (1).
        n_out = self.n_candidates + (2 if self.max_correction > 0 else 0) + self.step_scale
        self.out = nn.Conv2d(w, n_out, 3, padding=1)
        with torch.no_grad():
            self.out.weight.mul_(_OUT_INIT_SCALE)
            self.out.bias.zero_()
            self.out.bias[1] = _LAST_STEP_LOGIT / _LOGIT_SCALE
            if self.step_scale:
                self.out.bias[-1] = _PERSISTENCE_LOGIT / _LOGIT_SCALE

    def compile(self, *args, **kwargs) -> None:
        """Compile the network's stages in place (``nn.Module.compile``'s arguments).

        Training and prediction call :meth:`rollout`, never ``self(...)``, and the flows come
        from OpenCV, outside what torch can trace: compiling the whole module would change nothing.
        """
        for stage in (self.enc1, self.enc2, self.enc3, self.dec2, self.dec1, self.out):
            stage.compile(*args, **kwargs)

    @property
    def last_layer(self) -> nn.Parameter:
        """Weight of the output convolution ``(n_out, width, 3, 3)``, where the adaptive
        adversarial weight compares the loss gradients."""
        return self.out.weight

    @property
    def n_candidates(self) -> int:
        """Candidate velocities: still, the last step's, the last step's followed to where the
        content goes, the mean over the last 2 .. n_flows steps (and with ``farneback``, its
        flow of the last step as it is and followed; with ``projected``, the last step's
        carried to where its content lands)."""
        return 3 + (self.n_flows - 1) + 2 * self.farneback + self.projected

    @staticmethod
    def candidates(flows: list[Tensor], others: tuple[Tensor, ...] = (), camera_still: bool = False,
                   projected: bool = False, followed_inside: bool = False) -> Tensor:
        """``(B, K, 2, H, W)``: the candidate velocities at the newest frame's pixels; each
        flow of ``others`` (another estimate of the last step) adds itself and itself followed.
        ``camera_still``: the followed candidate follows only what the camera does not explain.
        ``followed_inside``: it does not follow onto the pixels whose content entered the frame
        over the last step (:func:`entered`), keeping each pixel's own there.
        ``projected``: last, ``f1`` splatted to where each pixel's content lands one step on
        (the faster in front), the followed candidate where nothing lands."""
        f1 = flows[0]
        follow = followed_within if followed_inside else warp
        if camera_still:
            camera = camera_flow(f1)
            followed = camera + follow(f1 - camera, f1)
        else:
            followed = follow(f1, f1)
        out = [torch.zeros_like(f1), f1, followed]
        for n in range(2, len(flows) + 1):
            out.append(torch.stack(flows[:n]).mean(dim=0))
        for other in others:
            out += [other, warp(other, other)]
        if projected:
            carried, coverage = splat(f1, -f1, _PROJECTION_ORDER * f1.norm(dim=1, keepdim=True))
            out.append(torch.where(coverage >= _MIN_COVERAGE, carried, followed))
        return torch.stack(out, dim=1)

    def motion_and_persistence(self, context: Tensor) -> tuple[Tensor, Tensor | None]:
        """The velocity ``v`` at the newest frame's pixels, and how far it persists.

        Args:
            context: ``(B, C, n_context, H, W)`` in ``[-1, 1]``, any ``H``, ``W``.

        Returns:
            ``v``, ``(B, 2, H, W)`` float32, pixels per frame; and ``a``, ``(B, 1, H, W)`` in
            ``(0, 1)`` with ``step_scale``, else None (``a`` = 1). How frames ahead follow
            them: :meth:`rollout_with_motion`.
        """
        return self.motion_persistence_and_fade(context)[:2]

    def motion_persistence_and_fade(self, context: Tensor) -> tuple[Tensor, Tensor | None, Fade | None]:
        """:meth:`motion_and_persistence`, and with ``fades`` each clip's :class:`Fade` (its
        rate 0 where it does not fade; None without ``fades``)."""
        if context.dim() != 5 or context.shape[1] != self.channels or context.shape[2] != self.n_context:
            raise ValueError(f"context must be (B, {self.channels}, {self.n_context}, H, W), got {tuple(context.shape)}")
        B, C, T, H, W = context.shape
        h, w = _working_size(H, W, self.scale)
        context, frames, flows, cut_last, fade = self._read(context.float(), (h, w))
        last = context[:, :, -1]
        others = (farneback_flow(last, context[:, :, -2]),) if self.farneback else ()
        fit_error = warp(context[:, :, -2], flows[0]) - last  # (B, C, H, W): where f1 fails
        to_working = torch.tensor([w / W, h / H], dtype=last.dtype, device=last.device).view(1, 2, 1, 1)
        x = torch.cat([*frames, *(_shrunk(f * to_working, (h, w)) / _FLOW_UNIT for f in (*flows, *others)),
                       _shrunk(fit_error, (h, w))], dim=1)
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        if self.global_context:  # the frame-wide mean of the coarsest features, at every position
            e3 = torch.cat([e3, e3.mean(dim=(2, 3), keepdim=True).expand_as(e3)], dim=1)
        d2 = self.dec2(torch.cat([F.interpolate(e3, size=e2.shape[-2:], mode="bilinear", align_corners=False), e2], 1))
        d1 = self.dec1(torch.cat([F.interpolate(d2, size=e1.shape[-2:], mode="bilinear", align_corners=False), e1], 1))
        out = F.interpolate(self.out(d1).float(), size=(H, W), mode="bilinear", align_corners=False)
        K = self.n_candidates
        weights = torch.softmax(out[:, :K] * _LOGIT_SCALE, dim=1).unsqueeze(2)  # (B, K, 1, H, W)
        candidates = self.candidates(flows, others, self.camera_still, self.projected,
                                     self.followed_inside)  # (B, K, 2, H, W)
        velocity = (weights * candidates).sum(dim=1)  # (B, 2, H, W)
        if self.max_correction > 0:
            bound = self.max_correction
            velocity = velocity + bound * torch.tanh(out[:, K:K + 2] * (_FLOW_UNIT / bound)) / to_working
        persistence = torch.sigmoid(out[:, -1:] * _LOGIT_SCALE) if self.step_scale else None
        if cut_last.any():  # the newest frame is all there is of its scene: copied
            velocity = torch.where(cut_last.view(B, 1, 1, 1), torch.zeros_like(velocity), velocity)
        if self.skipped_frames:  # the newest step spans two frames' motion: a frame's is half of it
            velocity = torch.where(skipped_newest(flows).view(B, 1, 1, 1), velocity / 2, velocity)
        return velocity, persistence, fade

    def _read(self, context: Tensor, size: tuple[int, int]
              ) -> tuple[Tensor, list[Tensor], list[Tensor], Tensor, Fade | None]:
        """The context as the network reads it: repeated frames taken out (``repeated_frames``),
        a fade's frames at the newest one's brightness (``fades``), the newest scene only
        (``scene_cuts``); its frames at the working ``size``; its steps' flows at the newest
        frame's pixels (:func:`context_flows`); ``(B,)`` bool, whether the newest step is a
        cut; and with ``fades``, each clip's :class:`Fade` (else None)."""
        if self.repeated_frames:
            context = without_repeats(context)
        T = context.shape[2]
        cut_last = torch.zeros(context.shape[0], dtype=torch.bool, device=context.device)
        fade = None
        with torch.no_grad():
            steps = dis_flows_back(context, self.n_flows, refine_newest=self.refine_flows)
            if self.fades:  # the steps' brightness read along their flows; a fade's flows read again, levelled
                if self.white_fades:
                    brightness, white = fade_pivots(context, steps)
                else:
                    brightness = brightness_steps(context, steps)
                    white = torch.zeros(context.shape[0], dtype=torch.bool, device=context.device)
                fade = Fade(fade_rate(brightness), white)
                if fade.rate.any():
                    context = fade_levelled(context, brightness, fade.rate != 0, white)
                    steps = dis_flows_back(context, self.n_flows, refine_newest=self.refine_flows)
            frames = [_shrunk(context[:, :, t], size) for t in range(T)]  # each shrunk alone: no full-size copy of them all
            greys = None
            if self.scene_cuts or self.pan_restarts:  # (at a quarter of the frame size, the network's frames serve)
                greys = [frame.mean(dim=1, keepdim=True) for frame in frames] if self.scale == 4 else cut_greys(context)
            if self.pan_restarts:
                steps = restarted_pans(context, steps, greys, refine_newest=self.refine_flows)
            mixing = None
            if self.dissolves:  # read at full size (shrunk, a step's blur and occlusions repeat); a fade is not one
                grey = context.mean(dim=1, keepdim=True)
                changes = step_changes([grey[:, :, t] for t in range(T)], steps[:3], brightness, white)
                mixing = dissolving(changes) & (fade.rate == 0)
            if self.scene_cuts:
                cuts = scene_cut_steps(context, steps, greys)
                for (b, j), shift in (fast_pans(context, cuts, greys) if self.pans_not_cuts else {}).items():
                    cuts[b, j] = False
                    if self.pan_flows:  # DIS again, started from the shift
                        later, earlier = context[b:b + 1, :, T - 1 - j], context[b:b + 1, :, T - 2 - j]
                        start = shift.view(1, 2, 1, 1).expand(1, 2, *later.shape[-2:]).to(later.device)
                        steps[j][b] = dis_flow(later, earlier, refine=self.refine_flows and j == 0, start=start)[0]
                if mixing is not None:
                    mixing &= ~cuts.any(dim=1)
                context, steps, cut_last = from_newest_scene(context, steps, cuts)
                if cuts.any():
                    frames = [_shrunk(context[:, :, t], size) for t in range(T)]
            if mixing is not None and mixing.any():  # the steps' mean change at full size: a third of their noise
                unlit = torch.zeros_like(brightness)
                change = sum(step_changes([context[:, :, t] for t in range(T)], steps[:3], unlit, white)) / 3
                fade = fade._replace(dissolve=torch.where(mixing.view(-1, 1, 1, 1), change, torch.zeros_like(change)))
            return context, frames, _at_newest_pixels(steps), cut_last, fade

"""Fades and cross-dissolves: a context's change of brightness and of picture, read along its flows.

A fade changes every pixel's brightness by about the same ratio each step
(:func:`brightness_steps`, :func:`fade_pivots`, :func:`fade_rate`); a cross-dissolve mixes the
next scene in by about the same change each step (:func:`step_changes`, :func:`dissolving`).
The refiner (``vidpred/models/refiner.py``) levels a fade's context before reading its flows
(:func:`fade_levelled`) and carries both on in its predictions (:func:`brightened`); what
each gains and costs is in docs/results.md ("Fades", "Cross-dissolves").
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from vidpred.models._frames import in_frame
from vidpred.models.warp import sample_at, warp

__all__ = ["DISSOLVE_CORRELATION", "DISSOLVE_SLOPE", "FADE_SPREAD", "FADE_STEP", "Fade", "brightened",
           "brightness_steps", "dissolving", "fade_levelled", "fade_pivots", "fade_rate", "step_changes"]

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
# Pixels darker than this share of the range, or as near its top, are left out of a step's
# change of brightness: their 8-bit ratios are coarse, and clipped ones do not scale.
_LIT = 20 / 255


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
            counted = in_frame(x, y, H, W).unsqueeze(1)
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

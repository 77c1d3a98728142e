"""Repeated and skipped frames among a context's steps.

A frame shown twice (a conversion to a higher frame rate, a dropped frame filled in) reads
as a stop; a frame left out (a conversion to a lower frame rate, a dropped frame) as a step
twice as long. :func:`repeated_steps` and :func:`without_repeats` find and take out the
first; :func:`skipped_newest` finds the second at the newest step. The refiner
(``vidpred/models/refiner.py``) reads both; what each gains and costs is in docs/results.md
("Repeated frames", "Skipped frames"). Along a video, :func:`rhythm` and :class:`HeldFrames`
read a steady rhythm of held and moving steps (every frame shown twice, say), which says
whether the next frame is held, and which frames hold the motion ("Frames held in a steady
rhythm").
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["CADENCE_MAX_PERIOD", "CADENCE_PERIODS", "CADENCE_STEPS", "REPEAT_CHANGED", "REPEAT_RATIO",
           "SKIPPED_RATIO", "STEADY_RATIO", "HeldFrames", "changed_fractions", "held_next", "moves_after_held",
           "repeated_steps", "repeats_among", "rhythm", "skipped_newest", "step_ratios", "without_repeats"]

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
# Along a video, the next step holds its frame (shows it again) when the video's steps keep a
# rhythm of held and moving steps (rhythm, held_next): every frame shown twice (footage at 15 frames a
# second shown at 30, an animation on twos), two of three held (on threes), one frame in four or
# five shown twice (a conversion from 24 or 25 to 30 frames a second). The rhythm is a period of 2
# to CADENCE_MAX_PERIOD steps that the last CADENCE_PERIODS periods repeat exactly, holding
# and moving in each: a held step changes fewer than REPEAT_CHANGED of its pixels and fewer
# than REPEAT_RATIO times as many as the least changed moving step among them.
CADENCE_MAX_PERIOD = 6
CADENCE_PERIODS = 3
CADENCE_STEPS = CADENCE_PERIODS * CADENCE_MAX_PERIOD  # the most steps rhythm reads


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


def rhythm(changed: Sequence[float]) -> list[bool] | None:
    """The rhythm of held and moving steps a video keeps (:data:`CADENCE_MAX_PERIOD`,
    :data:`CADENCE_PERIODS`): its newest period's steps, oldest first, True where the step
    moves, so the first is what the next step does; None where the steps so far keep no
    rhythm.

    Args:
        changed: each step's :func:`changed_fractions` along the video, oldest first (the last
            :data:`CADENCE_STEPS` are read).
    """
    changed = list(changed)
    for period in range(2, CADENCE_MAX_PERIOD + 1):
        n = CADENCE_PERIODS * period
        if len(changed) < n:
            break
        last = changed[-n:]
        moving = [c >= REPEAT_CHANGED for c in last]
        if all(moving) or not any(moving):
            continue
        least = min(c for c, m in zip(last, moving) if m)
        if any(not m and c >= REPEAT_RATIO * least for c, m in zip(last, moving)):
            continue  # a step that barely changes, but not little enough against the moving ones to be held
        if all(moving[i] == moving[i + period] for i in range(n - period)):
            return moving[n - period:]
    return None


def held_next(changed: Sequence[float]) -> bool:
    """Whether the next step of a video holds its newest frame, read from the :func:`rhythm`
    of its steps so far (``changed``, as there)."""
    pattern = rhythm(changed)
    return pattern is not None and not pattern[0]


def moves_after_held(changed: Sequence[float]) -> bool:
    """Whether the :func:`rhythm` of a video's steps so far (``changed``, as there) moves the
    next step after two or more held ones (each frame shown three times, say), where
    :class:`HeldFrames` predicts it from the frames the motion moved through."""
    return _moves_after_held(rhythm(changed))


def _moves_after_held(pattern: list[bool] | None) -> bool:
    """:func:`moves_after_held` from the :func:`rhythm` read."""
    return pattern is not None and pattern[0] and not (pattern[-1] or pattern[-2])


class HeldFrames:
    """A video's steps read one at a time for its :func:`rhythm` of held and moving steps.

    Where the rhythm holds the next step, the newest frame is the prediction
    (:meth:`holds_next`). Where it moves the next step after two or more held ones, the
    context to predict it from is the first frames of the newest moving steps and the newest
    frame (:meth:`moving_context`): the motion, without the held frames between its steps,
    which a context of the last few frames reads as a stop (where each frame is shown three
    times, the step after two held ones follows a context that holds still). Immutable:
    :meth:`after` gives the reading with one more step, so a caller whose prediction fails
    keeps the one before.

    Attributes:
        n_context: how many frames the model reads.
        changed: the newest :data:`CADENCE_STEPS` steps' changed fractions, oldest first.
        n_steps: how many steps were read.
    """

    def __init__(self, n_context: int) -> None:
        self.n_context = n_context
        self.changed: tuple[float, ...] = ()
        self.n_steps = 0
        self._starts: tuple[tuple[int, object], ...] = ()  # (step number, first frame) of the newest moving steps

    def after(self, changed: float, earlier: object) -> HeldFrames:
        """This reading with one more step, which changed ``changed`` of its pixels
        (:func:`changed_fractions`) from the frame ``earlier`` (kept, as it is, where the step moves)."""
        out = HeldFrames(self.n_context)
        out.changed = (*self.changed, float(changed))[-CADENCE_STEPS:]
        out.n_steps = self.n_steps + 1
        starts = (*self._starts, (self.n_steps, earlier)) if changed >= REPEAT_CHANGED else self._starts
        out._starts = starts[max(len(starts) - (self.n_context - 1), 0):]
        return out

    def holds_next(self) -> bool:
        """Whether the rhythm holds the next step (:func:`held_next`)."""
        return held_next(self.changed)

    def moving_context(self, newest: object) -> list[object] | None:
        """Where the rhythm moves the next step after two or more held ones, the ``n_context``
        frames to predict it from: the first frames of the newest ``n_context - 1`` moving
        steps, then ``newest``. None elsewhere: where no rhythm is read, it holds the next step,
        its periods hold too few moving steps, or one held step comes before the next (a frame
        shown twice, which the refiner takes out of its context itself, :func:`without_repeats`:
        there the newest frames predicted as well or better on validation, docs/results.md)."""
        pattern = rhythm(self.changed)
        if not _moves_after_held(pattern) or len(self._starts) < self.n_context - 1:
            return None
        if self._starts and self._starts[0][0] < self.n_steps - CADENCE_PERIODS * len(pattern):
            return None  # a moving step older than the periods the rhythm was read over
        return [frame for _, frame in self._starts] + [newest]


def step_ratios(flows: list[Tensor]) -> Tensor:
    """``(B, n - 1)``, newest first: how far each step moves the content against the step
    before it, the median over pixels of ``f_j . f_(j+1) / |f_(j+1)|^2`` (the step's flow along
    the one before's), over the pixels that move by :data:`_MOVING_PX` or more in every step
    but the newest (every other row and column); NaN where under 5% of them do.

    Args:
        flows: the context's steps' flows at the newest frame's pixels, newest first
            (:func:`~vidpred.models.refiner.context_flows`), ``n >= 2``, each ``(B, 2, H, W)``.
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

"""Score every method on every clip: the per-clip numbers behind the report.

For each clip (uint8 ``(T, H, W, C)``, whole frames):

1. ``context`` = the first ``n_context`` frames, ``future`` = the rest (``(1, C, t, H, W)``
   in ``[-1, 1]``);
2. one backward Farneback flow from the last context frame to the one before gives the
   moving-area mask (``|flow| > flow_threshold``) and the Farneback baseline's motion; the
   DIS flow of the same step, computed once when a method reads it, drives the DIS
   baseline (and the blend, when it blends DIS extrapolation). With
   ``mask_per_frame`` (the official code's choice), predicted frame ``k >= 2`` gets its own
   mask from the flow between the true frames before it (true frame ``k - 1`` back to
   true frame ``k - 2``), so a mask follows the motion instead of staying where it was;
3. each method predicts ``max(n_scored, flicker_frames)`` frames recursively (fewer when
   the clip is shorter), and frames 1..``n_scored`` are scored against ``future`` by
   :func:`~vidpred.evaluation.scoring.score_frames`: PSNR, SSIM and sharpness difference on
   the whole frame (``whole``), on moving areas paper-compatibly (``compat``) and on moving
   pixels only (``moving``), plus LPIPS on the whole frame when available;
4. the temporal high-frequency share of the first ``flicker_frames`` predicted frames, and
   of the same target frames, when the clip is long enough.

Result keys are ``<metric>_<region>_f<k>`` (``psnr_compat_f1``, ``ssim_whole_f2``,
``lpips_whole_f1``; ``sharpness_official_compat_f1`` in the official code's units) and
``flicker``. Undefined values are NaN: moving-area metrics of a frame with no moving pixel,
SSIM on frames under 11 px, LPIPS on frames under its minimum size, flicker on a clip too
short.

Clips are independent, so :func:`evaluate` can score several at once in threads (torch,
OpenCV and the model release the GIL): on a CPU shared with other jobs, threads that each
run one clip single-threaded keep the cores busy where one clip on many threads waits at
every operation's barrier. Asked to stop (``should_stop``), it starts no further clip and
returns those it started, finished: always the first clips in order. Stopped at once (a second
Ctrl-C, ``KeyboardInterrupt`` in the main thread) or by a clip's error, it does not wait for
the clips under way: they give up at their next stage (:class:`ClipAbandoned`), unscored.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import torch

from vidpred._progress import progress
from vidpred.build import synchronize
from vidpred.data.sampler import to_model_input
from vidpred.evaluation.clips import EvalClip
from vidpred.evaluation.flow import DEFAULT_FLOW_THRESHOLD, backward_flow, moving_mask
from vidpred.evaluation.predictors import Method
from vidpred.evaluation.scoring import SSIM_WINDOW, SharpnessUnits, score_frames, sharpness_metric
from vidpred.metrics import LPIPS, temporal_high_frequency_share

__all__ = ["Protocol", "ClipResult", "ClipAbandoned", "evaluate", "evaluate_clip"]

logger = logging.getLogger(__name__)


class ClipAbandoned(Exception):
    """A clip left unscored, part way, because the evaluation stopped without it."""


@dataclass(frozen=True)
class Protocol:
    """The evaluation's fixed choices (see ``docs/evaluation.md``).

    Attributes:
        n_context: context frames given to every method (the paper: 4).
        n_scored: predicted frames scored (the paper: 2, the 2nd predicted recursively).
        flicker_frames: predicted frames whose temporal spectrum is measured (>= 4: with
            fewer, every frequency but DC lies in the upper half and any change counts as
            flicker), or 0 to skip flicker and roll out only ``n_scored`` frames.
        flow_threshold: flow magnitude, px per frame, above which a pixel is moving.
        mask_per_frame: one moving-area mask per predicted frame, from the true frames
            before it (the official code), instead of the context's mask for every frame.
        sharpness: ``"unit"`` (vidpred's units: frames in [0, 1]) or ``"official"`` (the
            official Torch7 code's formula and units, :mod:`vidpred.metrics.official`).
    """

    n_context: int = 4
    n_scored: int = 2
    flicker_frames: int = 4
    flow_threshold: float = DEFAULT_FLOW_THRESHOLD
    mask_per_frame: bool = False
    sharpness: SharpnessUnits = "unit"

    def __post_init__(self) -> None:
        if self.n_context < 2:
            raise ValueError(f"n_context must be >= 2 (the flow needs two frames), got {self.n_context}")
        if self.n_scored < 1 or not (self.flicker_frames == 0 or self.flicker_frames >= 4):
            raise ValueError(f"need n_scored >= 1 and flicker_frames 0 or >= 4; got {self}")
        if not (math.isfinite(self.flow_threshold) and self.flow_threshold >= 0):
            raise ValueError(f"the flow threshold must be a finite number >= 0 (px per frame), "
                             f"got {self.flow_threshold}")
        sharpness_metric(self.sharpness)  # raises for an unknown unit

    @property
    def clip_frames(self) -> int:
        """Frames per clip: the context and the longest rollout any measure uses."""
        return self.n_context + max(self.n_scored, self.flicker_frames)

    @property
    def min_frames(self) -> int:
        """Shortest usable clip: the context and the scored frames (flicker then NaN)."""
        return self.n_context + self.n_scored


@dataclass
class ClipResult:
    """Scores of every method on one clip; ``scores[method][key]`` (see :func:`~vidpred.evaluation.scoring.metric_key`)."""

    name: str
    start: int
    n_frames: int
    height: int
    width: int
    moving_fraction: float  # share of pixels in the (1st predicted frame's) moving-area mask
    target_flicker: float  # high-frequency share of the target frames (NaN: clip too short)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    # The mask's share for each scored frame (all equal unless Protocol.mask_per_frame).
    moving_fractions: list[float] = field(default_factory=list)
    # Seconds spent on this clip: "flow" (Farneback and the mask), "flow/dis", each method's
    # "predict/<name>", "scores", "flicker".
    seconds: dict[str, float] = field(default_factory=dict)
    video: str = ""  # the clip's video (EvalClip.video)


def _masks(x: torch.Tensor, flow: torch.Tensor, protocol: Protocol) -> torch.Tensor:
    """The moving-area mask of each scored frame: ``(n_scored, 1, H, W)`` bool.

    Args:
        x: the clip ``(1, C, T, H, W)`` in ``[-1, 1]``.
        flow: the backward flow of the last context step ``(1, 2, H, W)``.
    """
    first = moving_mask(flow, protocol.flow_threshold)[0]  # (1, H, W)
    if not protocol.mask_per_frame:
        return first.expand(protocol.n_scored, -1, -1, -1)
    masks = [first]
    for k in range(2, protocol.n_scored + 1):
        # Predicted frame k follows true frame k - 1 (index n_context + k - 2): the flow of
        # the step that ends there, as the context's mask is the flow of the step ending at
        # the last context frame.
        newest = protocol.n_context + k - 2
        masks.append(moving_mask(backward_flow(x[:, :, newest - 1:newest + 1]), protocol.flow_threshold)[0])
    return torch.stack(masks)


@torch.no_grad()
def evaluate_clip(clip: EvalClip, methods: Sequence[Method], protocol: Protocol, device: torch.device,
                  lpips: LPIPS | None = None, abandoned: Callable[[], bool] | None = None) -> ClipResult:
    """Score every method on one clip (see the module docstring).

    Args:
        clip: uint8 frames ``(T, H, W, C)``, ``T >= protocol.min_frames``.
        methods: the table's rows.
        protocol: the evaluation's fixed choices.
        device: where tensors and models live.
        lpips: the LPIPS network, or None when skipped.
        abandoned: asked before each method's prediction and the scoring; once it returns
            True the clip raises :class:`ClipAbandoned`.
    """
    def give_up_if_abandoned() -> None:
        if abandoned is not None and abandoned():
            raise ClipAbandoned(clip.name)

    x = to_model_input(torch.from_numpy(clip.frames).unsqueeze(0).to(device))  # (1, C, T, H, W) in [-1, 1]
    _, _, T, H, W = x.shape
    if T < protocol.min_frames:
        raise ValueError(f"{clip.name}: {T} frames, the protocol needs at least {protocol.min_frames}")
    context, future = x[:, :, :protocol.n_context], x[:, :, protocol.n_context:]
    n_rollout = future.shape[2]
    seconds = {}
    started = time.perf_counter()
    flows = {"farneback": backward_flow(context)}  # (1, 2, H, W) each
    masks = _masks(x, flows["farneback"], protocol)  # (n_scored, 1, H, W)
    synchronize(x.device)
    seconds["flow"] = time.perf_counter() - started
    for method in sorted({m.flow for m in methods} - {None, "farneback"}):
        started = time.perf_counter()
        flows[method] = backward_flow(context, method)
        seconds[f"flow/{method}"] = time.perf_counter() - started
    with_flicker = protocol.flicker_frames > 0 and n_rollout >= protocol.flicker_frames
    predictions = []
    for method in methods:
        give_up_if_abandoned()
        started = time.perf_counter()
        prediction = method.predict(context, n_rollout, flows.get(method.flow))  # (1, C, n_rollout, H, W)
        synchronize(x.device)
        seconds[f"predict/{method.name}"] = time.perf_counter() - started
        if not torch.isfinite(prediction).all():  # NaN scores would drop the clip from every method's means
            raise ValueError(f"{method.name} predicted non-finite values (NaN or inf) on clip {clip.name}: "
                             "diverged weights or an overflow, not a score to leave out")
        prediction = prediction.clamp(-1, 1)
        if prediction.shape != future.shape:
            raise RuntimeError(f"{method.name} predicted {tuple(prediction.shape)}, expected {tuple(future.shape)}")
        predictions.append(prediction[0])
    predictions = torch.stack(predictions)  # (M, C, n_rollout, H, W)
    give_up_if_abandoned()
    n = protocol.n_scored
    started = time.perf_counter()
    scores = score_frames(predictions[:, :, :n].transpose(1, 2), future[0, :, :n].transpose(0, 1), masks,
                          sharpness=protocol.sharpness, lpips=lpips)
    synchronize(x.device)
    seconds["scores"] = time.perf_counter() - started
    started = time.perf_counter()
    if with_flicker:  # the methods' clips and the target's in one batch
        shares = temporal_high_frequency_share(
            torch.cat([predictions[:, :, :protocol.flicker_frames], future[:, :, :protocol.flicker_frames]]))
        flicker, target_flicker = shares[:-1].tolist(), shares[-1].item()
    else:
        flicker, target_flicker = [math.nan] * len(methods), math.nan
    seconds["flicker"] = time.perf_counter() - started
    fractions = masks.float().mean(dim=(1, 2, 3)).tolist()
    result = ClipResult(name=clip.name, start=clip.start, n_frames=T, height=H, width=W,
                        moving_fraction=fractions[0], target_flicker=target_flicker, moving_fractions=fractions,
                        seconds=seconds, video=clip.video)
    for i, method in enumerate(methods):
        result.scores[method.name] = {key: values[i].item() for key, values in scores.items()}
        result.scores[method.name]["flicker"] = flicker[i]
    return result


def evaluate(clips: Sequence[EvalClip], methods: Sequence[Method], protocol: Protocol, device: torch.device,
             lpips: LPIPS | None = None, show_progress: bool = True, workers: int = 1,
             should_stop: Callable[[], bool] | None = None) -> list[ClipResult]:
    """Score every method on every clip (whole frames of any size).

    Args:
        clips: from :func:`~vidpred.evaluation.clips.load_eval_clips`, uint8 ``(T, H, W, C)``.
        methods: the table's rows, names unique.
        protocol: the evaluation's fixed choices.
        device: where tensors and models live.
        lpips: the LPIPS network, or None when skipped.
        show_progress: one progress bar over the clips.
        workers: clips scored at once, each in its own thread (see the module docstring);
            the results do not depend on it.
        should_stop: asked before each clip is started; once it returns True no clip is
            started, and the clips already started are finished and returned.

    Returns:
        one :class:`ClipResult` per clip, in order: the first ``len(results)`` clips (all of
        them unless ``should_stop`` stopped it).
    """
    names = [m.name for m in methods]
    if len(set(names)) != len(names):
        raise ValueError(f"method names must be unique, got {names}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    too_small = [c.name for c in clips if min(c.frames.shape[1:3]) < SSIM_WINDOW]
    if too_small:
        logger.warning("SSIM needs frames of at least %d px; it is NaN for %d clip(s): %s", SSIM_WINDOW,
                       len(too_small), ", ".join(too_small[:5]))
    stopping = should_stop or (lambda: False)

    def score(clip: EvalClip, abandoned: Callable[[], bool] | None = None) -> ClipResult:
        return evaluate_clip(clip, methods, protocol, device, lpips, abandoned)

    bar = progress(total=len(clips), desc="evaluating", unit="clip", disable=not show_progress)
    with bar:
        if workers == 1:
            results = []
            for clip in clips:
                if stopping():
                    break
                results.append(score(clip))
                bar.update()
        else:
            results = _score_in_threads(score, clips, workers, stopping, bar.update)
    still = [r.name for r in results if not r.moving_fraction > 0]
    if still:
        named = ", ".join(still[:5]) + (f" and {len(still) - 5} more" if len(still) > 5 else "")
        logger.warning("%d of %d clips have no moving pixel (|flow| <= %g px) and are left out of the "
                       "moving-area scores: %s (a still or blank start? --start-frame moves the clips)", len(still),
                       len(results), protocol.flow_threshold, named)
    return results


def _score_in_threads(score: Callable[..., ClipResult], clips: Sequence[EvalClip], workers: int,
                      stopping: Callable[[], bool], done_one: Callable[[], object]) -> list[ClipResult]:
    """``score(clip, abandoned)`` on each clip, ``workers`` at a time, a clip started in order as
    soon as a thread is free (so a stop leaves the first clips scored, with no gap), until
    ``stopping()``. On an exception here (``KeyboardInterrupt``: a second stop request) or in a
    clip, the clips under way are abandoned, not waited for: a thread cannot be killed, but each
    gives up at its next stage, and the exception is raised at once."""
    results: dict[int, ClipResult] = {}
    running: dict[Future, int] = {}
    queued = iter(enumerate(clips))
    abandon = threading.Event()
    pool = ThreadPoolExecutor(workers, thread_name_prefix="evaluate")
    try:
        while True:
            while len(running) < workers and not stopping() and (item := next(queued, None)) is not None:
                running[pool.submit(score, item[1], abandon.is_set)] = item[0]
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                results[running.pop(future)] = future.result()
                done_one()
    except BaseException:
        abandon.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return [results[i] for i in sorted(results)]

"""Validation on fixed full-frame clips of held-out videos, beside the evaluation's baselines.

Scored by the evaluation's own function (:func:`~vidpred.evaluation.scoring.score_frames`,
whole frames) and averaged by its :func:`~vidpred.evaluation.scoring.clip_mean`, so the
numbers and their names are the evaluation's: per method, ``<metric>_whole_f<k>`` for
metric in ``psnr``, ``ssim``, ``sharpness``, ``edges`` and predicted frame k. The methods
are the model (``"model"``) and the evaluation's baselines, under its row names: the last
input (``"last input"``), Farneback flow extrapolation (``"Farneback flow (paper)"``, the
paper's baseline), DIS flow extrapolation (``"DIS flow"``) and their blend (``"blend"``,
with ``blend_weight``): the blend of last input and the better flow, its weight fitted on
these validation clips, shows what hedging buys in PSNR and SSIM; the edge ratio shows
whether a gain was bought with blur. PSNR and sharpness are capped where the evaluation
floors an exact prediction's error (:data:`~vidpred.evaluation.scoring.MAX_PSNR_DB`), so an
exact clip counts in the mean.

A validation is one record (a ``validation.jsonl`` line, and ``final_metrics.json``)::

    {"model": {"psnr_whole_f1": .., "ssim_whole_f1": .., ...}, "last input": {...},
     "Farneback flow (paper)": {...}, "DIS flow": {...}, "blend": {...}, "blend_weight": w}
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch

from vidpred.data.sampler import to_model_input
from vidpred.evaluation.baselines import fit_blend_weight
from vidpred.evaluation.flow import FLOW_METHODS, backward_flow
from vidpred.evaluation.predictors import BASELINE_NAMES, DIS_FLOW, FARNEBACK_FLOW, baseline_methods
from vidpred.evaluation.scoring import clip_mean, metric_key, score_frames
from vidpred.models.generator import MultiScaleGenerator
from vidpred.models.refiner import FlowRefiner

__all__ = ["MODEL", "BEST_KEY", "WELL_BELOW_BEST_DB", "ValidationInterrupted", "Validator", "evaluate",
           "baseline_scores", "predict_clips", "summary_line"]

log = logging.getLogger(__name__)

MODEL = "model"
# What picks best.pt: the model's whole-frame PSNR of the 1st predicted frame.
BEST_KEY = metric_key("psnr", "whole", 1)
# A validation this far below the run's best is said, in training and when its checkpoint is exported.
WELL_BELOW_BEST_DB = 1.0


class ValidationInterrupted(Exception):
    """``should_stop`` turned true between two validation batches (a stop signal arrived)."""


def _batches_by_shape(clips: Sequence[np.ndarray], batch_size: int) -> Iterator[tuple[list[int], np.ndarray]]:
    """Group clips of equal shape so whole frames of any size can be batched: ``(indices, batch)``."""
    groups: dict[tuple, list[int]] = {}
    for i, clip in enumerate(clips):
        groups.setdefault(clip.shape, []).append(i)
    for indices in groups.values():
        for i in range(0, len(indices), batch_size):
            chunk = indices[i : i + batch_size]
            yield chunk, np.stack([clips[j] for j in chunk])


def _score_batch(predictions: dict[str, torch.Tensor], target: torch.Tensor) -> dict[str, list[dict[str, float]]]:
    """Each method's scores on each clip of a batch, by :func:`score_frames` (whole frames).

    Args:
        predictions: by method, ``(B, C, n_future, H, W)``, clipped to ``[-1, 1]``.
        target: ``(B, C, n_future, H, W)`` in ``[-1, 1]``.
    Returns:
        by method, one ``{key: value}`` per clip of the batch.
    """
    names = list(predictions)
    out: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for b in range(target.shape[0]):
        preds = torch.stack([predictions[name][b].transpose(0, 1) for name in names])  # (M, n_future, C, H, W)
        scores = score_frames(preds, target[b].transpose(0, 1))
        for i, name in enumerate(names):
            out[name].append({key: values[i].item() for key, values in scores.items()})
    return out


def _means(per_clip: list[dict[str, float] | None]) -> dict[str, float]:
    """The mean over clips (in the clips' order, as the evaluation's report) of every key."""
    return {key: clip_mean([clip[key] for clip in per_clip]) for key in per_clip[0]}


@torch.no_grad()
def predict_clips(
    generator: MultiScaleGenerator | FlowRefiner,
    clips: torch.Tensor,
    n_context: int,
    n_future: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split clips into context and target and roll the generator out.

    Args:
        clips: (B, C, T, H, W) in [-1, 1] with T >= n_context + n_future.
    Returns:
        context (B, C, n_context, H, W), prediction and target (B, C, n_future, H, W).
    """
    context = clips[:, :, :n_context]
    target = clips[:, :, n_context : n_context + n_future]
    prediction = generator.rollout(context, n_future)
    return context, prediction, target


@torch.no_grad()
def evaluate(
    generator: MultiScaleGenerator | FlowRefiner,
    clips: Sequence[np.ndarray],
    *,
    n_context: int,
    n_future: int,
    device: torch.device,
    batch_size: int = 8,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, float]:
    """The model's mean scores over ``clips``: ``{"psnr_whole_f1": .., "ssim_whole_f1": .., ...}``.

    Args:
        clips: uint8 arrays (T, H, W, C) with T >= n_context + n_future; whole frames.
    Returns:
        ``<metric>_whole_f<k>`` for metric in psnr, ssim, sharpness, edges and k in 1..n_future.

    Raises:
        ValidationInterrupted: ``should_stop()`` was true before a batch, so a stop signal
            is acted on within one batch instead of after the whole validation.
    """
    if not clips:
        raise ValueError("no validation clips to evaluate")
    was_training = generator.training
    generator.eval()
    per_clip: list[dict[str, float] | None] = [None] * len(clips)
    n_broken = 0  # clips on which the model predicted NaN or inf
    try:
        for indices, batch in _batches_by_shape(clips, batch_size):
            if should_stop is not None and should_stop():
                raise ValidationInterrupted
            x = to_model_input(torch.from_numpy(batch).to(device))
            _, prediction, target = predict_clips(generator, x, n_context, n_future)
            prediction = prediction.float()
            n_broken += len(indices) - int(torch.isfinite(prediction).flatten(1).all(dim=1).sum())
            scores = _score_batch({MODEL: prediction.clamp(-1, 1)}, target)[MODEL]
            for i, clip_scores in zip(indices, scores):
                per_clip[i] = clip_scores
    finally:
        generator.train(was_training)
    means = _means(per_clip)
    if n_broken:
        # Averaged over the clips left, the scores would stand beside baselines averaged over
        # all of them (and could pick best.pt): the record is NaN, as a diverged run's is.
        log.warning("the model predicted non-finite values (NaN or inf) on %d of %d validation clips: its scores "
                    "are NaN", n_broken, len(clips))
        means = {key: math.nan for key in means}
    return means


@torch.no_grad()
def baseline_scores(
    clips: Sequence[np.ndarray],
    *,
    n_context: int,
    n_future: int,
    device: torch.device,
    batch_size: int = 8,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[dict[str, dict[str, float]], float]:
    """The baselines' mean scores over ``clips``, as in the evaluation, and the blend's weight.

    ``"last input"`` repeats the last context frame; ``"Farneback flow (paper)"``
    extrapolates along the backward Farneback flow (the paper's baseline); ``"DIS flow"``
    along the DIS flow (:func:`vidpred.evaluation.baselines.flow_extrapolation`);
    ``"blend"``: ``w * last input + (1 - w) * the better flow``, ``w`` fitted on these
    clips' 1st frames by :func:`~vidpred.evaluation.baselines.fit_blend_weight` (they are
    the validation set).

    Returns:
        ``({method: {"psnr_whole_f1": .., ...}}, w)`` with the keys of :func:`evaluate`.
    """
    batches = []  # (indices, context, target, flows by method)
    for indices, batch in _batches_by_shape(clips, batch_size):
        if should_stop is not None and should_stop():  # two optical flows a clip: minutes on a large set
            raise ValidationInterrupted
        x = to_model_input(torch.from_numpy(batch).to(device))
        context, target = x[:, :, :n_context], x[:, :, n_context : n_context + n_future]
        batches.append((indices, context, target, {method: backward_flow(context, method) for method in FLOW_METHODS}))
    if not batches:
        raise ValueError("no validation clips to evaluate")
    clip_slices = [(b, slice(i, i + 1)) for b, (_, context, _, _) in enumerate(batches) for i in range(len(context))]
    fit = fit_blend_weight(
        [batches[b][1][i] for b, i in clip_slices],
        [batches[b][2][i, :, 0] for b, i in clip_slices],
        flows=[{method: flow[i] for method, flow in batches[b][3].items()} for b, i in clip_slices],
    )
    methods = baseline_methods(fit.blend)  # the evaluation's rows, in its order
    per_clip: dict[str, list[dict[str, float] | None]] = {m.name: [None] * len(clips) for m in methods}
    for indices, context, target, flows in batches:
        predictions = {m.name: m.predict(context, n_future, None if m.flow is None else flows[m.flow]) for m in methods}
        scores = _score_batch({name: p.clamp(-1, 1) for name, p in predictions.items()}, target)
        for name, clip_scores in scores.items():
            for i, values in zip(indices, clip_scores):
                per_clip[name][i] = values
    return {name: _means(values) for name, values in per_clip.items()}, fit.blend.weight


class Validator:
    """A run's validation: a generator's scores on fixed clips beside the baselines'.

    The baselines do not change during a run and the flow ones are slow (two optical flows
    per clip), so they are computed on the first call only.

    Args:
        clips: uint8 ``(T, H, W, C)`` arrays with ``T >= n_context + n_future``.
    """

    def __init__(self, clips: Sequence[np.ndarray], *, n_context: int, n_future: int, device: torch.device,
                 batch_size: int = 8) -> None:
        self.clips = clips
        self._args = {"n_context": n_context, "n_future": n_future, "device": device, "batch_size": batch_size}
        self._baselines: tuple[dict[str, dict[str, float]], float] | None = None

    def __call__(self, generator: MultiScaleGenerator | FlowRefiner,
                 should_stop: Callable[[], bool] | None = None) -> dict:
        """One validation record (see the module docstring): :func:`evaluate`'s scores under
        ``"model"``, :func:`baseline_scores`' under the baselines' names, and ``blend_weight``.

        Raises:
            ValidationInterrupted: see :func:`evaluate`.
        """
        if self._baselines is None:
            self._baselines = baseline_scores(self.clips, **self._args, should_stop=should_stop)
        baselines, blend_weight = self._baselines
        model = evaluate(generator, self.clips, **self._args, should_stop=should_stop)
        return {MODEL: model, **baselines, "blend_weight": blend_weight}


def summary_line(record: dict) -> str:
    """A validation record in one line for the training log: the model's PSNR of the 1st
    predicted frame beside every baseline row's in the rows' order (but the paper's Farneback
    flow, left out to keep the line short), its SSIM, and its edge ratio beside DIS flow
    extrapolation's (whole frames)."""
    psnr, ssim, edges = BEST_KEY, metric_key("ssim", "whole", 1), metric_key("edges", "whole", 1)
    baselines = ", ".join(f"{name} {record[name][psnr]:.2f}" for name in BASELINE_NAMES if name != FARNEBACK_FLOW)
    return (f"val PSNR {record[MODEL][psnr]:.2f} dB ({baselines}), SSIM {record[MODEL][ssim]:.3f}, "
            f"edge ratio {record[MODEL][edges]:.3f} ({DIS_FLOW} {record[DIS_FLOW][edges]:.3f})")

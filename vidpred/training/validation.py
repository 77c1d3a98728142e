"""Validation on fixed full-frame clips of held-out videos, beside the evaluation's baselines.

The model's scores (``psnr``, ``ssim``, ``sharpness``, ``edges``) come with the last input's
(``baseline_*``), Farneback flow extrapolation's (``flow_*``, the paper's baseline), DIS flow
extrapolation's (``dis_*``) and the blend's (``blend_*``, with ``blend_weight``): the blend of
last input and the better flow, its weight fitted on these validation clips, shows what
hedging buys in PSNR and SSIM; the edge ratio shows whether a gain was bought with blur.
PSNR and sharpness are capped where the evaluation floors an exact prediction's error
(:data:`~vidpred.evaluation.scoring.MAX_PSNR_DB`), so an exact clip counts in the mean.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np
import torch

from vidpred.data.sampler import to_model_input
from vidpred.evaluation.baselines import fit_blend_weight, flow_extrapolation
from vidpred.evaluation.flow import FLOW_METHODS, backward_flow
from vidpred.evaluation.scoring import MAX_PSNR_DB, MAX_SHARPNESS_DB
from vidpred.metrics import edge_ratio, psnr, sharpness_difference, ssim
from vidpred.models.generator import MultiScaleGenerator

METRICS = {
    "psnr": lambda pred, target: psnr(pred, target).clamp(max=MAX_PSNR_DB),
    "ssim": ssim,
    "sharpness": lambda pred, target: sharpness_difference(pred, target).clamp(max=MAX_SHARPNESS_DB),
    "edges": edge_ratio,
}


class ValidationInterrupted(Exception):
    """``should_stop`` turned true between two validation batches (a stop signal arrived)."""


def _add_scores(sums: dict[str, float], prefix: str, prediction: torch.Tensor, target: torch.Tensor) -> None:
    """Add each clip's PSNR / SSIM / sharpness / edge ratio of every predicted frame to ``sums``.

    Keys: ``<prefix><metric>`` for the 1st frame, ``<prefix><metric>_f<k>`` for frame k >= 2;
    ``prediction`` and ``target`` are ``(B, C, n_future, H, W)``.
    """
    for k in range(target.shape[2]):
        suffix = "" if k == 0 else f"_f{k + 1}"
        for name, fn in METRICS.items():
            sums[f"{prefix}{name}{suffix}"] += fn(prediction[:, :, k].float(), target[:, :, k]).sum().item()


def _batches_by_shape(clips: Sequence[np.ndarray], batch_size: int):
    """Group clips of equal shape so whole frames of any size can be batched."""
    groups: dict[tuple, list[np.ndarray]] = defaultdict(list)
    for clip in clips:
        groups[clip.shape].append(clip)
    for group in groups.values():
        for i in range(0, len(group), batch_size):
            yield np.stack(group[i : i + batch_size])


@torch.no_grad()
def predict_clips(
    generator: MultiScaleGenerator,
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
    generator: MultiScaleGenerator,
    clips: Sequence[np.ndarray],
    *,
    n_context: int,
    n_future: int,
    device: torch.device,
    batch_size: int = 8,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, float]:
    """Mean PSNR / SSIM / sharpness difference / edge ratio over ``clips`` for the model and the last input.

    Args:
        clips: uint8 arrays (T, H, W, C) with T >= n_context + n_future; whole frames.
    Returns:
        ``{"psnr": .., "ssim": .., "sharpness": .., "edges": .., "baseline_psnr": .., ...}``
        for the first predicted frame, plus ``"<metric>_f<k>"`` for frame k >= 2 when
        n_future >= 2. The baseline repeats the last context frame.

    Raises:
        ValidationInterrupted: ``should_stop()`` was true before a batch, so a stop signal
            is acted on within one batch instead of after the whole validation.
    """
    was_training = generator.training
    generator.eval()
    sums: dict[str, float] = defaultdict(float)
    count = 0
    for batch in _batches_by_shape(clips, batch_size):
        if should_stop is not None and should_stop():
            generator.train(was_training)
            raise ValidationInterrupted
        x = to_model_input(torch.from_numpy(batch).to(device))
        context, prediction, target = predict_clips(generator, x, n_context, n_future)
        _add_scores(sums, "", prediction, target)
        _add_scores(sums, "baseline_", context[:, :, -1:].expand_as(target), target)
        count += x.shape[0]
    generator.train(was_training)
    if count == 0:
        raise ValueError("no validation clips to evaluate")
    return {key: value / count for key, value in sums.items()}


@torch.no_grad()
def baseline_scores(
    clips: Sequence[np.ndarray],
    *,
    n_context: int,
    n_future: int,
    device: torch.device,
    batch_size: int = 8,
) -> dict[str, float]:
    """Mean scores of the flow baselines and the blend over ``clips``, as in the evaluation.

    ``flow_*``: extrapolation along the backward Farneback flow (the paper's baseline);
    ``dis_*``: along the DIS flow (:func:`vidpred.evaluation.baselines.flow_extrapolation`);
    ``blend_*``: ``w * last input + (1 - w) * the better flow``, ``w`` (``blend_weight``)
    fitted on these clips' 1st frames by :func:`~vidpred.evaluation.baselines.fit_blend_weight`
    (they are the validation set).

    Returns:
        ``{"flow_psnr": .., "dis_psnr": .., "blend_psnr": .., ..., "blend_weight": w}`` for the
        first predicted frame, plus ``"<prefix><metric>_f<k>"`` for frame k >= 2.
    """
    batches = []  # (context, target, flows by method)
    for batch in _batches_by_shape(clips, batch_size):
        x = to_model_input(torch.from_numpy(batch).to(device))
        context, target = x[:, :, :n_context], x[:, :, n_context : n_context + n_future]
        batches.append((context, target, {method: backward_flow(context, method) for method in FLOW_METHODS}))
    if not batches:
        raise ValueError("no validation clips to evaluate")
    clip_slices = [(b, slice(i, i + 1)) for b, (context, _, _) in enumerate(batches) for i in range(len(context))]
    fit = fit_blend_weight(
        [batches[b][0][i] for b, i in clip_slices],
        [batches[b][1][i, :, 0] for b, i in clip_slices],
        flows=[{method: flow[i] for method, flow in batches[b][2].items()} for b, i in clip_slices],
    )
    sums: dict[str, float] = defaultdict(float)
    for context, target, flows in batches:
        _add_scores(sums, "flow_", flow_extrapolation(context, n_future, flows["farneback"]), target)
        _add_scores(sums, "dis_", flow_extrapolation(context, n_future, flows["dis"]), target)
        _add_scores(sums, "blend_", fit.blend(context, n_future, flows[fit.blend.flow_method]), target)
    return {**{key: value / fit.n_clips for key, value in sums.items()}, "blend_weight": fit.blend.weight}


class Validator:
    """A run's validation: a generator's scores on fixed clips beside the baselines'.

    The flow baselines and the blend do not change during a run and are slow (two optical
    flows per clip), so they are computed on the first call only.

    Args:
        clips: uint8 ``(T, H, W, C)`` arrays with ``T >= n_context + n_future``.
    """

    def __init__(self, clips: Sequence[np.ndarray], *, n_context: int, n_future: int, device: torch.device,
                 batch_size: int = 8) -> None:
        self.clips = clips
        self._args = {"n_context": n_context, "n_future": n_future, "device": device, "batch_size": batch_size}
        self._baselines: dict[str, float] | None = None

    def __call__(self, generator: MultiScaleGenerator, should_stop: Callable[[], bool] | None = None) -> dict[str, float]:
        """:func:`evaluate`'s scores (model and ``baseline_*``) with :func:`baseline_scores`'
        (``flow_*``, ``dis_*``, ``blend_*``, ``blend_weight``).

        Raises:
            ValidationInterrupted: see :func:`evaluate`.
        """
        if self._baselines is None:
            self._baselines = baseline_scores(self.clips, **self._args)
        return {**evaluate(generator, self.clips, **self._args, should_stop=should_stop), **self._baselines}

"""The simple predictors every model is measured against.

* :func:`last_input`: repeat the last context frame (the paper's first baseline);
* :func:`flow_extrapolation`: extrapolate the last frame along the backward optical flow of
  the last context step. With Farneback flow it is the paper's second baseline; with DIS
  flow (:func:`~vidpred.evaluation.flow.dis_flow`, medium preset) it is the stronger
  classical predictor on real footage with a moving camera;
* :func:`blend`: ``w * last + (1 - w) * flow extrapolation``, its weight fitted on
  validation clips by :func:`fit_blend_weight`. Not a target: it shows how much PSNR and
  SSIM a prediction buys by hedging between two guesses (a conditional-mean blur), which
  the gradient-difference and adversarial terms exist to avoid.

Every predictor has the signature ``predict(context, n_future, flow) -> (B, C, n_future, H, W)``,
where ``flow`` is the clip's :func:`~vidpred.evaluation.flow.backward_flow` computed once per
clip by the method the predictor names (``None`` for predictors that read no flow).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

from vidpred.evaluation.flow import FLOW_METHODS, backward_flow
from vidpred.models.warp import warp

__all__ = ["last_input", "flow_extrapolation", "Blend", "BlendFit", "fit_blend_weight", "BLEND_STEP", "warp"]

BLEND_STEP = 0.05  # the grid of blend weights: 0, 0.05, ..., 1


def last_input(context: Tensor, n_future: int, flow: Tensor | None = None) -> Tensor:
    """Predict every future frame as a copy of the last context frame.

    Args:
        context: ``(B, C, T, H, W)`` in ``[-1, 1]``.
        n_future: frames to predict, >= 1.
        flow: ignored (the common predictor signature).

    Returns:
        ``(B, C, n_future, H, W)`` in ``[-1, 1]``.
    """
    if n_future < 1:
        raise ValueError(f"n_future must be >= 1, got {n_future}")
    return context[:, :, -1:].expand(-1, -1, n_future, -1, -1).clone()


def flow_extrapolation(context: Tensor, n_future: int, flow: Tensor | None = None,
                       method: str = "farneback") -> Tensor:
    """Constant-velocity extrapolation of the last frame along its optical flow.

    With ``flow`` the backward flow of the last step (``last(p) ≈ previous(p + flow(p))``),
    a pixel that moved by ``-flow`` over the last step is assumed to keep moving the same
    way, so frame ``k`` ahead is ``last(p + k * flow(p))``: one bilinear resampling of the
    real last frame per predicted frame (extrapolating k times the flow, not warping
    predictions recursively, which would blur with every step). The flow sampled at the
    *target* pixel stands in for the flow of the pixel that will land there: exact for
    smooth motion fields, wrong at occlusion boundaries, as for any single-flow baseline.

    Args:
        context: ``(B, C, T, H, W)`` in ``[-1, 1]``, ``T >= 2``.
        n_future: frames to predict, >= 1.
        flow: ``(B, 2, H, W)`` backward flow of the last step; computed with
            :func:`~vidpred.evaluation.flow.backward_flow` by ``method`` when None.
        method: ``"farneback"`` or ``"dis"``, the estimator used when ``flow`` is None.

    Returns:
        ``(B, C, n_future, H, W)`` in ``[-1, 1]``.
    """
    if n_future < 1:
        raise ValueError(f"n_future must be >= 1, got {n_future}")
    if flow is None:
        flow = backward_flow(context, method)
    last = context[:, :, -1]
    return torch.stack([warp(last, k * flow) for k in range(1, n_future + 1)], dim=2)


@dataclass(frozen=True)
class Blend:
    """``weight * last input + (1 - weight) * flow extrapolation`` for every predicted frame.

    A predictor (the common signature); ``flow`` is the backward flow of ``flow_method``.
    """

    weight: float
    flow_method: str

    def __post_init__(self) -> None:
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"the blend weight must lie in [0, 1], got {self.weight}")
        if self.flow_method not in FLOW_METHODS:
            raise ValueError(f"flow method must be one of {', '.join(FLOW_METHODS)}, got {self.flow_method!r}")

    def __call__(self, context: Tensor, n_future: int, flow: Tensor | None = None) -> Tensor:
        """``context`` ``(B, C, T, H, W)`` in ``[-1, 1]`` -> ``(B, C, n_future, H, W)`` in ``[-1, 1]``."""
        extrapolated = flow_extrapolation(context, n_future, flow, self.flow_method)
        return self.weight * last_input(context, n_future) + (1 - self.weight) * extrapolated


@dataclass(frozen=True)
class BlendFit:
    """What :func:`fit_blend_weight` found: the blend and the 1st-frame MSEs it was chosen by."""

    blend: Blend
    mse: float  # the blend's mean 1st-frame MSE over the clips ([-1, 1] units)
    mse_by_flow: dict[str, float]  # each flow extrapolation's alone
    mse_last_input: float
    n_clips: int


def _blend_terms(contexts: Sequence[Tensor], targets: Sequence[Tensor],
                 flows: Sequence[dict[str, Tensor]] | None) -> dict[str, Tensor]:
    """Per flow method, the sums over the clips of ``mean(d^2)``, ``mean(d e)`` and ``mean(e^2)``
    (:func:`fit_blend_weight`): ``(3,)`` float64 on the clips' device, so that the sums stay
    where the clips are (a CPU total cannot take a GPU clip's terms)."""
    terms = {method: torch.zeros(3, dtype=torch.float64, device=contexts[0].device) for method in FLOW_METHODS}
    for i, (context, target) in enumerate(zip(contexts, targets)):
        last = context[:, :, -1].double()
        for method in FLOW_METHODS:
            flow = None if flows is None else flows[i][method]
            extrapolated = flow_extrapolation(context, 1, flow, method)[:, :, 0].clamp(-1, 1).double()
            d, e = last - extrapolated, extrapolated - target.double()
            terms[method] += torch.stack([d.square().mean(), (d * e).mean(), e.square().mean()])
    return terms


@torch.no_grad()
def fit_blend_weight(contexts: Sequence[Tensor], targets: Sequence[Tensor], step: float = BLEND_STEP,
                     flows: Sequence[dict[str, Tensor]] | None = None) -> BlendFit:
    """The blend of last input and the better flow extrapolation that best predicts the 1st frame.

    The flow is whichever of Farneback and DIS extrapolation has the lower mean 1st-frame
    MSE over the clips; the weight ``w`` on the grid ``0, step, ..., 1`` minimises the mean
    1st-frame MSE of ``w * last + (1 - w) * flow``. Fit it on validation clips, never on the
    clips it is scored on.

    With ``d = last - flow`` and ``e = flow - target``, a clip's MSE is
    ``w^2 mean(d^2) + 2 w mean(d e) + mean(e^2)``: three numbers per clip cover the grid.

    Args:
        contexts: per clip ``(1, C, T, H, W)`` in ``[-1, 1]``, ``T >= 2`` (any sizes).
        targets: per clip the true 1st future frame ``(1, C, H, W)`` in ``[-1, 1]``.
        step: the grid's spacing, dividing 1.
        flows: per clip the backward flows by method (``{"farneback": ..., "dis": ...}``),
            computed when None.

    Raises:
        ValueError: no clips, or contexts and targets of different counts.
    """
    if len(contexts) == 0 or len(contexts) != len(targets):
        raise ValueError(f"need as many targets as contexts, and at least one; got {len(contexts)} and {len(targets)}")
    n_steps = round(1 / step)
    if n_steps < 1 or abs(n_steps * step - 1) > 1e-9:
        raise ValueError(f"the grid step must divide 1, got {step}")
    terms = _blend_terms(contexts, targets, flows)
    n = len(contexts)
    mse_by_flow = {method: (t[2] / n).item() for method, t in terms.items()}
    best = min(FLOW_METHODS, key=lambda method: mse_by_flow[method])
    dd, de, ee = (terms[best] / n).tolist()
    weights = [k / n_steps for k in range(n_steps + 1)]
    mses = [w * w * dd + 2 * w * de + ee for w in weights]
    i_best = min(range(len(weights)), key=mses.__getitem__)
    mse_last_input = dd + 2 * de + ee
    return BlendFit(Blend(weights[i_best], best), mses[i_best], mse_by_flow, mse_last_input, n)

"""The combined generator objective (Mathieu et al. 2016; the sharper-predictions article, "Combining losses")."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
from torch import Tensor

from vidpred.config import LossConfig
from vidpred.losses.adaptive import adaptive_weight
from vidpred.losses.census import census_loss
from vidpred.losses.gradient import gradient_difference_loss
from vidpred.losses.laplacian import laplacian_loss
from vidpred.losses.lp import lp_loss
from vidpred.losses.path import path_loss
from vidpred.losses.ssim import ssim_loss

__all__ = ["FINEST_SCALE_LOSSES", "generator_objective"]

# The reconstruction terms computed on the finest scale only, in the order the trainer computes
# and logs them: log key -> (the ``LossConfig`` field of its weight, the loss of the prediction
# and the target, ``(B, C, T, H, W)`` float32 in ``[-1, 1]``, given the loss config for its own
# settings). The trainer computes a term only while its weight is above 0 and passes it to
# :func:`generator_objective` in ``extra_terms``.
FINEST_SCALE_LOSSES: dict[str, tuple[str, Callable[[Tensor, Tensor, LossConfig], Tensor]]] = {
    "g_lap": ("l_lap", lambda pred, target, loss: laplacian_loss(pred, target, loss.lap_levels)),
    "g_census": ("l_census", lambda pred, target, loss: census_loss(pred, target, loss.census_window)),
    "g_ssim": ("l_ssim", lambda pred, target, loss: ssim_loss(pred, target)),
}


def generator_objective(
    pred_scales: Sequence[Tensor],
    target_scales: Sequence[Tensor],
    *,
    l_adv: float,
    l_p: float,
    p: int,
    l_gdl: float,
    gdl_alpha: float,
    l_path: float,
    anchor_scales: Sequence[Tensor] | None = None,
    multiscale: bool = True,
    adv_losses: Mapping[str, Tensor] | None = None,
    extra_terms: Mapping[str, tuple[float, Tensor]] | None = None,
    last_layer: Tensor | None = None,
    adaptive_max: float = 1e4,
) -> tuple[Tensor, dict[str, Tensor]]:
    r"""Weighted sum of the generator's loss terms.

    .. math::

        \mathcal{L}_{rec} = \sum_k \big(\lambda_p \mathcal{L}_p + \lambda_{gdl} \mathcal{L}_{gdl}
            + \lambda_{path} \mathcal{L}_{path}\big)(\hat Y_k, Y_k) + \sum_e \lambda_e \mathcal{L}_e,
        \qquad
        \mathcal{L}_G = \mathcal{L}_{rec} + w \, \lambda_{adv} \, \mathcal{L}^G_{adv}

    - ``L^G_adv`` is the mean of the generator losses of all discriminators, the entries of
      ``adv_losses`` (GMAN's mean, Durugkar et al. 2017; the sharper-predictions article,
      "Multiple discriminators"); the multi-scale D's is
      :func:`~vidpred.losses.adversarial.bce_g_loss` of its logits, already a sum over its scales;
    - ``L_e`` are precomputed extra reconstruction terms (``extra_terms``, e.g. perceptual
      losses) with their weights;
    - ``w`` is 1, or with ``last_layer`` given the adaptive weight
      :func:`~vidpred.losses.adaptive.adaptive_weight` of ``L_rec`` against ``L^G_adv``
      at that parameter (the CogVideo loss notes), clamped to ``[0, adaptive_max]``;
    - ``L_p`` = :func:`~vidpred.losses.lp.lp_loss` (mean), ``L_gdl`` =
      :func:`~vidpred.losses.gradient.gradient_difference_loss` (mean), ``L_path`` =
      :func:`~vidpred.losses.path.path_loss` (mean) are summed over scales k when
      ``multiscale``, else taken at the finest scale only.

    A term whose weight is 0 is not computed and not reported; so is the adversarial
    term when ``adv_losses`` is empty (e.g. before the discriminators start). Paper weights
    (``configs/paper_ucf101.yaml``): ``l_adv=0.05, l_p=1 (p=1, the GDL-L1 model the
    adversarial one builds on), l_gdl=1 (alpha=1)``.

    Args:
        pred_scales: predictions per scale, coarsest first, ``(B, C, T, h_k, w_k)`` in ``[-1, 1]``.
        target_scales: targets, same shapes, in ``[-1, 1]``.
        l_adv, l_p, l_gdl, l_path: weights.
        p: exponent of the Lp term (1 or 2).
        gdl_alpha: exponent of the GDL term.
        anchor_scales: last context frame per scale, ``(B, C, h_k, w_k)`` in ``[-1, 1]``,
            for the path loss (it cancels there; see :func:`~vidpred.losses.path.path_loss`).
        multiscale: sum reconstruction terms over scales (True) or use the finest only.
        adv_losses: the discriminators' generator losses (unweighted scalars, D frozen,
            graph kept to G), by name; each is reported as ``"g_adv_<name>"``.
        extra_terms: ``{name: (weight, scalar)}`` added to the reconstruction objective
            (a weight of 0 skips the term).
        last_layer: the generator's last layer weight for the adaptive weight, or None
            for ``w = 1``.
        adaptive_max: upper clamp of the adaptive weight.

    Returns:
        ``(total, terms)``: ``total`` is the scalar to backpropagate; ``terms`` holds the
        detached *unweighted* values of the computed terms under ``"g_adv"`` (their mean), ``"g_lp"``,
        ``"g_gdl"``, ``"g_path"`` and the ``extra_terms`` names, the adaptive weight under
        ``"g_adv_weight"`` when used, and the detached total under ``"g_total"``.
    """
    if len(pred_scales) != len(target_scales) or len(pred_scales) == 0:
        raise ValueError(
            f"need as many target scales as prediction scales, got {len(pred_scales)} and {len(target_scales)}"
        )
    if anchor_scales is not None and len(anchor_scales) != len(pred_scales):
        raise ValueError(f"anchor_scales has {len(anchor_scales)} scales, predictions have {len(pred_scales)}")
    for k, (pred, target) in enumerate(zip(pred_scales, target_scales)):
        if pred.shape != target.shape or pred.dim() != 5:
            raise ValueError(
                f"scale {k}: pred and target must be (B, C, T, h, w), got {tuple(pred.shape)} and {tuple(target.shape)}"
            )

    first = 0 if multiscale else len(pred_scales) - 1
    preds, targets = pred_scales[first:], target_scales[first:]
    anchors = [None] * len(preds) if anchor_scales is None else list(anchor_scales[first:])

    unweighted: dict[str, Tensor] = {}
    weights: dict[str, float] = {}
    if l_p != 0:
        unweighted["g_lp"] = sum(lp_loss(y_hat, y, p=p) for y_hat, y in zip(preds, targets))
        weights["g_lp"] = l_p
    if l_gdl != 0:
        unweighted["g_gdl"] = sum(
            gradient_difference_loss(y_hat, y, alpha=gdl_alpha) for y_hat, y in zip(preds, targets)
        )
        weights["g_gdl"] = l_gdl
    if l_path != 0:
        unweighted["g_path"] = sum(path_loss(y_hat, y, anchor=a) for y_hat, y, a in zip(preds, targets, anchors))
        weights["g_path"] = l_path
    for name, (weight, value) in (extra_terms or {}).items():
        if weight != 0:
            unweighted[name], weights[name] = value, weight
    reconstruction = sum(weights[name] * value for name, value in unweighted.items())

    adversarial: dict[str, Tensor] = {}
    if l_adv != 0:
        adversarial.update({f"g_adv_{name}": value for name, value in (adv_losses or {}).items()})
    if not unweighted and not adversarial:
        raise ValueError("generator_objective: every term has weight 0 (or only l_adv is set and no discriminator judges)")

    terms = {name: value.detach() for name, value in unweighted.items()}
    total = reconstruction
    if adversarial:
        adv = torch.stack(list(adversarial.values())).mean()  # GMAN: the mean of every D's feedback
        weight = l_adv
        if last_layer is not None:
            if not unweighted:
                raise ValueError("generator_objective: the adaptive weight needs a reconstruction term")
            w = adaptive_weight(reconstruction, adv, last_layer, max_weight=adaptive_max)
            weight = w * l_adv
            terms["g_adv_weight"] = w
        total = total + weight * adv
        terms.update({name: value.detach() for name, value in adversarial.items()})
        terms["g_adv"] = adv.detach()
    terms["g_total"] = total.detach()
    return total, terms

"""The combined generator objective (Mathieu et al. 2016; seed 002 "Combining losses")."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from vidpred.losses.adversarial import bce_g_loss
from vidpred.losses.gradient import gradient_difference_loss
from vidpred.losses.lp import lp_loss
from vidpred.losses.path import path_loss

__all__ = ["generator_objective"]


def generator_objective(
    pred_scales: Sequence[Tensor],
    target_scales: Sequence[Tensor],
    fake_logits: Sequence[Tensor] | None,
    *,
    l_adv: float,
    l_p: float,
    p: int,
    l_gdl: float,
    gdl_alpha: float,
    l_path: float,
    anchor_scales: Sequence[Tensor] | None = None,
    multiscale: bool = True,
) -> tuple[Tensor, dict[str, Tensor]]:
    r"""Weighted sum of the generator's loss terms.

    .. math::

        \mathcal{L}_G = \lambda_{adv} \mathcal{L}^G_{adv}
            + \sum_k \big(\lambda_p \mathcal{L}_p + \lambda_{gdl} \mathcal{L}_{gdl}
            + \lambda_{path} \mathcal{L}_{path}\big)(\hat Y_k, Y_k)

    - ``L^G_adv`` = :func:`~vidpred.losses.adversarial.bce_g_loss` (already a sum over D's
      scales);
    - ``L_p`` = :func:`~vidpred.losses.lp.lp_loss` (mean), ``L_gdl`` =
      :func:`~vidpred.losses.gradient.gradient_difference_loss` (mean), ``L_path`` =
      :func:`~vidpred.losses.path.path_loss` (mean) are summed over scales k when
      ``multiscale``, else taken at the finest scale only.

    A term whose weight is 0 is not computed and not reported; so is the adversarial
    term when ``fake_logits`` is None (e.g. before the discriminator starts). Paper
    weights: ``l_adv=0.05, l_p=1 (p=2), l_gdl=1 (alpha=1)``.

    Args:
        pred_scales: predictions per scale, coarsest first, ``(B, C, T, h_k, w_k)`` in ``[-1, 1]``.
        target_scales: targets, same shapes, in ``[-1, 1]``.
        fake_logits: per-scale ``(B,)`` D logits on the predictions (D frozen, graph kept
            to G), or None.
        l_adv, l_p, l_gdl, l_path: weights; ``l_adv`` may also be a 0-dim detached tensor
            (an adaptive weight).
        p: exponent of the Lp term (1 or 2).
        gdl_alpha: exponent of the GDL term.
        anchor_scales: last context frame per scale, ``(B, C, h_k, w_k)`` in ``[-1, 1]``,
            for the path loss (it cancels there; see :func:`~vidpred.losses.path.path_loss`).
        multiscale: sum reconstruction terms over scales (True) or use the finest only.

    Returns:
        ``(total, terms)``: ``total`` is the scalar to backpropagate; ``terms`` holds the
        detached *unweighted* values of the computed terms under ``"g_adv"``, ``"g_lp"``,
        ``"g_gdl"``, ``"g_path"``, and the detached total under ``"g_total"``.
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
    if l_adv != 0 and fake_logits is not None:
        unweighted["g_adv"], weights["g_adv"] = bce_g_loss(fake_logits), l_adv
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
    if not unweighted:
        raise ValueError("generator_objective: every term has weight 0 (or only l_adv is set and fake_logits is None)")

    total = sum(weights[name] * value for name, value in unweighted.items())
    terms = {name: value.detach() for name, value in unweighted.items()}
    terms["g_total"] = total.detach()
    return total, terms

"""Adaptive adversarial weight (the CogVideo loss notes; Esser et al. 2021, taming-transformers' ``calculate_adaptive_weight``)."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["adaptive_weight"]


def adaptive_weight(
    rec_loss: Tensor,
    adv_loss: Tensor,
    last_layer_weight: Tensor,
    max_weight: float = 1e4,
    eps: float = 1e-4,
) -> Tensor:
    r"""Balance the adversarial term against reconstruction at the generator's last layer.

    .. math::

        w = \operatorname{clamp}\!\left(
              \frac{\lVert \nabla_W \mathcal{L}_{rec} \rVert_2}{\lVert \nabla_W \mathcal{L}_{adv} \rVert_2 + \epsilon},
              0, w_{max}\right), \qquad \text{detached}

    The generator then minimises ``L_rec + w * l_adv * L_adv``: whatever the scale of the
    discriminator's feedback, its gradient at ``W`` is ``l_adv`` times as large as the
    reconstruction gradient. The weight is a constant for the backward pass (detached); it
    is recomputed every step. Both gradients are taken with ``retain_graph=True`` so the
    caller can still backpropagate the total.

    Args:
        rec_loss: scalar reconstruction objective (the weighted non-adversarial terms).
        adv_loss: scalar adversarial objective of the generator (unweighted).
        last_layer_weight: the generator's last layer weight ``W`` (a leaf parameter both
            losses depend on), e.g. ``MultiScaleGenerator.last_layer``.
        max_weight: upper clamp (taming-transformers: 1e4).
        eps: added to the denominator (taming-transformers: 1e-4).

    Returns:
        0-dim detached tensor ``w``.
    """
    (rec_grad,) = torch.autograd.grad(rec_loss, last_layer_weight, retain_graph=True)
    (adv_grad,) = torch.autograd.grad(adv_loss, last_layer_weight, retain_graph=True)
    weight = rec_grad.norm() / (adv_grad.norm() + eps)
    return weight.clamp(0.0, max_weight).detach()

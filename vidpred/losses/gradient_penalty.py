"""Gradient penalties on real inputs: the CogVideo loss notes' one-centred penalty (the term of Gulrajani
et al. 2017, WGAN-GP) and the zero-centred R1 penalty (Mescheder et al. 2018)."""

from __future__ import annotations

import torch
from torch import Tensor

from vidpred.losses.lp import reduce_loss

__all__ = ["gradient_penalty"]


def gradient_penalty(logits: Tensor, inputs: Tensor, reduction: str = "mean", center: float = 1.0) -> Tensor:
    r"""Penalise the discriminator's input-gradient norm for deviating from ``center``.

    .. math::

        \mathcal{L}_{gp} = \mathbb{E}_x\big[(\lVert \nabla_x D(x) \rVert_2 - c)^2\big]

    with the norm over all of a sample's dims (channels, time, height, width). The CogVideo loss notes
    applies it with ``c = 1`` to *real* inputs; WGAN-GP used interpolates between real and
    fake. With ``c = 0`` it is the R1 penalty ``E ||grad D(x)||^2`` on real inputs
    (Mescheder et al. 2018, usually weighted ``gamma / 2``): it only asks D to be flat *at
    the real data*, where the one-centred form asks every real clip for a slope of 1,
    which keeps D's logits moving even where it is right. The
    gradient is taken with ``create_graph=True`` so the penalty can be backpropagated into
    D's parameters (a double backward).

    Samples must be independent (no BatchNorm across the batch): the gradient of
    ``logits.sum()`` with respect to sample ``b`` is then ``grad D(x_b)``. ``inputs`` may
    be part of a larger batch (e.g. real clips concatenated with fakes before one forward
    pass); only the part that produced ``logits`` is differentiated.

    Args:
        logits: ``(B,)`` D outputs on ``inputs``, still attached to the graph.
        inputs: ``(B, ...)`` e.g. ``(B, C, T, H, W)`` in ``[-1, 1]``, created with
            ``requires_grad=True`` before the forward pass.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` (per-sample ``(B,)``).
        center: the target norm ``c``: 1 (the CogVideo loss notes) or 0 (R1).

    Returns:
        Scalar, or ``(B,)`` for ``"none"``.

    Example:
        A linear critic ``D(x) = w . x`` has gradient ``w`` everywhere, so the penalty is
        ``(||w|| - 1)^2``: ``w = (3, 4)`` gives ``(5 - 1)^2 = 16``, and ``25`` with ``center=0``.
    """
    if not inputs.requires_grad:
        raise ValueError("gradient_penalty: inputs must have requires_grad=True before D's forward pass")
    if logits.shape[0] != inputs.shape[0]:
        raise ValueError(f"logits {tuple(logits.shape)} and inputs {tuple(inputs.shape)} differ in batch size")
    (grad,) = torch.autograd.grad(logits.sum(), inputs, create_graph=True)
    norms = grad.flatten(1).norm(dim=1)  # (B,)
    return reduce_loss((norms - center).square(), reduction)

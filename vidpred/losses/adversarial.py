"""Binary cross-entropy GAN losses on multi-scale logits (Mathieu et al. 2016; the sharper-predictions article, "Training D", "Training G").

Every function takes logits (never probabilities) and uses
``F.binary_cross_entropy_with_logits``, which is stable for large logits. Multi-scale
means: sum over scales of the per-scale batch mean.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["bce_d_loss", "bce_g_loss", "sample_labels"]


def _bce(logits: Tensor, target: float | Tensor) -> Tensor:
    """Batch-mean BCE of ``(B,)`` logits against a constant or a ``(B,)`` label tensor."""
    labels = torch.full_like(logits, target) if isinstance(target, (int, float)) else target.to(logits)
    return F.binary_cross_entropy_with_logits(logits, labels)


def _per_scale(target: float | Sequence[Tensor], n_scales: int, name: str) -> list[float | Tensor]:
    if isinstance(target, (int, float)):
        return [float(target)] * n_scales
    if len(target) != n_scales:
        raise ValueError(f"{name} has {len(target)} scales, logits have {n_scales}")
    return list(target)


def bce_d_loss(
    real_logits: Sequence[Tensor],
    fake_logits: Sequence[Tensor],
    real_target: float | Sequence[Tensor] = 1.0,
    fake_target: float | Sequence[Tensor] = 0.0,
) -> Tensor:
    r"""Discriminator loss, summed over scales.

    .. math::

        \mathcal{L}^D_{adv} = \sum_{k=1}^{N_{scales}}
            L_{bce}(D_k(X_k, Y_k), 1) + L_{bce}(D_k(X_k, G_k(X)), 0),
        \qquad L_{bce}(x, y) = -\frac{1}{B}\sum_b y_b \log\sigma(x_b) + (1 - y_b)\log(1 - \sigma(x_b))

    With ``real_target``/``fake_target`` given as per-scale ``(B,)`` tensors (from
    :func:`sample_labels`), this is the sharper-predictions article's label smoothing/noise. Labels outside
    ``[0, 1]`` (e.g. 1.2) are valid for BCE with logits: the loss is
    ``softplus(x) - y x``, whose gradient ``sigmoid(x) - y`` keeps pushing the logit up
    when ``y > 1``, so a per-sample term can be negative and is unbounded below. That is
    harmless here: the labels are redrawn every step independently of the input, so D
    cannot tell which real samples got a label above 1, and on average it is pulled
    toward the mean label (0.95 for the sharper-predictions article's real range), not to infinity.

    Args:
        real_logits: per scale, coarsest first, ``(B,)`` logits of D on real frames.
        fake_logits: per scale ``(B,)`` logits of D on (detached) predictions.
        real_target: a constant label or per-scale ``(B,)`` labels for real frames.
        fake_target: a constant label or per-scale ``(B,)`` labels for predictions.

    Returns:
        Scalar loss. Example: all logits 0 with labels 1 and 0 give ``2 * N_scales * log 2``.
    """
    n_scales = len(real_logits)
    if n_scales == 0:
        raise ValueError("bce_d_loss needs at least one scale of logits")
    if len(fake_logits) != n_scales:
        raise ValueError(f"real_logits has {n_scales} scales, fake_logits has {len(fake_logits)}")
    real_targets = _per_scale(real_target, n_scales, "real_target")
    fake_targets = _per_scale(fake_target, n_scales, "fake_target")
    return sum(
        _bce(real, real_y) + _bce(fake, fake_y)
        for real, fake, real_y, fake_y in zip(real_logits, fake_logits, real_targets, fake_targets)
    )


def bce_g_loss(fake_logits: Sequence[Tensor]) -> Tensor:
    r"""Generator adversarial loss, summed over scales.

    .. math:: \mathcal{L}^G_{adv} = \sum_{k=1}^{N_{scales}} L_{bce}(D_k(X_k, G_k(X)), 1)

    (the non-saturating form: G maximises ``log D`` rather than minimising ``log(1 - D)``).

    Args:
        fake_logits: per scale, coarsest first, ``(B,)`` logits of D on the predictions,
            computed with D's parameters frozen but *not* detached from G's graph.

    Returns:
        Scalar loss. Example: logit 0 at every scale gives ``N_scales * log 2``.
    """
    if len(fake_logits) == 0:
        raise ValueError("bce_g_loss needs at least one scale of logits")
    return sum(_bce(fake, 1.0) for fake in fake_logits)


def sample_labels(like: Tensor, low: float, high: float, generator: torch.Generator | None = None) -> Tensor:
    """Labels drawn uniformly from ``[low, high)`` for label smoothing/noise (the sharper-predictions article).

    The sharper-predictions article's ranges: real in ``[0.7, 1.2]``, fake in ``[0.0, 0.3]``.

    Args:
        like: logits ``(B,)`` (any shape); labels take its shape, dtype and device.
        low: lower bound.
        high: upper bound, >= ``low``.
        generator: optional RNG on ``like``'s device, for reproducible labels.

    Returns:
        Tensor shaped like ``like``, without grad.
    """
    if high < low:
        raise ValueError(f"sample_labels needs low <= high, got [{low}, {high}]")
    uniform = torch.rand(like.shape, generator=generator, dtype=like.dtype, device=like.device)
    return low + (high - low) * uniform

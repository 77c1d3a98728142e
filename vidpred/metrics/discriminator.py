"""How well a discriminator tells real from predicted: accuracy and logit gap.

A discriminator's loss alone hides whether it learns: with BCE at chance the loss is
``2 ln 2`` per scale whatever the weights, and label smoothing or a hinge shift that
value. Accuracy is read off the logits directly: a real input is classified correctly
when its logit is above the decision threshold, a predicted one when it is below. For
BCE the threshold is 0 (``sigmoid = 1/2``); for the hinge loss too (its margins are at
+-1 around 0).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["discriminator_accuracy"]


def discriminator_accuracy(real_logits: Sequence[Tensor] | Tensor, fake_logits: Sequence[Tensor] | Tensor,
                           threshold: float = 0.0) -> dict[str, Tensor]:
    """Accuracy on real and on predicted inputs and the mean logit gap, over every scale.

    Args:
        real_logits: logits on real inputs, a tensor of any shape or one per scale.
        fake_logits: logits on predictions, likewise.
        threshold: decision threshold on the logits.

    Returns:
        ``{"acc_real": .., "acc_fake": .., "acc": .., "gap": ..}`` as 0-d float tensors
        (detached): the fraction of real logits above ``threshold``, of fake logits at or
        below it, their mean (balanced accuracy: 0.5 is chance), and
        ``mean(real) - mean(fake)``. Multi-scale inputs count every scale's logits alike.

    Example:
        >>> out = discriminator_accuracy(torch.tensor([2.0, -1.0]), torch.tensor([-3.0, -0.5, 0.5, 1.0]))
        >>> [round(float(out[k]), 3) for k in ("acc_real", "acc_fake", "acc", "gap")]
        [0.5, 0.5, 0.5, 1.0]
    """
    real = torch.cat([t.detach().float().reshape(-1) for t in _as_list(real_logits)])
    fake = torch.cat([t.detach().float().reshape(-1) for t in _as_list(fake_logits)])
    if real.numel() == 0 or fake.numel() == 0:
        raise ValueError("discriminator_accuracy needs at least one real and one fake logit")
    acc_real = (real > threshold).float().mean()
    acc_fake = (fake <= threshold).float().mean()
    return {"acc_real": acc_real, "acc_fake": acc_fake, "acc": (acc_real + acc_fake) / 2,
            "gap": real.mean() - fake.mean()}


def _as_list(logits: Sequence[Tensor] | Tensor) -> list[Tensor]:
    return [logits] if isinstance(logits, Tensor) else list(logits)

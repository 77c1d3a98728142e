"""Hinge GAN losses (the CogVideo loss notes; Lim & Ye 2017, "Geometric GAN"), as used for the spatio-temporal discriminator."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = ["hinge_d_loss", "hinge_g_loss"]


def hinge_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    r"""Discriminator hinge loss.

    .. math::

        \mathcal{L}_D = \mathbb{E}_x\big[\max(0, 1 - D(x))\big]
                      + \mathbb{E}_{\hat x}\big[\max(0, 1 + D(\hat x))\big]

    (the CogVideo loss notes' ``L_disc``; taming-transformers' ``hinge_d_loss`` is half of this). D is
    satisfied, and gets no gradient, once real logits exceed 1 and fake logits are below -1.

    Args:
        real_logits: ``(B,)`` (any shape) logits of D on real clips.
        fake_logits: ``(B',)`` (any shape) logits of D on (detached) predictions.

    Returns:
        Scalar: the batch means of the two hinges, added.

    Example:
        >>> import torch
        >>> hinge_d_loss(torch.tensor([2.0, 0.0]), torch.tensor([-3.0, 0.5]))
        tensor(1.2500)
    """
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def hinge_g_loss(fake_logits: Tensor) -> Tensor:
    r"""Generator hinge loss: :math:`\mathcal{L}_G = -\mathbb{E}_{\hat x}[D(\hat x)]` (the CogVideo loss notes' ``L_gen``).

    Unbounded below: G always gains by raising D's score of its predictions.

    Args:
        fake_logits: ``(B,)`` (any shape) logits of D on the predictions, D frozen but the
            graph kept to G.

    Returns:
        Scalar batch mean, negated.

    Example:
        >>> import torch
        >>> hinge_g_loss(torch.tensor([1.0, -3.0]))
        tensor(1.)
    """
    return -fake_logits.mean()

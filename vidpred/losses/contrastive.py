r"""InfoNCE between features of predicted and true frames (the contrastive I2V post's contrastive idea).

Each predicted clip's features should be closer to its own true frame's features than to
the true frames of the other clips of the batch, which serve as negatives:

.. math::

    \mathcal{L}_{nce} = -\frac{1}{B} \sum_i \log
        \frac{\exp(\cos(\hat f_i, f_i) / \tau)}{\sum_j \exp(\cos(\hat f_i, f_j) / \tau)}

with :math:`\hat f_i` the features of prediction i, :math:`f_j` those of true frame j and
:math:`\tau` the temperature (van den Oord et al. 2018; Chen et al. 2020).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["info_nce"]


def info_nce(anchors: Tensor, positives: Tensor, temperature: float = 0.1) -> Tensor:
    """Mean InfoNCE loss of ``anchors`` against ``positives``, the batch as negatives.

    Args:
        anchors: ``(B, D)`` features of the predictions.
        positives: ``(B, D)`` features of the true frames, row i belonging to anchor i.
        temperature: divides the cosine similarities, > 0.

    Returns:
        Scalar: cross-entropy of picking row i of ``positives`` for anchor i, mean over i
        (``log B`` when every similarity is equal).
    """
    if anchors.dim() != 2 or anchors.shape != positives.shape:
        raise ValueError(f"anchors and positives must both be (B, D), got {tuple(anchors.shape)} and "
                         f"{tuple(positives.shape)}")
    if anchors.shape[0] < 2:
        raise ValueError("info_nce needs a batch of at least 2: the other clips are the negatives")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    similarity = F.normalize(anchors, dim=1) @ F.normalize(positives, dim=1).T / temperature
    return F.cross_entropy(similarity, torch.arange(len(anchors), device=anchors.device))

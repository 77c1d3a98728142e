"""Soft ternary census loss (Meister et al. 2018, "UnFlow: unsupervised learning of optical flow with a bidirectional census loss").

Each pixel is described by the signs of its neighbours' differences to it in a ``window`` x
``window`` patch, softened so that the description is differentiable; prediction and target
are compared descriptor by descriptor with a robust distance. Adding a constant to a frame
leaves its descriptors unchanged, so the loss sees local structure (where edges lie and which
way they step) and is blind to brightness.
"""

from __future__ import annotations

import torch
from torch import Tensor

from vidpred.losses._frames import as_image_batch

__all__ = ["CENSUS_EPSILON", "census_loss"]

# The soft sign's threshold: 0.9 grey levels of 255 (UnFlow's 0.81 = 0.9^2 on the 0-255 scale),
# expressed on the [-1, 1] scale, where a grey level is 2/255.
CENSUS_EPSILON = (0.9 * 2 / 255) ** 2
_DISTANCE_SCALE = 0.1  # the robust distance d^2 / (0.1 + d^2) of UnFlow's ternary loss


def _soft_sign(diff: Tensor, epsilon: float) -> Tensor:
    return diff * torch.rsqrt(epsilon + diff * diff)


def census_loss(pred: Tensor, target: Tensor, window: int = 7, epsilon: float = CENSUS_EPSILON,
                reduction: str = "mean") -> Tensor:
    r"""Robust distance between the soft census descriptors of prediction and target, summed over neighbours.

    .. math::

        \mathcal{L}_{census}(\hat Y, Y) = \frac{1}{|P|} \sum_{p \in P} \sum_{k \ne 0}
            \frac{(t_k(\hat Y, p) - t_k(Y, p))^2}{0.1 + (t_k(\hat Y, p) - t_k(Y, p))^2},
        \qquad t_k(X, p) = \frac{d}{\sqrt{\epsilon + d^2}}, \quad d = g(p + k) - g(p)

    with ``g`` the mean of ``X`` over channels, ``k`` each offset of the ``window`` x ``window``
    patch but its centre, and ``P`` the pixels whose whole patch lies in the frame (every frame
    of every clip): a border of ``window // 2`` pixels is excluded as a centre, not padded.
    ``t`` is a soft sign, so each neighbour costs at most ``4 / 4.1``, when the prediction steps
    the other way by far more than ``sqrt(epsilon)``.

    Args:
        pred, target: ``(B, C, T, H, W)`` or ``(B, C, H, W)`` in ``[-1, 1]``, the same shape, ``H, W >= window``.
        window: the patch's side, odd, >= 3.
        epsilon: the soft sign's threshold, squared: differences well below ``sqrt(epsilon)`` count
            as "equal" (default :data:`CENSUS_EPSILON`, 0.9 grey levels of 255).
        reduction: ``"mean"`` (the formula) or ``"sum"`` (over pixels instead of averaged).

    Example:
        >>> import torch
        >>> target = torch.zeros(1, 1, 8, 8)
        >>> target[..., 4:] = 0.5  # a vertical edge
        >>> float(census_loss(target + 0.25, target))  # a brightness offset leaves every descriptor unchanged
        0.0
        >>> round(float(census_loss(target.flip(-1), target)), 2)  # the edge stepping down: 21 neighbours of 4 / 4.1
        20.49
    """
    pred, target = as_image_batch(pred, target, reduction)
    if window < 3 or window % 2 == 0:
        raise ValueError(f"window must be odd and >= 3, got {window}")
    if min(pred.shape[-2:]) < window:
        raise ValueError(f"a {window}x{window} window needs frames of at least {window} px, got {tuple(pred.shape[-2:])}")
    r = window // 2
    grey_pred, grey_target = pred.mean(dim=1), target.mean(dim=1)  # (N, H, W)
    h, w = grey_pred.shape[-2] - 2 * r, grey_pred.shape[-1] - 2 * r  # the described pixels

    def shifted(grey: Tensor, dy: int, dx: int) -> Tensor:  # (N, h, w): each described pixel's neighbour at (dy - r, dx - r)
        return grey[:, dy : dy + h, dx : dx + w]

    centre_pred, centre_target = shifted(grey_pred, r, r), shifted(grey_target, r, r)
    per_pixel = torch.zeros_like(centre_pred)
    # One offset at a time, not all window^2 at once (F.unfold): each offset's tensors stay in
    # the CPU's cache: about five times faster for a batch of 128x128 frames on one thread.
    for dy in range(window):
        for dx in range(window):
            if (dy, dx) == (r, r):
                continue
            gap = (_soft_sign(shifted(grey_pred, dy, dx) - centre_pred, epsilon)
                   - _soft_sign(shifted(grey_target, dy, dx) - centre_target, epsilon)) ** 2
            per_pixel = per_pixel + gap / (_DISTANCE_SCALE + gap)
    return per_pixel.mean() if reduction == "mean" else per_pixel.sum()

"""Perceptual losses on one randomly sampled frame per clip (the sharper-predictions article
and the CogVideo loss notes).

The sharper-predictions article proposes "the euclidean distance between feature maps extracted from the VGG19
network" (as in SRGAN, Ledig et al. 2017); the CogVideo loss notes compute LPIPS (Zhang et al. 2018) on
"a random frame index t ... selected per batch element", an unbiased estimate of the
clip's average at a fraction of the cost. The networks are frozen and built by
:mod:`vidpred.models.perceptual_networks`; the functions here are pure given them.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from vidpred.losses.lp import reduce_loss

__all__ = ["sample_frames", "vgg_feature_loss", "lpips_loss", "perceptual_terms"]


def sample_frames(
    pred: Tensor, target: Tensor, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Pick one frame per clip, the same index for prediction and target.

    :math:`t_b \sim \mathcal{U}\{0, \dots, T-1\}` independently per batch element.

    Args:
        pred: ``(B, C, T, H, W)`` in ``[-1, 1]``.
        target: ``(B, C, T, H, W)`` in ``[-1, 1]``.
        generator: RNG on ``pred``'s device; pass a saved one so a resumed run draws the
            same frames.

    Returns:
        ``(pred_frames, target_frames, t)``: ``(B, C, H, W)``, ``(B, C, H, W)``, ``(B,)``
        int64 indices. Gradients flow into ``pred``'s chosen frames only.
    """
    if pred.shape != target.shape or pred.dim() != 5:
        raise ValueError(f"pred and target must both be (B, C, T, H, W), got {tuple(pred.shape)} and {tuple(target.shape)}")
    B, T = pred.shape[0], pred.shape[2]
    t = torch.randint(T, (B,), generator=generator, device=pred.device)
    batch = torch.arange(B, device=pred.device)
    # Advanced indexing on dims 0 and 2 puts the indexed dim first: (B, C, H, W).
    return pred[batch, :, t], target[batch, :, t], t


def vgg_feature_loss(
    pred: Tensor, target: Tensor, vgg: nn.Module, reduction: str = "mean"
) -> Tensor:
    r"""Mean squared distance between VGG19 activations, averaged over layers.

    .. math::

        \mathcal{L}_{vgg}(\hat y, y) = \frac{1}{|L|} \sum_{l \in L}
            \frac{1}{C_l H_l W_l} \lVert \phi_l(\hat y) - \phi_l(y) \rVert_2^2

    ``phi_l`` are the activations of :class:`~vidpred.models.perceptual_networks.VGG19Features`
    at its layers ``L`` (vidpred's default: relu1_2, relu2_2, relu3_4, relu4_4, relu5_4,
    one per block, so that both edges and textures count). The target's features carry
    no gradient.

    Args:
        pred: ``(B, 3, H, W)`` in ``[-1, 1]`` (e.g. from :func:`sample_frames`).
        target: ``(B, 3, H, W)`` in ``[-1, 1]``.
        vgg: a frozen feature extractor returning ``{layer: (B, C_l, H_l, W_l)}``.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` (per frame, ``(B,)``).

    Returns:
        Scalar, or ``(B,)`` for ``"none"``. Identical frames give 0.
    """
    if pred.shape != target.shape or pred.dim() != 4:
        raise ValueError(f"pred and target must both be (B, C, H, W), got {tuple(pred.shape)} and {tuple(target.shape)}")
    pred_features: Mapping[str, Tensor] = vgg(pred)
    with torch.no_grad():
        target_features: Mapping[str, Tensor] = vgg(target)
    per_layer = [
        (pred_features[name] - target_features[name]).square().flatten(1).mean(dim=1) for name in pred_features
    ]  # each (B,)
    return reduce_loss(torch.stack(per_layer).mean(dim=0), reduction)


def lpips_loss(pred: Tensor, target: Tensor, lpips_net: nn.Module, reduction: str = "mean") -> Tensor:
    r"""LPIPS distance (Zhang et al. 2018): channel-normalised feature differences, linearly weighted.

    .. math::

        \mathrm{LPIPS}(\hat y, y) = \sum_l \frac{1}{H_l W_l} \sum_{h, w}
            \big\lVert w_l \odot (\hat\phi_l^{hw} - \phi_l^{hw}) \big\rVert_2^2

    with unit-normalised backbone features ``phi_l`` and learned per-channel weights
    ``w_l``, as computed by the ``lpips`` package.

    Args:
        pred: ``(B, 3, H, W)`` in ``[-1, 1]``.
        target: ``(B, 3, H, W)`` in ``[-1, 1]``.
        lpips_net: a frozen ``lpips.LPIPS`` (see ``build_lpips``).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` (per frame, ``(B,)``).

    Returns:
        Scalar, or ``(B,)`` for ``"none"``. Identical frames give 0.
    """
    if pred.shape != target.shape or pred.dim() != 4:
        raise ValueError(f"pred and target must both be (B, C, H, W), got {tuple(pred.shape)} and {tuple(target.shape)}")
    return reduce_loss(lpips_net(pred, target).flatten(), reduction)  # (B, 1, 1, 1) -> (B,)


def perceptual_terms(
    pred: Tensor,
    target: Tensor,
    networks: Mapping[str, nn.Module],
    weights: Mapping[str, float],
    generator: torch.Generator | None = None,
) -> dict[str, tuple[float, Tensor]]:
    """The generator's perceptual terms on one random frame per clip, for its composite loss.

    Args:
        pred, target: ``(B, 3, T, H, W)`` in ``[-1, 1]``.
        networks: the frozen networks by name, ``"vgg"`` (:func:`vgg_feature_loss`) and/or
            ``"lpips"`` (:func:`lpips_loss`); none gives no terms.
        weights: each network's weight by the same name.
        generator: the frame choice's RNG (:func:`sample_frames`).

    Returns:
        ``{"g_vgg": (weight, loss), "g_lpips": (weight, loss)}`` for the networks given,
        the form of ``extra_terms`` in :func:`vidpred.losses.composite.generator_objective`.
    """
    if not networks:
        return {}
    pred_frames, target_frames, _ = sample_frames(pred, target, generator=generator)
    losses = {"vgg": vgg_feature_loss, "lpips": lpips_loss}
    return {f"g_{name}": (weights[name], losses[name](pred_frames, target_frames, net)) for name, net in networks.items()}

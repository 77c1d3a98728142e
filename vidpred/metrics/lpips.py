"""LPIPS (Zhang et al. 2018) as an evaluation metric: one value per image pair, skipped (not faked)
when its pretrained backbone is not on disk.

The network comes from :func:`vidpred.models.perceptual_networks.build_lpips`, the loader
the perceptual loss uses too (one table of weight files and minimum sizes). A backbone with
random weights would give numbers that look like LPIPS but mean nothing, so a missing or
unreadable file raises :class:`LPIPSUnavailable`, whose message starts "LPIPS skipped" and
names the file, where to put it and where to get it; the evaluation reports it as skipped.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import Tensor, nn

from vidpred.errors import ExpectedFailure

from vidpred.models.perceptual_networks import (
    LPIPS_BACKBONES,
    LPIPS_MIN_SIZE,
    MissingWeightsError,
    UnusableWeightsError,
    build_lpips,
    torchvision_cache_file,
)

__all__ = ["LPIPS", "LPIPSUnavailable", "backbone_weights_path", "load_lpips"]

logger = logging.getLogger(__name__)


class LPIPSUnavailable(ExpectedFailure, RuntimeError):
    """LPIPS cannot be computed faithfully here; ``str(exc)`` says why and how to fix it."""


def backbone_weights_path(net: str = "alex") -> Path:
    """Where torch.hub keeps the ImageNet backbone of ``net``: ``<hub dir>/checkpoints/<file>``."""
    if net not in LPIPS_BACKBONES:
        raise ValueError(f"LPIPS net must be one of {tuple(LPIPS_BACKBONES)}, got {net!r}")
    return torchvision_cache_file(LPIPS_BACKBONES[net])


class LPIPS(nn.Module):
    """LPIPS distance per image pair (lower is more similar), a frozen network in eval mode.

    Args:
        network: an ``lpips.LPIPS`` instance with its weights in place.
        net: backbone name, for messages.
        pretrained_backbone: whether the backbone holds ImageNet weights (False only when
            explicitly built with random weights, e.g. in tests).
    """

    def __init__(self, network: nn.Module, net: str, pretrained_backbone: bool) -> None:
        super().__init__()
        self.network = network.eval().requires_grad_(False)
        self.net = net
        self.pretrained_backbone = pretrained_backbone

    @torch.no_grad()
    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """LPIPS between ``pred`` and ``target``.

        Args:
            pred: ``(B, 3, H, W)`` in ``[-1, 1]`` (what ``lpips`` expects), ``H, W >=``
                ``LPIPS_MIN_SIZE[net]`` (31 px for AlexNet).
            target: ``(B, 3, H, W)`` in ``[-1, 1]``.

        Returns:
            ``(B,)`` float64, >= 0; 0 for identical images.
        """
        if pred.shape != target.shape or pred.dim() != 4 or pred.shape[1] != 3:
            raise ValueError(f"LPIPS expects two (B, 3, H, W) tensors, got {tuple(pred.shape)} and {tuple(target.shape)}")
        if min(pred.shape[-2:]) < LPIPS_MIN_SIZE[self.net]:
            raise ValueError(f"LPIPS ({self.net}) needs frames of at least {LPIPS_MIN_SIZE[self.net]} px a side, "
                             f"got {tuple(pred.shape[-2:])}")
        return self.network(pred.float(), target.float()).reshape(pred.shape[0]).double()


def load_lpips(net: str = "alex", *, weights_path: str | Path | None = None, random_backbone: bool = False,
               device: str | torch.device = "cpu") -> LPIPS:
    """The LPIPS metric with the package's calibrated linear layers and a backbone from disk.

    Args:
        net: ``"alex"`` (the LPIPS default), ``"vgg"`` or ``"squeeze"``.
        weights_path: the backbone file; default :func:`backbone_weights_path` (torch.hub's
            cache). Never downloaded.
        random_backbone: build with a *randomly initialised* backbone and do not read any
            file. The values are then not LPIPS; for testing the plumbing only.
        device: where the network lives.

    Raises:
        LPIPSUnavailable: the backbone file is missing or unreadable, the lpips package or
            its linear weights are missing; the message names the file and where to put it.
    """
    path = Path(weights_path) if weights_path is not None else backbone_weights_path(net)
    try:
        network = build_lpips(net, pretrained=not random_backbone, weights_path=path,
                              turn_off="evaluate without LPIPS (--no-lpips)")
    except (MissingWeightsError, UnusableWeightsError) as exc:
        raise LPIPSUnavailable(f"LPIPS skipped: {exc}") from None
    except ImportError as exc:  # an optional dependency in some installs
        raise LPIPSUnavailable(f"LPIPS skipped: the lpips package is not installed ({exc}); pip install lpips") from None
    return LPIPS(network, net, pretrained_backbone=not random_backbone).to(device)

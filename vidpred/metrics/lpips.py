"""LPIPS (Zhang et al. 2018) with its pretrained backbone taken only from a file on disk.

The ``lpips`` package ships its linear calibration layers (``lpips/weights/v0.1/*.pth``)
but asks torchvision for the ImageNet backbone, which downloads
``alexnet-owt-7be5be79.pth`` into ``<torch hub dir>/checkpoints/`` (by default
``~/.cache/torch/hub/checkpoints/``; ``$TORCH_HOME/hub/checkpoints/`` when ``TORCH_HOME`` is
set). Offline, that download fails, and a backbone with random weights would give numbers
that look like LPIPS but mean nothing. So the network is always built with a random
backbone (no download is ever attempted) and then, unless the caller explicitly asks for
random weights, the backbone is filled from the cached file; a missing or unreadable file
raises :class:`LPIPSUnavailable` whose message names the file and where to put it.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

__all__ = ["LPIPS", "LPIPSUnavailable", "backbone_weights_path", "load_lpips", "BACKBONE_URLS"]

logger = logging.getLogger(__name__)

# torchvision's ImageNet weights for the backbones lpips supports; the file name is the
# URL's last component, as torch.hub stores it.
BACKBONE_URLS = {
    "alex": "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
    "vgg": "https://download.pytorch.org/models/vgg16-397923af.pth",
    "squeeze": "https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth",
}
# Smallest frame side each backbone accepts (its pooling stages need at least one pixel).
MIN_SIZE = {"alex": 31, "vgg": 16, "squeeze": 17}


class LPIPSUnavailable(RuntimeError):
    """LPIPS cannot be computed faithfully here; ``str(exc)`` says why and how to fix it."""


def backbone_weights_path(net: str = "alex") -> Path:
    """Where torch.hub keeps the ImageNet backbone of ``net``: ``<hub dir>/checkpoints/<file>``."""
    if net not in BACKBONE_URLS:
        raise ValueError(f"LPIPS net must be one of {tuple(BACKBONE_URLS)}, got {net!r}")
    return Path(torch.hub.get_dir()) / "checkpoints" / BACKBONE_URLS[net].rsplit("/", 1)[-1]


def _missing_message(net: str, path: Path, why: str) -> str:
    url = BACKBONE_URLS[net]
    return (f"LPIPS skipped: {why}: {path}. LPIPS needs torchvision's ImageNet weights for its '{net}' "
            f"backbone (the lpips package ships only its linear layers). Put the file {path.name} in "
            f"{path.parent}/ (torch.hub's cache; $TORCH_HOME moves it): download {url} on a machine with "
            f"internet access (e.g. `curl -L {url} -o {path}`) and copy it there.")


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
                ``MIN_SIZE[net]`` (31 px for AlexNet).
            target: ``(B, 3, H, W)`` in ``[-1, 1]``.

        Returns:
            ``(B,)`` float64, >= 0; 0 for identical images.
        """
        if pred.shape != target.shape or pred.dim() != 4 or pred.shape[1] != 3:
            raise ValueError(f"LPIPS expects two (B, 3, H, W) tensors, got {tuple(pred.shape)} and {tuple(target.shape)}")
        if min(pred.shape[-2:]) < MIN_SIZE[self.net]:
            raise ValueError(f"LPIPS ({self.net}) needs frames of at least {MIN_SIZE[self.net]} px a side, "
                             f"got {tuple(pred.shape[-2:])}")
        return self.network(pred.float(), target.float()).reshape(pred.shape[0]).double()


def _fill_backbone(network: nn.Module, state: dict[str, Tensor], source: Path) -> None:
    """Copy torchvision's ``features.<i>.*`` weights into lpips' ``slice<k>.<i>.*`` layers."""
    own = network.net.state_dict()  # keys "slice<k>.<i>.weight", <i> = index in torchvision's features
    renamed = {}
    for key in own:
        _, index, param = key.split(".")
        source_key = f"features.{index}.{param}"
        if source_key not in state:
            raise LPIPSUnavailable(f"LPIPS skipped: {source} lacks {source_key}; it is not torchvision's "
                                   f"backbone file for lpips net '{network.pnet_type}'")
        if state[source_key].shape != own[key].shape:
            raise LPIPSUnavailable(f"LPIPS skipped: {source_key} in {source} has shape "
                                   f"{tuple(state[source_key].shape)}, expected {tuple(own[key].shape)}")
        renamed[key] = state[source_key]
    network.net.load_state_dict(renamed, strict=True)


def load_lpips(net: str = "alex", *, weights_path: str | Path | None = None, random_backbone: bool = False,
               device: str | torch.device = "cpu") -> LPIPS:
    """Build LPIPS with the package's calibrated linear layers and a backbone from disk.

    Args:
        net: ``"alex"`` (the LPIPS default), ``"vgg"`` or ``"squeeze"``.
        weights_path: the backbone file; default :func:`backbone_weights_path` (torch.hub's
            cache). Never downloaded.
        random_backbone: build with a *randomly initialised* backbone and do not read any
            file. The values are then not LPIPS; for testing the plumbing only.
        device: where the network lives.

    Raises:
        LPIPSUnavailable: the backbone file is missing or unreadable, or the lpips package
            lacks its linear weights; the message names the file and where to put it.
    """
    path = Path(weights_path) if weights_path is not None else backbone_weights_path(net)
    state = None
    if not random_backbone:
        if not path.is_file():
            raise LPIPSUnavailable(_missing_message(net, path, "backbone weights file not found"))
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # a truncated download surfaces as any of several errors
            raise LPIPSUnavailable(_missing_message(net, path, f"backbone weights file unreadable ({exc})")) from None
    try:  # imported only now: it pulls in torchvision, seconds of start-up for nothing when skipped
        import lpips as lpips_package
    except ImportError as exc:  # an optional dependency in some installs
        raise LPIPSUnavailable(f"LPIPS skipped: the lpips package is not installed ({exc}); pip install lpips") from None
    linear = Path(lpips_package.__file__).parent / "weights" / "v0.1" / f"{net}.pth"
    if not linear.is_file():
        raise LPIPSUnavailable(f"LPIPS skipped: the lpips package's linear-layer weights {linear} are missing; "
                               "reinstall lpips")
    with warnings.catch_warnings():
        # pnet_rand=True makes torchvision build the backbone with no weights (no download);
        # its "pretrained is deprecated" warning is about lpips' call, not ours.
        warnings.simplefilter("ignore", UserWarning)
        network = lpips_package.LPIPS(pretrained=True, net=net, version="0.1", pnet_rand=True, verbose=False)
    if state is not None:
        _fill_backbone(network, state, path)
    else:
        logger.warning("LPIPS built with a RANDOM %s backbone: its values are not LPIPS (plumbing tests only)", net)
    return LPIPS(network, net, pretrained_backbone=state is not None).to(device)

"""Frozen ImageNet networks for perceptual losses: VGG19 features and LPIPS.

Weights come from torchvision's usual cache, ``$TORCH_HOME/hub/checkpoints/`` (by default
``~/.cache/torch/hub/checkpoints/``), the file torchvision itself downloads. vidpred never
downloads: when the file is missing it raises :class:`MissingWeightsError` naming the
exact path and the URL to fetch it from. Random weights are only ever used when a caller
asks for them explicitly (``pretrained=False``, e.g. tests), never as a fallback.

Both networks are returned frozen (``requires_grad_(False)``, ``eval()``). Keep them out
of anything that owns an optimizer or is wrapped in DDP: they are judges, not students.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch
import torchvision
from torch import Tensor, nn

__all__ = [
    "MissingWeightsError",
    "torchvision_cache_file",
    "VGG19Features",
    "VGG19_LAYERS",
    "LPIPS_BACKBONES",
    "LPIPS_MIN_SIZE",
    "build_lpips",
]

log = logging.getLogger(__name__)

# torchvision's ImageNet weights: file name in the hub cache and where torchvision gets it.
VGG19_FILE = "vgg19-dcbb9e9d.pth"
LPIPS_BACKBONES = {
    "alex": "alexnet-owt-7be5be79.pth",
    "vgg": "vgg16-397923af.pth",
    "squeeze": "squeezenet1_1-b8a52dc0.pth",
}
# Smallest frame side each LPIPS backbone accepts (its pooling leaves nothing below that).
LPIPS_MIN_SIZE = {"alex": 32, "vgg": 16, "squeeze": 24}
_DOWNLOAD = "https://download.pytorch.org/models/"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class MissingWeightsError(FileNotFoundError):
    """Pretrained weights are not in torchvision's cache (and vidpred will not download them)."""


def torchvision_cache_file(filename: str) -> Path:
    """``<torch.hub.get_dir()>/checkpoints/<filename>``: where torchvision caches weight files."""
    return Path(torch.hub.get_dir()) / "checkpoints" / filename


def _read_cached_weights(filename: str, what: str, config_hint: str) -> dict[str, Tensor]:
    path = torchvision_cache_file(filename)
    if not path.is_file():
        raise MissingWeightsError(
            f"{what} needs the pretrained ImageNet weights file {path}, which does not exist. "
            f"Download {_DOWNLOAD}{filename} and save it at exactly that path (or set TORCH_HOME "
            f"to a directory whose hub/checkpoints/ holds it), or turn the loss off ({config_hint})."
        )
    log.info("loading %s weights from %s", what, path)
    return torch.load(path, map_location="cpu", weights_only=True)


def _load_features(features: nn.Sequential, state: dict[str, Tensor], source: str) -> None:
    """Load ``features.<i>.*`` entries of a torchvision state dict into (a prefix of) ``features``."""
    wanted = features.state_dict().keys()
    picked = {key: state[f"features.{key}"] for key in wanted if f"features.{key}" in state}
    missing = sorted(set(wanted) - set(picked))
    if missing:
        raise ValueError(f"{source} lacks {', '.join('features.' + k for k in missing)}: not a torchvision file?")
    features.load_state_dict(picked)


# torchvision's VGG19 layer recipe ("E"): a number is a 3x3 conv + ReLU, "M" a 2x2 max-pool.
_VGG19_CFG = torchvision.models.vgg.cfgs["E"]


def _vgg19_layer_names() -> list[str]:
    """Names of the modules of VGG19's ``features``: conv1_1, relu1_1, ..., pool5 (37 names)."""
    names, block, index = [], 1, 0
    for entry in _VGG19_CFG:
        if entry == "M":
            names.append(f"pool{block}")
            block, index = block + 1, 0
        else:
            index += 1
            names += [f"conv{block}_{index}", f"relu{block}_{index}"]
    return names


VGG19_LAYERS: tuple[str, ...] = tuple(_vgg19_layer_names())


class VGG19Features(nn.Module):
    """Frozen VGG19 (ImageNet) activations at named layers, for a feature distance.

    Frames in ``[-1, 1]`` are mapped to ``[0, 1]`` and normalised with the ImageNet mean
    and standard deviation (non-persistent buffers) before the first layer; the network is
    truncated after the deepest requested layer.

    Args:
        layers: layer names among :data:`VGG19_LAYERS` (e.g. ``relu2_2``, ``relu5_4``).
        pretrained: True reads ``vgg19-dcbb9e9d.pth`` from torchvision's cache and raises
            :class:`MissingWeightsError` naming it when absent; False gives random weights
            (for tests only; say so where you use it).
    """

    def __init__(self, layers: tuple[str, ...] | list[str], pretrained: bool = True) -> None:
        super().__init__()
        if not layers:
            raise ValueError("VGG19Features needs at least one layer")
        unknown = [name for name in layers if name not in VGG19_LAYERS]
        if unknown:
            raise ValueError(f"unknown VGG19 layers {unknown}; choose from {', '.join(VGG19_LAYERS)}")
        self.layers = tuple(layers)
        self._indices = {VGG19_LAYERS.index(name): name for name in self.layers}
        # Only the convolutional part (not the 120 M-parameter classifier), cut after the deepest layer.
        self.features = torchvision.models.vgg.make_layers(_VGG19_CFG)[: max(self._indices) + 1]
        for module in self.features:
            if isinstance(module, nn.ReLU):
                module.inplace = False  # a captured activation must not be overwritten by the next layer
        if pretrained:
            state = _read_cached_weights(VGG19_FILE, "the VGG19 perceptual loss", "loss.l_vgg: 0")
            _load_features(self.features, state, str(torchvision_cache_file(VGG19_FILE)))
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def forward(self, frames: Tensor) -> dict[str, Tensor]:
        """Activations of ``frames`` ``(N, 3, H, W)`` in ``[-1, 1]``: ``{layer: (N, C_l, H_l, W_l)}``."""
        if frames.dim() != 4 or frames.shape[1] != 3:
            raise ValueError(f"VGG19Features expects RGB frames (N, 3, H, W), got {tuple(frames.shape)}")
        h = ((frames + 1) / 2 - self.mean) / self.std
        out = {}
        for index, module in enumerate(self.features):
            h = module(h)
            if index in self._indices:
                out[self._indices[index]] = h
        return out


def build_lpips(net: str = "alex", pretrained: bool = True) -> nn.Module:
    """The ``lpips`` package's LPIPS metric (Zhang et al. 2018), frozen, without any download.

    The linear calibration layers ship inside the ``lpips`` package. The ImageNet backbone
    is read from torchvision's cache (``alexnet-owt-7be5be79.pth`` for ``alex``,
    ``vgg16-397923af.pth`` for ``vgg``, ``squeezenet1_1-b8a52dc0.pth`` for ``squeeze``);
    the package would otherwise try to download it.

    Args:
        net: backbone, ``alex`` | ``vgg`` | ``squeeze``.
        pretrained: True loads the ImageNet backbone (raising :class:`MissingWeightsError`
            naming the file when absent); False leaves it random (tests only).

    Returns:
        ``lpips.LPIPS``; call it on two ``(N, 3, H, W)`` batches in ``[-1, 1]`` to get
        ``(N, 1, 1, 1)`` distances.
    """
    import lpips  # heavy import, only when the loss is on

    if net not in LPIPS_BACKBONES:
        raise ValueError(f"unknown LPIPS backbone {net!r}; choose from {', '.join(LPIPS_BACKBONES)}")
    state = None
    if pretrained:  # check before building, so a missing file fails fast and by name
        state = _read_cached_weights(LPIPS_BACKBONES[net], f"LPIPS ({net} backbone)", "loss.l_lpips: 0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torchvision's "pretrained is deprecated"
        # pnet_rand=True: build the backbone without torchvision's download; weights follow.
        model = lpips.LPIPS(net=net, pretrained=True, pnet_rand=True, verbose=False)
    if state is not None:
        # lpips splits torchvision's `features` into slices, keeping each module's index as its name.
        for piece in model.net.children():
            for name, module in piece.named_children():
                prefix = f"features.{name}."
                module.load_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)})
    model.requires_grad_(False)
    model.eval()
    return model

"""Frozen ImageNet networks: VGG19 features and LPIPS, for the perceptual losses and the LPIPS metric.

The one place that loads them: the perceptual loss (:mod:`vidpred.losses.perceptual`, via
``vidpred.build``) and the evaluation's LPIPS column (:mod:`vidpred.metrics.lpips`) both
call :func:`build_lpips`, with one table of weight files (:data:`LPIPS_BACKBONES`) and of
minimum frame sizes (:data:`LPIPS_MIN_SIZE`).

Weights come from torchvision's usual cache, ``$TORCH_HOME/hub/checkpoints/`` (by default
``~/.cache/torch/hub/checkpoints/``), the file torchvision itself downloads, or from a file
the caller names. vidpred never downloads: a missing file raises
:class:`MissingWeightsError` naming the exact path and the URL to fetch it from; a file
that cannot be read or holds another network raises :class:`UnusableWeightsError`, and so
does one whose SHA-256 does not begin with the hash torchvision's file name carries
(``vgg19-dcbb9e9d.pth``), as torch.hub checks a download: weights of the right shapes but
not ImageNet's (a stand-in, another training) are not taken for them. Random weights are
only ever used when a caller asks for them explicitly (``pretrained=False``, or stand-in
files accepted with ``VIDPRED_UNVERIFIED_WEIGHTS=1``, as the tests do), never as a
fallback, and a warning says so.

Both networks are returned frozen (``requires_grad_(False)``, ``eval()``). Keep them out
of anything that owns an optimizer or is wrapped in DDP: they are judges, not students.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

from vidpred._hashing import file_sha256

__all__ = [
    "MissingWeightsError",
    "UnusableWeightsError",
    "torchvision_cache_file",
    "weights_url",
    "read_pretrained",
    "is_named_file",
    "UNVERIFIED_WEIGHTS_ENV",
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
# Smallest frame side each LPIPS backbone accepts: below it a pooling stage has nothing
# left to pool. Found by running the networks on every size from 1 px up (alex: conv 11/4
# then two 3/2 max-pools; vgg16: four 2x2 pools before relu5_3; squeeze: a 3/2 conv then
# ceil-mode pools); tests/models/test_perceptual_networks.py checks each value and the one below.
LPIPS_MIN_SIZE = {"alex": 31, "vgg": 16, "squeeze": 17}
_DOWNLOAD = "https://download.pytorch.org/models/"
# torchvision names each weights file after the first hex digits of its SHA-256 (torch.hub's check).
_NAMED_HASH = re.compile(r"-([a-f0-9]{6,})\.")
# Set to 1 to use weights files whose content is not the named file's (stand-ins), with a warning.
UNVERIFIED_WEIGHTS_ENV = "VIDPRED_UNVERIFIED_WEIGHTS"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class MissingWeightsError(FileNotFoundError):
    """Pretrained weights are not on disk (and vidpred will not download them); the message
    names the file, where to put it and where to get it."""


class UnusableWeightsError(ValueError):
    """A weights file that is there but cannot be used: unreadable (a truncated download?)
    or holding another network's weights; the message names the file."""


def torchvision_cache_file(filename: str) -> Path:
    """``<torch.hub.get_dir()>/checkpoints/<filename>``: where torchvision caches weight files."""
    return Path(torch.hub.get_dir()) / "checkpoints" / filename


def weights_url(filename: str) -> str:
    """Where torchvision downloads ``filename`` from."""
    return _DOWNLOAD + filename


def read_pretrained(filename: str, what: str, *, path: str | Path | None = None,
                    turn_off: str | None = None) -> dict[str, Tensor]:
    """Read a torchvision weights file from disk, never from the network.

    Args:
        filename: torchvision's file name (e.g. ``alexnet-owt-7be5be79.pth``).
        what: who needs it, for the messages (e.g. "the VGG19 perceptual loss").
        path: the file to read; default :func:`torchvision_cache_file` of ``filename``.
        turn_off: how to do without it, appended to the missing-file message.

    Raises:
        MissingWeightsError: no such file.
        UnusableWeightsError: the file cannot be read as a tensor dict.
    """
    path = Path(path) if path is not None else torchvision_cache_file(filename)
    if not path.is_file():
        url = weights_url(filename)
        raise MissingWeightsError(
            f"{what} needs the pretrained ImageNet weights file {path}, which does not exist. Put the file "
            f"{path.name} in {path.parent}/ (torch.hub's cache; TORCH_HOME moves it): download {url} on a machine "
            f"with internet access (e.g. `curl -L {url} -o {path}`) and copy it there"
            + (f", or {turn_off}." if turn_off else ".")
        )
    log.info("loading %s weights from %s", what, path)
    _check_named_hash(path, filename, what)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated download surfaces as any of several errors
        # (torch's own message advises weights_only=False, which would run code from the file: not passed on)
        raise UnusableWeightsError(f"{what}: the weights file {path} is unreadable ({type(exc).__name__}); "
                                   f"a truncated download? Fetch {weights_url(filename)} again") from None


def is_named_file(path: str | Path, filename: str) -> bool:
    """Whether ``path``'s SHA-256 begins with the hash torchvision's ``filename`` carries (the
    file is that download, not a stand-in accepted with :data:`UNVERIFIED_WEIGHTS_ENV`)."""
    named = _NAMED_HASH.search(filename)
    return named is None or file_sha256(Path(path)).startswith(named[1])


def _check_named_hash(path: Path, filename: str, what: str) -> None:
    """Refuse a file whose SHA-256 does not begin with the hash ``filename`` carries (unless
    :data:`UNVERIFIED_WEIGHTS_ENV` is 1: then a warning)."""
    named = _NAMED_HASH.search(filename)
    if named is None:
        return
    digest = file_sha256(path)
    if digest.startswith(named[1]):
        return
    problem = (f"{what}: {path} is not torchvision's {filename}: its SHA-256 begins {digest[:len(named[1])]}, "
               f"the name promises {named[1]}")
    if os.environ.get(UNVERIFIED_WEIGHTS_ENV) == "1":
        log.warning("%s; used all the same, as %s=1 asks (these are not the ImageNet weights)", problem,
                    UNVERIFIED_WEIGHTS_ENV)
        return
    raise UnusableWeightsError(f"{problem} (a partial download, or other weights): fetch {weights_url(filename)} "
                               f"again, or set {UNVERIFIED_WEIGHTS_ENV}=1 to use the file as it is")


def _load_features(features: nn.Sequential, state: dict[str, Tensor], source: str) -> None:
    """Load ``features.<i>.*`` entries of a torchvision state dict into (a prefix of) ``features``."""
    wanted = features.state_dict()
    picked = {key: state[f"features.{key}"] for key in wanted if f"features.{key}" in state}
    missing = sorted(set(wanted) - set(picked))
    if missing:
        raise UnusableWeightsError(f"{source} lacks {', '.join('features.' + k for k in missing)}: not this "
                                   "network's torchvision weights file")
    wrong = [f"features.{key} {tuple(picked[key].shape)} (expected {tuple(value.shape)})"
             for key, value in wanted.items() if picked[key].shape != value.shape]
    if wrong:
        raise UnusableWeightsError(f"{source} holds other shapes: {', '.join(wrong)}; not this network's weights")
    features.load_state_dict(picked)


# torchvision's VGG19 layer recipe (torchvision.models.vgg.cfgs["E"]): a number is a 3x3
# conv + ReLU, "M" a 2x2 max-pool. Spelt out so that importing this module (which every
# script does through vidpred.build) does not import torchvision, seconds of start-up;
# tests/models/test_perceptual_networks.py checks it against torchvision's.
_VGG19_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]


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
        import torchvision  # heavy, only when the loss is on

        # Only the convolutional part (not the 120 M-parameter classifier), cut after the deepest layer.
        self.features = torchvision.models.vgg.make_layers(_VGG19_CFG)[: max(self._indices) + 1]
        for module in self.features:
            if isinstance(module, nn.ReLU):
                module.inplace = False  # a captured activation must not be overwritten by the next layer
        if pretrained:
            state = read_pretrained(VGG19_FILE, "the VGG19 perceptual loss", turn_off="turn the loss off (loss.l_vgg: 0)")
            _load_features(self.features, state, str(torchvision_cache_file(VGG19_FILE)))
        else:
            log.warning("VGG19 features built with RANDOM weights: the perceptual loss they give is not VGG's "
                        "(plumbing tests only)")
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


def build_lpips(net: str = "alex", pretrained: bool = True, weights_path: str | Path | None = None,
                turn_off: str = "turn the loss off (loss.l_lpips: 0)") -> nn.Module:
    """The ``lpips`` package's LPIPS network (Zhang et al. 2018, v0.1), frozen, without any download.

    The linear calibration layers ship inside the ``lpips`` package. The ImageNet backbone
    is read from torchvision's cache (``alexnet-owt-7be5be79.pth`` for ``alex``,
    ``vgg16-397923af.pth`` for ``vgg``, ``squeezenet1_1-b8a52dc0.pth`` for ``squeeze``;
    :data:`LPIPS_BACKBONES`) or ``weights_path``; the package would otherwise try to
    download it. Frames need at least :data:`LPIPS_MIN_SIZE` pixels a side.

    Args:
        net: backbone, ``alex`` | ``vgg`` | ``squeeze``.
        pretrained: True loads the ImageNet backbone; False leaves it random (tests of the
            plumbing only: the values are then not LPIPS, and a warning says so).
        weights_path: the backbone file, instead of torchvision's cache.
        turn_off: how to do without LPIPS, for the missing-file message (the default is the
            perceptual loss's).

    Returns:
        ``lpips.LPIPS``; call it on two ``(N, 3, H, W)`` batches in ``[-1, 1]`` to get
        ``(N, 1, 1, 1)`` distances. Gradients flow to its inputs (the perceptual loss).

    Raises:
        ValueError: unknown ``net``.
        MissingWeightsError: the backbone file, or the package's linear layers, are not on disk.
        UnusableWeightsError: the backbone file is unreadable or not that network's.
        ImportError: the ``lpips`` package is not installed.
    """
    if net not in LPIPS_BACKBONES:
        raise ValueError(f"unknown LPIPS backbone {net!r}; choose from {', '.join(LPIPS_BACKBONES)}")
    state = None
    if pretrained:  # read before building, so a missing file fails fast and by name
        state = read_pretrained(LPIPS_BACKBONES[net], f"LPIPS ({net} backbone; the lpips package ships only its "
                                "linear layers)", path=weights_path, turn_off=turn_off)
    import lpips  # heavy (torchvision), only when LPIPS is wanted

    linear = Path(lpips.__file__).parent / "weights" / "v0.1" / f"{net}.pth"
    if not linear.is_file():
        raise MissingWeightsError(f"the lpips package's linear-layer weights {linear} are missing; reinstall lpips")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torchvision's "pretrained is deprecated"
        # pnet_rand=True: build the backbone without torchvision's download; weights follow.
        model = lpips.LPIPS(net=net, version="0.1", pretrained=True, pnet_rand=True, verbose=False)
    if state is not None:
        source = str(weights_path if weights_path is not None else torchvision_cache_file(LPIPS_BACKBONES[net]))
        # lpips splits torchvision's `features` into slices that keep each module's index as its
        # name (slice1.0, ..., slice5.10 for alex): rebuild that one sequence to load it by index.
        layers = nn.Sequential()
        for piece in model.net.children():
            for name, module in piece.named_children():
                layers.add_module(name, module)
        _load_features(layers, state, source)
    else:
        log.warning("LPIPS (%s) built with a RANDOM backbone: its values are not LPIPS (plumbing tests only)", net)
    model.requires_grad_(False)
    model.eval()
    return model

"""Spectral normalization of a discriminator's weights (Miyato et al. 2018).

Each convolution and linear layer's weight is divided by an estimate of its largest
singular value (one power iteration per training forward pass, PyTorch's
``torch.nn.utils.parametrizations.spectral_norm``), so every layer is about 1-Lipschitz and
D cannot win by inflating its logits; a common fix for a discriminator that either
saturates or, as small ones here do, never leaves chance. The power-iteration vectors are
buffers, so checkpoints hold them and a resumed run continues exactly.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

__all__ = ["apply_spectral_norm", "largest_singular_value"]

_LAYERS = (nn.Conv2d, nn.Conv3d, nn.Linear)


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectral-normalize every conv and linear weight of ``module`` in place; returns it."""
    for layer in [m for m in module.modules() if isinstance(m, _LAYERS)]:
        spectral_norm(layer)
    return module


def largest_singular_value(layer: nn.Module) -> float:
    """Largest singular value of a layer's (effective) weight, as a ``(out, -1)`` matrix."""
    weight = layer.weight.detach()
    return float(torch.linalg.matrix_norm(weight.reshape(weight.shape[0], -1), ord=2))

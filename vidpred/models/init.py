"""Weight initialisation for discriminators: He (Kaiming) instead of PyTorch's default.

PyTorch's default for convolutions and linear layers (and Torch7's, which the paper's
official code used) draws weights uniformly in ``+-1/sqrt(fan_in)``: a variance of
``1 / (3 fan_in)``, a sixth of the ``2 / fan_in`` that keeps a ReLU network's activations
at one scale (He et al. 2015). Through the multi-scale discriminator's finest scale (four
convolutions and three fully connected layers) the signal then shrinks by about
``6^(7/2) ~ 500`` in standard deviation, and its gradients as much on the way back. Such a
D starts as a near-constant function of its input and, at the quickstart's width, stays
one: on a fixed set of real and predicted 32x32 frames that one hand-made feature
separates perfectly (the frame's gradient energy relative to the last context frame's),
the finest scale of the paper's table reaches 50 % held-out accuracy after 400 Adam steps
with the default initialisation and 88 % with this one and LeakyReLU 0.2 (``docs/results.md``).
"""

from __future__ import annotations

from torch import nn

__all__ = ["he_init_"]

_LAYERS = (nn.Conv2d, nn.Conv3d, nn.Linear)


def he_init_(module: nn.Module, negative_slope: float = 0.0) -> nn.Module:
    """He-normal weights for every conv and linear layer of ``module``, zero biases; in place.

    Each weight is drawn from ``N(0, 2 / ((1 + a^2) fan_in))`` with ``a = negative_slope``
    (the LeakyReLU slope the layers are followed by; 0 for ReLU), which keeps the
    variance of the pre-activations constant from layer to layer.

    Args:
        module: a network (call before any weight parametrization such as spectral norm).
        negative_slope: LeakyReLU slope of its activations.

    Returns:
        ``module``.
    """
    for layer in module.modules():
        if isinstance(layer, _LAYERS):
            nn.init.kaiming_normal_(layer.weight, a=negative_slope, mode="fan_in", nonlinearity="leaky_relu")
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    return module

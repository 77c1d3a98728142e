"""Every network of vidpred/models: each parameter receives a non-zero gradient.

One test over every generator head (the refiner included) and every discriminator: a
parameter without a gradient is a layer the loss never reaches (a dead branch, a detached
tensor, an unused output layer), which training would silently leave at its initial value.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import Tensor, nn
from torch.nn.functional import softplus

from vidpred.models import (BlurDiscriminator, MultiScaleDiscriminator, MultiScaleGenerator,
                            SpatioTemporalDiscriminator, pyramid)
from vidpred.models.refiner import FlowRefiner

SMALL = 1 / 16


def _clip(batch: int, n_frames: int, size: int = 32, seed: int = 0) -> Tensor:
    """(B, 3, T, size, size) in [-1, 1]."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, n_frames, size, size, generator=generator) * 2 - 1


def _generator_loss(model: MultiScaleGenerator, batch: int = 2) -> Tensor:
    """Squared error of every scale's prediction against a random frame's pyramid."""
    clip = _clip(batch, 5)
    target = pyramid(clip[:, :, 4], model.n_scales)
    return sum((y - t).square().mean() for y, t in zip(model(clip[:, :, :4]), target))


def _refiner_loss(model: FlowRefiner) -> Tensor:
    """L1 of a two-step rollout: gradients must reach the refiner through both steps."""
    clip = _clip(1, 6, size=64)
    return (model.rollout(clip[:, :, :4], 2) - clip[:, :, 4:]).abs().mean()


def _multiscale_d_loss(model: MultiScaleDiscriminator, batch: int = 4) -> Tensor:
    """A BCE-like loss on every scale's logits (every output layer and all below it)."""
    clip = _clip(batch, 5)
    logits = model(pyramid(clip[:, :, :4], model.n_scales), pyramid(clip[:, :, 4], model.n_scales))
    return sum(softplus(-logit).mean() for logit in logits)


def _blur_d_loss(model: BlurDiscriminator) -> Tensor:
    return model(_clip(4, 1, size=16)[:, :, 0]).sum()


def _spatiotemporal_d_loss(model: SpatioTemporalDiscriminator) -> Tensor:
    logits = model(_clip(4, 5))
    # Not hinge_d_loss: with every hinge active the head's bias gets -1/2 - ... + 1/2 = 0.
    return logits[:2].sum() - 2 * logits[2:].sum()


NETWORKS: dict[str, tuple[Callable[[], nn.Module], Callable[[nn.Module], Tensor]]] = {
    "generator-pixels": (lambda: MultiScaleGenerator(width=SMALL), _generator_loss),
    "generator-pixels-1-scale": (lambda: MultiScaleGenerator(width=SMALL, n_scales=1), _generator_loss),
    "generator-pixels-5-scales": (lambda: MultiScaleGenerator(width=SMALL, n_scales=5), _generator_loss),
    "generator-pixels-paper-width": (lambda: MultiScaleGenerator(width=1.0), lambda m: _generator_loss(m, batch=1)),
    "generator-residual": (lambda: MultiScaleGenerator(width=SMALL, head="residual"), _generator_loss),
    "generator-flow": (lambda: MultiScaleGenerator(width=SMALL, head="flow"), _generator_loss),
    "generator-refiner": (lambda: FlowRefiner(width=8), _refiner_loss),
    "generator-refiner-global": (lambda: FlowRefiner(width=8, global_context=True), _refiner_loss),
    "discriminator": (lambda: MultiScaleDiscriminator(width=SMALL), _multiscale_d_loss),
    "discriminator-paper-width-leaky": (lambda: MultiScaleDiscriminator(width=1.0, leaky_slope=0.2),
                                        lambda m: _multiscale_d_loss(m, batch=1)),
    "discriminator-valid-padding": (lambda: MultiScaleDiscriminator(padding="valid", width=SMALL), _multiscale_d_loss),
    "discriminator-differences": (lambda: MultiScaleDiscriminator(width=SMALL, inputs="differences"),
                                  _multiscale_d_loss),
    "blur-discriminator": (lambda: BlurDiscriminator(width=8, n_down=2), _blur_d_loss),
    "spatiotemporal-discriminator": (lambda: SpatioTemporalDiscriminator(n_frames=5, width=0.125),
                                     _spatiotemporal_d_loss),
}


@pytest.mark.parametrize("name", NETWORKS)
def test_every_parameter_gets_a_gradient(name):
    build, loss_of = NETWORKS[name]
    torch.manual_seed(0)
    model = build()
    loss = loss_of(model)
    assert torch.isfinite(loss)
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, f"parameters without a gradient: {missing}"

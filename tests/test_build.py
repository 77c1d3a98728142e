"""vidpred/build.py: a run's networks and optimizers from one config, and their checkpoint entries."""

from __future__ import annotations

import torch

from vidpred.build import build_training_networks
from vidpred.config import config_from_dict

CPU = torch.device("cpu")
SPATIOTEMPORAL = ["model.spatiotemporal_discriminator.enabled=true", "model.spatiotemporal_discriminator.width=0.0625",
                  "model.spatiotemporal_discriminator.n_2d=1"]


def _build(data, *overrides, seed=0):
    torch.manual_seed(seed)
    return build_training_networks(config_from_dict(data, list(overrides)), CPU)


def test_each_adversary_holds_its_own_grad_clip(tiny_config_data):
    nets = _build(tiny_config_data, *SPATIOTEMPORAL, "optim.discriminator.grad_clip=0.5")
    assert [(a.name, a.grad_clip) for a in nets.adversaries] == [("multiscale", 0.5), ("spatiotemporal", None)]
    assert sorted(nets.d_optimizers) == ["multiscale", "spatiotemporal"]
    assert nets.generator_ema is None and nets.perceptual == {}


def test_the_ema_starts_as_a_frozen_copy(tiny_config_data):
    nets = _build(tiny_config_data, "train.ema_decay=0.9")
    assert not nets.generator_ema.training and not any(p.requires_grad for p in nets.generator_ema.parameters())
    for a, b in zip(nets.generator.parameters(), nets.generator_ema.parameters()):
        assert torch.equal(a, b) and a is not b


def test_state_dict_round_trip_under_the_checkpoint_keys(tiny_config_data):
    overrides = [*SPATIOTEMPORAL, "train.ema_decay=0.9"]
    trained = _build(tiny_config_data, *overrides, seed=0)
    for optimizer in (trained.opt_g, *trained.d_optimizers.values()):  # give the optimizers some state
        for group in optimizer.param_groups:
            for p in group["params"]:
                p.grad = torch.ones_like(p)
        optimizer.step()
    state = trained.state_dict()
    assert sorted(state) == ["discriminator", "generator", "generator_ema", "opt_d", "opt_g", "opt_st",
                             "spatiotemporal_discriminator"]
    fresh = _build(tiny_config_data, *overrides, seed=1)
    assert not torch.equal(next(fresh.generator.parameters()), next(trained.generator.parameters()))
    fresh.load_state_dict({**state, "step": 3})  # a whole checkpoint: other keys are ignored
    for name in ("generator", "generator_ema"):
        for a, b in zip(getattr(trained, name).parameters(), getattr(fresh, name).parameters()):
            assert torch.equal(a, b)
    for a, b in zip(trained.adversaries, fresh.adversaries):
        assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters()))
    assert fresh.opt_g.state_dict()["state"].keys() == trained.opt_g.state_dict()["state"].keys()

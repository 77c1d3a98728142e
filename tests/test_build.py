"""vidpred/build.py: a run's networks and optimizers from one config, and their checkpoint entries."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from vidpred.adversaries import Adversary
from vidpred.build import ADVERSARY_OPTIMIZERS, adversary_optimizer_config, build_training_networks
from vidpred.config import OptimConfig, config_from_dict
from vidpred.training.monitor import KNOBS

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


def test_a_gpu_this_machine_lacks_is_refused_by_name(monkeypatch):
    import pytest

    from vidpred.build import select_device
    from vidpred.config import ConfigError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert select_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(ConfigError, match="'cuda:2' requested but this machine has 2 GPU"):
        select_device("cuda:2", "--device")


@pytest.mark.parametrize("adversary", Adversary.__subclasses__(), ids=lambda cls: cls.__name__)
def test_every_adversary_is_registered_where_the_trainer_and_the_monitor_look(adversary):
    # docs/design.md, "A discriminator": its optimizer section, and the at-chance warning's knobs.
    assert ADVERSARY_OPTIMIZERS.get(adversary.name) in {f.name for f in dataclasses.fields(OptimConfig)}, (
        f"{adversary.__name__}: add '{adversary.name}' to ADVERSARY_OPTIMIZERS (vidpred/build.py), naming an "
        "OptimConfig field")
    assert adversary.log_prefix in KNOBS, f"{adversary.__name__}: add '{adversary.log_prefix}' to KNOBS " \
                                          "(vidpred/training/monitor.py)"


def test_an_adversary_without_an_optimizer_line_is_named(unscoring_adversary):
    Unregistered = unscoring_adversary("unregistered", "d_un")
    with pytest.raises(ValueError, match="'unregistered' \\(Unscoring\\) has no optimizer: add 'unregistered'"):
        adversary_optimizer_config(config_from_dict({}), Unregistered(torch.nn.Linear(1, 1)))

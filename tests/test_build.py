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


@pytest.mark.parametrize("available, expected", [(True, "cuda"), (False, "cpu")])
def test_auto_picks_cuda_when_there_is_one(monkeypatch, available, expected):
    from vidpred.build import select_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    assert select_device("auto") == torch.device(expected)


def test_devices_other_than_cpu_and_cuda_are_refused_by_name():
    from vidpred.build import select_device
    from vidpred.config import ConfigError

    assert select_device("cpu") == CPU
    with pytest.raises(ConfigError, match="--device: 'meta' is not supported; use auto, cpu, cuda or cuda:N"):
        select_device("meta", "--device")
    with pytest.raises(ConfigError, match="train.device: unknown device 'gpu'"):
        select_device("gpu")


def test_each_adversary_is_built_as_its_config_section_says(tiny_config_data):
    from torch.nn.utils import parametrize

    nets = _build(tiny_config_data, *SPATIOTEMPORAL, "model.discriminator.objective=hinge", "loss.r1_weight=2.0",
                  "loss.gp_weight=3.0", "loss.gp_center=0.0", "model.discriminator.spectral_norm=true")
    multiscale, spatiotemporal = nets.adversaries
    assert (multiscale.objective, multiscale.r1_weight) == ("hinge", 2.0)
    assert (spatiotemporal.gp_weight, spatiotemporal.gp_center) == (3.0, 0.0)
    normed = [m for m in multiscale.model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert normed and all(parametrize.is_parametrized(m, "weight") for m in normed)
    assert not any(parametrize.is_parametrized(m) for m in spatiotemporal.model.modules())


@pytest.mark.parametrize("section, build", [("discriminator", "build_discriminator"),
                                            ("spatiotemporal_discriminator", "build_spatiotemporal_discriminator")])
def test_he_init_draws_a_discriminator_s_weights_only_when_asked(tiny_config_data, section, build):
    import vidpred.build as build_module
    from vidpred.models.init import he_init_

    def built(init):
        torch.manual_seed(0)
        cfg = config_from_dict(tiny_config_data, [*SPATIOTEMPORAL, f"model.{section}.init={init}"])
        return getattr(build_module, build)(cfg), getattr(cfg.model, section).leaky_slope

    he, slope = built("he")
    default, _ = built("default")
    torch.manual_seed(0)
    expected = he_init_(getattr(build_module, build)(config_from_dict(tiny_config_data, [*SPATIOTEMPORAL])), slope)
    assert all(torch.equal(a, b) for a, b in zip(he.parameters(), expected.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(he.parameters(), default.parameters()))


def test_optimizers_take_every_setting_of_their_section_and_only_parameters_that_learn():
    from vidpred.build import build_optimizer
    from vidpred.config import OptimizerConfig

    layer, frozen = torch.nn.Linear(2, 2), torch.nn.Linear(2, 1).requires_grad_(False)
    params = [*layer.parameters(), *frozen.parameters()]
    sgd = build_optimizer(params, OptimizerConfig("sgd", lr=0.04, momentum=0.5, weight_decay=1e-4), "optim.generator")
    (group,) = sgd.param_groups
    assert type(sgd) is torch.optim.SGD and group["params"] == list(layer.parameters())
    assert (group["lr"], group["momentum"], group["weight_decay"]) == (0.04, 0.5, 1e-4)
    adam = build_optimizer(params, OptimizerConfig("adam", lr=1e-3, betas=[0.5, 0.9], weight_decay=0.01), "optim.x")
    (group,) = adam.param_groups
    assert type(adam) is torch.optim.Adam and group["params"] == list(layer.parameters())
    assert (group["lr"], group["betas"], group["weight_decay"]) == (1e-3, (0.5, 0.9), 0.01)


@pytest.mark.parametrize("width, channels", [(1.0, 32), (0.25, 8), (0.01, 1)])
def test_the_refiner_s_width_scales_its_32_feature_maps(tiny_config_data, width, channels):
    from vidpred.build import build_generator

    cfg = config_from_dict(tiny_config_data, ["model.generator.head=refiner", f"model.generator.width={width}"])
    assert build_generator(cfg).width == channels  # round(32 * width), at least 1


def test_a_frozen_judge_is_saved_without_an_optimizer(tiny_config_data, tmp_path):
    from vidpred.build import count_parameters
    from vidpred.models.blur_discriminator import BlurDiscriminator, save_blur_discriminator

    torch.manual_seed(123)
    save_blur_discriminator(BlurDiscriminator(width=4, n_down=2), tmp_path / "blur.pt", {"source": "test"},
                            {"sharp": 0.5})
    nets = _build(tiny_config_data, "model.blur_discriminator.enabled=true", "model.blur_discriminator.frozen=true",
                  f"model.blur_discriminator.checkpoint={tmp_path / 'blur.pt'}")
    state = nets.state_dict()
    # Its weights: a resumed run must not depend on the pretrained file staying as it was.
    assert sorted(state) == ["blur_discriminator", "blur_discriminator_arch", "discriminator", "generator", "opt_d",
                             "opt_g"]
    blur = nets.adversaries[1].model
    assert all(torch.equal(state["blur_discriminator"][k], v) for k, v in blur.state_dict().items())
    assert count_parameters(blur) == sum(p.numel() for p in blur.parameters()) > 0  # frozen ones are counted


def test_a_blur_detector_trained_on_other_frames_is_refused(tiny_config_data, tmp_path):
    from vidpred.config import ConfigError
    from vidpred.models.blur_discriminator import BlurDiscriminator, save_blur_discriminator

    save_blur_discriminator(BlurDiscriminator(channels=1, width=4, n_down=2), tmp_path / "grey.pt", {"source": "test"},
                            {"sharp": 0.5})
    with pytest.raises(ConfigError, match="trained on 1-channel frames, model.channels is 3"):
        _build(tiny_config_data, "model.blur_discriminator.enabled=true",
               f"model.blur_discriminator.checkpoint={tmp_path / 'grey.pt'}")

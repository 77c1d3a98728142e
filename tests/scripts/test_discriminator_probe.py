"""vidpred/commands/discriminator_probe.py: fresh discriminators against a frozen generator."""

from __future__ import annotations

import logging

import pytest
import torch
import yaml

from vidpred.commands import discriminator_probe as module
from vidpred.config import config_from_dict
from vidpred.training.trainer import Trainer


@pytest.fixture
def trained(tiny_config_data, tmp_path):
    """A config file and the checkpoint of a 2-step run of it."""
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(tiny_config_data))
    Trainer(config_from_dict(tiny_config_data, ["train.steps=2"]), tmp_path / "run").fit()
    return config, tmp_path / "run" / "checkpoints" / "latest.pt"


def test_probe_trains_only_the_discriminator_and_reports_each_scale(trained, capsys):
    config, checkpoint = trained
    assert module.main(["--config", str(config), "--checkpoint", str(checkpoint), "--steps", "4",
                        "--set", "model.discriminator.init=he", "--set", "model.discriminator.leaky_slope=0.2"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("| discriminator | acc. real |") and table[2].startswith("| multi-scale |")
    n_scales = config_from_dict(yaml.safe_load(config.read_text())).model.discriminator.n_scales
    assert len(table[2].split("|")[6].split(",")) == n_scales


def test_the_generator_s_perceptual_weights_are_not_needed(trained, capsys, tmp_path, monkeypatch):
    config, checkpoint = trained
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no_weights"))
    assert module.main(["--config", str(config), "--checkpoint", str(checkpoint), "--steps", "2",
                        "--set", "loss.l_vgg=0.1"]) == 0
    assert capsys.readouterr().out.splitlines()[2].startswith("| multi-scale |")


def test_the_generator_stays_frozen(trained, tmp_path):
    config, checkpoint = trained
    cfg = config_from_dict(yaml.safe_load(config.read_text()))
    trainer = Trainer(cfg, tmp_path / "probe")
    trainer.generator.load_state_dict(torch.load(checkpoint, weights_only=True)["generator"])
    before = [p.detach().clone() for p in trainer.generator.parameters()]
    d_before = [p.detach().clone() for p in trainer.discriminator.parameters()]
    results = module.probe(trainer, 3)
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.generator.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(d_before, trainer.discriminator.parameters()))
    assert set(results) == {"d"} and 0 <= results["d"]["acc"] <= 1
    assert results["d"]["acc"] == pytest.approx((results["d"]["acc_real"] + results["d"]["acc_fake"]) / 2)


def test_bad_input_is_one_line(trained, caplog):
    config, checkpoint = trained
    assert module.main(["--config", str(config), "--checkpoint", str(checkpoint), "--steps", "1"]) == 2
    assert module.main(["--config", str(config), "--checkpoint", str(checkpoint),
                        "--set", "model.discriminator.enabled=false"]) == 2
    assert module.main(["--config", str(config), "--checkpoint", str(config)]) == 2  # not a checkpoint
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 3 and all("\n" not in e for e in errors)
    assert "trains no discriminator" in errors[1]


class _CountingTrainer:
    """Batches numbered 0, 1, 2, ...; a D update on batch ``b`` logs accuracies derived from ``b``."""

    def __init__(self):
        self.generator = torch.nn.Linear(1, 1)
        self.batches = 0
        self.updated_on = []

    def next_batch(self):
        self.batches += 1
        return self.batches - 1

    def d_step(self, batch):
        self.updated_on.append(batch)
        return {"d_loss": 9.0, "d_acc_real": float(batch), "d_acc_fake": 1.0, "d_acc": 0.5, "d_gap": -float(batch),
                "d_acc_s0": 2.0 * batch}


def test_probe_averages_the_last_half_of_the_updates_on_every_other_batch():
    trainer = _CountingTrainer()
    results = module.probe(trainer, 4)
    assert trainer.updated_on == [0, 2, 4, 6]  # batches 1, 3, 5, 7 are the generator's
    # Last half: the updates on batches 4 and 6.
    assert results == {"d": {"acc_real": 5.0, "acc_fake": 1.0, "acc": 0.5, "gap": -5.0, "acc_s0": 10.0}}


def test_the_checkpoints_generator_is_the_one_probed(trained, monkeypatch):
    config, checkpoint = trained
    probed = []
    monkeypatch.setattr(module, "probe", lambda trainer, steps: probed.append(
        (steps, {k: v.clone() for k, v in trainer.generator.state_dict().items()})) or {})
    assert module.main(["--config", str(config), "--checkpoint", str(checkpoint), "--steps", "2"]) == 0
    saved = torch.load(checkpoint, weights_only=True)["generator"]
    (steps, weights), = probed
    assert steps == 2 and weights.keys() == saved.keys()
    assert all(torch.equal(weights[k], saved[k]) for k in saved)

"""Discriminator accuracies in the logs, the at-chance warning, spectral normalization."""

from __future__ import annotations

import json
import logging

import pytest
import torch

from vidpred.models.spectral_norm import largest_singular_value
from vidpred.training.trainer import Trainer

SPATIOTEMPORAL = ["model.spatiotemporal_discriminator.enabled=true", "model.spatiotemporal_discriminator.width=0.0625",
                  "model.spatiotemporal_discriminator.n_3d=1", "model.spatiotemporal_discriminator.n_2d=1"]


def _rows(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_accuracies_and_logit_gaps_are_logged(tiny_config, tmp_path):
    Trainer(tiny_config(*SPATIOTEMPORAL), tmp_path / "run").fit()
    row = _rows(tmp_path / "run")[0]
    for prefix in ("d", "d_st"):
        for key in ("acc_real", "acc_fake", "acc", "gap"):
            assert f"{prefix}_{key}" in row, f"{prefix}_{key}"
        assert 0 <= row[f"{prefix}_acc_real"] <= 1 and 0 <= row[f"{prefix}_acc_fake"] <= 1
        assert row[f"{prefix}_acc"] == pytest.approx((row[f"{prefix}_acc_real"] + row[f"{prefix}_acc_fake"]) / 2)
    # The multi-scale D also logs each scale's balanced accuracy, coarsest first.
    n_scales = tiny_config().model.discriminator.n_scales
    assert [k for k in row if k.startswith("d_acc_s")] == [f"d_acc_s{k}" for k in range(n_scales)]
    assert all(0 <= row[f"d_acc_s{k}"] <= 1 for k in range(n_scales))


def test_the_at_chance_warning_fires_when_d_cannot_learn(tiny_config, tmp_path, caplog):
    # D's learning rate is zero: its random initial verdicts never improve.
    cfg = tiny_config("optim.discriminator.lr=0.0", "train.steps=6", "train.chance_warning_steps=3",
                      "train.chance_accuracy=0.75")
    with caplog.at_level(logging.WARNING, logger="vidpred.training.monitor"):
        Trainer(cfg, tmp_path / "run").fit()
    warnings = [r.getMessage() for r in caplog.records if "stayed at chance" in r.getMessage()]
    assert len(warnings) == 1 and "multi-scale discriminator" in warnings[0]
    assert "optim.discriminator.lr" in warnings[0] and "model.discriminator.inputs=differences" in warnings[0]


def test_no_warning_while_disabled(tiny_config, tmp_path, caplog):
    cfg = tiny_config("optim.discriminator.lr=0.0", "train.steps=6", "train.chance_warning_steps=0")
    with caplog.at_level(logging.WARNING, logger="vidpred.training.monitor"):
        Trainer(cfg, tmp_path / "run").fit()
    assert not [r for r in caplog.records if "stayed at chance" in r.getMessage()]


@pytest.mark.slow  # about 7 s on one CPU thread
def test_spectral_norm_keeps_the_largest_singular_value_near_one(tiny_config, tmp_path):
    cfg = tiny_config("model.discriminator.spectral_norm=true", *SPATIOTEMPORAL,
                      "model.spatiotemporal_discriminator.spectral_norm=true", "train.steps=30")
    trainer = Trainer(cfg, tmp_path / "run")
    trainer.fit()
    for adversary in trainer.adversaries:
        layers = [m for m in adversary.model.modules() if hasattr(m, "parametrizations")]
        assert len(layers) >= 4, adversary.name
        adversary.model.eval()  # read the weights as they are, without another power iteration
        sigmas = [largest_singular_value(layer) for layer in layers]
        # One power iteration per training step lags slightly behind the weight updates:
        # within 15 % for every layer, and a few % on average. Without the normalization
        # these layers' largest singular values are far from 1 (checked below).
        assert all(abs(sigma - 1.0) < 0.15 for sigma in sigmas), (adversary.name, sigmas)
        assert abs(sum(sigmas) / len(sigmas) - 1.0) < 0.05, (adversary.name, sigmas)
        raw = [float(torch.linalg.matrix_norm(layer.parametrizations.weight.original.detach().flatten(1), ord=2))
               for layer in layers]
        assert max(abs(r - 1.0) for r in raw) > 0.3, (adversary.name, raw)


def test_resume_with_spectral_norm_reproduces_the_uninterrupted_run(tiny_config, tmp_path):
    overrides = ["model.discriminator.spectral_norm=true", "optim.discriminator.name=adam",
                 "optim.discriminator.lr=0.0002"]
    full = Trainer(tiny_config(*overrides, "train.steps=6"), tmp_path / "full")
    full.fit()
    Trainer(tiny_config(*overrides, "train.steps=3"), tmp_path / "split").fit()
    resumed = Trainer(tiny_config(*overrides, "train.steps=6"), tmp_path / "split", resume=True)
    resumed.fit()
    expected = {r["step"]: r for r in _rows(tmp_path / "full")}
    for row in _rows(tmp_path / "split")[3:]:
        assert {k: v for k, v in row.items() if k != "samples_per_sec"} == \
            {k: v for k, v in expected[row["step"]].items() if k != "samples_per_sec"}
    for (name, a), b in zip(full.discriminator.state_dict().items(), resumed.discriminator.state_dict().values()):
        assert torch.equal(a, b), name

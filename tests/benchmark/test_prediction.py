"""The prediction-speed benchmark times every baseline and each checkpoint on one frame size."""

import pytest
import torch

from vidpred.benchmark.prediction import benchmark_prediction
from vidpred.build import build_generator
from vidpred.checkpoint import save_checkpoint
from vidpred.config import config_from_dict, config_to_dict


def test_times_the_baselines_and_a_refiner(tmp_path):
    cfg = config_from_dict({"model": {"generator": {"head": "refiner", "n_scales": 1, "width": 0.125}}})
    path = tmp_path / "m" / "checkpoints" / "latest.pt"
    save_checkpoint({"step": 1, "config": config_to_dict(cfg), "generator": build_generator(cfg).state_dict()}, path)
    result = benchmark_prediction([path], height=48, width=64, repeats=1)
    assert result["device"] == "cpu"
    methods = result["methods"]
    assert set(methods) == {"last input", "Farneback flow (paper)", "DIS flow", "m/latest"}
    assert methods["m/latest"]["head"] == "refiner"
    for entry in methods.values():
        assert entry["seconds_per_frame"] > 0
        assert entry["fps"] == pytest.approx(1 / entry["seconds_per_frame"])
    with pytest.raises(ValueError, match="repeats"):
        benchmark_prediction([], repeats=0)

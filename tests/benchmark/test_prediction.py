"""The prediction-speed benchmark times every baseline and each checkpoint on one frame size."""

from pathlib import Path

import pytest

from vidpred.benchmark import prediction
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


def test_two_models_of_one_label_are_both_timed_not_one_over_the_other(tmp_path, monkeypatch):
    """A row per model: two checkpoints labelled alike (a copy of the shipped model, the same
    run name under two folders) or a model labelled as a baseline kept the last one's time."""
    cfg = config_from_dict({"model": {"generator": {"head": "refiner", "n_scales": 1, "width": 0.125}}})
    state = {"step": 1, "config": config_to_dict(cfg), "generator": build_generator(cfg).state_dict()}
    monkeypatch.chdir(tmp_path)
    paths = [tmp_path / "a" / "run" / "checkpoints" / "best.pt", tmp_path / "b" / "run" / "checkpoints" / "best.pt",
             Path("DIS flow.pt")]  # in the current folder: labelled "DIS flow"
    for path in paths:
        save_checkpoint(state, path)
    methods = benchmark_prediction(paths, height=32, width=32, repeats=1)["methods"]
    assert list(methods) == ["last input", "Farneback flow (paper)", "DIS flow", "run/best", "run/best (2)",
                             "DIS flow (2)"]
    assert [methods[name].get("path") for name in list(methods)[3:]] == [str(p) for p in paths]
    assert "path" not in methods["DIS flow"]  # the baseline's own time, not the model's


def test_a_model_reading_more_than_four_frames_is_timed_on_as_many(tmp_path):
    cfg = config_from_dict({"model": {"n_context": 6, "generator": {"n_scales": 2, "width": 0.0625}}})
    path = tmp_path / "six" / "checkpoints" / "latest.pt"
    save_checkpoint({"step": 1, "config": config_to_dict(cfg), "generator": build_generator(cfg).state_dict()}, path)
    methods = benchmark_prediction([path], height=32, width=32, repeats=1)["methods"]
    assert set(methods) == {"last input", "Farneback flow (paper)", "DIS flow", "six/latest"}
    assert methods["six/latest"]["seconds_per_frame"] > 0


def _refiner_checkpoint(path):
    cfg = config_from_dict({"model": {"generator": {"head": "refiner", "n_scales": 1, "width": 0.125}}})
    save_checkpoint({"step": 1, "config": config_to_dict(cfg), "generator": build_generator(cfg).state_dict()}, path)
    return path


def test_three_models_of_one_label_are_three_rows(tmp_path):
    paths = [_refiner_checkpoint(tmp_path / d / "run" / "checkpoints" / "best.pt") for d in "abc"]
    methods = benchmark_prediction(paths, height=32, width=32, repeats=1)["methods"]
    assert [methods[n]["path"] for n in ("run/best", "run/best (2)", "run/best (3)")] == [str(p) for p in paths]


def test_frames_under_16_px_are_refused_and_dis_is_timed_as_dis(monkeypatch):
    with pytest.raises(ValueError, match="frames of at least 16x16, got 1, 12x32"):
        prediction.benchmark_prediction([], height=12, width=32, repeats=1)
    asked = []
    real = prediction.flow_extrapolation
    monkeypatch.setattr(prediction, "flow_extrapolation",
                        lambda c, n, m, method: asked.append(method) or real(c, n, m, method))
    prediction.benchmark_prediction([], height=16, width=16, repeats=1)
    assert sorted(set(asked)) == ["dis", "farneback"] and asked.count("dis") == asked.count("farneback") == 2


def test_seconds_per_frame_is_the_time_of_one_of_the_repeats(monkeypatch):
    ticks = iter(range(1000))
    monkeypatch.setattr(prediction.time, "perf_counter", lambda: float(next(ticks)))  # each reading 1 s later
    methods = prediction.benchmark_prediction([], height=16, width=16, repeats=4)["methods"]
    assert {m["seconds_per_frame"] for m in methods.values()} == {0.25}  # 1 s between readings over 4 repeats

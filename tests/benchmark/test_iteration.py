from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from vidpred.benchmark import iteration
from vidpred.benchmark.conv_peak import ConvProbe, ConvShape
from vidpred.benchmark.iteration import benchmark_config, benchmark_training, peak_memory_mb
from vidpred.config import Config, config_from_dict, load_config, validate


def test_conv_shape_counts_flops_as_torch_does():
    shape = ConvShape(2, 8, 16, 8, 3)
    with FlopCounterMode(display=False) as counter:
        ConvProbe(shape, torch.float32, backward=False)  # its constructor runs the conv once
    assert counter.get_total_flops() == shape.flops()
    with FlopCounterMode(display=False) as counter:
        ConvProbe(shape, torch.float32, backward=True)
    assert counter.get_total_flops() == 3 * shape.flops()  # forward, input and weight gradients
    assert ConvProbe(shape, torch.float32).gflops() > 0


def test_benchmark_reports_speed_flops_and_the_reference(tiny_config, monkeypatch):
    import os

    monkeypatch.delattr(os, "getloadavg")  # as on Windows
    result = benchmark_training(tiny_config("train.precision=fp32"), steps=2, warmup=1, reference=True,
                                measure_peak=False)
    assert result["iteration"] == "Trainer.d_step + Trainer.g_step"
    assert result["precision_resolved"] == "fp32" and result["batch_size"] == 4
    assert result["samples_per_sec"] > 0 and result["ms_per_d_step"] > 0 and result["ms_per_g_step"] > 0
    assert result["peak_memory_mb"] > 0
    # Same networks; the reference also computes D's weight gradients in the G step.
    assert 0 < result["gflop_per_sample"] < result["reference"]["gflop_per_sample"]
    assert result["speedup_vs_reference"] > 0
    low, high = result["speedup_range"]
    assert low <= result["speedup_vs_reference"] <= high
    assert "conv_peak_gflops" not in result
    assert result["load_avg_1min"] == [None, None]


@pytest.mark.parametrize("warmup, reference, order", [(1, False, ["peak", "timed"]), (0, False, ["timed", "peak"]),
                                                     (0, True, ["timed"])])
def test_peak_memory_is_read_once_an_iteration_has_run_and_never_with_the_reference_s(tiny_config, monkeypatch,
                                                                                      warmup, reference, order):
    events = []
    timed = iteration._timed_rounds
    monkeypatch.setattr(iteration, "peak_memory_mb", lambda device: events.append("peak") or 1.0)
    monkeypatch.setattr(iteration, "_timed_rounds", lambda *a: events.append("timed") or timed(*a))
    result = benchmark_training(tiny_config("train.precision=fp32"), steps=1, warmup=warmup, reference=reference,
                                measure_peak=False)
    assert events == order and result["peak_memory_mb"] == (None if reference else 1.0)


def test_the_reference_is_refused_for_a_config_it_does_not_compute_before_any_work(tiny_config, monkeypatch):
    monkeypatch.setattr(iteration, "Trainer", lambda *a, **k: pytest.fail("a trainer was built"))
    with pytest.raises(ValueError, match=r"adds to: loss.r1_weight: 1.0 \(the reference: 0.0\)"):
        benchmark_training(tiny_config("loss.r1_weight=1.0"), steps=1, warmup=0, reference=True)


def test_without_the_resource_module_the_benchmark_imports_and_reports_no_cpu_peak(monkeypatch):
    import importlib.util
    import sys

    import vidpred.benchmark.iteration as iteration

    monkeypatch.setitem(sys.modules, "resource", None)  # as on Windows: import resource fails
    spec = importlib.util.spec_from_file_location("_iteration_on_windows", iteration.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.peak_memory_mb(torch.device("cpu")) is None
    assert iteration.peak_memory_mb(torch.device("cpu")) > 0


# Three rounds' seconds: iterations of 0.2, 0.5 and 0.8 s, a median of 0.5 s.
D_TIMES, G_TIMES = [0.1, 0.2, 0.3], [0.1, 0.3, 0.5]


def test_the_summary_is_taken_at_the_median_iteration():
    # Iterations of 0.2005, 0.5005 and 0.8003 s.
    summary = iteration._summary([0.1005, 0.2, 0.3], [0.1, 0.3005, 0.5003], batch_size=4, flops_per_sample=2e9)
    assert summary == {
        "samples_per_sec": 7.992,  # 4 clips in 0.5005 s
        "samples_per_sec_best": 19.95,  # 4 clips in 0.2005 s
        "ms_per_d_step": 200.0, "ms_per_g_step": 300.5,
        "ms_per_iteration": {"median": 500.5, "min": 200.5, "max": 800.3},
        "gflop_per_sample": 2.0,
        "achieved_gflops": 16.0,  # 2 GFLOP a clip, 7.992 clips a second: 15.984
    }


def test_the_speedup_is_the_median_of_the_ratios_of_each_round():
    times = {"d": D_TIMES, "g": G_TIMES, "ref_d": [0.3, 0.5, 0.8], "ref_g": [0.1, 1.0, 0.8]}
    result = iteration._against_reference(times, batch_size=4, ref_flops=3e9)
    # Rounds: 0.4 / 0.2, 1.5 / 0.5, 1.6 / 0.8. (The ratio of the medians would be 1.5 / 0.5 = 3.)
    assert result["speedup_vs_reference"] == 2.0 and result["speedup_range"] == [2.0, 3.0]
    assert result["reference"]["samples_per_sec"] == round(4 / 1.5, 3)
    assert result["reference"]["gflop_per_sample"] == 3.0


def test_the_fraction_of_the_peak_pairs_each_round_with_the_peak_sampled_after_it(monkeypatch):
    measured = {torch.float32: 100.0, torch.bfloat16: 50.0}
    monkeypatch.setattr(iteration, "conv_peak", lambda dtype, device: {"gflops": measured[dtype]})
    times = {"d": D_TIMES, "g": G_TIMES, "peak": [120.0, 90.0, 80.0]}  # sampled in fp32
    result = iteration._against_peak(times, batch_size=4, flops=2e9, achieved_gflops=16.0, precision="fp32",
                                     device=torch.device("cpu"))
    assert result["conv_peak_gflops"] == {"fp32": 120.0, "bf16": 50.0}  # the best fp32 figure, sampled or not
    assert result["fraction_of_peak"] == {"fp32": round(16 / 120, 3), "bf16": round(16 / 50, 3)}
    # 8 GFLOP a round in 0.2, 0.5 and 0.8 s: 40, 16 and 10 GFLOP/s against peaks of 120, 90 and 80.
    assert result["fraction_of_peak_paired"] == {"fp32": round(16 / 90, 3), "range": [0.125, round(40 / 120, 3)]}


def test_each_round_times_d_then_g_then_the_reference_then_samples_the_peak(clock):
    calls = []

    def step(name, seconds=0.0):
        return lambda x: calls.append(name) or clock.advance(seconds)

    trainer = SimpleNamespace(d_step=step("d", 0.05), g_step=step("g", 0.02))
    ref = SimpleNamespace(d_step=step("ref_d", 0.5), g_step=step("ref_g", 0.25))
    probe = SimpleNamespace(gflops=lambda: calls.append("peak") or clock.advance(9.0) or 7.0)
    x = torch.zeros(1)
    times = iteration._timed_rounds(trainer, ref, probe, x, x, steps=2, device=torch.device("cpu"))
    assert calls == ["d", "g", "ref_d", "ref_g", "peak"] * 2
    # each call timed alone: nothing of the calls before or after it, nor of sampling the peak
    for key, seconds in (("d", 0.05), ("g", 0.02), ("ref_d", 0.5), ("ref_g", 0.25)):
        assert times[key] == [pytest.approx(seconds)] * 2
    assert times["peak"] == [7.0, 7.0]
    calls.clear()
    times = iteration._timed_rounds(trainer, None, None, x, x, steps=1, device=torch.device("cpu"))
    assert calls == ["d", "g"] and times["ref_d"] == times["ref_g"] == times["peak"] == []


def test_the_random_clips_are_two_batches_in_the_model_s_range_the_same_on_every_call(tiny_config):
    cfg = tiny_config("train.n_future=2")
    d_batch, g_batch = iteration._random_clips(cfg, torch.device("cpu"))
    assert d_batch.shape == g_batch.shape == (4, 3, 4 + 2, 16, 16)  # batch 4, n_context 4, 16 px patches
    for batch in (d_batch, g_batch):
        assert -1 <= batch.min() < -0.99 and 0.99 < batch.max() <= 1  # uniform over [-1, 1]
    assert not torch.equal(d_batch, g_batch)
    again = iteration._random_clips(cfg, torch.device("cpu"))
    assert torch.equal(again[0], d_batch) and torch.equal(again[1], g_batch)


def test_the_benchmarks_procedural_videos_are_long_enough_for_a_validation_clip(tmp_path):
    cfg = config_from_dict({"train": {"n_future": 1, "val_n_future": 3}})
    data = benchmark_config(cfg, tmp_path).data
    assert data.procedural.n_frames >= cfg.model.n_context + 3


def test_the_peak_memory_of_this_process_is_in_mib():
    import sys

    resource = pytest.importorskip("resource")
    peak = peak_memory_mb(torch.device("cpu"))
    kib_or_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    expected = kib_or_bytes / 2**20 if sys.platform == "darwin" else kib_or_bytes / 2**10
    assert peak == pytest.approx(expected, rel=0.05) and 20 < peak < 2**20  # a process with torch: tens of MiB or more


def test_a_negative_warm_up_is_refused():
    with pytest.raises(ValueError, match="need steps >= 1 and warmup >= 0, got 3, -1"):
        benchmark_training(Config(), steps=3, warmup=-1)


@pytest.mark.parametrize("data", [{"source": "ucf101", "root": "ucf", "n_val_videos": 64, "split": 2},
                                  {"source": "folder", "root": "videos", "val_videos": ["a.mp4"]}])
def test_a_config_of_another_source_is_benchmarked_on_procedural_videos(tmp_path, data):
    data = benchmark_config(config_from_dict({"data": data}), tmp_path).data  # configs/paper_ucf101.yaml had failed
    assert data.source == "procedural" and data.val_videos is None and data.split == 1 and data.root is None


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[2] / "configs").rglob("*.yaml")),
                         ids=lambda path: path.name)
def test_every_shipped_config_is_benchmarked(tmp_path, path):
    cfg = benchmark_config(load_config(path), tmp_path)
    validate(cfg)  # as the trainer does: configs/paper_ucf101.yaml's data.n_val_videos had been refused
    assert cfg.data.source == "procedural" and cfg.model == load_config(path).model

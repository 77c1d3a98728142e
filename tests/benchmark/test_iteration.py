import torch
from torch.utils.flop_counter import FlopCounterMode

from vidpred.benchmark.conv_peak import ConvProbe, ConvShape
from vidpred.benchmark.iteration import benchmark_training


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

"""scripts/benchmark.py as a user runs it: one JSON line on stdout."""

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from vidpred.commands import benchmark as benchmark_command
from vidpred.commands.benchmark import main

ROOT = Path(__file__).resolve().parents[2]
BENCHMARK = ROOT / "scripts" / "benchmark.py"

TINY = {
    "data": {"patch_size": 16},
    "model": {"generator": {"n_scales": 3, "width": 0.0625}, "discriminator": {"n_scales": 3, "width": 0.03125}},
    "train": {"device": "cpu"},
}


def _main(argv):
    return main([*map(str, argv)])


@pytest.mark.slow  # runs the script as a subprocess
def test_prints_one_json_line_with_the_flags_applied(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    run = subprocess.run(
        [sys.executable, str(BENCHMARK), "--config", str(config), "--precision", "fp32", "--no-channels-last",
         "--batch-size", "2", "--steps", "1", "--warmup", "0", "--no-peak", "--reference"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["benchmark"] == "training" and result["precision"] == "fp32"
    assert result["channels_last"] is False and result["batch_size"] == 2
    assert result["samples_per_sec"] > 0 and "speedup_vs_reference" in result


def test_bad_override_is_one_line_and_exit_code_2(caplog, capsys):
    assert _main(["--config", ROOT / "configs" / "quickstart.yaml", "--set", "train.nope=1", "--no-peak"]) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "train.nope" in errors[0]
    assert capsys.readouterr().out == ""  # no JSON line for a run that did not happen


def test_data_benchmark_with_a_read_only_cache_is_one_line_and_exit_code_2(tmp_path, read_only, caplog, capsys):
    (tmp_path / "cache").mkdir()
    read_only(tmp_path / "cache")
    assert _main(["--data-pipeline", "--cache-dir", tmp_path / "cache", "--loader-workers", "0"]) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "is not writable" in errors[0] and str(tmp_path / "cache") in errors[0]
    assert capsys.readouterr().out == "" and list((tmp_path / "cache").iterdir()) == []


def test_predict_times_the_models_on_the_device_it_resolves(monkeypatch, capsys):
    """--predict runs the models where --device says (auto: CUDA when there is a GPU), not always on the CPU."""
    devices = []

    def fake_benchmark(checkpoints, **kwargs):
        devices.append(kwargs.get("device"))
        return {"device": str(kwargs.get("device"))}

    monkeypatch.setattr(benchmark_command, "benchmark_prediction", fake_benchmark)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # what auto looks at
    assert _main(["--predict", "--steps", "1"]) == 0
    assert _main(["--predict", "--steps", "1", "--device", "cpu"]) == 0
    assert devices == [torch.device("cuda"), torch.device("cpu")]
    assert [json.loads(line)["device"] for line in capsys.readouterr().out.splitlines()] == ["cuda", "cpu"]


@pytest.mark.parametrize("argv, said", [
    (["--checkpoint", "model.pt"], "--checkpoint applies to --predict"),
    (["--size", "64", "64", "--no-peak"], "--size applies to --predict"),
    (["--predict", "--data-pipeline"], "--predict and --data-pipeline time different things"),
    (["--predict", "--precision", "bf16"], "--precision applies to the training benchmark"),
    (["--predict", "--set", "train.batch_size=2"], "--set applies to the training benchmark"),
    (["--data-pipeline", "--steps", "3"], "--steps applies to the training benchmark and --predict"),
    (["--loader-workers", "0", "--no-peak"], "--loader-workers applies to --data-pipeline"),
])
def test_a_flag_of_another_benchmark_is_refused_not_ignored(argv, said, monkeypatch, caplog, capsys):
    """Each flag times something only in its own mode: given in another it changed nothing, and
    the numbers printed were not the ones asked for (the training benchmark for --checkpoint)."""
    for name in ("benchmark_training", "benchmark_data", "benchmark_prediction"):
        monkeypatch.setattr(benchmark_command, name, lambda *a, **k: pytest.fail("a benchmark ran"))
    assert _main(argv) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and said in errors[0]
    assert capsys.readouterr().out == ""

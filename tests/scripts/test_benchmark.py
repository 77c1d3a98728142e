"""scripts/benchmark.py as a user runs it: one JSON line on stdout."""

import json
import logging
import subprocess
import sys
import tempfile
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


def _record(monkeypatch, name, result):
    """Replace the benchmark ``name`` by one that records its arguments and returns ``result``."""
    calls = []

    def fake(*args, **kwargs):
        calls.append((args, kwargs))
        return dict(result)

    monkeypatch.setattr(benchmark_command, name, fake)
    return calls


def test_training_flags_reach_the_config_and_the_counts_default_to_10_and_2(tmp_path, monkeypatch, capsys):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    calls = _record(monkeypatch, "benchmark_training", {"samples_per_sec": 5.0})
    assert _main(["--config", config, "--precision", "bf16", "--no-channels-last", "--compile", "--batch-size", "3",
                  "--set", "train.steps=7"]) == 0
    (cfg,), kwargs = calls[-1]
    assert (cfg.train.precision, cfg.train.channels_last, cfg.train.compile) == ("bf16", False, True)
    assert (cfg.train.batch_size, cfg.train.steps, cfg.data.patch_size) == (3, 7, 16)
    assert kwargs == {"steps": 10, "warmup": 2, "reference": False, "measure_peak": True}
    assert json.loads(capsys.readouterr().out) == {"benchmark": "training", "config": str(config), "samples_per_sec": 5.0}

    assert _main(["--config", config, "--steps", "1", "--warmup", "0", "--reference", "--no-peak"]) == 0
    (cfg,), kwargs = calls[-1]
    assert (cfg.train.precision, cfg.train.channels_last, cfg.train.compile, cfg.train.batch_size) == \
        ("auto", True, False, 8)  # the config's own values where no flag is given
    assert kwargs == {"steps": 1, "warmup": 0, "reference": True, "measure_peak": False}


@pytest.mark.parametrize("argv, said", [
    (["--steps", "0"], "need --steps >= 1 and --warmup >= 0, got 0 and 2"),
    (["--warmup", "-1"], "need --steps >= 1 and --warmup >= 0, got 10 and -1"),
])
def test_training_with_no_timed_step_or_a_negative_warmup_is_refused(argv, said, monkeypatch, caplog, capsys):
    monkeypatch.setattr(benchmark_command, "benchmark_training", lambda *a, **k: pytest.fail("a benchmark ran"))
    assert _main([*argv, "--no-peak"]) == 2
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [said]
    assert capsys.readouterr().out == ""


def test_a_negative_worker_count_or_no_config_here_is_refused_before_any_work(tmp_path, monkeypatch, caplog, capsys):
    monkeypatch.setattr(benchmark_command, "benchmark_data", lambda *a, **k: pytest.fail("a benchmark ran"))
    monkeypatch.setattr(benchmark_command, "benchmark_training", lambda *a, **k: pytest.fail("a benchmark ran"))
    assert _main(["--data-pipeline", "--loader-workers", "-1"]) == 2
    monkeypatch.chdir(tmp_path)  # the default config is the repository's
    assert _main(["--no-peak"]) == 2
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        "--loader-workers must be >= 0, got -1",
        "no configs/paper_ucf101.yaml here: run from the repository root, or give --config"]
    assert capsys.readouterr().out == ""


def test_data_pipeline_times_the_cache_given_or_a_temporary_one_with_2_workers_by_default(tmp_path, monkeypatch,
                                                                                           capsys):
    calls = _record(monkeypatch, "benchmark_data", {"batches_per_sec": 4.0})
    assert _main(["--data-pipeline"]) == 0
    (cache,), kwargs = calls[-1]
    assert kwargs == {"num_workers": 2}
    assert Path(cache).parent == Path(tempfile.gettempdir()) and not Path(cache).exists()  # removed after
    assert json.loads(capsys.readouterr().out) == {"benchmark": "data", "batches_per_sec": 4.0}

    assert _main(["--data-pipeline", "--cache-dir", tmp_path / "cache", "--loader-workers", "0"]) == 0
    assert calls[-1] == ((str(tmp_path / "cache"),), {"num_workers": 0})
    assert json.loads(capsys.readouterr().out) == {"benchmark": "data", "batches_per_sec": 4.0}


def test_predict_times_360_by_640_frames_10_times_unless_told_otherwise(monkeypatch, capsys):
    calls = _record(monkeypatch, "benchmark_prediction", {"fps": 3.0})
    assert _main(["--predict", "--device", "cpu"]) == 0
    assert calls[-1] == (([],), {"height": 360, "width": 640, "repeats": 10, "device": torch.device("cpu")})
    assert json.loads(capsys.readouterr().out) == {"benchmark": "prediction", "fps": 3.0}

    assert _main(["--predict", "--device", "cpu", "--size", "48", "64", "--steps", "1",
                  "--checkpoint", "a.pt", "b.pt"]) == 0
    assert calls[-1] == ((["a.pt", "b.pt"],), {"height": 48, "width": 64, "repeats": 1, "device": torch.device("cpu")})


def test_predict_with_no_timed_repeat_is_refused(monkeypatch, caplog, capsys):
    monkeypatch.setattr(benchmark_command, "benchmark_prediction", lambda *a, **k: pytest.fail("a benchmark ran"))
    assert _main(["--predict", "--steps", "0"]) == 2
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == ["--steps must be >= 1, got 0"]
    assert capsys.readouterr().out == ""

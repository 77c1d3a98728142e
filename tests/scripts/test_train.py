"""scripts/train.py as a user runs it: a subprocess, killed and resumed, fed a bad key.

The other bad inputs are tested in-process (test_train_errors.py), which is faster and
sees the same ``main``; these check what only a real process shows: the signal, the exit
code and that stderr holds no traceback.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow  # runs the script as a subprocess

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "scripts" / "train.py"

# The shared tiny config (tests/conftest.py), saving rarely: these runs are stopped and resumed.
SCRIPT_TRAIN = {"device": "cpu", "batch_size": 8, "log_every": 1, "val_every": 1000, "ckpt_every": 1000,
                "sample_every": 1000}


@pytest.fixture
def make_config(tiny_config_data, tmp_path):
    """Write the tiny config, with section updates, to ``tmp_path/config.yaml``."""

    def make(**sections):
        data = json.loads(json.dumps(tiny_config_data))
        data["train"] = dict(SCRIPT_TRAIN)
        for section, values in sections.items():
            data.setdefault(section, {}).update(values)
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(data))
        return path

    return make


def _run(*args, **kwargs):
    return subprocess.run(
        [sys.executable, str(TRAIN), *map(str, args)], capture_output=True, text=True, timeout=300, **kwargs
    )


def test_sigterm_saves_and_resume_matches_uninterrupted(make_config, tmp_path, logged_losses):
    config = make_config()
    full = _run("--config", config, "--run-dir", tmp_path / "full", "--set", "train.steps=8")
    assert full.returncode == 0, full.stderr

    run_dir = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, str(TRAIN), "--config", str(config), "--run-dir", str(run_dir), "--set", "train.steps=100000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    metrics = run_dir / "metrics.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if metrics.is_file() and len(metrics.read_text().splitlines()) >= 3:
            break
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr
    assert "continue with --resume" in stderr
    assert (run_dir / "checkpoints" / "latest.pt").is_file()
    stopped_at = max(logged_losses(run_dir))
    assert stopped_at < 8, "the run should have been stopped early"

    resumed = _run("--config", config, "--run-dir", run_dir, "--resume", "--set", "train.steps=8")
    assert resumed.returncode == 0, resumed.stderr
    expected, got = logged_losses(tmp_path / "full"), logged_losses(run_dir)
    assert sorted(got) == list(range(1, 9))
    for step in range(stopped_at + 1, 9):
        assert got[step] == expected[step], step
    assert json.loads((run_dir / "final_metrics.json").read_text())["step"] == 8


def test_bad_config_key_is_one_line_on_stderr_and_exit_code_2(make_config, tmp_path):
    config = make_config(train={"stpes": 3})
    result = _run("--config", config, "--run-dir", tmp_path / "run")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "unknown config key 'train.stpes'; allowed keys here: steps" in errors[0]
    assert "Traceback" not in result.stderr


def test_ctrl_c_with_data_workers_is_announced_once(make_config, tmp_path):
    # Ctrl-C in a terminal reaches every process of the foreground group: the trainer and
    # its DataLoader workers. Only the trainer should answer it.
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, str(TRAIN), "--config", str(make_config(data={"num_workers": 2})), "--run-dir", str(run_dir),
         "--set", "train.steps=100000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    metrics = run_dir / "metrics.jsonl"
    deadline = time.monotonic() + 240
    while not (metrics.is_file() and len(metrics.read_text().splitlines()) >= 2):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGINT, stderr
    assert stderr.count("received SIGINT") == 1, stderr
    assert "Traceback" not in stderr and "continue with --resume" in stderr


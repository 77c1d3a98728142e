"""``torchrun --nproc_per_node 2 scripts/train.py`` on the CPU (gloo), then resumed."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("ddp_worker.py")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not (dist.is_available() and dist.is_gloo_available()), reason="torch.distributed with gloo is needed"
)]

# The tiny config with a D that is trained with a gradient penalty (double backward under
# DDP) and the adaptive adversarial weight; two predicted frames with the path loss.
@pytest.fixture
def config(tiny_config_data, tmp_path):
    data = tiny_config_data
    data["model"]["spatiotemporal_discriminator"] = {"enabled": True, "width": 0.0625, "n_3d": 1, "n_2d": 1}
    data["loss"] = {"l_path": 1.0, "gp_weight": 10.0, "adaptive_weight": True,
                    "real_label": [0.7, 1.2], "fake_label": [0.0, 0.3]}
    data["train"].update({"n_future": 2, "val_n_future": 2})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _command(config, dump_dir, *args):
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
            str(WORKER), str(dump_dir), "--config", str(config), *map(str, args)]


ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def _torchrun(config, dump_dir, *args, env=ENV):
    return subprocess.run(_command(config, dump_dir, *args), capture_output=True, text=True, timeout=600,
                          env=env, cwd=config.parent)


def _ranks(dump_dir):
    return [torch.load(dump_dir / f"rank{r}.pt", weights_only=True) for r in (0, 1)]


def _assert_same_weights(rank0, rank1):
    assert set(rank0["weights"]) == {"generator", "multiscale", "spatiotemporal"}
    for network, state in rank0["weights"].items():
        for key, value in state.items():
            assert torch.equal(value, rank1["weights"][network][key]), f"{network}.{key} differs between ranks"


def test_torchrun_two_processes_train_in_lockstep_and_resume(config, tmp_path, logged_steps):
    run_dir = tmp_path / "run"
    first = _torchrun(config, tmp_path / "first", "--run-dir", run_dir, "--set", "train.steps=4")
    assert first.returncode == 0, first.stderr[-5000:]

    rank0, rank1 = _ranks(tmp_path / "first")
    assert rank0["step"] == rank1["step"] == 4
    # Different patches on each rank (so each rank's losses differ) ...
    assert rank0["first_logs"]["g_lp"] != rank1["first_logs"]["g_lp"]
    assert rank0["first_logs"]["d_loss"] != rank1["first_logs"]["d_loss"]
    # ... yet identical networks after every update: the gradients were averaged.
    _assert_same_weights(rank0, rank1)

    # Only rank 0 wrote: one TensorBoard file, one line per step, rank 0's log only.
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 1
    assert logged_steps(run_dir / "metrics.jsonl") == [1, 2, 3, 4]
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["best.pt", "latest.pt"]
    assert sorted(p.name for p in (run_dir / "samples").iterdir()) == ["step_0000002.png", "step_0000004.png"]
    log_text = (run_dir / "train.log").read_text()
    assert "[rank 0]" in log_text and "[rank 1]" not in log_text
    assert json.loads((run_dir / "final_metrics.json").read_text())["step"] == 4
    checkpoint = torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)
    assert checkpoint["step"] == 4 and len(checkpoint["rng_ranks"]) == 2
    for key, value in checkpoint["generator"].items():
        assert torch.equal(value, rank0["weights"]["generator"][key]), key

    # Resume to step 6, and compare with an uninterrupted 6-step run.
    resumed = _torchrun(config, tmp_path / "resumed", "--run-dir", run_dir, "--resume", "--set", "train.steps=6")
    assert resumed.returncode == 0, resumed.stderr[-5000:]
    full_dir = tmp_path / "full"
    full = _torchrun(config, tmp_path / "full_dump", "--run-dir", full_dir, "--set", "train.steps=6")
    assert full.returncode == 0, full.stderr[-5000:]

    assert logged_steps(run_dir / "metrics.jsonl") == [1, 2, 3, 4, 5, 6]
    rank0, rank1 = _ranks(tmp_path / "resumed")
    assert rank0["step"] == rank1["step"] == 6
    _assert_same_weights(rank0, rank1)
    uninterrupted, _ = _ranks(tmp_path / "full_dump")
    for network, state in uninterrupted["weights"].items():
        for key, value in state.items():
            torch.testing.assert_close(rank0["weights"][network][key], value, rtol=0, atol=0, msg=f"{network}.{key}")
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 2  # one per launch, both rank 0's


def test_sigterm_stops_every_rank_at_the_same_step_with_a_checkpoint(config, tmp_path, logged_steps):
    run_dir = tmp_path / "run"
    # No log step comes before the stop: torchrun kills its workers 30 s after passing the
    # signal on, so the ranks must agree to stop after the step they are in, not at a log step.
    command = _command(config, tmp_path / "dump", "--run-dir", run_dir, "--set", "train.steps=100000",
                       "--set", "train.ckpt_every=100000", "--set", "train.log_every=50000")
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=tmp_path)
    validation = run_dir / "validation.jsonl"  # every 2nd step
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if validation.is_file() and len(validation.read_text().splitlines()) >= 2:
            break
        assert proc.poll() is None, proc.communicate()[1][-5000:]
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)  # torchrun passes it on to both ranks
    _, stderr = proc.communicate(timeout=180)
    assert proc.returncode != 0
    assert "continue with --resume" in stderr

    rank0, rank1 = _ranks(tmp_path / "dump")
    assert rank0["step"] == rank1["step"] < 1000  # both stopped, at the same step
    assert (run_dir / "metrics.jsonl").read_text() == ""  # before any log step
    _assert_same_weights(rank0, rank1)
    checkpoint = torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)
    assert checkpoint["step"] == rank0["step"] and len(checkpoint["rng_ranks"]) == 2

    resumed = _torchrun(config, tmp_path / "resumed", "--run-dir", run_dir, "--resume",
                        "--set", f"train.steps={rank0['step'] + 2}", "--set", "train.ckpt_every=100000")
    assert resumed.returncode == 0, resumed.stderr[-5000:]
    assert logged_steps(run_dir / "metrics.jsonl")[-1] == rank0["step"] + 2


def test_a_folder_the_main_process_refuses_stops_every_rank_in_one_line(config, tmp_path):
    run_dir = tmp_path / "notes"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text("my own notes\n")
    refused = _torchrun(config, tmp_path / "dump", "--run-dir", run_dir, "--set", "train.steps=2")
    assert refused.returncode != 0
    errors = [line for line in refused.stderr.splitlines() if "ERROR" in line and "no vidpred run wrote" in line]
    assert any("[rank 0]" in line for line in errors), refused.stderr[-5000:]
    # Rank 1 stops with the same line (unless torchrun, seeing rank 0 exit, ended it first),
    # never by running into a collective rank 0 left: no worker's traceback, only torchrun's own.
    assert "Connection closed by peer" not in refused.stderr and "RuntimeError" not in refused.stderr, \
        refused.stderr[-5000:]
    assert refused.stderr.count("Traceback") <= 1 and "ChildFailedError" in refused.stderr
    assert (run_dir / "config.yaml").read_text() == "my own notes\n"
    assert sorted(p.name for p in run_dir.iterdir()) == ["config.yaml"]


def test_a_checkpoint_the_main_process_cannot_write_stops_every_rank_in_one_line(config, tmp_path):
    # Rank 1 used to run on into the next collective and die with gloo's "Connection closed by peer".
    run_dir = tmp_path / "run"
    failed = _torchrun(config, tmp_path / "dump", "--run-dir", run_dir, "--set", "train.steps=4", "train.ckpt_every=2",
                       "train.val_every=100", env={**ENV, "VIDPRED_TEST_FULL_DISK": "1"})
    assert failed.returncode != 0
    errors = [line for line in failed.stderr.splitlines() if "ERROR" in line and "No space left on device" in line]
    assert any("[rank 0]" in line for line in errors), failed.stderr[-5000:]
    assert "Connection closed by peer" not in failed.stderr and "RuntimeError" not in failed.stderr, \
        failed.stderr[-5000:]
    assert failed.stderr.count("Traceback") <= 1
    assert not (run_dir / "checkpoints" / "latest.pt").exists()


def test_a_record_the_main_process_cannot_write_at_a_checkpoint_step_stops_every_rank(config, tmp_path):
    # Rank 0 skipped the save that rank 1 entered: both waited in mismatched collectives (2 h).
    failed = _torchrun(config, tmp_path / "dump", "--run-dir", tmp_path / "run", "--set", "train.steps=4",
                       "train.ckpt_every=2", "train.val_every=2", env={**ENV, "VIDPRED_TEST_FULL_DISK": "validation"})
    assert failed.returncode != 0
    errors = [line for line in failed.stderr.splitlines() if "ERROR" in line and "No space left on device" in line]
    assert any("[rank 0]" in line for line in errors) and any("[rank 1]" in line for line in errors), \
        failed.stderr[-5000:]

"""A run killed with SIGKILL (no handler runs) at a chosen moment, then resumed, ends as the
uninterrupted run does: the same weights bit for bit, each step logged once with the same
values in metrics.jsonl, validation.jsonl and TensorBoard, the same samples, no temporary
file left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import vidpred
from vidpred.checkpoint import load_checkpoint
from vidpred.config import config_from_dict
from vidpred.training.trainer import Trainer

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="SIGKILL")]

# Trains the config (JSON) into the run folder and SIGKILLs itself at the moment named:
#   after_latest N  right after checkpoints/latest.pt of step N is in place
#   in_latest N     halfway through writing latest.pt of step N (its temporary file half written)
# slow_events: TensorBoard's writer thread takes 20 ms a record, as on a slow disk.
_CHILD = """
import json, os, signal, sys, time
import torch
import vidpred.checkpoint as checkpoint
import vidpred.training.trainer as trainer_module
from vidpred.config import config_from_dict

data, run_dir, moment, step, slow_events = json.loads(sys.argv[1])
if slow_events:
    from tensorboard.summary.writer import record_writer
    real_write = record_writer.RecordWriter.write
    record_writer.RecordWriter.write = lambda self, data: (time.sleep(0.02), real_write(self, data))[1]

def kill():
    os.kill(os.getpid(), signal.SIGKILL)

real_save = trainer_module.save_checkpoint
def save(state, path):
    killing = path.name == "latest.pt" and state["step"] == step
    if killing and moment == "in_latest":
        real_torch_save = torch.save
        def half_then_kill(obj, f):
            real_torch_save(obj, f)
            f.flush()
            f.truncate(f.tell() // 2)
            kill()
        checkpoint.torch.save = half_then_kill
    real_save(state, path)
    if killing and moment == "after_latest":
        kill()
trainer_module.save_checkpoint = save
resume = os.path.isfile(os.path.join(run_dir, "checkpoints", "latest.pt"))
trainer_module.Trainer(config_from_dict(data), run_dir, resume=resume).fit()
"""


def _train_until_killed(data: dict, run_dir: Path, moment: str, step: int, *, slow_events: bool = False) -> None:
    done = subprocess.run([sys.executable, "-c", _CHILD, json.dumps([data, str(run_dir), moment, step, slow_events])],
                          env={**os.environ, "PYTHONPATH": str(Path(vidpred.__file__).parents[1])},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]


def _jsonl(path: Path, wall_clock: str) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [{k: v for k, v in row.items() if k != wall_clock} for row in rows]


def _events(run_dir: Path) -> tuple[dict, dict]:
    """TensorBoard's scalars {tag: [(step, value)]} (but the wall-clock rate) and image steps {tag: [step]},
    as TensorBoard shows them after purging what resumed runs logged again."""
    events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0}).Reload()
    scalars = {tag: [(e.step, e.value) for e in events.Scalars(tag)]
               for tag in events.Tags()["scalars"] if tag != "train/samples_per_sec"}
    images = {tag: [e.step for e in events.Images(tag)] for tag in events.Tags()["images"]}
    return scalars, images


def _assert_equal(a, b, where: str) -> None:
    """Equal bit for bit (tensors of the same dtype and values), but the wall-clock ``train_seconds``."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a.keys() - {"train_seconds"}:
            _assert_equal(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_equal(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def _where_run(config: dict, run_dir: Path) -> dict:
    """``config`` without its run section, once that is checked to name ``run_dir``, where each run is."""
    assert (config["run"]["name"], config["run"]["out_dir"]) == (run_dir.name, str(run_dir.parent))
    return {k: v for k, v in config.items() if k != "run"}


def _assert_same_run(full: Path, killed: Path) -> None:
    for name in ("latest.pt", "best.pt"):
        a, b = load_checkpoint(full / "checkpoints" / name), load_checkpoint(killed / "checkpoints" / name)
        a["config"], b["config"] = _where_run(a["config"], full), _where_run(b["config"], killed)
        _assert_equal(a, b, name)
    assert _jsonl(killed / "metrics.jsonl", "samples_per_sec") == _jsonl(full / "metrics.jsonl", "samples_per_sec")
    assert _jsonl(killed / "validation.jsonl", "train_seconds") == _jsonl(full / "validation.jsonl", "train_seconds")
    final, final_killed = (json.loads((run / "final_metrics.json").read_text()) for run in (full, killed))
    assert {**final_killed, "train_seconds": 0} == {**final, "train_seconds": 0}
    assert _events(killed) == _events(full)
    assert sorted(p.name for p in (killed / "samples").iterdir()) == sorted(p.name for p in (full / "samples").iterdir())
    assert (killed / "split.json").read_text() == (full / "split.json").read_text()
    configs = [yaml.safe_load((run / "config.yaml").read_text()) for run in (full, killed)]
    assert _where_run(configs[1], killed) == _where_run(configs[0], full)
    assert [p.name for p in killed.rglob(".*") if p.name != ".lock"] == []


def test_a_kill_right_after_a_new_best_s_checkpoint_keeps_that_step_s_samples(tiny_config_data, tmp_path):
    # The first validation is a new best: latest.pt is saved at step 1, before the checkpoint
    # schedule's step 4; the resumed run starts at step 2.
    data = tiny_config_data | {"train": {**tiny_config_data["train"], "val_every": 1, "sample_every": 1,
                                         "ckpt_every": 4}}
    Trainer(config_from_dict(data), tmp_path / "full").fit()
    _train_until_killed(data, tmp_path / "killed", "after_latest", 1)
    Trainer(config_from_dict(data), tmp_path / "killed", resume=True).fit()
    _assert_same_run(tmp_path / "full", tmp_path / "killed")


def test_a_kill_right_after_a_checkpoint_keeps_the_tensorboard_events_logged_before_it(tiny_config_data, tmp_path):
    Trainer(config_from_dict(tiny_config_data), tmp_path / "full").fit()
    _train_until_killed(tiny_config_data, tmp_path / "killed", "after_latest", 2, slow_events=True)
    Trainer(config_from_dict(tiny_config_data), tmp_path / "killed", resume=True).fit()
    _assert_same_run(tmp_path / "full", tmp_path / "killed")


def test_two_kills_one_mid_checkpoint_write_end_as_the_uninterrupted_run(tiny_config_data, tmp_path):
    data = tiny_config_data | {"train": {**tiny_config_data["train"], "steps": 8, "val_every": 3}}
    Trainer(config_from_dict(data), tmp_path / "full").fit()
    killed = tmp_path / "killed"
    _train_until_killed(data, killed, "after_latest", 3)  # validated at step 3, a new best or not: past the checkpoint
    _train_until_killed(data, killed, "in_latest", 6)  # a half-written latest.pt beside the step-4 one
    assert load_checkpoint(killed / "checkpoints" / "latest.pt")["step"] == 4
    assert list((killed / "checkpoints").glob(".latest.pt.*.tmp.pt"))
    Trainer(config_from_dict(data), killed, resume=True).fit()
    _assert_same_run(tmp_path / "full", killed)

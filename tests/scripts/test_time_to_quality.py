"""vidpred/commands/time_to_quality.py: labels name run folders, and a folder is reused only for its own config."""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from vidpred.commands import time_to_quality
from vidpred.config import dump_config, load_config

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "quickstart.yaml"
SETTINGS = ["train.steps=100000000", "train.max_minutes=5.0", "train.val_every=250"]  # the script's defaults


def _main(argv):
    return time_to_quality.main([*map(str, argv)])


def _errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def _finished_run(run_dir: Path, overrides: list[str]) -> Path:
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(dump_config(load_config(CONFIG, [*SETTINGS, *overrides])))
    row = {"step": 250, "train_seconds": 60.0}
    for prefix in ("", "baseline_", "flow_", "dis_", "blend_"):
        row.update({f"{prefix}psnr": 25.0, f"{prefix}psnr_f2": 22.0, f"{prefix}ssim": 0.5, f"{prefix}ssim_f2": 0.4})
    (run_dir / "validation.jsonl").write_text(json.dumps(row) + "\n")
    (run_dir / "final_metrics.json").write_text("{}")
    return run_dir


@pytest.mark.parametrize("label", ["../../x", "a/b", "..", "/tmp/x"])
def test_a_label_must_be_a_plain_name(label, tmp_path, caplog):
    runs = tmp_path / "deep" / "runs"
    assert _main(["--run", f"{CONFIG}:{label}", "--runs", runs, "--out", tmp_path / "c.png"]) == 2
    assert len(_errors(caplog)) == 1 and "must be a plain folder name" in _errors(caplog)[0]
    assert list(tmp_path.iterdir()) == []


def test_two_runs_with_one_label_are_refused(tmp_path, caplog):
    argv = ["--run", f"{CONFIG}:same", "--run", f"{CONFIG}:same:model.generator.head=flow", "--runs",
            tmp_path / "runs", "--out", tmp_path / "c.png"]
    assert _main(argv) == 2
    assert "two --run share the label 'same'" in _errors(caplog)[0] and list(tmp_path.iterdir()) == []


def test_a_label_is_reused_only_for_the_config_it_was_trained_with(tmp_path, caplog):
    runs = tmp_path / "runs"
    _finished_run(runs / "flow", ["model.generator.head=flow"])
    argv = ["--run", f"{CONFIG}:flow", "--runs", runs, "--out", tmp_path / "c.png", "--plot-only"]
    assert _main(argv) == 2
    error = _errors(caplog)[0]
    assert "the label 'flow' is taken by" in error and "model.generator.head" in error
    assert error.endswith("plot it with the config and --set it was trained with")
    assert not (tmp_path / "c.png").exists()
    caplog.clear()
    assert _main(argv[:-1]) == 2  # to train: another model wants another label, whatever the minutes
    assert _errors(caplog)[0].endswith("model.generator.head: 'flow' -> 'pixels'): give this run another label")
    assert _main([*argv[:1], f"{CONFIG}:flow:model.generator.head=flow", *argv[2:]]) == 0
    assert (tmp_path / "c.png").is_file()


def test_a_label_trained_for_other_minutes_or_validated_at_other_steps_is_not_trained_on_but_plotted(
        tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(time_to_quality.StopRequest, "run", lambda stop, cmd, env: pytest.fail("a training started"))
    runs = tmp_path / "runs"
    _finished_run(runs / "pixels", [])  # 5 minutes, validated every 250 steps
    for flags, said in ((["--minutes", "0.3"], "train.max_minutes: 5.0 -> 0.3"),
                        (["--val-every", "100"], "train.val_every: 250 -> 100")):
        caplog.clear()
        assert _main(["--run", f"{CONFIG}:pixels", "--runs", runs, "--out", tmp_path / "c.png", *flags]) == 2
        assert _errors(caplog) == [f"the label 'pixels' is taken by {runs / 'pixels'}, trained with another config "
                                   f"({said}): give this run another label, or repeat the --minutes and --val-every "
                                   "it was trained with"]
        # nothing is trained: the curve is drawn as it was trained
        assert _main(["--run", f"{CONFIG}:pixels", "--runs", runs, "--out", tmp_path / "c.png", "--plot-only",
                      *flags]) == 0


def test_a_failed_training_is_one_line_of_its_own_and_one_of_this_command(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(time_to_quality.StopRequest, "run", lambda stop, cmd, env: 2)
    assert _main(["--run", f"{CONFIG}:pixels", "--runs", tmp_path / "runs", "--out", tmp_path / "c.png"]) == 2
    assert _errors(caplog) == [f"the training into {tmp_path / 'runs' / 'pixels'} failed (exit 2): no figure written"]


def test_the_figure_replaces_only_its_own_files(tmp_path, caplog):
    runs = tmp_path / "runs"
    _finished_run(runs / "pixels", [])
    out = tmp_path / "c.png"
    argv = ["--run", f"{CONFIG}:pixels", "--runs", runs, "--out", out, "--plot-only"]
    assert _main(argv) == 0 and _main(argv) == 0  # its own figure and table: replaced
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG not a figure of ours")
    assert _main([*argv[:-2], photo, "--plot-only"]) == 2
    assert "photo.png already exists" in _errors(caplog)[-1] and photo.read_bytes().startswith(b"\x89PNG not")
    (tmp_path / "c.md").write_text("my notes")
    assert _main(argv) == 2 and (tmp_path / "c.md").read_text() == "my notes"  # beside our figure, all the same
    out.unlink()
    assert _main(argv) == 2 and (tmp_path / "c.md").read_text() == "my notes"
    assert _main([*argv, "--force"]) == 0 and (tmp_path / "c.md").read_text().startswith("|")


def test_each_run_is_trained_by_the_train_command_from_any_folder(tmp_path, monkeypatch):
    launched = []

    def fake_run(stop, cmd, env):
        launched.append(cmd)
        _finished_run(Path(cmd[cmd.index("--run-dir") + 1]), [])
        return 0

    monkeypatch.setattr(time_to_quality.StopRequest, "run", fake_run)
    monkeypatch.chdir(tmp_path)
    assert _main(["--run", f"{CONFIG}:pixels", "--runs", "runs", "--out", "c.png", "--threads", "1"]) == 0
    (cmd,) = launched
    assert cmd[:3] == [sys.executable, "-m", "vidpred.commands.train"]
    assert cmd[cmd.index("--run-dir") + 1] == str(Path("runs") / "pixels") and (tmp_path / "c.png").is_file()


def test_ctrl_c_waits_for_the_training_to_save_its_checkpoint_and_starts_no_other_run(tmp_path, monkeypatch,
                                                                                      caplog):
    import os
    import signal

    launched = []

    def ctrl_c_while_training(stop, cmd, env):  # the training gets the Ctrl-C too: it saves and exits 130
        os.kill(os.getpid(), signal.SIGINT)
        launched.append(cmd[cmd.index("--run-dir") + 1])  # still waited for
        return 128 + signal.SIGINT

    monkeypatch.setattr(time_to_quality.StopRequest, "run", ctrl_c_while_training)
    before = signal.getsignal(signal.SIGINT)
    out = tmp_path / "c.png"
    assert _main(["--run", f"{CONFIG}:a", "--run", f"{CONFIG}:b", "--runs", tmp_path / "runs", "--out", out]) == 130
    assert signal.getsignal(signal.SIGINT) is before
    assert launched == [str(tmp_path / "runs" / "a")]  # waited for, and no other run started
    assert "stopped: no figure written" in caplog.text and _errors(caplog) == []
    assert not out.exists() and not out.with_suffix(".md").exists()


def test_time_to_quality_run_specs(tmp_path):
    from vidpred.commands.time_to_quality import _parse_run

    config = tmp_path / "quick.yaml"
    config.write_text("{}\n")
    assert _parse_run(f"{config}:lab:run.name=a:b,train.lr=1,") == (config, "lab", ["run.name=a:b", "train.lr=1"])
    assert _parse_run(f"{config}::train.lr=1") == (config, "quick", ["train.lr=1"])  # no label: the config's stem
    with pytest.raises(ValueError, match="must be a plain folder name"):
        _parse_run(f"{config}:a\\b")
    for label, why in (("a?b", "which Windows refuses in a folder name"), ("con", "is a device name on Windows"),
                       ("v1.", "ends in a dot or a space")):  # a study run here should run on every system
        with pytest.raises(ValueError, match=re.escape(f"the label (it names the run's folder in --runs) '{label}'")
                           + f".* {why}"):
            _parse_run(f"{config}:{label}")
    # a Windows drive is part of the config's path, not its label
    with pytest.raises(FileNotFoundError, match=r"no config file C:\\configs\\quick.yaml$"):
        _parse_run("C:\\configs\\quick.yaml:lab")
    with pytest.raises(FileNotFoundError, match="no config file D:/runs/quick.yaml$"):
        _parse_run("D:/runs/quick.yaml")


def test_time_to_quality_refuses_validating_every_zero_steps(tmp_path, caplog):
    from vidpred.commands.time_to_quality import main

    config = tmp_path / "quick.yaml"
    config.write_text("{}\n")
    assert main(["--run", str(config), "--out", str(tmp_path / "t.png"), "--runs", str(tmp_path / "runs"),
                 "--val-every", "0", "--plot-only"]) == 2
    assert "need --val-every >= 1 and --threads >= 1" in caplog.text


@pytest.mark.parametrize("minutes", ["nan", "inf", "0", "-1"])
def test_time_to_quality_names_the_flag_of_minutes_no_run_could_train_for(tmp_path, caplog, minutes):
    # nan and inf had been refused as train.max_minutes, a key the user never wrote
    from vidpred.commands.time_to_quality import main

    config = tmp_path / "quick.yaml"
    config.write_text("{}\n")
    assert main(["--run", str(config), "--out", str(tmp_path / "t.png"), "--runs", str(tmp_path / "runs"),
                 "--minutes", minutes]) == 2
    assert f"--minutes must be a finite number > 0, got {float(minutes)}" in caplog.text
    assert not (tmp_path / "runs").exists()


class _Stop:
    """Stands for the StopRequest: records the training command instead of running it."""

    signal = None

    def __init__(self):
        self.commands = []

    def run(self, cmd, env):
        self.commands.append(cmd)
        return 0


def test_a_finished_run_is_reused_and_an_interrupted_one_resumed(tmp_path):
    from vidpred.commands.time_to_quality import _train

    args = SimpleNamespace(minutes=1.0, val_every=10, threads=None)
    done, stopped = tmp_path / "done", tmp_path / "stopped"
    (done / "final_metrics.json").parent.mkdir()
    (done / "final_metrics.json").write_text("{}")
    (stopped / "checkpoints").mkdir(parents=True)
    (stopped / "checkpoints" / "latest.pt").write_bytes(b"")
    stop = _Stop()
    _train(tmp_path / "c.yaml", done, [], args, stop)
    assert stop.commands == []  # trained already: its log is reused
    _train(tmp_path / "c.yaml", stopped, [], args, stop)
    (cmd,) = stop.commands
    assert cmd[-1] == "--resume" and cmd[cmd.index("--run-dir") + 1] == str(stopped)


def test_a_run_stopped_before_its_end_is_plotted_marked_unfinished(tmp_path, caplog):
    runs = tmp_path / "runs"
    _finished_run(runs / "pixels", [])
    (runs / "pixels" / "final_metrics.json").unlink()  # stopped by Ctrl-C: its checkpoint, no final scores
    assert _main(["--run", f"{CONFIG}:pixels", "--runs", runs, "--out", tmp_path / "c.png", "--plot-only"]) == 0
    assert f"{runs / 'pixels'} has not finished its training" in caplog.text
    assert "| pixels (unfinished) |" in (tmp_path / "c.md").read_text()

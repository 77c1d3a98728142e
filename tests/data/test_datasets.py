from __future__ import annotations

import dataclasses
import json
import logging

import numpy as np
import pytest

from vidpred.config import FILE_SOURCES, DataConfig, ProceduralConfig
from vidpred.data import datasets
from vidpred.data.datasets import folder_holdout, load_split, ucf101_holdout
from vidpred.data.ucf101 import ucf101_group, ucf101_split


def _procedural_cfg(cache_dir) -> DataConfig:
    return DataConfig(cache_dir=str(cache_dir), procedural=ProceduralConfig(
        n_train_videos=4, n_val_videos=2, n_test_videos=2, n_frames=6, height=24, width=32, seed=1))


def test_procedural_subsets_are_disjoint_and_deterministic(tmp_path):
    cfg = _procedural_cfg(tmp_path / "a")
    train = load_split(cfg, "train", min_frames=5)
    val = load_split(cfg, "val", min_frames=5)
    test = load_split(cfg, "test", min_frames=5)
    assert (len(train), len(val), len(test)) == (4, 2, 2)
    names = [{v.name for v in subset} for subset in (train, val, test)]
    assert not names[0] & names[1] and not names[0] & names[2] and not names[1] & names[2]
    assert train[0].frames.shape == (6, 24, 32, 3)
    for v in val:
        assert not any(np.array_equal(v.frames, t.frames) for t in train)
    # From scratch in another cache folder: the same videos.
    again = load_split(_procedural_cfg(tmp_path / "b"), "train", min_frames=5)
    for a, b in zip(train, again):
        assert a.name == b.name
        np.testing.assert_array_equal(a.frames, b.frames)


def test_procedural_changed_generator_setting_regenerates(tmp_path):
    cfg = _procedural_cfg(tmp_path)
    before = load_split(cfg, "val", min_frames=1)
    cfg.procedural.pan_speed = 0.0
    after = load_split(cfg, "val", min_frames=1)
    assert not np.array_equal(before[0].frames, after[0].frames)
    assert len(list(tmp_path.glob("*.npy"))) == 4


def test_zero_validation_videos_gives_an_empty_list(tmp_path):
    cfg = _procedural_cfg(tmp_path)
    cfg.procedural.n_val_videos = 0
    assert load_split(cfg, "val", min_frames=1) == []


def test_folder_holds_out_whole_videos(tmp_path, video_folder, caplog):
    cfg = DataConfig(source="folder", root=str(video_folder), cache_dir=str(tmp_path / "cache"), n_val_videos=1)
    train = load_split(cfg, "train", min_frames=5)
    val = load_split(cfg, "val", min_frames=5)
    assert "unusable" not in caplog.text  # every held-out video decoded: no warning
    test = load_split(cfg, "test", min_frames=5)
    train_names, val_names = {v.name for v in train}, {v.name for v in val}
    assert len(train) == 3 and len(val) == 1 and not train_names & val_names
    assert train_names | val_names == {"a.avi", "b.mp4", "frames_d", "sub/c.avi"}
    assert [v.name for v in test] == [v.name for v in val]
    assert load_split(cfg, "val", min_frames=5)[0].name == val[0].name  # fixed across calls


def test_folder_holdout_is_a_fixed_shuffle():
    paths = [f"v{i:02d}.avi" for i in range(20)]
    train, val = folder_holdout(paths, 5)
    assert len(val) == 5 and sorted(train + val) == paths and not set(train) & set(val)
    assert folder_holdout(list(reversed(paths)), 5) == (train, val)  # input order does not matter
    assert val != paths[:5]  # shuffled, not the alphabetical head
    # Fixed across runs, versions and machines: a run's validation videos must never move.
    assert val == ["v02.avi", "v04.avi", "v06.avi", "v13.avi", "v19.avi"]


def test_folder_holdout_needs_one_video_left_to_train_on():
    train, val = folder_holdout(["a.avi", "b.avi", "c.avi"], 2)
    assert len(train) == 1 and len(val) == 2 and sorted(train + val) == ["a.avi", "b.avi", "c.avi"]
    with pytest.raises(ValueError, match="need at least n_val_videos \\+ 1 = 3 videos to hold out 2 for validation, "
                                         "found 2"):
        folder_holdout(["a.avi", "b.avi"], 2)


def test_folder_errors(tmp_path, video_folder):
    with pytest.raises(ValueError, match="at least"):
        load_split(DataConfig(source="folder", root=str(video_folder), n_val_videos=4,
                              cache_dir=str(tmp_path)), "train", min_frames=2)
    with pytest.raises(FileNotFoundError, match=r"video root not found .*nope \(a config's data.root, or an evaluation's --root\)"):
        load_split(DataConfig(source="folder", root=str(tmp_path / "nope"), cache_dir=str(tmp_path)),
                   "train", min_frames=2)
    with pytest.raises(ValueError, match="data.root"):
        load_split(DataConfig(source="folder", cache_dir=str(tmp_path)), "train", min_frames=2)
    with pytest.raises(ValueError, match="subset"):
        load_split(DataConfig(cache_dir=str(tmp_path)), "validation", min_frames=2)


def test_ucf101_splits_on_the_tiny_tree(tmp_path, tiny_ucf101):
    cfg = DataConfig(source="ucf101", root=str(tiny_ucf101), cache_dir=str(tmp_path / "cache"), n_val_videos=2,
                     frame_size=[16, 20], max_frames_per_video=8)
    train = load_split(cfg, "train", min_frames=5)
    val = load_split(cfg, "val", min_frames=5)
    test = load_split(cfg, "test", min_frames=5)
    assert len(val) == 2 and len(test) == 24
    assert len(train) == 18 - 2 * 2  # both clips of each held-out group leave training
    train_groups = {ucf101_group(v.name) for v in train}
    val_groups = {ucf101_group(v.name) for v in val}
    assert not train_groups & val_groups
    assert len({cls for cls, _ in val_groups}) == 2  # spread over classes
    assert all(v.frames.shape == (8, 16, 20, 3) for v in train + val + test)
    assert test[0].name == "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi"
    every_tenth = load_split(cfg, "test", min_frames=5, every=10)
    assert [v.name for v in every_tenth] == [test[0].name, test[10].name, test[20].name]


def test_training_and_test_lists_sharing_a_group_are_named(tmp_path, tiny_ucf101, caplog):
    import shutil

    from vidpred.data import datasets

    root = tmp_path / "ucf"
    shutil.copytree(tiny_ucf101, root)
    lists = root / "ucfTrainTestlist"
    cfg = DataConfig(source="ucf101", root=str(root), cache_dir=str(tmp_path / "cache"), n_val_videos=2,
                     max_frames_per_video=8)
    with caplog.at_level("WARNING"):  # the official layout: nothing to say
        datasets.select_videos(cfg, "train")
    assert "share" not in caplog.text
    test_entry = (lists / "testlist01.txt").read_text().split()[1]  # the 2nd clip of ApplyEyeMakeup g01
    with open(lists / "trainlist01.txt", "a") as f:
        f.write(f"{test_entry} 1\r\n")
    datasets._warned_lists.clear()
    with caplog.at_level("WARNING"):
        datasets.select_videos(cfg, "train")
        datasets.select_videos(cfg, "val")  # said once
    assert caplog.text.count("trainlist01 and testlist01 share 1 group(s) (applyeyemakeup g01)") == 1


def test_ucf101_holdout_never_splits_a_group(tiny_ucf101):
    paths = ucf101_split(tiny_ucf101, 1, "train")
    train, val = ucf101_holdout(paths, 5)
    assert len(val) == 5
    assert not {ucf101_group(p) for p in train} & {ucf101_group(p) for p in val}
    assert ucf101_holdout(paths, 5) == (train, val)
    assert [p.name for p in val] == ["v_ApplyEyeMakeup_g08_c02.avi", "v_ApplyEyeMakeup_g10_c02.avi",
                                     "v_Basketball_g09_c02.avi", "v_HandstandPushups_g09_c02.avi",
                                     "v_HandstandPushups_g10_c02.avi"]  # fixed, as the folder's draw
    assert train == [p for p in paths if p in set(train)]  # list order kept
    with pytest.raises(ValueError, match="only 9"):
        ucf101_holdout(paths, 10)
    with pytest.raises(ValueError, match="holding out 9 groups leaves no UCF101 training videos"):
        ucf101_holdout(paths, 9)  # every group held out


def test_select_videos_is_the_split_load_split_decodes(tmp_path, video_folder):
    from vidpred.data.datasets import select_videos

    cfg = DataConfig(source="folder", root=str(video_folder), cache_dir=str(tmp_path / "cache"), n_val_videos=1)
    names = {subset: [item.name for item in select_videos(cfg, subset).items] for subset in ("train", "val", "test", "all")}
    assert names["val"] == names["test"] == [v.name for v in load_split(cfg, "val", min_frames=5)]
    assert sorted(names["train"] + names["val"]) == names["all"] == ["a.avi", "b.mp4", "frames_d", "sub/c.avi"]
    assert "held-out" in select_videos(cfg, "test").description
    named = DataConfig(source="folder", root=str(video_folder), val_videos=["sub/c.avi"], cache_dir=str(tmp_path))
    assert [item.name for item in select_videos(named, "test").items] == ["sub/c.avi"]
    for spelled in ("./sub/c.avi", str(video_folder / "sub" / "c.avi"), str(video_folder / "sub" / ".." / "sub" / "c.avi")):
        named = DataConfig(source="folder", root=str(video_folder), val_videos=[spelled], cache_dir=str(tmp_path))
        assert [item.name for item in select_videos(named, "test").items] == ["sub/c.avi"], spelled
    elsewhere = DataConfig(source="folder", root=str(video_folder), val_videos=[str(tmp_path / "c.avi")],
                           cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r"no video named .*c.avi under .* \(give each as its path under data.root"):
        select_videos(elsewhere, "test")
    with pytest.raises(ValueError, match="'all' subset"):
        select_videos(DataConfig(cache_dir=str(tmp_path)), "all")  # procedural data has no "all"


def test_subset_files_names_a_folder_s_files_and_no_procedural_ones(tmp_path, video_folder):
    from vidpred.data.datasets import subset_files

    cfg = DataConfig(source="folder", root=str(video_folder), cache_dir=str(tmp_path), val_videos=["b.mp4"])
    assert subset_files(cfg, "val") == [("b.mp4", video_folder / "b.mp4")]
    assert subset_files(cfg, "train") == [("a.avi", video_folder / "a.avi"), ("frames_d", video_folder / "frames_d"),
                                          ("sub/c.avi", video_folder / "sub" / "c.avi")]
    assert subset_files(_procedural_cfg(tmp_path), "train") == []  # generated from seeds: no files


def test_ucf101_has_no_all_subset(tmp_path, tiny_ucf101):
    from vidpred.data.datasets import select_videos

    cfg = DataConfig(source="ucf101", root=str(tiny_ucf101), cache_dir=str(tmp_path), n_val_videos=2)
    with pytest.raises(ValueError, match="the 'all' subset applies to folder, samples and corpus data, not 'ucf101'"):
        select_videos(cfg, "all")


def test_synthetic_items_carry_every_synthetic_setting(tmp_path):
    from vidpred.config import SyntheticConfig
    from vidpred.data.datasets import synthetic_items
    from vidpred.data.synthetic import generate_synthetic_video

    settings = dict(n_frames=3, height=16, width=20, max_speed=3.0, still_fraction=0.5, max_layers=1, max_zoom=0.02,
                    max_rotation=2.0, max_shake=0.5, max_noise=2.0, jpeg_fraction=0.25, max_wander=0.75)
    cfg = DataConfig(cache_dir=str(tmp_path), synthetic=SyntheticConfig(n_videos=2, seed=3, **settings))
    items = synthetic_items(cfg)
    assert [item.name for item in items] == ["synthetic/3000000", "synthetic/3000001"]  # seeds 3 * 10^6 + i
    assert json.loads(items[1].settings) == settings
    np.testing.assert_array_equal(items[1].decode(), generate_synthetic_video(3_000_001, **settings))



def test_a_name_in_val_videos_is_one_video_its_path_before_its_file_name(tmp_path):
    from vidpred.data.datasets import named_holdout

    root = tmp_path / "videos"
    paths = [root / "clip.avi", root / "a" / "clip.avi", root / "b" / "take.avi", root / "c" / "take.avi"]
    train, val = named_holdout(paths, root, ["clip.avi"])  # the path under root, not every clip.avi below it
    assert val == [root / "clip.avi"] and root / "a" / "clip.avi" in train
    assert named_holdout(paths, root, ["a/clip.avi"])[1] == [root / "a" / "clip.avi"]
    with pytest.raises(ValueError, match=r"data.val_videos: take.avi names 2 videos under .*videos \(b/take.avi, "
                                         r"c/take.avi\): give its path under data.root"):
        named_holdout(paths, root, ["take.avi"])
    assert named_holdout(paths, root, ["c/take.avi"])[1] == [root / "c" / "take.avi"]
    with pytest.raises(ValueError, match="data.val_videos holds out every video under .*: none is left to train on"):
        named_holdout(paths, root, ["clip.avi", "a/clip.avi", "b/take.avi", "c/take.avi"])

def test_a_name_in_val_videos_finds_its_video_stored_decomposed(tmp_path):
    # macOS may store "été" as e + combining accent (NFD); the name typed is composed (NFC)
    import unicodedata

    from vidpred.data.datasets import named_holdout

    root = tmp_path / "videos"
    stored = root / "clips" / unicodedata.normalize("NFD", "été.mp4")
    paths = [root / "a.mp4", stored]
    for name in ("été.mp4", "clips/été.mp4"):
        assert unicodedata.is_normalized("NFC", name)
        assert named_holdout(paths, root, [name]) == ([root / "a.mp4"], [stored])


def test_a_name_in_val_videos_in_other_capitals_finds_its_video_after_an_exact_one(tmp_path):
    # Windows and macOS open "Clip.MP4" as "clip.mp4"; a name spelled exactly still comes first
    from vidpred.data.datasets import named_holdout

    root = tmp_path / "videos"
    paths = [root / "Bikes.MP4", root / "cars.mp4", root / "sub" / "Take.avi", root / "a.mp4", root / "A.mp4"]
    assert named_holdout(paths, root, ["bikes.mp4"])[1] == [root / "Bikes.MP4"]
    assert named_holdout(paths, root, ["SUB/take.AVI"])[1] == [root / "sub" / "Take.avi"]
    assert named_holdout(paths, root, ["A.mp4"])[1] == [root / "A.mp4"]  # both there: the exact one
    with pytest.raises(ValueError, match=r"data.val_videos: no video named bike.mp4 under"):
        named_holdout(paths, root, ["bike.mp4"])


def test_an_unusable_video_drawn_into_a_subset_is_named_with_the_way_out(tmp_path, make_video, moving_frames,
                                                                          caplog):
    root = tmp_path / "videos"
    names = [f"v{i}.avi" for i in range(4)]
    _, (held,) = folder_holdout([root / n for n in names], 1)
    for name in names:  # the held-out video is too short to make a clip
        make_video(root / name, moving_frames(3 if root / name == held else 10, 24, 32, seed=names.index(name)))
    cfg = DataConfig(source="folder", root=str(root), cache_dir=str(tmp_path / "cache"), n_val_videos=1)
    assert len(load_split(cfg, "train", min_frames=6)) == 3
    with pytest.raises(ValueError, match="none of the 1 videos is usable.*name the validation videos with "
                                         "data.val_videos"):
        load_split(cfg, "val", min_frames=6)
    cfg.n_val_videos = 2  # one usable held-out video left: said, with the same way out
    assert len(load_split(cfg, "val", min_frames=6)) == 1
    assert "1 of the 2 held-out videos are unusable, so validation has 1" in caplog.text
    assert "data.val_videos" in caplog.text


def test_videos_cut_by_max_frames_per_video_are_counted_in_one_line(tmp_path, video_folder, caplog):
    """a.avi (10 frames) and sub/c.avi (9) are cut to 8; b.mp4 has exactly 8 and is not."""
    cfg = DataConfig(source="folder", root=str(video_folder), cache_dir=str(tmp_path / "cache"),
                     max_frames_per_video=8)
    for _ in range(2):  # decoded, then from the cache: said both times
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="vidpred.data.datasets"):
            videos = load_split(cfg, "all", min_frames=1)
        assert {v.name: len(v.frames) for v in videos} == {"a.avi": 8, "b.mp4": 8, "frames_d": 7, "sub/c.avi": 8}
        lines = [r.getMessage() for r in caplog.records if "max_frames_per_video" in r.getMessage()]
        assert lines == ["folder all: 2 of 4 videos are longer than data.max_frames_per_video = 8 and were cut to "
                         "their first 8 frames (null reads whole videos): a.avi, sub/c.avi"]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="vidpred.data.datasets"):
        load_split(dataclasses.replace(cfg, max_frames_per_video=None), "all", min_frames=1)
    assert "max_frames_per_video" not in caplog.text


def test_the_log_says_how_a_folder_s_validation_videos_were_chosen(tmp_path, video_folder, caplog):
    cfg = DataConfig(source="folder", root=str(video_folder), cache_dir=str(tmp_path / "cache"), n_val_videos=1)

    def said(cfg, **kwargs) -> str:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="vidpred.data.datasets"):
            (video,) = load_split(cfg, "val", min_frames=1, **kwargs)
        return next(r.getMessage() for r in caplog.records if "held-out videos" in r.getMessage())

    drawn = said(cfg)
    assert "(drawn by data.n_val_videos = 1, a fixed shuffle of the 4 videos found)" in drawn
    assert "data.val_videos" not in drawn
    name = drawn.rsplit(": ", 1)[1]
    # A resumed run pins its recorded hold-out in val_videos; the user still never named them.
    resumed = said(dataclasses.replace(cfg, val_videos=[name]), names=[name])
    assert "(as the run recorded them in split.json when it started)" in resumed and "data.val_videos" not in resumed
    assert "(named in data.val_videos)" in said(dataclasses.replace(cfg, val_videos=["b.mp4"]))


def test_folder_holdout_and_order_are_the_same_on_windows():
    from pathlib import PurePosixPath, PureWindowsPath

    names = ["Walk.mp4", "bikes.mp4", "Cars.avi", "dogs.mp4", "Eagle.mp4", "fish.mp4", "Gulls.mp4", "hands.mp4"]
    posix = folder_holdout([PurePosixPath("videos", n) for n in names], n_val=3)
    windows = folder_holdout([PureWindowsPath("videos", n) for n in names], n_val=3)
    assert [[p.name for p in part] for part in windows] == [[p.name for p in part] for part in posix]


def test_a_file_source_without_its_branch_is_named_not_read_as_ucf101(tmp_path, monkeypatch):
    # A value added to DataSource (hence FILE_SOURCES) before its branch in _file_paths.
    monkeypatch.setattr(datasets, "FILE_SOURCES", (*FILE_SOURCES, "clips"))
    with pytest.raises(ValueError, match="data.source 'clips' has no branch in _file_paths"):
        datasets.select_videos(DataConfig(source="clips", root=str(tmp_path)), "train")

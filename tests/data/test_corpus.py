"""vidpred/data/corpus.py: the real-video corpus's table, its fetched files as data.source: corpus."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from vidpred.config import DataConfig, config_from_dict
from vidpred.data import corpus as corpus_module
from vidpred.data.corpus import CORPUS, corpus_paths
from vidpred.data.datasets import select_videos
from vidpred.data.split_record import describe_split, follow_split
from vidpred.data.errors import DataError
from vidpred.training.trainer import Trainer


def test_table_holds_each_video_once_in_one_split(packages):
    paths = [v.path for v in CORPUS]
    assert len(set(paths)) == len(paths) == 15
    assert {v.split for v in CORPUS} == {"train", "val", "test"}
    assert sorted(v.name for v in CORPUS if v.split == "test") == [
        "WolfgangLanger_Pexels.mp4", "carphone_pristine.mp4", "cube", "mire-2", "tree.avi", "vtest"]
    assert sorted(v.name for v in CORPUS if v.split == "val") == ["bikes.mp4", "box.mp4", "cup.mp4", "ellipse-1",
                                                                   "face_noface_webcam"]
    assert sorted(v.name for v in CORPUS if v.split == "train") == ["bigbuckbunny.mp4", "castel", "line", "mbt-cube"]
    # validation and test each hold a still camera and a moving one
    for split in ("val", "test"):
        assert {v.motion for v in CORPUS if v.split == split} >= {"static camera", "moving camera"}
    sources = [(v.package, v.source) for v in CORPUS]
    assert len(set(sources)) == len(sources)  # no source file feeds two videos
    assert all(v.motion in ("static camera", "moving camera", "animation") for v in CORPUS)
    assert all(v.licence for v in CORPUS)
    for video in CORPUS:
        if video.frames is not None and Path(video.source).name in packages.black:
            start, stop = video.frames
            assert not start <= packages.black[Path(video.source).name] < stop


def test_splits_are_disjoint_by_name_and_by_file(packages, tmp_path):
    root = tmp_path / "corpus"
    packages.fetch(root)
    cfg = DataConfig(source="corpus", root=str(root))
    names = {s: [item.name for item in select_videos(cfg, s).items] for s in ("train", "val", "test", "all")}
    assert sorted(names["train"] + names["val"] + names["test"]) == sorted(names["all"])
    assert len(set(names["all"])) == len(names["all"])
    assert all(name.startswith(f"{s}/") for s in ("train", "val", "test") for name in names[s])

    def digests(subset: str) -> set[str]:
        files = []
        for path in corpus_paths(root, subset):
            files += sorted(path.iterdir()) if path.is_dir() else [path]
        return {hashlib.sha1(f.read_bytes()).hexdigest() for f in files}

    train, val, test = digests("train"), digests("val"), digests("test")
    assert not (train & val) and not (train & test) and not (val & test)
    assert {os.path.realpath(p) for p in corpus_paths(root, "test")}.isdisjoint(
        os.path.realpath(p) for p in corpus_paths(root, "train") + corpus_paths(root, "val"))


def test_missing_corpus_names_the_fetch_command(tmp_path):
    cfg = DataConfig(source="corpus", root=str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match=r"no video corpus at .*nowhere: run python scripts/fetch_videos.py"):
        select_videos(cfg, "train")


def test_corpus_root_defaults_to_the_fetch_folder(packages, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    packages.fetch(corpus_module.DEFAULT_CORPUS_ROOT, apt_get="no-such-apt-get")
    selection = select_videos(DataConfig(source="corpus"), "val")
    assert [item.name for item in selection.items] == ["val/bikes.mp4", "val/face_noface_webcam"]
    assert ".cache/vidpred/corpus" in selection.description


def test_a_run_on_the_default_corpus_resumed_from_another_folder_is_told_where_its_corpus_is(
        packages, tmp_path, monkeypatch):
    """The default root is relative: the record says which folder it was, so a resume from
    elsewhere names it rather than asking for a fetch, and follows it once given."""
    monkeypatch.chdir(tmp_path)
    packages.fetch(corpus_module.DEFAULT_CORPUS_ROOT, apt_get="no-such-apt-get")
    record = describe_split(DataConfig(source="corpus"))
    where = (tmp_path / corpus_module.DEFAULT_CORPUS_ROOT).resolve()
    assert record["root"] is None and record["root_resolved"] == str(where)
    assert follow_split(DataConfig(source="corpus"), record)[2] is None
    older = {**record, "root_resolved": None}  # as runs recorded it before the record said where
    assert follow_split(DataConfig(source="corpus"), older)[2] is None
    monkeypatch.chdir(tmp_path / "packages")
    with pytest.raises(DataError, match=rf"^the run recorded its split on data.source 'corpus', root None \({where}\); "
                                        rf".*: resume with --set data.root={where}$"):
        follow_split(DataConfig(source="corpus"), record)
    assert follow_split(DataConfig(source="corpus", root=str(where)), record)[2] is None


def test_a_run_on_the_default_corpus_resumes_from_another_folder_given_its_corpus(
        packages, tmp_path, monkeypatch, tiny_config_data):
    monkeypatch.chdir(tmp_path)
    packages.fetch(corpus_module.DEFAULT_CORPUS_ROOT, apt_get="no-such-apt-get")
    tiny_config_data["data"].update(source="corpus", motion_threshold=0.0)
    run = tmp_path / "run"
    Trainer(config_from_dict(tiny_config_data, ["train.steps=1"]), run).fit()
    monkeypatch.chdir(tmp_path / "packages")
    where = (tmp_path / corpus_module.DEFAULT_CORPUS_ROOT).resolve()
    with pytest.raises(DataError, match=rf"resume with --set data.root={where}$"):
        Trainer(config_from_dict(tiny_config_data, ["train.steps=2"]), run, resume=True)
    resumed = Trainer(config_from_dict(tiny_config_data, ["train.steps=2", f"data.root={where}"]), run, resume=True)
    assert resumed.fit()["step"] == 2


def test_val_videos_do_not_apply_to_the_corpus(tmp_path):
    cfg = DataConfig(source="corpus", root=str(tmp_path), val_videos=["val/bikes.mp4"])
    with pytest.raises(DataError, match="split is fixed"):
        select_videos(cfg, "train")


def test_an_image_added_to_a_frame_folder_is_refused_not_read_as_a_frame(packages, tmp_path):
    root = tmp_path / "corpus"
    packages.fetch(root, apt_get="no-such-apt-get")
    folder = root / "val" / "face_noface_webcam"
    shutil.copyfile(folder / "frame_0005.png", folder / "frame_0005 copy.png")
    (folder / "notes.txt").write_text("not a frame, not read")
    with pytest.raises(DataError, match=r"val/face_noface_webcam holds images that are not its frames "
                                        r"\(frame_0005 copy.png\): move them out of .*face_noface_webcam$"):
        corpus_paths(root, "val")
    assert len(corpus_paths(root, "test")) == 2  # the other splits are untouched
    assert packages.fetch(root, apt_get="no-such-apt-get")  # the fetch leaves the user's file where it is
    assert (folder / "frame_0005 copy.png").is_file()
    (folder / "frame_0005 copy.png").unlink()
    assert [p.name for p in corpus_paths(root, "val")] == ["bikes.mp4", "face_noface_webcam"]


def test_a_manifest_entry_edited_out_of_shape_counts_the_video_as_absent(packages, tmp_path):
    root = tmp_path / "corpus"
    packages.fetch(root, apt_get="no-such-apt-get")
    manifest = json.loads((root / "corpus.json").read_text())
    manifest["videos"]["val/bikes.mp4"]["files"] = [1]  # a list where the file sizes were
    (root / "corpus.json").write_text(json.dumps(manifest))
    assert [p.name for p in corpus_paths(root, "val")] == ["face_noface_webcam"]  # bikes.mp4 left out, with a warning


def test_a_video_cut_short_since_the_fetch_counts_as_absent_and_a_rerun_fetches_it_whole(packages, tmp_path):
    root = tmp_path / "corpus"
    packages.fetch(root, apt_get="no-such-apt-get")
    bikes = root / "val" / "bikes.mp4"
    whole = bikes.read_bytes()
    bikes.write_bytes(whole[: len(whole) // 2])  # a copy cut short (a full disk, an interrupted sync)
    assert [p.name for p in corpus_paths(root, "val")] == ["face_noface_webcam"]  # not trained or scored cut short
    packages.fetch(root, apt_get="no-such-apt-get")
    assert bikes.read_bytes() == whole
    assert [p.name for p in corpus_paths(root, "val")] == ["bikes.mp4", "face_noface_webcam"]


"""vidpred/data/split_record.py: a run's videos by subset, and how a resumed run follows them."""

from __future__ import annotations

import hashlib
import json
import os
import time

import cv2
import pytest

from vidpred.config import DataConfig, ProceduralConfig
from vidpred.data.datasets import folder_holdout, select_videos
from vidpred.data.errors import DataError
from vidpred.data.split_record import describe_split, follow_split, read_split


def _folder(tmp_path, make_video, moving_frames, n: int = 5):
    root = tmp_path / "videos"
    for i in range(n):
        make_video(root / f"v{i}.avi", moving_frames(10, 32, 32, seed=i))
    return root


def _a_video_that_redraws_the_hold_out(root, make_video, moving_frames, n_val: int = 1) -> str:
    """Add videos until a fresh draw of ``n_val`` held-out videos differs from the first one."""
    before = folder_holdout(sorted(root.glob("*.avi")), n_val)[1]
    for i in range(100, 200):
        path = make_video(root / f"new{i}.avi", moving_frames(10, 32, 32, seed=i))
        if folder_holdout(sorted(root.glob("*.avi")), n_val)[1] != before:
            return path.name
    raise AssertionError("no added video changed the draw")


def test_describes_every_subset_by_name_and_size(tmp_path, make_video, moving_frames):
    root = _folder(tmp_path, make_video, moving_frames)
    record = describe_split(DataConfig(source="folder", root=str(root), n_val_videos=2))
    subsets = record["subsets"]
    assert len(subsets["train"]) == 3 and len(subsets["val"]) == 2
    assert [v["name"] for v in subsets["test"]] == [v["name"] for v in subsets["val"]]
    for video in subsets["train"] + subsets["val"]:
        assert video["bytes"] == (root / video["name"]).stat().st_size
    for video in subsets["val"]:
        assert video["sha256"] == hashlib.sha256((root / video["name"]).read_bytes()).hexdigest()
    procedural = describe_split(DataConfig(procedural=ProceduralConfig(n_train_videos=3, n_val_videos=2,
                                                                       n_test_videos=1)))
    assert [len(procedural["subsets"][s]) for s in ("train", "val", "test")] == [3, 2, 1]


def test_a_resumed_folder_run_keeps_its_hold_out_when_a_video_is_added(tmp_path, make_video, moving_frames):
    root = _folder(tmp_path, make_video, moving_frames)
    cfg = DataConfig(source="folder", root=str(root), n_val_videos=1)
    record = describe_split(cfg)
    path = tmp_path / "split.json"
    path.write_text(json.dumps(record))
    added = _a_video_that_redraws_the_hold_out(root, make_video, moving_frames)
    pinned, names, note = follow_split(cfg, read_split(path))
    assert names == {"train": [v["name"] for v in record["subsets"]["train"]], "val": pinned.val_videos}
    assert pinned.val_videos == [v["name"] for v in record["subsets"]["val"]]
    assert note.startswith("data: since the run started, added: ") and f"{added};" in note
    assert "missing: none; changed in size: none" in note
    (root / "v0.avi").unlink()
    with open(root / "v1.avi", "ab") as f:
        f.write(b"\0")
    note = follow_split(cfg, read_split(path))[2]
    assert "missing: v0.avi; changed in size: v1.avi;" in note


def test_a_record_of_another_source_or_a_broken_record_is_refused(tmp_path, make_video, moving_frames):
    root = _folder(tmp_path, make_video, moving_frames)
    record = describe_split(DataConfig(source="folder", root=str(root), n_val_videos=1))
    with pytest.raises(DataError, match="recorded its split on data.source 'folder'"):
        follow_split(DataConfig(source="folder", root=str(tmp_path)), record)
    for val in record["subsets"]["val"]:
        (root / val["name"]).unlink()
    with pytest.raises(DataError, match=f"the run's validation videos {record['subsets']['val'][0]['name']} are "
                                        "missing from"):
        follow_split(DataConfig(source="folder", root=str(root), n_val_videos=1), record)
    (tmp_path / "bad.json").write_text('{"subsets": {"train": []}}')
    with pytest.raises(DataError, match="is not a recorded split"):
        read_split(tmp_path / "bad.json")


def test_named_validation_videos_keep_added_videos_out_of_training_too(tmp_path, make_video, moving_frames):
    root = _folder(tmp_path, make_video, moving_frames)
    cfg = DataConfig(source="folder", root=str(root), val_videos=["v2.avi"])
    record = describe_split(cfg)
    make_video(root / "added.avi", moving_frames(10, 32, 32, seed=9))
    pinned, names, note = follow_split(cfg, record)
    assert pinned.val_videos == ["v2.avi"] and names["train"] == ["v0.avi", "v1.avi", "v3.avi", "v4.avi"]
    assert "added: added.avi;" in note


def test_the_same_folder_however_it_is_spelled_and_no_other(tmp_path, make_video, moving_frames, monkeypatch):
    root = _folder(tmp_path, make_video, moving_frames)
    monkeypatch.chdir(tmp_path)
    record = describe_split(DataConfig(source="folder", root="videos", n_val_videos=1))
    assert record["root_resolved"] == str(root.resolve())
    for spelled in (str(root.resolve()), "./videos/", "videos"):
        assert follow_split(DataConfig(source="folder", root=spelled, n_val_videos=1), record)[0].root == spelled
    # the same text from another folder is another folder: refused, naming the run's
    elsewhere = tmp_path / "runs"
    _folder(elsewhere, make_video, moving_frames)
    monkeypatch.chdir(elsewhere)
    with pytest.raises(DataError, match=rf"root 'videos' \({root.resolve()}\); .*: resume with --set "
                                        rf"data.root={root.resolve()}"):
        follow_split(DataConfig(source="folder", root="videos", n_val_videos=1), record)


def test_a_run_whose_folder_is_gone_says_so(tmp_path, make_video, moving_frames):
    """Moved away, the folder cannot be named by the config any more: the refusal says where
    the videos must be, not to give the path the config already gives."""
    root = _folder(tmp_path, make_video, moving_frames)
    cfg = DataConfig(source="folder", root=str(root), n_val_videos=1)
    record = describe_split(cfg)
    root.rename(tmp_path / "moved")
    with pytest.raises(DataError, match=rf"^the run's videos were in {root.resolve()}, which is gone: .* put them "
                                        rf"back at {root.resolve()}"):
        follow_split(cfg, record)


def test_a_record_that_does_not_say_where_its_root_was_is_followed_by_the_root_s_text(tmp_path, make_video,
                                                                                    moving_frames, monkeypatch):
    root = _folder(tmp_path, make_video, moving_frames)
    monkeypatch.chdir(tmp_path)
    record = describe_split(DataConfig(source="folder", root="videos", n_val_videos=1))
    del record["root_resolved"]  # as a record made before it was written
    assert follow_split(DataConfig(source="folder", root="videos", n_val_videos=1), record)[0].root == "videos"
    with pytest.raises(DataError, match="recorded its split on data.source 'folder', root 'videos'; the config now "
                                        "says 'folder', "):
        follow_split(DataConfig(source="folder", root=str(root), n_val_videos=1), record)  # other text: refused


def test_a_validation_video_changed_since_the_run_started_is_refused(tmp_path, make_video, moving_frames):
    root = _folder(tmp_path, make_video, moving_frames)
    cfg = DataConfig(source="folder", root=str(root), val_videos=["v2.avi"])
    record = describe_split(cfg)
    with open(root / "v0.avi", "ab") as f:  # a training video: trained on as it is now, and said
        f.write(b"\0")
    assert "changed in size: v0.avi;" in follow_split(cfg, record)[2]
    make_video(root / "v2.avi", moving_frames(14, 32, 32, seed=7))  # the validation video replaced
    with pytest.raises(DataError, match="validation videos v2.avi changed since it started"):
        follow_split(cfg, record)


def test_a_validation_video_changed_in_size_is_refused_by_a_record_made_before_content_hashes(
        tmp_path, make_video, moving_frames):
    root = _folder(tmp_path, make_video, moving_frames)
    cfg = DataConfig(source="folder", root=str(root), val_videos=["v2.avi"])
    record = describe_split(cfg)
    for video in record["subsets"]["val"]:  # as runs recorded their validation videos: by name and size only
        del video["sha256"]
    assert follow_split(cfg, record)[2] is None  # unchanged: followed
    with open(root / "v2.avi", "ab") as f:
        f.write(b"\0")
    with pytest.raises(DataError, match="validation videos v2.avi changed since it started"):
        follow_split(cfg, record)


def test_a_validation_folder_of_frames_replaced_by_frames_of_the_same_size_is_refused(tmp_path, make_video,
                                                                                      moving_frames):
    root = _folder(tmp_path, make_video, moving_frames)
    frames = root / "shot"
    frames.mkdir()
    for i, frame in enumerate(moving_frames(10, 32, 32, seed=3)):
        cv2.imwrite(str(frames / f"{i:04d}.ppm"), frame)  # a fixed size for every picture of 32x32
    cfg = DataConfig(source="folder", root=str(root), val_videos=["shot"])
    record = describe_split(cfg)
    for i, frame in enumerate(moving_frames(10, 32, 32, seed=8)):  # extracted again, from another scene
        cv2.imwrite(str(frames / f"{i:04d}.ppm"), frame)
    assert describe_split(cfg)["subsets"]["val"][0]["bytes"] == record["subsets"]["val"][0]["bytes"]
    with pytest.raises(DataError, match="validation videos shot changed since it started"):
        follow_split(cfg, record)



def test_files_beside_a_frame_folder_s_frames_are_not_its_video(tmp_path, make_video, moving_frames):
    """A ``.DS_Store`` a file browser leaves, or notes beside the frames, are not read as
    frames: the record ignores them as the reader does, and a resume goes on."""
    root = _folder(tmp_path, make_video, moving_frames)
    frames = root / "shot"
    frames.mkdir()
    for i, frame in enumerate(moving_frames(10, 32, 32, seed=3)):
        cv2.imwrite(str(frames / f"{i:04d}.png"), frame)
    cfg = DataConfig(source="folder", root=str(root), val_videos=["shot"])
    record = describe_split(cfg)
    (frames / ".DS_Store").write_bytes(b"\0" * 100)
    (frames / "notes.txt").write_text("shot on Tuesday")
    assert describe_split(cfg)["subsets"] == record["subsets"]
    follow_split(cfg, record)  # not refused


def test_a_validation_video_missing_since_the_run_started_is_refused(tmp_path, make_video, moving_frames):
    root = _folder(tmp_path, make_video, moving_frames)
    cfg = DataConfig(source="folder", root=str(root), val_videos=["v1.avi", "v3.avi"])
    record = describe_split(cfg)
    (root / "v3.avi").unlink()  # validating on v1.avi alone would not compare with the scores so far
    with pytest.raises(DataError, match=r"validation videos v3.avi \(of v1.avi, v3.avi\) are missing from .*videos"
                                        r" since it started: .*restore them, or start a new run"):
        follow_split(cfg, record)


def test_a_resumed_run_trains_on_a_video_that_shares_its_file_name_with_a_validation_video(tmp_path, make_video,
                                                                                             moving_frames):
    root = tmp_path / "videos"
    make_video(root / "clip.avi", moving_frames(10, 32, 32, seed=0))
    make_video(root / "a" / "clip.avi", moving_frames(10, 32, 32, seed=1))
    make_video(root / "b.avi", moving_frames(10, 32, 32, seed=2))
    cfg = DataConfig(source="folder", root=str(root), n_val_videos=1)
    record = describe_split(cfg)
    assert [v["name"] for v in record["subsets"]["val"]] == ["clip.avi"]
    pinned, names, _ = follow_split(cfg, record)
    trained = [item.name for item in select_videos(pinned, "train", names=names["train"]).items]
    assert trained == ["a/clip.avi", "b.avi"]
    assert [item.name for item in select_videos(pinned, "val", names=names["val"]).items] == ["clip.avi"]


def test_a_training_video_written_again_at_the_same_size_is_named(tmp_path, make_video, moving_frames):
    root = _folder(tmp_path, make_video, moving_frames)
    cfg = DataConfig(source="folder", root=str(root), val_videos=["v2.avi"])
    record = json.loads(json.dumps(describe_split(cfg)))  # as split.json holds it
    assert follow_split(cfg, record)[2] is None  # nothing written since
    path = root / "v0.avi"
    stat = path.stat()
    time.sleep(0.05)  # past the clock tick of the file system's status-change times
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # another video of the same size, its modification time kept (cp -p)
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    note = follow_split(cfg, record)[2]
    assert "changed in size: none; rewritten or touched at the same size: v0.avi;" in note
    for video in record["subsets"]["train"]:  # a record from before the time was kept: size only
        del video["written_ns"]
    assert follow_split(cfg, record)[2] is None


def test_the_note_names_five_videos_and_counts_the_rest():
    cfg = DataConfig(procedural=ProceduralConfig(n_train_videos=9, n_val_videos=1, n_test_videos=1))
    current = describe_split(cfg)
    train = [v["name"] for v in current["subsets"]["train"]]
    for n_added, listed in ((5, ", ".join(sorted(train[:5]))), (6, ", ".join(sorted(train[:6])[:5]) + " and 1 more")):
        # A record made before the first n_added training videos were there: they read as added.
        recorded = json.loads(json.dumps(current))
        del recorded["subsets"]["train"][:n_added]
        note = follow_split(cfg, recorded)[2]
        assert f"added: {listed}; missing: none;" in note


@pytest.mark.parametrize("video", [{"name": 3, "bytes": 10}, {"bytes": 10}, "a.avi"])
def test_a_record_whose_videos_are_not_named_entries_is_refused(tmp_path, video):
    (tmp_path / "split.json").write_text(json.dumps({"subsets": {"train": [video], "val": [], "test": []}}))
    with pytest.raises(DataError, match="is not a recorded split"):
        read_split(tmp_path / "split.json")


def test_a_resumed_ucf101_run_whose_hold_out_draws_other_clips_is_refused(tiny_ucf101, tmp_path):
    import shutil
    root = tmp_path / "ucf101"
    shutil.copytree(tiny_ucf101, root)
    cfg = DataConfig(source="ucf101", root=str(root), n_val_videos=2, cache_dir=str(tmp_path / "cache"))
    recorded = describe_split(cfg)
    assert follow_split(cfg, recorded)[2] is None
    val = recorded["subsets"]["val"][0]["name"]  # removed with its list line: its group gives another clip
    (root / "UCF-101" / val).unlink()
    lists = root / "ucfTrainTestlist" / "trainlist01.txt"
    lists.write_bytes(b"".join(line for line in lists.read_bytes().splitlines(keepends=True)
                               if val.split("/")[-1].encode() not in line))
    with pytest.raises(DataError, match=f"the run's validation videos {val} are no longer drawn"):
        follow_split(cfg, recorded)


def test_a_ucf101_run_records_no_test_videos_when_the_test_list_cannot_be_read(tiny_ucf101, tmp_path, caplog):
    import shutil
    root = tmp_path / "ucf101"
    shutil.copytree(tiny_ucf101, root)
    (root / "ucfTrainTestlist" / "testlist01.txt").unlink()
    record = describe_split(DataConfig(source="ucf101", root=str(root), n_val_videos=2))
    assert record["subsets"]["test"] == [] and record["subsets"]["train"]
    assert "the run records no test videos (UCF101 split file not found" in caplog.text


def test_procedural_data_recorded_with_a_root_it_never_read_is_followed_without_it(tmp_path):
    # A run started before data.root was refused for procedural data recorded the root it was given.
    small = ProceduralConfig(n_train_videos=2, n_val_videos=1, n_test_videos=1, n_frames=6, height=16, width=16)
    recorded = describe_split(DataConfig(source="procedural", root=str(tmp_path / "videos"), procedural=small))
    cfg, names, note = follow_split(DataConfig(source="procedural", procedural=small), recorded)
    assert cfg.root is None and names is None and note is None


def test_synthetic_photos_from_a_held_out_video_s_frames_are_refused(tmp_path, make_video, moving_frames):
    root = _folder(tmp_path, make_video, moving_frames, n=3)
    frames = root / "frames_v"  # a video held out as a folder of frames
    frames.mkdir()
    for i, frame in enumerate(moving_frames(10, 32, 32, seed=9)):
        cv2.imwrite(str(frames / f"{i}.png"), frame)
    cfg = DataConfig(source="folder", root=str(root), val_videos=["frames_v"], synthetic_weight=0.5)
    cfg.synthetic.n_videos, cfg.synthetic.photo_dir = 2, str(frames)
    with pytest.raises(DataError, match=f"data.synthetic.photo_dir {frames} holds the frames of the val video "
                                        "frames_v: the synthetic training videos would be made of held-out footage"):
        describe_split(cfg)
    cfg.val_videos = ["v0.avi"]  # a training video's frames may be the photos
    assert [v["name"] for v in describe_split(cfg)["subsets"]["val"]] == ["v0.avi"]

from __future__ import annotations

import logging
import os
import shutil

import cv2
import numpy as np
import pytest
from PIL import Image

from vidpred.config import DataConfig
from vidpred.data.datasets import load_split, select_videos
from vidpred.data.folder import SameVideoTwiceError, list_folder_videos


def test_lists_files_and_frame_folders_sorted(video_folder):
    assert [p.relative_to(video_folder).as_posix() for p in list_folder_videos(video_folder)] == [
        "a.avi", "b.mp4", "frames_d", "sub/c.avi"]


def test_a_symlinked_video_is_refused_naming_both_names(video_folder, tmp_path):
    os.symlink(video_folder / "a.avi", video_folder / "a_again.avi")
    with pytest.raises(SameVideoTwiceError, match=r"^1 video\(s\) under .* more than one name .*: a.avi = "
                                                   r"a_again.avi; .*remove all but one name of each$"):
        list_folder_videos(video_folder)
    # Named in data.val_videos, the link is refused all the same: no name quietly vanishes.
    cfg = DataConfig(source="folder", root=str(video_folder), cache_dir=str(tmp_path / "cache"),
                     val_videos=["a_again.avi"])
    with pytest.raises(SameVideoTwiceError, match="a.avi = a_again.avi"):
        select_videos(cfg, "val")


def test_a_hard_linked_video_is_refused(video_folder):
    os.link(video_folder / "sub" / "c.avi", video_folder / "c_copy.avi")
    with pytest.raises(SameVideoTwiceError, match="c_copy.avi = sub/c.avi"):
        list_folder_videos(video_folder)


def test_a_frame_folder_linked_or_hard_linked_twice_is_refused(video_folder, tmp_path):
    os.symlink(video_folder / "frames_d", video_folder / "frames_link", target_is_directory=True)
    with pytest.raises(SameVideoTwiceError, match="frames_d = frames_link"):
        list_folder_videos(video_folder)
    (video_folder / "frames_link").unlink()
    shutil.copytree(video_folder / "frames_d", video_folder / "frames_e", copy_function=os.link)  # cp -al
    with pytest.raises(SameVideoTwiceError, match="frames_d = frames_e"):
        list_folder_videos(video_folder)


def test_five_videos_under_two_names_are_all_named_and_more_are_counted(tmp_path):
    root = tmp_path / "videos"
    root.mkdir()
    for i in range(6):
        (root / f"a{i}.avi").write_bytes(f"video {i}".encode())  # never decoded: listing goes by file identity
    for i in range(5):
        os.symlink(root / f"a{i}.avi", root / f"b{i}.avi")
    pairs = "; ".join(f"a{i}.avi = b{i}.avi" for i in range(5))
    with pytest.raises(SameVideoTwiceError, match=f"^5 video\\(s\\) .*: {pairs}; each would count"):
        list_folder_videos(root)
    os.symlink(root / "a5.avi", root / "b5.avi")
    with pytest.raises(SameVideoTwiceError, match=f"^6 video\\(s\\) .*: {pairs} and 1 more; each would count"):
        list_folder_videos(root)


def test_a_copy_is_refused_as_a_link_is_and_a_link_loop_is_walked_once(video_folder):
    os.symlink(video_folder, video_folder / "sub" / "up", target_is_directory=True)  # a loop, walked once
    names = [p.relative_to(video_folder).as_posix() for p in list_folder_videos(video_folder)]
    assert names == ["a.avi", "b.mp4", "frames_d", "sub/c.avi"]
    shutil.copy2(video_folder / "a.avi", video_folder / "a_copy.avi")  # the same bytes under another name
    shutil.copytree(video_folder / "frames_d", video_folder / "sub" / "frames_e")  # a frame folder's copy too
    with pytest.raises(SameVideoTwiceError, match=r"^2 video\(s\) .*\(a symbolic or hard link, or a copy\): "
                                                  r"a.avi = a_copy.avi; frames_d = sub/frames_e; each would count"):
        list_folder_videos(video_folder)


def test_videos_of_one_size_are_told_apart_by_their_bytes(tmp_path):
    for name, content in (("a.avi", b"video one"), ("b.avi", b"video two"), ("c.avi", b"another")):
        (tmp_path / name).write_bytes(content)  # a and b: the same size, not the same video
    assert [p.name for p in list_folder_videos(tmp_path)] == ["a.avi", "b.avi", "c.avi"]


def test_skipped_files_are_logged_once_per_process(video_folder, tmp_path, caplog):
    (video_folder / "readme.md").write_text("not a video")
    cfg = DataConfig(source="folder", root=str(video_folder), cache_dir=str(tmp_path / "cache"), n_val_videos=1)
    with caplog.at_level(logging.INFO, logger="vidpred.data.folder"):
        for subset in ("train", "val", "test", "all", "val"):
            select_videos(cfg, subset)
    lines = [r.getMessage() for r in caplog.records if "are not videos" in r.getMessage()]
    assert lines == [f"2 file(s) under {video_folder} are not videos and were skipped: notes.txt, readme.md"]
    (video_folder / "more.txt").write_text("another")  # a new listing is said again
    with caplog.at_level(logging.INFO, logger="vidpred.data.folder"):
        list_folder_videos(video_folder)
    assert "3 file(s)" in caplog.text


def test_a_folder_of_videos_only_logs_no_skipped_files(tmp_path, make_video, moving_frames, caplog):
    root = tmp_path / "clean"
    make_video(root / "a.avi", moving_frames(3, 16, 16))
    with caplog.at_level(logging.INFO, logger="vidpred.data.folder"):
        assert list_folder_videos(root) == [root / "a.avi"]
    assert not caplog.records


def test_a_camcorder_s_files_are_videos(tmp_path, caplog):
    # AVCHD (.MTS, .m2ts), MXF and DV, which OpenCV's FFmpeg decodes, had been skipped as "not videos"
    names = ["00001.MTS", "00002.m2ts", "C0001.MXF", "tape.dv"]
    for name in names:
        (tmp_path / name).write_bytes(f"{name}: listed by name; decoded when loaded".encode())
    with caplog.at_level(logging.INFO, logger="vidpred.data.folder"):
        assert list_folder_videos(tmp_path) == [tmp_path / name for name in names]
    assert "not videos" not in caplog.text


def test_an_animated_gif_is_a_video(video_folder, tmp_path, moving_frames):
    frames = moving_frames(6, 32, 48, seed=7)
    images = [Image.fromarray(f).quantize(256, dither=Image.Dither.NONE).convert("RGB") for f in frames]
    images[0].save(video_folder / "anim.gif", save_all=True, append_images=images[1:], loop=0, duration=40)
    assert video_folder / "anim.gif" in list_folder_videos(video_folder)
    cfg = DataConfig(source="folder", root=str(video_folder), cache_dir=str(tmp_path / "cache"),
                     val_videos=["anim.gif"])
    (video,) = load_split(cfg, "val", min_frames=6)
    assert video.name == "anim.gif" and video.frames.shape == (6, 32, 48, 3)
    np.testing.assert_array_equal(video.frames, np.stack([np.asarray(im) for im in images]))


def test_frame_images_beside_a_folder_are_named_in_a_warning_not_listed_as_not_videos(video_folder, tmp_path,
                                                                                        caplog):
    (video_folder / "frames_d" / "thumbnails").mkdir()
    shutil.copy(video_folder / "frames_d" / "0.png", video_folder / "frames_d" / "thumbnails" / "0.png")
    with caplog.at_level(logging.INFO, logger="vidpred.data.folder"):
        found = list_folder_videos(video_folder)
    assert video_folder / "frames_d" not in found
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"1 folder(s) under {video_folder} hold frame images beside folders or videos of their own, "
                        "so those images are not read as a video: frames_d (7 images); give the frames a folder of "
                        "their own to use them"]
    assert "frames_d/0.png" not in caplog.text


def test_a_picture_beside_video_files_is_no_video_of_one_frame(tmp_path, make_video, moving_frames, caplog):
    """A cover picture beside the clips would be a 1-frame "video" named "." that a hold-out
    could draw into validation."""
    root = tmp_path / "clips"
    for seed, name in enumerate(("a.avi", "b.avi")):
        make_video(root / name, moving_frames(8, 32, 40, seed=seed))
    cv2.imwrite(str(root / "cover.jpg"), moving_frames(1, 32, 40)[0])
    with caplog.at_level(logging.INFO, logger="vidpred.data.folder"):
        found = list_folder_videos(root)
    assert found == [root / "a.avi", root / "b.avi"]
    assert f"under {root} hold frame images beside folders or videos of their own" in caplog.text and ". (1 images)" \
        in caplog.text


def test_a_folder_holding_a_video_whose_name_is_not_utf8_trains_on_the_others(video_folder, tmp_path, caplog):
    try:
        (video_folder / "a.avi").rename(video_folder / os.fsdecode(b"caf\xe9.avi"))
    except OSError:
        pytest.skip("this file system takes only UTF-8 names")
    cfg = DataConfig(source="folder", root=str(video_folder), cache_dir=str(tmp_path / "cache"), val_videos=["b.mp4"])
    with caplog.at_level(logging.WARNING):
        videos = load_split(cfg, "train", min_frames=5)
    assert [v.name for v in videos] == ["frames_d", "sub/c.avi"]
    assert "its name is not valid UTF-8" in caplog.text


def test_empty_files_are_no_copies_of_each_other(video_folder):
    for name in ("empty1.avi", "empty2.avi"):  # interrupted downloads: the decode skips them as unreadable
        (video_folder / name).write_bytes(b"")
    names = [p.relative_to(video_folder).as_posix() for p in list_folder_videos(video_folder)]
    assert names == ["a.avi", "b.mp4", "empty1.avi", "empty2.avi", "frames_d", "sub/c.avi"]


def test_videos_of_one_size_are_read_once_however_often_the_folder_is_listed(tmp_path, monkeypatch):
    import hashlib
    from types import SimpleNamespace

    import vidpred._hashing as hashing

    reads = []
    monkeypatch.setattr(hashing, "hashlib", SimpleNamespace(sha256=lambda: reads.append(1) or hashlib.sha256()))
    for name, content in (("a.avi", b"video one"), ("b.avi", b"video two")):
        (tmp_path / name).write_bytes(content)
    for _ in range(3):
        assert len(list_folder_videos(tmp_path)) == 2
    assert len(reads) == 2
    (tmp_path / "b.avi").write_bytes(b"video one")  # changed since: read again, and now a copy
    with pytest.raises(SameVideoTwiceError, match="a.avi = b.avi"):
        list_folder_videos(tmp_path)

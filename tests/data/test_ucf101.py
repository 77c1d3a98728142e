from __future__ import annotations

import shutil

import pytest

from vidpred.data.errors import DataError
from vidpred.data.ucf101 import every_nth, ucf101_group, ucf101_split


def _listed(root, name):
    text = (root / "ucfTrainTestlist" / name).read_bytes().decode()
    assert "\r\n" in text  # the fixture mimics the official CRLF files
    return [line.split()[0] for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("subset, list_name, count", [("train", "trainlist01.txt", 18), ("test", "testlist01.txt", 24)])
def test_lists_resolve_to_existing_files_in_file_order(tiny_ucf101, subset, list_name, count):
    paths = ucf101_split(tiny_ucf101, 1, subset)
    assert len(paths) == count
    assert all(p.is_file() for p in paths)
    relative = [p.relative_to(tiny_ucf101 / "UCF-101").as_posix().lower() for p in paths]
    assert relative == [entry.lower() for entry in _listed(tiny_ucf101, list_name)]


def test_handstand_pushups_case_is_fixed(tiny_ucf101):
    paths = ucf101_split(tiny_ucf101, 1, "test")
    handstand = [p for p in paths if "handstand" in p.name.lower()]
    assert len(handstand) == 8
    # The lists say HandStandPushups; the paths returned are spelled as on disk.
    assert all(p.parent.name == "HandstandPushups" and p.name.startswith("v_HandstandPushups_") for p in handstand)


def test_root_may_be_the_video_folder(tiny_ucf101):
    assert ucf101_split(tiny_ucf101 / "UCF-101", 1, "train") == ucf101_split(tiny_ucf101, 1, "train")


def test_root_may_be_the_video_folder_as_the_current_folder(tiny_ucf101, monkeypatch):
    expected = [p.resolve() for p in ucf101_split(tiny_ucf101, 1, "test")]
    monkeypatch.chdir(tiny_ucf101 / "UCF-101")
    assert [p.resolve() for p in ucf101_split(".", 1, "test")] == expected


def test_the_split_folder_given_as_the_root_is_named_as_such(tiny_ucf101):
    with pytest.raises(FileNotFoundError, match="is UCF101's split folder \\(ucfTrainTestlist\\): give the folder that "
                                                "holds it and UCF-101/"):
        ucf101_split(tiny_ucf101 / "ucfTrainTestlist", 1, "test")


def test_a_list_saved_with_a_byte_order_mark_is_read(tiny_ucf101, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(tiny_ucf101, root)
    for name in ("trainlist01.txt", "testlist01.txt"):
        path = root / "ucfTrainTestlist" / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # as Windows' Notepad saves UTF-8
    assert [p.relative_to(root) for p in ucf101_split(root, 1, "test")] == \
        [p.relative_to(tiny_ucf101) for p in ucf101_split(tiny_ucf101, 1, "test")]


def test_every_nth_takes_every_tenth(tiny_ucf101):
    paths = ucf101_split(tiny_ucf101, 1, "test")
    assert every_nth(paths) == [paths[0], paths[10], paths[20]]
    assert every_nth(list(range(3783))) == list(range(0, 3783, 10))  # testlist01's size -> 379 videos
    assert every_nth(list(range(5)), 1) == list(range(5))
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        every_nth([1, 2], 0)


def test_missing_split_file_is_named(tiny_ucf101):
    with pytest.raises(FileNotFoundError, match="trainlist02.txt"):
        ucf101_split(tiny_ucf101, 2, "train")


def test_missing_root_and_video_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        ucf101_split(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="UCF-101"):
        ucf101_split(tmp_path)


def test_missing_listed_video_is_named(tiny_ucf101, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(tiny_ucf101, root)
    (root / "UCF-101" / "Basketball" / "v_Basketball_g09_c02.avi").unlink()
    with pytest.raises(FileNotFoundError, match="v_Basketball_g09_c02.avi"):
        ucf101_split(root, 1, "train")


@pytest.mark.parametrize("split, subset, message", [(0, "train", "split must be 1, 2 or 3, got 0"),
                                                    (4, "train", "split must be 1, 2 or 3, got 4"),
                                                    (1, "val", "subset must be one of .*, got 'val'")])
def test_bad_split_or_subset(tiny_ucf101, split, subset, message):
    with pytest.raises(ValueError, match=message):
        ucf101_split(tiny_ucf101, split, subset)


def test_group_of_a_clip_name():
    assert ucf101_group("UCF-101/HandstandPushups/v_HandStandPushups_g08_c03.avi") == ("handstandpushups", 8)
    with pytest.raises(ValueError, match=r"not a UCF101 clip name \(v_<Class>_gXX_cYY\): clip.avi"):
        ucf101_group("clip.avi")


def test_a_list_saved_as_utf16_is_read_and_an_undecodable_one_is_named(tiny_ucf101, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(tiny_ucf101, root)
    path = root / "ucfTrainTestlist" / "testlist01.txt"
    path.write_bytes(path.read_bytes().decode().encode("utf-16"))  # as Windows PowerShell's ">" writes it
    assert [p.relative_to(root) for p in ucf101_split(root, 1, "test")] == \
        [p.relative_to(tiny_ucf101) for p in ucf101_split(tiny_ucf101, 1, "test")]
    path.write_bytes(b"Basketball/v_\xe9.avi\r\n")
    with pytest.raises(DataError, match=f"UCF101 split file {path} is not UTF-8 text"):
        ucf101_split(root, 1, "test")


def test_a_tree_one_folder_deeper_is_named_and_lists_inside_the_video_folder_are_read(tiny_ucf101, tmp_path):
    shutil.copytree(tiny_ucf101, tmp_path / "outer" / "UCF101")
    with pytest.raises(FileNotFoundError, match="UCF101/UCF-101 is one folder deeper: give .*outer/UCF101$"):
        ucf101_split(tmp_path / "outer", 1, "test")
    inside = tmp_path / "inside"
    shutil.copytree(tiny_ucf101 / "UCF-101", inside / "UCF-101")
    shutil.copytree(tiny_ucf101 / "ucfTrainTestlist", inside / "UCF-101" / "ucfTrainTestlist")
    for root in (inside, inside / "UCF-101"):
        assert len(ucf101_split(root, 1, "test")) == len(ucf101_split(tiny_ucf101, 1, "test"))
    misnamed = tmp_path / "misnamed"  # the lists beside a video folder of another name: that name is what is wrong
    shutil.copytree(tiny_ucf101 / "UCF-101", misnamed / "UCF101")
    shutil.copytree(tiny_ucf101 / "ucfTrainTestlist", misnamed / "ucfTrainTestlist")
    with pytest.raises(FileNotFoundError, match=f"UCF101 videos not found: expected {misnamed / 'UCF-101'}"):
        ucf101_split(misnamed, 1, "test")

"""UCF101's official train/test splits, resolved to video files on disk.

Expected layout (as the official archives extract)::

    <root>/UCF-101/<Class>/v_<Class>_gXX_cYY.avi
    <root>/ucfTrainTestlist/{classInd,trainlist0N,testlist0N}.txt

The official list files use CRLF line endings and spell a few names with a different case
than the folders (``HandStandPushups`` in the lists, ``HandstandPushups`` on disk), so
names are matched case-insensitively.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Sequence, TypeVar

from vidpred.data.errors import DataError

__all__ = ["listed_groups", "ucf101_split", "every_nth", "ucf101_group"]

VIDEO_DIR = "UCF-101"
LIST_DIR = "ucfTrainTestlist"
_SUBSET_FILES = {"train": "trainlist", "test": "testlist"}
_GROUP_RE = re.compile(r"^v_(?P<cls>.+)_g(?P<group>\d+)_c(?P<clip>\d+)$", re.IGNORECASE)

T = TypeVar("T")


def _locate(root: Path) -> tuple[Path, Path]:
    """Return ``(video_dir, list_dir)`` for ``root`` = dataset root or its ``UCF-101`` folder."""
    if not root.is_dir():
        raise FileNotFoundError(f"UCF101 root not found: {root}")
    parent = root.absolute().parent  # "." has a parent too
    if (root / VIDEO_DIR).is_dir():
        video_dir, list_dir = root / VIDEO_DIR, root / LIST_DIR
    elif root.absolute().name == LIST_DIR:
        raise FileNotFoundError(f"{root} is UCF101's split folder ({LIST_DIR}): give the folder that holds it and "
                                f"{VIDEO_DIR}/")
    elif (parent / LIST_DIR).is_dir():
        video_dir, list_dir = root, parent / LIST_DIR
    elif (root / LIST_DIR).is_dir() and any(root.glob("*/v_*")):  # the split archive extracted into the video folder
        video_dir, list_dir = root, root / LIST_DIR
    else:
        deeper = sorted(p.parent for p in root.glob(f"*/{VIDEO_DIR}") if p.is_dir())
        raise FileNotFoundError(
            f"UCF101 videos not found: expected {root / VIDEO_DIR} (or pass that folder itself "
            f"with {LIST_DIR}/ beside it)" + (f"; {deeper[0] / VIDEO_DIR} is one folder deeper: give "
                                             f"{deeper[0]}" if deeper else ""))
    if not list_dir.is_dir() and (video_dir / LIST_DIR).is_dir():
        list_dir = video_dir / LIST_DIR  # the split archive extracted into the video folder
    if not list_dir.is_dir():
        raise FileNotFoundError(
            f"UCF101 split folder not found: {list_dir} (from UCF101TrainTestSplits-RecognitionTask.zip)")
    return video_dir, list_dir


class _CaseInsensitiveTree:
    """Maps ``Class/file`` names to real paths, ignoring case; lists each folder once."""

    def __init__(self, video_dir: Path) -> None:
        self.video_dir = video_dir
        self._classes = {p.name.lower(): p for p in video_dir.iterdir() if p.is_dir()}
        self._files: dict[str, dict[str, Path]] = {}

    def resolve(self, relative: str) -> Path | None:
        """The file a list line's ``Class/file`` names, with the case it has on disk; None if absent."""
        parts = relative.replace("\\", "/").strip("/").split("/")
        if len(parts) != 2:
            return None
        class_dir = self._classes.get(parts[0].lower())
        if class_dir is None:
            return None
        key = parts[0].lower()
        if key not in self._files:
            self._files[key] = {name.lower(): class_dir / name for name in os.listdir(class_dir)}
        return self._files[key].get(parts[1].lower())


def _list_lines(list_file: Path) -> list[str]:
    """The lines of a split list: UTF-8 (with or without the byte-order mark Notepad writes)
    or UTF-16 with its mark (what Windows PowerShell's ``>`` writes); CRLF or LF.

    Raises: DataError naming the file when it is neither.
    """
    data = list_file.read_bytes()
    try:
        text = data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"UCF101 split file {list_file} is not UTF-8 text ({exc.reason} at byte {exc.start}): "
                        "save it as UTF-8") from None
    return text.splitlines()


def ucf101_split(root: str | Path, split: int = 1, subset: str = "train") -> list[Path]:
    """Videos of UCF101's official ``split`` (1..3) and ``subset`` ("train" | "test").

    Args:
        root: folder holding ``UCF-101/`` and ``ucfTrainTestlist/``, or the ``UCF-101``
            folder itself when ``ucfTrainTestlist/`` sits beside it.
        split: 1, 2 or 3 (``trainlist0N.txt`` / ``testlist0N.txt``).
        subset: "train" or "test".

    Returns:
        existing video paths (with the case they have on disk), in list-file order.

    Raises:
        ValueError: ``split`` not in 1..3 or an unknown ``subset``.
        FileNotFoundError: the root, the video folder, the split file, or listed videos are
            missing; the message names what is missing.
    """
    if split not in (1, 2, 3):
        raise ValueError(f"UCF101 split must be 1, 2 or 3, got {split!r}")
    if subset not in _SUBSET_FILES:
        raise ValueError(f"UCF101 subset must be one of {tuple(_SUBSET_FILES)}, got {subset!r}")
    video_dir, list_dir = _locate(Path(root))
    list_file = list_dir / f"{_SUBSET_FILES[subset]}0{split}.txt"
    if not list_file.is_file():
        raise FileNotFoundError(f"UCF101 split file not found: {list_file}")
    tree = _CaseInsensitiveTree(video_dir)
    paths: list[Path] = []
    missing: list[str] = []
    for line in _list_lines(list_file):  # split() also drops the trainlists' class label column
        fields = line.split()
        if not fields:
            continue
        path = tree.resolve(fields[0])
        if path is None:
            missing.append(fields[0])
        else:
            paths.append(path)
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise FileNotFoundError(
            f"{len(missing)} of the {len(missing) + len(paths)} videos listed in {list_file} are missing "
            f"under {video_dir}: {shown}")
    return paths


def ucf101_group(path: str | Path) -> tuple[str, int]:
    """``(class, group)`` of ``v_<Class>_gXX_cYY.avi``, class lower-cased.

    Clips of one group are cut from the same long video, so they must stay on one side of
    any train/validation split. Raises ValueError for a name not in that pattern.
    """
    match = _GROUP_RE.match(Path(path).stem)
    if match is None:
        raise ValueError(f"not a UCF101 clip name (v_<Class>_gXX_cYY): {Path(path).name}")
    return match["cls"].lower(), int(match["group"])


def listed_groups(root: str | Path, split: int, subset: str) -> set[tuple[str, int]]:
    """The ``(class, group)`` of every clip a split list names, read from the list alone (no
    video looked up); empty when the list is missing. Names not of UCF101's pattern are left out."""
    _, list_dir = _locate(Path(root))
    list_file = list_dir / f"{_SUBSET_FILES[subset]}0{split}.txt"
    if not list_file.is_file():
        return set()
    groups = set()
    for line in _list_lines(list_file):
        fields = line.split()
        try:
            groups.add(ucf101_group(fields[0].replace("\\", "/").rsplit("/", 1)[-1]))
        except (IndexError, ValueError):  # a blank line, or a name of another pattern
            continue
    return groups


def every_nth(paths: Sequence[T], n: int = 10) -> list[T]:
    """Every ``n``-th item, starting with the first: ``list(paths[::n])``, the rule by which
    :func:`~vidpred.data.datasets.select_videos` thins a subset (``every``).

    The paper evaluates on every 10th video of testlist01 (3783 videos -> 379 with this
    rule; the paper reports "378").
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return list(paths[::n])

"""The videos of a folder (``data.source: folder``): what counts as a video, each counted once.

A video is a file with one of ``FOLDER_VIDEO_EXTENSIONS`` or a leaf folder holding frame
images (``IMAGE_EXTENSIONS``); frame images in a folder that also holds folders or video
files are no video (a cover picture beside clips), and a warning names that folder. Hidden
names (starting with ".") are skipped; symbolic links are followed, since datasets are
often linked in.

A video reachable under two names (a symbolic link, a hard link, a folder linked in
twice) would count twice: it could train and validate at once, and evaluation would score
it twice. Such a folder is refused, in one line naming both names, rather than one name
dropped: a name in ``data.val_videos`` must never quietly vanish from the split.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from vidpred._hashing import file_sha256
from vidpred.data.errors import DataError
from vidpred.data.video_io import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, is_frame_image, path_order

__all__ = ["FOLDER_VIDEO_EXTENSIONS", "SameVideoTwiceError", "list_folder_videos"]

logger = logging.getLogger(__name__)

# OpenCV's FFmpeg backend also decodes animated GIFs (read_video reads them like any file).
FOLDER_VIDEO_EXTENSIONS = VIDEO_EXTENSIONS + (".gif",)

# (root, skipped names) already logged by this process: a training start lists a folder
# once per subset and once for its split record, and one line says it.
_reported_skips: set[tuple[str, tuple[str, ...]]] = set()


class SameVideoTwiceError(DataError):
    """One video file (or frame folder) is reachable under two names in a folder."""


def _identity(path: Path, frame_folder: bool) -> tuple:
    """What stays the same under every name of a video: its file's ``(st_dev, st_ino)``; for a
    frame folder, its frame files' (so a linked folder and a hard-linked copy are caught)."""
    if not frame_folder:
        stat = path.stat()
        return (stat.st_dev, stat.st_ino)
    frames = [p for p in path.iterdir() if is_frame_image(p)]
    return tuple(sorted((s.st_dev, s.st_ino) for s in (p.stat() for p in frames)))


def _is_loop(dirpath: Path, real: str, reals: dict[Path, str]) -> bool:
    """Whether ``dirpath`` is a link back to one of the folders it lies in."""
    return any(reals.get(parent) == real for parent in dirpath.parents)


def _walk(root: Path) -> tuple[list[tuple[Path, bool]], list[Path], list[tuple[Path, int]]]:
    """Everything under ``root``, following links but not loops, hidden names skipped.

    Returns:
        ``(path, is a frame folder)`` of each video; the files that are no video; and
        ``(folder, its number of frame images)`` of each folder whose images are no video
        because it also holds folders or video files.
    """
    found: list[tuple[Path, bool]] = []
    skipped: list[Path] = []
    beside_folders: list[tuple[Path, int]] = []
    reals: dict[Path, str] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        here = Path(dirpath)
        real = os.path.realpath(here)
        if _is_loop(here, real, reals):
            dirnames[:] = []
            continue
        reals[here] = real
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        visible = sorted(f for f in filenames if not f.startswith("."))
        videos = [f for f in visible if Path(f).suffix.lower() in FOLDER_VIDEO_EXTENSIONS]
        found.extend((here / f, False) for f in videos)
        images = [f for f in visible if Path(f).suffix.lower() in IMAGE_EXTENSIONS]
        if not dirnames and not videos and images:
            found.append((here, True))
        else:
            if images:
                beside_folders.append((here, len(images)))
            skipped.extend(here / f for f in visible
                           if Path(f).suffix.lower() not in FOLDER_VIDEO_EXTENSIONS + IMAGE_EXTENSIONS)
    return found, skipped, beside_folders


def _refuse_names_of_one_video(root: Path, found: list[tuple[Path, bool]]) -> None:
    """Raise SameVideoTwiceError naming the videos of ``found`` that are one video under two names."""
    names: dict[tuple, list[Path]] = {}
    for path, frame_folder in sorted(found):
        try:
            key = _identity(path, frame_folder)
        except OSError:  # a dangling link: the decode reports it as unreadable
            key = ("unreadable", str(path))
        names.setdefault(key, []).append(path)
    twice = [paths for paths in names.values() if len(paths) > 1]
    twice += _copies([paths[0] for paths in names.values()])
    if twice:
        shown = "; ".join(" = ".join(p.relative_to(root).as_posix() for p in paths) for paths in sorted(twice)[:5])
        more = f" and {len(twice) - 5} more" if len(twice) > 5 else ""
        raise SameVideoTwiceError(
            f"{len(twice)} video(s) under {root} are reachable under more than one name (a symbolic or hard link, "
            "or a copy): "
            f"{shown}{more}; each would count as two videos, in training and validation at once: remove all "
            "but one name of each")


def _content(path: Path, digest: bool) -> tuple:
    """A video's bytes in brief: its size (a frame folder: its number of frames and its first
    and last frame's sizes, a few calls however long it is), or with ``digest`` its files'
    SHA-256 (a frame folder's frames in name order)."""
    files = sorted(p for p in path.iterdir() if is_frame_image(p)) if path.is_dir() else [path]
    if not digest:
        return (len(files), *(p.stat().st_size for p in files[:1] + files[-1:]))
    return tuple(file_sha256(file) for file in files)  # each file read once per process (a folder is listed often)


def _copies(paths: list[Path]) -> list[list[Path]]:
    """The videos among ``paths`` (one name each) whose bytes are the same: a copy under another
    name. Only videos of equal size are read."""
    by_size: dict[tuple, list[Path]] = {}
    for path in paths:
        try:
            brief = _content(path, False)
        except OSError:
            continue
        if any(brief[1:]):  # empty files are no video (the decode reports them unreadable), not copies
            by_size.setdefault(brief, []).append(path)
    copies = []
    for same_size in (group for group in by_size.values() if len(group) > 1):
        by_digest: dict[tuple, list[Path]] = {}
        for path in same_size:
            try:
                by_digest.setdefault(_content(path, True), []).append(path)
            except OSError:
                continue
        copies += [group for group in by_digest.values() if len(group) > 1]
    return copies


def _report_left_out(root: Path, skipped: list[Path], beside_folders: list[tuple[Path, int]]) -> None:
    """Log what is not read as a video, once per root and process: frame images beside
    folders in a warning, other files in an INFO line."""
    if beside_folders:  # a user's clip that would otherwise be left out with no more than an INFO line
        shown = tuple(f"{p.relative_to(root).as_posix()} ({n} images)" for p, n in beside_folders)
        report = (str(root.absolute()), ("beside folders", *shown))
        if report not in _reported_skips:
            _reported_skips.add(report)
            logger.warning("%d folder(s) under %s hold frame images beside folders or videos of their own, so those "
                           "images are not read as a video: %s%s; give the frames a folder of their own to use them",
                           len(shown), root, ", ".join(shown[:5]), ", ..." if len(shown) > 5 else "")
    if skipped:
        shown_names = tuple(p.relative_to(root).as_posix() for p in sorted(skipped))
        report = (str(root.absolute()), shown_names)
        if report not in _reported_skips:
            _reported_skips.add(report)
            logger.info("%d file(s) under %s are not videos and were skipped: %s%s", len(skipped), root,
                        ", ".join(shown_names[:10]), ", ..." if len(skipped) > 10 else "")


def list_folder_videos(root: str | Path) -> list[Path]:
    """The videos under ``root``, sorted: video files and leaf folders of frame images.

    Files that are not videos are logged, in one INFO line per root and process; folders of
    frame images that also hold folders or video files, in one warning.

    Raises:
        FileNotFoundError: ``root`` does not exist or is not a directory.
        SameVideoTwiceError: a video is reachable under two names; the message names them.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"video root not found (or not a directory): {root} (a config's data.root, or an "
                                "evaluation's --root)")
    found, skipped, beside_folders = _walk(root)
    _refuse_names_of_one_video(root, found)
    _report_left_out(root, skipped, beside_folders)
    return sorted((path for path, _ in found), key=path_order)

"""The videos a run trains, validates and tests on, recorded in its folder (``split.json``).

A folder's hold-out is drawn from the videos found there (``data.n_val_videos``): add one
video and a fresh draw may move a validation video into training. So a run records its
split when it starts, and a resumed run follows the record, not a new draw: the same
validation videos, the same training videos, and one line on what was added, removed or
changed in the folder since (added videos are not used until a new run). A validation video
removed or changed since is refused: the scores so far, by which ``best.pt`` was kept, were
made on it.

The record, plain JSON::

    {"source": "folder", "root": "my_videos", "root_resolved": "/home/me/my_videos",
     "subsets": {"train": [{"name": "a.avi", "bytes": 588804, "written_ns": 1764940000123456789}, ...],
                 "val": [{"name": "b.avi", "bytes": 30210, "sha256": "9f2c..."}, ...], "test": [...]}}

``bytes`` is null for procedural videos (generated from seeds, no file). A validation
video's ``sha256`` is of its content (a frame folder's: each file's name and bytes, in name
order): frames extracted again into the same folder, or a raw video replaced by another of
the same size, keep their size but not their content. A training or test video's
``written_ns`` is when it was last written (reading every training video at each start
would take long on a large dataset): one rewritten (or touched) since, at the same size, is
named in the resumed run's line on what changed. A run that moves the user's photos
(``data.synthetic.photo_dir``) records them too, under ``"photos"``, each by name, size and
when it was written, so that a resumed run names the photos added, removed or changed since:
its synthetic videos are made from the photos as they are then.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from vidpred.config import UNREAD_DATA_KEYS, DataConfig
from vidpred.data.datasets import select_videos, subset_files, videos_root
from vidpred.data.errors import DataError
from vidpred.data.photos import PhotoFolder
from vidpred.data.video_io import frame_files
from vidpred.safe_write import same_file

logger = logging.getLogger(__name__)

__all__ = ["SPLIT_FILE", "describe_split", "read_split", "follow_split"]

SPLIT_FILE = "split.json"
_SUBSETS = ("train", "val", "test")


def _files(path: Path) -> list[Path]:
    """A video's files: the video file itself, or a frame folder's frames as its reader reads
    them (:func:`~vidpred.data.video_io.frame_files`; not a ``.DS_Store`` or notes beside them),
    in plain name order (as runs have recorded them).

    Raises:
        OSError: the folder cannot be listed.
    """
    return sorted(frame_files(path)) if path.is_dir() else [path]


def _size(path: Path) -> int | None:
    """A video's size in bytes (a frame folder: its files'), or None when it cannot be read."""
    try:
        return sum(p.stat().st_size for p in _files(path))
    except OSError:
        return None


def _written(path: Path) -> int | None:
    """When ``path`` (a frame folder: its newest file) was last written, in nanoseconds: the
    later of its modification and status-change times. The system sets the status-change
    time on every write and no tool sets it back (a copy with ``cp -p`` keeps the other)."""
    try:
        return max((max(s.st_mtime_ns, s.st_ctime_ns) for s in map(Path.stat, _files(path))), default=None)
    except OSError:
        return None


def _sha256(path: Path) -> str | None:
    """The hex SHA-256 of a video file, or of a frame folder's files (name and bytes, in name order)."""
    digest = hashlib.sha256()
    try:
        for file in _files(path):
            if path.is_dir():
                digest.update(file.name.encode("utf-8", "surrogateescape") + b"\0")
            with open(file, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def describe_split(cfg: DataConfig) -> dict[str, Any]:
    """The videos of each subset for ``cfg``, by name (relative to the root) and size in
    bytes, and each validation video's content by its SHA-256."""
    subsets: dict[str, list[dict[str, Any]]] = {}
    for subset in _SUBSETS:
        if cfg.source == "procedural":
            subsets[subset] = [{"name": item.name, "bytes": None} for item in select_videos(cfg, subset).items]
        else:
            try:
                files = subset_files(cfg, subset)
            except FileNotFoundError as exc:  # training reads no test video: a missing one does not stop it
                if cfg.source != "ucf101" or subset != "test":
                    raise
                logger.warning("the run records no test videos (%s); training does not read them", exc)
                files = []
            subsets[subset] = [{"name": name, "bytes": _size(path)}
                               | ({"sha256": _sha256(path)} if subset == "val" else {"written_ns": _written(path)})
                               for name, path in files]
            if subset != "train":
                _refuse_held_out_photos(cfg, subset, files)
    root = videos_root(cfg)
    root_resolved = None if root is None else str(Path(root).resolve())
    record = {"source": cfg.source, "root": cfg.root, "root_resolved": root_resolved, "subsets": subsets}
    if cfg.synthetic.photo_dir is not None and cfg.synthetic_weight > 0 and cfg.synthetic.n_videos:
        record["photos"] = _photos(Path(cfg.synthetic.photo_dir))
    return record


def _refuse_held_out_photos(cfg: DataConfig, subset: str, files: list[tuple[str, Path]]) -> None:
    """Refuse synthetic training videos made from the frames of a held-out video: a
    ``data.synthetic.photo_dir`` that is (or lies inside) a validation or test video's folder.

    Raises: DataError naming both.
    """
    if cfg.synthetic.photo_dir is None or cfg.synthetic_weight <= 0 or not cfg.synthetic.n_videos:
        return
    photos = Path(cfg.synthetic.photo_dir).resolve()
    for name, path in files:
        if photos.is_relative_to(path.resolve()):
            raise DataError(f"data.synthetic.photo_dir {cfg.synthetic.photo_dir} holds the frames of the {subset} "
                            f"video {name}: the synthetic training videos would be made of held-out footage; "
                            "give a folder of other photos")


def _photos(folder: Path) -> list[dict[str, Any]]:
    """The photos of a folder (:class:`~vidpred.data.photos.PhotoFolder`'s) by name, size and
    when each was written; none when it cannot be listed (loading the photos says why)."""
    try:
        paths = PhotoFolder(folder).paths
    except (DataError, OSError):
        return []
    return [{"name": p.name, "bytes": _size(p), "written_ns": _written(p)} for p in paths]


def read_split(path: str | Path) -> dict[str, Any]:
    """A recorded split, checked for the layout :func:`describe_split` writes.

    Raises:
        DataError: unreadable or not a split record.
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read the run's recorded split {path}: {exc}") from None
    subsets = record.get("subsets") if isinstance(record, dict) else None
    if not isinstance(subsets, dict) or not all(
            isinstance(subsets.get(s), list) and all(isinstance(v, dict) and isinstance(v.get("name"), str)
                                                     for v in subsets[s]) for s in _SUBSETS):
        raise DataError(f"{path} is not a recorded split (expected 'subsets' with train, val and test videos)")
    return record


def _same_root(recorded: dict[str, Any], root: str | None) -> bool:
    """Whether ``root`` is the folder the record was made on: the same folder on disk when
    the record says where it was (``root_resolved``: a relative root depends on where the
    command runs), else the same text."""
    where = recorded.get("root_resolved")
    if where is None or root is None:
        return recorded.get("root") == root
    return same_file(where, root)


def _changed_val(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """The recorded validation videos still there whose size or content has changed (for a
    record without ``sha256``: whose size has); ``current`` holds them as validation videos."""
    now = {v["name"]: v for v in current["subsets"]["val"]}
    return [v["name"] for v in recorded["subsets"]["val"] if v["name"] in now
            and (now[v["name"]].get("bytes") != v.get("bytes")
                 or ("sha256" in v and now[v["name"]].get("sha256") != v["sha256"]))]


def _names(record: dict[str, Any], subset: str) -> list[str]:
    """The names of a subset's videos in a split record."""
    return [v["name"] for v in record["subsets"][subset]]


def _photo_changes(recorded: dict[str, Any], current: dict[str, Any]) -> str | None:
    """One line on the photos added, missing or changed (in size, or written since) in
    ``data.synthetic.photo_dir`` between two split records; None when there are none, or
    when the run did not record its photos."""
    if "photos" not in recorded:
        return None
    before = {p["name"]: p for p in recorded["photos"]}
    now = {p["name"]: p for p in current.get("photos", [])}
    changed = sorted(n for n in set(before) & set(now) if (before[n].get("bytes"), before[n].get("written_ns"))
                     != (now[n].get("bytes"), now[n].get("written_ns")))
    added, missing = sorted(set(now) - set(before)), sorted(set(before) - set(now))
    if not (added or missing or changed):
        return None
    return (f"data.synthetic.photo_dir: since the run started, added: {_listed(added)}; missing: {_listed(missing)}; "
            f"changed or touched: {_listed(changed)}; the synthetic videos are made from the photos as they are now")


def _listed(names: list[str]) -> str:
    return (", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")) or "none"


def _changes(recorded: dict[str, Any], current: dict[str, Any]) -> str | None:
    """One line on the videos added, missing, changed in size or rewritten at the same size
    between two split records (any subset); None when there are none."""
    before = {v["name"]: v for s in _SUBSETS for v in recorded["subsets"][s]}
    now = {v["name"]: v for s in _SUBSETS for v in current["subsets"][s]}
    added = sorted(set(now) - set(before))
    missing = sorted(set(before) - set(now))
    changed = sorted(n for n in set(before) & set(now) if before[n].get("bytes") != now[n].get("bytes"))
    # a video of the same size written since (not known for a record without written_ns)
    rewritten = sorted(n for n in set(before) & set(now) if n not in changed
                       and before[n].get("written_ns") is not None
                       and now[n].get("written_ns") != before[n]["written_ns"])
    if not (added or missing or changed or rewritten):
        return None
    return (f"data: since the run started, added: {_listed(added)}; missing: {_listed(missing)}; changed in size: "
            f"{_listed(changed)}; rewritten or touched at the same size: {_listed(rewritten)}; the recorded split is "
            "kept by name (added videos are not used, changed ones are trained on as they are now)")


def follow_split(cfg: DataConfig, recorded: dict[str, Any]
                 ) -> tuple[DataConfig, dict[str, list[str]] | None, str | None]:
    """How a resumed run loads the split it recorded.

    Returns:
        The data config to load with (a folder's recorded validation videos named in
        ``val_videos``, so no new draw happens); the names to keep per subset (a folder's
        recorded ones: videos added since train nothing), or None when the source's split
        is fixed by itself (lists, seeds, names); and one line on the videos added, missing
        or changed since, or None when nothing changed.

    Raises:
        DataError: the record is of another source or root, or a recorded validation video
            is gone or changed.
    """
    # A record that says where its root was is compared on disk with the folder the config reads
    # (the corpus's default place included); an older one by the text of data.root, as written.
    root = videos_root(cfg) if recorded.get("root_resolved") else cfg.root
    # a source that reads no data.root (a run started before it was refused may record one)
    ignored_root = "data.root" in UNREAD_DATA_KEYS.get(cfg.source, {})
    if recorded.get("source") != cfg.source or not (ignored_root or _same_root(recorded, root)):
        where = recorded.get("root_resolved") or recorded.get("root")
        if recorded.get("source") == cfg.source and recorded.get("root_resolved") and not Path(where).exists():
            raise DataError(f"the run's videos were in {where}, which is gone: a run resumes on the folder it "
                            f"trained on; put them back at {where} (or start a new run on where they are now)")
        raise DataError(f"the run recorded its split on data.source {recorded.get('source')!r}, root "
                        f"{recorded.get('root')!r}" + (f" ({where})" if where != recorded.get("root") else "")
                        + f"; the config now says {cfg.source!r}, {root!r}"
                        + (f" ({Path(root).resolve()})" if root is not None else "")
                        + (f": resume with --set data.root={where}" if recorded.get("source") == cfg.source and where
                           else ""))
    pinned, val = cfg, _names(recorded, "val")
    if cfg.source == "folder":  # the recorded hold-out, not a new draw over the videos there now
        found = {name for name, _ in subset_files(cfg, "all")}
        missing = [name for name in val if name not in found]
        if missing:
            of = f" (of {', '.join(val)})" if len(missing) < len(val) else ""
            raise DataError(f"the run's validation videos {', '.join(missing)}{of} are missing from {cfg.root} since it "
                            "started: the validation scores would not compare with the earlier ones (best.pt was "
                            "kept by them); restore them, or start a new run")
        pinned = dataclasses.replace(cfg, val_videos=val)
    current = describe_split(pinned)
    if cfg.source == "ucf101":  # its hold-out is drawn again from the lists: it must draw the same clips
        gone = [name for name in val if name not in set(_names(current, "val"))]
        if gone:
            raise DataError(f"the run's validation videos {_listed(gone)} are no longer drawn from the UCF101 "
                            "training list (a video or line removed or added since it started): the validation "
                            "scores would not compare with the earlier ones (best.pt was kept by them); restore "
                            "the list and videos, or start a new run")
    changed_val = _changed_val(recorded, current)
    if changed_val:
        raise DataError(f"the run's validation videos {', '.join(changed_val)} changed since it started: the "
                        "validation scores would not compare with the earlier ones (best.pt was kept by them); "
                        "restore them, or start a new run")
    note = _changes(recorded, current)
    photos = _photo_changes(recorded, current)
    if photos:
        note = photos if note is None else f"{note}\n{photos}"
    if cfg.source != "folder":  # the other sources' splits come from lists, names or seeds
        return cfg, None, note
    return pinned, {"train": _names(recorded, "train"), "val": val}, note

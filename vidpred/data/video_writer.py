"""Writing RGB videos with OpenCV: ``.avi`` (Motion-JPEG) or ``.mp4`` (MPEG-4 part 2), whole
(:func:`write_video`) or a frame at a time (:class:`VideoWriter`)."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

__all__ = ["write_video", "VideoWriter"]

logger = logging.getLogger(__name__)

_WRITER_CODECS = {".avi": "MJPG", ".mp4": "mp4v"}


def write_video(path: str | Path, frames: np.ndarray, fps: float = 25.0) -> None:
    """Write RGB frames to ``.avi`` (Motion-JPEG) or ``.mp4`` (MPEG-4 part 2).

    Motion-JPEG goes through OpenCV's built-in writer, at quality 95 and any frame size, but
    it stores a whole number of frames a second: an even-sized ``.avi`` at a rate that is not
    one goes through FFmpeg's, which keeps the rate at its own lower quality (2.6 dB less on
    crops of scikit-image's astronaut). JPEG still subsamples chroma, so saturated fine colour
    detail comes back a few levels off.

    Args:
        path: output file; its suffix picks the codec. Parent folders are created.
        frames: uint8 ``(T, H, W, 3)`` RGB. ``.mp4`` needs even ``H`` and ``W``.
        fps: frame rate stored in the container.

    Raises:
        ValueError: unsupported suffix, a wrongly shaped/typed array, an odd size for mp4, or for
            an .avi below 1 frame a second.
        OSError: OpenCV cannot open a writer for ``path``.
    """
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise ValueError(f"frames must be uint8 (T, H, W, 3) with T >= 1, got {frames.dtype} {frames.shape}")
    with VideoWriter(path, frames.shape[1:3], fps) as writer:
        for frame in frames:
            writer.write(frame)


class VideoWriter:
    """:func:`write_video`'s file written one frame at a time, so that a long video's frames
    need not be held until the end: ``with VideoWriter(path, (H, W), fps) as w: w.write(frame)``.

    Args:
        path: output ``.avi`` or ``.mp4``; parent folders are created.
        size: ``(H, W)`` of every frame; ``.mp4`` needs both even.
        fps: frame rate stored in the container.

    Raises:
        ValueError: unsupported suffix, an odd size for mp4, or for an .avi below 1 frame a
            second (here); a frame of another size or type (:meth:`write`).
        OSError: OpenCV cannot open a writer for ``path``.
    """

    def __init__(self, path: str | Path, size: tuple[int, int], fps: float = 25.0) -> None:
        path = Path(path)
        codec = _WRITER_CODECS.get(path.suffix.lower())
        if codec is None:
            raise ValueError(f"cannot write {path}: suffix must be one of {tuple(_WRITER_CODECS)}")
        height, width = self.size = tuple(size)
        if codec == "mp4v" and (height % 2 or width % 2):
            # FFmpeg's mp4v encoder would silently crop to even sizes.
            raise ValueError(f"cannot write {path}: mp4 needs even frame sizes, got {height}x{width} (HxW)")
        path.parent.mkdir(parents=True, exist_ok=True)
        fourcc = cv2.VideoWriter_fourcc(*codec)
        writer = None
        whole_rate, odd = float(fps).is_integer(), bool(height % 2 or width % 2)
        if codec == "MJPG" and odd and fps < 1:
            # OpenCV's own MJPEG writer refuses it, and FFmpeg's would silently crop to even sizes.
            raise ValueError(f"cannot write {path}: an .avi of odd-sized frames ({height}x{width}, HxW) needs at least "
                             f"1 frame a second, got {fps:g}")
        if codec == "MJPG" and (whole_rate or odd):
            # OpenCV's own MJPEG writer stores a whole number of frames a second (12.5 plays at
            # 12), FFmpeg's keeps the rate but crops odd sizes to even
            writer = cv2.VideoWriter(str(path), cv2.CAP_OPENCV_MJPEG, fourcc, float(fps), (width, height))
            if writer.isOpened():
                writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 95)
                if not whole_rate:
                    logger.warning("%s: an .avi of odd-sized frames (%dx%d) stores a whole number of frames a "
                                   "second: it plays at %d, not %g (even sizes, or .mp4, keep the rate)", path,
                                   height, width, round(fps), fps)
        if writer is None or not writer.isOpened():
            writer = cv2.VideoWriter(str(path), fourcc, float(fps), (width, height))
        if not writer.isOpened():
            writer.release()
            raise OSError(f"OpenCV cannot open a {codec} video writer for {path}")
        self._writer = writer

    def write(self, frame: np.ndarray) -> None:
        """Append one uint8 ``(H, W, 3)`` RGB frame of the writer's size."""
        if frame.dtype != np.uint8 or frame.shape != (*self.size, 3):
            raise ValueError(f"expected a uint8 frame of {(*self.size, 3)}, got {frame.dtype} {frame.shape}")
        self._writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))

    def close(self) -> None:
        self._writer.release()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

"""Reading videos with OpenCV: files or folders of frame images, always RGB (writing them:
:mod:`vidpred.data.video_writer`).

OpenCV decodes to BGR; everything here converts so callers only ever see RGB
``uint8 (T, H, W, 3)`` arrays.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path, PurePath

import cv2
import numpy as np

from vidpred.errors import ExpectedFailure
from vidpred.safe_write import same_file

__all__ = [
    "VIDEO_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "VideoReadError",
    "read_video",
    "iter_video",
    "announced_frames",
    "announced_shape",
    "reads_as_frame",
    "path_order",
    "is_frame_image",
    "frame_files",
    "height_to_size",
    "read_image",
    "write_image",
    "open_capture",
]

logger = logging.getLogger(__name__)

# Containers OpenCV's FFmpeg backend decodes; anything else in a folder is listed as skipped.
VIDEO_EXTENSIONS = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v", ".ogv", ".wmv", ".flv",
                    ".3gp", ".ts", ".y4m", ".mts", ".m2ts", ".mxf", ".dv")  # the last four: camcorders' own
# Greyscale images (e.g. Netpbm .pgm sequences) are read as three equal channels.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".tif", ".tiff", ".webp")


class VideoReadError(ExpectedFailure, RuntimeError):
    """A video (file or frame folder) that cannot be decoded; the message names path and reason."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"cannot read video {path}: {reason}")
        self.path = Path(path)
        self.reason = reason


def path_order(path: str | PurePath) -> tuple[str, ...]:
    """The sort key of video and photo paths: their parts, case-sensitive as on Linux and
    macOS. Windows paths sort without case, which would hold out other videos for the same
    seed and feed the patch sampler its videos in another order."""
    return (path if isinstance(path, PurePath) else PurePath(path)).parts


# FFmpeg's own lines about damaged streams ("[h264 @ 0x...] A non-intra slice in an IDR NAL
# unit") print above vidpred's log while decoding goes on; a video that cannot be decoded is
# reported by vidpred itself. AV_LOG_FATAL: only what ends FFmpeg. OpenCV reads the setting
# when its FFmpeg backend first opens a file; one the user sets is kept.
_FFMPEG_LOG_LEVEL = "8"


def open_capture(path: str | Path) -> cv2.VideoCapture:
    """``cv2.VideoCapture(path)``, with FFmpeg's own log at fatal errors only
    (``OPENCV_FFMPEG_LOGLEVEL``, unless it is set already).

    Raises:
        VideoReadError: the name is not valid UTF-8 (a Latin-1 name from an old archive, say),
            on which OpenCV's binding ends the process.
    """
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise VideoReadError(path, "its name is not valid UTF-8, which OpenCV cannot open: rename it") from None
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", _FFMPEG_LOG_LEVEL)
    return cv2.VideoCapture(str(path))


class _OpenCVSilence:
    """OpenCV's log level is the process's: threads decoding at once share one silence.
    The first to enter saves the level and silences, the last to leave restores it; each
    saving and restoring on its own could leave the process silenced for good (the second
    thread saving the first's silence, and restoring it last)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._level = None

    def __enter__(self) -> None:
        with self._lock:
            if self._inside == 0:
                self._level = cv2.utils.logging.getLogLevel()
                cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
            self._inside += 1

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._inside -= 1
            if self._inside == 0:
                cv2.utils.logging.setLogLevel(self._level)


_opencv_silenced = _OpenCVSilence()


def read_image(path: str | Path, flags: int = cv2.IMREAD_COLOR) -> np.ndarray | None:
    """``cv2.imread(path, flags)``, or None when the file cannot be read or decoded.

    The bytes are read by Python and decoded from memory: OpenCV's own file reading takes
    the path in Windows' code page, so a name outside it (``Vidéos``, ``写真``) reads as None.
    A file that does not decode prints nothing (OpenCV's decoders would log their own
    lines, above the caller's error that names the file).
    """
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    if not data.size:
        return None
    with _opencv_silenced:
        return cv2.imdecode(data, flags)


def write_image(path: str | Path, image: np.ndarray) -> bool:
    """``cv2.imwrite(path, image)``, its format from the suffix; False when it cannot be written.
    Encoded in memory and written by Python, for the reason :func:`read_image` gives."""
    ok, data = cv2.imencode(Path(path).suffix, image)
    if not ok:
        return False
    try:
        data.tofile(str(path))
    except OSError:
        return False
    return True


def _natural_key(name: str) -> list:
    # "frame10.png" must come after "frame9.png": compare digit runs as numbers.
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def is_frame_image(path: str | PurePath) -> bool:
    """Whether a file in a frame folder counts as one of its frames: a name with one of
    ``IMAGE_EXTENSIONS`` (any case) that is not hidden (starting with ".")."""
    path = PurePath(path)
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def frame_files(folder: Path) -> list[Path]:
    """The frames of a frame folder: its files that are frame images (:func:`is_frame_image`;
    a dangling link is none), in natural name order (``frame9.png`` before ``frame10.png``).

    Raises:
        OSError: the folder cannot be listed.
    """
    return sorted((p for p in folder.iterdir() if p.is_file() and is_frame_image(p)), key=lambda p: _natural_key(p.name))


def reads_as_frame(path: str | Path, video: str | Path) -> bool:
    """Whether a file written at ``path`` would be read as a frame of ``video`` from then on:
    ``video`` is a frame folder and ``path`` an image directly in it (links included)."""
    path = Path(path)
    return Path(video).is_dir() and is_frame_image(path) and same_file(path.absolute().parent, video)


def height_to_size(height: int, native: tuple[int, int]) -> tuple[int, int]:
    """``(H, W)`` of height ``height`` with ``native``'s aspect ratio, W rounded to an even number >= 2."""
    native_h, native_w = native
    return height, max(2, 2 * round(native_w * height / native_h / 2))


def _output_size(path: Path, native: tuple[int, int], frame_size: tuple[int, int] | None,
                 frame_height: int | None) -> tuple[int, int]:
    """``(H, W)`` the frames of a video ``native`` high and wide are read at: ``frame_size``,
    height ``frame_height`` at the video's aspect ratio, or ``native``."""
    if frame_height is not None:
        return height_to_size(frame_height, native)
    if frame_size is not None:
        _warn_if_stretched(path, native, frame_size)
        return frame_size
    return native


def _as_rgb(frame: np.ndarray, size: tuple[int, int], dst: np.ndarray | None = None) -> np.ndarray:
    """A BGR frame as RGB at ``size`` = (H, W); INTER_AREA averages the source pixels a target pixel covers."""
    if frame.shape[:2] != size:
        frame = cv2.resize(frame, size[::-1], interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB, dst=dst)


def _finish(frames: list[np.ndarray], path: Path, frame_size: tuple[int, int] | None,
            frame_height: int | None = None) -> np.ndarray:
    """Stack BGR frames into RGB ``uint8 (T, H, W, 3)``, resizing to ``frame_size`` = (H, W)
    or to height ``frame_height`` at the video's aspect ratio."""
    if not frames:
        raise VideoReadError(path, "no decodable frames")
    size = _output_size(path, frames[0].shape[:2], frame_size, frame_height)
    video = np.empty((len(frames), *size, 3), dtype=np.uint8)
    for i in range(len(frames)):
        frame, frames[i] = frames[i], None  # each decoded frame let go once copied: not the video held twice
        _as_rgb(frame, size, dst=video[i])
    return video


# A resize to another aspect ratio by more than this factor is said in a warning: a portrait
# video resized to a landscape frame_size trains on shapes and motions squeezed out of true.
_STRETCH_WARNING = 1.25


def _warn_if_stretched(path: Path, native: tuple[int, int], size: tuple[int, int]) -> None:
    stretch = (size[1] / size[0]) / (native[1] / native[0])
    if max(stretch, 1 / stretch) > _STRETCH_WARNING:
        logger.warning("%s is %dx%d; frame_size %dx%d (WxH) stretches it %.2f times %s: data.frame_height keeps "
                       "each video's aspect ratio", path, native[1], native[0], size[1], size[0],
                       max(stretch, 1 / stretch), "wider" if stretch > 1 else "taller")


def _as_bgr(frame: np.ndarray, path: Path) -> np.ndarray:
    """A decoded frame as uint8 ``(H, W, 3)`` BGR: greyscale repeated over three channels,
    alpha dropped; a VideoReadError for samples of more than 8 bits."""
    if frame.dtype != np.uint8:
        raise VideoReadError(path, f"unsupported sample type {frame.dtype} (need 8-bit)")
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return frame


def _warn_if_numbers_skip(path: Path, names: list[Path]) -> None:
    """Warn when the frames' numbers (the last run of digits of names otherwise alike) step
    further than they usually do: frames missing from an export, read as consecutive."""
    parts = [re.fullmatch(r"(.*?)(\d+)(\D*)", name.name) for name in names]
    if len(names) < 3 or None in parts or len({(m.group(1), m.group(3)) for m in parts}) != 1:
        return
    numbers = [int(m.group(2)) for m in parts]
    steps = [b - a for a, b in zip(numbers, numbers[1:])]
    usual = max(set(steps), key=steps.count)
    jumps = [i for i, step in enumerate(steps) if step > usual]
    if usual > 0 and jumps:
        i = jumps[0]
        more = len(jumps) - 1
        logger.warning("%s: the frame numbers jump from %s to %s, where frames are missing%s; they are read as "
                       "consecutive frames", path, names[i].name, names[i + 1].name,
                       f" ({more} more jump{'s' if more > 1 else ''} after it)" if more else "")


def _folder_frames(path: Path, max_frames: int | None, start: int = 0) -> Iterator[np.ndarray]:
    """The frame images of a folder in natural name order from ``start``, as uint8 ``(H, W, 3)``
    BGR (at most ``max_frames``); a VideoReadError for a folder of videos, an undecodable
    image or one of another size."""
    names = frame_files(path)
    if not names:
        inside = sorted(p.name for p in path.iterdir() if p.suffix.lower() in VIDEO_EXTENSIONS or p.is_dir())
        if inside:
            listed = ", ".join(inside[:3]) + (", ..." if len(inside) > 3 else "")
            raise VideoReadError(path, f"a folder of videos ({listed}), not of frame images: give one video")
        raise VideoReadError(path, f"no frame images ({' '.join(IMAGE_EXTENSIONS)}) in the folder")
    if start and len(names) <= start:
        raise VideoReadError(path, f"ends after {len(names)} frames, before frame {start}")
    names = names[start:]
    if max_frames is not None:
        names = names[:max_frames]
    _warn_if_numbers_skip(path, names)
    first = None
    for name in names:
        frame = read_image(name)
        if frame is None:
            raise VideoReadError(path, _undecoded(name))
        if first is None:
            first = (name.name, frame.shape)
            _warn_if_dark_16_bit(path, name)
        elif frame.shape != first[1]:
            raise VideoReadError(
                path, f"inconsistent frame sizes: {first[0]} is {first[1][1]}x{first[1][0]}, "
                f"{name.name} is {frame.shape[1]}x{frame.shape[0]} (WxH)")
        yield frame


def _undecoded(name: Path) -> str:
    """Why frame image ``name`` did not decode as 8-bit colour: its samples' type where
    OpenCV reads them unchanged (floating-point TIFF or EXR), else that it cannot decode it."""
    unchanged = read_image(name, cv2.IMREAD_UNCHANGED)
    if unchanged is not None and unchanged.dtype.kind == "f":
        return (f"frame image {name.name} holds {unchanged.dtype} samples, which are not read: give 8- or 16-bit "
                "frames")
    return f"OpenCV cannot decode frame image {name.name}"


def _warn_if_dark_16_bit(path: Path, name: Path) -> None:
    """Warn when ``name``, a folder's first frame, is 16-bit with no value above 4095: 10- or
    12-bit data stored in 16 bits, which reads (as 16-bit, its top 8 bits) nearly black."""
    if name.suffix.lower() not in (".png", ".tif", ".tiff", ".pgm", ".ppm"):  # formats that hold 16 bits
        return
    unchanged = read_image(name, cv2.IMREAD_UNCHANGED)
    if unchanged is not None and unchanged.dtype == np.uint16 and 0 < int(unchanged.max()) < 4096:  # black: a fade
        logger.warning("%s: frame image %s is 16-bit, with values up to %d only, as 10- or 12-bit data stored in 16 "
                       "bits: read as 16-bit frames (their top 8 bits), it is nearly black; scale the frames to the "
                       "full 16-bit range, or write them as 8-bit", path, name.name, int(unchanged.max()))


# Containers whose headers count their frames: a decode that stops well short of the count warns.
_COUNTED = (".avi", ".mp4", ".mov", ".m4v")
# Elsewhere OpenCV estimates the count as duration x frame rate; a rate above this is no
# camera's (a raw .dv stream reads as 60000 frames a second, 2400 times its frames).
_MAX_PLAUSIBLE_FPS = 1000.0


def _capture_count(capture: cv2.VideoCapture, path: Path) -> int:
    """The frame count ``capture`` announces, 0 when unknown or, in a container that only
    estimates it, estimated from an implausible frame rate."""
    if not capture.isOpened():
        return 0
    if path.suffix.lower() not in _COUNTED and not 0 < capture.get(cv2.CAP_PROP_FPS) <= _MAX_PLAUSIBLE_FPS:
        return 0
    return int(capture.get(cv2.CAP_PROP_FRAME_COUNT))


def _file_frames(path: Path, max_frames: int | None, start: int = 0) -> Iterator[np.ndarray]:
    """The frames of a video file from ``start``, as uint8 ``(H, W, 3)`` BGR (at most
    ``max_frames``); a VideoReadError for a file OpenCV cannot open, one that ends before
    ``start``, or a frame of another shape."""
    capture = open_capture(path)
    try:
        if not capture.isOpened():
            if path.is_file() and path.stat().st_size == 0:
                raise VideoReadError(path, "the file is empty (0 bytes): an interrupted copy or download?")
            raise VideoReadError(path, "OpenCV cannot open the file (unknown container/codec or corrupt)")
        _warn_if_high_bit_depth(capture, path)
        for skipped in range(start):  # decoded in turn (seeking is not exact in every container), not kept
            if not capture.grab():
                raise VideoReadError(path, f"ends after {skipped} frames, before frame {start}")
        shape, n = None, 0
        while max_frames is None or n < max_frames:
            ok, frame = capture.read()
            if not ok or frame is None:
                break
            frame = _as_bgr(frame, path)
            if shape is None:
                shape = frame.shape
            elif frame.shape != shape:
                raise VideoReadError(path, f"frame {n} has shape {frame.shape}, frame 0 {shape}")
            n += 1
            yield frame
        # AVI's and MP4's headers count their frames; other containers' counts are estimates
        # from the duration (one frame of slack all the same)
        announced = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if path.suffix.lower() in _COUNTED else 0
        if n and (max_frames is None or n < max_frames) and announced > start + n + 1:
            trimmed = (", or one trimmed without re-encoding (its edit list hides frames the header still counts)"
                       if path.suffix.lower() != ".avi" else "")
            logger.warning("%s: decoding stopped after %d frames, but its header announces %d: a damaged or cut-short "
                           "file%s? Using the %d decoded", path, start + n, announced, trimmed, start + n)
    finally:
        capture.release()


def _warn_if_high_bit_depth(capture: cv2.VideoCapture, path: Path) -> None:
    """Say so, once a process, when ``path`` holds frames of more than 8 bits a sample: a
    phone's 10-bit video is HDR (HLG or PQ), which OpenCV converts to 8 bits without tone
    mapping, so its colours come out wrong (washed out, or too bright)."""
    # FFmpeg names its high-bit-depth YUV formats by the tag "Y3", the layout, the bits
    value = capture.get(cv2.CAP_PROP_CODEC_PIXEL_FORMAT)  # -1 or 0 from backends that do not know it
    tag = int(value).to_bytes(4, "little") if 0 < value < 2**32 else b""
    if tag[:2] != b"Y3" or tag[3] <= 8 or path in _HIGH_BIT_DEPTH_SAID:
        return
    _HIGH_BIT_DEPTH_SAID.add(path)
    logger.warning("%s is %d-bit video, read as 8 bits: if it is HDR (HLG or PQ, as phones record 10-bit "
                   "video), its colours come out wrong; convert it to 8-bit SDR first, tone-mapped (FFmpeg's "
                   "tonemap filter, or the phone's own export)", path, tag[3])


_HIGH_BIT_DEPTH_SAID: set[Path] = set()


def _checked_arguments(path: str | Path, max_frames: int | None, start: int) -> Path:
    """The checks :func:`read_video` and :func:`iter_video` share: ``max_frames`` and ``start``
    whole numbers in range, a path given (``""`` would read as the current folder) that exists."""
    if max_frames is not None and not (_whole(max_frames) and max_frames >= 1):
        raise ValueError(f"max_frames must be a whole number >= 1 or None, got {max_frames!r}")
    if not (_whole(start) and start >= 0):
        raise ValueError(f"start must be a whole number >= 0, got {start!r}")
    if not str(path).strip():
        raise ValueError("the video's path is empty: give a video file or a folder of frame images")
    path = Path(path)
    if not path.exists():
        raise VideoReadError(path, "no such file or directory")
    return path


def _whole(n: object) -> bool:
    return isinstance(n, (int, np.integer)) and not isinstance(n, bool)


def read_video(path: str | Path, *, max_frames: int | None = None, start: int = 0,
               frame_size: tuple[int, int] | None = None, frame_height: int | None = None) -> np.ndarray:
    """Decode a video file, or a folder of frame images, into RGB frames.

    Args:
        path: a video file OpenCV can read, or a folder whose image files
            (``IMAGE_EXTENSIONS``) are the frames in natural name order
            (``frame9.png`` before ``frame10.png``); greyscale frames come back as
            three equal channels, and an alpha channel is dropped.
        max_frames: decode at most this many frames from ``start`` (None: all).
        start: the first frame to keep; the frames before it are skipped without being kept.
        frame_size: ``(H, W)`` to resize every frame to with ``INTER_AREA``; None keeps the
            native size.
        frame_height: resize to this height instead, keeping the aspect ratio (width
            rounded to an even number); exclusive with ``frame_size``.

    Returns:
        uint8 ``(T, H, W, 3)`` RGB, ``T >= 1``.

    Raises:
        VideoReadError: missing path, a file OpenCV cannot open, zero decodable frames (or
            none from ``start``), or frames of different sizes; the message names the path
            and the reason.
    """
    path = _checked_arguments(path, max_frames, start)
    if frame_size is not None:
        frame_size = (int(frame_size[0]), int(frame_size[1]))
        if min(frame_size) < 1:
            raise ValueError(f"frame_size must be (H, W) with positive sizes, got {frame_size}")
    if frame_height is not None and (frame_height < 1 or frame_size is not None):
        raise ValueError(f"frame_height must be >= 1 and exclusive with frame_size, got {frame_height}")
    try:
        read = _folder_frames if path.is_dir() else _file_frames
        return _finish(list(read(path, max_frames, start)), path, frame_size, frame_height)
    except cv2.error as exc:  # a decoder failing mid-stream surfaces as cv2.error
        raise VideoReadError(path, f"OpenCV error: {exc}") from exc


def iter_video(path: str | Path, *, max_frames: int | None = None, start: int = 0,
               frame_size: tuple[int, int] | None = None, frame_height: int | None = None) -> Iterator[np.ndarray]:
    """The frames of a video file or frame folder one at a time, as :func:`read_video` reads
    them (at their size, or resized as ``frame_size`` or ``frame_height`` say): for footage
    too long to hold decoded at once.

    Yields:
        uint8 ``(H, W, 3)`` RGB frames, at least one.

    Raises:
        VideoReadError: as :func:`read_video`, when the frame that fails is reached.
    """
    path = _checked_arguments(path, max_frames, start)
    read = _folder_frames if path.is_dir() else _file_frames
    frames = read(path, max_frames, start)
    size = None
    while True:
        try:
            frame = next(frames, None)
            if frame is None:
                break
            if size is None:
                size = _output_size(path, frame.shape[:2], frame_size, frame_height)
            yield _as_rgb(frame, size)
        except cv2.error as exc:
            raise VideoReadError(path, f"OpenCV error: {exc}") from exc
    if size is None:
        raise VideoReadError(path, "no decodable frames")


def announced_frames(path: str | Path) -> int | None:
    """How many frames a video holds before it is decoded: a frame folder's image files, a
    file's count from its container (exact in AVI and MP4 headers, estimated from the
    duration in others); None when the container does not say or the path cannot be read."""
    path = Path(path)
    try:
        if path.is_dir():
            return len(frame_files(path))
        capture = open_capture(path)
        try:
            count = _capture_count(capture, path)
        finally:
            capture.release()
    except (OSError, cv2.error, VideoReadError):
        return None
    return count if count > 0 else None


def announced_shape(path: str | Path) -> tuple[int, int, int] | None:
    """``(T, H, W)`` of a video before it is decoded, as its container states them (a frame
    folder: its image files and the first one's header), the file opened once; None when any
    is unknown. The count is :func:`announced_frames`'s."""
    from PIL import Image, UnidentifiedImageError  # only needed here

    path = Path(path)
    try:
        if path.is_dir():
            names = frame_files(path)
            if not names:
                return None
            with Image.open(names[0]) as image:
                (width, height), count = image.size, len(names)
                if image.getexif().get(0x0112) in (5, 6, 7, 8):  # turned a quarter, as decoding turns it
                    width, height = height, width
        else:
            capture = open_capture(path)
            try:
                count, width, height = _capture_count(capture, path), *(
                    int(capture.get(prop)) if capture.isOpened() else 0
                    for prop in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT))
            finally:
                capture.release()
    except (OSError, cv2.error, VideoReadError, UnidentifiedImageError, ValueError):
        return None
    return (count, height, width) if min(count, height, width) > 0 else None

"""Side-by-side videos of a rollout: context | prediction | ground truth | error [| flow].

Each output frame shows four panels of the same time step. During the context the
"prediction" panel shows the real frames (the model has not predicted anything yet) under a
green bar; during the rollout it shows the model's frames under a red bar while the
"context" panel holds the last frame the model saw. The error panel is
``min(|prediction - target|, 1)`` per channel on ``[-1, 1]`` frames: black is exact, white
an error of half the range (128 grey levels) or more. The optional flow panel shows the
model's motion (the flow head's or the refiner's) on a colour wheel (hue: direction,
saturation: speed, white: still; the direction the content moves, minus the flow a
backward warp samples at), one speed scale for the whole video.
"""

from __future__ import annotations

import contextlib
import logging
import math
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import Tensor

from vidpred.data.sampler import to_uint8_frames
from vidpred.data.video_writer import VideoWriter
from vidpred.models.warp import flow_to_color
from vidpred.safe_write import image_has_mark, replacing, save_marked_figure, shown

__all__ = ["side_by_side", "Animation", "animation_video", "animation_size", "check_writable_size", "write_animation",
           "is_our_animation", "plot_one_step", "is_our_plot", "PANELS", "FPS_RANGE"]

log = logging.getLogger(__name__)

# Written into every GIF made here, so that the next run may replace it and nothing else.
_GIF_COMMENT = b"vidpred prediction"
_SOFTWARE = "vidpred predict.py"  # marks the plots plot_one_step may replace
# The longest frame side each format takes: GIF and JPEG (an .avi's Motion JPEG frames)
# store sizes in 16 bits, and OpenCV writes a wider .avi that it cannot read back; its .mp4
# writer (FFmpeg's MPEG-4 part 2 encoder) refuses 8,192 px or more, and its frames are
# padded to even sizes.
_MAX_SIDE = {".gif": (65535, "a GIF"), ".avi": (65535, "an .avi (Motion JPEG)"), ".mp4": (8190, "an .mp4 (MPEG-4)")}
# The frame rates every output format takes: OpenCV's .avi and .mp4 writers refuse rates
# below 0.01, and a GIF stores each frame's time in whole hundredths of a second, up to
# 655.35 s (so it plays 100 / n frames a second: the nearest to the rate asked, said when not it).
FPS_RANGE = (0.01, 100.0)

PANELS = ("context", "prediction", "ground truth", "error")
_GAP = 4  # px of dark grey between panels
_BAR = 3  # px of the real/predicted colour bar
_REAL, _PREDICTED, _BACKGROUND = (40, 170, 60), (210, 40, 40), (32, 32, 32)
_FIRST_FRAMES = 32  # predicted frames an Animation makes room for at first (it grows as they come)


def animation_size(height: int, width: int, scale: float = 1, with_flow: bool = False) -> tuple[int, int]:
    """The ``(H', W')`` of :func:`side_by_side`'s frames for ``height`` x ``width`` video at ``scale``."""
    H, W = max(1, round(height * scale)), max(1, round(width * scale))
    n_panels = len(PANELS) + with_flow
    return (14 if W >= 64 else 0) + _BAR + H, n_panels * W + (n_panels - 1) * _GAP


def max_side(path: str | Path) -> int | None:
    """The longest side, in px, of frames :func:`write_animation` can write to ``path``'s
    format (None: a format it does not write)."""
    return _MAX_SIDE.get(Path(path).suffix.lower(), (None, ""))[0]


def check_writable_size(path: str | Path, size: tuple[int, int]) -> None:
    """Raise ``ValueError`` when frames of ``size`` ``(H, W)`` cannot be written to ``path``
    (:func:`max_side`), before the work rather than after it."""
    limit, what = _MAX_SIDE.get(Path(path).suffix.lower(), (None, ""))
    if limit is not None and max(size) > limit:
        raise ValueError(f"cannot write {path}: {what} is at most {limit} px on a side, these frames are "
                         f"{size[0]}x{size[1]} (HxW); use a smaller scale"
                         + (" or .avi" if limit < _MAX_SIDE[".avi"][0] else ""))


def fitting_scale(path: str | Path, height: int, width: int, scale: float, with_flow: bool = False) -> float:
    """``scale``, or the largest smaller one at which :func:`side_by_side`'s frames of
    ``height`` x ``width`` video fit ``path``'s format (:func:`max_side`): a whole
    magnification steps down to 1, then a fraction shrinks."""
    limit = max_side(path)

    def fits(s: float) -> bool:
        return limit is None or max(animation_size(height, width, s, with_flow)) <= limit

    while scale > 1 and not fits(scale):
        scale -= 1
    if fits(scale):
        return scale
    low, high = 0.0, min(scale, 1.0)  # fits(low): a 1-px panel fits any format
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low


def _to_uint8(frames: Tensor) -> np.ndarray:
    """``(C, T, H, W)`` in ``[-1, 1]`` -> uint8 ``(T, H, W, 3)`` (grey repeated to RGB)."""
    x = to_uint8_frames(frames[None])[0].cpu().numpy()
    return np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x


def side_by_side(context: Tensor, prediction: Tensor, target: Tensor, *, scale: float = 1,
                 flow: Tensor | None = None, seen: Tensor | None = None) -> np.ndarray:
    """Frames of a comparison video, one per context frame then one per predicted frame.

    Args:
        context: ``(C, n_context, H, W)`` in ``[-1, 1]``, C = 1 or 3.
        prediction: ``(C, N, H, W)`` in ``[-1, 1]``, the recursive rollout.
        target: ``(C, N, H, W)`` in ``[-1, 1]``, the real frames that followed the context.
        scale: the size of every panel against the frame's: a whole number magnifies by
            repeating pixels (nearest neighbour, each pixel seen as it is); below 1 it
            shrinks by area averaging (a 4K video's panels at a size a screen shows).
        flow: ``(2, N, H, W)`` in pixels, the model's motion per predicted frame: a
            fifth panel (white during the context).
        seen: ``(C, N, H, W)`` in ``[-1, 1]``, the newest real frame the model saw before each
            predicted frame, shown in the context panel (one-step predictions, each from the
            real frames before it); default: the last context frame throughout.

    Returns:
        uint8 ``(n_context + N, H', W', 3)`` RGB with ``H' = header + bar + round(scale * H)``
        and ``W' = P * round(scale * W) + (P - 1) gaps`` for ``P`` = 4 panels (5 with ``flow``);
        labelled when panels are at least 64 px wide.
    """
    if context.dim() != 4 or prediction.dim() != 4 or prediction.shape != target.shape \
            or context.shape[0] != prediction.shape[0] or context.shape[-2:] != prediction.shape[-2:]:
        raise ValueError(f"expected context (C, T, H, W) and prediction/target (C, N, H, W) of one frame size, got "
                         f"{tuple(context.shape)}, {tuple(prediction.shape)}, {tuple(target.shape)}")
    if seen is not None and seen.shape != prediction.shape:
        raise ValueError(f"seen must be shaped as the prediction, {tuple(prediction.shape)}, got {tuple(seen.shape)}")
    n_future = prediction.shape[1]
    if flow is not None and flow.shape != (2, n_future, *prediction.shape[-2:]):
        raise ValueError(f"flow must be (2, {n_future}, H, W), got {tuple(flow.shape)}")
    animation = Animation(context, n_future, scale=scale, with_flow=flow is not None)
    for k in range(n_future):
        animation.add(prediction[:, k], target[:, k], seen=None if seen is None else seen[:, k],
                      flow=None if flow is None else flow[:, k])
    return animation.frames()


class Animation:
    """The frames of :func:`side_by_side`, built one predicted frame at a time.

    The frames are composed as they come, at the size they are shown, into one array that
    grows with them up to ``n_future`` (the motion kept at that size too, to be coloured on
    one speed scale at the end): predicting a long 4K video one step ahead holds a few MB a
    frame, not hundreds, and asking for more frames than a video has reserves nothing for
    the missing ones. Shrunk panels of the motion average the motion, then colour it. With
    a ``sink`` nothing is held: each frame goes to it once composed. With a ``spool`` folder
    the frames and the motion are held on disk there, in unnamed temporary files (gone
    when the animation is, even after a kill), so a long video's motion panels wait for
    their colours without taking memory.

    Args:
        context: ``(C, n_context, H, W)`` in ``[-1, 1]``, C = 1 or 3.
        n_future: the most predicted frames :meth:`add` will be given.
        scale: as :func:`side_by_side`'s.
        with_flow: add the motion panel (each :meth:`add` then passes ``flow``).
        sink: called with each uint8 ``(H', W', 3)`` frame as it is composed (the context's
            here), which it must copy to keep (:func:`animation_video`'s writer);
            :meth:`frames` then has none. Not with ``with_flow``, whose colours wait for the
            fastest motion of the whole video.
        spool: a folder to hold the frames in on disk, not in memory (not with ``sink``);
            the files grow with them as the arrays in memory would.
    """

    def __init__(self, context: Tensor, n_future: int, *, scale: float = 1, with_flow: bool = False,
                 sink: Callable[[np.ndarray], None] | None = None, spool: str | Path | None = None) -> None:
        if context.dim() != 4 or context.shape[0] not in (1, 3):
            raise ValueError(f"expected context (C, T, H, W) with C = 1 or 3, got {tuple(context.shape)}")
        if not (math.isfinite(scale) and scale > 0) or (scale > 1 and scale != int(scale)):
            raise ValueError(f"scale must be a whole number >= 1 or a fraction in (0, 1), got {scale}")
        if n_future < 1:
            raise ValueError(f"n_future must be >= 1, got {n_future}")
        if sink is not None and with_flow:
            raise ValueError("the motion's colours wait for the whole video: an animation with_flow keeps its frames, "
                             "give it no sink")
        if sink is not None and spool is not None:
            raise ValueError("an animation with a sink holds no frames: give it no spool")
        self.scale, self.with_flow, self._sink = scale, with_flow, sink
        self.frame_shape = tuple(context.shape[-2:])
        self.size = H, W = max(1, round(self.frame_shape[0] * scale)), max(1, round(self.frame_shape[1] * scale))
        self.labels = (*PANELS, "flow") if with_flow else PANELS
        n_panels, n_context = len(self.labels), context.shape[1]
        self._header = 14 if W >= 64 else 0
        self._n_max = n_context + n_future
        first = 1 if sink else n_context + min(n_future, _FIRST_FRAMES)  # grown by _reserve as frames come
        self._spool = spool
        self._out = self._held((first, *animation_size(*self.frame_shape, scale, with_flow), 3), np.uint8)
        self._flows = self._held((first - n_context, H, W, 2), np.float32) if with_flow else None
        self._n = 0  # frames composed
        self._max_speed = 0.0  # the fastest motion shown so far, px a frame (with_flow)
        ctx = _to_uint8(context)
        black, white = np.zeros((H, W, 3), np.uint8), np.full((H, W, 3), 255, np.uint8)
        for frame in ctx:
            shown = self._shown(frame)
            self._compose((shown, shown, shown, black, white)[:n_panels], _REAL)
        self._n_context = n_context
        self._last_context = ctx[-1]

    def _held(self, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        """An uninitialised array of ``shape``: in memory, or mapped from an unnamed temporary
        file in the spool folder, which goes when the array does (even after a kill)."""
        if self._spool is None:
            return np.empty(shape, dtype)
        with tempfile.TemporaryFile(dir=self._spool) as backing:  # the mapping keeps the file open
            return np.memmap(backing, dtype=dtype, mode="w+", shape=shape)

    def _shown(self, panel: np.ndarray) -> np.ndarray:
        """A ``(H, W, ...)`` panel at the size it is shown."""
        if self.scale > 1:
            return np.repeat(np.repeat(panel, int(self.scale), axis=0), int(self.scale), axis=1)
        if self.scale < 1:
            return cv2.resize(np.ascontiguousarray(panel), self.size[::-1], interpolation=cv2.INTER_AREA)
        return panel

    def _compose(self, panels: tuple[np.ndarray | None, ...], bar: tuple[int, int, int]) -> None:
        """The next frame from its shown panels (None: left for the motion's colours)."""
        frame = self._out[0 if self._sink else self._n]
        H, W = self.size
        frame[:] = _BACKGROUND
        for i, (panel, label) in enumerate(zip(panels, self.labels)):
            left = i * (W + _GAP)
            if panel is not None:
                frame[self._header + _BAR:, left:left + W] = panel
            if self._header:
                cv2.putText(frame, label, (left + 2, self._header - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                            (230, 230, 230), 1, cv2.LINE_AA)
        frame[self._header:self._header + _BAR, W + _GAP:2 * W + _GAP] = bar  # over the prediction panel
        self._n += 1
        if self._sink:
            self._sink(frame)

    def add(self, prediction: Tensor, target: Tensor, *, seen: Tensor | None = None,
            flow: Tensor | None = None) -> None:
        """One predicted frame: ``prediction``, ``target`` and ``seen`` (the newest real frame
        the model saw; default the last context frame) ``(C, H, W)`` in ``[-1, 1]``, and
        ``flow`` ``(2, H, W)`` in pixels when the animation shows the motion."""
        if self._n == self._n_max:
            raise ValueError(f"this animation was made for {self._n_max - self._n_context} predicted frames")
        for name, x in (("prediction", prediction), ("target", target), ("seen", seen)):
            if x is not None and (x.dim() != 3 or tuple(x.shape[-2:]) != self.frame_shape):
                raise ValueError(f"{name} must be (C, H, W) with (H, W) = {self.frame_shape}, got {tuple(x.shape)}")
        if (flow is not None) != self.with_flow:
            raise ValueError("pass flow with every frame of an animation made with_flow, and only then")
        if flow is not None and tuple(flow.shape) != (2, *self.frame_shape):
            raise ValueError(f"flow must be (2, H, W) with (H, W) = {self.frame_shape}, got {tuple(flow.shape)}")
        self._reserve()
        if flow is not None:
            motion = flow.detach().float().permute(1, 2, 0).cpu().numpy()  # (H, W, 2)
            shown = motion if self.scale == 1 else self._shown(motion)
            self._flows[self._n - self._n_context] = shown
            # the speed scale, kept as the frames come: no pass over them all at the end
            self._max_speed = max(self._max_speed, float(np.sqrt((shown ** 2).sum(axis=-1)).max()))
        error = (prediction.float() - target.float()).abs().clamp(max=1.0) * 2 - 1  # |e| in [0, 1] shown as [-1, 1]
        pred, real, err = (_to_uint8(x[:, None])[0] for x in (prediction, target, error))
        last_seen = self._last_context if seen is None else _to_uint8(seen[:, None])[0]
        panels = tuple(self._shown(panel) for panel in (last_seen, pred, real, err))
        self._compose((*panels, None) if self.with_flow else panels, _PREDICTED)

    def _reserve(self) -> None:
        """Room for one more frame: the arrays double when full, up to ``n_future`` frames;
        in place when nothing else views them (a reallocation, not a copy beside the old)."""
        if self._sink or self._n < len(self._out):
            return
        n = min(self._n_max, self._n_context + 2 * (len(self._out) - self._n_context))
        arrays = {"_out": n} if self._flows is None else {"_out": n, "_flows": n - self._n_context}
        for name, length in arrays.items():
            shape = (length, *getattr(self, name).shape[1:])
            if self._spool is not None:  # a larger file, the frames copied: a mapped file cannot grow on Windows
                old = getattr(self, name)
                grown = self._held(shape, old.dtype)
                grown[:len(old)] = old
                setattr(self, name, grown)
                continue
            try:
                getattr(self, name).resize(shape)  # no other reference held here: numpy refuses to move a viewed array
            except ValueError:  # viewed elsewhere (a frames() taken before): a grown copy
                old = getattr(self, name)
                grown = np.empty(shape, old.dtype)
                grown[:len(old)] = old
                setattr(self, name, grown)

    def frames(self) -> np.ndarray:
        """uint8 ``(n_context + N, H', W', 3)`` for the ``N`` frames added, as :func:`side_by_side`
        describes; the motion on one speed scale for the whole video (the fastest shown
        motion saturated)."""
        if self._sink:
            raise ValueError("this animation's frames went to its sink as they were composed")
        n_added = self._n - self._n_context
        if self._flows is not None and n_added:
            speed = max(self._max_speed, 1e-6)
            H, W = self.size
            left = 4 * (W + _GAP)
            for k, flow in enumerate(self._flows[:n_added]):
                self._out[self._n_context + k, self._header + _BAR:, left:left + W] = _colours(flow, speed)
        return self._out[:self._n]


def _colours(flow: np.ndarray, max_speed: float) -> np.ndarray:
    """uint8 ``(H, W, 3)`` colour-wheel picture (:func:`flow_to_color`) of the motion of a
    ``(H, W, 2)`` flow: a model's flow is where each pixel is sampled from (a backward warp),
    so what is there moves by minus it (a pan to the right: red, not cyan)."""
    motion = -torch.from_numpy(np.ascontiguousarray(flow)).permute(2, 0, 1)[None]
    colours = flow_to_color(motion, max_speed)[0]
    return (colours * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def write_animation(path: str | Path, frames: np.ndarray, fps: float = 4.0, *,
                    shown_as: str | Path | None = None) -> Path:
    """Write RGB frames (grey levels 0-255) as ``.gif`` (Pillow, looping) or ``.mp4``/``.avi`` (OpenCV).

    Args:
        path: output file; parent folders are created.
        frames: uint8 ``(T, H, W, 3)``.
        fps: frames per second, within :data:`FPS_RANGE`.
        shown_as: the name the warnings give ``path`` (the file a temporary ``path`` becomes).

    Raises:
        ValueError: unsupported suffix, a wrongly shaped array, frames too large for the
            format (:func:`max_side`) or a frame rate out of range.
        OSError: OpenCV's writer refused the frames.
    """
    path = Path(path)
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise ValueError(f"frames must be uint8 (T, H, W, 3) with T >= 1, got {frames.dtype} {frames.shape}")
    low, high = FPS_RANGE
    if not (math.isfinite(fps) and low <= fps <= high):
        raise ValueError(f"the frame rate must be within {low:g}-{high:g} frames a second, got {fps:g}")
    suffix = path.suffix.lower()
    check_writable_size(path, frames.shape[1:3])
    if suffix == ".gif":
        from PIL import Image  # only needed here

        hundredths = max(1, round(100 / fps))  # what a GIF stores (Pillow truncates milliseconds to them)
        if abs(100 / hundredths - fps) > 0.01 * fps:
            log.warning("%s: a GIF stores each frame's time in hundredths of a second, so it plays %.3g frames a "
                        "second, not %g (.mp4 or .avi keep the rate)", shown_as or path, 100 / hundredths, fps)
        path.parent.mkdir(parents=True, exist_ok=True)
        # one frame at a time: Pillow keeps each in its palette (a byte a pixel), never all of them in RGB
        later = (Image.fromarray(frame) for frame in frames[1:])
        with replacing(path) as tmp:
            Image.fromarray(frames[0]).save(tmp, save_all=True, append_images=later, duration=10 * hundredths,
                                            loop=0, comment=_GIF_COMMENT)
        return path
    if suffix not in (".mp4", ".avi"):
        raise ValueError(f"cannot write {path}: use .gif, .mp4 or .avi")
    with replacing(path) as tmp, animation_video(tmp, frames.shape[1:3], fps) as write:
        for frame in frames:
            write(frame)
    return path


@contextlib.contextmanager
def animation_video(path: str | Path, size: tuple[int, int],
                    fps: float = 4.0) -> Iterator[Callable[[np.ndarray], None]]:
    """:func:`write_animation`'s ``.mp4`` or ``.avi``, one frame at a time: yields a function
    that appends a uint8 ``(H, W, 3)`` frame of ``size`` (padded to even sizes for ``.mp4``),
    so that a long animation is never held whole (:class:`Animation`'s ``sink``).

    Args:
        path: where the frames go (a temporary of :func:`~vidpred.safe_write.replacing`'s is
            named by its target in errors).
        size: ``(H, W)`` of every frame.
        fps: frames per second.
    """
    suffix = Path(path).suffix.lower()
    height, width = size
    # MPEG-4 needs even sizes, and so does an .avi at a rate that is not a whole number (VideoWriter)
    even = suffix == ".mp4" or (suffix == ".avi" and not float(fps).is_integer())
    pad_h, pad_w = (height % 2, width % 2) if even else (0, 0)
    try:
        writer = VideoWriter(path, (height + pad_h, width + pad_w), fps=fps)
    except OSError as exc:
        raise OSError(f"cannot write {path}: OpenCV's {suffix[1:]} writer refused {height}x{width} (HxW) "
                      "frames; try .avi or a smaller scale") from exc

    def write(frame: np.ndarray) -> None:
        if pad_h or pad_w:  # with the background colour
            frame = np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), constant_values=_BACKGROUND[0])
        writer.write(frame)

    with writer:
        yield write


def is_our_animation(path: str | Path) -> bool:
    """Whether ``path`` is a GIF written by :func:`write_animation` (videos carry no such mark)."""
    return image_has_mark(path, "GIF", "comment", _GIF_COMMENT)


def plot_one_step(psnrs: dict[str, list[float]], first_frame: int, path: str | Path, title: str) -> Path:
    """PNG of each frame's PSNR, predicted one step ahead, along the video: above, one line
    per method (the model's first); below, the model's PSNR less the better baseline's on
    each frame (green where the model is better, red where a baseline is), so that the
    stretches of footage where the model loses stand out.

    Args:
        psnrs: method -> one PSNR (dB) per predicted frame, the model's first.
        first_frame: the video's index of the first predicted frame.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    names = list(psnrs)
    values = {name: np.asarray(v, dtype=float) for name, v in psnrs.items()}
    frames = first_frame + np.arange(len(values[names[0]]))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True, height_ratios=(2, 1))
    for i, name in enumerate(names):
        top.plot(frames, values[name], linewidth=1.6 if i == 0 else 1.0, label=shown(name), zorder=3 - min(i, 2))
    top.set_ylabel("PSNR, dB")
    top.legend(fontsize=8, frameon=False)
    top.set_title(shown(title), fontsize=9)
    best = np.max(np.stack([values[name] for name in names[1:]]), axis=0)
    margin = values[names[0]] - best
    bottom.bar(frames, margin, width=1.0, color=np.where(margin >= 0, "tab:green", "tab:red"))
    bottom.axhline(0, color="black", linewidth=0.8)
    bottom.set_ylabel(shown(f"{names[0]}\n− better baseline, dB"), fontsize=8)
    bottom.set_xlabel("frame of the video")
    for axis in (top, bottom):
        axis.grid(alpha=0.3)
    fig.tight_layout()
    return save_marked_figure(fig, path, _SOFTWARE)


def is_our_plot(path: str | Path) -> bool:
    """Whether ``path`` is a PNG written by :func:`plot_one_step`."""
    return image_has_mark(path, "PNG", "Software", _SOFTWARE)

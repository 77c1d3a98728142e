"""Side-by-side videos of a rollout: context | prediction | ground truth | error [| flow].

Each output frame shows four panels of the same time step. During the context the
"prediction" panel shows the real frames (the model has not predicted anything yet) under a
green bar; during the rollout it shows the model's frames under a red bar while the
"context" panel holds the last frame the model saw. The error panel is
``min(|prediction - target|, 1)`` per channel on ``[-1, 1]`` frames: black is exact, white
an error of half the range (128 grey levels) or more. The optional flow panel shows the
flow head's motion on a colour wheel (hue: direction, saturation: speed, white: still),
one speed scale for the whole video.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import Tensor

from vidpred.data.sampler import to_uint8_frames
from vidpred.data.video_io import write_video
from vidpred.models.warp import flow_to_color
from vidpred.safe_write import image_has_mark, replacing

__all__ = ["side_by_side", "write_animation", "is_our_animation", "PANELS"]

# Written into every GIF made here, so that the next run may replace it and nothing else.
_GIF_COMMENT = b"vidpred prediction"
_GIF_MAX_SIDE = 65535  # the GIF format stores sizes in 16 bits

PANELS = ("context", "prediction", "ground truth", "error")
_GAP = 4  # px of dark grey between panels
_BAR = 3  # px of the real/predicted colour bar
_REAL, _PREDICTED, _BACKGROUND = (40, 170, 60), (210, 40, 40), (32, 32, 32)


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
        flow: ``(2, N, H, W)`` in pixels, the flow head's motion per predicted frame: a
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
    if not (math.isfinite(scale) and scale > 0) or (scale > 1 and scale != int(scale)):
        raise ValueError(f"scale must be a whole number >= 1 or a fraction in (0, 1), got {scale}")
    if seen is not None and seen.shape != prediction.shape:
        raise ValueError(f"seen must be shaped as the prediction, {tuple(prediction.shape)}, got {tuple(seen.shape)}")
    n_context, n_future = context.shape[1], prediction.shape[1]
    ctx, pred, real = _to_uint8(context), _to_uint8(prediction), _to_uint8(target)
    last_seen = _to_uint8(seen) if seen is not None else np.repeat(ctx[-1:], n_future, axis=0)
    error = (prediction.float() - target.float()).abs().clamp(max=1.0) * 2 - 1  # |e| in [0, 1] shown as [-1, 1]
    err = _to_uint8(error)
    black = np.zeros_like(ctx[0])
    labels = PANELS
    if flow is not None:
        if flow.shape != (2, n_future, *prediction.shape[-2:]):
            raise ValueError(f"flow must be (2, {n_future}, H, W), got {tuple(flow.shape)}")
        speed = float(flow.float().norm(dim=0).max())
        colours = flow_to_color(flow.transpose(0, 1), max(speed, 1e-6))  # (N, 3, H, W) in [0, 1]
        flows = (colours * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        labels = (*PANELS, "flow")
    n_panels = len(labels)
    H, W = max(1, round(ctx.shape[1] * scale)), max(1, round(ctx.shape[2] * scale))
    header = 14 if W >= 64 else 0
    out = np.empty((n_context + n_future, header + _BAR + H, n_panels * W + (n_panels - 1) * _GAP, 3), dtype=np.uint8)
    for t in range(n_context + n_future):
        if t < n_context:
            panels, bar = (ctx[t], ctx[t], ctx[t], black), _REAL
            if flow is not None:
                panels = (*panels, np.full_like(black, 255))
        else:
            k = t - n_context
            panels, bar = (last_seen[k], pred[k], real[k], err[k]), _PREDICTED
            if flow is not None:
                panels = (*panels, flows[k])
        frame = out[t]
        frame[:] = _BACKGROUND
        for i, (panel, label) in enumerate(zip(panels, labels)):
            left = i * (W + _GAP)
            if scale > 1:
                panel = np.repeat(np.repeat(panel, int(scale), axis=0), int(scale), axis=1)
            elif scale < 1:
                panel = cv2.resize(np.ascontiguousarray(panel), (W, H), interpolation=cv2.INTER_AREA)
            frame[header + _BAR:, left:left + W] = panel
            if header:
                cv2.putText(frame, label, (left + 2, header - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (230, 230, 230), 1,
                            cv2.LINE_AA)
        frame[header:header + _BAR, W + _GAP:2 * W + _GAP] = bar  # over the prediction panel
    return out


def write_animation(path: str | Path, frames: np.ndarray, fps: float = 4.0) -> Path:
    """Write RGB frames as ``.gif`` (Pillow, looping) or ``.mp4``/``.avi`` (OpenCV).

    Args:
        path: output file; parent folders are created.
        frames: uint8 ``(T, H, W, 3)``.
        fps: frames per second.

    Raises:
        ValueError: unsupported suffix or a wrongly shaped array.
    """
    path = Path(path)
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise ValueError(f"frames must be uint8 (T, H, W, 3) with T >= 1, got {frames.dtype} {frames.shape}")
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"the frame rate must be a finite number > 0, got {fps}")
    suffix = path.suffix.lower()
    if suffix == ".gif":
        from PIL import Image  # only needed here

        if max(frames.shape[1:3]) > _GIF_MAX_SIDE:
            raise ValueError(f"cannot write {path}: a GIF is at most {_GIF_MAX_SIDE} px on a side, these frames are "
                             f"{frames.shape[1]}x{frames.shape[2]} (HxW); use a smaller scale or .avi")
        path.parent.mkdir(parents=True, exist_ok=True)
        images = [Image.fromarray(frame) for frame in frames]
        with replacing(path) as tmp:
            images[0].save(tmp, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0,
                           comment=_GIF_COMMENT)
        return path
    if suffix not in (".mp4", ".avi"):
        raise ValueError(f"cannot write {path}: use .gif, .mp4 or .avi")
    if suffix == ".mp4":  # MPEG-4 needs even sizes: pad with the background colour
        pad_h, pad_w = frames.shape[1] % 2, frames.shape[2] % 2
        if pad_h or pad_w:
            frames = np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), constant_values=_BACKGROUND[0])
    try:
        with replacing(path) as tmp:
            write_video(tmp, frames, fps=fps)
    except OSError as exc:  # named by the temporary file: name the output instead
        raise OSError(f"cannot write {path}: OpenCV's {suffix[1:]} writer refused {frames.shape[1]}x{frames.shape[2]} "
                      f"(HxW) frames; try .avi or a smaller scale") from exc
    return path


def is_our_animation(path: str | Path) -> bool:
    """Whether ``path`` is a GIF written by :func:`write_animation` (videos carry no such mark)."""
    return image_has_mark(path, "GIF", "comment", _GIF_COMMENT)

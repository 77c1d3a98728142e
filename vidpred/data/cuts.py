"""Scene cuts: where a video jumps to another shot, no clip may span the jump.

Predicting across a cut asks a model for the impossible, and a patch that spans one also
passes the motion filter easily (its frame difference is huge), so uncut real footage
would be crowded out of the batches. A cut shows as one consecutive-frame difference far
above the differences around it: :func:`scene_cuts` flags frame ``t`` when the mean
squared difference between frames ``t - 1`` and ``t`` exceeds ``ratio`` times the median
of its neighbours' (``window`` differences on either side), and also an absolute floor.
Fast motion raises a difference and its neighbours together, so it is not a cut.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["frame_differences", "scene_cuts", "valid_starts", "CUT_WINDOW", "MIN_CUT_DIFFERENCE"]

# A cut's mean squared difference, in [-1, 1] units, is at least this (an RMS change of
# about 9 grey levels); below it a "jump" is noise or lighting flicker.
MIN_CUT_DIFFERENCE = 5e-3
# Neighbour medians below this (near-static scenes) are raised to it, so that sensor noise
# in a static shot does not turn small changes into cuts.
_MIN_REFERENCE = 1e-4
_STRIDE = 4  # differences on every 4th row and column: a cut changes the whole frame
# Differences on either side a cut is judged against: whether frame t starts a shot depends
# on frames up to t + CUT_WINDOW.
CUT_WINDOW = 8


def frame_differences(video: np.ndarray) -> np.ndarray:
    """Mean squared difference between consecutive frames, ``[-1, 1]`` units.

    Args:
        video: uint8 ``(T, H, W, C)``, ``T >= 1``.

    Returns:
        float64 ``(T - 1,)``: element ``t`` compares frames ``t`` and ``t + 1`` (on a
        4x-subsampled grid).
    """
    sub = np.ascontiguousarray(np.asarray(video)[:, ::_STRIDE, ::_STRIDE])
    n = max(sub[0].size, 1) if len(sub) else 1
    sums = [cv2.norm(sub[t + 1], sub[t], cv2.NORM_L2SQR) for t in range(len(sub) - 1)]
    return np.asarray(sums, dtype=np.float64) * (2.0 / 255.0) ** 2 / n


def scene_cuts(video: np.ndarray, ratio: float, window: int = CUT_WINDOW) -> list[int]:
    """Frames that start a new shot.

    Args:
        video: uint8 ``(T, H, W, C)``.
        ratio: a difference this many times its neighbours' median is a cut (> 1).
        window: neighbouring differences considered on each side.

    Returns:
        Sorted frame indices ``t`` (``1 <= t < T``) such that a cut lies between frames
        ``t - 1`` and ``t``.
    """
    if ratio <= 1:
        raise ValueError(f"cut ratio must be > 1, got {ratio}")
    d = frame_differences(video)
    cuts = []
    for t, value in enumerate(d):
        if value < MIN_CUT_DIFFERENCE:
            continue
        neighbours = np.concatenate([d[max(0, t - window):t], d[t + 1:t + 1 + window]])
        reference = max(float(np.median(neighbours)) if neighbours.size else 0.0, _MIN_REFERENCE)
        if value > ratio * reference:
            cuts.append(t + 1)
    return cuts


def valid_starts(n_video_frames: int, n_frames: int, cuts: list[int]) -> np.ndarray:
    """Start frames of the ``n_frames``-long windows that span no cut.

    Returns:
        int64 array of starts ``s`` with no cut ``c`` in ``s < c <= s + n_frames - 1``;
        ``arange(n_video_frames - n_frames + 1)`` when there is no cut.
    """
    starts = np.arange(max(n_video_frames - n_frames + 1, 0), dtype=np.int64)
    if not cuts:
        return starts
    ok = np.ones(len(starts), dtype=bool)
    for c in cuts:
        ok[max(c - n_frames + 1, 0):c] = False  # windows starting in [c - n_frames + 1, c - 1]
    return starts[ok]

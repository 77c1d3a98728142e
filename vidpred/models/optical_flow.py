"""Dense optical flow between frames: OpenCV's Farneback and DIS, on model tensors.

Both take frames in ``[-1, 1]``, convert them to grey-level uint8 (the values they had on
disk) and return ``(B, 2, H, W)`` float32 flows in pixels, x then y, with the convention
``source(p) ≈ destination(p + flow(p))``: :func:`~vidpred.models.warp.warp` of the
destination by the flow rebuilds the source. Farneback (with :data:`FARNEBACK_PARAMS`) is
what the evaluation's moving-area mask and the paper's flow baseline use; DIS
(:data:`DIS_PRESET`) is the stronger estimator on real footage with a moving camera, and
what the refiner model (:mod:`vidpred.models.refiner`) starts from. ``dis_flow(...,
refine=True)`` adds a variational refinement at full resolution (:data:`FULL_SIZE_REFINEMENT`),
where the medium preset stops at half.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator

import cv2
import numpy as np
import torch
from torch import Tensor

__all__ = ["FARNEBACK_PARAMS", "DIS_PRESET", "FLOW_METHODS", "FULL_SIZE_REFINEMENT", "farneback_flow", "dis_flow",
           "dis_flows_back", "dis_flow_grey", "full_size_refinement", "backward_flow", "reused_flows"]

# OpenCV's sample values (3-level pyramid halving each time, 3 iterations per level,
# polynomial neighbourhood 5 with sigma 1.2) except the averaging window: 9x9 instead of
# 15x15. Farneback smears motion over about half a window around a moving edge; on a
# textured square moving 2-4 px per frame the 9x9 mask stays within 8 px of the square's
# path (15x15: 3-4 % of the mask lies beyond), closer to EpicFlow's sharp motion
# boundaries that the paper used.
FARNEBACK_PARAMS = {"pyr_scale": 0.5, "levels": 3, "winsize": 9, "iterations": 3, "poly_n": 5,
                    "poly_sigma": 1.2, "flags": 0}

# DIS (Kroeger et al., ECCV 2016) with OpenCV's MEDIUM preset: 8-px patches every 3 px,
# coarse to fine down to half resolution (finest scale 1), 25 inverse-search iterations and
# 5 variational-refinement iterations per level.
DIS_PRESET = "medium"
_DIS_PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
                "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}
FLOW_METHODS = ("farneback", "dis")

# The full-resolution pass of ``dis_flow(refine=True)``: OpenCV's VariationalRefinement with
# its defaults (smoothness 20, colour constancy 5, gradient constancy 10; 5 fixed-point and 5
# SOR iterations). The medium preset's patches are fitted at half resolution and upsampled,
# and their error lies across edges as often as along them; the refinement's data term
# constrains the flow across edges, where a warp's error comes from (the steady rolls of
# docs/results.md; docs/ablations.md, "Flows refined at full size").
FULL_SIZE_REFINEMENT = {"alpha": 20.0, "delta": 5.0, "gamma": 10.0, "fixed_point_iterations": 5, "sor_iterations": 5}


def _grey_uint8(frames: Tensor) -> list[np.ndarray]:
    """``(B, C, H, W)`` in ``[-1, 1]`` (C = 1 or 3, RGB) -> B grey uint8 ``(H, W)`` arrays.

    ``(x + 1) * 127.5`` rounded undoes ``to_model_input`` exactly, so decoded frames reach
    OpenCV with the values they had on disk.
    """
    if frames.shape[1] not in (1, 3):
        raise ValueError(f"optical flow needs grey or RGB frames, got {frames.shape[1]} channels")
    levels = frames.detach().float().clamp(-1, 1).add_(1).mul_(127.5).round_().to(torch.uint8)
    if levels.shape[1] == 1:
        return list(levels[:, 0].cpu().numpy())
    # channels last as bytes, not as floats: a quarter of the memory to move
    return [cv2.cvtColor(v, cv2.COLOR_RGB2GRAY) for v in levels.permute(0, 2, 3, 1).contiguous().cpu().numpy()]


def farneback_flow(source: Tensor, destination: Tensor) -> Tensor:
    """Farneback flow from ``source`` to ``destination``: ``source(p) ≈ destination(p + flow(p))``.

    Args:
        source: ``(B, C, H, W)`` in ``[-1, 1]``, C = 1 or 3 (RGB; converted to grey).
        destination: ``(B, C, H, W)`` in ``[-1, 1]``.

    Returns:
        ``(B, 2, H, W)`` float32 on ``source``'s device, channel 0 = x (columns), 1 = y
        (rows), in pixels.
    """
    if source.shape != destination.shape or source.dim() != 4:
        raise ValueError(f"farneback_flow expects two (B, C, H, W) tensors, got {tuple(source.shape)} "
                         f"and {tuple(destination.shape)}")
    return _as_flow_tensor([cv2.calcOpticalFlowFarneback(a, b, None, **FARNEBACK_PARAMS)  # (H, W, 2)
                            for a, b in zip(_grey_uint8(source), _grey_uint8(destination))], source.device)


def full_size_refinement() -> cv2.VariationalRefinement:
    """OpenCV's variational refinement with :data:`FULL_SIZE_REFINEMENT`; ``.calc(source,
    destination, flow)`` refines ``flow`` (grey uint8 frames, ``(H, W, 2)`` float32)."""
    r = FULL_SIZE_REFINEMENT
    refinement = cv2.VariationalRefinement_create()
    refinement.setAlpha(r["alpha"])
    refinement.setDelta(r["delta"])
    refinement.setGamma(r["gamma"])
    refinement.setFixedPointIterations(r["fixed_point_iterations"])
    refinement.setSorIterations(r["sor_iterations"])
    return refinement


_reuse = threading.local()  # .cache: (pairs' DIS flows, how many to keep) inside reused_flows()


@contextlib.contextmanager
def reused_flows(max_pairs: int = 16, store: OrderedDict | None = None) -> Iterator[None]:
    """Within the block, :func:`dis_flow` estimates each pair of frames once (this thread).

    A predictor moving along a video one frame at a time reads the same context steps
    again: the refiner's three flows share two with the frame before, and DIS
    extrapolation's flow is the refiner's newest before refinement; a step flowed again from
    the whole frame's shift (a fast pan) is flowed so from the same shift in the next
    predictions. Pairs are recognised by their grey levels (a digest of the bytes), preset
    and start; the ``max_pairs`` most recent are kept. DIS is deterministic, so every flow is
    what it would be without the block.

    Args:
        max_pairs: how many of the most recent pairs' flows to keep.
        store: where the flows are kept (an empty ``OrderedDict`` to start); the same one
            passed to several blocks carries their flows from one block to the next, as a
            stream fed a frame at a time needs (None: a new one, forgotten after the block).
    """
    if max_pairs < 1:
        raise ValueError(f"max_pairs must be >= 1, got {max_pairs}")
    outer = getattr(_reuse, "cache", None)
    _reuse.cache = (OrderedDict() if store is None else store, max_pairs)
    try:
        yield
    finally:
        _reuse.cache = outer


def _reused(preset: str, a: np.ndarray, b: np.ndarray, estimate: Callable[[], np.ndarray],
            start: np.ndarray | None = None) -> np.ndarray:
    """``estimate()``, the DIS flow from ``a`` to ``b`` (started from ``start``, where given),
    or its copy from :func:`reused_flows`."""
    cache = getattr(_reuse, "cache", None)
    if cache is None:
        return estimate()
    flows, max_pairs = cache
    key = (preset, a.shape, *(hashlib.blake2b(x.tobytes(), digest_size=16).digest()
                              for x in (a, b) + (() if start is None else (start,))))
    if key not in flows:
        flows[key] = estimate()
        while len(flows) > max_pairs:
            flows.popitem(last=False)
    flows.move_to_end(key)
    return flows[key].copy()  # a copy: the refinement updates its flow in place


def dis_flow(source: Tensor, destination: Tensor, preset: str = DIS_PRESET, refine: bool = False,
             start: Tensor | None = None) -> Tensor:
    """DIS flow from ``source`` to ``destination``: ``source(p) ≈ destination(p + flow(p))``.

    Same conventions as :func:`farneback_flow` (grey-level uint8 frames, ``(B, 2, H, W)`` float32
    in pixels, x then y). A new DIS instance per pair (:func:`dis_flow_grey`): instances hold
    state and are not shared between the evaluation's threads.

    Args:
        source: ``(B, C, H, W)`` in ``[-1, 1]``, C = 1 or 3.
        destination: ``(B, C, H, W)`` in ``[-1, 1]``.
        preset: ``"ultrafast"``, ``"fast"`` or ``"medium"`` (default, :data:`DIS_PRESET`).
        refine: then refine the flow at full resolution (:data:`FULL_SIZE_REFINEMENT`).
        start: ``(B, 2, H, W)``, a flow DIS starts from (:func:`dis_flow_grey`); None: from still.
    """
    if source.shape != destination.shape or source.dim() != 4:
        raise ValueError(f"dis_flow expects two (B, C, H, W) tensors, got {tuple(source.shape)} "
                         f"and {tuple(destination.shape)}")
    if preset not in _DIS_PRESETS:
        raise ValueError(f"DIS preset must be one of {', '.join(_DIS_PRESETS)}, got {preset!r}")
    starts = [None] * source.shape[0] if start is None else start.detach().float().permute(0, 2, 3, 1).cpu().numpy()
    pairs = zip(_grey_uint8(source), _grey_uint8(destination), starts)
    return _as_flow_tensor([dis_flow_grey(a, b, preset, refine, s) for a, b, s in pairs], source.device)


def dis_flows_back(context: Tensor, n_steps: int, refine_newest: bool = False) -> list[Tensor]:
    """:func:`dis_flow` of each of the last ``n_steps`` steps, from its later frame back to the earlier.

    ``flows[j]`` is ``dis_flow(context[:, :, T-1-j], context[:, :, T-2-j])``, to the bit; each
    frame is converted to grey levels once, not once per pair it is in.

    Args:
        context: ``(B, C, T, H, W)`` in ``[-1, 1]``, C = 1 or 3, ``T > n_steps``.
        n_steps: how many steps, >= 1.
        refine_newest: refine ``flows[0]`` at full resolution (``dis_flow(refine=True)``).
    """
    if context.dim() != 5:
        raise ValueError(f"dis_flows_back expects (B, C, T, H, W), got {tuple(context.shape)}")
    T = context.shape[2]
    if not 1 <= n_steps < T:
        raise ValueError(f"need 1 <= n_steps < T, got n_steps={n_steps} with T={T}")
    grey = [_grey_uint8(context[:, :, t]) for t in range(T - 1 - n_steps, T)]  # oldest first
    return [_as_flow_tensor([dis_flow_grey(a, b, refine=refine_newest and j == 0)
                             for a, b in zip(grey[-1 - j], grey[-2 - j])], context.device)
            for j in range(n_steps)]


def _as_flow_tensor(flows: list[np.ndarray], device: torch.device) -> Tensor:
    """B float32 ``(H, W, 2)`` flows -> ``(B, 2, H, W)`` on ``device``."""
    return torch.from_numpy(np.stack(flows)).permute(0, 3, 1, 2).contiguous().to(device)


def dis_flow_grey(source: np.ndarray, destination: np.ndarray, preset: str = DIS_PRESET,
                  refine: bool = False, start: np.ndarray | None = None) -> np.ndarray:
    """:func:`dis_flow` of one pair of grey uint8 ``(H, W)`` frames: float32 ``(H, W, 2)``.

    Frames too small for DIS are enlarged for it and the flow shrunk back
    (:func:`_dis_magnification`); within :func:`reused_flows` a pair seen before is not
    estimated again. ``start``, float32 ``(H, W, 2)``: the flow DIS starts from at its
    coarsest level instead of still, so it reaches a motion larger than its pyramid does
    (within :func:`reused_flows`, reused only from the same start).
    """
    if preset not in _DIS_PRESETS:
        raise ValueError(f"DIS preset must be one of {', '.join(_DIS_PRESETS)}, got {preset!r}")
    dis = cv2.DISOpticalFlow_create(_DIS_PRESETS[preset])
    H, W = source.shape
    k = _dis_magnification(H, W, dis.getFinestScale(), dis.getPatchSize())
    if k > 1:
        source, destination = (cv2.resize(x, (W * k, H * k), interpolation=cv2.INTER_CUBIC)
                               for x in (source, destination))
    if start is None:
        flow = _reused(preset, source, destination, lambda: dis.calc(source, destination, None))
    else:
        start = np.ascontiguousarray(start, dtype=np.float32)
        if k > 1:
            start = cv2.resize(start, (W * k, H * k), interpolation=cv2.INTER_LINEAR) * k
        flow = _reused(preset, source, destination, lambda: dis.calc(source, destination, start.copy()), start)
    if refine:
        flow = full_size_refinement().calc(source, destination, flow)
    if k > 1:
        flow = cv2.resize(flow, (W, H), interpolation=cv2.INTER_AREA) / k
    return flow


def _dis_magnification(height: int, width: int, finest_scale: int, patch_size: int) -> int:
    """The whole factor by which a frame is enlarged for DIS: 1 unless it is too small.

    OpenCV's DIS starts at pyramid level ``min(round(log2(long side / (4 patch))),
    floor(log2(short side / patch)))``. Below level 0 it refuses the frame (under 12 px);
    finer than the preset's finest scale, it picks its levels from the width alone and, on
    short, wide frames, crashes the process (12-14 x 40 px and wider with the medium preset,
    16-24 x 100-200 px with the fast ones). Frames whose starting level is at least the
    finest scale are left as they are (every frame of the corpus and of UCF101); smaller
    ones are enlarged until it is, and their flow shrunk back (padding instead would add
    still content beside the moving frame and bend the flow near it).
    """
    def start_level(h: int, w: int) -> int:
        return min(int(math.log2(max(h, w) / (4 * patch_size)) + 0.5), int(math.log2(min(h, w) / patch_size)))

    k = 1
    while start_level(height * k, width * k) < finest_scale:
        k += 1
    return k


def backward_flow(context: Tensor, method: str = "farneback") -> Tensor:
    """Flow from the last context frame back to the one before it.

    ``last(p) ≈ previous(p + flow(p))``: at each pixel of the newest frame, where its content
    was one frame earlier (minus the motion).

    Args:
        context: ``(B, C, T, H, W)`` in ``[-1, 1]``, ``T >= 2``.
        method: ``"farneback"`` (the paper's baseline, :func:`farneback_flow`) or ``"dis"``
            (:func:`dis_flow`).

    Returns:
        ``(B, 2, H, W)`` float32, (x, y) in pixels.
    """
    if context.dim() != 5 or context.shape[2] < 2:
        raise ValueError(f"backward_flow needs (B, C, T, H, W) with T >= 2, got {tuple(context.shape)}")
    if method not in FLOW_METHODS:
        raise ValueError(f"flow method must be one of {', '.join(FLOW_METHODS)}, got {method!r}")
    estimate = farneback_flow if method == "farneback" else dis_flow
    return estimate(context[:, :, -1], context[:, :, -2])

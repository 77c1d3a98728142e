"""Training patches that move: the paper's motion-filtered random crop sampler.

Mathieu et al. train on random ``32x32`` crops spanning the context and target frames,
kept only when they show enough movement (static patches teach nothing). Here:

* ``PatchSampler.sample(index, batch_size)`` is a pure function of ``(seed, rank, index)``,
  so a resumed run replays exactly the same batches without saving sampler state, and each
  DDP rank draws different patches;
* one core delivers tens of thousands of motion-filtered 32x32x5 clips per second, also
  when most candidates are static (figures in ``docs/performance.md``): a candidate is
  scored right after it is copied, while its 15 KB are still in L1 cache, with OpenCV's
  exact integer ``NORM_L2SQR``, and a slot stops drawing at its first accepted candidate;
* clips can come from groups of videos in set shares (``pools``), e.g. real and synthetic
  videos, each slot staying in its group through the motion filter's retries;
* ``PatchBatches`` wraps it as an infinite ``IterableDataset`` whose batch sequence does not
  depend on the number of DataLoader workers;
* ``to_model_input`` / ``to_uint8_frames`` convert between the uint8 ``(B, T, H, W, C)`` the
  sampler produces and the model's float ``(B, C, T, H, W)`` in ``[-1, 1]``.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass
from typing import Iterator, Sequence

import cv2
import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from vidpred.data.cuts import scene_cuts, valid_starts
from vidpred.data.errors import DataError

__all__ = [
    "PatchSampler",
    "PatchBatches",
    "SampleStats",
    "motion_score",
    "to_model_input",
    "to_uint8_frames",
    "fixed_clips",
]

# uint8 -> [-1, 1] is x / 127.5 - 1, so a uint8 difference scales by 2 / 255.
_SCALE = 2.0 / 255.0
# Candidate positions are drawn for this many tries of every slot at once: with a typical
# acceptance most slots finish within it, and unused positions cost only random numbers.
_TRIES_PER_DRAW = 4


def _squared_difference_sum(clip: np.ndarray) -> float:
    """Exact ``sum((x[1:] - x[:-1])^2)`` over a contiguous uint8 ``(T, ...)`` clip.

    OpenCV accumulates uint8 squared differences in integers, so unlike a float32 dot
    product the result is exact (the largest sum for a 32x32x5 RGB clip, ~8e8, is far
    below 2**53) and a candidate at the threshold is judged the same way everywhere.
    """
    rows = clip.reshape(clip.shape[0], -1)  # (T, H*W*C), a view: the clip is contiguous
    return cv2.norm(rows[1:], rows[:-1], cv2.NORM_L2SQR)


def motion_score(clips: np.ndarray) -> np.ndarray:
    """Mean squared difference between consecutive frames, in ``[-1, 1]`` units.

    Args:
        clips: uint8 ``(N, T, H, W, C)`` with ``T >= 2``.

    Returns:
        float64 ``(N,)``: ``mean((x[:, 1:] - x[:, :-1])^2) * (2/255)^2`` per clip, computed
        exactly as :class:`PatchSampler` does to accept or reject a crop.
    """
    n, t = clips.shape[:2]
    n_diffs = max((t - 1) * int(np.prod(clips.shape[2:])), 1)
    sums = [_squared_difference_sum(np.ascontiguousarray(clip)) for clip in clips]
    return np.array(sums, dtype=np.float64).reshape(n) * (_SCALE**2 / n_diffs)


@dataclass(frozen=True)
class SampleStats:
    """What the last ``sample`` call did (for logging).

    Attributes:
        n_slots: clips in the batch.
        n_candidates: crops drawn in total (the filter's cost).
        n_unfiltered: slots accepted without the motion test.
        n_fallback: slots where all ``max_tries`` failed; the most moving candidate was kept.
        n_per_pool: clips drawn from each pool of videos (one entry without pools).
    """

    n_slots: int
    n_candidates: int
    n_unfiltered: int
    n_fallback: int
    n_per_pool: tuple[int, ...] = ()

    @property
    def acceptance(self) -> float:
        """Fraction of motion-tested candidates that passed (1.0 when none was tested)."""
        tested = self.n_candidates - self.n_unfiltered
        passed = self.n_slots - self.n_unfiltered - self.n_fallback
        return passed / tested if tested else 1.0


@dataclass(frozen=True)
class _MemmapRef:
    """How to re-open a memory-mapped ``.npy`` in another process (instead of copying it)."""

    filename: str
    offset: int
    shape: tuple[int, ...]
    dtype: str

    def open(self) -> np.ndarray:
        return np.memmap(self.filename, dtype=np.dtype(self.dtype), mode="r", offset=self.offset, shape=self.shape)


def _channels_of_usable(videos: Sequence[np.ndarray], names: Sequence[str], n_frames: int, patch_size: int) -> int:
    """The channel count ``C`` of videos that can all give clips.

    Raises:
        ValueError: a video that is not uint8 ``(T, H, W, C)``, or channel counts that differ.
        DataError: a video shorter than ``n_frames``, or videos smaller than the patch (all
            named in one error).
    """
    channels = None
    small = []
    for i, video in enumerate(videos):
        if video.dtype != np.uint8 or video.ndim != 4:
            raise ValueError(f"{names[i]}: expected uint8 (T, H, W, C), got {video.dtype} {video.shape}")
        t, h, w, c = video.shape
        if t < n_frames:
            raise DataError(f"{names[i]} has {t} frames, fewer than n_frames={n_frames}")
        if h < patch_size or w < patch_size:
            small.append(f"{names[i]} ({h}x{w})")
        if channels is not None and c != channels:
            raise ValueError(f"{names[i]} has {c} channels, {names[0]} has {channels}")
        channels = c
    if small:
        raise DataError(f"{len(small)} training video(s) smaller than data.patch_size={patch_size}: "
                        f"{', '.join(small[:5])}{', ...' if len(small) > 5 else ''}; resize them with "
                        "data.frame_size, lower data.patch_size, or remove them")
    return int(channels)


def _cut_free_starts(video: np.ndarray, n_frames: int, cut_ratio: float | None, name: str
                     ) -> tuple[list[int], np.ndarray]:
    """A video's scene cuts and the start frames of its ``n_frames``-long windows that span none.

    Args:
        video: uint8 ``(T, H, W, C)``, ``T >= n_frames``.
        cut_ratio: :func:`vidpred.data.cuts.scene_cuts`'s ratio; None: no cuts are looked for.
        name: the video's name, for the error.

    Returns:
        The cuts (empty without ``cut_ratio``) and int64 ``(n_starts,)`` start frames.

    Raises:
        DataError: every window spans a cut.
    """
    cuts = scene_cuts(video, cut_ratio) if cut_ratio is not None else []
    starts = valid_starts(len(video), n_frames, cuts)
    if len(starts) == 0:
        raise DataError(f"{name} has a scene cut in every {n_frames}-frame window (cuts at frames "
                        f"{cuts}); raise data.cut_ratio or drop the video")
    return cuts, starts


def _plain_views(videos: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Base-class views of the videos (no copy): slicing an ``np.memmap`` runs Python code
    (``__getitem__``, ``__array_finalize__``) that would cost more than copying a crop."""
    return [np.asarray(v) for v in videos]


def _to_ref(video: np.ndarray) -> np.ndarray | _MemmapRef:
    # Only a whole-file map (its base is the mmap itself) can be rebuilt from filename+offset;
    # a slice of a memmap carries its parent's offset, so it is pickled by value.
    if (isinstance(video, np.memmap) and isinstance(video.base, mmap.mmap) and video.filename
            and video.flags.c_contiguous):
        return _MemmapRef(str(video.filename), int(video.offset), tuple(video.shape), video.dtype.str)
    return video


class PatchSampler:
    """Random ``patch_size x patch_size`` crops of ``n_frames`` frames that show motion.

    Per batch slot: pick a video **uniformly** (every video equally likely, whatever its
    length or size, so long videos do not dominate), then a start time and a crop position
    uniformly among the valid ones. A candidate is kept if its ``motion_score`` exceeds
    ``motion_threshold``; otherwise a new one is drawn, up to ``max_tries`` candidates,
    after which the most moving candidate is kept (so a static dataset never hangs). A
    fraction ``unfiltered_fraction`` of slots skips the test, so the model still sees some
    (near-)static content and learns that it stays put.

    Candidate positions are drawn a few tries at a time for every slot (vectorised); each
    slot then copies and scores its candidates one by one and stops at the first accepted
    one, so a batch costs about ``batch_size / acceptance`` crops.

    Args:
        videos: uint8 ``(T_i, H_i, W_i, C)`` arrays (memory maps welcome); sizes may differ,
            ``C`` may not.
        n_frames: frames per clip (``n_context + n_future``), >= 2.
        patch_size: crop side in pixels.
        motion_threshold: minimum mean squared consecutive-frame difference, ``[-1, 1]`` units.
        max_tries: candidates per slot before falling back to the best one.
        unfiltered_fraction: probability that a slot accepts its first candidate untested;
            a sequence of them cycles with the batch index (batch ``i`` uses entry
            ``i % len``), e.g. one for the discriminator's batches and one for the
            generator's when they alternate.
        seed, rank: with the batch index, the whole randomness of ``sample``.
        cut_ratio: when set, clips never span a scene cut (:mod:`vidpred.data.cuts`):
            start times are drawn among the windows without one. Without cuts the draws
            are those of ``cut_ratio=None``.
        augment: flip each clip left-right with probability 1/2 and play it backwards
            with probability 1/2 (both are motions a camera could film), drawn after the
            crops, so the crops are those of ``augment=False``.
        pools: ``(n_videos, weight)`` pairs splitting ``videos`` into consecutive groups
            (e.g. the real videos, then the synthetic ones). Each slot first picks a group
            with probability ``weight / sum of weights``, then videos uniformly within it;
            the slot's retries stay in its group, so a group's share of the clips is its
            weight's whatever the motion filter rejects. A group of weight 0 is never
            drawn (and may be empty). None: one group, and no random number is spent on
            choosing it.
        names: the videos' names, for errors (default ``video <index>``).

    Raises:
        DataError: a video shorter than ``n_frames``, videos smaller than the patch (all
            named in one error), or a video with a scene cut in every window.
        ValueError: mixed channel counts, or out-of-range arguments.
    """

    def __init__(self, videos: Sequence[np.ndarray], n_frames: int, patch_size: int, *, motion_threshold: float,
                 max_tries: int = 16, unfiltered_fraction: float | Sequence[float] = 0.05, seed: int = 0, rank: int = 0,
                 cut_ratio: float | None = None, augment: bool = False,
                 pools: Sequence[tuple[int, float]] | None = None, names: Sequence[str] | None = None) -> None:
        if not videos:
            raise ValueError("PatchSampler needs at least one video")
        if n_frames < 2:
            raise ValueError(f"n_frames must be >= 2 (motion needs two frames), got {n_frames}")
        if patch_size < 1:
            raise ValueError(f"patch_size must be >= 1, got {patch_size}")
        if max_tries < 1:
            raise ValueError(f"max_tries must be >= 1, got {max_tries}")
        fractions = (unfiltered_fraction,) if isinstance(unfiltered_fraction, (int, float)) else tuple(unfiltered_fraction)
        if not fractions or not all(0.0 <= f <= 1.0 for f in fractions):
            raise ValueError(f"unfiltered_fraction must be in [0, 1], got {unfiltered_fraction}")
        if motion_threshold < 0:
            raise ValueError(f"motion_threshold must be >= 0, got {motion_threshold}")
        if seed < 0 or rank < 0:
            raise ValueError(f"seed and rank must be >= 0, got seed={seed}, rank={rank}")
        if names is not None and len(names) != len(videos):
            raise ValueError(f"names: {len(names)} for {len(videos)} videos")
        names = list(names) if names is not None else [f"video {i}" for i in range(len(videos))]
        self.videos = list(videos)
        self.n_frames = n_frames
        self.patch_size = patch_size
        self.channels = _channels_of_usable(self.videos, names, n_frames, patch_size)
        self.motion_threshold = float(motion_threshold)
        self.max_tries = max_tries
        self.unfiltered_fractions = tuple(float(f) for f in fractions)
        self.seed = seed
        self.rank = rank
        self.augment = augment
        shapes = np.array([v.shape[:3] for v in self.videos], dtype=np.int64)
        cuts_and_starts = [_cut_free_starts(v, n_frames, cut_ratio, name) for v, name in zip(self.videos, names)]
        self.cuts = [cuts for cuts, _ in cuts_and_starts]  # per video, for the log
        starts = [own for _, own in cuts_and_starts]
        # Valid start times of every video, concatenated: video v's are
        # _starts[_start_offset[v] : _start_offset[v] + _n_starts[v]].
        self._n_starts = np.array([len(own) for own in starts], dtype=np.int64)
        self._start_offset = np.concatenate([[0], np.cumsum(self._n_starts)[:-1]]).astype(np.int64)
        self._starts = np.concatenate(starts)
        self._set_pools(pools)
        self._n_rows = shapes[:, 1] - patch_size + 1  # valid top-left corners
        self._n_cols = shapes[:, 2] - patch_size + 1
        self.last_stats: SampleStats | None = None
        self._frames = _plain_views(self.videos)

    def _set_pools(self, pools: Sequence[tuple[int, float]] | None) -> None:
        if pools is None:
            self.pools = None
            return
        sizes = np.array([int(n) for n, _ in pools], dtype=np.int64)
        weights = np.array([float(w) for _, w in pools], dtype=np.float64)
        if len(sizes) == 0 or sizes.sum() != len(self.videos) or (sizes < 0).any():
            raise ValueError(f"pools must split the {len(self.videos)} videos into groups, got sizes {sizes.tolist()}")
        if not (weights >= 0).all() or not weights.sum() > 0 or ((weights > 0) & (sizes == 0)).any():
            raise ValueError(f"pool weights must be >= 0, not all 0, and 0 for an empty pool, got {pools}")
        self.pools = [(int(n), float(w)) for n, w in zip(sizes, weights)]
        self._pool_size = sizes
        self._pool_start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self._pool_cumulative = np.cumsum(weights) / weights.sum()
        self._last_drawn_pool = int(np.flatnonzero(weights > 0)[-1])  # against rounding in the cumulative sum

    def _draw_pools(self, rng: np.random.Generator, batch_size: int) -> np.ndarray | None:
        """The pool of every slot, int64 ``(batch_size,)``; None without pools."""
        if self.pools is None:
            return None
        pool = np.searchsorted(self._pool_cumulative, rng.random(batch_size), side="right")
        return np.minimum(pool, self._last_drawn_pool)

    def __getstate__(self) -> dict:
        # DataLoader workers started with spawn/forkserver pickle the dataset: send memory
        # maps as file references, or every worker would receive a copy of all the frames.
        state = self.__dict__.copy()
        state["videos"] = [_to_ref(v) for v in self.videos]
        del state["_frames"]
        return state

    def __setstate__(self, state: dict) -> None:
        state["videos"] = [v.open() if isinstance(v, _MemmapRef) else v for v in state["videos"]]
        self.__dict__.update(state)
        self._frames = _plain_views(self.videos)

    def _draw(self, rng: np.random.Generator, n_tries: int, batch_size: int,
              pool: np.ndarray | None) -> list[list[list[int]]]:
        """Positions of ``n_tries`` candidates for every slot, within each slot's ``pool`` (if any).

        Returns:
            ``[video, start, top, left]``, each a nested list ``[try][slot]`` of ints.
        """
        if pool is None:
            video = rng.integers(0, len(self.videos), size=(n_tries, batch_size))
        else:
            video = self._pool_start[pool] + rng.integers(0, self._pool_size[pool], size=(n_tries, batch_size))
        start = self._starts[self._start_offset[video] + rng.integers(0, self._n_starts[video])]
        top = rng.integers(0, self._n_rows[video])
        left = rng.integers(0, self._n_cols[video])
        return [a.tolist() for a in (video, start, top, left)]  # Python ints index fastest

    def sample(self, index: int, batch_size: int) -> np.ndarray:
        """Batch number ``index``; a pure function of ``(seed, rank, index)``.

        Returns:
            uint8 ``(batch_size, n_frames, patch_size, patch_size, C)``.
        """
        if index < 0 or batch_size < 1:
            raise ValueError(f"need index >= 0 and batch_size >= 1, got {index}, {batch_size}")
        rng = np.random.default_rng([self.seed, self.rank, index])
        T, p, C = self.n_frames, self.patch_size, self.channels
        out = np.empty((batch_size, T, p, p, C), dtype=np.uint8)
        scratch = np.empty((T, p, p, C), dtype=np.uint8)
        # The same memory seen as frames of flat pixels, for the score (see motion_score).
        out_rows, scratch_rows = out.reshape(batch_size, T, -1), scratch.reshape(T, -1)
        l2sqr = cv2.NORM_L2SQR
        # Scores are compared exactly as motion_score computes them: same sum, same factor.
        factor = _SCALE**2 / ((T - 1) * p * p * C)
        threshold = self.motion_threshold
        fraction = self.unfiltered_fractions[index % len(self.unfiltered_fractions)]
        unfiltered = (rng.random(batch_size) < fraction).tolist()
        pool = self._draw_pools(rng, batch_size)
        best = [-1.0] * batch_size  # best squared-difference sum per slot; -1: nothing yet
        frames = self._frames
        pending = list(range(batch_size))
        n_candidates = tried = 0
        while pending and tried < self.max_tries:
            n_tries = min(_TRIES_PER_DRAW, self.max_tries - tried)
            video, start, top, left = self._draw(rng, n_tries, batch_size, pool)
            still_pending = []
            for slot in pending:
                kept = out[slot]  # holds the slot's most moving candidate so far
                for k in range(n_tries):
                    y, x, t = top[k][slot], left[k][slot], start[k][slot]
                    first = best[slot] < 0
                    crop, rows = (kept, out_rows[slot]) if first else (scratch, scratch_rows)
                    crop[...] = frames[video[k][slot]][t:t + T, y:y + p, x:x + p]
                    # Scored while the crop is still in L1 cache; _squared_difference_sum inlined.
                    total = cv2.norm(rows[1:], rows[:-1], l2sqr)
                    n_candidates += 1
                    if total > best[slot]:
                        if not first:
                            kept[...] = scratch
                        best[slot] = total
                    if unfiltered[slot] or total * factor > threshold:
                        break
                else:
                    still_pending.append(slot)
            pending = still_pending
            tried += n_tries
        if self.augment:
            _flip_and_reverse(rng, out)
        self.last_stats = SampleStats(n_slots=batch_size, n_candidates=n_candidates,
                                      n_unfiltered=sum(unfiltered), n_fallback=len(pending),
                                      n_per_pool=(batch_size,) if pool is None else
                                      tuple(np.bincount(pool, minlength=len(self.pools)).tolist()))
        return out


def _flip_and_reverse(rng: np.random.Generator, clips: np.ndarray) -> None:
    """Mirror each uint8 ``(B, T, H, W, C)`` clip left-right with probability 1/2 and play it
    backwards with probability 1/2, in place."""
    flip, reverse = rng.random((2, len(clips))) < 0.5
    clips[flip] = clips[flip][:, :, :, ::-1]
    clips[reverse] = clips[reverse][:, ::-1]


class PatchBatches(IterableDataset):
    """Infinite stream of uint8 patch batches ``(B, T, p, p, C)`` for indices ``start_index, +1, ...``.

    Use with ``DataLoader(PatchBatches(...), batch_size=None, num_workers=n)``: worker ``w``
    of ``n`` produces indices ``start + w, start + w + n, ...`` and the DataLoader returns
    workers' outputs round-robin, so the sequence is identical for any ``num_workers``. To
    resume after ``k`` consumed batches, pass ``start_index = k``.
    """

    def __init__(self, sampler: PatchSampler, batch_size: int, start_index: int = 0) -> None:
        super().__init__()
        if batch_size < 1 or start_index < 0:
            raise ValueError(f"need batch_size >= 1 and start_index >= 0, got {batch_size}, {start_index}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.start_index = start_index

    def __iter__(self) -> Iterator[torch.Tensor]:
        info = get_worker_info()
        worker, n_workers = (0, 1) if info is None else (info.id, info.num_workers)
        index = self.start_index + worker
        while True:
            yield torch.from_numpy(self.sampler.sample(index, self.batch_size))
            index += n_workers


def to_model_input(batch: torch.Tensor) -> torch.Tensor:
    """uint8 ``(B, T, H, W, C)`` (any device) -> contiguous float32 ``(B, C, T, H, W)`` in ``[-1, 1]``.

    Computes ``x / 127.5 - 1``, so 0 -> -1 and 255 -> 1 exactly.
    """
    if batch.dtype != torch.uint8 or batch.dim() != 5:
        raise TypeError(f"expected a uint8 (B, T, H, W, C) tensor, got {batch.dtype} {tuple(batch.shape)}")
    # Permute while still 1 byte per value: 4x less memory traffic than after the cast.
    x = batch.permute(0, 4, 1, 2, 3).contiguous().to(torch.float32)
    return x.div_(127.5).sub_(1.0)


def to_uint8_frames(x: torch.Tensor) -> torch.Tensor:
    """float ``(B, C, T, H, W)`` in ``[-1, 1]`` -> uint8 ``(B, T, H, W, C)`` (clamped, rounded).

    The inverse of ``to_model_input`` for writing images or videos; stays on ``x``'s device.
    """
    if x.dim() != 5:
        raise ValueError(f"expected (B, C, T, H, W), got shape {tuple(x.shape)}")
    y = ((x.detach().float().clamp(-1.0, 1.0) + 1.0) * 127.5).round_()
    return y.to(torch.uint8).permute(0, 2, 3, 4, 1).contiguous()


def fixed_clips(videos: Sequence[np.ndarray], n_clips: int, n_frames: int, seed: int,
                cut_ratio: float | None = None, names: Sequence[str] | None = None) -> list[np.ndarray]:
    """Deterministic full-frame validation clips.

    Clip ``i`` comes from video ``i % len(videos)`` when there are more clips than videos;
    with fewer clips than videos they are spread evenly (video ``i * len(videos) // n_clips``)
    so they cover the whole list. Start times are drawn from ``default_rng(seed)``.

    Args:
        videos: uint8 ``(T_i, H_i, W_i, C)`` arrays; sizes may differ, so the clips may too.
        n_clips: number of clips.
        n_frames: frames per clip.
        seed: start-time seed.
        cut_ratio: when set, start times are drawn among the windows that span no scene
            cut (:mod:`vidpred.data.cuts`); without cuts the clips are those of None.
        names: each video's name for errors (default ``video <index>``).

    Returns:
        ``n_clips`` in-memory copies, each uint8 ``(n_frames, H_i, W_i, C)``.

    Raises:
        ValueError: no videos, or a chosen video shorter than ``n_frames``.
    """
    if not videos:
        raise ValueError("fixed_clips needs at least one video")
    if n_clips < 0 or n_frames < 1:
        raise ValueError(f"need n_clips >= 0 and n_frames >= 1, got {n_clips}, {n_frames}")
    rng = np.random.default_rng(seed)
    n_videos = len(videos)
    starts_of: dict[int, np.ndarray] = {}
    clips = []
    for i in range(n_clips):
        k = i * n_videos // n_clips if n_clips <= n_videos else i % n_videos
        video = videos[k]
        name = names[k] if names is not None else f"video {k}"
        if len(video) < n_frames:
            raise ValueError(f"{name} has {len(video)} frames, fewer than n_frames={n_frames}")
        if k not in starts_of:  # several clips may come from one video: find its cuts once
            starts_of[k] = _cut_free_starts(video, n_frames, cut_ratio, name)[1]
        starts = starts_of[k]
        start = int(starts[rng.integers(0, len(starts))])
        clips.append(np.array(video[start:start + n_frames]))
    return clips

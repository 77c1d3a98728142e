"""A training run's data: the patch sampler, the fixed validation clips and the batch stream.

Batch ``i`` of a run is a pure function of ``(seed, rank, i)`` (:class:`PatchSampler`), so
a run resumed at step ``s`` restarts the stream at ``s * batches_per_step`` and sees
exactly the batches an uninterrupted run would have seen, whatever ``num_workers`` is.
"""

from __future__ import annotations

import logging
import signal
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader

from vidpred.cli import STOP_SIGNALS
from vidpred.config import DataConfig
from vidpred.data.cache import NoUsableVideosError
from vidpred.data.datasets import load_split, load_synthetic
from vidpred.data.errors import DataError
from vidpred.data.sampler import PatchBatches, PatchSampler, fixed_clips, to_model_input

__all__ = ["STOP_SIGNALS", "TrainingData", "load_training_data", "BatchStream"]

logger = logging.getLogger(__name__)


@dataclass
class TrainingData:
    """What a run trains and validates on.

    Attributes:
        sampler: motion-filtered patches of the training videos, ``n_context + n_future`` frames.
        val_clips: uint8 ``(n_context + val_n_future, H_i, W_i, C)`` whole-frame clips of
            the validation videos, fixed by the seed.
        n_train_videos: how many real training videos (of ``data.source``) the sampler draws from.
        n_synthetic_videos: how many synthetic videos it draws from (``data.synthetic_weight``
            of the clips).
    """

    sampler: PatchSampler
    val_clips: list[np.ndarray]
    n_train_videos: int
    n_synthetic_videos: int = 0


def _unfiltered_fraction(data: DataConfig, discriminator_batches: bool) -> float | tuple[float, float]:
    """The sampler's ``unfiltered_fraction``: ``(D's, G's)``, cycling over even and odd batch
    indices, when the batches alternate D, G and ``data.d_unfiltered_fraction`` is set."""
    if discriminator_batches and data.d_unfiltered_fraction is not None:
        return data.d_unfiltered_fraction, data.unfiltered_fraction
    return data.unfiltered_fraction


def load_training_data(
    data: DataConfig,
    *,
    n_context: int,
    n_future: int,
    val_n_future: int,
    seed: int,
    rank: int = 0,
    progress: bool = True,
    discriminator_batches: bool = False,
    names: dict[str, list[str]] | None = None,
) -> TrainingData:
    """Decode (or read from the cache) both splits and set up the sampler and validation clips.

    With ``data.synthetic_weight`` > 0 a share of the training clips comes from the synthetic
    videos (generated into the cache on first use); at 1 the real training videos are not
    loaded. Validation is on the real validation videos only.

    Args:
        data: the ``data`` section of the config.
        n_context, n_future: frames per training clip are ``n_context + n_future``.
        val_n_future: predicted frames per validation clip.
        seed: the run's seed (patch stream and validation clip starts).
        rank: this process's rank; each rank samples its own patch stream.
        progress: show a progress bar while decoding.
        discriminator_batches: batches alternate D, G (Algorithm 1), so even batch indices
            use ``data.d_unfiltered_fraction`` when it is set.
        names: per subset ("train", "val"), the only videos to use: a resumed run's
            recorded split (:func:`vidpred.data.split_record.follow_split`); None: all.

    Raises:
        DataError: no usable videos (the message names the source).
    """
    clip = n_context + max(n_future, val_n_future)
    if data.source == "procedural" and data.procedural.n_frames < clip:  # said once, not once a video
        raise DataError(f"data.procedural.n_frames ({data.procedural.n_frames}) must be >= model.n_context + the "
                        f"longer of train.n_future and train.val_n_future ({clip}): every video would be too short")
    weight = data.synthetic_weight
    names = names or {}
    train_videos = (load_split(data, "train", min_frames=n_context + n_future, progress=progress,
                               names=names.get("train")) if weight < 1 else [])
    synthetic_videos = load_synthetic(data, min_frames=n_context + n_future, progress=progress) if weight > 0 else []
    if data.synthetic.n_videos and weight == 0:
        logger.info("data.synthetic.n_videos is %d but data.synthetic_weight is 0: no synthetic video is used",
                 data.synthetic.n_videos)
    try:
        val_videos = load_split(data, "val", min_frames=n_context + val_n_future, progress=progress,
                                names=names.get("val"))
    except NoUsableVideosError as exc:  # name the keys that set the length, not only the number
        raise NoUsableVideosError(f"{exc} (model.n_context + train.val_n_future = {n_context} + {val_n_future})"
                                  ) from None
    val_clips = fixed_clips(
        [v.frames for v in val_videos], data.n_val_clips, n_context + val_n_future, seed=seed, cut_ratio=data.cut_ratio,
        names=[v.name for v in val_videos],
    )
    pools = [(len(train_videos), 1.0 - weight), (len(synthetic_videos), weight)] if 0 < weight < 1 else None
    sampler = PatchSampler(
        [v.frames for v in train_videos + synthetic_videos],
        n_context + n_future,
        data.patch_size,
        motion_threshold=data.motion_threshold,
        max_tries=data.max_tries,
        unfiltered_fraction=_unfiltered_fraction(data, discriminator_batches),
        seed=seed,
        rank=rank,
        cut_ratio=data.cut_ratio,
        augment=data.augment,
        pools=pools,
        names=[v.name for v in train_videos + synthetic_videos],
    )
    if data.cut_ratio is not None:
        logger.info("scene cuts: %d in the training videos; no patch spans one",
                    sum(len(cuts) for cuts in sampler.cuts))
    if synthetic_videos:
        logger.info("data: %d training videos and %d synthetic ones (%.0f%% of the clips), %d validation clips",
                 len(train_videos), len(synthetic_videos), 100 * weight, len(val_clips))
    else:
        logger.info("data: %d training videos, %d validation clips", len(train_videos), len(val_clips))
    return TrainingData(sampler, val_clips, len(train_videos), len(synthetic_videos))


def _ignore_stop_signals(worker_id: int) -> None:
    """In a DataLoader worker: leave the stop signals to the main process.

    A worker inherits the trainer's handler, and Ctrl-C reaches every process of the
    terminal's group, so each worker would announce the stop too (and a second Ctrl-C
    would kill it under the main process's feet). The main process stops the run, then
    shuts its workers down.
    """
    for stop in STOP_SIGNALS:
        signal.signal(stop, signal.SIG_IGN)


class BatchStream:
    """Training batches ``start_index, start_index + 1, ...`` as model input on ``device``.

    Each batch is float ``(B, C, T, H, W)`` in ``[-1, 1]``. With ``num_workers > 0`` the
    patches are sampled in worker processes (the order does not depend on their number),
    which ignore stop signals: the main process handles them.
    """

    def __init__(
        self, sampler: PatchSampler, batch_size: int, *, start_index: int, num_workers: int, device: torch.device
    ) -> None:
        self.device = device
        loader = DataLoader(
            PatchBatches(sampler, batch_size, start_index=start_index),
            batch_size=None,
            num_workers=num_workers,
            pin_memory=device.type == "cuda",
            worker_init_fn=_ignore_stop_signals if num_workers > 0 else None,
            # Its own generator for the workers' base seed (the patches do not use it): drawn from
            # torch's global one, it would shift the global stream a checkpoint saves, as a resumed
            # run makes this loader at its resume step and an uninterrupted run at step 0.
            generator=torch.Generator().manual_seed(0),
        )
        self._batches = iter(loader)

    def __iter__(self) -> BatchStream:
        return self

    def __next__(self) -> torch.Tensor:
        return to_model_input(next(self._batches).to(self.device, non_blocking=True))

"""Timing the data pipeline: the patch sampler alone and the full loader.

The training loop must never wait for data. The figures that matter: clips per second
the sampler delivers on one core (the motion filter included, so at a realistic
acceptance rate), and batches per second through a ``DataLoader`` with 0 and N workers
including the conversion to the model's float layout.
"""

from __future__ import annotations

import itertools
import logging
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from vidpred.data.cache import VideoCache
from vidpred.data.cache_items import procedural_item
from vidpred.data.sampler import PatchBatches, PatchSampler, to_model_input

__all__ = ["DATA_PROFILES", "benchmark_data", "loader_throughput", "sampler_throughput"]

log = logging.getLogger(__name__)

# (name, procedural generator settings, number of videos). A static background makes most
# 240x320 crops fail the motion filter, as in real footage with a fixed camera.
DATA_PROFILES = (
    ("procedural 64x64", {"n_frames": 24, "height": 64, "width": 64}, 256),
    ("procedural 240x320, panning", {"n_frames": 24, "height": 240, "width": 320}, 16),
    ("procedural 240x320, static background", {"n_frames": 24, "height": 240, "width": 320, "pan_speed": 0.0}, 16),
)


def sampler_throughput(sampler: PatchSampler, batch_size: int, *, seconds: float = 2.0) -> dict:
    """Clips per second of ``sampler.sample`` in this thread, with the filter's statistics.

    Runs batches ``0, 1, ...`` for at least ``seconds`` (after one warm-up batch that maps
    the videos' pages in); the clips/s figure uses the total time.

    Returns:
        ``clips_per_sec``; ``candidates_per_clip``, the crops drawn per clip kept (1: each
        clip's first crop was kept); ``fallback_fraction``, the share of clips where every one
        of ``max_tries`` crops failed the motion filter.
    """
    sampler.sample(0, batch_size)
    n_batches = n_slots = n_candidates = n_fallback = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or n_batches < 3:
        sampler.sample(1 + n_batches, batch_size)
        stats = sampler.last_stats
        n_batches += 1
        n_slots += stats.n_slots
        n_candidates += stats.n_candidates
        n_fallback += stats.n_fallback
    return {
        "clips_per_sec": round(n_slots / elapsed),
        "candidates_per_clip": round(n_candidates / n_slots, 2),
        "fallback_fraction": round(n_fallback / n_slots, 4),
    }


def loader_throughput(sampler: PatchSampler, batch_size: int, num_workers: int, *, n_batches: int = 200) -> float:
    """Clips per second through ``DataLoader(PatchBatches)`` and ``to_model_input`` (CPU), over
    ``n_batches`` batches after the workers have started and filled their queues."""
    loader = DataLoader(PatchBatches(sampler, batch_size), batch_size=None, num_workers=num_workers)
    batches = iter(loader)
    for batch in itertools.islice(batches, max(2 * num_workers, 2)):  # workers started, queues full
        to_model_input(batch)
    start = time.perf_counter()
    for batch in itertools.islice(batches, n_batches):
        to_model_input(batch)
    elapsed = time.perf_counter() - start
    del batches  # shuts the workers down
    return n_batches * batch_size / elapsed


def benchmark_data(
    cache_dir: str | Path,
    *,
    n_frames: int = 5,
    patch_size: int = 32,
    batch_size: int = 64,
    motion_threshold: float = 0.002,
    max_tries: int = 16,
    unfiltered_fraction: float = 0.05,
    num_workers: int = 2,
    seconds: float = 2.0,
    profiles: tuple[tuple[str, dict, int], ...] = DATA_PROFILES,
) -> dict:
    """Sampler clips/s on one core for each of ``profiles``, and loader clips/s.

    ``profiles`` holds ``(name, procedural generator settings, number of videos)``
    (default :data:`DATA_PROFILES`).

    The sampler is timed with ``torch.set_num_threads(1)`` (numpy and OpenCV calls here are
    single-threaded anyway); the loader with 0 and ``num_workers`` workers on the last
    profile. Procedural videos are generated once into ``cache_dir``.

    Returns:
        The settings, ``"sampler": {profile: sampler_throughput(...)}``, the loader's profile
        and ``"loader_clips_per_sec": {"workers=0": .., "workers=N": ..}``.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    cache = VideoCache(cache_dir)
    result: dict = {"batch_size": batch_size, "n_frames": n_frames, "patch_size": patch_size,
                    "motion_threshold": motion_threshold, "sampler": {}}
    try:
        sampler = None
        for name, settings, n_videos in profiles:
            log.info("sampler: %s", name)
            videos = cache.load([procedural_item(seed, **settings) for seed in range(n_videos)],
                                min_frames=n_frames, desc=name)
            sampler = PatchSampler([v.frames for v in videos], n_frames, patch_size,
                                   motion_threshold=motion_threshold, max_tries=max_tries,
                                   unfiltered_fraction=unfiltered_fraction)
            result["sampler"][name] = sampler_throughput(sampler, batch_size, seconds=seconds)
        result["loader_profile"] = profiles[-1][0]
        result["loader_clips_per_sec"] = {}
        for workers in dict.fromkeys((0, num_workers)):  # --loader-workers 0: timed once
            log.info("loader: %d workers", workers)
            result["loader_clips_per_sec"][f"workers={workers}"] = round(
                loader_throughput(sampler, batch_size, workers))
    finally:
        torch.set_num_threads(threads)
    return result

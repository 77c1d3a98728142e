from types import SimpleNamespace

import numpy as np
import pytest
import torch

from vidpred.benchmark.data import benchmark_data, loader_throughput, sampler_throughput
from vidpred.data.sampler import PatchSampler

TINY_PROFILES = (
    ("moving", {"n_frames": 8, "height": 32, "width": 32}, 3),
    ("static background", {"n_frames": 8, "height": 48, "width": 48, "pan_speed": 0.0, "n_objects": 1}, 2),
)


def test_sampler_throughput_reports_the_filters_cost():
    video = np.zeros((6, 40, 40, 3), np.uint8)  # static: every candidate fails, every slot falls back
    sampler = PatchSampler([video], 4, 16, motion_threshold=0.01, max_tries=3, unfiltered_fraction=0.0)
    stats = sampler_throughput(sampler, 8, seconds=0.05)
    assert stats["clips_per_sec"] > 0
    assert stats["candidates_per_clip"] == 3.0 and stats["fallback_fraction"] == 1.0


def test_benchmark_data_times_sampler_and_loader(tmp_path):
    result = benchmark_data(tmp_path, n_frames=4, patch_size=16, batch_size=8, num_workers=1, seconds=0.05,
                            profiles=TINY_PROFILES)
    assert set(result["sampler"]) == {"moving", "static background"}
    assert all(r["clips_per_sec"] > 0 and r["candidates_per_clip"] >= 1 for r in result["sampler"].values())
    assert set(result["loader_clips_per_sec"]) == {"workers=0", "workers=1"}
    assert all(v > 0 for v in result["loader_clips_per_sec"].values())


class _TimedSampler:
    """Batches of ``batch_size`` 1-frame 1x1 clips that take ``seconds(index)`` each to draw on
    ``clock``, of which every clip took two crops and one clip of each batch fell back."""

    def __init__(self, clock, seconds):
        self.clock, self.seconds = clock, seconds
        self.indices = []
        self.last_stats = None

    def sample(self, index, batch_size):
        self.indices.append(index)
        self.clock.advance(self.seconds(index))
        self.last_stats = SimpleNamespace(n_slots=batch_size, n_candidates=2 * batch_size, n_fallback=1)
        return np.zeros((batch_size, 1, 1, 1, 3), np.uint8)


def test_sampler_throughput_times_new_batches_after_an_untimed_warm_up(clock):
    # A 0.3 s warm-up, then 8 clips every 20 ms until 0.1 s have passed: 5 batches, 40 clips
    # in 0.1 s, 400 clips/s (with the warm-up timed: 40 / 0.4 = 100).
    sampler = _TimedSampler(clock, lambda index: 0.3 if index == 0 else 0.02)
    stats = sampler_throughput(sampler, 8, seconds=0.1 - 1e-9)
    assert sampler.indices == [0, 1, 2, 3, 4, 5]
    assert stats == {"clips_per_sec": 400, "candidates_per_clip": 2.0, "fallback_fraction": 0.125}


def test_sampler_throughput_times_at_least_three_batches(clock):
    sampler = _TimedSampler(clock, lambda index: 0.01)
    assert sampler_throughput(sampler, 8, seconds=0.0)["clips_per_sec"] == 800  # 24 clips in 0.03 s
    assert sampler.indices == [0, 1, 2, 3]  # the warm-up, then three timed


def test_loader_throughput_times_the_batches_after_the_warm_up(clock):
    # The two warm-up batches take 0.3 s each, the 10 timed 10 ms: 80 clips in 0.1 s (with the
    # warm-up timed: 80 / 0.7 = 114).
    sampler = _TimedSampler(clock, lambda index: 0.3 if index < 2 else 0.01)
    assert loader_throughput(sampler, 8, num_workers=0, n_batches=10) == pytest.approx(800)
    assert sampler.indices == list(range(12))


def test_benchmark_data_gives_the_sampler_its_filter_settings_and_timing(tmp_path, monkeypatch):
    import vidpred.benchmark.data as data

    asked, loaders = [], []
    real, real_loader = data.sampler_throughput, data.loader_throughput
    monkeypatch.setattr(data, "sampler_throughput",
                        lambda sampler, batch_size, *, seconds: asked.append(seconds) or real(sampler, batch_size,
                                                                                               seconds=seconds))
    monkeypatch.setattr(data, "loader_throughput",
                        lambda sampler, batch_size, workers: loaders.append(workers) or real_loader(sampler, batch_size,
                                                                                                    workers))
    # No crop moves enough: each clip takes all 3 tries and falls back.
    result = benchmark_data(tmp_path, n_frames=4, patch_size=16, batch_size=8, motion_threshold=10.0, max_tries=3,
                            unfiltered_fraction=0.0, num_workers=0, seconds=0.05, profiles=TINY_PROFILES[:1])
    assert asked == [0.05]
    assert result["sampler"]["moving"]["candidates_per_clip"] == 3.0
    assert result["sampler"]["moving"]["fallback_fraction"] == 1.0
    assert result["loader_profile"] == "moving" and set(result["loader_clips_per_sec"]) == {"workers=0"}
    assert loaders == [0]  # timed once


def test_the_data_benchmark_times_the_loader_on_the_last_profile_and_restores_the_threads(tmp_path):
    profiles = (("first", {"n_frames": 6, "height": 24, "width": 24}, 2),
                ("last", {"n_frames": 6, "height": 32, "width": 32}, 2))
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        result = benchmark_data(tmp_path, n_frames=4, patch_size=16, batch_size=4, num_workers=0, seconds=0.02,
                                profiles=profiles)
        assert torch.get_num_threads() == 2  # timed on one thread, then given back
    finally:
        torch.set_num_threads(threads)
    assert result["loader_profile"] == "last"

import time
from types import SimpleNamespace

import numpy as np

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


class _SleepingSampler:
    """Batches of ``batch_size`` 1-frame 1x1 clips that take ``seconds(index)`` each to draw,
    of which every clip took two crops and one clip of each batch fell back."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.indices = []
        self.last_stats = None

    def sample(self, index, batch_size):
        self.indices.append(index)
        time.sleep(self.seconds(index))
        self.last_stats = SimpleNamespace(n_slots=batch_size, n_candidates=2 * batch_size, n_fallback=1)
        return np.zeros((batch_size, 1, 1, 1, 3), np.uint8)


def test_sampler_throughput_times_new_batches_after_an_untimed_warm_up():
    # 8 clips in 20 ms: at most 400 clips/s. A 0.3 s warm-up in the timing would bring it under 200.
    sampler = _SleepingSampler(lambda index: 0.3 if index == 0 else 0.02)
    stats = sampler_throughput(sampler, 8, seconds=0.1)
    assert 200 < stats["clips_per_sec"] <= 400
    assert stats["candidates_per_clip"] == 2.0 and stats["fallback_fraction"] == 0.125
    assert sampler.indices == list(range(len(sampler.indices))) and len(sampler.indices) >= 4


def test_sampler_throughput_times_at_least_three_batches():
    sampler = _SleepingSampler(lambda index: 0.0)
    sampler_throughput(sampler, 8, seconds=0.0)
    assert sampler.indices == [0, 1, 2, 3]  # the warm-up, then three timed


def test_loader_throughput_times_the_batches_after_the_warm_up():
    # The two warm-up batches take 0.3 s each, the 10 timed 10 ms: at most 800 clips/s, under 100 with the warm-up.
    sampler = _SleepingSampler(lambda index: 0.3 if index < 2 else 0.01)
    clips_per_sec = loader_throughput(sampler, 8, num_workers=0, n_batches=10)
    assert 400 < clips_per_sec <= 800
    assert sampler.indices == list(range(12))


def test_benchmark_data_gives_the_sampler_its_filter_settings_and_timing(tmp_path, monkeypatch):
    import vidpred.benchmark.data as data

    asked = []
    real = data.sampler_throughput
    monkeypatch.setattr(data, "sampler_throughput",
                        lambda sampler, batch_size, *, seconds: asked.append(seconds) or real(sampler, batch_size,
                                                                                               seconds=seconds))
    # No crop moves enough: each clip takes all 3 tries and falls back.
    result = benchmark_data(tmp_path, n_frames=4, patch_size=16, batch_size=8, motion_threshold=10.0, max_tries=3,
                            unfiltered_fraction=0.0, num_workers=0, seconds=0.05, profiles=TINY_PROFILES[:1])
    assert asked == [0.05]
    assert result["sampler"]["moving"]["candidates_per_clip"] == 3.0
    assert result["sampler"]["moving"]["fallback_fraction"] == 1.0
    assert result["loader_profile"] == "moving" and set(result["loader_clips_per_sec"]) == {"workers=0"}

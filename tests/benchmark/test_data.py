import numpy as np

from vidpred.benchmark.data import benchmark_data, sampler_throughput
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

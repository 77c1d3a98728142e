from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from vidpred.data.cache import VideoCache
from vidpred.data.cache_items import procedural_item
from vidpred.data.procedural import generate_video
from vidpred.data.sampler import (
    PatchBatches,
    PatchSampler,
    SampleStats,
    fixed_clips,
    motion_score,
    to_model_input,
    to_uint8_frames,
)


@pytest.fixture(scope="module")
def videos():
    """Four procedural videos of different sizes, uint8 (T, H, W, 3)."""
    return [generate_video(s, 10, h, w) for s, (h, w) in enumerate([(40, 40), (48, 64), (40, 56), (64, 40)])]


def _static(n_frames=8, size=40, value=90):
    return np.full((n_frames, size, size, 3), value, np.uint8)


def test_motion_score_by_hand():
    clip = np.zeros((1, 3, 2, 2, 1), np.uint8)
    clip[0, 1] = 255  # 0 -> 255 -> 0: each step is 2 in [-1, 1] units, squared 4
    assert motion_score(clip)[0] == pytest.approx(4.0)
    clip[0, 2] = 255  # second step is still: mean of (4, 0)
    assert motion_score(clip)[0] == pytest.approx(2.0)
    assert motion_score(np.zeros((2, 3, 4, 4, 3), np.uint8)).tolist() == [0.0, 0.0]


def test_motion_score_is_exact():
    rng = np.random.default_rng(0)
    clips = rng.integers(0, 256, (6, 5, 32, 32, 3), dtype=np.uint8)
    clips[1] = clips[1, :1]  # a still clip
    exact = ((clips[:, 1:].astype(np.int64) - clips[:, :-1]) ** 2).reshape(6, -1).sum(axis=1)
    expected = exact * ((2 / 255) ** 2 / (4 * 32 * 32 * 3))
    assert motion_score(clips).tolist() == expected.tolist()  # no float32 rounding of the sum
    assert motion_score(clips[:, :, 3:9])[0] > 0  # non-contiguous crops too


def test_sample_is_a_pure_function_of_seed_rank_index(videos):
    a = PatchSampler(videos, 5, 16, motion_threshold=0.002, seed=3)
    b = PatchSampler(videos, 5, 16, motion_threshold=0.002, seed=3)
    batch = a.sample(7, 8)
    assert batch.shape == (8, 5, 16, 16, 3) and batch.dtype == np.uint8
    a.sample(8, 8)  # no hidden state carried between calls
    np.testing.assert_array_equal(a.sample(7, 8), batch)
    np.testing.assert_array_equal(b.sample(7, 8), batch)
    assert not np.array_equal(a.sample(6, 8), batch)
    assert not np.array_equal(PatchSampler(videos, 5, 16, motion_threshold=0.002, seed=3, rank=1).sample(7, 8), batch)
    assert not np.array_equal(PatchSampler(videos, 5, 16, motion_threshold=0.002, seed=4).sample(7, 8), batch)


def test_accepted_crops_exceed_the_threshold():
    # Half the videos are static: a filter-free sampler would return many still crops.
    moving = [generate_video(s, 8, 40, 40, pan_speed=0.0, n_objects=1) for s in range(3)]
    sampler = PatchSampler(moving + [_static()] * 3, 4, 16, motion_threshold=0.01, unfiltered_fraction=0.0, seed=1)
    unfiltered = PatchSampler(moving + [_static()] * 3, 4, 16, motion_threshold=0.0, max_tries=1,
                              unfiltered_fraction=1.0, seed=1)
    assert (motion_score(unfiltered.sample(0, 64)) <= 0.01).mean() > 0.3
    for index in range(3):
        batch = sampler.sample(index, 64)
        assert (motion_score(batch) > 0.01).all()
        stats = sampler.last_stats
        assert stats.n_fallback == 0 and stats.n_unfiltered == 0 and stats.n_candidates > 64
        assert 0.0 < stats.acceptance < 1.0


def test_static_videos_fall_back_without_hanging():
    sampler = PatchSampler([_static(), _static(value=30)], 4, 16, motion_threshold=0.01, max_tries=5,
                           unfiltered_fraction=0.0)
    batch = sampler.sample(0, 32)
    assert batch.shape == (32, 4, 16, 16, 3)
    assert sampler.last_stats.n_fallback == 32 and sampler.last_stats.n_candidates == 32 * 5


def test_fallback_keeps_the_most_moving_candidate():
    video = _static(n_frames=4, size=64)
    video[1:, 40:, 40:] = 200  # only the bottom-right corner ever moves (once)
    sampler = PatchSampler([video], 4, 16, motion_threshold=10.0, max_tries=200, unfiltered_fraction=0.0)
    batch = sampler.sample(0, 8)  # the threshold is unreachable: every slot falls back
    assert sampler.last_stats.n_fallback == 8
    assert (motion_score(batch) > 0).all()  # 200 tries always find a crop over the corner


def test_finds_a_moving_square_in_a_static_video():
    n_frames, size = 12, 96
    video = np.full((n_frames, size, size, 3), 60, np.uint8)
    for t in range(n_frames):
        video[t, 10:18, 20 + 3 * t:28 + 3 * t] = 240  # an 8x8 square moving right, 3 px per frame
    sampler = PatchSampler([video], 5, 16, motion_threshold=1e-3, max_tries=64, unfiltered_fraction=0.0, seed=2)
    def shows_square(clips):
        return (clips == 240).any(axis=(1, 2, 3, 4))

    batch = sampler.sample(0, 32)
    assert sampler.last_stats.n_fallback == 0
    assert shows_square(batch).all() and (motion_score(batch) > 1e-3).all()
    blind = PatchSampler([video], 5, 16, motion_threshold=0.0, unfiltered_fraction=1.0, seed=2)
    assert shows_square(blind.sample(0, 256)).mean() < 0.3  # what chance alone would give


def test_unfiltered_fraction_lets_static_crops_through():
    sampler = PatchSampler([_static()], 4, 16, motion_threshold=0.01, max_tries=3, unfiltered_fraction=0.5)
    sampler.sample(0, 400)
    stats = sampler.last_stats
    assert 150 < stats.n_unfiltered < 250
    assert stats.n_fallback == 400 - stats.n_unfiltered


def test_a_sequence_of_unfiltered_fractions_cycles_with_the_batch_index():
    n_frames, size = 12, 96
    video = np.full((n_frames, size, size, 3), 60, np.uint8)
    for t in range(n_frames):
        video[t, 10:18, 20 + 3 * t:28 + 3 * t] = 240  # a square moving right over a still background
    sampler = PatchSampler([video], 5, 16, motion_threshold=1e-3, max_tries=64, unfiltered_fraction=(0.0, 1.0), seed=2)
    for index in range(4):
        batch = sampler.sample(index, 32)
        moving = (motion_score(batch) > 1e-3).mean()
        if index % 2 == 0:  # filtered: every crop moves
            assert sampler.last_stats.n_unfiltered == 0 and moving == 1.0
        else:  # untested: mostly the still background
            assert sampler.last_stats.n_unfiltered == 32 and moving < 0.5
    # A one-entry sequence is the plain fraction.
    single = PatchSampler([video], 5, 16, motion_threshold=1e-3, unfiltered_fraction=(0.3,), seed=2)
    plain = PatchSampler([video], 5, 16, motion_threshold=1e-3, unfiltered_fraction=0.3, seed=2)
    assert np.array_equal(single.sample(3, 16), plain.sample(3, 16))


@pytest.mark.parametrize("kwargs, match", [
    ({"n_frames": 11}, "fewer than n_frames"),
    ({"patch_size": 41}, "smaller than data.patch_size=41"),
    ({"n_frames": 1}, "n_frames"),
    ({"unfiltered_fraction": 1.5}, "unfiltered_fraction"),
    ({"unfiltered_fraction": (0.0, -0.1)}, "unfiltered_fraction"),
    ({"unfiltered_fraction": ()}, "unfiltered_fraction"),
])
def test_construction_errors(videos, kwargs, match):
    args = {"n_frames": 5, "patch_size": 16, **kwargs}
    with pytest.raises(ValueError, match=match):
        PatchSampler(videos, args["n_frames"], args["patch_size"], motion_threshold=0.0,
                     unfiltered_fraction=args.get("unfiltered_fraction", 0.05))


def test_a_video_too_small_in_one_side_only_is_named(videos):
    # 48 px patches: video 0 (40x40) is too small both ways, video 2 (40x56) in height only,
    # video 3 (64x40) in width only; video 1 (48x64) fits.
    with pytest.raises(ValueError, match=r"^3 training video\(s\) smaller than data.patch_size=48: "
                                         r"video 0 \(40x40\), video 2 \(40x56\), video 3 \(64x40\);"):
        PatchSampler(videos, 5, 48, motion_threshold=0.0)


def test_videos_with_different_channel_counts_are_refused():
    rgb, grey = _static(), _static()[..., :1]
    with pytest.raises(ValueError, match="^video 1 has 1 channels, video 0 has 3$"):
        PatchSampler([rgb, grey], 5, 16, motion_threshold=0.0)


def _first_batches(loader, n):
    return [batch.clone() for batch in itertools.islice(loader, n)]


def test_same_sequence_for_any_number_of_workers(videos):
    sampler = PatchSampler(videos, 5, 16, motion_threshold=0.002, seed=5)
    dataset = PatchBatches(sampler, batch_size=4, start_index=3)
    serial = _first_batches(DataLoader(dataset, batch_size=None, num_workers=0), 6)
    parallel = _first_batches(DataLoader(dataset, batch_size=None, num_workers=2), 6)
    assert all(b.dtype == torch.uint8 and b.shape == (4, 5, 16, 16, 3) for b in serial)
    for i, (s, p) in enumerate(zip(serial, parallel)):
        torch.testing.assert_close(s, p, msg=f"batch {i}")
    expected = [torch.from_numpy(sampler.sample(3 + i, 4)) for i in range(6)]
    for s, e in zip(serial, expected):
        torch.testing.assert_close(s, e)  # start_index=3 resumes at batch 3


def test_pickles_memory_maps_by_reference(tmp_path):
    frames = [v.frames for v in VideoCache(tmp_path).load(
        [procedural_item(s, n_frames=8, height=48, width=48) for s in range(3)], min_frames=5)]
    sampler = PatchSampler(frames, 5, 16, motion_threshold=0.0, seed=9)
    data = pickle.dumps(sampler)
    assert len(data) < sum(f.nbytes for f in frames) / 10  # references, not pixels
    clone = pickle.loads(data)
    assert isinstance(clone.videos[0], np.memmap)
    np.testing.assert_array_equal(clone.sample(4, 6), sampler.sample(4, 6))


def test_to_model_input_layout_and_range():
    batch = torch.randint(0, 256, (2, 5, 6, 7, 3), dtype=torch.uint8)
    batch[0, 0, 0, 0] = torch.tensor([0, 255, 128], dtype=torch.uint8)
    x = to_model_input(batch)
    assert x.shape == (2, 3, 5, 6, 7) and x.dtype == torch.float32 and x.is_contiguous()
    assert x.min() >= -1 and x.max() <= 1
    assert x[0, :, 0, 0, 0].tolist() == pytest.approx([-1.0, 1.0, 128 / 127.5 - 1], abs=1e-6)
    assert x[1, 2, 4, 5, 6].item() == pytest.approx(batch[1, 4, 5, 6, 2].item() / 127.5 - 1, abs=1e-6)
    torch.testing.assert_close(to_uint8_frames(x), batch, rtol=0, atol=0)
    with pytest.raises(TypeError, match=r"expected a uint8 \(B, T, H, W, C\) tensor, got torch.float32"):
        to_model_input(x)


def test_to_uint8_frames_clamps_and_rounds():
    x = torch.tensor([-3.0, -1.0, 0.0, 0.999, 5.0]).view(1, 1, 5, 1, 1)
    assert to_uint8_frames(x).flatten().tolist() == [0, 0, 128, 255, 255]  # 127.5 rounds to even -> 128


def test_fixed_clips_are_deterministic_and_spread(videos):
    clips = fixed_clips(videos, 6, 4, seed=0)
    again = fixed_clips(videos, 6, 4, seed=0)
    assert len(clips) == 6
    assert [c.shape[1:3] for c in clips] == [v.shape[1:3] for v in videos] + [v.shape[1:3] for v in videos[:2]]
    assert all(c.shape[0] == 4 and c.dtype == np.uint8 and not isinstance(c, np.memmap) for c in clips)
    for a, b in zip(clips, again):
        np.testing.assert_array_equal(a, b)
    two = fixed_clips(videos, 2, 4, seed=0)  # fewer clips than videos: spread over the list
    assert [c.shape[1:3] for c in two] == [videos[0].shape[1:3], videos[2].shape[1:3]]
    with pytest.raises(ValueError, match="^video 0 has .* frames, fewer than n_frames=11$"):
        fixed_clips(videos, 2, 11, seed=0)
    with pytest.raises(ValueError, match="^a.avi has .* frames, fewer than n_frames=11$"):
        fixed_clips(videos, 2, 11, seed=0, names=[f"{c}.avi" for c in "abcdefgh"[:len(videos)]])


def _pooled_videos(n_frames=6, size=20):
    """Two 'real' videos with values in [0, 100] and two 'synthetic' ones in [150, 255]."""
    rng = np.random.default_rng(0)
    real = [rng.integers(0, 101, (n_frames, size, size, 3), dtype=np.uint8) for _ in range(2)]
    synthetic = [rng.integers(150, 256, (n_frames, size, size, 3), dtype=np.uint8) for _ in range(2)]
    return real + synthetic


def _synthetic_share(sampler, n_batches=40, batch_size=50):
    drawn = np.concatenate([sampler.sample(i, batch_size) for i in range(n_batches)])
    is_synthetic = drawn.min(axis=(1, 2, 3, 4)) >= 150
    assert (is_synthetic | (drawn.max(axis=(1, 2, 3, 4)) <= 100)).all()  # no clip mixes pools
    return is_synthetic.mean()


@pytest.mark.parametrize("weight", [0.0, 0.5, 1.0])
def test_pools_draw_clips_in_their_weights_shares(weight):
    sampler = PatchSampler(_pooled_videos(), 4, 8, motion_threshold=0.0, seed=1,
                           pools=[(2, 1.0 - weight), (2, weight)])
    share = _synthetic_share(sampler)
    if weight in (0.0, 1.0):
        assert share == weight
    else:
        assert share == pytest.approx(weight, abs=0.04)  # 2000 clips: standard deviation 0.011
    sampler.sample(0, 50)
    n_real, n_synthetic = sampler.last_stats.n_per_pool
    assert n_real + n_synthetic == 50
    assert (n_synthetic == 0) == (weight == 0) and (n_real == 0) == (weight == 1)


def test_a_pool_keeps_its_share_when_the_motion_filter_rejects_its_videos():
    videos = _pooled_videos()
    videos[0][:] = videos[0][:1]  # the real videos are still: every one of their crops is rejected
    videos[1][:] = videos[1][:1]
    sampler = PatchSampler(videos, 4, 8, motion_threshold=1e-3, max_tries=8, unfiltered_fraction=0.0, seed=1,
                           pools=[(2, 0.5), (2, 0.5)])
    assert _synthetic_share(sampler) == pytest.approx(0.5, abs=0.04)  # retries stay in the slot's pool


def test_pooled_sequence_is_the_same_for_any_number_of_workers():
    sampler = PatchSampler(_pooled_videos(), 4, 8, motion_threshold=0.0, seed=5, pools=[(2, 0.3), (2, 0.7)])
    dataset = PatchBatches(sampler, batch_size=6, start_index=2)
    serial = _first_batches(DataLoader(dataset, batch_size=None, num_workers=0), 4)
    parallel = _first_batches(DataLoader(dataset, batch_size=None, num_workers=2), 4)
    for i, (s, p) in enumerate(zip(serial, parallel)):
        torch.testing.assert_close(s, p, msg=f"batch {i}")
    np.testing.assert_array_equal(serial[1].numpy(), sampler.sample(3, 6))


@pytest.mark.parametrize("pools, match", [
    ([(3, 0.5), (2, 0.5)], "split the 4 videos"),
    ([(2, -0.5), (2, 1.5)], "weights"),
    ([(4, 0.0), (0, 1.0)], "weights"),
    ([(2, 0.0), (2, 0.0)], "weights"),
])
def test_pool_errors(pools, match):
    with pytest.raises(ValueError, match=match):
        PatchSampler(_pooled_videos(), 4, 8, motion_threshold=0.0, pools=pools)


def test_an_empty_pool_of_weight_0_is_allowed():
    # A group of weight 0 may be empty (e.g. no synthetic videos asked for); it is never drawn.
    sampler = PatchSampler(_pooled_videos(), 4, 8, motion_threshold=0.0, seed=1, pools=[(2, 0.0), (0, 0.0), (2, 1.0)])
    assert _synthetic_share(sampler) == 1.0
    assert sampler.last_stats.n_per_pool == (0, 0, 50)


def test_pool_weights_are_relative():
    # Weights 3 and 1 are shares 3/4 and 1/4: only their ratio counts, not their sum.
    sampler = PatchSampler(_pooled_videos(), 4, 8, motion_threshold=0.0, seed=1, pools=[(2, 3.0), (2, 1.0)])
    assert _synthetic_share(sampler) == pytest.approx(0.25, abs=0.04)


def _indexed_video(n_frames, size=8):
    """Frame t is uniformly 8 * t, so a crop tells which frames it came from."""
    return np.repeat((8 * np.arange(n_frames, dtype=np.uint8))[:, None, None, None], size, axis=1).repeat(
        size, axis=2).repeat(3, axis=3)


def test_every_start_of_every_video_is_drawn():
    # A short video first: the long one's starts must come from its own list, up to its last.
    videos = [_indexed_video(4), _indexed_video(30)]
    sampler = PatchSampler(videos, 4, 8, motion_threshold=0.0, unfiltered_fraction=1.0, seed=2)
    clips = np.concatenate([sampler.sample(i, 32) for i in range(20)])
    starts = clips[:, :, 0, 0, 0].astype(int) // 8
    np.testing.assert_array_equal(starts, starts[:, :1] + np.arange(4))  # consecutive frames
    assert set(starts[:, 0].tolist()) == set(range(27))  # 30 - 4 + 1 starts, the short video's 0 among them


def test_a_video_exactly_the_patch_size_and_clip_length_is_used_whole():
    video = np.random.default_rng(0).integers(0, 256, (5, 16, 16, 3), dtype=np.uint8)
    sampler = PatchSampler([video], 5, 16, motion_threshold=0.0, seed=0)
    batch = sampler.sample(0, 3)
    for clip in batch:
        np.testing.assert_array_equal(clip, video)
    np.testing.assert_array_equal(fixed_clips([video], 2, 5, seed=0)[1], video)


def test_fixed_clips_are_consecutive_frames_of_a_valid_window():
    clips = fixed_clips([_indexed_video(12)], 60, 5, seed=3)
    starts = set()
    for clip in clips:
        frames = clip[:, 0, 0, 0].astype(int) // 8
        np.testing.assert_array_equal(frames, frames[0] + np.arange(5))
        starts.add(int(frames[0]))
    assert starts == set(range(8))  # 12 - 5 + 1 windows, the last included


def test_a_candidate_must_exceed_the_threshold_as_motion_score_measures_it():
    # Frames alternate between two flat levels: every crop has the same score.
    video = np.zeros((8, 12, 12, 3), np.uint8)
    video[1::2] = 10
    score = float(motion_score(video[None, :3, :6, :6])[0])
    assert score == pytest.approx((10 * 2 / 255) ** 2)
    below = PatchSampler([video], 3, 6, motion_threshold=score * (1 - 1e-9), unfiltered_fraction=0.0, max_tries=4)
    below.sample(0, 5)
    assert (below.last_stats.n_fallback, below.last_stats.n_candidates) == (0, 5)
    at = PatchSampler([video], 3, 6, motion_threshold=score, unfiltered_fraction=0.0, max_tries=4)
    at.sample(0, 5)
    assert (at.last_stats.n_fallback, at.last_stats.n_candidates) == (5, 20)


def test_acceptance_counts_only_the_motion_tested_candidates():
    # Every crop of this video scores (20 / 255)^2; slots left untested by unfiltered_fraction
    # take their first candidate and count neither as passed nor as tested.
    video = np.zeros((8, 12, 12, 3), np.uint8)
    video[1::2] = 10
    score = (10 * 2 / 255) ** 2
    passing = PatchSampler([video], 3, 6, motion_threshold=score / 2, unfiltered_fraction=0.5, max_tries=4, seed=1)
    passing.sample(0, 40)
    stats = passing.last_stats
    assert 0 < stats.n_unfiltered < 40 and stats.n_candidates == 40 and stats.n_fallback == 0
    assert stats.acceptance == 1.0  # every tested candidate passed
    failing = PatchSampler([video], 3, 6, motion_threshold=score * 2, unfiltered_fraction=0.5, max_tries=4, seed=1)
    failing.sample(0, 40)
    stats = failing.last_stats
    u = stats.n_unfiltered
    assert 0 < u < 40 and stats.n_fallback == 40 - u and stats.n_candidates == u + 4 * (40 - u)
    assert stats.acceptance == 0.0  # 4 * (40 - u) candidates tested, none passed
    # By hand: 10 slots, 2 untested, 3 fell back, 25 candidates: 5 of the 23 tested passed.
    assert SampleStats(n_slots=10, n_candidates=25, n_unfiltered=2, n_fallback=3).acceptance == 5 / 23
    assert SampleStats(n_slots=4, n_candidates=4, n_unfiltered=4, n_fallback=0).acceptance == 1.0


@pytest.mark.parametrize("kwargs, match", [
    ({"max_tries": 0}, "max_tries must be >= 1, got 0"),
    ({"patch_size": 0}, "patch_size must be >= 1, got 0"),
    ({"motion_threshold": -0.001}, "motion_threshold must be >= 0"),
    ({"seed": -1}, "seed and rank must be >= 0"),
    ({"rank": -1}, "seed and rank must be >= 0"),
    ({"names": ["a.avi", "b.avi", "c.avi"]}, "names: 3 for 4 videos"),
])
def test_keyword_errors(videos, kwargs, match):
    args = {"patch_size": 16, "motion_threshold": 0.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        PatchSampler(videos, 5, **args)


def test_a_pool_of_weight_0_is_never_drawn_even_past_the_rounded_last_share(monkeypatch):
    # Ten pools of weight 0.1 and a last one of weight 0: summed in order the ten shares come
    # to 1 - 2**-53, one step short of 1, so the largest draw below 1 lies past all of them.
    assert np.cumsum([0.1] * 10)[-1] == 1 - 2**-53
    videos = [np.full((4, 8, 8, 3), 10 * i, np.uint8) for i in range(11)]  # video i is all 10 * i
    sampler = PatchSampler(videos, 4, 8, motion_threshold=0.0, unfiltered_fraction=1.0, max_tries=1,
                           pools=[(1, 0.1)] * 10 + [(1, 0.0)])
    real_default_rng = np.random.default_rng

    class LargestDraws:
        """A generator whose uniform draws are all the largest double below 1."""

        def __init__(self, seed):
            self.rng = real_default_rng(seed)

        def random(self, size=None):
            return np.full(size, 1 - 2**-53)

        def integers(self, *args, **kwargs):
            return self.rng.integers(*args, **kwargs)

    monkeypatch.setattr(np.random, "default_rng", LargestDraws)
    batch = sampler.sample(0, 4)
    assert (batch == 90).all()  # the last pool of positive weight, not the empty-weight one
    assert sampler.last_stats.n_per_pool == (0,) * 9 + (4, 0)


def test_the_smallest_batches_and_clip_lists(videos):
    sampler = PatchSampler(videos, 5, 16, motion_threshold=0.0, seed=3)
    assert sampler.sample(0, 1).shape == (1, 5, 16, 16, 3)
    for index, batch_size in ((0, 0), (-1, 2)):
        with pytest.raises(ValueError, match="need index >= 0 and batch_size >= 1"):
            sampler.sample(index, batch_size)
    single = next(iter(PatchBatches(sampler, batch_size=1, start_index=2)))
    np.testing.assert_array_equal(single.numpy(), sampler.sample(2, 1))
    for batch_size, start_index in ((0, 0), (1, -1)):
        with pytest.raises(ValueError, match="need batch_size >= 1 and start_index >= 0"):
            PatchBatches(sampler, batch_size=batch_size, start_index=start_index)
    assert fixed_clips(videos, 0, 4, seed=0) == []  # no validation clips asked for
    one_frame = fixed_clips(videos, 2, 1, seed=0)
    assert [c.shape for c in one_frame] == [(1, 40, 40, 3), (1, 40, 56, 3)]  # videos 0 and 2 of 4
    for n_clips, n_frames in ((-1, 4), (2, 0)):
        with pytest.raises(ValueError, match="need n_clips >= 0 and n_frames >= 1"):
            fixed_clips(videos, n_clips, n_frames, seed=0)

"""vidpred/data/stream.py: a run's data and the batch stream that a resumed run restarts."""

from __future__ import annotations

import itertools
import re
import signal

import numpy as np
import pytest
import torch

from vidpred.config import config_from_dict
from vidpred.data.cache import NoUsableVideosError
from vidpred.data.errors import DataError
from vidpred.data.stream import STOP_SIGNALS, BatchStream, load_training_data

CPU = torch.device("cpu")


@pytest.fixture
def data(tiny_config_data):
    cfg = config_from_dict(tiny_config_data)
    return cfg.data, load_training_data(cfg.data, n_context=4, n_future=2, val_n_future=3, seed=0, progress=False)


def test_loads_both_splits(data):
    cfg, training = data
    assert training.n_train_videos == cfg.procedural.n_train_videos == 6
    assert len(training.val_clips) == cfg.n_val_clips
    assert all(clip.shape == (4 + 3, 32, 32, 3) and clip.dtype == np.uint8 for clip in training.val_clips)
    assert training.sampler.sample(0, 2).shape == (2, 4 + 2, cfg.patch_size, cfg.patch_size, 3)


def test_procedural_videos_too_short_for_a_clip_are_one_error_before_any_is_generated(tiny_config_data, tmp_path):
    cfg = config_from_dict(tiny_config_data, [f"data.cache_dir={tmp_path / 'cache'}"])
    n_frames = cfg.data.procedural.n_frames
    with pytest.raises(DataError, match=rf"data.procedural.n_frames \({n_frames}\) must be >= model.n_context \+ the "
                                        rf"longer of train.n_future and train.val_n_future \({n_frames + 1}\)"):
        load_training_data(cfg.data, n_context=4, n_future=1, val_n_future=n_frames - 3, seed=0, progress=False)
    assert not (tmp_path / "cache").exists()


def test_discriminator_batches_get_their_own_motion_filter(tiny_config_data):
    cfg = config_from_dict({**tiny_config_data, "data": {**tiny_config_data["data"], "d_unfiltered_fraction": 0.0}})
    kwargs = dict(n_context=4, n_future=2, val_n_future=3, seed=0, progress=False)
    alternating = load_training_data(cfg.data, discriminator_batches=True, **kwargs).sampler
    assert alternating.unfiltered_fractions == (0.0, cfg.data.unfiltered_fraction)
    # Without a discriminator every batch is a generator batch.
    assert load_training_data(cfg.data, **kwargs).sampler.unfiltered_fractions == (cfg.data.unfiltered_fraction,)


def test_a_restarted_stream_continues_the_uninterrupted_one(data):
    _, training = data
    stream = BatchStream(training.sampler, 3, start_index=0, num_workers=0, device=CPU)
    batches = list(itertools.islice(stream, 5))
    assert batches[0].shape == (3, 3, 6, 16, 16) and batches[0].dtype == torch.float32
    assert -1 <= batches[0].min() and batches[0].max() <= 1
    assert not torch.equal(batches[0], batches[1])
    restarted = BatchStream(training.sampler, 3, start_index=3, num_workers=0, device=CPU)
    for expected, got in zip(batches[3:], restarted):
        assert torch.equal(expected, got)


def test_a_stream_leaves_torch_s_global_random_state_as_it_was(data):
    # A checkpoint saves torch's global random state; a resumed run makes its stream at the
    # resume step and an uninterrupted one at step 0, so making one must not draw from it.
    _, training = data
    before = torch.get_rng_state()
    next(BatchStream(training.sampler, 2, start_index=0, num_workers=0, device=CPU))
    assert torch.equal(torch.get_rng_state(), before)


def test_worker_processes_give_the_same_stream(data):
    _, training = data
    alone = list(itertools.islice(BatchStream(training.sampler, 2, start_index=1, num_workers=0, device=CPU), 3))
    workers = list(itertools.islice(BatchStream(training.sampler, 2, start_index=1, num_workers=2, device=CPU), 3))
    assert all(torch.equal(a, b) for a, b in zip(alone, workers))


def _with_synthetic(tiny_config_data, weight):
    data = {**tiny_config_data["data"], "synthetic_weight": weight,
            "synthetic": {"n_videos": 3, "n_frames": 8, "height": 40, "width": 48}}
    cfg = config_from_dict({**tiny_config_data, "data": data})
    return load_training_data(cfg.data, n_context=4, n_future=2, val_n_future=3, seed=0, progress=False)


def test_synthetic_videos_join_training_only(tiny_config_data, data):
    _, real_only = data
    mixed = _with_synthetic(tiny_config_data, 0.5)
    assert (mixed.n_train_videos, mixed.n_synthetic_videos) == (6, 3)
    assert mixed.sampler.pools == [(6, 0.5), (3, 0.5)]
    assert [v.shape for v in mixed.sampler.videos[6:]] == [(8, 40, 48, 3)] * 3
    for a, b in zip(mixed.val_clips, real_only.val_clips):  # validation stays on the real videos
        np.testing.assert_array_equal(a, b)
    n_per_pool = np.zeros(2, int)
    for index in range(20):
        mixed.sampler.sample(index, 10)
        n_per_pool += mixed.sampler.last_stats.n_per_pool
    assert 70 <= n_per_pool[1] <= 130  # about half of 200 clips
    only = _with_synthetic(tiny_config_data, 1.0)
    assert (only.n_train_videos, only.n_synthetic_videos, only.sampler.pools) == (0, 3, None)
    off = _with_synthetic(tiny_config_data, 0.0)  # generated videos never drawn are not generated
    assert (off.n_train_videos, off.n_synthetic_videos, off.sampler.pools) == (6, 0, None)
    np.testing.assert_array_equal(off.sampler.sample(3, 4), real_only.sampler.sample(3, 4))


class _SignalReporter:
    """A stand-in sampler: each batch says whether the process that sampled it ignores Ctrl-C and SIGTERM."""

    def sample(self, index: int, batch_size: int) -> np.ndarray:
        ignored = all(signal.getsignal(s) is signal.SIG_IGN for s in (signal.SIGINT, signal.SIGTERM))
        assert set(STOP_SIGNALS) == {signal.SIGINT, signal.SIGTERM}  # Linux: the two checked here
        return np.full((batch_size, 1, 1, 1, 1), 255 * ignored, np.uint8)


def test_workers_leave_stop_signals_to_the_main_process():
    in_main = signal.getsignal(signal.SIGINT)
    workers = BatchStream(_SignalReporter(), 2, start_index=0, num_workers=2, device=CPU)
    assert all(bool((next(workers) == 1).all()) for _ in range(4))  # 255 -> 1: every worker ignores them
    assert signal.getsignal(signal.SIGINT) is in_main  # the main process keeps its own handler
    alone = BatchStream(_SignalReporter(), 2, start_index=0, num_workers=0, device=CPU)
    assert bool((next(alone) == -1).all())  # sampled in this process, which does not ignore them


def test_windows_ctrl_break_is_a_stop_signal(monkeypatch):
    import importlib.util

    monkeypatch.setattr(signal, "SIGBREAK", signal.SIGUSR1, raising=False)  # Windows' Ctrl-Break, stood in for
    spec = importlib.util.find_spec("vidpred.cli")
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    assert fresh.STOP_SIGNALS == (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)


def _folder_data(tiny_config_data, root, videos, val_video, make_video, moving_frames):
    """The tiny config's data section reading ``videos`` (name -> (frames, height, width)),
    written into ``root``, with ``val_video`` held out and 32-px patches."""
    for seed, (name, (n_frames, height, width)) in enumerate(videos.items()):
        make_video(root / name, moving_frames(n_frames, height, width, seed=seed))
    tiny_config_data["data"].update(source="folder", root=str(root), val_videos=[val_video], patch_size=32)
    return config_from_dict(tiny_config_data).data


def test_a_training_video_smaller_than_the_patch_is_named(tiny_config_data, tmp_path, make_video, moving_frames):
    videos = {"v0.avi": (10, 48, 48), "v1.avi": (10, 48, 48), "v2.avi": (10, 48, 48), "small.avi": (10, 16, 24)}
    data = _folder_data(tiny_config_data, tmp_path / "videos", videos, "v0.avi", make_video, moving_frames)
    with pytest.raises(ValueError, match=r"1 training video\(s\) smaller than data.patch_size=32: small.avi \(16x24\); "
                                         "resize them with data.frame_size"):
        load_training_data(data, n_context=4, n_future=2, val_n_future=3, seed=0, progress=False)


def test_training_videos_need_only_a_training_clip_s_frames(tiny_config_data, tmp_path, make_video, moving_frames):
    # Training clips are n_context + n_future = 6 frames; validation clips 4 + 4 = 8, read from
    # the held-out video alone: 6-frame training videos are used, not refused as too short; a
    # 5-frame one is skipped (it cannot give a training clip).
    videos = {"short0.avi": (6, 48, 48), "short1.avi": (6, 48, 48), "short2.avi": (6, 48, 48), "long.avi": (12, 48, 48),
              "too_short.avi": (5, 48, 48)}
    data = _folder_data(tiny_config_data, tmp_path / "videos", videos, "long.avi", make_video, moving_frames)
    training = load_training_data(data, n_context=4, n_future=2, val_n_future=4, seed=0, progress=False)
    assert training.n_train_videos == 3
    assert training.sampler.sample(0, 2).shape == (2, 6, 32, 32, 3)
    assert all(clip.shape[0] == 8 for clip in training.val_clips)


def test_procedural_videos_exactly_one_clip_long_are_enough(tiny_config_data):
    cfg = config_from_dict(tiny_config_data)
    n_frames = cfg.data.procedural.n_frames
    training = load_training_data(cfg.data, n_context=4, n_future=1, val_n_future=n_frames - 4, seed=0, progress=False)
    assert all(clip.shape[0] == n_frames for clip in training.val_clips)


def test_validation_videos_too_short_for_a_validation_clip_are_left_out(tiny_config_data, tmp_path, make_video,
                                                                         moving_frames):
    # Training clips are 4 + 2 = 6 frames, validation clips 4 + 4 = 8: a 7-frame held-out
    # video can give a training clip but no validation clip.
    videos = {"a.avi": (12, 48, 48), "b.avi": (12, 48, 48), "long.avi": (12, 48, 48), "short.avi": (7, 48, 48)}
    for seed, (name, (n, h, w)) in enumerate(videos.items()):
        make_video(tmp_path / "videos" / name, moving_frames(n, h, w, seed=seed))
    tiny_config_data["data"].update(source="folder", root=str(tmp_path / "videos"),
                                    val_videos=["long.avi", "short.avi"], patch_size=32, n_val_clips=6)
    data = config_from_dict(tiny_config_data).data
    training = load_training_data(data, n_context=4, n_future=2, val_n_future=4, seed=0, progress=False)
    assert training.val_clips and all(clip.shape[0] == 8 for clip in training.val_clips)


def test_the_synthetic_share_of_the_clips_is_the_synthetic_weight(tiny_config_data):
    data = {**tiny_config_data["data"], "synthetic_weight": 0.25,
            "synthetic": {"n_videos": 2, "n_frames": 8, "height": 40, "width": 48}}
    cfg = config_from_dict({**tiny_config_data, "data": data})
    training = load_training_data(cfg.data, n_context=4, n_future=2, val_n_future=3, seed=0, progress=False)
    assert training.sampler.pools == [(6, 0.75), (2, 0.25)]


def test_a_single_worker_leaves_stop_signals_to_the_main_process():
    class Reporter:  # each batch says whether the process that sampled it ignores Ctrl-C and SIGTERM
        def sample(self, index, batch_size):
            ignored = all(signal.getsignal(s) is signal.SIG_IGN for s in (signal.SIGINT, signal.SIGTERM))
            return np.full((batch_size, 1, 1, 1, 1), 255 * ignored, np.uint8)

    stream = BatchStream(Reporter(), 2, start_index=0, num_workers=1, device=CPU)
    assert bool((next(stream) == 1).all())


def test_validation_videos_all_too_short_name_the_keys_that_set_the_length(tiny_config_data, tmp_path, make_video,
                                                                           moving_frames):
    for seed, name in enumerate(("a.avi", "b.avi", "c.avi")):
        make_video(tmp_path / "videos" / name, moving_frames(12, 48, 48, seed=seed))
    tiny_config_data["data"].update(source="folder", root=str(tmp_path / "videos"), val_videos=["c.avi"],
                                    patch_size=32)
    data = config_from_dict(tiny_config_data).data
    with pytest.raises(NoUsableVideosError, match=re.escape("(model.n_context + train.val_n_future = 4 + 600)")):
        load_training_data(data, n_context=4, n_future=2, val_n_future=600, seed=0, progress=False)

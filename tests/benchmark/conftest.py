import pytest

from vidpred.config import config_from_dict

# A model and data small enough that a training step takes milliseconds on a CPU.
TINY = {
    "data": {
        "source": "procedural",
        "procedural": {"n_train_videos": 2, "n_val_videos": 1, "n_test_videos": 1, "n_frames": 8, "height": 16, "width": 16},
        "n_val_clips": 1,
        "patch_size": 16,
    },
    "model": {"generator": {"n_scales": 3, "width": 0.0625}, "discriminator": {"n_scales": 3, "width": 0.03125}},
    "optim": {"generator": {"name": "adam", "lr": 0.001}, "discriminator": {"name": "sgd", "lr": 0.02}},
    "train": {"batch_size": 4, "device": "cpu"},
}


@pytest.fixture
def tiny_config(tmp_path):
    """Build a tiny procedural config; extra ``key=value`` overrides apply on top."""

    def make(*overrides):
        return config_from_dict(TINY, [f"data.cache_dir={tmp_path / 'cache'}", *overrides])

    return make


class Clock:
    """A stand-in for ``time``: ``perf_counter()`` reads ``now``, which only ``advance`` moves,
    so a test says exactly how long each timed call takes, whatever the machine's load."""

    def __init__(self):
        self.now = 100.0

    def perf_counter(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    """A :class:`Clock` in place of the ``time`` module of the benchmark's data and iteration timers."""
    import vidpred.benchmark.data
    import vidpred.benchmark.iteration

    fake = Clock()
    for module in (vidpred.benchmark.data, vidpred.benchmark.iteration):
        monkeypatch.setattr(module, "time", fake)
    return fake

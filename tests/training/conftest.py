import pytest

from vidpred.config import config_from_dict

# A model and data small enough that a training step takes milliseconds on a CPU.
TINY = {
    "run": {"name": "tiny"},
    "data": {
        "source": "procedural",
        "procedural": {"n_train_videos": 6, "n_val_videos": 2, "n_test_videos": 2, "n_frames": 10, "height": 32, "width": 32},
        "n_val_clips": 4,
        "patch_size": 16,
        "motion_threshold": 0.0005,
        "max_tries": 4,
    },
    "model": {"generator": {"n_scales": 3, "width": 0.0625}, "discriminator": {"n_scales": 3, "width": 0.03125}},
    "optim": {"generator": {"name": "adam", "lr": 0.001}, "discriminator": {"name": "sgd", "lr": 0.02}},
    "train": {"steps": 4, "batch_size": 4, "device": "cpu", "log_every": 1, "val_every": 2, "ckpt_every": 2, "sample_every": 2},
}


@pytest.fixture
def tiny_config(tmp_path):
    """Build a tiny procedural config; extra ``key=value`` overrides apply on top."""

    def make(*overrides):
        return config_from_dict(TINY, [f"data.cache_dir={tmp_path / 'cache'}", *overrides])

    return make

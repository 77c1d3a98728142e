"""Fine-tuning on the footage to predict: it learns what the footage rewards, leaves the
given model as it was, is deterministic per seed, and refuses footage it cannot use."""

import numpy as np
import pytest
import torch
from skimage import data as skdata

from vidpred.build import build_generator
from vidpred.config import LossConfig, config_from_dict
from vidpred.data.sampler import to_model_input
from vidpred.training.adapt import AdaptSettings, adapt_generator, adaptation_starts

LOSS = LossConfig(l_p=1.0, p=1, l_gdl=1.0)


def _refiner(seed: int = 0):
    torch.manual_seed(seed)
    cfg = config_from_dict({"model": {"n_context": 4, "generator": {"head": "refiner", "n_scales": 1, "width": 0.25,
                                                                    "working_scale": 2}}})
    return build_generator(cfg)


def _grainy_still(n_frames: int, size: int = 64, grain: float = 12.0, seed: int = 0) -> np.ndarray:
    """uint8 (T, H, W, 3): a still photo under fresh sensor grain each frame."""
    rng = np.random.default_rng(seed)
    photo = skdata.astronaut()[150:150 + size, 200:200 + size].astype(np.float32)
    return np.stack([np.clip(photo + rng.normal(0, grain, photo.shape), 0, 255).astype(np.uint8)
                     for _ in range(n_frames)])


def _error(model, frames: np.ndarray) -> float:
    """Mean absolute error of the 1st and 2nd predicted frames over every 6-frame clip."""
    clips = to_model_input(torch.from_numpy(np.stack([frames[s:s + 6] for s in range(len(frames) - 5)])))
    with torch.no_grad():
        return (model.rollout(clips[:, :, :4], 2) - clips[:, :, 4:]).abs().mean().item()


def _pan(n_frames: int, size: int = 64, shift: tuple[int, int] = (2, 1)) -> np.ndarray:
    """uint8 (T, H, W, 3): a real photo panned by an integer (x, y) shift per frame."""
    photo = skdata.astronaut()
    x, y = shift
    return np.stack([photo[100 + t * y:100 + t * y + size, 100 + t * x:100 + t * x + size] for t in range(n_frames)])


def test_adapting_on_the_earlier_frames_lowers_the_error_on_the_later_ones():
    video = _pan(40)
    model = _refiner()
    with torch.no_grad():  # a model that mostly copies (softmax weight 0.92 on "still"): wrong for a pan
        model.out.weight.mul_(0.1)
        model.out.bias.zero_()
        model.out.bias[0] = 0.5
    before = {k: v.clone() for k, v in model.state_dict().items()}
    adapted = adapt_generator(model, video[:24], AdaptSettings(steps=20, lr=1e-3, crop=48, ema_decay=0.5),
                              LOSS, show_progress=False)
    later = video[24:]  # never seen in adaptation
    assert _error(adapted, later) < 0.5 * _error(model, later)
    assert not adapted.training
    # The given model is left as it was.
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_adaptation_is_deterministic_per_seed():
    video = _grainy_still(12)
    runs = [adapt_generator(_refiner(), video, AdaptSettings(steps=3, crop=32, seed=s), LOSS, show_progress=False)
            for s in (0, 0, 1)]
    weights = [torch.cat([p.flatten() for p in run.parameters()]) for run in runs]
    assert torch.equal(weights[0], weights[1])
    assert not torch.equal(weights[0], weights[2])


def test_no_steps_is_the_model_itself():
    model = _refiner()
    assert adapt_generator(model, _grainy_still(3), AdaptSettings(steps=0), LOSS) is model


def test_adaptation_clips_do_not_span_a_scene_cut():
    still = _grainy_still(10, grain=2.0)
    video = np.concatenate([still, 255 - still])  # a cut between frames 9 and 10
    starts = adaptation_starts(video, 6, cut_ratio=5.0)
    assert starts.tolist() == [0, 1, 2, 3, 4, 10, 11, 12, 13, 14]
    assert adaptation_starts(video, 6, cut_ratio=None).tolist() == list(range(15))


@pytest.mark.parametrize("frames, match", [
    (_grainy_still(5), "at least 6 frames"),
    (_grainy_still(8, size=12), "too small"),
    (_grainy_still(8).astype(np.float32), "uint8"),
])
def test_unusable_footage_is_refused_in_one_line(frames, match):
    with pytest.raises(ValueError, match=match):
        adapt_generator(_refiner(), frames, AdaptSettings(steps=1), LOSS, show_progress=False)


@pytest.mark.parametrize("kwargs, match", [({"steps": -1}, "steps"), ({"lr": 0.0}, "lr"), ({"crop": 8}, "crop"),
                                           ({"ema_decay": 1.0}, "ema_decay")])
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AdaptSettings(**kwargs)

"""Fine-tuning on the footage to predict: it learns what the footage rewards, leaves the
given model as it was, is deterministic per seed, and refuses footage it cannot use."""

import dataclasses

import numpy as np
import pytest
import torch
from skimage import data as skdata

from vidpred.build import build_generator
from vidpred.config import LossConfig, config_from_dict
from vidpred.data.sampler import to_model_input
from vidpred.evaluation.adapt import AdaptSettings, adapt_generator, adaptation_gain, adaptation_starts, checked_frames

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
    model = _mostly_copying(_refiner())  # wrong for a pan
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


def test_a_stop_ends_the_fine_tuning_at_the_next_step():
    video = _grainy_still(12)
    settings = AdaptSettings(steps=50, crop=32)
    asked = []
    stopped = adapt_generator(_refiner(), video, settings, LOSS, show_progress=False,
                              should_stop=lambda: asked.append(1) or len(asked) > 2)
    assert len(asked) == 3  # two steps taken, the third not begun
    two = adapt_generator(_refiner(), video, dataclasses.replace(settings, steps=2), LOSS, show_progress=False)
    assert all(torch.equal(a, b) for a, b in zip(stopped.parameters(), two.parameters()))


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
                                           ({"batch_size": 0}, "batch_size >= 1"), ({"n_future": 0}, "n_future >= 1"),
                                           ({"ema_decay": 1.0}, "ema_decay"), ({"check_fraction": 1.0}, "check"),
                                           ({"check_clips": 0}, "check")])
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AdaptSettings(**kwargs)


def _mostly_copying(model):
    with torch.no_grad():  # softmax weight 0.92 on "still"
        model.out.weight.mul_(0.1)
        model.out.bias.zero_()
        model.out.bias[0] = 0.5
    return model


def test_the_gain_on_held_out_frames_is_measured_in_db():
    video = _pan(12)
    copying = _mostly_copying(_refiner())
    following = _refiner()  # untrained: nearly DIS extrapolation, right for a pan
    gain = adaptation_gain(copying, following, video, n_future=2, n_clips=3)
    assert gain > 3.0
    assert adaptation_gain(following, copying, video, n_future=2, n_clips=3) == pytest.approx(-gain)
    assert adaptation_gain(following, following, video, n_future=2, n_clips=3) == 0.0
    with pytest.raises(ValueError, match="at least 6 frames"):
        adaptation_gain(copying, following, video[:5], n_future=2, n_clips=3)


@pytest.mark.parametrize("gain, kept", [(0.4, True), (-0.4, False), (0.0, False)])
def test_with_a_check_the_newest_frames_are_held_out_and_decide(monkeypatch, gain, kept):
    import vidpred.evaluation.adapt as adapt_module

    trained_on, checked_on = [], []
    real_batch = adapt_module._batch
    monkeypatch.setattr(adapt_module, "_batch", lambda frames, *a: trained_on.append(len(frames)) or real_batch(frames, *a))
    monkeypatch.setattr(adapt_module, "adaptation_gain",
                        lambda before, after, frames, *a: checked_on.append(frames.copy()) or gain)
    video = _pan(24)
    model = _refiner()
    out = adapt_generator(model, video, AdaptSettings(steps=2, crop=32, check_fraction=0.25), LOSS,
                          show_progress=False)
    assert set(trained_on) == {18} and (checked_on[0] == video[18:]).all()  # the newest 6 frames only check
    assert (out is not model) == kept


def test_a_check_needs_frames_beside_those_it_trains_on():
    with pytest.raises(ValueError, match="needs at least 12 frames"):
        adapt_generator(_refiner(), _pan(10), AdaptSettings(steps=1, check_fraction=0.1), LOSS, show_progress=False)
    # the same rule, asked of a frame count alone (the benchmark asks it of every video first)
    settings = AdaptSettings(steps=1, check_fraction=0.1)
    assert checked_frames(12, 4, settings) == 6 and checked_frames(40, 4, AdaptSettings(steps=1)) == 0
    with pytest.raises(ValueError, match="needs at least 12 frames .* got 11"):
        checked_frames(11, 4, settings)


class _Still(torch.nn.Module):
    """Predicts every frame as the newest context frame, plus a learned offset (0.5 at first)."""

    n_context = 4

    def __init__(self):
        super().__init__()
        self.offset = torch.nn.Parameter(torch.tensor(0.5))

    def rollout(self, context, n_future):
        return context[:, :, -1:].expand(-1, -1, n_future, -1, -1) + self.offset


class _Grey(torch.nn.Module):
    """Predicts every frame as mid-grey (0 on [-1, 1])."""

    n_context = 4

    def rollout(self, context, n_future):
        return torch.zeros_like(context[:, :, :1]).expand(-1, -1, n_future, -1, -1)


def test_the_gain_is_worked_from_the_clips_spread_evenly_over_the_frames():
    frames = np.stack([np.full((16, 16, 3), 20 * t, np.uint8) for t in range(12)])  # grey 0, 20, ..., 220
    still = _Still().requires_grad_(False)
    still.offset.zero_()
    # 7 six-frame clips; 3 spread evenly start at 0, 3 and 6 and predict frames 4-5, 7-8 and 10-11.
    # Copying the newest frame errs by 20 and 40 grey levels on each: a mean square of 1000.
    # Mid-grey (127.5) errs by (-47.5, -27.5), (12.5, 32.5) and (72.5, 92.5): 1506.25, 606.25, 6906.25.
    gain = adaptation_gain(still, _Grey(), frames, n_future=2, n_clips=3)
    assert gain == pytest.approx(10 * np.log10(3 * 1000 / (1506.25 + 606.25 + 6906.25)), rel=1e-5)
    assert adaptation_gain(still, _Grey(), frames, n_future=2, n_clips=1) == pytest.approx(
        10 * np.log10(1000 / 1506.25), rel=1e-5)  # the first clip alone
    assert adaptation_gain(still, _Grey(), frames[:6], n_future=2, n_clips=3) == pytest.approx(
        10 * np.log10(1000 / 1506.25), rel=1e-5)  # just enough frames for one clip


def _adapted_offset(settings: AdaptSettings, n_frames: int = 8) -> float:
    still = np.full((n_frames, 16, 16, 3), 100, np.uint8)
    adapted = adapt_generator(_Still(), still, settings, LossConfig(l_p=1.0, p=1, l_gdl=0.0), show_progress=False)
    return adapted.offset.item()


def test_each_step_is_one_adam_step_on_the_lp_term_and_the_weights_are_averaged():
    # On a still video the prediction errs by the offset alone: the L1 term's gradient is 1, and
    # each of Adam's steps moves the offset by the learning rate.
    settings = AdaptSettings(steps=3, lr=0.01, batch_size=1, crop=16, ema_decay=0.0, grad_clip=None)
    assert _adapted_offset(settings) == pytest.approx(0.47, abs=1e-6)
    # the average of 0.5, 0.49 and 0.48 kept at decay 0.5: 0.495, then 0.4875
    averaged = _adapted_offset(AdaptSettings(steps=2, lr=0.01, batch_size=1, crop=16, ema_decay=0.5, grad_clip=None))
    assert averaged == pytest.approx(0.4875, abs=1e-6)


def test_the_gradient_is_clipped_to_its_bound():
    # Clipped to 1e-10, the gradient is 1/100 of Adam's eps (1e-8): the step is lr / 101.
    settings = AdaptSettings(steps=1, lr=0.01, batch_size=1, crop=16, ema_decay=0.0, grad_clip=1e-10)
    assert _adapted_offset(settings) == pytest.approx(0.5 - 0.01 / 101, abs=1e-7)


def test_crops_are_whole_multiples_of_16_px_cut_from_the_frames_at_random():
    import vidpred.evaluation.adapt as adapt_module

    t, y, x = np.meshgrid(np.arange(10), np.arange(40), np.arange(50), indexing="ij")
    frames = np.stack([t, y, x], axis=-1).astype(np.uint8)  # each pixel holds its own (t, y, x)
    batch = adapt_module._batch(frames, np.array([0, 4]), 6, 32, 64, np.random.default_rng(0))
    assert batch.shape == (64, 6, 32, 32, 3)
    orders = set()
    for clip in batch:
        clip = clip.astype(int)
        times, rows, columns = clip[:, 0, 0, 0], clip[0, :, 0, 1], clip[0, 0, :, 2]
        forward = np.sort(times)
        assert forward[0] in (0, 4) and (np.diff(forward) == 1).all() and (np.diff(rows) == 1).all()
        assert (np.abs(np.diff(columns)) == 1).all() and 0 <= rows[0] <= 8 and min(columns) <= 18
        orders.add((times[0] < times[1], columns[0] < columns[1]))
        np.testing.assert_array_equal(clip, frames[times][:, rows][:, :, columns])
    assert len(orders) == 4  # played forwards and backwards, flipped and not
    sides = []
    real_batch = adapt_module._batch
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(adapt_module, "_batch", lambda frames, starts, window, side, *a: sides.append(side)
                      or real_batch(frames, starts, window, side, *a))
        adapt_generator(_Still(), np.full((8, 40, 50, 3), 100, np.uint8), AdaptSettings(steps=1, crop=128),
                        LOSS, show_progress=False)
        adapt_generator(_Still(), np.full((8, 16, 16, 3), 100, np.uint8), AdaptSettings(steps=1, crop=16),
                        LOSS, show_progress=False)
    assert sides == [32, 16]  # the frames' shorter side, 40, rounded down; 16 px is enough


def test_a_check_may_take_every_frame_beside_one_training_window(monkeypatch):
    import vidpred.evaluation.adapt as adapt_module

    checked_on = []
    monkeypatch.setattr(adapt_module, "adaptation_gain",
                        lambda before, after, frames, *a: checked_on.append(len(frames)) or 1.0)
    model = _Still()
    out = adapt_generator(model, _pan(12, size=16), AdaptSettings(steps=1, crop=16, check_fraction=0.1), LOSS,
                          show_progress=False)
    assert checked_on == [6] and out is not model  # 6 frames to train on, at least a window's 6 to check
    adapt_generator(model, _pan(24, size=16), AdaptSettings(steps=1, crop=16, check_fraction=0.5), LOSS,
                    show_progress=False)
    assert checked_on == [6, 12]  # half of 24


def test_the_smallest_settings_are_accepted():
    settings = AdaptSettings(steps=0, batch_size=1, n_future=1, crop=16, ema_decay=0.0, check_clips=1)
    assert (settings.batch_size, settings.crop, settings.ema_decay, settings.check_clips) == (1, 16, 0.0, 1)


def test_the_progress_bar_is_shown_only_when_asked(capsys):
    video = np.full((8, 16, 16, 3), 100, np.uint8)
    adapt_generator(_Still(), video, AdaptSettings(steps=2, crop=16), LOSS, show_progress=False)
    assert capsys.readouterr().err == ""
    adapt_generator(_Still(), video, AdaptSettings(steps=2, crop=16), LOSS, show_progress=True)
    assert "adapting" in (err := capsys.readouterr().err) and "2/2" in err and "step" in err

"""vidpred/training/validation.py on tiny clips whose scores can be worked out by hand.

Frames are vertical stripes (columns alternating 0 and 40 above a grey level) so that
PSNR and the sharpness difference have closed forms: in ``[-1, 1]`` units a uint8 value
``v`` is ``v / 127.5 - 1``; in the sharpness's ``[0, 1]`` units it is ``v / 255``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import vidpred.training.validation as validation
from vidpred.evaluation.predictors import BASELINE_NAMES
from vidpred.evaluation.scoring import MAX_PSNR_DB, MAX_SHARPNESS_DB
from vidpred.metrics import ssim
from vidpred.training.validation import (
    MODEL,
    ValidationInterrupted,
    Validator,
    _batches_by_shape,
    baseline_scores,
    evaluate,
    predict_clips,
    summary_line,
)

DEVICE = torch.device("cpu")


def _stripes(height: int, width: int, level: int) -> np.ndarray:
    """uint8 (H, W, 3): ``level`` in even columns, ``level + 40`` in odd ones."""
    frame = np.full((height, width, 3), level, dtype=np.uint8)
    frame[:, 1::2] += 40
    return frame


def _clip(height: int, width: int, levels: list[int]) -> np.ndarray:
    return np.stack([_stripes(height, width, level) for level in levels])  # (T, H, W, 3)


def _frame(image: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, 3) -> (1, 3, H, W) in [-1, 1]."""
    return torch.from_numpy(image).permute(2, 0, 1)[None].float() / 127.5 - 1


class FlatGenerator(nn.Module):
    """Predicts a flat grey frame (0 in [-1, 1], uint8 127.5) for every step; counts its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.contexts: list[torch.Tensor] = []

    def rollout(self, context: torch.Tensor, n_future: int) -> torch.Tensor:
        self.contexts.append(context)
        B, C, _, H, W = context.shape
        return torch.zeros(B, C, n_future, H, W)


def _psnr(pred_uint8: float, target_levels: np.ndarray) -> float:
    """PSNR (data range 2) of a flat prediction against uint8 values, by the definition."""
    mse = np.mean(((target_levels - pred_uint8) / 127.5) ** 2)
    return 10 * math.log10(4 / mse)


def test_predict_clips_splits_context_and_target():
    clips = torch.arange(5.0).view(1, 1, 5, 1, 1).expand(2, 3, 5, 4, 4)  # frame t holds t
    generator = FlatGenerator()
    context, prediction, target = predict_clips(generator, clips, n_context=2, n_future=2)
    assert context[0, 0, :, 0, 0].tolist() == [0.0, 1.0]
    assert target[0, 0, :, 0, 0].tolist() == [2.0, 3.0]  # frame 4 is not a target
    assert prediction.shape == (2, 3, 2, 4, 4)
    assert torch.equal(generator.contexts[0], context)


def test_batches_group_equal_shapes():
    clips = [_clip(4, 4, [0, 0]), _clip(4, 6, [0, 0]), _clip(4, 4, [1, 1]), _clip(4, 4, [2, 2])]
    batches = list(_batches_by_shape(clips, batch_size=2))
    assert [b.shape for _, b in batches] == [(2, 2, 4, 4, 3), (1, 2, 4, 4, 3), (1, 2, 4, 6, 3)]
    assert [b[i, 0, 0, 0, 0] for _, b in batches for i in range(len(b))] == [0, 1, 2, 0]
    assert [indices for indices, _ in batches] == [[0, 2], [3], [1]]  # where each clip came from


KEYS = {f"{metric}_whole_f{k}" for metric in ("psnr", "ssim", "sharpness", "edges") for k in (1, 2)}


def test_evaluate_by_hand():
    # Clip 1 (12x12): context at grey 100, targets at 110 then 120. Clip 2 (12x16, another
    # size): context 60, targets 90 then 60.
    clips = [_clip(12, 12, [100, 100, 110, 120]), _clip(12, 16, [60, 60, 90, 60])]
    scores = evaluate(FlatGenerator(), clips, n_context=2, n_future=2, device=DEVICE, batch_size=4)
    baselines, _ = baseline_scores(clips, n_context=2, n_future=2, device=DEVICE, batch_size=4)
    last = baselines["last input"]
    assert set(scores) == set(last) == KEYS

    def stripes(level):  # the target's pixel values: half at level, half at level + 40
        return np.array([level, level + 40])

    # The flat prediction at 127.5 against each clip's target, averaged over the two clips.
    assert scores["psnr_whole_f1"] == pytest.approx((_psnr(127.5, stripes(110)) + _psnr(127.5, stripes(90))) / 2,
                                                    rel=1e-5)
    assert scores["psnr_whole_f2"] == pytest.approx((_psnr(127.5, stripes(120)) + _psnr(127.5, stripes(60))) / 2,
                                                    rel=1e-5)
    # The last-input baseline is off by a constant: 10 and 30 grey levels at frame 1.
    # PSNR = 20 log10(255 / error); at frame 2 clip 2 is exact: it counts at the evaluation's
    # floor, 58.92 dB, beside clip 1's 20 grey levels.
    assert last["psnr_whole_f1"] == pytest.approx((20 * math.log10(25.5) + 20 * math.log10(8.5)) / 2, rel=1e-5)
    assert last["psnr_whole_f2"] == pytest.approx((20 * math.log10(12.75) + MAX_PSNR_DB) / 2, rel=1e-5)
    # Sharpness: a flat frame has no gradient, the stripes one of 40/255 at every pixel
    # (horizontal neighbours differ by 40, vertical ones not at all): 10 log10(255 / 40).
    assert scores["sharpness_whole_f1"] == pytest.approx(10 * math.log10(255 / 40), rel=1e-6)
    assert scores["sharpness_whole_f2"] == pytest.approx(10 * math.log10(255 / 40), rel=1e-6)
    # The baseline's stripes have the target's gradients exactly: no difference, at the floor.
    assert last["sharpness_whole_f1"] == pytest.approx(MAX_SHARPNESS_DB)
    # Edge ratio: a flat frame has none of the stripes' edges; the baseline's stripes all of them.
    assert scores["edges_whole_f1"] == 0 and last["edges_whole_f1"] == pytest.approx(1)
    # SSIM: the baseline is exact (1) for clip 2's second frame, so the mean is halfway
    # between 1 and clip 1's (grey 100 stripes against grey 120 stripes).
    clip1 = ssim(_frame(_stripes(12, 12, 100)), _frame(_stripes(12, 12, 120))).item()
    assert clip1 < 1
    assert last["ssim_whole_f2"] == pytest.approx((clip1 + 1) / 2, rel=1e-6)


def test_the_mean_is_over_the_clips_in_their_order_whatever_the_batching():
    clips = [_clip(12, 12, [100, 100, 110]), _clip(12, 16, [60, 60, 90]), _clip(12, 12, [10, 10, 200])]
    one = evaluate(FlatGenerator(), clips, n_context=2, n_future=1, device=DEVICE, batch_size=1)
    grouped = evaluate(FlatGenerator(), clips, n_context=2, n_future=1, device=DEVICE, batch_size=8)
    assert one == grouped


def test_evaluate_stops_between_batches_and_restores_the_mode():
    clips = [_clip(12, 12, [100, 100, 110])] * 3
    generator = FlatGenerator().train()
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) == 2  # after the first batch

    with pytest.raises(ValidationInterrupted):
        evaluate(generator, clips, n_context=2, n_future=1, device=DEVICE, batch_size=1, should_stop=should_stop)
    assert len(generator.contexts) == 1 and generator.training
    with pytest.raises(ValueError, match="no validation clips"):
        evaluate(generator, [], n_context=2, n_future=1, device=DEVICE)


def test_flow_baseline_on_still_context_is_the_last_input():
    # Two identical context frames: the backward flow is zero, so the flow baseline
    # repeats the last frame, exactly as the last-input baseline does.
    clips = [_clip(16, 16, [100, 100, 110, 120])]
    scores, weight = baseline_scores(clips, n_context=2, n_future=2, device=DEVICE)
    assert tuple(scores) == BASELINE_NAMES and all(set(s) == KEYS for s in scores.values())
    assert 0 <= weight <= 1
    flow = scores["Farneback flow (paper)"]
    for name in ("DIS flow", "blend", "last input"):  # every flow is zero: every baseline is the last input
        assert scores[name]["psnr_whole_f2"] == pytest.approx(flow["psnr_whole_f2"])
        assert scores[name]["ssim_whole_f1"] == pytest.approx(flow["ssim_whole_f1"])
    assert flow["psnr_whole_f1"] == pytest.approx(20 * math.log10(25.5), rel=1e-5)
    assert flow["psnr_whole_f2"] == pytest.approx(20 * math.log10(12.75), rel=1e-5)


def test_baselines_score_only_the_first_n_future_frames_after_the_context():
    # A fifth frame beyond n_context + n_future is not a target: the scores are those of the clip without it.
    long = [_clip(16, 16, [100, 100, 110, 120, 250])]
    scores, _ = baseline_scores(long, n_context=2, n_future=2, device=DEVICE)
    trimmed, _ = baseline_scores([long[0][:4]], n_context=2, n_future=2, device=DEVICE)
    assert scores == trimmed
    assert scores["last input"]["psnr_whole_f2"] == pytest.approx(20 * math.log10(12.75), rel=1e-5)


def test_validator_computes_the_baselines_once(monkeypatch):
    clips = [_clip(12, 12, [100, 100, 110])]
    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        return {"last input": {"psnr_whole_f1": 1.0}}, 0.25

    monkeypatch.setattr(validation, "baseline_scores", counted)
    validator = Validator(clips, n_context=2, n_future=1, device=DEVICE)
    first, second = validator(FlatGenerator()), validator(FlatGenerator())
    assert len(calls) == 1 and first == second
    assert list(first) == [MODEL, "last input", "blend_weight"] and first["blend_weight"] == 0.25
    assert first["last input"]["psnr_whole_f1"] == 1.0
    assert first[MODEL]["psnr_whole_f1"] == pytest.approx(_psnr(127.5, np.array([110, 150])), rel=1e-5)


def _photo_clips(offsets: list[int]) -> list[np.ndarray]:
    """Windows of the astronaut photo at horizontal ``offsets`` (one per frame), from four places."""
    import skimage.data

    photo = skimage.data.astronaut()
    return [np.stack([photo[200:264, left + o:left + o + 96] for o in offsets]) for left in (150, 170, 190, 210)]


def test_blend_weight_is_fitted_on_the_validation_clips():
    pan, weight = baseline_scores(_photo_clips([0, 2, 4, 6, 8]), n_context=4, n_future=1, device=DEVICE)
    assert weight == 0.0  # a steady pan: the flow alone
    # At weight 0 the blend is the better flow's extrapolation itself: every score equal.
    assert pan["blend"] in (pan["Farneback flow (paper)"], pan["DIS flow"])
    assert pan["DIS flow"]["edges_whole_f1"] > 0.9  # an integer shift warps without blurring much
    _, weight = baseline_scores(_photo_clips([0, 2, 0, 2, 0]), n_context=4, n_future=1, device=DEVICE)
    assert weight >= 0.8  # +2, -2, +2 px: the copy, mostly


def _record(rows: dict[str, float]) -> dict:
    """A validation record whose rows have the given PSNR, SSIM 0.8125 and edge ratio 0.9375."""
    return {name: {"psnr_whole_f1": psnr, "ssim_whole_f1": 0.8125, "edges_whole_f1": 0.9375}
            for name, psnr in rows.items()} | {"blend_weight": 0.5}


def test_summary_line_names_the_model_beside_the_baselines():
    record = _record({MODEL: 31.254, "last input": 30.5, "Farneback flow (paper)": 29.0, "DIS flow": 31.0,
                      "blend": 31.125})
    record["DIS flow"]["edges_whole_f1"] = 0.875
    assert summary_line(record) == ("val PSNR 31.25 dB (last input 30.50, DIS flow 31.00, blend 31.12), SSIM 0.812, "
                                    "edge ratio 0.938 (DIS flow 0.875)")


def test_summary_line_follows_the_baseline_rows(monkeypatch):
    # A new baseline row (one more name in BASELINE_NAMES, before the blend) shows with no line of its own.
    rows = ("last input", "Farneback flow (paper)", "DIS flow", "new baseline", "blend")
    monkeypatch.setattr(validation, "BASELINE_NAMES", rows)
    record = _record({MODEL: 31.0, **dict.fromkeys(rows, 30.0), "new baseline": 32.0})
    assert "(last input 30.00, DIS flow 30.00, new baseline 32.00, blend 30.00)" in summary_line(record)


class OvershootingGenerator(FlatGenerator):
    """Predicts 2.0 everywhere, past white (1.0 in [-1, 1], uint8 255)."""

    def rollout(self, context: torch.Tensor, n_future: int) -> torch.Tensor:
        return super().rollout(context, n_future) + 2


def test_predictions_are_clipped_to_the_frame_range_before_scoring_and_the_mode_is_kept():
    clips = [_clip(12, 12, [100, 100, 110])]
    generator = OvershootingGenerator().eval()  # as the EMA generator is
    scores = evaluate(generator, clips, n_context=2, n_future=1, device=DEVICE)
    # Scored as white (255) against stripes at 110 and 150, not as a value past white.
    assert scores["psnr_whole_f1"] == pytest.approx(_psnr(255, np.array([110, 150])), rel=1e-5)
    assert not generator.training


class NaNOnDarkClipsGenerator(FlatGenerator):
    """FlatGenerator, but NaN wherever the context is darker than grey 64."""

    def rollout(self, context: torch.Tensor, n_future: int) -> torch.Tensor:
        out = super().rollout(context, n_future)
        dark = context.flatten(1).mean(dim=1) < (64 / 127.5 - 1)
        out[dark] = math.nan
        return out


def test_a_model_predicting_nan_on_some_clips_scores_nan_not_its_mean_over_the_others(caplog):
    """Dropping the NaN clip would average the model over fewer clips than the baselines (and
    could pick best.pt); its record is NaN instead, and said."""
    clips = [_clip(12, 12, [100, 100, 110]), _clip(12, 12, [10, 10, 20]), _clip(12, 12, [100, 100, 150])]
    with caplog.at_level("WARNING"):
        scores = evaluate(NaNOnDarkClipsGenerator(), clips, n_context=2, n_future=1, device=DEVICE, batch_size=2)
    assert set(scores) == {key for key in KEYS if key.endswith("_f1")} and all(map(math.isnan, scores.values()))
    assert "non-finite values (NaN or inf) on 1 of 3 validation clips" in caplog.text
    # without the dark clip, the same model scores as the flat one
    fine = evaluate(NaNOnDarkClipsGenerator(), clips[::2], n_context=2, n_future=1, device=DEVICE)
    assert fine == evaluate(FlatGenerator(), clips[::2], n_context=2, n_future=1, device=DEVICE)


def test_the_blend_weight_is_fitted_on_the_first_predicted_frames(monkeypatch):
    targets = []
    fit = validation.fit_blend_weight

    def recording(contexts, frames, **kwargs):
        targets.extend(frames)
        return fit(contexts, frames, **kwargs)

    monkeypatch.setattr(validation, "fit_blend_weight", recording)
    clips = [_clip(12, 12, [100, 100, 110, 120]), _clip(12, 16, [60, 60, 90, 60])]
    baseline_scores(clips, n_context=2, n_future=2, device=DEVICE)
    assert len(targets) == 2
    torch.testing.assert_close(targets[0], _frame(_stripes(12, 12, 110)))  # frame 1 of 2, not 120
    torch.testing.assert_close(targets[1], _frame(_stripes(12, 16, 90)))


def test_a_stop_signal_interrupts_the_validator_s_model_scoring(monkeypatch):
    monkeypatch.setattr(validation, "baseline_scores", lambda *args, **kwargs: ({}, 0.5))
    validator = Validator([_clip(12, 12, [100, 100, 110])], n_context=2, n_future=1, device=DEVICE)
    generator = FlatGenerator()
    with pytest.raises(ValidationInterrupted):
        validator(generator, should_stop=lambda: True)
    assert generator.contexts == []  # stopped before the first batch


def test_a_stop_signal_interrupts_the_baselines_flows(monkeypatch):
    # the first validation's baselines: two optical flows a clip, minutes on a large set
    flows = []
    monkeypatch.setattr(validation, "backward_flow", lambda *args: flows.append(1))
    clips = [_clip(12, 12, [100, 100, 110]), _clip(12, 16, [60, 60, 90])]
    with pytest.raises(ValidationInterrupted):
        Validator(clips, n_context=2, n_future=1, device=DEVICE)(FlatGenerator(), should_stop=lambda: True)
    assert flows == []


class ModeRecordingGenerator(FlatGenerator):
    """A flat generator that records whether it was in training mode at each rollout."""

    def rollout(self, context: torch.Tensor, n_future: int) -> torch.Tensor:
        self.modes = [*getattr(self, "modes", []), self.training]
        return super().rollout(context, n_future)


def test_the_model_is_scored_in_eval_mode_and_goes_back_to_training():
    generator = ModeRecordingGenerator().train()
    evaluate(generator, [_clip(12, 12, [100, 100, 110])] * 2, n_context=2, n_future=1, device=DEVICE, batch_size=1)
    assert generator.modes == [False, False] and generator.training

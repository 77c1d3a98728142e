"""Grain and flicker for the benchmark: their statistics, their determinism, their bounds."""

from __future__ import annotations

import numpy as np
import pytest

from vidpred.evaluation.clips import EvalClip
from vidpred.evaluation.degrade import Degradation


def _grey(value: int, shape=(4, 64, 64, 3)) -> np.ndarray:
    return np.full(shape, value, dtype=np.uint8)


def test_grain_has_the_given_standard_deviation_and_no_bias():
    out = Degradation(grain=10).frames(_grey(128), seed=0).astype(np.float64) - 128
    assert out.std() == pytest.approx(10, rel=0.03)
    assert abs(out.mean()) < 0.2
    # independent per frame and per channel: neighbouring frames' noise does not correlate
    assert abs(np.corrcoef(out[0].ravel(), out[1].ravel())[0, 1]) < 0.03
    assert abs(np.corrcoef(out[0, ..., 0].ravel(), out[0, ..., 1].ravel())[0, 1]) < 0.05


def test_flicker_scales_each_frame_by_one_factor_within_its_range():
    rng = np.random.default_rng(1)
    frames = rng.integers(60, 160, (6, 32, 32, 3), dtype=np.uint8)
    out = Degradation(flicker=0.1).frames(frames, seed=3).astype(np.float64)
    factors = []
    for t in range(6):
        ratio = out[t] / frames[t]
        assert ratio.max() - ratio.min() < 2 * 0.5 / 60 + 1e-9  # one factor, up to rounding to 8 bits
        factors.append(np.median(ratio))
    assert all(0.9 - 0.01 <= f <= 1.1 + 0.01 for f in factors)
    assert np.ptp(factors) > 0.02  # each frame its own factor


def test_flicker_then_grain_and_the_result_stays_8_bit():
    out = Degradation(grain=30, flicker=0.5).frames(_grey(250), seed=0)
    assert out.dtype == np.uint8 and out.max() == 255 and out.min() >= 0


def test_the_draws_follow_the_clip_name_only():
    frames = np.random.default_rng(0).integers(0, 256, (6, 16, 16, 3), dtype=np.uint8)
    before = frames.copy()
    degrade = Degradation(grain=5, flicker=0.05)
    a = degrade.clip(EvalClip("val/bikes.mp4@10", 10, frames))
    again = degrade.clip(EvalClip("val/bikes.mp4@10", 10, frames.copy()))
    other = degrade.clip(EvalClip("val/bikes.mp4@20", 10, frames))
    np.testing.assert_array_equal(a.frames, again.frames)
    assert not np.array_equal(a.frames, other.frames)
    assert a.name == "val/bikes.mp4@10" and a.start == 10
    np.testing.assert_array_equal(frames, before)  # the input is not changed
    clean = EvalClip("x@0", 0, frames)
    assert Degradation().clip(clean) is clean and not Degradation()


@pytest.mark.parametrize("kwargs, message", [({"grain": -1}, "grain must be"), ({"grain": float("nan")}, "grain must be"),
                                             ({"flicker": 1.0}, "flicker must lie"), ({"flicker": -0.1}, "flicker must lie")])
def test_bad_amounts_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Degradation(**kwargs)


def test_its_description_names_what_was_added():
    assert Degradation(grain=10, flicker=0.1).describe() == "grain of 10 grey levels, flicker of ±10%"
    assert Degradation().describe() == "none"

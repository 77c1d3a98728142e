"""Smaller frames, grain, flicker, a fade, a caption, letterbox bars and JPEG compression for
the benchmark: their statistics, their determinism, their bounds."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

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
    # Grain added after the flicker keeps its standard deviation in every frame, however
    # bright or dark the frame's factor made it; grain scaled by the flicker would not.
    out = Degradation(grain=10, flicker=0.5).frames(_grey(100), seed=0).astype(np.float64)
    means, stds = out.reshape(4, -1).mean(axis=1), out.reshape(4, -1).std(axis=1)
    assert np.ptp(means) > 30  # factors far apart (with seed 0 about 0.52 to 1.14)
    np.testing.assert_allclose(stds, 10, rtol=0.03)  # 10 grey levels in each frame, not 10 x its factor
    # Values beyond 8 bits are clipped at both ends, not wrapped: grain of 30 about 250 (or 5)
    # crosses 255 (or 0) at about 4 in 10 pixels, and no pixel lies 5 standard deviations off.
    bright, dark = (Degradation(grain=30).frames(_grey(value), seed=0) for value in (250, 5))
    assert bright.dtype == dark.dtype == np.uint8
    assert bright.max() == 255 and bright.min() > 100 and 0.3 < (bright == 255).mean() < 0.5
    assert dark.min() == 0 and dark.max() < 160 and 0.3 < (dark == 0).mean() < 0.5


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
                                             ({"flicker": 1.0}, "flicker must lie"), ({"flicker": -0.1}, "flicker must lie"),
                                             ({"fade": 1.0}, "fade must lie"), ({"fade": -1.0}, "fade must lie"),
                                             ({"fade": 0.05, "fade_frames": 1}, "fade_frames must be"),
                                             ({"fade": 0.05, "fade_frames": -2}, "fade_frames must be"),
                                             ({"fade_frames": 4}, "fade_frames must be"),
                                             ({"letterbox": -0.1}, "letterbox must lie"),
                                             ({"letterbox": float("nan")}, "letterbox must lie"),
                                             ({"jpeg": 101}, "jpeg must be"), ({"jpeg": -1}, "jpeg must be"),
                                             ({"jpeg": 30.5}, "jpeg must be"), ({"jpeg": True}, "jpeg must be"),
                                             ({"height": 8}, "height must be 0"), ({"height": -1}, "height must be 0"),
                                             ({"height": 144.0}, "height must be 0")])
def test_bad_amounts_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Degradation(**kwargs)


def test_its_description_names_what_was_added():
    assert Degradation(grain=10, flicker=0.1).describe() == "grain of 10 grey levels, flicker of ±10%"
    assert Degradation().describe() == "none"
    assert Degradation(caption=True, letterbox=0.15).describe() == \
        "a still caption burnt in, letterbox bars of 15% of the height above and below"


def test_flicker_factors_fill_their_range_on_both_sides_of_one():
    frames = _grey(200, (400, 2, 2, 1))
    factors = Degradation(flicker=0.2).frames(frames, seed=5)[:, 0, 0, 0] / 200
    assert factors.min() < 0.82 and factors.max() > 1.18  # uniform on [0.8, 1.2]: both ends reached
    assert factors.mean() == pytest.approx(1.0, abs=0.02)  # no overall darkening or brightening


def test_grain_alone_or_flicker_alone_degrades_a_clip():
    clip = EvalClip("v@0", 0, np.full((3, 16, 16, 3), 128, np.uint8))
    assert not np.array_equal(Degradation(grain=10).clip(clip).frames, clip.frames)
    assert not np.array_equal(Degradation(flicker=0.2).clip(clip).frames, clip.frames)


def test_letterbox_bars_are_black_and_the_frames_between_them_unchanged():
    frames = np.random.default_rng(0).integers(1, 256, (3, 40, 64, 3), dtype=np.uint8)
    out = Degradation(letterbox=0.25).frames(frames, seed=0)
    assert out.shape == (3, 60, 64, 3)  # 10 rows above and below
    assert not out[:, :10].any() and not out[:, 50:].any()
    np.testing.assert_array_equal(out[:, 10:50], frames)


def test_the_caption_is_the_same_in_every_frame_and_drawn_over_the_grain():
    frames = np.full((4, 120, 160, 3), 90, np.uint8)
    out = Degradation(caption=True).frames(frames, seed=0)
    changed = (out != 90).any(axis=-1)
    assert changed.any() and (changed == changed[0]).all()  # still: the same pixels in every frame
    assert changed[0].mean() < 0.1  # a caption, not a frame
    assert (out[:, changed[0]] == out[0, changed[0]]).all()
    # white text in the bottom left, a red mark in the top right
    assert (out[0, 100:, :80] == 255).all(axis=-1).any()
    red = (out[0, :20, 120:, 0] > 200) & (out[0, :20, 120:, 1] < 60)
    assert red.any()
    # grain under the caption: the caption's white core is not noisy, the rest is
    grainy = Degradation(grain=10, caption=True).frames(frames, seed=0)
    white = (out[0] == 255).all(axis=-1)
    assert (grainy[:, white] == 255).all() and grainy[:, ~changed[0]].std() > 5


def test_a_grey_clip_gets_a_grey_caption():
    out = Degradation(caption=True).frames(np.full((2, 120, 160, 1), 90, np.uint8), seed=0)
    assert out.shape == (2, 120, 160, 1) and (out == 255).any() and (out == 0).any()


def test_portrait_turns_every_frame_a_quarter_turn_before_the_caption_is_drawn():
    frames = np.random.default_rng(0).integers(0, 256, (3, 40, 64, 3), dtype=np.uint8)
    out = Degradation(portrait=True).frames(frames, seed=0)
    assert out.shape == (3, 64, 40, 3)
    # a quarter turn clockwise: the left column becomes the top row (its bottom pixel first), the
    # top row the right column
    np.testing.assert_array_equal(out[:, 0, :], frames[:, ::-1, 0])
    np.testing.assert_array_equal(out[:, :, -1], frames[:, 0, :])
    captioned = Degradation(portrait=True, caption=True).frames(frames, seed=0)
    assert captioned.shape == (3, 64, 40, 3) and not np.array_equal(captioned, out)
    assert Degradation(portrait=True, letterbox=0.25).frames(frames, seed=0).shape == (3, 96, 40, 3)
    assert Degradation(portrait=True).describe() == "each frame turned a quarter turn (portrait)"


def test_a_fade_darkens_each_frame_by_the_same_step_and_a_fade_in_ends_at_the_clip():
    out = Degradation(fade=0.05).frames(_grey(200, (4, 2, 2, 3)), seed=0)[:, 0, 0, 0]
    assert out.tolist() == [200, 190, 180, 170]  # 1, 0.95, 0.90, 0.85 of 200
    out = Degradation(fade=-0.05).frames(_grey(200, (4, 2, 2, 3)), seed=0)[:, 0, 0, 0]
    assert out.tolist() == [170, 180, 190, 200]  # brighter each frame, the last as it is
    assert Degradation(fade=0.05).describe() == "a fade out of 5% a frame"
    assert Degradation(fade=-0.1).describe() == "a fade in of 10% a frame"


def test_a_fade_to_white_shrinks_each_frames_distance_from_white_by_the_same_step():
    out = Degradation(fade=0.05, fade_white=True).frames(_grey(55, (4, 2, 2, 3)), seed=0)[:, 0, 0, 0]
    assert out.tolist() == [55, 65, 75, 85]  # 200, 190, 180, 170 grey levels below white
    out = Degradation(fade=-0.05, fade_white=True).frames(_grey(55, (4, 2, 2, 3)), seed=0)[:, 0, 0, 0]
    assert out.tolist() == [85, 75, 65, 55]  # from white towards the clip's last frame as it is
    assert Degradation(fade=0.05, fade_white=True).describe() == "a fade out to white of 5% a frame"
    assert Degradation(fade=-0.1, fade_white=True).describe() == "a fade in from white of 10% a frame"
    with pytest.raises(ValueError, match="a fade of 0.25 a frame reaches white within 6 frames"):
        Degradation(fade=0.25, fade_white=True).frames(_grey(100, (6, 2, 2, 3)), seed=0)
    with pytest.raises(ValueError, match="fade_white needs a fade"):
        Degradation(fade_white=True)


def test_a_dissolve_mixes_in_the_clip_turned_a_half_turn_by_a_growing_share():
    frames = np.zeros((3, 2, 2, 1), np.uint8)
    frames[:, 0, 0] = 200  # a bright top-left pixel; turned a half turn, it is the bottom-right one
    out = Degradation(dissolve=0.25).frames(frames, seed=0)[..., 0]
    assert out.tolist() == [[[200, 0], [0, 0]], [[150, 0], [0, 50]], [[100, 0], [0, 100]]]
    assert Degradation(dissolve=0.6).frames(frames, seed=0)[2, 1, 1, 0] == 200  # the second scene whole, not more
    assert Degradation(dissolve=0.05).describe() == "a cross-dissolve of 5% a frame"
    held = Degradation(dissolve=0.25, fade_frames=2).frames(frames, seed=0)[..., 0]  # it ends at the 2nd frame
    assert held.tolist() == [[[200, 0], [0, 0]], [[150, 0], [0, 50]], [[150, 0], [0, 50]]]
    described = Degradation(dissolve=0.05, fade_frames=4).describe()
    assert described == "a cross-dissolve of 5% a frame over the first 4 frames"
    with pytest.raises(ValueError, match=r"dissolve must lie in \[0, 1\)"):
        Degradation(dissolve=1.0)


def test_a_fade_that_would_reach_black_within_the_clip_is_refused():
    with pytest.raises(ValueError, match=r"a fade of 0.25 a frame reaches black within 6 frames; use one under 0.2"):
        Degradation(fade=0.25).frames(_grey(100, (6, 2, 2, 3)), seed=0)


def test_a_fade_over_the_first_frames_ends_there_and_the_rest_hold():
    out = Degradation(fade=0.05, fade_frames=4).frames(_grey(200, (6, 2, 2, 3)), seed=0)[:, 0, 0, 0]
    assert out.tolist() == [200, 190, 180, 170, 170, 170]  # the faded brightness held
    out = Degradation(fade=-0.05, fade_frames=4).frames(_grey(200, (6, 2, 2, 3)), seed=0)[:, 0, 0, 0]
    assert out.tolist() == [170, 180, 190, 200, 200, 200]  # faded in to full brightness, then held
    assert Degradation(fade=0.05, fade_frames=4).describe() == "a fade out of 5% a frame over the first 4 frames"
    # a fade over more frames than the clip has is a fade over all of them
    np.testing.assert_array_equal(Degradation(fade=0.05, fade_frames=9).frames(_grey(200), seed=0),
                                  Degradation(fade=0.05).frames(_grey(200), seed=0))


def _pillow_jpeg(frame: np.ndarray, quality: int) -> np.ndarray:
    """An independent round trip through Pillow's JPEG encoder and decoder."""
    buffer = io.BytesIO()
    Image.fromarray(frame.squeeze(-1) if frame.shape[-1] == 1 else frame).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue()))).reshape(frame.shape)


def test_jpeg_compresses_each_frame_alone_as_pillow_does():
    rng = np.random.default_rng(3)
    base = (np.add.outer(np.arange(48), np.arange(64))[..., None] * [2, 3, 1]) % 256  # smooth colour ramps
    frames = np.clip(base[None] + rng.normal(0, 20, (3, 48, 64, 3)), 0, 255).astype(np.uint8)
    frames[2] = frames[0]
    out = Degradation(jpeg=30).frames(frames, seed=0)
    assert out.shape == frames.shape and out.dtype == np.uint8
    for frame, compressed in zip(frames, out):
        np.testing.assert_array_equal(compressed, _pillow_jpeg(frame, 30))
    np.testing.assert_array_equal(out[2], out[0])  # the same frame, compressed alone, comes out the same
    error = {q: np.abs(Degradation(jpeg=q).frames(frames, seed=0).astype(int) - frames).mean() for q in (10, 30, 90)}
    assert error[10] > error[30] > error[90] > 0  # the lower the quality, the more is lost
    grey = frames[..., :1]
    np.testing.assert_array_equal(Degradation(jpeg=30).frames(grey, seed=0)[1], _pillow_jpeg(grey[1], 30))


def test_jpeg_comes_last_and_is_named():
    frames = np.random.default_rng(0).integers(1, 256, (2, 40, 64, 3), dtype=np.uint8)
    out = Degradation(letterbox=0.25, jpeg=50).frames(frames, seed=0)
    barred = Degradation(letterbox=0.25).frames(frames, seed=0)
    np.testing.assert_array_equal(out[0], _pillow_jpeg(barred[0], 50))  # the bars compressed with the picture
    assert Degradation(jpeg=30).describe() == "every frame a JPEG of quality 30"
    assert Degradation(jpeg=30) and not Degradation(jpeg=0)


def test_height_shrinks_every_frame_by_area_averaging_first():
    frames = np.random.default_rng(1).integers(0, 256, (3, 64, 96, 3), dtype=np.uint8)
    out = Degradation(height=32).frames(frames, seed=0)
    assert out.shape == (3, 32, 48, 3) and out.dtype == np.uint8
    blocks = frames.reshape(3, 32, 2, 48, 2, 3).astype(np.float64).mean(axis=(2, 4))  # each 2x2 block's mean
    assert np.abs(out - blocks).max() <= 0.5 + 1e-9  # rounded to the nearest grey level
    assert Degradation(height=40).frames(frames, seed=0).shape == (3, 40, 60, 3)  # the width in proportion
    assert Degradation(height=128).frames(frames, seed=0).shape == (3, 128, 192, 3)  # enlarged too
    grey = Degradation(height=32).frames(frames[..., :1], seed=0)
    assert grey.shape == (3, 32, 48, 1)
    # resized before anything else: the caption and the bars are drawn at the new size
    barred = Degradation(height=32, letterbox=0.25).frames(frames, seed=0)
    assert barred.shape == (3, 48, 48, 3) and not barred[:, :8].any()
    assert Degradation(height=144, grain=5).describe() == "every frame resized to 144 rows, grain of 5 grey levels"
    assert Degradation(height=144) and not Degradation(height=0)

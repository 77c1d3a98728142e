"""Scene-cut detection and the sampler's rejection of clips that span a cut."""

from __future__ import annotations

import numpy as np
import pytest

from vidpred.data import cuts
from vidpred.data.cuts import frame_differences, scene_cuts, valid_starts
from vidpred.data.errors import DataError
from vidpred.data.procedural import generate_video
from vidpred.data.sampler import PatchSampler, fixed_clips


def _video_with_a_cut(cut: int = 12, n_frames: int = 24, size: int = 48) -> np.ndarray:
    """Two procedural shots (moving textures) joined at frame ``cut``: the first in grey
    levels 0-127, the second in 128-255, so any crop tells which shot it came from."""
    first = generate_video(1, n_frames, size, size) // 2
    second = generate_video(2, n_frames, size, size) // 2 + 128
    return np.ascontiguousarray(np.concatenate([first[:cut], second[cut:]]))


def test_frame_differences_by_hand():
    video = np.zeros((3, 8, 8, 1), np.uint8)
    video[1] = 255  # a full-range step: (2)^2 = 4 in [-1, 1] units
    np.testing.assert_allclose(frame_differences(video), [4.0, 4.0])


def test_a_synthetic_cut_is_found_and_motion_is_not():
    video = _video_with_a_cut(cut=12)
    assert scene_cuts(video, ratio=5.0) == [12]
    assert scene_cuts(generate_video(1, 24, 48, 48), ratio=5.0) == []  # moving objects, panning camera


def test_valid_starts_skip_windows_across_cuts():
    assert valid_starts(10, 3, []).tolist() == list(range(8))
    # A cut at frame 5 (between 4 and 5): windows [3..5] and [4..6] span it.
    assert valid_starts(10, 3, [5]).tolist() == [0, 1, 2, 5, 6, 7]
    assert valid_starts(4, 3, [1, 3]).tolist() == []


def test_sampler_never_draws_a_patch_across_the_cut():
    video = _video_with_a_cut(cut=12)
    n_frames = 5
    sampler = PatchSampler([video], n_frames, 16, motion_threshold=0.0, seed=3, cut_ratio=5.0)
    assert sampler.cuts == [[12]]
    batches = np.concatenate([sampler.sample(index, 16) for index in range(20)])  # (320, 5, 16, 16, 3)
    second_shot = batches >= 128
    within_one_shot = second_shot.all(axis=(1, 2, 3, 4)) | (~second_shot).all(axis=(1, 2, 3, 4))
    assert within_one_shot.all()
    assert 0 < second_shot.all(axis=(1, 2, 3, 4)).mean() < 1  # both shots are sampled
    # Without cut detection, the same sampler does draw clips across the cut.
    unchecked = PatchSampler([video], n_frames, 16, motion_threshold=0.0, seed=3)
    mixed = np.concatenate([unchecked.sample(index, 16) for index in range(20)]) >= 128
    assert not (mixed.all(axis=(1, 2, 3, 4)) | (~mixed).all(axis=(1, 2, 3, 4))).all()


def test_sampler_without_cuts_draws_as_before(tmp_path):
    video = generate_video(1, 16, 40, 40)
    plain = PatchSampler([video], 5, 16, motion_threshold=0.001, seed=0)
    checked = PatchSampler([video], 5, 16, motion_threshold=0.001, seed=0, cut_ratio=5.0)
    for index in range(5):
        np.testing.assert_array_equal(plain.sample(index, 4), checked.sample(index, 4))


def test_validation_clips_avoid_cuts():
    video = _video_with_a_cut(cut=12)
    clips = fixed_clips([video], 16, 6, seed=0, cut_ratio=5.0)
    for clip in clips:
        assert (clip >= 128).all() or (clip < 128).all()


def test_a_video_cut_in_every_window_is_refused():
    # Shots of 4 frames: every 5-frame window holds a cut.
    video = np.concatenate([generate_video(s, 4, 32, 32) // 2 + 64 * (s % 2) for s in range(3)])
    video = np.ascontiguousarray(video)
    message = r"shots.avi has a scene cut in every 5-frame window \(cuts at frames \[4, 8\]\); raise data.cut_ratio"
    with pytest.raises(DataError, match=message):
        PatchSampler([video], 5, 16, motion_threshold=0.0, cut_ratio=5.0, names=["shots.avi"])
    with pytest.raises(DataError, match=message):  # as a validation video
        fixed_clips([video], 4, 5, seed=0, cut_ratio=5.0, names=["shots.avi"])


def test_cut_ratio_must_exceed_one():
    with pytest.raises(ValueError, match="> 1"):
        scene_cuts(generate_video(1, 8, 32, 32), ratio=1.0)


def test_augmentation_flips_and_reverses_the_same_crops():
    from vidpred.data.procedural import generate_video

    video = generate_video(4, 12, 40, 40)
    plain = PatchSampler([video], 5, 16, motion_threshold=0.001, seed=2)
    augmented = PatchSampler([video], 5, 16, motion_threshold=0.001, seed=2, augment=True)
    seen = set()
    for index in range(4):
        a, b = plain.sample(index, 16), augmented.sample(index, 16)
        for x, y in zip(a, b):
            variants = {"same": x, "flip": x[:, :, ::-1], "reverse": x[::-1], "both": x[::-1, :, ::-1]}
            match = [name for name, v in variants.items() if np.array_equal(v, y)]
            assert match, "an augmented clip must be a flip and/or reversal of the plain crop"
            seen.add(match[0])
    assert seen == {"same", "flip", "reverse", "both"}


def _shots(levels, lengths, size=16):
    """Flat grey shots, ``levels[i]`` for ``lengths[i]`` frames each."""
    return np.concatenate([np.full((n, size, size, 3), v, np.uint8) for v, n in zip(levels, lengths)])


def test_a_cut_of_12_grey_levels_is_a_cut_and_one_of_6_is_not():
    # A flat jump of k grey levels has a mean squared difference of (2k / 255)^2 in [-1, 1]
    # units: 12 levels give 8.9e-3, above the 5e-3 floor, 6 levels 2.2e-3, below it. The
    # still shots around it have a difference of 0, raised to the 1e-4 reference floor.
    assert scene_cuts(_shots([100, 112], [10, 10]), 10.0) == [10]
    assert scene_cuts(_shots([100, 106], [10, 10]), 10.0) == []


def test_the_cuts_of_a_fast_montage_and_of_a_three_frame_video_are_found():
    # Shots of 3 frames: a third of each cut's neighbours are cuts too; their median is still 0.
    video = _shots([60, 140] * 5, [3] * 10)
    assert scene_cuts(video, 5.0) == list(range(3, 30, 3))
    assert scene_cuts(_shots([60, 140], [1, 2]), 5.0) == [1]  # a cut is not its own neighbour


def test_a_cut_is_judged_against_window_differences_on_each_side(monkeypatch):
    # window 2: the jump at t = 2 (0.25) has neighbours 0.2, 0.01 | 0.2, 0.01, median 0.105:
    # not 3 times that, so no cut; at t = 3 (0.2) the neighbours 0.01, 0.25 | 0.01 give 0.01: a cut.
    d = np.array([0.2, 0.01, 0.25, 0.2, 0.01])
    monkeypatch.setattr(cuts, "frame_differences", lambda video: d)
    assert cuts.scene_cuts(np.zeros((6, 4, 4, 3), np.uint8), ratio=3, window=2) == [4]


def test_a_near_static_shot_is_judged_against_the_noise_floor(monkeypatch):
    # a change of 6e-3 between frames that otherwise do not change at all: at ratio 100 it must
    # exceed 100 x 1e-4 (the floor), not 100 x 0, to be a cut
    d = np.array([0.0, 0.0, 6e-3, 0.0, 0.0])
    monkeypatch.setattr(cuts, "frame_differences", lambda video: d)
    assert cuts.scene_cuts(np.zeros((6, 4, 4, 3), np.uint8), ratio=100) == []
    assert cuts.scene_cuts(np.zeros((6, 4, 4, 3), np.uint8), ratio=50) == [3]

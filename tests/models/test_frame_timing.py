"""Repeated and skipped frames among a context's steps (vidpred/models/frame_timing.py); the
refiner reading them: tests/models/test_refiner.py."""

import pytest
import torch

from vidpred.models import frame_timing
from vidpred.models.refiner import context_flows

def test_a_frame_shown_twice_is_a_repeat_at_its_step_and_a_hold_only_at_its_first(photo_clips):
    pan = photo_clips.pan((3, 0), 5)
    assert not frame_timing.repeated_steps(photo_clips.repeated(pan, 0, 1, 2, 3)).any()
    assert frame_timing.repeated_steps(photo_clips.repeated(pan, 0, 1, 2, 2))[0].tolist() == [True, False, False]
    assert frame_timing.repeated_steps(photo_clips.repeated(pan, 0, 1, 1, 2))[0].tolist() == [False, True, False]
    assert frame_timing.repeated_steps(photo_clips.repeated(pan, 0, 1, 1, 1))[0].tolist() == [False, True, False]  # a hold
    assert not frame_timing.repeated_steps(photo_clips.repeated(pan, 1, 1, 1, 1)).any()  # a still scene
    assert not frame_timing.repeated_steps(photo_clips.repeated(pan, 1, 1, 2, 3)).any()  # the oldest step: nothing before it
    # a repeat coded again comes back a grey level or two off: still a repeat
    coded = photo_clips.repeated(pan, 0, 1, 2, 2)
    noise = torch.randint(-2, 3, coded[:, :, -1].shape, generator=torch.Generator().manual_seed(0)) * (2 / 255)
    coded[:, :, -1] = coded[:, :, -1] + noise
    assert frame_timing.repeated_steps(coded)[0].tolist() == [True, False, False]
    # a slower step is motion, not a repeat: frame 3 moved one pixel on from frame 2
    slower = photo_clips.repeated(pan, 0, 1, 2, 2)
    slower[:, :, -1] = photo_clips.pan((1, 0), 8)[:, :, 7]  # 7 px in: frame 2 at 3 px a frame, and one pixel more
    assert frame_timing.changed_fractions(slower)[0, 0] > 0.1
    assert not frame_timing.repeated_steps(slower)[0, 0]


def test_a_repeated_frame_is_taken_out_of_the_context_and_the_oldest_shown_again(photo_clips):
    pan = photo_clips.pan((3, 0), 5)
    for shown, rebuilt in [((0, 1, 2, 2), (0, 0, 1, 2)), ((0, 1, 1, 2), (0, 0, 1, 2)), ((0, 1, 1, 1), (0, 0, 1, 1))]:
        assert torch.equal(frame_timing.without_repeats(photo_clips.repeated(pan, *shown)), photo_clips.repeated(pan, *rebuilt)), shown
    both = torch.cat([photo_clips.repeated(pan, 0, 1, 2, 2), photo_clips.repeated(pan, 0, 1, 2, 3)])
    rebuilt = frame_timing.without_repeats(both)
    assert torch.equal(rebuilt[0], photo_clips.repeated(pan, 0, 0, 1, 2)[0]) and torch.equal(rebuilt[1], both[1])
    plain = photo_clips.repeated(pan, 0, 1, 2, 3)
    assert frame_timing.without_repeats(plain) is plain


def test_a_newest_step_twice_the_steady_ones_before_it_skips_a_frame(photo_clips):
    pan = photo_clips.pan((3, 0), 8)
    flows = lambda clip: context_flows(clip, 3)  # noqa: E731  (the steps at the newest frame's pixels)
    skipped = photo_clips.repeated(pan, 0, 1, 2, 4)  # frame 3 left out: the newest step moves 6 px, the two before 3
    assert frame_timing.step_ratios(flows(skipped))[0].tolist() == pytest.approx([2.0, 1.0], abs=0.05)
    assert frame_timing.skipped_newest(flows(skipped)).tolist() == [True]
    for shown in [(0, 1, 2, 3), (0, 2, 4, 6), (0, 1, 3, 5), (0, 1, 3, 7)]:  # steady; twice, steady; from 1 to 2; 1, 2, 4
        assert frame_timing.skipped_newest(flows(photo_clips.repeated(pan, *shown))).tolist() == [False], shown
    with pytest.raises(ValueError, match="three steps' flows, got 2"):
        frame_timing.skipped_newest(flows(skipped)[:2])
    still = photo_clips.repeated(pan, 0, 0, 0, 0)  # nothing moves: no ratio to read
    assert frame_timing.step_ratios(flows(still)).isnan().all() and not frame_timing.skipped_newest(flows(still))


def _rhythm(pattern: str, n: int, moving: float = 0.3, held: float = 0.001) -> list[float]:
    """``n`` steps' changed fractions, oldest first, repeating ``pattern`` (``m``: moving, ``h``: held)."""
    return [moving if pattern[i % len(pattern)] == "m" else held for i in range(n)]


@pytest.mark.parametrize("pattern", ["mh", "mhh", "mmmmh", "mmmmmh", "mhhh"])
def test_a_steady_rhythm_of_held_frames_says_which_step_comes_next(pattern):
    p = len(pattern)
    n = frame_timing.CADENCE_PERIODS * p
    for k in range(p):  # the history ending at each place in the period: the next step is the pattern's next
        history = _rhythm(pattern[k:] + pattern[:k], n)
        assert frame_timing.held_next(history) == (pattern[k] == "h"), (pattern, k)
    # fewer steps than three periods say nothing yet
    assert not any(frame_timing.held_next(_rhythm(pattern[k:] + pattern[:k], n - 1)) for k in range(p))


def test_no_rhythm_without_both_kinds_of_step_or_where_it_breaks():
    held_next = frame_timing.held_next
    assert not held_next([0.3] * 18)  # all moving
    assert not held_next([0.001] * 18)  # a still scene (its next step still, but there is no rhythm to read)
    assert not held_next(_rhythm("mh", 5))  # under three periods: not yet
    assert held_next(_rhythm("hm", 6)) is True and held_next(_rhythm("mh", 6)) is False  # newest moving: next held
    broken = _rhythm("hm", 12)
    broken[-4] = 0.3  # a held step that moved
    assert not held_next(broken)
    # a step under the line but not little enough against the moving ones is no held frame
    assert not held_next(_rhythm("hm", 6, moving=0.05, held=0.015))
    assert held_next(_rhythm("hm", 6, moving=0.05, held=0.005))
    # a frame held once, then motion, then a stop: no steady rhythm
    assert not held_next([0.3, 0.3, 0.001, 0.3, 0.3, 0.3, 0.3, 0.3, 0.001])

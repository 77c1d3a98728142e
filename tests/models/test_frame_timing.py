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


def test_the_rhythm_is_its_newest_period_starting_with_the_next_step():
    assert frame_timing.rhythm(_rhythm("mhh", 9)) == [True, False, False]  # the next step moves
    assert frame_timing.rhythm(_rhythm("hmh", 9)) == [False, True, False]
    assert frame_timing.rhythm(_rhythm("mhh", 8)) is None  # under three periods
    # the next step moves after two held ones on threes; after one on twos, which the refiner reads itself
    assert frame_timing.moves_after_held(_rhythm("mhh", 9)) and not frame_timing.moves_after_held(_rhythm("hmh", 9))
    assert not frame_timing.moves_after_held(_rhythm("mh", 6)) and not frame_timing.moves_after_held([0.3] * 18)


def _read(steps: list[float], n_context: int = 4) -> frame_timing.HeldFrames:
    """:class:`~vidpred.models.frame_timing.HeldFrames` after ``steps``, each step's first frame
    named by its number (the frames 0, 1, ... along the video)."""
    held = frame_timing.HeldFrames(n_context)
    for t, changed in enumerate(steps):
        held = held.after(changed, t)
    return held


def test_a_moving_step_of_the_rhythm_is_predicted_from_the_moving_steps_first_frames():
    # on threes: frame t + 1 moves on from frame t where t is 2, 5, 8, ...; the others show it again
    steps = _rhythm("hhm", 9)  # frames 0..9, the steps into frames 3, 6 and 9 move; the next two hold
    held = _read(steps)
    assert held.holds_next() and held.moving_context("newest") is None
    steps += _rhythm("hh", 2)  # frames 10, 11 held: the step into frame 12 moves
    held = _read(steps)
    assert not held.holds_next() and held.n_steps == 11 and held.changed == tuple(steps)
    # the frames the steps into 3, 6 and 9 moved from (2, 5, 8), then the newest (11, frame 9 shown again)
    assert held.moving_context("newest") == [2, 5, 8, "newest"]
    # each frame four times: three held steps before each moving one
    assert _read(_rhythm("hhhm", 12) + [0.001] * 3).moving_context("x") == [3, 7, 11, "x"]
    # after() leaves the reading it was given as it was: a failed prediction keeps it
    before = _read(steps)
    before.after(0.3, 11)
    assert before.n_steps == 11 and before.moving_context("x") == [2, 5, 8, "x"]
    # a model reading two frames: one moving step's first frame
    assert _read(_rhythm("hhm", 9) + [0.001, 0.001], n_context=2).moving_context("newest") == [8, "newest"]


def test_no_moving_context_without_a_rhythm_or_enough_moving_steps_within_it():
    assert _read([0.3] * 18).moving_context("x") is None  # moving all along: no rhythm, the last frames as they are
    assert _read(_rhythm("mh", 5)).moving_context("x") is None  # under three periods
    # one held step before the next moving one (every frame shown twice, one in five twice): the
    # refiner takes the repeat out of the last frames itself
    for steps in (_rhythm("mh", 6), _rhythm("mmmmh", 15), _rhythm("mhhmh", 15)):
        held = _read(steps)
        assert frame_timing.rhythm(steps)[0] and held.moving_context("x") is None, steps
    assert _read(_rhythm("mhmhh", 15)).moving_context("x") == [7, 10, 12, "x"]  # two held before it
    # a model reading six frames needs five moving steps, where the video so far holds three
    assert _read(_rhythm("hhm", 9) + [0.001, 0.001], n_context=6).moving_context("x") is None
    # a model reading five needs four, where the three periods the rhythm was read over hold three
    steps = _rhythm("hhm", 12) + [0.001, 0.001]  # the steps 2, 5, 8 and 11 move
    assert _read(steps, n_context=4).moving_context("x") == [5, 8, 11, "x"]
    assert _read(steps, n_context=5).moving_context("x") is None  # step 2 is older than the periods read


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

"""Per-clip scoring: the right numbers under the right keys, NaN where undefined."""

from __future__ import annotations

import logging
import math

import pytest
import torch

from vidpred.data import to_model_input
from vidpred.evaluation import EvalClip, Protocol, baseline_methods, evaluate, evaluate_clip, metric_key
from vidpred.evaluation.flow import backward_flow, moving_mask
from vidpred.evaluation.scoring import MAX_PSNR_DB, MAX_SHARPNESS_DB
from vidpred.metrics import load_lpips, masked_psnr, psnr, ssim, temporal_high_frequency_share

CPU = torch.device("cpu")


def test_scores_match_the_metric_functions(square_clip):
    frames, _ = square_clip(n_frames=8, size=64, side=16, speed=2)
    result = evaluate_clip(EvalClip("square", 0, frames), baseline_methods(), Protocol(), CPU)
    x = to_model_input(torch.from_numpy(frames).unsqueeze(0))
    context, future = x[:, :, :4], x[:, :, 4:]
    mask = moving_mask(backward_flow(context))
    last = context[:, :, -1]
    scores = result.scores["last input"]
    for k in (1, 2):
        target = future[:, :, k - 1]
        assert scores[metric_key("psnr", "whole", k)] == pytest.approx(psnr(last, target).item())
        assert scores[metric_key("ssim", "whole", k)] == pytest.approx(ssim(last, target).item())
        assert scores[metric_key("psnr", "moving", k)] == pytest.approx(masked_psnr(last, target, mask, "moving").item())
        assert scores[metric_key("psnr", "compat", k)] == pytest.approx(masked_psnr(last, target, mask, "compat").item())
    assert result.moving_fraction == pytest.approx(mask.float().mean().item())
    assert 0 < result.moving_fraction < 0.3
    assert scores["flicker"] == 0.0  # a repeated frame does not change
    assert result.target_flicker == pytest.approx(temporal_high_frequency_share(future).item())
    # On a moving square the flow baseline wins where things move.
    assert result.scores["Farneback flow (paper)"]["psnr_moving_f1"] > scores["psnr_moving_f1"]
    assert scores["psnr_compat_f1"] > scores["psnr_moving_f1"]  # static pixels dilute the error


def test_static_clip_has_no_moving_area_scores_and_short_clip_no_flicker(square_clip):
    frames, _ = square_clip(n_frames=6, size=32, side=8, speed=0)  # 4 context + 2: too short for 4-frame flicker
    result = evaluate_clip(EvalClip("static", 0, frames), baseline_methods(), Protocol(), CPU)
    scores = result.scores["Farneback flow (paper)"]
    assert result.moving_fraction == 0
    assert all(math.isnan(scores[metric_key(m, r, k)]) for m in ("psnr", "ssim", "sharpness")
               for r in ("compat", "moving") for k in (1, 2))
    # A static clip is predicted exactly: a success at the floors' values, not a missing value.
    exact = result.scores["last input"]
    assert exact["psnr_whole_f1"] == pytest.approx(MAX_PSNR_DB) and math.isfinite(exact["psnr_whole_f1"])
    assert exact["sharpness_whole_f2"] == pytest.approx(MAX_SHARPNESS_DB)
    assert math.isnan(scores["flicker"]) and math.isnan(result.target_flicker)


def test_the_clips_with_no_moving_pixel_are_named(square_clip, caplog):
    # a video whose first frames are black or still scores at the floor: which clips, and what moves them, is said
    still, _ = square_clip(n_frames=6, size=32, side=8, speed=0)
    moving, _ = square_clip(n_frames=6, size=32, side=8, speed=2)
    clips = [EvalClip("black_start.mp4", 0, still), EvalClip("walk.mp4", 0, moving), EvalClip("tripod.mp4", 0, still)]
    with caplog.at_level(logging.WARNING, logger="vidpred.evaluation.runner"):
        evaluate(clips, baseline_methods()[:1], Protocol(), CPU, show_progress=False)
    assert ("2 of 3 clips have no moving pixel (|flow| <= 0.5 px) and are left out of the moving-area scores: "
            "black_start.mp4, tripod.mp4 (a still or blank start? --start-frame moves the clips)") in caplog.text


def test_evaluate_keeps_clip_order_and_rejects_duplicate_names(square_clip):
    frames, _ = square_clip(n_frames=6, size=32, side=8, speed=1)
    clips = [EvalClip(f"v{i}", 0, frames) for i in range(3)]
    results = evaluate(clips, baseline_methods(), Protocol(), CPU, show_progress=False)
    assert [r.name for r in results] == ["v0", "v1", "v2"]
    methods = baseline_methods()
    methods[1].name = methods[0].name
    with pytest.raises(ValueError, match="unique"):
        evaluate(clips, methods, Protocol(), CPU, show_progress=False)


def test_a_prediction_that_is_not_finite_is_an_error_naming_the_method_and_clip(square_clip):
    """A model that predicts NaN (a diverged checkpoint) is not scored as 'undefined' for that
    clip, which would leave the clip out of every method's means and the report all n/a."""
    from vidpred.evaluation.predictors import Method

    frames, _ = square_clip(n_frames=8, size=32, side=8, speed=1)

    def diverged(context, n_future, flow=None):
        return torch.full_like(context[:, :, -1:].expand(-1, -1, n_future, -1, -1), math.nan)

    methods = [Method("diverged", "checkpoint", diverged, {}), *baseline_methods()]
    with pytest.raises(ValueError, match=r"diverged predicted non-finite values .*clip v7"):
        evaluate_clip(EvalClip("v7", 0, frames), methods, Protocol(), CPU)


def test_protocol_lengths():
    assert (Protocol().clip_frames, Protocol().min_frames) == (8, 6)
    assert Protocol(flicker_frames=6).clip_frames == 10
    assert Protocol(flicker_frames=0).clip_frames == 6
    with pytest.raises(ValueError, match="need n_scored >= 1 and flicker_frames 0 or >= 4"):
        Protocol(flicker_frames=3)
    with pytest.raises(ValueError, match="need n_scored >= 1"):
        Protocol(n_scored=0)


def test_lpips_column_when_available_and_nan_on_tiny_frames(square_clip):
    torch.manual_seed(0)
    lpips = load_lpips(random_backbone=True)  # plumbing only: random backbone, explicitly
    big, _ = square_clip(n_frames=6, size=48, side=12, speed=2)
    small, _ = square_clip(n_frames=6, size=24, side=6, speed=2)
    scores = evaluate_clip(EvalClip("big", 0, big), baseline_methods(), Protocol(), CPU, lpips).scores
    assert all(math.isfinite(scores[m][f"lpips_whole_f{k}"]) and scores[m][f"lpips_whole_f{k}"] > 0
               for m in ("last input", "Farneback flow (paper)") for k in (1, 2))
    tiny = evaluate_clip(EvalClip("small", 0, small), baseline_methods(), Protocol(), CPU, lpips).scores
    assert math.isnan(tiny["last input"]["lpips_whole_f2"])  # under AlexNet's 31 px minimum


def test_a_mask_per_frame_follows_the_motion(square_clip):
    frames, _ = square_clip(n_frames=8, size=64, side=16, speed=3)
    clip = EvalClip("square", 0, frames)
    shared = evaluate_clip(clip, baseline_methods(), Protocol(), CPU)
    per_frame = evaluate_clip(clip, baseline_methods(), Protocol(mask_per_frame=True), CPU)
    x = to_model_input(torch.from_numpy(frames).unsqueeze(0))
    second = moving_mask(backward_flow(x[:, :, 3:5]))  # true frame 1 (index 4) back to the last context frame
    first = moving_mask(backward_flow(x[:, :, :4]))
    assert not torch.equal(first, second)
    # The 2nd mask sits where the square moved one step on (3 px right), the context's one step before.
    def mean_column(mask):
        return mask[0, 0].nonzero()[:, 1].float().mean().item()

    assert 2 < mean_column(second) - mean_column(first) < 4
    assert per_frame.moving_fractions == pytest.approx([first.float().mean().item(), second.float().mean().item()])
    assert shared.moving_fractions == pytest.approx([first.float().mean().item()] * 2)
    last = x[:, :, 3]
    for k, mask in ((1, first), (2, second)):
        assert per_frame.scores["last input"][metric_key("psnr", "moving", k)] == pytest.approx(
            masked_psnr(last, x[:, :, 3 + k], mask, "moving").item())
    assert per_frame.scores["last input"]["psnr_moving_f1"] == shared.scores["last input"]["psnr_moving_f1"]


def test_threads_change_nothing_and_official_sharpness_has_its_own_keys(square_clip):
    clips = [EvalClip(f"v{i}", 0, square_clip(n_frames=8, size=48, side=12, speed=1 + i % 2, seed=i)[0]) for i in range(4)]
    protocol = Protocol(sharpness="official")
    one = evaluate(clips, baseline_methods(), protocol, CPU, show_progress=False)
    three = evaluate(clips, baseline_methods(), protocol, CPU, show_progress=False, workers=3)
    assert [r.name for r in three] == ["v0", "v1", "v2", "v3"]
    assert [r.scores for r in one] == [r.scores for r in three]
    keys = one[0].scores["Farneback flow (paper)"]
    assert "sharpness_official_compat_f1" in keys and "sharpness_compat_f1" not in keys
    with pytest.raises(ValueError, match="sharpness units"):
        Protocol(sharpness="dB")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_stop_finishes_the_clips_started_and_starts_no_other(square_clip, monkeypatch, workers):
    """Asked to stop while the 2nd clip is scored: the clips started (the 1st and 2nd, with two
    workers both at once) are finished and returned in order, and no other is started."""
    import threading

    import vidpred.evaluation.runner as runner

    frames, _ = square_clip(n_frames=6, size=32, side=8, speed=1)
    clips = [EvalClip(f"v{i}", 0, frames) for i in range(5)]
    asked = threading.Event()
    both_running = threading.Barrier(workers)  # with two workers neither ends before the stop is asked
    started = []
    score = runner.evaluate_clip

    def stop_asked_in_the_2nd(clip, *args):
        started.append(clip.name)
        if clip.name == "v1":
            asked.set()
        if clip.name in ("v0", "v1"):
            both_running.wait(timeout=60)
        return score(clip, *args)

    monkeypatch.setattr(runner, "evaluate_clip", stop_asked_in_the_2nd)
    results = evaluate(clips, baseline_methods(), Protocol(flicker_frames=0), CPU, show_progress=False,
                       workers=workers, should_stop=asked.is_set)
    assert [r.name for r in results] == ["v0", "v1"]
    assert sorted(started) == ["v0", "v1"]
    unstopped = evaluate(clips, baseline_methods(), Protocol(flicker_frames=0), CPU, show_progress=False,
                         workers=workers, should_stop=lambda: False)
    assert [r.name for r in unstopped] == ["v0", "v1", "v2", "v3", "v4"]
    assert [r.scores for r in unstopped[:2]] == [r.scores for r in results]


def test_a_second_stop_request_does_not_wait_for_the_clips_under_way(square_clip, monkeypatch):
    """Two workers, a second Ctrl-C while both clips are scored: it is raised at once, the
    clips under way are not waited for, and each gives up at its next stage, unscored."""
    import os
    import signal
    import threading
    import time

    import vidpred.evaluation.runner as runner
    from vidpred.cli import StopRequest

    frames, _ = square_clip(n_frames=6, size=32, side=8, speed=1)
    clips = [EvalClip(f"v{i}", 0, frames) for i in range(5)]
    stop = StopRequest("finishing the clips started")
    both_running, released = threading.Barrier(2), threading.Event()
    scored, abandoned = [], []
    score = runner.evaluate_clip

    def ctrl_c_twice_in_the_2nd(clip, *args):
        both_running.wait(timeout=60)
        if clip.name == "v1":
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(6000):  # the first handled (in the main thread) before the second is sent
                if stop.signal is not None:
                    break
                time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGINT)
        released.wait(timeout=20)  # held until the evaluation has given up on it (the old code waited here)
        try:
            result = score(clip, *args)
        except runner.ClipAbandoned:
            abandoned.append(clip.name)
            raise
        scored.append(clip.name)
        return result

    monkeypatch.setattr(runner, "evaluate_clip", ctrl_c_twice_in_the_2nd)
    with stop, pytest.raises(KeyboardInterrupt):
        evaluate(clips, baseline_methods(), Protocol(flicker_frames=0), CPU, show_progress=False, workers=2,
                 should_stop=lambda: stop.signal is not None)
    # raised while both clips were still held, not after waiting for them to give up
    assert scored == [] and abandoned == []
    released.set()
    for thread in threading.enumerate():
        if thread.name.startswith("evaluate"):
            thread.join(timeout=60)
    assert sorted(abandoned) == ["v0", "v1"] and scored == []  # each gave up before its first prediction


def test_two_context_frames_are_the_fewest_a_flow_can_be_read_from():
    assert (Protocol(n_context=2).clip_frames, Protocol(n_context=2).min_frames) == (6, 4)
    with pytest.raises(ValueError, match="n_context must be >= 2"):
        Protocol(n_context=1)


def test_each_stage_of_a_clip_is_timed_within_the_clips_own_time(square_clip):
    import time

    frames, _ = square_clip(n_frames=6, size=32, side=8, speed=1)
    started = time.perf_counter()
    result = evaluate_clip(EvalClip("v", 0, frames), baseline_methods(), Protocol(), CPU)
    elapsed = time.perf_counter() - started
    assert set(result.seconds) == {"flow", "flow/dis", "scores", "flicker", "predict/last input",
                                   "predict/Farneback flow (paper)", "predict/DIS flow"}
    assert all(0 <= s <= elapsed for s in result.seconds.values())
    assert sum(result.seconds.values()) <= elapsed


def test_a_flow_threshold_must_be_a_finite_non_negative_speed_and_workers_at_least_one(square_clip):
    assert Protocol(flow_threshold=0.0).flow_threshold == 0.0  # every pixel that moves at all
    for bad in (-0.5, math.inf, math.nan):
        with pytest.raises(ValueError, match="the flow threshold must be a finite number >= 0"):
            Protocol(flow_threshold=bad)
    frames, _ = square_clip(n_frames=6, size=32, side=8, speed=1)
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        evaluate([EvalClip("v", 0, frames)], baseline_methods(), Protocol(), CPU, show_progress=False, workers=0)

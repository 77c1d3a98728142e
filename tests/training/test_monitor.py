"""Watching a run: the stop when a loss stops being finite, and the at-chance warning for discriminators."""

from __future__ import annotations

import logging

import pytest
import torch

import vidpred.training.monitor as monitor_module
from vidpred.training.distributed import DistInfo
from vidpred.training.monitor import ChanceMonitor, StallWatch, TrainingDiverged, check_finite


def test_warns_once_after_patience_and_again_after_a_recovery():
    monitor = ChanceMonitor(patience=30, threshold=0.55, log_every=10)  # a window of 3 logged values
    assert monitor.update(10, {"d_acc": 0.5}) == []
    assert monitor.update(20, {"d_acc": 0.52}) == []
    (message,) = monitor.update(30, {"d_acc": 0.5})
    assert "multi-scale discriminator" in message and "optim.discriminator.name=adam" in message
    assert "model.discriminator.init=he" in message and "0.506 < 0.55" in message
    assert monitor.update(40, {"d_acc": 0.5}) == []  # once
    # just under the threshold reads as under it, not as "0.55 < 0.55"
    (close,) = ChanceMonitor(patience=1, threshold=0.55).update(1, {"d_acc": 0.5496})
    assert "balanced accuracy 0.550 < 0.55" not in close and "0.549" in close
    for step in (50, 60, 70):
        monitor.update(step, {"d_acc": 0.9})  # learns again
    assert monitor.update(80, {"d_acc": 0.5}) == [] and monitor.update(90, {"d_acc": 0.5}) == []
    assert len(monitor.update(100, {"d_acc": 0.5})) == 1


def test_a_learning_discriminator_raises_nothing_and_each_d_is_watched_alone():
    monitor = ChanceMonitor(patience=2)
    for step in range(1, 6):
        messages = monitor.update(step, {"d_acc": 0.8, "d_st_acc": 0.5})
        assert all("spatio-temporal" in m for m in messages)
    assert monitor.warned == {"d_st"}


def test_bad_arguments():
    with pytest.raises(ValueError, match="need patience >= 1 and log_every >= 1, got 0"):
        ChanceMonitor(patience=0)


def test_the_blur_detector_gets_advice_that_exists_for_it():
    monitor = ChanceMonitor(patience=1)
    (message,) = monitor.update(1, {"d_blur_acc": 0.5})
    assert "blur discriminator" in message and "model.blur_discriminator.frozen=true" in message
    assert ".width" not in message and ".init" not in message  # a pretrained detector has neither knob


def _check(logs, latest, dist=None):
    """check_finite at step 7 of these float values, on the CPU."""
    check_finite({k: torch.tensor(v) for k, v in logs.items()}, 7, latest, dist or DistInfo(), torch.device("cpu"))


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")])
def test_a_loss_that_is_not_finite_stops_the_run_naming_it_and_the_last_checkpoint(tmp_path, bad):
    latest = tmp_path / "latest.pt"
    _check({"g_total": 1.5, "d_loss": 0.25}, latest)  # finite: nothing happens
    with pytest.raises(TrainingDiverged, match=r"step 7: g_total not finite; no checkpoint was written\."):
        _check({"g_total": bad, "d_loss": 0.25}, latest)
    latest.write_bytes(b"")
    with pytest.raises(TrainingDiverged, match=rf"g_total not finite; {latest} holds the last finite state"):
        _check({"g_total": bad, "d_loss": 0.25}, latest)


def test_the_message_names_four_values_and_counts_the_rest(tmp_path):
    nan = float("nan")
    with pytest.raises(TrainingDiverged, match=r"step 7: a, b, c, d, 2 more not finite"):
        _check({"ok": 1.0, "a": nan, "b": nan, "c": nan, "d": nan, "e": nan, "f": nan}, tmp_path / "latest.pt")


def test_every_rank_stops_when_another_rank_diverged(tmp_path, monkeypatch):
    asked = []
    # Rank 1's values are not finite: the collective says so to this rank, whose own are.
    monkeypatch.setattr(monitor_module, "any_rank", lambda flag, dist, device: asked.append(flag) or True)
    with pytest.raises(TrainingDiverged, match=r"step 7: another rank not finite"):
        _check({"g_total": 1.5}, tmp_path / "latest.pt", DistInfo(0, 0, 2))
    assert asked == [False]  # this rank's own values were finite


def test_an_accuracy_at_the_threshold_is_not_at_chance():
    monitor = ChanceMonitor(patience=1, threshold=0.5)
    assert monitor.update(1, {"d_acc": 0.5}) == []
    assert len(monitor.update(2, {"d_acc": 0.25})) == 1


def test_the_warning_is_logged(caplog):
    monitor = ChanceMonitor(patience=1)
    with caplog.at_level(logging.WARNING, logger="vidpred.training.monitor"):
        (message,) = monitor.update(4, {"d_st_acc": 0.5})
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [("WARNING", message)]


def test_five_values_not_finite_are_four_named_and_one_more(tmp_path):
    logs = {k: torch.tensor(float("nan")) for k in "abcde"}
    with pytest.raises(TrainingDiverged, match=r"step 7: a, b, c, d, 1 more not finite"):
        check_finite(logs, 7, tmp_path / "latest.pt", DistInfo(), torch.device("cpu"))


def test_a_monitor_logging_every_zero_steps_is_refused():
    with pytest.raises(ValueError, match="need patience >= 1 and log_every >= 1, got 10, 0"):
        ChanceMonitor(patience=10, log_every=0)


def _stall_steps(watch, values, first=1):
    """Count steps ``first``, ``first + 1``, ... of (grad_norm_g, g_total) pairs."""
    for step, (grad, loss) in enumerate(values, first):
        watch.update(step, {"grad_norm_g": torch.tensor(grad), "g_total": torch.tensor(loss)})


def test_a_zero_gradient_with_a_loss_stops_the_run_after_patience_steps_in_a_row(tmp_path):
    latest = tmp_path / "latest.pt"
    cpu, one = torch.device("cpu"), DistInfo()
    watch = StallWatch(cpu, patience=3)
    _stall_steps(watch, [(0.0, 0.3), (0.0, 0.3), (0.5, 0.3), (0.0, 0.3), (0.0, 0.3)])  # broken by a step that moves
    watch.check(5, latest, None, one, cpu)
    _stall_steps(watch, [(0.0, 0.0)] * 5, first=6)  # no loss, no gradient: an objective with nothing in it yet
    watch.check(10, latest, None, one, cpu)
    _stall_steps(watch, [(0.0, 0.3)] * 3, first=11)
    with pytest.raises(TrainingDiverged, match=r"stalled at step 13: .* exactly zero since step 11 while .*; no "
                                               r"checkpoint was written\. Train again with another train\.seed, "
                                               r"train\.lr_schedule=cosine or train\.precision=fp32\.$"):
        watch.check(13, latest, None, one, cpu)
    latest.write_bytes(b"")
    with pytest.raises(TrainingDiverged, match=rf"{latest} \(step 9\) was written before it\. Train"):
        watch.check(13, latest, 9, one, cpu)  # step 11's zero gradient was taken at step 10's weights
    latest.with_name("best.pt").write_bytes(b"")
    with pytest.raises(TrainingDiverged, match=r"\(step 12\) already holds the stalled weights, "
                                               r".*best\.pt holds the best validation\."):
        watch.check(13, latest, 12, one, cpu)
    with pytest.raises(TrainingDiverged, match=rf"{latest} holds the last checkpoint, "):
        watch.check(13, latest, None, one, cpu)


def test_the_message_names_the_remedies_it_is_given(tmp_path):
    cpu = torch.device("cpu")
    for remedies, advice in ((("a",), "with a."), (("a", "b"), "with a or b."), (("a", "b", "c"), "with a, b or c.")):
        watch = StallWatch(cpu, patience=1, remedies=remedies)
        _stall_steps(watch, [(0.0, 0.3)])
        with pytest.raises(TrainingDiverged, match=rf"Train again {advice}$"):
            watch.check(1, tmp_path / "latest.pt", None, DistInfo(), cpu)


def test_a_stall_from_the_first_step_after_a_resume_may_have_begun_before_it(tmp_path):
    cpu = torch.device("cpu")
    watch = StallWatch(cpu, patience=2)
    _stall_steps(watch, [(0.0, 0.3)] * 2, first=11)  # resumed at step 10
    with pytest.raises(TrainingDiverged, match=r"exactly zero since step 11, the first step this process trained, "
                                               r"while .*\(step 10\) already holds the stalled weights\."):
        (tmp_path / "latest.pt").write_bytes(b"")
        watch.check(12, tmp_path / "latest.pt", 10, DistInfo(), cpu)


def test_a_step_without_a_generator_update_breaks_the_streak(tmp_path):
    cpu = torch.device("cpu")
    watch = StallWatch(cpu, patience=2)
    _stall_steps(watch, [(0.0, 0.3)])
    watch.update(2, {"d_loss": torch.tensor(0.7)})
    _stall_steps(watch, [(0.0, 0.3)], first=3)
    watch.check(3, tmp_path / "latest.pt", None, DistInfo(), cpu)
    with pytest.raises(ValueError, match="need patience >= 1, got 0"):
        StallWatch(cpu, patience=0)


def test_every_rank_stops_when_another_rank_stalled(tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(monitor_module, "any_rank", lambda flag, dist, device: asked.append(flag) or True)
    with pytest.raises(TrainingDiverged, match="stalled at step 4: .* on another rank since at least step 1 "):
        StallWatch(torch.device("cpu")).check(4, tmp_path / "latest.pt", None, DistInfo(0, 0, 2), torch.device("cpu"))
    assert asked == [False]

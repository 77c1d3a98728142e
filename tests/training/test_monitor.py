"""The at-chance warning for discriminators."""

from __future__ import annotations

import logging

import pytest

from vidpred.training.monitor import ChanceMonitor


def test_warns_once_after_patience_and_again_after_a_recovery():
    monitor = ChanceMonitor(patience=30, threshold=0.55, log_every=10)  # a window of 3 logged values
    assert monitor.update(10, {"d_acc": 0.5}) == []
    assert monitor.update(20, {"d_acc": 0.52}) == []
    (message,) = monitor.update(30, {"d_acc": 0.5})
    assert "multi-scale discriminator" in message and "optim.discriminator.name=adam" in message
    assert "model.discriminator.init=he" in message and "0.51 < 0.55" in message
    assert monitor.update(40, {"d_acc": 0.5}) == []  # once
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

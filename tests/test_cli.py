"""vidpred/cli.py: the commands' one error path, shared flags and log format."""

from __future__ import annotations

import argparse
import logging

import pytest

from vidpred.cli import (add_config_args, add_device_arg, add_set_arg, add_threads_arg, finite, log_format, one_line,
                         positive, script, set_threads)
from vidpred.config import ConfigError
from vidpred.data.video_io import VideoReadError
from vidpred.safe_write import OutputRefused


@pytest.mark.parametrize("error", [
    ConfigError("train.lr: must be finite"), FileNotFoundError("no such file: x.pt"), PermissionError("denied"),
    OSError(28, "No space left on device"), OutputRefused("x exists"), VideoReadError("a.avi", "no frames"),
    ValueError("line one\n  line two"),
])
def test_expected_failures_are_one_line_and_exit_code_2(error, caplog):
    @script
    def main(argv=None):
        raise error

    with caplog.at_level(logging.INFO):
        assert main([]) == 2
    assert len(caplog.records) == 1 and "\n" not in caplog.records[0].getMessage()
    assert caplog.records[0].levelname == "ERROR"


def test_a_bug_keeps_its_traceback_and_success_its_code():
    @script
    def broken(argv=None):
        raise TypeError("a bug")

    with pytest.raises(TypeError):
        broken([])
    assert script(lambda argv=None: 0)([]) == 0


def test_messages_on_one_line():
    assert one_line(KeyError("no key 'x'")) == "no key 'x'"
    assert one_line(ValueError("a\n   b")) == "a b"
    assert one_line(ValueError()) == "ValueError"


def test_flag_checks_name_the_flag():
    positive("--fps", 2.0)
    positive("--scale", None)
    for value in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="--fps must be a finite number > 0"):
            positive("--fps", value)
    finite("--goal", 0.5, 0, 1)
    with pytest.raises(ValueError, match=r"--goal must be a finite number in \[0, 1\], got 7"):
        finite("--goal", 7, 0, 1)


def test_set_threads_sets_torch_and_opencv_and_refuses_zero():
    import cv2
    import torch

    before = torch.get_num_threads(), cv2.getNumThreads()
    try:
        set_threads(1)
        assert torch.get_num_threads() == 1 and cv2.getNumThreads() == 1
        set_threads(None)  # leaves them alone
        assert torch.get_num_threads() == 1
        with pytest.raises(ValueError, match="--threads must be >= 1"):
            set_threads(0)
    finally:
        torch.set_num_threads(before[0])
        cv2.setNumThreads(before[1])


def test_shared_flags_parse_as_every_command_reads_them():
    parser = argparse.ArgumentParser()
    add_config_args(parser)
    add_threads_arg(parser)
    add_device_arg(parser)
    args = parser.parse_args(["--config", "a.yaml", "--set", "train.steps=2", "--set", "run.name=x", "--threads", "3"])
    assert (args.config, args.overrides, args.threads, args.device) == ("a.yaml", ["train.steps=2", "run.name=x"], 3,
                                                                        "auto")
    with pytest.raises(SystemExit):
        parser.parse_args([])  # --config is required without a default
    with_default = argparse.ArgumentParser()
    add_config_args(with_default, default="b.yaml")
    assert with_default.parse_args([]).config == "b.yaml"
    set_only = argparse.ArgumentParser()
    add_set_arg(set_only)
    assert set_only.parse_args([]).overrides == []
    # several after one --set, as other training tools take them, and mixed with repeats
    assert set_only.parse_args(["--set", "a=1", "b=2", "--set", "c=3"]).overrides == ["a=1", "b=2", "c=3"]
    with pytest.raises(SystemExit):
        set_only.parse_args(["--set"])  # --set needs a value


def test_one_log_format_naming_the_rank_under_torchrun():
    record = logging.LogRecord("vidpred.x", logging.INFO, __file__, 1, "hello", None, None)
    assert logging.Formatter(log_format()).format(record).endswith(" INFO vidpred.x: hello")
    assert " [rank 1] INFO vidpred.x: hello" in logging.Formatter(log_format(1)).format(record)


def test_a_redirected_stdout_in_a_legacy_code_page_gets_the_tables_in_utf8(monkeypatch):
    import io
    import sys

    from vidpred.cli import script

    # What Python gives a stdout redirected to a file on Windows: the ANSI code page.
    out = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
    monkeypatch.setattr(sys, "stdout", out)

    @script
    def main(argv=None):
        print("| model \u2212 DIS flow | \u2014 |")
        return 0

    assert main([]) == 0
    out.flush()
    assert out.buffer.getvalue().decode("utf-8") == "| model \u2212 DIS flow | \u2014 |\n"


def test_a_stop_request_asks_once_and_stops_at_once_the_second_time(caplog):
    import os
    import signal

    from vidpred.cli import StopRequest

    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt), StopRequest("finishing this one") as stop:
        assert stop.signal is None
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.signal == signal.SIGINT  # asked: the work goes on to its safe point
        os.kill(os.getpid(), signal.SIGINT)  # asked again: at once
    assert "received SIGINT: finishing this one (again to stop at once)" in caplog.text
    assert signal.getsignal(signal.SIGINT) is before

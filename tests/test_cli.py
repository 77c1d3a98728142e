"""vidpred/cli.py: the commands' one error path, shared flags and log format."""

from __future__ import annotations

import argparse
import logging
import sys
import time

import pytest
import torch

from vidpred.cli import (add_config_args, add_device_arg, add_set_arg, add_threads_arg, finite, log_format, one_line,
                         positive, script, set_threads)
from vidpred.config import ConfigError
from vidpred.data.video_io import VideoReadError
from vidpred.safe_write import OutputRefused


@pytest.mark.parametrize("error", [
    ConfigError("train.lr: must be finite"), FileNotFoundError("no such file: x.pt"), PermissionError("denied"),
    OSError(28, "No space left on device"), OutputRefused("x exists"), VideoReadError("a.avi", "no frames"),
    ValueError("line one\n  line two"), MemoryError("Unable to allocate 14.2 GiB for an array"), MemoryError(),
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


def test_a_name_that_is_not_utf8_is_printed_as_its_escape(monkeypatch):
    import io
    import os
    import sys

    from vidpred.cli import script

    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # a UTF-8 stdout, strict as Python opens one
    monkeypatch.setattr(sys, "stdout", out)

    latin1 = os.fsdecode(b"caf\xe9")

    @script
    def main(argv=None):
        print(f"| {latin1} | \u2212 |")
        return 0

    assert main([]) == 0
    out.flush()
    assert out.buffer.getvalue().decode("utf-8") == "| caf\\udce9 | \u2212 |\n"


@pytest.mark.parametrize("error", [RuntimeError("[enforce fail at alloc_cpu.cpp:124] . DefaultCPUAllocator: can't "
                                                  "allocate memory: you tried to allocate 172800000000 bytes."),
                                     RuntimeError("[enforce fail at alloc_cpu.cpp:124] data. DefaultCPUAllocator: not "
                                                  "enough memory: you tried to allocate 172800000000 bytes."),
                                     torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"),
                                     MemoryError()])
def test_running_out_of_memory_is_one_line_and_any_other_runtime_error_a_traceback(error, caplog):
    from vidpred.cli import script

    @script
    def main(argv=None):
        raise error

    assert main([]) == 2
    (message,) = [r.getMessage() for r in caplog.records]
    assert message.startswith("out of memory") and message.endswith("give smaller or fewer frames")
    assert "\n" not in message

    @script
    def broken(argv=None):
        raise RuntimeError("expected scalar type Float but found Half")

    with pytest.raises(RuntimeError, match="expected scalar type"):
        broken([])


# A command that says it is ready, then records each SIGINT and SIGTERM it gets, and exits
# 128 + the first once it has had ``n`` of them.
_RECORDER = """
import pathlib, signal, sys, time
log, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
got = []
def record(signum, frame):
    got.append(signum)
    log.write_text(" ".join(map(str, got)))
for s in (signal.SIGINT, signal.SIGTERM):
    signal.signal(s, record)
log.write_text("ready")
end = time.monotonic() + 60
while len(got) < n and time.monotonic() < end:
    time.sleep(0.01)
sys.exit(128 + got[0] if got else 0)
"""


def _signal_when_ready(log, *signals):
    """Send ``signals`` to this process alone, one by one, once the recorder writing ``log`` is ready."""
    import os
    import threading
    import time

    def send():
        while not (log.is_file() and log.read_text()):
            time.sleep(0.01)
        for signum in signals:
            os.kill(os.getpid(), signum)
            time.sleep(0.2)

    threading.Thread(target=send, daemon=True).start()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX: the command runs in a session of its own")
def test_a_command_run_by_a_stop_request_gets_a_sigterm_sent_to_this_process_alone(tmp_path):
    import signal

    from vidpred.cli import StopRequest

    log = tmp_path / "signals"
    with StopRequest("waiting for the command") as stop:
        _signal_when_ready(log, signal.SIGTERM)
        code = stop.run([sys.executable, "-c", _RECORDER, str(log), "1"])
    assert stop.signal == signal.SIGTERM
    assert log.read_text() == str(int(signal.SIGTERM)) and code == 128 + signal.SIGTERM  # once, as it was sent


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX: the command runs in a session of its own")
def test_a_second_signal_reaches_the_command_too_and_stops_at_once(tmp_path):
    import signal

    from vidpred.cli import StopRequest

    log = tmp_path / "signals"
    with pytest.raises(KeyboardInterrupt), StopRequest("waiting for the command") as stop:
        _signal_when_ready(log, signal.SIGINT, signal.SIGINT)
        stop.run([sys.executable, "-c", _RECORDER, str(log), "2"])
    deadline = time.monotonic() + 10
    while log.read_text() != f"{int(signal.SIGINT)} {int(signal.SIGINT)}" and time.monotonic() < deadline:
        time.sleep(0.01)  # not waited for: it may record the second a moment later
    assert log.read_text() == f"{int(signal.SIGINT)} {int(signal.SIGINT)}"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX: the command runs in a session of its own")
def test_a_command_started_after_the_first_signal_gets_it_at_once():
    import os
    import signal

    from vidpred.cli import StopRequest

    with StopRequest("starting nothing else") as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        code = stop.run([sys.executable, "-c", "import time; time.sleep(60)"])
    assert code == -signal.SIGTERM  # ended by it, not after its minute


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


def test_under_torchrun_a_second_sigterm_is_the_same_stop_and_a_ctrl_c_still_stops_at_once(monkeypatch):
    import os
    import signal

    from vidpred.cli import StopRequest

    # A scheduler stopping the job signals every process, and torchrun passes its own SIGTERM on.
    monkeypatch.setenv("WORLD_SIZE", "2")
    reached = []
    with pytest.raises(KeyboardInterrupt), StopRequest("saving a checkpoint after this step") as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)
        reached.append(stop.signal)  # still asked, to stop at the safe point
        os.kill(os.getpid(), signal.SIGINT)  # a Ctrl-C is a second stop
    assert reached == [signal.SIGTERM]
    monkeypatch.setenv("WORLD_SIZE", "1")  # a single process: the second SIGTERM stops at once
    with pytest.raises(KeyboardInterrupt), StopRequest("saving a checkpoint after this step"):
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)


def test_ctrl_c_before_a_script_handles_it_is_one_line_and_exit_code_130(caplog):
    @script
    def main(argv=None):
        raise KeyboardInterrupt

    assert main([]) == 130
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [("ERROR", "interrupted")]


def test_finite_bounds_are_inclusive_and_nan_or_infinity_is_refused():
    for value in (0, 0.5, 1, None):
        finite("--goal", value, 0, 1)
    for value in (-0.001, 1.001, float("nan")):
        with pytest.raises(ValueError, match=r"--goal must be a finite number in \[0, 1\]"):
            finite("--goal", value, 0, 1)
    finite("--offset", -1e9)  # no bounds: any finite number
    with pytest.raises(ValueError, match=r"--offset must be a finite number, got inf"):
        finite("--offset", float("inf"))


def test_rank_0_is_named_too():
    record = logging.LogRecord("vidpred.x", logging.INFO, __file__, 1, "hello", None, None)
    assert " [rank 0] INFO vidpred.x: hello" in logging.Formatter(log_format(0)).format(record)


def test_commands_start_under_this_interpreter():
    from vidpred.cli import command

    assert command("train") == [sys.executable, "-m", "vidpred.commands.train"]  # the venv's python, not PATH's


def test_a_console_keeps_its_encoding(monkeypatch):
    import io

    class Console(io.TextIOWrapper):
        def isatty(self):
            return True

    console = Console(io.BytesIO(), encoding="cp1252")
    monkeypatch.setattr(sys, "stdout", console)
    assert script(lambda argv=None: 0)([]) == 0
    assert console.encoding == "cp1252"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX: the command runs in a session of its own")
def test_a_command_run_by_a_stop_request_runs_in_a_session_of_its_own():
    import os

    from vidpred.cli import StopRequest

    # A Ctrl-C at the terminal goes to the terminal's process group: the command must not be in it,
    # so that it gets the signal once, passed on by the request.
    same_session = f"import os, sys; sys.exit(os.getsid(0) == {os.getsid(0)})"
    code = StopRequest("waiting").run([sys.executable, "-c", same_session])
    assert code == 0


def test_logs_go_to_stderr_and_leave_stdout_for_results(monkeypatch):
    from vidpred.cli import setup_logging

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # as in a fresh process; pytest's own come back after
    monkeypatch.setattr(root, "level", root.level)
    setup_logging(rank=1)
    (handler,) = root.handlers
    assert handler.stream is sys.stderr and root.level == logging.INFO
    record = logging.LogRecord("vidpred.x", logging.INFO, __file__, 1, "hello", None, None)
    assert handler.format(record).endswith(" [rank 1] INFO vidpred.x: hello")


def test_report_and_worker_flags_default_to_one_worker_and_nothing_forced():
    from vidpred.cli import add_report_args, add_workers_arg

    parser = argparse.ArgumentParser()
    add_report_args(parser, out_help="where", force_help="replace")
    add_workers_arg(parser)
    args = parser.parse_args([])
    assert (args.out, args.force, args.quiet, args.workers) == (None, False, False, 1)
    args = parser.parse_args(["--out", "r", "--force", "--quiet", "--workers", "2"])
    assert (args.out, args.force, args.quiet, args.workers) == ("r", True, True, 2)


def test_a_bar_written_into_a_log_file_redraws_on_lines_of_its_own(capsys):
    from vidpred._progress import progress

    bar = progress(total=3, desc="train", unit="step", mininterval=0, miniters=1)  # stderr is not a terminal here
    for _ in range(3):
        bar.update(1)
        print("a log record", file=sys.stderr)
    bar.close()
    err = capsys.readouterr().err
    assert "\r" not in err and err.endswith("\n")
    lines = err.splitlines()
    assert lines.count("a log record") == 3 and all(line.startswith("train:") for line in lines if line != "a log record")
    assert any(line.startswith("train: 100%") and "3/3" in line for line in lines)

"""What the commands share (``vidpred/commands/__init__.py``): a stopped command's exit code and
the Markdown table a command prints and writes to --out."""

from __future__ import annotations

import signal

import pytest

from vidpred.cli import StopRequest
from vidpred.commands import check_table_output, print_table, stopped_exit_code
from vidpred.safe_write import OutputRefused


def test_a_stopped_command_exits_as_training_does():
    stop = StopRequest("stopping")
    assert stopped_exit_code(stop) == 0
    stop.signal = signal.SIGINT
    assert stopped_exit_code(stop) == 130
    stop.signal = signal.SIGTERM
    assert stopped_exit_code(stop) == 143


def test_a_table_is_printed_written_and_then_replaced_as_ours(tmp_path, capsys):
    out = tmp_path / "table.md"
    check_table_output(out, "# Heading", force=False)  # nothing there yet
    print_table("# Heading (val)\n\n| a |\n", out)
    assert capsys.readouterr().out == "# Heading (val)\n\n| a |\n\n"
    assert out.read_text(encoding="utf-8") == "# Heading (val)\n\n| a |\n"
    check_table_output(out, "# Heading", force=False)  # ours: may be replaced
    with pytest.raises(OutputRefused, match="already exists and is not a table written by this script"):
        check_table_output(out, "# Another heading", force=False)
    check_table_output(out, "# Another heading", force=True)
    check_table_output(None, "# Another heading", force=False)  # no --out: nothing to check
    print_table("only printed", None)
    assert capsys.readouterr().out == "only printed\n"

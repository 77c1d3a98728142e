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


@pytest.mark.parametrize("command, argv, named", [
    ("camera_forecast", ["--subset", "paths", "--paths-root=~/paths"], "paths"),
    ("camera_forecast", ["--subset", "paths", "--paths-root", "/nowhere", "--figure=~/fig.jpg"], "fig.jpg"),
    ("paired_table", ["--eval=~/eval", "--a", "x", "--b", "y"], "eval"),
    ("lever_map", ["--reports=~/reports", "--x", "a", "--y", "b"], "reports"),
    ("eval_ucf101", ["--data", "procedural", "--lpips-weights=~/alexnet.pth"], "alexnet.pth"),
    ("pretrain_blur_discriminator", ["--config", "configs/quickstart_full.yaml", "--cifar10=~/cifar"], "cifar"),
    ("run_ablations", ["--configs=~/mine.yaml"], "mine.yaml"),
    ("time_to_quality", ["--run=~/mine.yaml:x"], "mine.yaml"),
])
def test_a_path_flag_s_tilde_is_the_home_folder_where_the_shell_leaves_it(command, argv, named, tmp_path, monkeypatch,
                                                                          caplog):
    # --flag=~/x reaches the script as typed: the file it names is in the home folder, not in a folder named "~"
    import importlib
    from pathlib import Path

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(Path(__file__).parents[2])  # the repository's configs/
    out_file = {"time_to_quality": "out.png", "lever_map": "out.png", "paired_table": None}.get(command, "out")
    out = [] if out_file is None else ["--out", str(tmp_path / out_file)]
    assert importlib.import_module(f"vidpred.commands.{command}").main([*argv, *out]) == 2
    said = " ".join(r.getMessage() for r in caplog.records if r.levelno >= 40)
    assert str(tmp_path / named) in said, said

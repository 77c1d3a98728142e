"""The commands as a user starts them: a thin script and a console script per command, and
either, or ``python -m``, from any folder (no command finds another, or its own files,
through the repository's layout)."""

from __future__ import annotations

import ast
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = sorted(p.stem for p in (ROOT / "vidpred" / "commands").glob("*.py") if p.stem != "__init__")
# pyproject.toml's [project.scripts], read without tomllib: that is Python 3.11's, and vidpred runs on 3.10
CONSOLE_SCRIPTS = dict(re.findall(r'^([\w-]+) = "([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8")
                                  .split("\n[project.scripts]\n", 1)[1].split("\n[", 1)[0], flags=re.M))


def _command(name: str) -> list[str]:
    """The console script when this environment has it installed, else ``python -m``."""
    (script,) = [s for s, target in CONSOLE_SCRIPTS.items() if target == f"vidpred.commands.{name}:main"]
    installed = Path(sys.executable).with_name(script)
    return [str(installed)] if installed.is_file() else [sys.executable, "-m", f"vidpred.commands.{name}"]


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}  # the package, not the folder
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("name", COMMANDS)
def test_each_script_only_runs_its_command(name):
    text = (ROOT / "scripts" / f"{name}.py").read_text(encoding="utf-8")
    body = ast.parse(text).body
    assert ast.get_docstring(ast.Module(body=body, type_ignores=[]))
    assert f"\nfrom vidpred.commands.{name} import main\n" in text and "sys.exit(main())" in text
    assert len(body) == 4  # docstring, import sys, import main, if __name__ == "__main__"


def test_every_script_has_a_command_and_a_console_script():
    assert sorted(p.stem for p in (ROOT / "scripts").glob("*.py")) == COMMANDS
    assert sorted(CONSOLE_SCRIPTS.values()) == [f"vidpred.commands.{name}:main" for name in COMMANDS]
    assert all(script.startswith("vidpred-") for script in CONSOLE_SCRIPTS)


@pytest.mark.parametrize("name", COMMANDS)
def test_help_keeps_each_continued_example_line(name):
    """An example split over lines with a trailing backslash reads, in ``--help``, as written."""
    source = (ROOT / "vidpred" / "commands" / f"{name}.py").read_text(encoding="utf-8")
    start = source.index('"""') + 3
    written = source[start:source.index('"""', start)]  # the docstring as typed, before Python reads it
    doc = importlib.import_module(f"vidpred.commands.{name}").__doc__
    assert doc.count("\\\n") == written.count("\\\n")
    assert "\\\\\n" not in doc  # a continuation reads as one backslash, as a shell wants it


HELP_OF_EACH = """
import contextlib, importlib, io, sys
for name in sys.argv[1:]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            importlib.import_module(f"vidpred.commands.{name}").main(["--help"])
        except SystemExit as exc:
            assert exc.code == 0, name
    assert out.getvalue().startswith("usage: "), name
"""


@pytest.mark.slow  # a process of its own
def test_every_command_imports_and_helps_from_outside_the_repository(tmp_path):
    result = _run([sys.executable, "-c", HELP_OF_EACH, *COMMANDS], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []  # importing a command creates nothing


@pytest.mark.slow  # trains and predicts in processes of their own
def test_train_then_predict_from_outside_the_repository(tiny_config_data, make_video, moving_frames, tmp_path):
    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "config.yaml").write_text(yaml.safe_dump(tiny_config_data))
    train = _run([*_command("train"), "--config", "config.yaml", "--run-dir", "run", "--set", "train.steps=2"],
                 cwd=work)
    assert train.returncode == 0, train.stderr
    make_video(work / "clip.avi", moving_frames(8, 32, 40))
    predict = _run([*_command("predict"), "--checkpoint", "run/checkpoints/latest.pt", "--video", "clip.avi",
                    "--out", "pred.gif", "--frames", "2", "--device", "cpu"], cwd=work)
    assert predict.returncode == 0, predict.stderr
    assert (work / "pred.gif").is_file()

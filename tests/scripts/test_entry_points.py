"""The commands as a user starts them: a thin script per command, and ``python -m`` from
any folder (no command finds another, or its own files, through the repository's layout)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = sorted(p.stem for p in (ROOT / "vidpred" / "commands").glob("*.py") if p.stem != "__init__")


def _command(name: str) -> list[str]:
    return [sys.executable, "-m", f"vidpred.commands.{name}"]


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


def test_every_script_has_a_command():
    assert sorted(p.stem for p in (ROOT / "scripts").glob("*.py")) == COMMANDS


@pytest.mark.slow  # a process per command
@pytest.mark.parametrize("name", COMMANDS)
def test_help_from_outside_the_repository(name, tmp_path):
    result = _run([*_command(name), "--help"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: ") and list(tmp_path.iterdir()) == []


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

"""The docs' tests read a bash block as bash would run it (the shell of ``tests/docs/conftest.py``)."""

from __future__ import annotations


def test_the_shell_reads_a_block_as_bash_would(reader):
    env: dict[str, list[str]] = {}
    block = ('NAMES=("a b" c)  # two names\n'
             'for m in ":" "_pan:--steady-pan 8"; do python scripts/x.py ${m#*:} --name "${NAMES[@]}" \\\n'
             '    --out d/v${m%%:*} runs/{s0,s1}; done\n'
             'OMP_NUM_THREADS=1 nohup python scripts/y.py --a "x y" > log 2>&1 &')
    assert reader.shell_commands(block, env) == [
        (0, ["# two names"]),
        (1, ["python", "scripts/x.py", "--name", "a b", "c", "--out", "d/v", "runs/s0", "runs/s1"]),
        (1, ["python", "scripts/x.py", "--steady-pan", "8", "--name", "a b", "c", "--out", "d/v_pan", "runs/s0",
             "runs/s1"]),
        (3, ["OMP_NUM_THREADS=1", "nohup", "python", "scripts/y.py", "--a", "x y"]),
    ]
    assert reader.command(reader.shell_commands(block, env)[3][1]) == ("y.py", ["--a", "x y"])


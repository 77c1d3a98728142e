"""The Python examples of README.md run as written, on a short video standing in for the user's clip."""

from __future__ import annotations

import re


def _python_blocks(reader, doc) -> list[str]:
    """The code of each fenced python block of ``doc``."""
    blocks: list[list[str]] = []
    inside = False
    for _, text, language in reader.lines(doc):
        fence = text.strip().startswith("```")
        if language == "python" and fence:
            inside = not inside
            if inside:
                blocks.append([])
        elif inside:
            blocks[-1].append(text)
    return ["\n".join(block) for block in blocks]


def test_the_readmes_python_runs_on_a_clip_of_ones_own(reader, make_video, moving_frames, tmp_path, monkeypatch, capsys):
    blocks = _python_blocks(reader, reader.ROOT / "README.md")
    assert blocks, "README.md has no python block"
    make_video(tmp_path / "my_clip.mp4", moving_frames(12, 48, 64))
    monkeypatch.chdir(tmp_path)  # the examples name my_clip.mp4 in the current folder
    for block in blocks:
        namespace: dict = {}
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    printed = re.findall(r"\[([^\]]*)\]", capsys.readouterr().out)  # the model's and DIS's PSNRs, 2 frames each
    assert len(printed) == 2 and all(10 < float(db) < 60 for psnrs in printed for db in psnrs.split(",")), printed
    assert all(len(psnrs.split(",")) == 2 for psnrs in printed)
    assert len(namespace["guesses"]) == 12 and namespace["guesses"][3] is not None

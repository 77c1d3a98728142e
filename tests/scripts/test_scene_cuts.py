"""scripts/scene_cuts.py: the steps a refiner reading cuts sees as cuts between scenes, in a
real photo panned then cut to another."""

from __future__ import annotations

import numpy as np
from skimage import data as skdata

from vidpred.commands.scene_cuts import cuts_table, main, step_scores
from vidpred.data.video_io import write_image


def _panned(photo: np.ndarray, frames: range) -> list[np.ndarray]:
    return [photo[100:196, 100 + 3 * t:228 + 3 * t] for t in frames]


def _cut_video(folder):
    """A folder of 11 PNG frames: the astronaut panned for 6, then the coffee cup panned for 5."""
    folder.mkdir()
    frames = _panned(skdata.astronaut(), range(6)) + _panned(skdata.coffee(), range(6, 11))
    for t, frame in enumerate(frames):
        write_image(folder / f"{t:03d}.png", frame[..., ::-1])  # (write_image takes OpenCV's BGR)
    return folder


def test_the_cut_is_the_one_step_scored_above_the_line(tmp_path):
    scores = step_scores(_cut_video(tmp_path / "clip"))
    assert scores.shape == (10, 3)
    above = scores[:, :2].max(axis=1) > 0.4
    assert above.tolist() == [t == 5 for t in range(10)]
    assert scores[5].min() > 0.8 and scores[[0, 1, 2, 3, 4, 6, 7, 8, 9], :2].max() < 0.1
    assert scores[[0, 1, 2, 3, 4, 6, 7, 8, 9], 2].max() < 0.1  # one shift explains each step of a pan


def test_the_table_gives_the_frame_each_cut_starts(tmp_path, capsys):
    video = _cut_video(tmp_path / "clip")
    out = tmp_path / "cuts.md"
    assert main(["--video", str(video), "--out", str(out)]) == 0
    (row,) = [line for line in out.read_text().splitlines() if line.startswith(f"| {video} ")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == "10" and cells[2].startswith("6 (") and cells[3] == "none"
    assert cells[5].startswith(cells[2][3:7] + " (")
    assert out.read_text() in capsys.readouterr().out + "\n"


def test_a_video_without_a_cut_has_none(tmp_path):
    table = cuts_table([("pan", np.array([[0.02, 0.01, 0.01], [0.03, 0.02, 0.02], [0.05, 0.04, 0.03]]))])
    assert "| pan | 3 | none | none | 0.030 / 0.050 / 0.050 | - |" in table


def test_a_step_over_the_line_that_one_shift_explains_is_listed_as_a_pan_not_a_cut():
    steps = np.array([[0.02, 0.01, 0.01], [0.6, 0.7, 0.1], [0.9, 0.8, 0.85], [0.5, 0.3, np.inf]])
    table = cuts_table([("fast", steps)])
    assert "| fast | 4 | 3 (0.90), 4 (0.50) | 2 (0.70; 0.10) | 0.360 / 0.693 / 0.700 | 0.50 (0.85) |" in table


def test_frames_must_be_positive(tmp_path, caplog):
    assert main(["--video", str(tmp_path), "--frames", "0"]) == 2
    assert "--frames must be a finite number > 0, got 0" in caplog.text

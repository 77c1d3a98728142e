"""scripts/camera_forecast.py on recorded camera paths: what it reads, the two tables it writes;
and stopped by Ctrl-C, the table of what was scored, marked partial."""

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from vidpred.commands import camera_forecast as command
from vidpred.evaluation import camera_forecast


def test_paths_get_a_table_fitted_on_the_others_and_one_on_their_own_past(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    asked = {}

    def fake_steps(root, rate, plane_depth):
        asked.update(root=root, rate=rate, plane_depth=plane_depth)
        return {name: [rng.normal(0, 1e-3, (300, 8))] for name in ("fr1_xyz", "fr2_desk", "V102", "KITTI_00")}
    monkeypatch.setattr(command, "path_steps", fake_steps)
    fit_mlp = camera_forecast._mlp
    monkeypatch.setattr(camera_forecast, "_mlp", lambda past, following: fit_mlp(past, following, iterations=50))
    out = tmp_path / "paths.md"
    assert command.main(["--subset", "paths", "--paths-root", str(tmp_path / "p"), "--rate", "25",
                         "--plane-depth", "3", "--out", str(out)]) == 0
    assert asked == {"root": str(tmp_path / "p"), "rate": 25.0, "plane_depth": 3.0}
    text = out.read_text()
    assert text.startswith("# Forecasts of the camera's next step (recorded camera paths)\n\nCamera paths at 25 "
                           "frames a second (rotation and translation, a plane 3 m ahead;")
    others, own = text.split("## Fitted on the other paths")[1].split("## Fitted on the path's own earlier half")
    for table, windows in ((others, "876 windows"), (own, "146 windows")):  # 3 x 292 and half of 292
        assert windows in table
        assert [line.split(" | ")[0] for line in table.splitlines() if line.startswith("| ") and "---" not in line] \
            == ["| path", "| fr1_xyz", "| fr2_desk", "| V102", "| KITTI_00"]


def test_the_figure_is_drawn_for_paths_only_and_never_over_someone_elses_file(tmp_path, monkeypatch):
    from PIL import Image

    rng = np.random.default_rng(1)
    monkeypatch.setattr(command, "path_steps", lambda root, rate, plane_depth: {
        name: [rng.normal(0, 1e-3, (300, 8))] for name in ("hand", "drone")})
    fit_mlp = camera_forecast._mlp
    monkeypatch.setattr(camera_forecast, "_mlp", lambda past, following: fit_mlp(past, following, iterations=20))
    figure = tmp_path / "paths.png"
    assert command.main(["--subset", "paths", "--figure", str(figure)]) == 0
    with Image.open(figure) as image:
        assert image.format == "PNG" and image.size == (1100, 506)  # two panels of 2.3 in, one above the other, 110 dpi
    assert camera_forecast.is_our_figure(figure)
    assert command.main(["--subset", "paths", "--figure", str(figure)]) == 0  # its own figure: replaced
    mine = tmp_path / "mine.png"
    Image.new("RGB", (4, 4)).save(mine)
    before = mine.read_bytes()
    assert command.main(["--subset", "paths", "--figure", str(mine)]) == 2
    assert mine.read_bytes() == before
    assert command.main(["--subset", "val", "--figure", str(tmp_path / "x.png")]) == 2
    for flags in (["--figure", str(tmp_path / "x.txt")],  # not a picture's name
                  ["--figure", str(tmp_path / "x.png"), "--out", str(tmp_path / "x.png")]):  # the table over it
        assert command.main(["--subset", "paths", *flags]) == 2
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "x.txt").exists()


@pytest.fixture
def stand_in_corpus(monkeypatch):
    """``install(ctrl_c_in)``: training videos a and b, validation videos c, d and e, their camera
    steps drawn at random; measuring video ``ctrl_c_in``'s steps sends the process SIGINT."""
    rng = np.random.default_rng(2)
    videos = {"train": ["a", "b"], "val": ["c", "d", "e"]}
    steps = {name: rng.normal(0, 1e-3, (150, 8)) for names in videos.values() for name in names}
    fit_mlp = camera_forecast._mlp
    monkeypatch.setattr(camera_forecast, "_mlp", lambda past, following: fit_mlp(past, following, iterations=20))
    monkeypatch.setattr(camera_forecast, "corpus_paths", lambda root, subset: [Path(n) for n in videos[subset]])
    read = []
    monkeypatch.setattr(camera_forecast, "read_video",
                        lambda path: read.append(path.name) or np.zeros((151, 1, 100, 3), np.uint8))

    def install(ctrl_c_in: str | None = None) -> None:
        def measured(frames):
            if read[-1] == ctrl_c_in:
                os.kill(os.getpid(), signal.SIGINT)
            return steps[read[-1]]
        monkeypatch.setattr(camera_forecast, "camera_steps", measured)
    return install


def test_ctrl_c_finishes_the_video_in_hand_and_writes_the_table_of_the_videos_scored(stand_in_corpus, tmp_path,
                                                                                    caplog):
    stand_in_corpus()
    whole = tmp_path / "whole.md"
    assert command.main(["--subset", "val", "--out", str(whole)]) == 0
    stand_in_corpus(ctrl_c_in="d")
    before = signal.getsignal(signal.SIGINT)
    out = tmp_path / "val.md"
    assert command.main(["--subset", "val", "--out", str(out)]) == 128 + signal.SIGINT
    assert signal.getsignal(signal.SIGINT) is before
    assert "received SIGINT: finishing the video or path in hand, then writing the table" in caplog.text
    text = out.read_text()
    assert text.startswith("partial: 2 of 3 videos, stopped by SIGINT. Every table below is over these 2 videos, "
                           "the first in video order, not over every video selected.\n\n# Forecasts of the camera's "
                           "next step (val videos)\n\n")
    rows = lambda t: [line for line in t.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows(text) == rows(whole.read_text())[:3]  # the heading, c and d: as the whole run scored them
    stand_in_corpus()
    assert command.main(["--subset", "val", "--out", str(out)]) == 0  # its own partial table: replaced
    assert out.read_text() == whole.read_text()


@pytest.mark.parametrize("subset", ["val", "train"])  # train: the videos fitted on are the ones scored
def test_a_stop_while_the_videos_fitted_on_are_measured_writes_nothing(stand_in_corpus, tmp_path, caplog, subset):
    stand_in_corpus(ctrl_c_in="a")
    out = tmp_path / f"{subset}.md"
    assert command.main(["--subset", subset, "--out", str(out)]) == 130
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == ["interrupted"]
    assert not out.exists()


def test_ctrl_c_on_the_paths_writes_the_paths_scored_and_draws_no_figure(tmp_path, monkeypatch, caplog):
    rng = np.random.default_rng(0)
    names = ("fr1_xyz", "fr2_desk", "V102", "KITTI_00")
    monkeypatch.setattr(command, "path_steps", lambda root, rate, plane_depth: {
        name: [rng.normal(0, 1e-3, (300, 8))] for name in names})
    fit, fits = camera_forecast.fit_forecasters, []

    def ctrl_c_in_the_2nd_path(past, following):  # two fits a path: the 3rd is the 2nd path's first
        fits.append(1)
        if len(fits) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return fit(past, following)
    monkeypatch.setattr(camera_forecast, "fit_forecasters", ctrl_c_in_the_2nd_path)
    fit_mlp = camera_forecast._mlp
    monkeypatch.setattr(camera_forecast, "_mlp", lambda past, following: fit_mlp(past, following, iterations=20))
    out, figure = tmp_path / "paths.md", tmp_path / "paths.png"
    assert command.main(["--subset", "paths", "--out", str(out), "--figure", str(figure)]) == 128 + signal.SIGINT
    text = out.read_text()
    assert text.startswith("partial: 2 of 4 paths, stopped by SIGINT. Every table below is over these 2 paths, the "
                           "first in path order")
    for table in text.split("## Fitted on")[1:]:
        assert [line.split(" | ")[0] for line in table.splitlines() if line.startswith("| ") and "---" not in line] \
            == ["| path", "| fr1_xyz", "| fr2_desk"]
    assert len(fits) == 4 and not figure.exists()


def test_fit_on_paths_hands_the_recorded_paths_to_the_corpus_scoring(stand_in_corpus, tmp_path, monkeypatch):
    stand_in_corpus()
    recorded = {"hand": [np.random.default_rng(3).normal(0, 1e-3, (300, 8))]}
    monkeypatch.setattr(command, "path_steps", lambda root, rate, plane_depth: recorded)
    score, fitted_on = command.score_forecasts, []

    def scored(*args, **kwargs):
        fitted_on.append(kwargs.get("fit_on"))
        return score(*args, **kwargs)
    monkeypatch.setattr(command, "score_forecasts", scored)
    out = tmp_path / "val.md"
    assert command.main(["--subset", "val", "--fit-on", "paths", "--out", str(out)]) == 0
    assert fitted_on == [recorded]
    assert out.read_text().startswith("# Forecasts of the camera's next step (val videos)\n\nCamera paths at 30 ")
    assert command.main(["--subset", "val"]) == 0
    assert fitted_on == [recorded, None]


def test_bad_flags_are_refused_before_the_paths_are_read(tmp_path, monkeypatch, caplog):
    read = []
    monkeypatch.setattr(command, "path_steps", lambda root, rate, plane_depth: read.append(rate) or {})
    assert command.main(["--subset", "paths", "--rate", "0"]) == 2
    assert "--rate must be" in caplog.text
    for flag in (["--plane-depth", "3"], ["--fetch-paths"], ["--rate", "10"]):  # any one alone, without the paths
        caplog.clear()
        assert command.main(["--subset", "val", *flag]) == 2
        assert "--fetch-paths, --plane-depth and --rate are for --subset paths or --fit-on paths" in caplog.text
    notes = tmp_path / "notes.md"
    notes.write_text("my notes\n")
    assert command.main(["--subset", "paths", "--out", str(notes)]) == 2
    assert notes.read_text() == "my notes\n"
    assert read == []
    command.main(["--subset", "paths"])  # (refused after reading: the fake holds no path)
    assert read == [30.0]  # the default rate

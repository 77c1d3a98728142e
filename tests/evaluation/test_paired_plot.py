"""vidpred/evaluation/paired_plot.py: one method against each baseline, source by source."""

from __future__ import annotations

import copy
import json

import matplotlib.axes
import matplotlib.colors
import numpy as np
import pytest
from PIL import Image

from vidpred.evaluation.paired_plot import is_our_paired_plot, plot_paired


def _rows(source: str, model: list[tuple[float, float]], copying: list[tuple[float, float]]) -> list[dict]:
    return [{"source": source, "video": f"{source}@{i}",
             "scores": {"model": {"psnr_whole_f1": m1, "psnr_whole_f2": m2},
                        "copy": {"psnr_whole_f1": c1, "psnr_whole_f2": c2},
                        "flow": {"psnr_whole_f1": m1 - 0.5, "psnr_whole_f2": m2 + 0.25}}}
            for i, ((m1, m2), (c1, c2)) in enumerate(zip(model, copying))]


ROWS = {"pan": _rows("pan", [(30, 27), (32, 28), (31, 26)], [(27, 25), (28, 26), (29, 24)]),
        "still": _rows("still", [(40, 35), (41, 36)], [(41, 37), (40, 35)])}


def test_each_bar_is_the_paired_difference_with_its_standard_error(tmp_path, monkeypatch):
    drawn = []
    barh = matplotlib.axes.Axes.barh

    def recorded(ax, y, width, *args, **kwargs):
        drawn.append((ax.get_title(), list(width), list(kwargs["xerr"])))
        return barh(ax, y, width, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "barh", recorded)
    path = plot_paired(ROWS, "model", ["copy", "flow"], tmp_path / "m.png")
    assert is_our_paired_plot(path) and Image.open(path).size[0] > 600
    # model − copy, by hand: pan 1st frame 3, 4, 2 (mean 3, s.e. 1/sqrt(3)); 2nd 2, 2, 2; still 1st −1, 1; 2nd −2, 1
    (_, copy_f1, copy_f1_se), (_, copy_f2, copy_f2_se), (_, flow_f1, flow_f1_se), (_, flow_f2, _) = drawn
    assert copy_f1 == pytest.approx([3.0, 0.0]) and copy_f1_se == pytest.approx([(1 / 3) ** 0.5, 1.0])
    assert copy_f2 == pytest.approx([2.0, -0.5]) and copy_f2_se == pytest.approx([0.0, 1.5])
    assert flow_f1 == pytest.approx([0.5, 0.5]) and flow_f1_se == pytest.approx([0.0, 0.0])
    assert flow_f2 == pytest.approx([-0.25, -0.25])


def test_the_command_draws_one_method_against_the_others(tmp_path, capsys, caplog):
    from vidpred.commands.paired_table import main

    clips = copy.deepcopy(ROWS["pan"] + ROWS["still"])  # changed below: ROWS stays as the other tests read it
    (tmp_path / "per_clip.json").write_text(json.dumps({"methods": [], "clips": clips}))
    run = ["--eval", str(tmp_path), "--a", "model", "--b", "copy", "--b", "flow", "--keys", "psnr_whole_f1"]
    assert main([*run, "--plot", str(tmp_path / "m.png")]) == 0
    assert is_our_paired_plot(tmp_path / "m.png") and f"wrote {tmp_path / 'm.png'}" in capsys.readouterr().out
    assert main([*run, "--plot", str(tmp_path / "m.png")]) == 0  # its own figure is replaced
    (tmp_path / "mine.png").write_bytes(b"mine")
    for extra, message in ((["--plot", str(tmp_path / "mine.png")], "mine.png already exists and is not a plot "
                                                                     "written by paired_table.py"),
                           (["--plot", str(tmp_path / "m.jpg")], "m.jpg: give a .png"),
                           (["--a", "flow", "--plot", str(tmp_path / "m.png")], "--plot draws one method against the "
                                                                               "others: give one --a")):
        assert main([*run, *extra]) == 2
        assert message in caplog.text
    assert (tmp_path / "mine.png").read_bytes() == b"mine"
    for row in clips:  # a report without the 2nd frame's PSNR: refused before any table is printed
        for scores in row["scores"].values():
            del scores["psnr_whole_f2"]
    (tmp_path / "per_clip.json").write_text(json.dumps({"methods": [], "clips": clips}))
    capsys.readouterr()
    assert main([*run, "--plot", str(tmp_path / "m.png")]) == 2
    assert "score key(s) not in this evaluation: psnr_whole_f2" in caplog.text and capsys.readouterr().out == ""


def test_an_evaluation_without_sources_is_drawn_under_its_folders_name(tmp_path, monkeypatch):
    from vidpred.commands.paired_table import main

    labels = []
    set_yticks = matplotlib.axes.Axes.set_yticks

    def recorded(ax, ticks, tick_labels=None, **kwargs):
        labels.append(list(tick_labels) if tick_labels is not None else None)
        return set_yticks(ax, ticks, tick_labels, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "set_yticks", recorded)
    folder = tmp_path / "eval_folder"  # eval_ucf101.py's per_video.json: one row per video, no source
    folder.mkdir()
    rows = [{key: value for key, value in row.items() if key != "source"}
            for row in _rows("pan", [(30, 27), (32, 28)], [(27, 25), (28, 26)])]
    (folder / "per_video.json").write_text(json.dumps(rows))
    assert main(["--eval", str(folder), "--a", "model", "--b", "copy", "--keys", "psnr_whole_f1",
                 "--plot", str(tmp_path / "m.png")]) == 0
    assert labels == [["eval_folder"]] and is_our_paired_plot(tmp_path / "m.png")


def test_a_file_that_is_not_its_plot_is_replaced_only_with_force(tmp_path, caplog):
    from vidpred.commands.paired_table import main

    (tmp_path / "per_clip.json").write_text(json.dumps({"methods": [], "clips": ROWS["pan"]}))
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"mine")
    run = ["--eval", str(tmp_path), "--a", "model", "--b", "copy", "--keys", "psnr_whole_f1", "--plot", str(mine)]
    assert main(run) == 2 and mine.read_bytes() == b"mine"
    assert main([*run, "--force"]) == 0 and is_our_paired_plot(mine)


def test_names_that_are_not_utf8_are_drawn_under_their_escapes(tmp_path):
    import os

    latin1 = os.fsdecode(b"caf\xe9")  # a video or checkpoint named in an old code page
    rows = {f"{latin1}/pan": copy.deepcopy(ROWS["pan"])}
    for row in rows[f"{latin1}/pan"]:
        row["scores"][f"model {latin1}"] = row["scores"].pop("model")
    assert is_our_paired_plot(plot_paired(rows, f"model {latin1}", ["copy"], tmp_path / "m.png"))


def _paired_rows(source, model, copying):
    return [{"source": source, "video": f"{source}@{i}",
             "scores": {"model": {"psnr_whole_f1": m, "psnr_whole_f2": m},
                        "copy": {"psnr_whole_f1": c, "psnr_whole_f2": c}}}
            for i, (m, c) in enumerate(zip(model, copying))]


def test_paired_plot_draws_rows_top_down_coloured_by_sign_labelled_with_wins(tmp_path, monkeypatch):
    from vidpred.evaluation import paired_plot

    figures = []
    monkeypatch.setattr(paired_plot, "save_marked_figure", lambda fig, path, software: figures.append(fig) or path)
    rows = {"better": _paired_rows("better", [31.0, 32.0, 30.0], [28.0, 28.0, 29.0]),  # +3, +4, +1: 3/3 wins
            "worse": _paired_rows("worse", [20.0, 21.0], [22.0, 22.0]),  # -2, -1: 0/2
            "one clip": _paired_rows("one clip", [25.0], [24.0])}  # no standard error with one clip
    paired_plot.plot_paired(rows, "model", ["copy"], tmp_path / "p.png", title="my title")
    (fig,) = figures
    ax = fig.axes[0]
    assert fig._suptitle.get_text() == "my title"
    assert ax.yaxis_inverted()  # the first source on top
    assert [t.get_text() for t in ax.get_yticklabels()] == ["better", "worse", "one clip"]
    bars = ax.patches
    assert len(bars) == 6  # 3 sources x (1st, 2nd frame)
    centres = [b.get_y() + b.get_height() / 2 for b in bars]
    # 1st frame half a bar above the row's line (the axis is inverted: smaller y is higher), 2nd below
    assert centres[:3] == pytest.approx([-0.19, 0.81, 1.81]) and centres[3:] == pytest.approx([0.19, 1.19, 2.19])
    green, red = matplotlib.colors.to_rgb("tab:green"), matplotlib.colors.to_rgb("tab:red")
    assert [matplotlib.colors.to_rgb(b.get_facecolor()) for b in bars[:3]] == [green, red, green]
    labels = [t.get_text() for t in ax.texts]
    assert labels[:3] == ["+2.67 (3/3)", "-1.50 (0/2)", "+1.00 (1/1)"]
    assert all(np.isfinite(t.xy).all() for t in ax.texts)  # one clip: its label beside the bar, not at NaN


def _clips():
    return [{"source": source, "video": f"{source}@{i}",
             "scores": {"model": {"psnr_whole_f1": m, "psnr_whole_f2": m - 2},
                        "copy": {"psnr_whole_f1": c, "psnr_whole_f2": c - 2}}}
            for source, pairs in (("pan", [(30, 27), (32, 28), (31, 29)]), ("still", [(40, 41), (41, 40)]))
            for i, (m, c) in enumerate(pairs)]


def test_paired_table_leaves_out_a_method_against_itself_in_the_table_and_the_plot(tmp_path, capsys, monkeypatch):
    from vidpred.commands import paired_table

    (tmp_path / "per_clip.json").write_text(json.dumps({"methods": [], "clips": _clips()}))
    drawn = []
    monkeypatch.setattr(paired_table, "plot_paired", lambda rows, a, baselines, path: drawn.append(baselines) or path)
    assert paired_table.main(["--eval", str(tmp_path), "--a", "model", "--b", "model", "--b", "copy",
                              "--keys", "psnr_whole_f1", "--plot", str(tmp_path / "m.PNG")]) == 0  # any case of .png
    out = capsys.readouterr().out
    assert "| model − copy |" in out and "model − model" not in out
    assert drawn == [["copy"]]


def test_paired_table_refuses_a_plot_over_seeds(tmp_path, caplog):
    from vidpred.commands.paired_table import main

    (tmp_path / "per_clip.json").write_text(json.dumps({"methods": [], "clips": _clips()}))
    assert main(["--eval", str(tmp_path), "--a", "m {seed}", "--b", "c {seed}", "--seeds", "0", "1",
                 "--plot", str(tmp_path / "m.png")]) == 2
    assert "--plot draws one method against the others: give one --a, without --seeds" in caplog.text
    assert not (tmp_path / "m.png").exists()

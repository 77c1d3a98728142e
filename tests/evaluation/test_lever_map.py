import json
import logging
import math
import signal

import pytest

from vidpred.commands.lever_map import main
from vidpred.evaluation.lever_map import lever_points, lever_table


def _report(folder, methods, scores, settings=None):
    """A development-benchmark report: ``scores[video][method]`` is a list of per-clip PSNRs
    (``settings``: what the benchmark was run with; None: a report written before they were kept)."""
    clips = [{"video": f"{video}@{i}", "source": video, "height": 8, "width": 8,
              "scores": {name: {"psnr_whole_f1": values[i]} for name, values in by_method.items()}}
             for video, by_method in scores.items() for i in range(len(next(iter(by_method.values()))))]
    folder.mkdir(parents=True)
    written = {"methods": methods, "clips": clips, **({"settings": settings} if settings is not None else {})}
    (folder / "per_clip.json").write_text(json.dumps(written))
    return folder


def _checkpoint(name, path):
    return {"name": name, "kind": "checkpoint", "path": path}


@pytest.fixture
def reports(tmp_path):
    dis = {"DIS flow": [30.0, 20.0, 40.0]}
    first = _report(tmp_path / "a", [_checkpoint("shipped", "ship.pt"), _checkpoint("lever", "lever.pt"),
                                     {"name": "DIS flow", "kind": "baseline"}],
                    {"pan": {**dis, "shipped": [31.0, 20.5, 40.0], "lever": [29.0, 20.0, 39.5]},
                     "still": {**dis, "shipped": [30.0, 20.0, 40.3], "lever": [31.0, 21.0, 40.0]}})
    # The shipped weights again (under their path, and under another one with the same scores), and a
    # seed: other weights under a path the first report used for the shipped ones.
    second = _report(tmp_path / "b", [_checkpoint("shipped, seed 0", "ship.pt"), _checkpoint("copy", "runs/x.pt"),
                                      _checkpoint("seed 1", "ship.pt")],
                     {"pan": {**dis, "shipped, seed 0": [31.0, 20.5, 40.0], "copy": [31.0, 20.5, 40.0],
                              "seed 1": [30.0, 20.0, 40.0]},
                      "still": {**dis, "shipped, seed 0": [30.0, 20.0, 40.3], "copy": [30.0, 20.0, 40.3],
                                "seed 1": [30.0, 20.0, 40.0]}})
    only_pan = _report(tmp_path / "c", [_checkpoint("other", "other.pt")],
                       {"pan": {**dis, "other": [35.0, 25.0, 45.0]}})
    return first, second, only_pan


def test_each_checkpoint_is_one_point_paired_against_the_baseline(reports, caplog):
    points = lever_points(reports, "pan", "still")
    assert f"{reports[2]} scores no clip of still: left off the map" in caplog.text
    assert [p.name for p in points] == ["shipped", "lever", "seed 1"]  # "copy" has the shipped scores; "other" lacks "still"
    shipped, lever, seed = points
    assert shipped.x.mean == pytest.approx(0.5) and shipped.y.mean == pytest.approx(0.1)  # (1 + 0.5 + 0) / 3, 0.3 / 3
    assert shipped.x.wins == 2 and shipped.y.wins == 1 and shipped.x.n == 3
    assert lever.x.mean == pytest.approx(-0.5) and lever.y.mean == pytest.approx(2 / 3)
    # the standard error of (-1, 0, -0.5): std 0.5 over sqrt(3)
    assert lever.x.stderr == pytest.approx(0.5 / math.sqrt(3))
    assert seed.x.mean == 0 and seed.y.mean == 0
    table = lever_table(points, "pan", "still")
    assert "| 2 | lever (`lever.pt`) | -0.50 ± 0.29 (0/3) | +0.67 ± 0.33 (2/3) |" in table


def test_reports_that_cannot_be_mapped_are_refused(reports, tmp_path):
    with pytest.raises(ValueError, match="scored on both"):
        lever_points([reports[2]], "pan", "still")
    with pytest.raises(ValueError, match="no 'Farneback flow' scores"):
        lever_points(reports, "pan", "still", against="Farneback flow")
    with pytest.raises(ValueError, match="score key 'nokey' is not in .* \\(e.g. psnr_whole_f1"):
        lever_points(reports, "pan", "still", key="nokey")
    with pytest.raises(FileNotFoundError, match="dev_benchmark.py --out"):
        lever_points([tmp_path / "missing"], "pan", "still")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "per_clip.json").write_text('{"clips": []}')
    with pytest.raises(ValueError, match="not a development benchmark"):
        lever_points([tmp_path / "bad"], "pan", "still")


def test_the_command_writes_the_map_and_its_table_and_keeps_other_files(reports, tmp_path, capsys, caplog):
    caplog.set_level(logging.INFO)
    out = tmp_path / "figs" / "map.png"
    args = ["--reports", *map(str, reports), "--x", "pan", "--y", "still", "--out", str(out)]
    assert main(args) == 0
    assert out.read_bytes().startswith(b"\x89PNG")
    assert "| 1 | shipped (`ship.pt`) |" in out.with_suffix(".md").read_text()
    assert "| 3 | seed 1" in capsys.readouterr().out
    assert f"wrote {out} and {out.with_suffix('.md')}" in caplog.text
    assert main(args) == 0  # its own map it may replace
    foreign = tmp_path / "notes.png"
    foreign.write_bytes(b"mine")
    assert main(["--reports", str(reports[0]), "--x", "pan", "--y", "still", "--out", str(foreign)]) == 2
    assert foreign.read_bytes() == b"mine"
    assert "not a map written by this script" in caplog.text


def test_reports_scored_under_other_settings_are_refused_not_mapped_together(tmp_path):
    """A point of a report whose clips were grained (or panned, adapted, longer) is not measured
    on the footage of a clean report's: one map would read them as the same videos."""
    dis = {"DIS flow": [30.0, 20.0]}
    clean = {"clips_per_video": 2, "n_context": 4, "adapt": None, "degrade": None, "steady": None}
    grained = {**clean, "degrade": "grain of 10 grey levels"}
    scores = {"pan": {**dis, "m": [31.0, 21.0]}, "still": {**dis, "m": [30.5, 20.5]}}
    a = _report(tmp_path / "clean", [_checkpoint("m", "m.pt")], scores, clean)
    b = _report(tmp_path / "grain", [_checkpoint("m2", "m2.pt")],
                {video: {"DIS flow": v["DIS flow"], "m2": [x - 1 for x in v["m"]]} for video, v in scores.items()},
                grained)
    with pytest.raises(ValueError, match=r"grain was scored with degrade 'grain of 10 grey levels', .*clean with "
                                         r"degrade None: map reports of one setting together"):
        lever_points([a, b], "pan", "still")
    c = _report(tmp_path / "clean_again", [_checkpoint("m3", "m3.pt")],
                {video: {"DIS flow": v["DIS flow"], "m3": [x + 1 for x in v["m"]]} for video, v in scores.items()},
                clean)
    old = _report(tmp_path / "old", [_checkpoint("m4", "m4.pt")],
                  {video: {"DIS flow": v["DIS flow"], "m4": [x + 2 for x in v["m"]]} for video, v in scores.items()})
    assert [p.name for p in lever_points([a, c, old], "pan", "still")] == ["m", "m3", "m4"]


def test_the_command_without_out_prints_the_table_and_writes_nothing(reports, tmp_path, capsys):
    before = sorted(tmp_path.rglob("*"))
    assert main(["--reports", *map(str, reports), "--x", "pan", "--y", "still"]) == 0
    assert capsys.readouterr().out.startswith("| | checkpoint | − DIS flow, pan | − DIS flow, still | report |\n")
    assert sorted(tmp_path.rglob("*")) == before


def test_the_command_maps_the_key_and_baseline_asked_for(tmp_path, capsys, monkeypatch):
    import matplotlib.axes

    labels = []
    set_xlabel = matplotlib.axes.Axes.set_xlabel
    monkeypatch.setattr(matplotlib.axes.Axes, "set_xlabel",
                        lambda ax, text, *args, **kwargs: labels.append(text) or set_xlabel(ax, text, *args, **kwargs))
    report = _report(tmp_path / "r", [_checkpoint("model", "m.pt"), {"name": "last input", "kind": "baseline"},
                                      {"name": "DIS flow", "kind": "baseline"}],
                     {"pan": {"DIS flow": [30.0, 20.0], "last input": [28.0, 19.0], "model": [30.0, 20.0]},
                      "still": {"DIS flow": [30.0, 20.0], "last input": [29.0, 21.0], "model": [30.0, 20.0]}})
    clips = json.loads((report / "per_clip.json").read_text())
    for clip in clips["clips"]:  # the 2nd frame: the model 3 dB above the last input on the pan, 1 dB on the still
        offset = 3.0 if clip["source"] == "pan" else 1.0
        for name, scores in clip["scores"].items():
            scores["psnr_whole_f2"] = scores["psnr_whole_f1"] + (offset if name == "model" else 0.0)
    (report / "per_clip.json").write_text(json.dumps(clips))
    out = tmp_path / "map.png"
    assert main(["--reports", str(report), "--x", "pan", "--y", "still", "--against", "last input", "--key",
                 "psnr_whole_f2", "--out", str(out)]) == 0
    # model − last input on the 2nd frame, by hand: pan (30 + 3 − 28, 20 + 3 − 19) = (5, 4); still (2, 0)
    row = capsys.readouterr().out.splitlines()[2]
    assert row.startswith("| 1 | model (`m.pt`) | +4.50 ± 0.50 (2/2) | +1.00 ± 1.00 (1/2) |")
    assert labels == ["pan: − last input dB"]


def test_a_partial_report_or_one_with_a_clip_missing_its_scores_is_refused(tmp_path):
    from vidpred.evaluation.lever_map import read_report
    from vidpred.evaluation.partial import PartialReport, partial_mark

    stopped = tmp_path / "stopped"
    stopped.mkdir()
    written = {"methods": [], "clips": [], "partial": partial_mark(1, 3, signal.SIGINT)}
    (stopped / "per_clip.json").write_text(json.dumps(written))
    with pytest.raises(PartialReport, match=r"per_clip.json is a partial report \(1 of 3 clips, stopped by SIGINT\)"):
        read_report(stopped)
    bare = tmp_path / "bare"
    bare.mkdir()
    clip = {"video": "pan@0", "source": "pan", "scores": [30.0]}
    (bare / "per_clip.json").write_text(json.dumps({"methods": [], "clips": [clip]}))
    with pytest.raises(ValueError, match="per-clip scores: a clip without its name, source or scores$"):
        read_report(bare)


def test_reports_are_checked_against_the_first_that_says_its_settings(tmp_path):
    dis = {"DIS flow": [30.0, 20.0]}
    clean = {"clips_per_video": 2, "degrade": None}

    def report(name, offset, settings):
        scores = {video: {**dis, name: [x + offset for x in dis["DIS flow"]]} for video in ("pan", "still")}
        return _report(tmp_path / name, [_checkpoint(name, f"{name}.pt")], scores, settings)

    first, old, again = report("first", 1.0, clean), report("old", 2.0, None), report("again", 3.0, clean)
    grained = report("grained", 4.0, {**clean, "degrade": "grain"})
    with pytest.raises(ValueError, match=f"^{grained} was scored with degrade 'grain', {first} with degrade None"):
        lever_points([first, old, again, grained], "pan", "still")


def test_reports_without_settings_on_other_clips_or_other_footage_are_refused(tmp_path):
    """Reports written before their settings were kept: the clips and what copying scores on
    them still tell a steady pan (or fewer clips) from the footage the first report scored."""
    def report(name, copying, n_clips=2, gain=1.0):
        base = {"DIS flow": [30.0, 20.0, 25.0][:n_clips], "last input": copying[:n_clips]}
        scores = {video: {**base, name: [x + gain for x in base["DIS flow"]]} for video in ("pan", "still")}
        return _report(tmp_path / name, [_checkpoint(name, f"{name}.pt")], scores)

    first, again = report("first", [28.0, 18.0]), report("again", [28.004, 18.0], gain=2.0)  # the same, to 0.01 dB
    assert [p.name for p in lever_points([first, again], "pan", "still")] == ["first", "again"]
    panned = report("panned", [21.0, 18.0])
    with pytest.raises(ValueError, match=f"^{panned} scores pan@0 on other footage than {first} \\(copying the last "
                                         "input: 21.00 against 28.00 dB\\)"):
        lever_points([first, again, panned], "pan", "still")
    more = report("more", [28.0, 18.0, 22.0], n_clips=3)
    with pytest.raises(ValueError, match=f"^{more} scores other clips than {first} \\(6 against 4 of the two videos; "
                                         f"pan@2 in {more} alone\\)"):
        lever_points([first, more], "pan", "still")
    shifted = _report(tmp_path / "shifted", [_checkpoint("shifted", "s.pt")],
                      {v: {"DIS flow": [30.0, 20.0], "last input": [28.0, 18.0], "shifted": [31.0, 21.0]}
                       for v in ("pan", "still")})
    data = json.loads((shifted / "per_clip.json").read_text())
    for clip in data["clips"]:  # the same number of clips, cut elsewhere
        clip["video"] = clip["video"].replace("@", "@1")
    (shifted / "per_clip.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match=f"\\(4 against 4 of the two videos; pan@10 in {shifted} alone\\)"):
        lever_points([first, shifted], "pan", "still")


def test_the_map_numbers_each_point_names_it_in_the_legend_and_labels_both_axes(reports, tmp_path, monkeypatch):
    from vidpred.evaluation import lever_map

    figures = []
    monkeypatch.setattr(lever_map, "save_marked_figure", lambda fig, path, software: figures.append(fig) or path)
    points = lever_points(reports, "pan", "still")
    lever_map.plot_lever_map(points, tmp_path / "map.png", "pan", "still")
    (ax,) = figures[0].axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["1. shipped", "2. lever", "3. seed 1"]
    drawn = [container.lines[0] for container in ax.containers]  # each point's marker, one style a point
    assert len({line.get_marker() for line in drawn}) == len({tuple(line.get_color()) for line in drawn}) == 3

    assert [(t.get_text(), t.xy) for t in ax.texts] == [(str(i), (p.x.mean, p.y.mean))
                                                        for i, p in enumerate(points, start=1)]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("pan: − DIS flow dB", "still: − DIS flow dB")
    horizontal, vertical = ax.lines[:2]  # the baseline's axes through the origin
    assert tuple(horizontal.get_ydata()) == (0, 0) and tuple(vertical.get_xdata()) == (0, 0)
    assert ax.get_title() == "psnr_whole_f1, paired over each video's clips (mean ± s.e.)"


def test_no_two_of_many_points_share_a_colour_and_a_marker(reports, tmp_path, monkeypatch):
    from vidpred.evaluation import lever_map

    figures = []
    monkeypatch.setattr(lever_map, "save_marked_figure", lambda fig, path, software: figures.append(fig) or path)
    (point,) = lever_points([reports[0]], "pan", "still")[:1]
    lever_map.plot_lever_map([point] * 60, tmp_path / "map.png", "pan", "still")
    styles = [(c.lines[0].get_marker(), tuple(c.lines[0].get_color())) for c in figures[0].axes[0].containers]
    assert len(set(styles)) == 60


def test_names_that_are_not_utf8_are_drawn_under_their_escapes(reports, tmp_path):
    import dataclasses
    import os

    from vidpred.evaluation.lever_map import is_our_map, plot_lever_map

    latin1 = os.fsdecode(b"caf\xe9")
    points = [dataclasses.replace(p, name=f"{latin1}/{p.name}") for p in lever_points(reports, "pan", "still")]
    assert is_our_map(plot_lever_map(points, tmp_path / "map.png", f"{latin1}.mp4", "still", title=latin1))


def _lever_report(folder, copying):
    clips = [{"video": f"{video}@{i}", "source": video, "height": 8, "width": 8,
              "scores": {"DIS flow": {"psnr_whole_f1": 30.0}, "last input": {"psnr_whole_f1": copying[i]},
                         folder.name: {"psnr_whole_f1": 31.0}}}
             for video in ("pan", "still") for i in range(2)]
    folder.mkdir()
    (folder / "per_clip.json").write_text(json.dumps(
        {"methods": [{"name": folder.name, "kind": "checkpoint", "path": f"{folder.name}.pt"}], "clips": clips}))
    return folder


def test_lever_map_refuses_footage_that_copying_scores_a_twentieth_of_a_db_apart(tmp_path):
    first = _lever_report(tmp_path / "first", [28.0, 18.0])
    grainy = _lever_report(tmp_path / "grainy", [28.05, 18.0])  # beyond the 0.01 dB the same footage allows
    with pytest.raises(ValueError, match="on other footage than .*28.05 against 28.00 dB"):
        lever_points([first, grainy], "pan", "still")


def test_lever_map_writes_its_table_as_a_text_file_ending_in_a_newline(tmp_path):
    clips = [{"video": f"{v}@{i}", "source": v, "scores": {"DIS flow": {"psnr_whole_f1": 30.0},
                                                           "m": {"psnr_whole_f1": 30.5 + i}}}
             for v in ("pan", "still") for i in range(2)]
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "per_clip.json").write_text(json.dumps(
        {"methods": [{"name": "m", "kind": "checkpoint", "path": "m.pt"}], "clips": clips}))
    assert main(["--reports", str(tmp_path / "r"), "--x", "pan", "--y", "still",
                 "--out", str(tmp_path / "map.png")]) == 0
    text = (tmp_path / "map.md").read_text()
    assert text.startswith("| | checkpoint |") and text.endswith("|\n")


def test_one_video_on_both_axes_is_refused(reports, caplog):
    assert main(["--reports", *map(str, reports), "--x", "pan", "--y", "pan"]) == 2
    assert "--x and --y are both pan: a lever's map sets one video against another" in caplog.text

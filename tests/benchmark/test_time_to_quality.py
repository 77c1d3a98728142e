"""Validation-against-time curves: reading validation.jsonl, the table and the plot."""

from __future__ import annotations

import json
import math

import pytest

from vidpred.benchmark.time_to_quality import Curve, check_one_validation_set, curves_table, plot_curves, read_curve


def _run(folder, label_scores):
    """Runs logged before validation took the evaluation's names: flat lines."""
    folder.mkdir(parents=True)
    rows = [{"step": 100 * (i + 1), "train_seconds": 30.0 * (i + 1), "psnr": p, "psnr_f2": p - 3,
             "ssim": 0.5, "ssim_f2": 0.4, "baseline_psnr": 20.0, "baseline_psnr_f2": 17.0,
             "baseline_ssim": 0.4, "baseline_ssim_f2": 0.2, "flow_psnr": 24.0, "flow_psnr_f2": 21.0,
             "flow_ssim": 0.45, "flow_ssim_f2": 0.3} for i, p in enumerate(label_scores)]
    (folder / "validation.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def _new_run(folder, label_scores):
    """The same runs as :func:`_run` logged in today's shape (the evaluation's names)."""
    folder.mkdir(parents=True)
    rows = [{"step": 100 * (i + 1), "train_seconds": 30.0 * (i + 1),
             "model": {"psnr_whole_f1": p, "psnr_whole_f2": p - 3, "ssim_whole_f1": 0.5, "ssim_whole_f2": 0.4},
             "last input": {"psnr_whole_f1": 20.0, "psnr_whole_f2": 17.0, "ssim_whole_f1": 0.4, "ssim_whole_f2": 0.2},
             "Farneback flow (paper)": {"psnr_whole_f1": 24.0, "psnr_whole_f2": 21.0, "ssim_whole_f1": 0.45,
                                        "ssim_whole_f2": 0.3}} for i, p in enumerate(label_scores)]
    (folder / "validation.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


@pytest.mark.parametrize("write", [_run, _new_run], ids=["old flat lines", "today's lines"])
def test_curve_table_and_plot(tmp_path, write):
    a = read_curve(write(tmp_path / "a", [22.0, 25.0, 24.5]), "flow")
    b = read_curve(write(tmp_path / "b", [21.0, 23.0, 23.5]))
    assert a.minutes == [0.5, 1.0, 1.5] and a.steps == [100, 200, 300] and b.label == "b"
    assert a.final("psnr_whole_f1") == 24.5 and a.best("psnr_whole_f1") == 25.0
    assert a.final("psnr_whole_f2", "last input") == 17.0
    table = curves_table([a, b]).splitlines()
    assert table[2] == "| flow | 1.5 | 300 | 24.50 / 25.00 | 21.50 / 22.00 | 0.500 / 0.500 | 0.400 / 0.400 |"
    assert table[-2].startswith("| last input | - | - | 20.00 | 17.00 | 0.400 | 0.200 |")
    assert table[-1].startswith("| Farneback flow (paper) | - | - | 24.00 | 21.00 | 0.450 | 0.300 |")
    png = plot_curves([a, b], tmp_path / "fig" / "curves.png", title="t")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_a_run_that_has_not_validated_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="has not validated yet"):
        read_curve(tmp_path / "empty")


def test_runs_validated_on_other_clips_are_refused_not_drawn_against_the_first_runs_baselines(tmp_path):
    """Each curve is read against the baselines of the first run: runs whose baselines differ
    (other validation clips: another data source, frame size or hold-out) cannot share them."""
    a = read_curve(_new_run(tmp_path / "a", [22.0, 25.0]), "synthetic")
    b_dir = _new_run(tmp_path / "b", [21.0, 23.0])
    lines = (b_dir / "validation.jsonl").read_text().replace('"last input": {"psnr_whole_f1": 20.0',
                                                             '"last input": {"psnr_whole_f1": 26.5')
    (b_dir / "validation.jsonl").write_text(lines)
    b = read_curve(b_dir, "real")
    for draw in (lambda: plot_curves([a, b], tmp_path / "c.png"), lambda: curves_table([a, b])):
        with pytest.raises(ValueError, match=r"'real' and 'synthetic' validated on different clips .*last input.*"
                                             r"26\.50 .* 20\.00"):
            draw()
    assert not (tmp_path / "c.png").exists()
    same = read_curve(_new_run(tmp_path / "c", [21.0]), "same clips")
    assert curves_table([a, same]).count("\n") == 5  # two runs, two baselines: accepted



@pytest.fixture
def drawn(monkeypatch):
    """The figures plot_curves draws, kept open instead of saved (closed after the test)."""
    import matplotlib.pyplot as plt

    import vidpred.benchmark.time_to_quality as time_to_quality

    figures = []
    monkeypatch.setattr(time_to_quality, "save_marked_figure", lambda fig, path, software: figures.append(fig) or path)
    yield figures
    for fig in figures:
        plt.close(fig)


def test_the_plot_has_a_panel_per_predicted_frame_with_each_run_and_the_first_run_s_baselines(tmp_path, drawn):
    a = read_curve(_new_run(tmp_path / "a", [22.0, 25.0]), "a")
    b = read_curve(_new_run(tmp_path / "b", [21.0, 23.0, 23.5]), "b")
    plot_curves([a, b], tmp_path / "curves.png", title="ten minutes")
    (fig,) = drawn
    assert fig._suptitle.get_text() == "ten minutes"
    assert tuple(fig.get_size_inches()) == pytest.approx((2 * 5.2, 3.8))  # two panels side by side
    assert [ax.get_title() for ax in fig.axes] == ["predicted frame 1", "predicted frame 2"]
    for ax, offset in zip(fig.axes, (0.0, 3.0)):  # frame 2 scores 3 dB under frame 1 in _new_run
        curves = {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in ax.lines[:2]}
        assert curves == {"a": ([0.5, 1.0], [22.0 - offset, 25.0 - offset]),
                          "b": ([0.5, 1.0, 1.5], [21.0 - offset, 23.0 - offset, 23.5 - offset])}
        baselines = {line.get_label(): list(line.get_ydata()) for line in ax.lines[2:]}
        assert baselines == {"last input": [20.0 - offset] * 2, "Farneback flow (paper)": [24.0 - offset] * 2}


def test_the_plot_draws_only_the_predicted_frames_asked_for_and_logged(tmp_path, drawn):
    run = _new_run(tmp_path / "a", [22.0])
    row = json.loads((run / "validation.jsonl").read_text())
    row["model"]["psnr_whole_f3"] = 15.0
    row["last input"]["psnr_whole_f3"] = 12.0
    (run / "validation.jsonl").write_text(json.dumps(row) + "\n")
    curve = read_curve(run)
    plot_curves([curve], tmp_path / "two.png")
    plot_curves([curve], tmp_path / "three.png", n_frames=4)  # there is no 4th
    assert [[ax.get_title() for ax in fig.axes] for fig in drawn] == [
        ["predicted frame 1", "predicted frame 2"], ["predicted frame 1", "predicted frame 2", "predicted frame 3"]]
    assert drawn[0]._suptitle is None  # no title asked for


def test_a_run_whose_folder_name_is_not_utf8_is_drawn_under_its_escape(tmp_path):
    import os

    name = os.fsdecode(b"run\xe9")
    try:
        folder = _new_run(tmp_path / name, [22.0, 25.0])
    except OSError:
        pytest.skip("this file system takes only UTF-8 names")
    png = plot_curves([read_curve(folder)], tmp_path / "curves.png", title=name)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _curve(label, *validations):
    return Curve(label, [float(i) for i in range(len(validations))], list(range(len(validations))), list(validations))


def test_a_curve_has_what_its_last_validation_logged():
    curve = _curve("a", {"model": {"psnr_whole_f1": 20.0}}, {"model": {"psnr_whole_f1": 21.0, "psnr_whole_f2": 19.0}})
    assert curve.has("psnr_whole_f2") and not _curve("b", curve.scores[1], curve.scores[0]).has("psnr_whole_f2")


def test_a_validation_log_of_only_cut_lines_is_no_curve(tmp_path):
    (tmp_path / "validation.jsonl").write_text('{"step": 1, "train_sec')  # stopped mid-line
    with pytest.raises(FileNotFoundError, match="is empty: the run has not validated yet"):
        read_curve(tmp_path)


def test_runs_compared_by_their_last_inputs_scores_where_both_have_them():
    copy = {"psnr_whole_f1": 25.0, "ssim_whole_f1": math.nan}  # SSIM undefined on small frames: on both
    check_one_validation_set([_curve("a", {"last input": copy}), _curve("b", {"last input": dict(copy)}),
                              _curve("old", {"model": {"psnr_whole_f1": 20.0}})])  # a run without baselines
    other = {"edges_whole_f1": 0.9, "psnr_whole_f1": 24.0}
    with pytest.raises(ValueError, match="scores psnr_whole_f1 24.00 on one, 25.00 on the other"):
        check_one_validation_set([_curve("a", {"last input": {**copy, "edges_whole_f1": 1.0}}),
                                  _curve("b", {"last input": other})])


def test_last_inputs_a_hundredth_of_a_db_apart_are_other_clips():
    with pytest.raises(ValueError, match="validated on different clips"):
        check_one_validation_set([_curve("a", {"last input": {"psnr_whole_f1": 25.0}}),
                                  _curve("b", {"last input": {"psnr_whole_f1": 25.01}})])

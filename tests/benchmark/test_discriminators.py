"""Run-tail averages of the discriminators' logged accuracies, and their table."""

from __future__ import annotations

import json

import pytest

from vidpred.benchmark.discriminators import summarize_discriminators, summary_table
from vidpred.commands.discriminator_report import main as report_main


def _write(folder, rows):
    folder.mkdir(parents=True)
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def _rows():
    rows = []
    for step in (10, 20, 30, 40, 50, 60):
        row = {"step": step, "g_total": 1.0}
        if step >= 30:  # the multi-scale D starts at step 30 (disc_start)
            real = {30: 0.5, 40: 0.6, 50: 0.7, 60: 0.9}[step]
            row.update(d_acc_real=real, d_acc_fake=0.8, d_acc=(real + 0.8) / 2, d_gap=step / 100)
        row.update(d_st_acc_real=0.5, d_st_acc_fake=0.5, d_st_acc=0.5, d_st_gap=0.0)
        rows.append(row)
    return rows


def test_last_half_of_the_steps_each_discriminator_trained(tmp_path):
    run = _write(tmp_path / "run", list(reversed(_rows())))  # order on disk does not matter
    multiscale, spatiotemporal = summarize_discriminators(run)
    # Multi-scale: trained at 30-60 (4 logs), last half = steps 50 and 60.
    assert (multiscale.name, multiscale.n_logs, multiscale.first_step, multiscale.last_step) == ("multi-scale", 2, 50, 60)
    assert multiscale.acc_real == pytest.approx(0.8) and multiscale.acc_fake == pytest.approx(0.8)
    assert multiscale.acc == pytest.approx(0.8) and multiscale.gap == pytest.approx(0.55)
    # Spatio-temporal: 6 logs, last 3.
    assert (spatiotemporal.n_logs, spatiotemporal.first_step, spatiotemporal.acc) == (3, 40, 0.5)
    everything = summarize_discriminators(run, tail=1.0)[0]
    assert everything.acc_real == pytest.approx(0.675)


def test_table_marks_the_goal_and_the_script_exit_code(tmp_path, capsys):
    run = _write(tmp_path / "run", _rows())
    table = summary_table(summarize_discriminators(run), goal=0.65).splitlines()
    assert table[2] == "| run | multi-scale | 50-60 (2 logs) | 0.800 | 0.800 | 0.800 | 0.550 | yes |"
    assert table[3].endswith("| 0.500 | 0.500 | 0.500 | 0.000 | no |")
    assert report_main([str(run), "--goal", "0.65"]) == 1  # the spatio-temporal D misses it
    assert report_main([str(run)]) == 0
    assert "multi-scale" in capsys.readouterr().out


def test_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="metrics.jsonl"):
        summarize_discriminators(tmp_path)
    with pytest.raises(ValueError, match="tail"):
        summarize_discriminators(_write(tmp_path / "r", _rows()), tail=0)
    no_d = _write(tmp_path / "no_d", [{"step": 10, "g_total": 1.0}])
    assert summarize_discriminators(no_d) == []
    assert report_main([str(no_d)]) == 2


def test_a_line_cut_short_by_a_failed_write_is_skipped(tmp_path):
    """A run stopped mid-write (disk full, killed) leaves its last metrics.jsonl line cut short;
    the lines before it still report, as validation.jsonl's do."""
    run = _write(tmp_path / "run", _rows())
    with open(run / "metrics.jsonl", "a", encoding="utf-8") as f:
        f.write('{"step": 70, "d_acc_re')
    multiscale, spatiotemporal = summarize_discriminators(run)
    assert (multiscale.n_logs, multiscale.last_step, spatiotemporal.last_step) == (2, 60, 60)
    assert report_main([str(run)]) == 0


def test_goal_is_reached_by_both_accuracies_at_or_above_it(tmp_path, caplog):
    # One discriminator, real 0.75 and predicted 0.5 at every logged step.
    rows = [{"step": s, "d_acc_real": 0.75, "d_acc_fake": 0.5, "d_acc": 0.625, "d_gap": 0.25} for s in (10, 20)]
    run = str(_write(tmp_path / "run", rows))
    assert report_main([run, "--goal", "0.5"]) == 0  # the predicted accuracy equals the goal: reached
    assert report_main([run, "--goal", "0.6"]) == 1  # the real one reaches 0.6, the predicted one does not
    assert report_main([run, "--goal", "1"]) == 1  # a goal of 1 is allowed; neither reaches it
    assert report_main([run, "--goal", "1.5"]) == 2  # accuracies end at 1
    assert "--goal must be a finite number in [0, 1]" in caplog.text


def test_runs_left_out_of_the_table_are_named_and_runs_of_one_name_told_apart(tmp_path, capsys, caplog):
    a = _write(tmp_path / "a" / "run", _rows())
    b = _write(tmp_path / "b" / "run", _rows())
    early = _write(tmp_path / "early", [{"step": 10, "g_total": 1.0}])  # stopped before disc_start
    assert report_main([str(a), str(b), str(early)]) == 0
    table = capsys.readouterr().out
    assert f"| {a} | multi-scale |" in table and f"| {b} | multi-scale |" in table  # not "run" twice
    assert f"no trained discriminator logged an accuracy in {early} (none enabled, or stopped before " in caplog.text


def test_a_log_with_an_accuracy_but_not_its_parts_is_one_line(tmp_path, caplog):
    run = _write(tmp_path / "run", [{"step": 10, "d_acc": 0.6}])
    assert report_main([str(run)]) == 2
    assert f"{run / 'metrics.jsonl'}: step 10 logs d_acc without d_acc_real" in caplog.text


def test_runs_of_distinct_folder_names_are_called_by_them(tmp_path, capsys):
    rows = [{"step": s, "d_acc_real": 0.7, "d_acc_fake": 0.8, "d_acc": 0.75, "d_gap": 0.1} for s in (10, 20)]
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert report_main([str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    table = capsys.readouterr().out
    assert "| a | multi-scale |" in table and "| b | multi-scale |" in table

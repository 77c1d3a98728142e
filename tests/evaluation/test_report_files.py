"""The files of a report: all five written, CSV that reads back and strict JSON, and a
folder holding files no evaluation wrote refused."""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import math
import os
import signal

import pytest

from vidpred.evaluation import summarize, write_report
from vidpred.evaluation.partial import partial_mark
from vidpred.evaluation.report import PAPER_TABLE1
from vidpred.evaluation.report_files import check_report_folder
from vidpred.evaluation.scoring import MAX_PSNR_DB
from vidpred.safe_write import OutputRefused


def test_write_report_files(tmp_path, report_results, report_meta):
    results = report_results()
    summary = summarize(results, ["model", "last input"])
    paths = write_report(tmp_path / "out", results, summary, report_meta())
    assert sorted(p.name for p in paths.values()) == ["per_video.csv", "per_video.json", "report.md", "summary.csv",
                                                      "summary.json"]
    rows = list(csv.DictReader(open(paths["per_video.csv"])))
    assert [(r["video"], r["method"]) for r in rows] == [("a", "model"), ("a", "last input"), ("b", "model"),
                                                         ("b", "last input")]
    assert float(rows[3]["psnr_whole_f1"]) == MAX_PSNR_DB and math.isnan(float(rows[3]["ssim_compat_f1"]))
    per_video = json.loads(paths["per_video.json"].read_text())  # strict JSON: non-finite -> null
    assert per_video[1]["scores"]["last input"]["ssim_compat_f1"] is None
    summary_json = json.loads(paths["summary.json"].read_text())
    assert summary_json["summary"]["model"]["psnr_compat_f1"]["mean"] == 31.0
    assert summary_json["paper_table1"][3]["method"] == "Adv+GDL"
    summary_rows = list(csv.DictReader(open(paths["summary.csv"])))
    assert [r["method"] for r in summary_rows] == ["model", "last input", "ground truth"]


def test_a_video_name_that_is_not_utf8_is_written_as_its_escape(tmp_path, report_results, report_meta):
    """A frame folder named in an old code page (its byte held by Python as a lone surrogate)
    is scored: its name must not fail the report at the end."""
    latin1 = os.fsdecode(b"caf\xe9")
    results = [dataclasses.replace(r, name=f"{latin1}/{r.name}") for r in report_results()]
    meta = report_meta()
    meta["selection"]["skipped"] = [f"{latin1}.avi"]
    paths = write_report(tmp_path / "out", results, summarize(results, ["model", "last input"]), meta)
    rows = list(csv.DictReader(open(paths["per_video.csv"], encoding="utf-8")))
    assert rows[0]["video"] == "caf\\udce9/a"
    assert "caf\\udce9" in paths["report.md"].read_text(encoding="utf-8")
    assert json.loads(paths["per_video.json"].read_text())[0]["video"] == f"{latin1}/a"


def test_the_report_folder_is_refused_when_it_holds_files_no_evaluation_wrote(tmp_path, read_only):
    assert check_report_folder(tmp_path / "new") == tmp_path / "new"
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputRefused, match="notes.txt is a file: the report goes to a folder"):
        check_report_folder(tmp_path / "notes.txt", force=True)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "report.md").write_text("my own report")
    with pytest.raises(OutputRefused, match="holds report.md that no vidpred evaluation wrote.*--force"):
        check_report_folder(theirs)
    assert check_report_folder(theirs, force=True) == theirs
    (theirs / "summary.json").write_text('{"methods": [], "protocol": {}, "summary": {}}')  # an earlier report
    assert check_report_folder(theirs) == theirs
    (tmp_path / "ro").mkdir()
    read_only(tmp_path / "ro")
    with pytest.raises(OutputRefused, match="cannot write the report in .*ro: Permission denied"):
        check_report_folder(tmp_path / "ro")


def _report(tmp_path, report_results, report_meta, partial=None, extra_key=False):
    results = report_results()
    if extra_key:  # a score only the second method has
        for r in results:
            r.scores["last input"]["lpips_whole_f1"] = 0.25
    meta = report_meta()
    if partial:
        meta["partial"] = partial
    return results, write_report(tmp_path / "out", results, summarize(results, ["model", "last input"]), meta)


def test_a_folder_holding_an_earlier_report_of_this_evaluation_is_accepted(tmp_path, report_results, report_meta):
    _report(tmp_path, report_results, report_meta)
    assert check_report_folder(tmp_path / "out") == tmp_path / "out"  # written again without --force


def test_an_earlier_report_to_be_replaced_is_named_before_the_evaluation(tmp_path, report_results, report_meta, caplog):
    # two evaluations into one --out (the default runs/eval_<data> among them): the first's report had gone unsaid
    assert check_report_folder(tmp_path / "out") == tmp_path / "out"
    assert "replaces" not in caplog.text  # nothing there yet
    _report(tmp_path, report_results, report_meta)
    with caplog.at_level(logging.WARNING, logger="vidpred"):
        check_report_folder(tmp_path / "out")
    assert f"{tmp_path / 'out'} holds the report of an earlier evaluation (model): this one replaces it" in caplog.text


def test_the_csv_files_hold_each_column_its_own_values(tmp_path, report_results, report_meta):
    _, paths = _report(tmp_path, report_results, report_meta, extra_key=True)
    per_video = list(csv.DictReader(open(paths["per_video.csv"])))
    assert [float(r["moving_fraction"]) for r in per_video] == [0.5, 0.5, 0.25, 0.25]
    assert [float(r["target_flicker"]) for r in per_video] == [0.2, 0.2, 0.4, 0.4]
    # a key only the second method scored is a column, empty for the first
    assert [r["lpips_whole_f1"] for r in per_video] == ["", "0.25", "", "0.25"]
    summary = {r["method"]: r for r in csv.DictReader(open(paths["summary.csv"]))}
    assert float(summary["ground truth"]["flicker"]) == pytest.approx(0.3)  # the targets' mean flicker
    assert summary["ground truth"]["psnr_whole_f1"] == "" and summary["model"]["lpips_whole_f1"] == ""
    assert float(summary["last input"]["lpips_whole_f1"]) == 0.25


def test_summary_json_holds_the_papers_table_by_column_name(tmp_path, report_results, report_meta):
    _, paths = _report(tmp_path, report_results, report_meta)
    table = json.loads(paths["summary.json"].read_text())["paper_table1"]
    name, psnr, ssim, sharpness, source = PAPER_TABLE1[3]
    assert table[3] == {"method": name, "psnr": psnr, "ssim": ssim, "sharpness": sharpness, "source": source}


def test_a_partial_report_says_so_in_each_file(tmp_path, report_results, report_meta):
    mark = partial_mark(2, 5, signal.SIGINT)
    _, paths = _report(tmp_path, report_results, report_meta, partial=mark)
    per_video = json.loads(paths["per_video.json"].read_text())
    assert per_video["partial"] == mark and [r["video"] for r in per_video["videos"]] == ["a", "b"]
    for name in ("summary.csv", "per_video.csv"):  # one line ending in the whole file
        assert paths[name].read_bytes().startswith(b"# partial: 2 of 5 clips, stopped by SIGINT\r\nmethod"
                                                   if name == "summary.csv" else
                                                   b"# partial: 2 of 5 clips, stopped by SIGINT\r\nvideo")


def test_non_finite_values_in_tuples_are_written_as_null(tmp_path, report_results, report_meta):
    results = report_results()
    meta = report_meta()
    meta["protocol"]["range"] = (0.0, math.inf)
    paths = write_report(tmp_path / "out", results, summarize(results, ["model", "last input"]), meta)
    assert json.loads(paths["summary.json"].read_text())["protocol"]["range"] == [0.0, None]

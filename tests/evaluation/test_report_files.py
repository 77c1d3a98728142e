"""The files of a report: all five written, CSV that reads back and strict JSON, and a
folder holding files no evaluation wrote refused."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os

import pytest

from vidpred.evaluation import summarize, write_report
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

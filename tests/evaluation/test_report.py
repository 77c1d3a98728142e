"""Averages with NaN/inf accounted for, and the files of a report."""

from __future__ import annotations

import csv
import json
import math

from vidpred.evaluation import ClipResult, markdown_report, summarize, write_report

NAN, INF = float("nan"), float("inf")


def _results():
    def scores(p1, s1):
        return {"psnr_compat_f1": p1, "ssim_compat_f1": s1, "sharpness_compat_f1": 20.0,
                "psnr_moving_f1": p1 - 1, "ssim_moving_f1": s1, "sharpness_moving_f1": 19.0,
                "psnr_whole_f1": p1 + 1, "ssim_whole_f1": s1, "sharpness_whole_f1": 21.0, "flicker": 0.1}
    return [
        ClipResult("a", 0, 8, 32, 40, 0.5, 0.2, {"model": scores(30.0, 0.9), "last input": scores(20.0, 0.5)}),
        ClipResult("b", 0, 8, 32, 40, 0.25, 0.4, {"model": scores(32.0, 0.7), "last input": scores(INF, NAN)}),
    ]


def _meta():
    return {
        "methods": [{"name": "model", "kind": "checkpoint"}, {"name": "last input", "kind": "baseline"}],
        "protocol": {"n_context": 4, "n_scored": 1, "flicker_frames": 4, "flow_threshold": 0.5},
        "selection": {"description": "test", "selected": ["a", "b"], "n_listed": 2, "skipped": [],
                      "min_frames": 5, "clip_frames": 8, "start_frame": 0},
        "n_clips": 2, "n_moving_clips": 2, "mean_moving_fraction": 0.375,
        "lpips": {"available": False, "reason": "LPIPS skipped: no file"},
        "flow": {"params": "winsize=9"},
    }


def test_means_leave_out_non_finite_values_and_count_them():
    summary = summarize(_results(), ["model", "last input"])
    assert summary["model"]["psnr_compat_f1"] == {"mean": 31.0, "n": 2, "n_nan": 0, "n_inf": 0}
    assert summary["last input"]["psnr_compat_f1"] == {"mean": 20.0, "n": 1, "n_nan": 0, "n_inf": 1}
    assert summary["last input"]["ssim_compat_f1"]["n_nan"] == 1
    assert math.isclose(summary["ground truth"]["flicker"]["mean"], 0.3)


def test_markdown_has_the_table_rows_marks_partial_means_and_the_paper():
    text = markdown_report(summarize(_results(), ["model", "last input"]), _meta())
    assert "| model | 31.00 | 0.800 | 20.00 |" in text
    assert "| last input | 20.00* | 0.500* | 20.00 |" in text
    assert "| Adv+GDL | 31.5 | 0.91 | 25.4 |" in text
    assert "LPIPS skipped: no file" in text
    assert "| ground truth | 0.300 | 1.00 |" in text


def test_write_report_files(tmp_path):
    results = _results()
    summary = summarize(results, ["model", "last input"])
    paths = write_report(tmp_path / "out", results, summary, _meta())
    assert sorted(p.name for p in paths.values()) == ["per_video.csv", "per_video.json", "report.md", "summary.csv",
                                                      "summary.json"]
    rows = list(csv.DictReader(open(paths["per_video.csv"])))
    assert [(r["video"], r["method"]) for r in rows] == [("a", "model"), ("a", "last input"), ("b", "model"),
                                                         ("b", "last input")]
    assert float(rows[3]["psnr_compat_f1"]) == INF and math.isnan(float(rows[3]["ssim_compat_f1"]))
    per_video = json.loads(paths["per_video.json"].read_text())  # strict JSON: non-finite -> null
    assert per_video[1]["scores"]["last input"]["psnr_compat_f1"] is None
    summary_json = json.loads(paths["summary.json"].read_text())
    assert summary_json["summary"]["model"]["psnr_compat_f1"]["mean"] == 31.0
    assert summary_json["paper_table1"][3]["method"] == "Adv+GDL"
    summary_rows = list(csv.DictReader(open(paths["summary.csv"])))
    assert [r["method"] for r in summary_rows] == ["model", "last input", "ground truth"]


def test_flicker_not_available_or_not_measured():
    results = _results()
    for r in results:
        r.target_flicker = NAN
        for scores in r.scores.values():
            scores["flicker"] = NAN
    summary = summarize(results, ["model", "last input"])
    assert "Not available: no clip has the 8 frames it needs" in markdown_report(summary, _meta())
    meta = _meta()
    meta["protocol"]["flicker_frames"] = 0
    assert "Not measured (`--flicker-frames 0`)." in markdown_report(summary, meta)


def test_psnr_filter_leaves_out_and_counts_the_clips_of_the_official_code():
    results = _results()
    # Clip "a": 50.1 dB in vidpred's units is 50.066 in the official code's: dropped at 50 dB.
    # 50.03 reads 49.996 there and stays, as the official `if psnr < 50` keeps it.
    results[0].scores["model"]["psnr_compat_f1"] = 50.1
    results[1].scores["model"]["psnr_compat_f1"] = 50.03
    summary = summarize(results, ["model", "last input"], psnr_filter=50.0)
    model = summary["model"]
    assert model["psnr_compat_f1"] == {"mean": 50.03, "n": 1, "n_nan": 0, "n_inf": 0, "n_dropped": 1}
    assert model["ssim_compat_f1"]["mean"] == 0.7 and model["ssim_compat_f1"]["n_dropped"] == 1
    assert model["psnr_whole_f1"]["n"] == 2 and "n_dropped" not in model["psnr_whole_f1"]  # only compat
    # An exact prediction (inf) is at the official clamp, 88.13 dB: dropped too.
    assert summary["last input"]["psnr_compat_f1"]["n_dropped"] == 1
    meta = _meta()
    meta["protocol"]["psnr_filter"] = 50.0
    text = markdown_report(summary, meta)
    assert "Clips left out per method (frame 1 / frame 2 ...): model 1; last input 1." in text
    assert summarize(results, ["model"])["model"]["psnr_compat_f1"]["n"] == 2  # no filter: kept


def test_report_says_how_many_context_frames_each_method_reads():
    meta = _meta()
    meta["methods"][0].update(context_frames_used=2)
    meta["methods"][1].update(context_frames_used=1)
    text = markdown_report(summarize(_results(), ["model", "last input"]), meta)
    assert "model: the last 2 of 4 (trained with 2 context frames); last input: the last 1." in text

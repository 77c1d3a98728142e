"""The mark of a report stopped before every clip was scored, and its readers' refusal."""

from __future__ import annotations

import json
import signal

import pytest

from vidpred.evaluation.paired import read_per_video
from vidpred.evaluation.partial import (PartialReport, partial_heading, partial_line, partial_mark, refuse_partial,
                                        starts_with_heading)


def test_a_report_of_every_clip_is_not_marked_and_one_of_none_is_not_written():
    assert partial_mark(5, 5, None) is None and partial_heading(None) == []
    with pytest.raises(KeyboardInterrupt):
        partial_mark(0, 5, signal.SIGINT)
    mark = partial_mark(2, 5, signal.SIGTERM)
    assert mark == {"clips_scored": 2, "clips_planned": 5, "stopped_by": "SIGTERM"}
    assert partial_line(mark) == "partial: 2 of 5 clips, stopped by SIGTERM"
    assert partial_heading(mark)[0].startswith("partial: 2 of 5 clips, stopped by SIGTERM. Every table below")


def test_a_partial_per_video_file_is_refused_in_one_line_naming_it(tmp_path):
    mark = partial_mark(1, 3, signal.SIGINT)
    rows = [{"video": "a", "scores": {"m": {"psnr_whole_f1": 30.0}}}]
    (tmp_path / "per_video.json").write_text(json.dumps({"partial": mark, "videos": rows}))
    with pytest.raises(PartialReport) as refused:
        read_per_video(tmp_path)
    assert str(refused.value).startswith(f"{tmp_path / 'per_video.json'} is a partial report (1 of 3 clips")
    assert "\n" not in str(refused.value)
    refuse_partial("per_clip.json", {"methods": [], "clips": []})  # a whole report passes
    refuse_partial("per_video.json", rows)


def test_a_summary_of_nothing_scored_is_marked_when_asked_for():
    assert partial_mark(0, 4, signal.SIGTERM, unit="runs", none_scored=True) == {
        "clips_scored": 0, "clips_planned": 4, "stopped_by": "SIGTERM", "unit": "runs"}


def test_the_partial_heading_names_the_unit_in_the_singular():
    (line, blank) = partial_heading(partial_mark(2, 3, signal.SIGINT, unit="paths"))
    assert line == ("partial: 2 of 3 paths, stopped by SIGINT. Every table below is over these 2 paths, the first "
                    "in path order, not over every path selected.") and blank == ""


def test_a_table_is_recognised_whole_or_after_its_partial_heading(tmp_path):
    whole, partial, other = tmp_path / "whole.md", tmp_path / "partial.md", tmp_path / "other.md"
    whole.write_text("| rule | PSNR |\n|---|---|\n")
    partial.write_text("\n".join(partial_heading(partial_mark(1, 2, signal.SIGINT))) + "\n| rule | PSNR |\n")
    other.write_text("partial: notes\n\nmy own text\n")
    assert starts_with_heading(whole, "| rule |") and starts_with_heading(partial, "| rule |")
    assert not starts_with_heading(other, "| rule |")

"""scripts/extrapolation_rules.py stopped by Ctrl-C: the table of the clips scored, marked partial."""

import os
import signal

import pytest

from vidpred.commands.extrapolation_rules import main
from vidpred.evaluation import extrapolation_rules, rule_scores
from vidpred.evaluation.clips import EvalClip


@pytest.fixture
def four_clips(monkeypatch, moving_frames):
    """Two videos of two 6-frame clips each (a square moving), in place of the corpus's clips."""
    clips = [EvalClip(f"val/{video}@{start}", start, moving_frames(6, 32, 48, seed=i, speed=1 + i), f"val/{video}")
             for i, (video, start) in enumerate([("a", 0), ("a", 10), ("b", 0), ("b", 10)])]
    monkeypatch.setattr(rule_scores, "load_eval_clips", lambda *args, **kwargs: (clips, None))
    return clips


@pytest.fixture
def ctrl_c_in_the_2nd_clip_s_rules(monkeypatch):
    """``install(times)``: the 2nd clip's first rule sends the process SIGINT ``times`` times."""
    def install(times: int) -> None:
        rule, calls = extrapolation_rules.RULES["DIS"], []

        def interrupted(frames, grey, k):
            calls.append(k)
            if calls.count(1) == 2 and k == 1:
                for _ in range(times):
                    os.kill(os.getpid(), signal.SIGINT)
            return rule(frames, grey, k)
        monkeypatch.setitem(extrapolation_rules.RULES, "DIS", interrupted)
    return install


RUN = ["--subset", "val", "--rules", "DIS", "damped 0.7"]


def test_ctrl_c_finishes_the_clip_in_hand_and_writes_the_table_of_the_clips_scored(
        four_clips, ctrl_c_in_the_2nd_clip_s_rules, tmp_path, caplog):
    whole = tmp_path / "whole.md"
    assert main([*RUN, "--out", str(whole)]) == 0
    ctrl_c_in_the_2nd_clip_s_rules(times=1)
    before = signal.getsignal(signal.SIGINT)
    out = tmp_path / "rules.md"
    assert main([*RUN, "--out", str(out)]) == 128 + signal.SIGINT
    assert signal.getsignal(signal.SIGINT) is before
    assert "received SIGINT: finishing the clips started, then writing the report of the clips scored" in caplog.text
    text = out.read_text()
    assert text.startswith("partial: 2 of 4 clips, stopped by SIGINT. Every table below is over these 2 clips, the "
                           "first in clip order, not over every clip selected.\n\n# Extrapolation rules against DIS "
                           "extrapolation (val videos)\n\n")
    # video a's two clips, scored as the whole run scores them; nothing of video b
    section = lambda t: t.split("### val/a (2 clips)")[1].split("###")[0].strip()
    assert section(text) == section(whole.read_text())
    assert "val/b" not in text
    assert main([*RUN, "--out", str(out)]) == 0  # its own partial table: a whole run replaces it
    assert out.read_text() == whole.read_text()


def test_a_second_ctrl_c_stops_at_once_writing_nothing(four_clips, ctrl_c_in_the_2nd_clip_s_rules, tmp_path,
                                                       caplog):
    ctrl_c_in_the_2nd_clip_s_rules(times=2)
    out = tmp_path / "rules.md"
    assert main([*RUN, "--out", str(out)]) == 130
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == ["interrupted"]
    assert not out.exists()


def test_an_out_that_is_not_its_table_is_kept_unless_forced(four_clips, tmp_path, caplog):
    notes = tmp_path / "notes.md"
    notes.write_text("my notes\n")
    assert main([*RUN, "--out", str(notes)]) == 2
    assert notes.read_text() == "my notes\n"
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        f"{notes} already exists and is not a table written by this script: choose another output path, or pass "
        "--force to replace it"]
    assert main([*RUN, "--out", str(notes), "--force"]) == 0
    assert notes.read_text().startswith("# Extrapolation rules against DIS extrapolation (val videos)\n")


def test_only_the_videos_named_are_read_and_one_clip_a_video_is_enough(monkeypatch, moving_frames, capsys):
    asked = []

    def recorded(data, **kwargs):  # the corpus's clips, as load_eval_clips is asked for them
        asked.append(kwargs)
        return [EvalClip("val/a@0", 0, moving_frames(6, 32, 48), "val/a")], None

    monkeypatch.setattr(rule_scores, "load_eval_clips", recorded)
    assert main(["--subset", "val", "--rules", "DIS", "--videos", "a", "--clips-per-video", "1"]) == 0
    assert [(k["videos"], k["clips_per_video"], k["subset"], k["progress"]) for k in asked] == [(["a"], 1, "val", True)]
    out, err = capsys.readouterr()
    assert "# Extrapolation rules against DIS extrapolation (val videos (a only))" in out
    assert "rules: 100%" in err and "1/1" in err  # a bar over the clips, as over their decoding


def test_no_clips_is_refused_in_one_line(monkeypatch, caplog):
    monkeypatch.setattr(rule_scores, "load_eval_clips", lambda *args, **kwargs: pytest.fail("clips were read"))
    assert main(["--clips-per-video", "0"]) == 2
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "--clips-per-video must be >= 1, got 0"]


def test_rules_named_without_dis_are_scored_against_it_all_the_same(four_clips, tmp_path):
    with_dis, without = tmp_path / "with.md", tmp_path / "without.md"
    assert main([*RUN, "--out", str(with_dis)]) == 0
    assert main(["--subset", "val", "--rules", "damped 0.7", "--out", str(without)]) == 0
    assert without.read_text() == with_dis.read_text()

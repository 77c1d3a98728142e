"""scripts/repeat_frames.py: a video written as a conversion to a higher frame rate shows
it, and one-step scores along it read by kind of frame."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from skimage import data as skdata

from vidpred.commands.repeat_frames import (find_repeats, find_table, frame_kind, main, read_scores, rhythm_frames,
                                           scores_table, with_repeats)
from vidpred.data.video_io import read_video, write_image
from vidpred.models.frame_timing import changed_fractions, repeated_steps, rhythm


def _pan(folder, n: int = 6, size: tuple[int, int] = (96, 128)):
    """A folder of ``n`` PNG frames of a real photo panned 3 px a frame."""
    folder.mkdir()
    photo = skdata.astronaut()
    for t in range(n):
        write_image(folder / f"{t:03d}.png", photo[100:100 + size[0], 100 + 3 * t:100 + 3 * t + size[1], ::-1])
    return folder


def test_every_nth_frame_is_given_twice():
    assert list(with_repeats(range(1, 8), 3)) == [1, 2, 3, 3, 4, 5, 6, 6, 7]
    assert list(with_repeats(range(1, 3), 1)) == [1, 1, 2, 2]
    assert list(with_repeats(range(1, 3), 1, times=3)) == [1, 1, 1, 2, 2, 2]  # on threes
    assert list(with_repeats(range(1, 6), 2, times=4)) == [1, 2, 2, 2, 2, 3, 4, 4, 4, 4, 5]
    for every, times in ((0, 2), (1, 1)):
        with pytest.raises(ValueError, match="every must be >= 1 and times >= 2"):
            list(with_repeats(range(3), every, times))


@pytest.mark.parametrize("suffix", [".avi", ".mp4"])
def test_the_written_video_shows_the_repeats_the_refiner_reads_as_repeats(tmp_path, suffix):
    out = tmp_path / f"converted{suffix}"
    assert main(["--video", str(_pan(tmp_path / "pan")), "--out", str(out), "--every", "2"]) == 0
    video = read_video(out)
    assert video.shape == (9, 96, 128, 3)  # 6 frames, the 2nd, 4th and 6th twice
    context = (np.moveaxis(video[:4], -1, 0)[None] / 127.5 - 1).astype(np.float32)  # frames 0, 1, 1, 2
    assert repeated_steps(torch.from_numpy(context))[0].tolist() == [False, True, False]
    step = np.abs(video[2].astype(int) - video[1]).mean(), np.abs(video[3].astype(int) - video[2]).mean()
    assert step[0] < 0.5 < 5 < step[1]


def test_each_frame_shown_three_times_is_read_as_a_rhythm_of_two_held_steps_and_a_moving_one(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="vidpred")
    out = tmp_path / "threes.avi"
    assert main(["--video", str(_pan(tmp_path / "pan", 4)), "--out", str(out), "--every", "1", "--times", "3"]) == 0
    assert "12 frames at 30 a second, every frame shown 3 times" in caplog.text
    video = read_video(out)
    assert video.shape == (12, 96, 128, 3)
    clip = torch.from_numpy((np.moveaxis(video, -1, 0)[None] / 127.5 - 1).astype(np.float32))
    changed = changed_fractions(clip)[0].flip(0).tolist()  # oldest first: the steps into frames 3, 6 and 9 move
    assert rhythm(changed[:9]) == [False, False, True]  # after three periods the next step (into frame 10) holds
    assert rhythm(changed) == [True, False, False]  # and after the 11th, it moves
    assert main(["--video", str(tmp_path / "pan"), "--out", str(tmp_path / "once.avi"), "--times", "1"]) == 2
    assert "--times must be at least 2 (a frame shown twice), got 1" in caplog.text


def test_an_odd_sized_video_loses_its_last_column_in_an_mp4(tmp_path, caplog):
    out = tmp_path / "converted.mp4"
    assert main(["--video", str(_pan(tmp_path / "pan", 3, (96, 127))), "--out", str(out)]) == 0
    assert read_video(out).shape == (3, 96, 126, 3)
    assert "each frame's last column dropped (96x126, HxW)" in caplog.text


def test_the_frames_are_told_apart_by_their_place_after_the_repeats():
    kinds = [frame_kind(i, 4) for i in range(11)]
    assert kinds == ["the rest"] * 4 + ["repeated", "after a repeat"] + ["the rest"] * 3 + ["repeated", "after a repeat"]
    # each frame three times: frame 0 is the first shown, 1 and 2 show it again, 3 moves on
    shown = list(with_repeats(range(4), 1, times=3))
    kinds = [frame_kind(i, 1, times=3) for i in range(len(shown))]
    assert kinds == ["the rest"] + ["repeated"] * 2 + (["after a repeat"] + ["repeated"] * 2) * 3
    assert all((kind == "repeated") == (shown[i] == shown[i - 1]) for i, kind in enumerate(kinds) if i)


def _scores_file(path, rows):
    path.write_text("frame,steps_ahead,method,psnr,ssim,edges\n" + "".join(f"{r}\n" for r in rows))
    return path


def test_the_scores_table_pairs_the_first_model_with_the_others_by_kind_of_frame(tmp_path, capsys):
    # every 2: frame 2 is a repeat, frame 3 the frame after it, frame 4 one of the rest
    a = _scores_file(tmp_path / "a.csv", ["2,1,model,30,0.9,1.0", "2,1,last input,50,0.99,1.0", "2,1,DIS flow,31,0.9,1.0",
                                          "3,1,model,33,0.95,0.9", "3,1,last input,28,0.8,1.0", "3,1,DIS flow,28,0.8,0.9",
                                          "4,1,model,32,0.9,0.9", "4,1,last input,27,0.8,1.0", "4,1,DIS flow,31,0.9,0.9"])
    b = _scores_file(tmp_path / "b.csv", ["2,1,other,30,0.9,1.0", "2,1,last input,0,0,0", "2,1,DIS flow,0,0,0",
                                          "3,1,other,28.5,0.8,0.9", "3,1,last input,0,0,0", "3,1,DIS flow,0,0,0",
                                          "4,1,other,31.5,0.9,0.9", "4,1,last input,0,0,0", "4,1,DIS flow,0,0,0"])
    frames = read_scores([str(a), str(b)])
    assert frames[3]["last input"]["psnr"] == 28.0 and frames[3]["other"]["psnr"] == 28.5  # the baselines: a's
    table = scores_table(frames, 2, "pan")
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()
            if line.startswith("| ") and not line.startswith("| frames")}
    assert rows["after a repeat"] == ["after a repeat", "1", "33.00 / 0.950 / 0.900", "28.00 / 0.800 / 1.000",
                                      "28.00 / 0.800 / 0.900", "28.50 / 0.800 / 0.900",
                                      "+5.00 (1/1)", "+5.00 (1/1)", "+4.50 (1/1)"]
    assert rows["repeated"][6:] == ["-20.00 (0/1)", "-1.00 (0/1)", "+0.00 (0/1)"]
    assert rows["all"][1] == "3" and rows["all"][8] == "+1.67 ± 1.42 (2/3)"
    out = tmp_path / "table.md"
    assert main(["--scores", str(a), str(b), "--every", "2", "--out", str(out)]) == 0
    assert out.read_text().startswith("# Repeated frames\n") and out.read_text() in capsys.readouterr().out + "\n"


def test_a_rollout_s_scores_and_a_table_of_another_kind_are_refused(tmp_path, caplog):
    rollout = _scores_file(tmp_path / "r.csv", ["4,1,model,30,0.9,1.0", "5,2,model,28,0.9,1.0"])
    assert main(["--scores", str(rollout)]) == 2
    assert "holds frames predicted 2 steps ahead: score a --one-step run" in caplog.text
    other = tmp_path / "o.csv"
    other.write_text("a,b\n1,2\n")
    assert main(["--scores", str(other)]) == 2
    assert "is not a table of predict.py --scores" in caplog.text
    assert main(["--scores", str(rollout), "--video", str(tmp_path)]) == 2
    assert "--scores reads tables, not a --video" in caplog.text
    assert main(["--video", str(tmp_path)]) == 2
    assert "give --video and --out (or --scores, or --find)" in caplog.text
    assert main(["--video", str(tmp_path), "--out", str(tmp_path / "out.gif")]) == 2
    assert f"cannot write {tmp_path / 'out.gif'}: give an .mp4 or .avi" in caplog.text
    assert main(["--scores", str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv: no such file (a table of predict.py --scores)" in caplog.text


def test_find_lists_the_frames_the_refiner_reads_as_repeats(tmp_path, capsys):
    pan = _pan(tmp_path / "pan", 5)
    shown = tmp_path / "shown"
    shown.mkdir()
    for t, source in enumerate([0, 1, 2, 2, 3, 4, 4, 4]):  # a repeat, then a hold at the end
        (shown / f"{t:03d}.png").write_bytes((pan / f"{source:03d}.png").read_bytes())
    changed, repeats = find_repeats(shown)
    assert repeats == [3, 6]  # the hold's first still step only
    assert changed.shape == (7,) and changed[[2, 5, 6]].max() == 0 and changed[[0, 1, 3, 4]].min() > 0.2
    out = tmp_path / "found.md"
    assert main(["--find", "--video", str(shown), "--out", str(out)]) == 0
    assert f"| {shown} | 7 | 3 (0.00%), 6 (0.00%) | 2 (" in out.read_text()
    assert out.read_text().rstrip().endswith("| none |")  # no steady rhythm of held frames
    assert main(["--find", "--video", str(shown), "--subset", "val"]) == 2


def test_find_says_which_frames_a_stream_reads_in_a_rhythm_of_held_frames():
    on_threes = [0.3 if t % 3 == 2 else 0.001 for t in range(14)]  # steps 2, 5, 8, 11 move: frames 3, 6, 9, 12 new
    held, moving = rhythm_frames(on_threes)
    # after nine steps (frame 9 the newest) the rhythm is read: frames 10, 11 and 13, 14 held, 12 moves after two
    assert held == [10, 11, 13, 14] and moving == [12]
    assert rhythm_frames([0.3] * 14) == ([], [])
    table = find_table([("threes", np.asarray(on_threes), [4, 7, 10, 13])])  # each held frame's first step repeats
    assert table.rstrip().endswith("| threes | 14 | 4 (0.10%), 7 (0.10%), 10 (0.10%), 13 (0.10%) | - | 4 / 1 (10) |")

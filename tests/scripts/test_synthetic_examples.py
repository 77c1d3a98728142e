"""vidpred/commands/synthetic_examples.py: a contact sheet of synthetic videos and their generation time."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest

from vidpred.commands import synthetic_examples


def test_contact_sheet_layout():
    videos = [np.full((8, 20, 40, 3), value, np.uint8) for value in (10, 200)]
    sheet = synthetic_examples.contact_sheet(videos, step=3, thumb=20, gap=2)
    # Frames 0, 3, 6 of each video, 20x10 each, 2-pixel white gaps between them.
    assert sheet.shape == (2 * 10 + 2, 3 * 20 + 2 * 2, 3)
    assert (sheet[:10, :20] == 10).all() and (sheet[12:, 22:42] == 200).all()
    assert (sheet[10:12] == 255).all() and (sheet[:, 20:22] == 255).all()



def test_contact_sheet_pads_a_shorter_row_with_white():
    videos = [np.full((7, 10, 10, 3), 10, np.uint8), np.full((4, 10, 10, 3), 200, np.uint8)]
    sheet = synthetic_examples.contact_sheet(videos, step=3, thumb=10, gap=2)
    # Row 0: frames 0, 3, 6; row 1: frames 0, 3, then white where a third frame would be.
    assert sheet.shape == (10 + 2 + 10, 3 * 10 + 2 * 2, 3)
    assert (sheet[12:, 0:10] == 200).all() and (sheet[12:, 12:22] == 200).all()
    assert (sheet[12:, 22:] == 255).all()
    assert (sheet[:10, 24:34] == 10).all()


def test_timing_warms_up_on_the_first_seed_then_times_each(monkeypatch):
    made = []
    monkeypatch.setattr(synthetic_examples, "generate_synthetic_video",
                        lambda seed, n_frames, height, width: made.append((seed, n_frames, height, width)))
    seconds = synthetic_examples.time_generation(range(5, 8), 3, 16)
    assert made == [(5, 3, 16, 16), (5, 3, 16, 16), (6, 3, 16, 16), (7, 3, 16, 16)]
    assert len(seconds) == 3 and all(s >= 0 for s in seconds)


def test_writes_the_sheet_and_logs_the_time(tmp_path, caplog):
    out = tmp_path / "sheet.png"
    with caplog.at_level(logging.INFO):
        assert synthetic_examples.main(["--out", str(out), "--seeds", "0", "1", "--n-frames", "5", "--size", "32",
                               "--step", "2", "--thumb", "16", "--timing", "2"]) == 0
    sheet = cv2.imread(str(out))
    assert sheet.shape == (2 * 16 + 4, 3 * 16 + 2 * 4, 3)
    assert "5-frame 32x32 video: median" in caplog.text


def test_replaces_its_own_sheet_but_not_another_image(tmp_path, caplog):
    argv = ["--seeds", "0", "--n-frames", "2", "--size", "16", "--step", "1", "--thumb", "8"]
    out = tmp_path / "sheet.png"
    assert synthetic_examples.main(["--out", str(out), *argv]) == 0
    assert synthetic_examples.main(["--out", str(out), *argv]) == 0
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), np.zeros((4, 4, 3), np.uint8))
    before = photo.read_bytes()
    assert synthetic_examples.main(["--out", str(photo), *argv]) == 2
    assert "already exists" in caplog.text and photo.read_bytes() == before
    assert synthetic_examples.main(["--out", str(photo), *argv, "--force"]) == 0 and photo.read_bytes() != before


@pytest.mark.parametrize("args, message", [
    ([], "nothing to do: give --out for a contact sheet and/or --timing N"),
    (["--timing", "-1"], "--timing must be >= 0"),
    (["--timing", "1", "--n-frames", "0"], "need --n-frames, --size, --step and --thumb >= 1"),
    (["--timing", "1", "--thumb", "0"], "need --n-frames, --size, --step and --thumb >= 1"),
    (["--timing", "1", "--thumb", "100000"], "--thumb must be at most 2048 px, got 100000"),
    (["--out", "sheet.jpg"], "--out sheet.jpg: the contact sheet is a .png"),
])
def test_a_run_that_would_do_nothing_or_mislabel_its_file_is_refused(args, message, tmp_path, caplog, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert synthetic_examples.main(args) == 2 and message in caplog.text
    assert list(tmp_path.iterdir()) == []


def test_the_widest_thumbnail_an_upper_case_png_and_the_number_of_videos_timed(tmp_path, caplog):
    out = tmp_path / "sheet.PNG"
    with caplog.at_level(logging.INFO):
        assert synthetic_examples.main(["--out", str(out), "--seeds", "0", "--n-frames", "1", "--size", "8",
                                        "--thumb", "2048", "--timing", "2"]) == 0
    assert out.is_file() and "over 2 seeds" in caplog.text
    assert synthetic_examples.main(["--out", str(out), "--thumb", "0"]) == 2
    assert "need --n-frames, --size, --step and --thumb >= 1" in caplog.text

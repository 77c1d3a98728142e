import logging

import cv2
import numpy as np
import pytest

from vidpred.data.video_io import read_video
from vidpred.data.video_writer import write_video


def test_avi_round_trip_within_jpeg_tolerance(tmp_path, moving_frames):
    frames = moving_frames(10, 32, 48, seed=0)
    write_video(tmp_path / "clip.avi", frames)
    decoded = read_video(tmp_path / "clip.avi")
    assert decoded.shape == frames.shape and decoded.dtype == np.uint8
    # Motion-JPEG is lossy (and halves chroma resolution): a few levels off, worst at edges.
    err = decoded.astype(float) - frames
    assert np.abs(err).mean() < 3.0
    assert 10 * np.log10(255.0**2 / (err**2).mean()) > 30  # PSNR in dB


@pytest.mark.parametrize("fps", [12.5, 23.976, 25])
def test_an_avi_keeps_a_rate_that_is_not_a_whole_number(tmp_path, moving_frames, fps):
    frames = moving_frames(4, 32, 48, seed=0)
    write_video(tmp_path / "clip.avi", frames, fps=fps)
    capture = cv2.VideoCapture(str(tmp_path / "clip.avi"))
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(fps, abs=1e-3)
    assert np.abs(read_video(tmp_path / "clip.avi").astype(float) - frames).mean() < 6.0


def test_an_avi_of_odd_sized_frames_says_its_rate_is_a_whole_number(tmp_path, moving_frames, caplog):
    with caplog.at_level(logging.WARNING):
        write_video(tmp_path / "clip.avi", moving_frames(4, 31, 48, seed=0), fps=12.5)
    assert cv2.VideoCapture(str(tmp_path / "clip.avi")).get(cv2.CAP_PROP_FPS) == 12
    assert "clip.avi: an .avi of odd-sized frames (31x48) stores a whole number of frames a second" in caplog.text


def test_mp4_round_trip(tmp_path, moving_frames):
    frames = moving_frames(8, 32, 48, seed=1)
    write_video(tmp_path / "clip.mp4", frames)
    decoded = read_video(tmp_path / "clip.mp4")
    assert decoded.shape == frames.shape
    assert np.abs(decoded.astype(int) - frames).mean() < 4.0


def test_write_video_rejects_bad_input(tmp_path):
    frames = np.zeros((2, 15, 16, 3), np.uint8)
    with pytest.raises(ValueError, match="even"):
        write_video(tmp_path / "odd.mp4", frames)
    with pytest.raises(ValueError, match="suffix"):
        write_video(tmp_path / "clip.gif", frames)
    with pytest.raises(ValueError, match="uint8"):
        write_video(tmp_path / "clip.avi", frames.astype(np.float32))
    write_video(tmp_path / "odd.avi", frames)  # MJPG handles odd sizes
    assert read_video(tmp_path / "odd.avi").shape == (2, 15, 16, 3)


def test_an_avi_of_odd_sized_frames_below_one_frame_a_second_is_refused(tmp_path, moving_frames):
    # OpenCV's own writer refuses the rate, FFmpeg's would crop the frames to even sizes
    with pytest.raises(ValueError, match=r"an .avi of odd-sized frames \(31x48, HxW\) needs at least 1 frame a second"):
        write_video(tmp_path / "slow.avi", moving_frames(2, 31, 48), fps=0.5)
    write_video(tmp_path / "slow.avi", moving_frames(2, 32, 48), fps=0.5)
    assert cv2.VideoCapture(str(tmp_path / "slow.avi")).get(cv2.CAP_PROP_FPS) == pytest.approx(0.5)

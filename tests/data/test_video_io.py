from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from vidpred.data.folder import list_folder_videos
from vidpred.data.video_io import (VideoReadError, announced_frames, announced_shape, iter_video, read_image,
                                   read_video, write_image)
from vidpred.data.video_writer import write_video


def _save_png(path, frame):
    cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))


def test_reads_rgb_not_bgr(tmp_path, make_video):
    red = np.zeros((3, 16, 16, 3), np.uint8)
    red[..., 0] = 220
    decoded = read_video(make_video(tmp_path / "red.avi", red))
    assert decoded[..., 0].mean() > 200 and decoded[..., 2].mean() < 20


def test_written_by_fixture_reads_back(tmp_path, make_video, moving_frames):
    frames = moving_frames(6, 24, 32)
    decoded = read_video(make_video(tmp_path / "x.avi", frames))
    assert decoded.shape == (6, 24, 32, 3)
    assert np.abs(decoded.astype(int) - frames).mean() < 3.0


def test_max_frames_and_resize(tmp_path, moving_frames):
    frames = moving_frames(10, 32, 48)
    write_video(tmp_path / "clip.avi", frames)
    decoded = read_video(tmp_path / "clip.avi", max_frames=4, frame_size=(16, 24))
    assert decoded.shape == (4, 16, 24, 3)
    expected = np.stack([cv2.resize(f, (24, 16), interpolation=cv2.INTER_AREA) for f in frames[:4]])
    assert np.abs(decoded.astype(int) - expected).mean() < 3.0


def test_the_smallest_sizes_are_one_pixel(tmp_path, moving_frames):
    write_video(tmp_path / "clip.avi", moving_frames(3, 32, 48))
    # Height 1 at 48x32's aspect ratio: width 1.5, rounded to an even number but at least 2.
    assert read_video(tmp_path / "clip.avi", frame_height=1).shape == (3, 1, 2, 3)
    assert read_video(tmp_path / "clip.avi", frame_size=(1, 1)).shape == (3, 1, 1, 3)
    for size in ((0, 16), (16, 0)):
        with pytest.raises(ValueError, match="frame_size must be \\(H, W\\) with positive sizes"):
            read_video(tmp_path / "clip.avi", frame_size=size)
    with pytest.raises(ValueError, match="frame_height must be >= 1"):
        read_video(tmp_path / "clip.avi", frame_height=0)


def test_a_resize_that_stretches_a_video_out_of_its_aspect_ratio_is_said(tmp_path, moving_frames, caplog):
    portrait = tmp_path / "portrait.avi"
    write_video(portrait, moving_frames(4, 64, 36))  # 36x64 (WxH), a phone held upright
    with caplog.at_level("WARNING", logger="vidpred.data.video_io"):
        read_video(portrait, frame_size=(32, 40))  # landscape 40x32: 2.22 times wider
        read_video(portrait, frame_size=(60, 40))  # 40x60: within a quarter of 36x64's shape
        read_video(portrait, frame_height=32)  # its own aspect ratio
    assert [r.getMessage() for r in caplog.records] == [
        f"{portrait} is 36x64; frame_size 40x32 (WxH) stretches it 2.22 times wider: data.frame_height keeps each "
        "video's aspect ratio"]


def test_frame_folder_in_natural_order(tmp_path, moving_frames):
    frames = moving_frames(11, 16, 20)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(frames):
        _save_png(folder / f"frame{i}.png", frame)  # frame10 must come after frame9
    (folder / "notes.txt").write_text("ignored")
    np.testing.assert_array_equal(read_video(folder), frames)  # PNG is lossless
    assert read_video(folder, max_frames=3).shape == (3, 16, 20, 3)
    np.testing.assert_array_equal(read_video(folder, start=9, max_frames=5), frames[9:])
    with pytest.raises(VideoReadError, match="ends after 11 frames, before frame 11"):
        read_video(folder, start=11)


def test_start_skips_frames_without_keeping_them(tmp_path, moving_frames):
    write_video(tmp_path / "clip.avi", moving_frames(10, 32, 48))
    whole = read_video(tmp_path / "clip.avi")
    np.testing.assert_array_equal(read_video(tmp_path / "clip.avi", start=6, max_frames=3), whole[6:9])
    np.testing.assert_array_equal(read_video(tmp_path / "clip.avi", start=9), whole[9:])
    with pytest.raises(VideoReadError, match="ends after 10 frames, before frame 12"):
        read_video(tmp_path / "clip.avi", start=12)


def test_frames_one_at_a_time_are_the_frames_read_at_once(tmp_path, moving_frames, corrupt_video):
    write_video(tmp_path / "clip.avi", moving_frames(10, 32, 48))
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(moving_frames(5, 16, 20)):
        _save_png(folder / f"{i}.png", frame)
    for video in (tmp_path / "clip.avi", folder):
        for start, max_frames in ((0, None), (2, 3)):
            frames = iter_video(video, start=start, max_frames=max_frames)
            np.testing.assert_array_equal(np.stack(list(frames)), read_video(video, start=start, max_frames=max_frames))
    (tmp_path / "empty").mkdir()
    for video, reason in ((tmp_path / "empty", "no frame images"), (corrupt_video.garbage, "cannot open"),
                          (tmp_path / "nope.avi", "no such file"), (folder, "ends after 5 frames, before frame 7")):
        with pytest.raises(VideoReadError, match=reason):
            list(iter_video(video, start=7 if video == folder else 0))


def test_greyscale_pgm_folder_reads_as_three_equal_channels(tmp_path):
    folder = tmp_path / "sequence"
    folder.mkdir()
    grey = np.random.default_rng(0).integers(0, 256, size=(3, 12, 15), dtype=np.uint8)
    for i, frame in enumerate(grey, start=1):
        assert cv2.imwrite(str(folder / f"image.{i:04d}.pgm"), frame)
    assert list_folder_videos(tmp_path) == [folder]
    video = read_video(folder)
    assert video.shape == (3, 12, 15, 3)
    for channel in range(3):
        np.testing.assert_array_equal(video[..., channel], grey)


def test_frame_folder_with_inconsistent_sizes(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    _save_png(folder / "0.png", np.zeros((16, 16, 3), np.uint8))
    _save_png(folder / "1.png", np.zeros((16, 20, 3), np.uint8))
    with pytest.raises(VideoReadError, match="inconsistent frame sizes") as info:
        read_video(folder)
    assert str(folder) in str(info.value)


def test_empty_frame_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("not a frame")
    with pytest.raises(VideoReadError, match=r"no frame images \(\.png .* \.webp\) in the folder"):
        read_video(tmp_path)


def test_tiff_and_webp_frames_are_read_in_name_order_beside_png(tmp_path, moving_frames):
    frames = moving_frames(4, 16, 20)
    for i, (frame, suffix) in enumerate(zip(frames, (".tif", ".png", ".TIFF", ".webp"))):
        params = [cv2.IMWRITE_WEBP_QUALITY, 101] if suffix == ".webp" else []  # above 100: lossless
        assert cv2.imwrite(str(tmp_path / f"f{i}{suffix}"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), params)
    np.testing.assert_array_equal(read_video(tmp_path), frames)


def test_sixteen_bit_frames_read_as_their_top_8_bits_and_12_bit_data_in_them_is_said(tmp_path, caplog):
    rng = np.random.default_rng(0)
    full, twelve = tmp_path / "full", tmp_path / "twelve"
    for folder, top in ((full, 65536), (twelve, 4096)):
        folder.mkdir()
        for i in range(3):
            assert cv2.imwrite(str(folder / f"{i}.png"), rng.integers(0, top, size=(6, 7, 3), dtype=np.uint16))
    with caplog.at_level(logging.WARNING, logger="vidpred"):
        video = read_video(full)
    expected = [cv2.imread(str(full / f"{i}.png"), cv2.IMREAD_UNCHANGED)[..., ::-1] >> 8 for i in range(3)]
    np.testing.assert_array_equal(video, np.stack(expected))
    assert "16-bit" not in caplog.text
    with caplog.at_level(logging.WARNING, logger="vidpred"):
        assert read_video(twelve).max() <= 15
    largest = int(cv2.imread(str(twelve / "0.png"), cv2.IMREAD_UNCHANGED).max())
    assert f"{twelve}: frame image 0.png is 16-bit, with values up to {largest} only" in caplog.text
    assert "it is nearly black; scale the frames to the full 16-bit range" in caplog.text
    caplog.clear()
    assert cv2.imwrite(str(full / "0.png"), np.zeros((6, 7, 3), np.uint16))  # a fade from black
    with caplog.at_level(logging.WARNING, logger="vidpred"):
        read_video(full)
    assert "16-bit" not in caplog.text


def test_floating_point_frames_are_refused_naming_their_sample_type(tmp_path):
    assert cv2.imwrite(str(tmp_path / "0.tiff"), np.full((6, 7, 3), 0.5, np.float32))
    with pytest.raises(VideoReadError, match=r"frame image 0.tiff holds float32 samples, which are not read: give 8- "
                                             r"or 16-bit frames"):
        read_video(tmp_path)
    (tmp_path / "0.tiff").write_bytes(b"not an image")
    with pytest.raises(VideoReadError, match="OpenCV cannot decode frame image 0.tiff"):
        read_video(tmp_path)


def test_an_empty_path_and_counts_that_are_not_whole_numbers_are_refused(tmp_path, moving_frames, monkeypatch):
    write_video(tmp_path / "clip.avi", moving_frames(4, 16, 20))
    _save_png(tmp_path / "0.png", moving_frames(1, 16, 20)[0])  # "" would read the current folder, which has a frame
    monkeypatch.chdir(tmp_path)
    for read in (read_video, lambda *a, **k: list(iter_video(*a, **k))):
        with pytest.raises(ValueError, match="the video's path is empty"):
            read("")
        for video in (tmp_path / "clip.avi", tmp_path):  # a file and a frame folder alike
            for bad in ({"max_frames": 2.5}, {"max_frames": 2.0}, {"max_frames": True}, {"start": 1.5}):
                with pytest.raises(ValueError, match="must be a whole number"):
                    read(video, **bad)
        assert len(read(tmp_path / "clip.avi", max_frames=np.int64(2))) == 2


def test_a_folder_of_videos_is_not_a_video(tmp_path, moving_frames):
    for name in ("b.avi", "a.avi"):
        write_video(tmp_path / name, moving_frames(3, 16, 16))
    with pytest.raises(VideoReadError, match=r"a folder of videos \(a.avi, b.avi\), not of frame images: give one"):
        read_video(tmp_path)


def test_missing_file_raises_with_path(tmp_path):
    missing = tmp_path / "nope.avi"
    with pytest.raises(VideoReadError) as info:
        read_video(missing)
    assert str(missing) in str(info.value) and "no such file" in str(info.value)



def test_a_video_file_whose_name_is_not_utf8_is_refused_naming_it(tmp_path, make_video, moving_frames):
    video = make_video(tmp_path / "plain.avi", moving_frames(6, 16, 16))
    latin1 = tmp_path / os.fsdecode(b"caf\xe9 clip.avi")  # a name from an old Windows archive, unzipped
    try:
        video.rename(latin1)
    except OSError:
        pytest.skip("this file system takes only UTF-8 names")
    for read in (read_video, lambda path: next(iter_video(path))):
        with pytest.raises(VideoReadError, match="caf.* clip.avi: its name is not valid UTF-8, which OpenCV cannot "
                                                 "open: rename it"):
            read(latin1)  # OpenCV's binding itself ends the process on such a name
    assert announced_frames(latin1) is None

def test_corrupt_file_raises_with_path(corrupt_video):
    with pytest.raises(VideoReadError) as info:
        read_video(corrupt_video.garbage)
    assert str(corrupt_video.garbage) in str(info.value)
    assert info.value.path == corrupt_video.garbage


def test_mpeg_program_streams_are_found_and_other_files_are_listed_as_skipped(tmp_path, caplog):
    import logging

    import cv2

    from vidpred.data.video_io import read_video

    writer = cv2.VideoWriter(str(tmp_path / "long.mpg"), cv2.VideoWriter_fourcc(*"PIM1"), 25, (64, 48))
    assert writer.isOpened()
    for i in range(30):
        writer.write(np.full((48, 64, 3), 8 * i, np.uint8))
    writer.release()
    (tmp_path / "notes.txt").write_text("not a video")
    with caplog.at_level(logging.INFO, logger="vidpred.data.folder"):
        assert list_folder_videos(tmp_path) == [tmp_path / "long.mpg"]
    assert any("notes.txt" in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records)
    assert read_video(tmp_path / "long.mpg").shape == (30, 48, 64, 3)


def test_images_read_and_write_as_opencv_does_under_any_name(tmp_path):
    rng = np.random.default_rng(0)
    colour = rng.integers(0, 256, size=(9, 14, 3), dtype=np.uint8)
    grey16 = rng.integers(0, 65536, size=(9, 14), dtype=np.uint16)
    folder = tmp_path / "Vidéos 写真"
    folder.mkdir()
    assert write_image(folder / "a.png", colour) and write_image(folder / "b.png", grey16)
    np.testing.assert_array_equal(read_image(folder / "a.png"), colour)
    np.testing.assert_array_equal(read_image(folder / "b.png", cv2.IMREAD_UNCHANGED), grey16)
    # the same bytes as OpenCV's own writer, and the same decoding as its own reader
    assert cv2.imwrite(str(tmp_path / "ref.png"), colour)
    assert (folder / "a.png").read_bytes() == (tmp_path / "ref.png").read_bytes()
    np.testing.assert_array_equal(read_image(folder / "b.png"), cv2.imread(str(folder / "b.png"), cv2.IMREAD_COLOR))
    assert read_video(folder).shape == (2, 9, 14, 3)  # a frame folder under such a name
    (folder / "empty.png").write_bytes(b"")
    (folder / "text.png").write_text("not an image")
    assert read_image(folder / "empty.png") is None and read_image(folder / "text.png") is None
    assert read_image(folder / "missing.png") is None
    assert not write_image(tmp_path / "no_folder" / "c.png", colour)


def test_a_file_cut_short_is_read_as_far_as_it_goes_with_a_warning(tmp_path, moving_frames, caplog):
    whole = tmp_path / "whole.avi"
    write_video(whole, moving_frames(20, 32, 48), fps=10)
    cut = tmp_path / "cut.avi"
    cut.write_bytes(whole.read_bytes()[:whole.stat().st_size // 2])  # as an interrupted download leaves it
    with caplog.at_level("WARNING", logger="vidpred.data.video_io"):
        assert len(read_video(whole)) == 20
        assert not caplog.records
        n = len(read_video(cut))
        assert 1 <= n < 20
        assert [r.getMessage() for r in caplog.records] == [
            f"{cut}: decoding stopped after {n} frames, but its header announces 20: a damaged or cut-short file? "
            f"Using the {n} decoded"]
        caplog.clear()
        assert len(read_video(cut, max_frames=n)) == n  # what was asked for is there
        assert not caplog.records


def test_an_mp4_decoding_fewer_frames_than_its_header_counts_may_be_a_trimmed_one(tmp_path, moving_frames, caplog,
                                                                                    monkeypatch):
    # A cut made without re-encoding hides frames behind an edit list that the header still counts
    import vidpred.data.video_io as video_io

    path = tmp_path / "trimmed.mp4"
    write_video(path, moving_frames(6, 32, 48), fps=10)
    real_open = video_io.open_capture

    class Counting:
        def __init__(self, capture):
            self._capture = capture

        def get(self, prop):
            return 9.0 if prop == cv2.CAP_PROP_FRAME_COUNT else self._capture.get(prop)

        def __getattr__(self, name):
            return getattr(self._capture, name)

    monkeypatch.setattr(video_io, "open_capture", lambda *args, **kwargs: Counting(real_open(*args, **kwargs)))
    with caplog.at_level("WARNING", logger="vidpred.data.video_io"):
        assert len(read_video(path)) == 6
    assert "header announces 9: a damaged or cut-short file, or one trimmed without re-encoding" in caplog.text


def test_a_raw_dv_stream_s_estimated_frame_count_is_not_trusted(tmp_path):
    # OpenCV reads a raw .dv stream at 60,000 frames a second and counts its duration at that rate
    path = tmp_path / "tape.dv"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"dvsd"), 25, (720, 576))
    for level in (0, 120, 240):
        writer.write(np.full((576, 720, 3), level, np.uint8))
    writer.release()
    assert cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_FRAME_COUNT) > 1000
    assert announced_frames(path) is None and announced_shape(path) is None
    assert len(read_video(path)) == 3


def test_the_frames_a_video_announces_before_it_is_decoded(tmp_path, make_video, moving_frames, corrupt_video):
    assert announced_frames(make_video(tmp_path / "v.avi", moving_frames(7, 16, 20))) == 7
    folder = tmp_path / "frames"
    folder.mkdir()
    for t, frame in enumerate(moving_frames(5, 16, 20)):
        assert write_image(folder / f"f{t}.png", frame)
    (folder / "notes.txt").write_text("not a frame")
    assert announced_frames(folder) == 5
    assert announced_frames(tmp_path / "missing.avi") is None
    assert announced_frames(corrupt_video.garbage) is None


def test_a_malformed_image_reads_as_none_without_opencv_s_own_log_lines(tmp_path, capfd):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)  # a PNG signature, then no valid chunk
    assert read_image(bad) is None
    assert capfd.readouterr().err == ""
    assert cv2.utils.logging.getLogLevel() != cv2.utils.logging.LOG_LEVEL_SILENT  # restored after


def test_threads_reading_images_at_once_leave_opencv_s_log_level_as_it_was(tmp_path):
    # Two reads overlapping as threads' can: the second starts while the first decodes and
    # ends after it. Each saving and restoring the level on its own, the second saved the
    # first's silence and restored it last: the process stayed silenced.
    before = cv2.utils.logging.getLogLevel()
    assert before != cv2.utils.logging.LOG_LEVEL_SILENT
    assert write_image(tmp_path / "a.png", np.zeros((4, 4, 3), np.uint8))
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    decode = cv2.imdecode

    def overlapping_decode(*args):
        if threading.current_thread().name == "first":
            first_in.set()
            assert second_in.wait(5)
        else:
            second_in.set()
            assert first_out.wait(5)
        return decode(*args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cv2, "imdecode", overlapping_decode)
        first = threading.Thread(target=read_image, args=(tmp_path / "a.png",), name="first")
        second = threading.Thread(target=read_image, args=(tmp_path / "a.png",), name="second")
        first.start()
        assert first_in.wait(5)
        second.start()
        first.join(5)
        try:
            assert cv2.utils.logging.getLogLevel() == cv2.utils.logging.LOG_LEVEL_SILENT  # the second still decodes
        finally:
            first_out.set()
            second.join(5)
    assert cv2.utils.logging.getLogLevel() == before




def test_ffmpeg_s_own_log_is_set_to_fatal_errors_unless_the_user_set_it(tmp_path, monkeypatch, make_video,
                                                                        moving_frames):
    # (FFmpeg prints lines such as "[h264 @ 0x...] A non-intra slice in an IDR NAL unit" on the
    # corpus's box.mp4 while it decodes every frame; OpenCV reads the level when it first opens a file.)
    import os

    video = make_video(tmp_path / "v.avi", moving_frames(3, 16, 16))
    monkeypatch.delenv("OPENCV_FFMPEG_LOGLEVEL", raising=False)
    assert len(read_video(video)) == 3
    assert os.environ["OPENCV_FFMPEG_LOGLEVEL"] == "8"  # AV_LOG_FATAL
    monkeypatch.setenv("OPENCV_FFMPEG_LOGLEVEL", "32")
    assert announced_frames(video) == 3
    assert os.environ["OPENCV_FFMPEG_LOGLEVEL"] == "32"  # the user's own is kept


def test_a_decoded_video_is_held_once_each_frame_let_go_as_it_is_copied(tmp_path, monkeypatch):
    # a 300-frame 1080p phone clip (1.87 GB decoded) had peaked at 4.2 GB: the decoded frames and the stacked video
    import weakref

    from vidpred.data import video_io

    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(6):
        write_image(folder / f"f{i}.png", np.full((8, 10, 3), 40 * i, np.uint8))
    alive_before = []
    decoded = []
    convert = cv2.cvtColor

    def watched(frame, *args, **kwargs):  # called once per frame, as it is copied into the video
        alive_before.append(sum(ref() is not None for ref in decoded[:len(alive_before)]))
        return convert(frame, *args, **kwargs)

    read_folder = video_io._folder_frames

    def frames(path, max_frames, start):
        for frame in list(read_folder(path, max_frames, start)):
            decoded.append(weakref.ref(frame))
            yield frame

    monkeypatch.setattr(video_io, "_folder_frames", frames)
    monkeypatch.setattr(video_io.cv2, "cvtColor", watched)
    video = read_video(folder)
    assert alive_before == [0] * 6  # every frame copied before is gone
    assert [int(v) for v in video[:, 0, 0, 0]] == [0, 40, 80, 120, 160, 200]


def test_a_frame_folder_whose_numbers_jump_is_read_with_a_warning_naming_the_jump(tmp_path, caplog):
    # frames 6 and 7 missing from an export: read as consecutive, a 3-frame jump scored as one step
    gap, tens = tmp_path / "gap", tmp_path / "tens"
    gap.mkdir()
    tens.mkdir()
    for i in (1, 2, 3, 4, 5, 8, 9, 10, 11, 13):
        write_image(gap / f"frame_{i:04d}.png", np.full((4, 4, 3), i, np.uint8))
    for i in (0, 10, 20, 30):  # numbered by tens throughout: nothing missing
        write_image(tens / f"f{i}.png", np.full((4, 4, 3), i, np.uint8))
    with caplog.at_level(logging.WARNING, logger="vidpred.data.video_io"):
        assert len(read_video(gap)) == 10
    assert (f"{gap}: the frame numbers jump from frame_0005.png to frame_0008.png, where frames are missing (1 more "
            "jump after it); they are read as consecutive frames") in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vidpred.data.video_io"):
        assert len(read_video(tens)) == 4
        assert len(read_video(gap, max_frames=5)) == 5  # the frames read hold no jump
    assert "jump" not in caplog.text


def test_an_empty_video_file_is_named_as_empty(tmp_path):
    empty = tmp_path / "clip.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoReadError, match=r"the file is empty \(0 bytes\): an interrupted copy or download\?"):
        read_video(empty)


def test_a_folder_of_phone_photos_turned_by_their_orientation_tag_announces_the_turned_shape(tmp_path, moving_frames):
    from PIL import Image

    folder = tmp_path / "portrait"
    folder.mkdir()
    for i, frame in enumerate(moving_frames(3, 64, 96)):  # stored landscape, shown portrait
        exif = Image.Exif()
        exif[0x0112] = 6  # turn a quarter clockwise to show
        Image.fromarray(frame).save(folder / f"{i}.jpg", exif=exif)
    assert read_video(folder).shape == (3, 96, 64, 3)  # OpenCV applies the tag
    assert announced_shape(folder) == (3, 96, 64)


def test_a_ten_bit_video_is_said_once_to_come_out_in_wrong_colours_if_hdr(tmp_path, make_video, moving_frames, caplog,
                                                                           monkeypatch):
    # tests/fixtures/ten_bit_hlg.mp4: 5 frames of 64x48 H.264, yuv420p10le, tagged BT.2020 / HLG (made with PyAV)
    from vidpred.data import video_io

    monkeypatch.setattr(video_io, "_HIGH_BIT_DEPTH_SAID", set())
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "ten_bit_hlg.mp4"
    eight_bit = make_video(tmp_path / "clip.mp4", moving_frames(4, 48, 64))
    with caplog.at_level(logging.WARNING, logger="vidpred.data.video_io"):
        assert read_video(fixture).shape == (5, 48, 64, 3)
        assert list(iter_video(fixture, max_frames=2))[0].shape == (48, 64, 3)
        read_video(eight_bit)
        for unknown in (-1.0, 0.0):  # what backends that do not know the pixel format give: no warning, no error
            video_io._warn_if_high_bit_depth(type("Capture", (), {"get": lambda self, prop: unknown})(), tmp_path)
    said = [r.getMessage() for r in caplog.records if "-bit video" in r.getMessage()]
    assert said == [f"{fixture} is 10-bit video, read as 8 bits: if it is HDR (HLG or PQ, as phones record 10-bit "
                    "video), its colours come out wrong; convert it to 8-bit SDR first, tone-mapped (FFmpeg's "
                    "tonemap filter, or the phone's own export)"]

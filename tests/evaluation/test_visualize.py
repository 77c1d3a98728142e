"""Side-by-side comparison frames and animations."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from PIL import Image

from vidpred.data import read_video
from vidpred.evaluation.visualize import FPS_RANGE, side_by_side, write_animation
from vidpred.safe_write import replacing_all


def _clips():
    context = torch.full((3, 4, 16, 20), -1.0)
    context[:, 1:, 0, 0] = torch.tensor([-0.5, 0.0, 0.5])  # distinct frames (a GIF merges identical ones)
    prediction = torch.full((3, 2, 16, 20), 0.0)
    target = torch.full((3, 2, 16, 20), 0.0)
    target[:, 1] = 1.0  # the 2nd predicted frame is off by 1 (half the range)
    return context, prediction, target


def test_layout_panels_and_error():
    frames = side_by_side(*_clips(), scale=2)
    assert frames.shape == (6, 3 + 32, 4 * 40 + 3 * 4, 3) and frames.dtype == np.uint8  # no header under 64 px
    body = frames[:, 3:]

    def panel(t: int, i: int) -> np.ndarray:
        return body[t, :, i * 44:i * 44 + 40]

    assert (panel(0, 1) == 0).all()  # during the context the prediction panel shows the context (black)
    assert (panel(4, 0) == panel(3, 0)).all()  # the context panel holds the last context frame
    assert (panel(4, 1) == 128).all() and (panel(4, 3) == 0).all()  # exact 1st frame: black error
    assert (panel(5, 3) == 255).all()  # 2nd frame off by half the range: white
    assert tuple(frames[0, 0, 44]) == (40, 170, 60) and tuple(frames[4, 0, 44]) == (210, 40, 40)


def test_one_step_predictions_show_the_real_frame_each_one_saw():
    context, prediction, target = _clips()
    seen = torch.stack([torch.full((3, 16, 20), -0.5), torch.full((3, 16, 20), 0.5)], dim=1)  # (3, 2, 16, 20)
    frames = side_by_side(context, prediction, target, seen=seen)
    body = frames[:, 3:]
    assert (body[4, :, :20] == 64).all() and (body[5, :, :20] == 191).all()  # -0.5 and 0.5 on [-1, 1]
    with pytest.raises(ValueError, match="seen must be shaped as the prediction"):
        side_by_side(context, prediction, target, seen=seen[:, :1])


def test_labels_on_wide_panels_and_files(tmp_path):
    frames = side_by_side(*_clips(), scale=4)
    assert frames.shape[1] == 14 + 3 + 64
    gif = write_animation(tmp_path / "a.gif", frames, fps=5)
    assert Image.open(gif).n_frames == 6
    avi = write_animation(tmp_path / "a.avi", frames)
    assert read_video(avi).shape == frames.shape


@pytest.mark.parametrize("fps, hundredths, said", [(5, 20, False), (4, 25, False), (30, 3, True), (60, 2, True),
                                                   (100, 1, False), (0.01, 10000, False)])
def test_a_gif_keeps_the_nearest_rate_it_can_store_and_says_when_it_is_not_the_one_asked(tmp_path, caplog, fps,
                                                                                         hundredths, said):
    frames = np.zeros((3, 8, 8, 3), np.uint8)
    frames[1] = 255
    with caplog.at_level(logging.WARNING):
        gif = Image.open(write_animation(tmp_path / "a.gif", frames, fps=fps))
    assert gif.info["duration"] == 10 * hundredths  # Pillow reads back what the file holds
    assert ("a GIF stores each frame's time in hundredths of a second" in caplog.text) is said


def test_the_rate_warning_names_the_file_a_temporary_becomes(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        write_animation(tmp_path / ".a.gif.tmp.gif", np.zeros((2, 8, 8, 3), np.uint8), fps=7, shown_as="mine.gif")
    assert "mine.gif: a GIF stores" in caplog.text and ".tmp" not in caplog.text


def test_an_avi_animation_of_odd_size_keeps_a_rate_that_is_not_a_whole_number(tmp_path):
    import cv2

    frames = np.zeros((3, 15, 21, 3), np.uint8)
    path = write_animation(tmp_path / "a.avi", frames, fps=12.5)
    capture = cv2.VideoCapture(str(path))
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(12.5)
    assert (capture.get(cv2.CAP_PROP_FRAME_HEIGHT), capture.get(cv2.CAP_PROP_FRAME_WIDTH)) == (16, 22)  # padded


def test_frames_too_large_for_the_format_are_an_error_naming_the_output(tmp_path):
    frames = np.zeros((2, 32, 70_000, 3), np.uint8)
    with pytest.raises(ValueError, match="a GIF is at most 65535 px on a side, these frames are 32x70000 "
                                         r"\(HxW\); use a smaller scale$"):
        write_animation(tmp_path / "wide.gif", frames)
    with pytest.raises(ValueError, match=r"an .avi \(Motion JPEG\) is at most 65535 px on a side"):
        write_animation(tmp_path / "wide.avi", frames)  # OpenCV would write a file it cannot read back
    with pytest.raises(ValueError, match=r"an .mp4 \(MPEG-4\) is at most 8190 px on a side"):
        write_animation(tmp_path / "wide.mp4", frames)
    assert not list(tmp_path.iterdir())
    # the format's own limit, as OpenCV's writer meets it: 8,190 px are written, 8,192 refused
    assert read_video(write_animation(tmp_path / "edge.mp4", np.zeros((2, 16, 8190, 3), np.uint8))).shape == (
        2, 16, 8190, 3)


def test_a_writer_that_refuses_is_an_error_naming_the_output(tmp_path, monkeypatch):
    import vidpred.evaluation.visualize as visualize

    def refuse(path, size, fps):
        raise OSError(f"OpenCV cannot open a mp4v video writer for {path}")

    monkeypatch.setattr(visualize, "VideoWriter", refuse)
    with pytest.raises(OSError, match=f"^cannot write {tmp_path / 'a.mp4'}: OpenCV's mp4 writer refused 16x32"):
        with replacing_all([tmp_path / "a.mp4"]) as paths:  # written beside its target first, as predict.py does
            write_animation(paths[0], np.zeros((2, 16, 32, 3), np.uint8))
    assert not list(tmp_path.iterdir())
    assert list(tmp_path.iterdir()) == []


def test_a_fraction_shrinks_every_panel_by_area_and_a_bad_scale_is_refused():
    context, prediction, target = _clips()
    context[:, -1] = torch.tensor([-1.0, 1.0]).repeat(10).expand(3, 16, 20)  # stripes one pixel wide
    frames = side_by_side(context, prediction, target, scale=0.5)
    assert frames.shape == (6, 3 + 8, 4 * 10 + 3 * 4, 3)
    assert (frames[3, 3:, :10] == 128).all()  # the stripes averaged to mid-grey, not aliased
    for bad in (0, -1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="scale must be a whole number >= 1 or a fraction in"):
            side_by_side(*_clips(), scale=bad)


def test_an_animation_holds_the_frames_it_was_made_for_and_colours_all_motion_on_one_scale():
    from vidpred.evaluation.visualize import Animation
    from vidpred.models.warp import flow_to_color

    context, prediction, target = _clips()
    animation = Animation(context, 3, scale=0.5, with_flow=True)
    for k, speed in enumerate((2.0, 4.0)):  # uniform motion to the right (sampled from the left), the 2nd twice as fast
        animation.add(prediction[:, k], target[:, k], flow=torch.tensor([-speed, 0.0])[:, None, None].expand(2, 16, 20))
    frames = animation.frames()
    assert frames.shape == (4 + 2, 3 + 8, 5 * 10 + 4 * 4, 3)  # the frames added, not the 3 it was made for
    for k, speed in enumerate((2.0, 4.0)):  # one speed scale: the fastest motion saturated, the other half
        colour = (flow_to_color(torch.tensor([speed, 0.0]).view(1, 2, 1, 1), 4.0)[0, :, 0, 0] * 255).round()
        assert (frames[4 + k, 3:, 4 * 14:] == colour.to(torch.uint8).numpy()).all()
    assert (frames[:4, 3:, 4 * 14:] == 255).all()  # still white during the context
    assert frames[4, 3:, 4 * 14:][0, 0].tolist() == [255, 128, 128]  # to the right: the wheel's red (hue 0), half speed
    animation.add(prediction[:, 0], target[:, 0], flow=torch.zeros(2, 16, 20))
    with pytest.raises(ValueError, match="made for 3 predicted frames"):
        animation.add(prediction[:, 0], target[:, 0], flow=torch.zeros(2, 16, 20))
    with pytest.raises(ValueError, match="pass flow with every frame"):
        Animation(context, 1).add(prediction[:, 0], target[:, 0], flow=torch.zeros(2, 16, 20))


def test_an_animation_with_a_sink_gives_it_each_frame_kept_ones_hold_and_holds_none():
    from vidpred.evaluation.visualize import Animation

    context, prediction, target = _clips()
    kept = Animation(context, 2, scale=0.5)
    given = []
    streamed = Animation(context, 2, scale=0.5, sink=lambda frame: given.append(frame.copy()))
    assert len(given) == 4  # the context's frames, at once
    for k in range(2):
        kept.add(prediction[:, k], target[:, k])
        streamed.add(prediction[:, k], target[:, k])
    assert (np.stack(given) == kept.frames()).all() and len(given) == 4 + 2
    assert streamed._out.shape[0] == 1  # one frame's room, reused
    with pytest.raises(ValueError, match="made for 2 predicted frames"):
        streamed.add(prediction[:, 0], target[:, 0])
    with pytest.raises(ValueError, match="went to its sink"):
        streamed.frames()
    with pytest.raises(ValueError, match="an animation with_flow keeps its frames, give it no sink"):
        Animation(context, 2, with_flow=True, sink=given.append)


def test_an_animation_spooled_to_disk_holds_the_frames_one_in_memory_holds_and_leaves_no_file(tmp_path):
    from vidpred.evaluation.visualize import Animation

    context, prediction, target = _clips()
    kept, spooled = (Animation(context, 10 ** 6, with_flow=True, spool=spool) for spool in (None, tmp_path))
    for k in range(70):  # past the first room made, so that the file grows (twice)
        for animation in (kept, spooled):
            animation.add(prediction[:, k % 2], target[:, k % 2], flow=torch.full((2, 16, 20), float(k)))
        if k == 40:
            early = spooled.frames()  # a view of the file as it was, kept while it grows
            assert isinstance(early, np.memmap) and (early == kept.frames()).all()
    frames = spooled.frames()
    assert isinstance(frames, np.memmap) and frames.shape == kept.frames().shape and (frames == kept.frames()).all()
    assert (frames[:len(early), :, :4 * (20 + 4)] == early[:, :, :4 * (20 + 4)]).all()
    assert list(tmp_path.iterdir()) == []  # unnamed: nothing to clean up, even after a kill
    with pytest.raises(ValueError, match="holds no frames: give it no spool"):
        Animation(context, 2, sink=lambda frame: None, spool=tmp_path)


def test_an_animation_video_written_frame_by_frame_is_the_one_written_whole(tmp_path):
    from vidpred.evaluation.visualize import animation_video

    context, prediction, target = _clips()
    frames = side_by_side(context, prediction, target)  # 19 x 92: an odd height, padded for .mp4
    for suffix in (".avi", ".mp4"):
        write_animation(tmp_path / f"whole{suffix}", frames, fps=5)
        with animation_video(tmp_path / f"streamed{suffix}", frames.shape[1:3], fps=5) as write:
            for frame in frames:
                write(frame)
        whole, streamed = read_video(tmp_path / f"whole{suffix}"), read_video(tmp_path / f"streamed{suffix}")
        assert whole.shape == streamed.shape == (len(frames), 20 if suffix == ".mp4" else 19, 92, 3)
        assert (whole == streamed).all()


def test_an_animation_made_for_more_frames_than_come_holds_only_those_that_come():
    # predict.py --one-step --frames 100000 on a 16-frame video: 55 GB made ready up front
    # was a MemoryError's traceback; the frames now take the room they need as they come.
    from vidpred.evaluation.visualize import Animation

    context, prediction, target = _clips()
    animation = Animation(context, 10 ** 9, with_flow=True)  # 6.6 TB for 10^9 frames
    for k in range(70):  # past the first room made, so that it grows (twice)
        animation.add(prediction[:, k % 2], target[:, k % 2], flow=torch.full((2, 16, 20), float(k)))
        if k == 40:
            early = animation.frames()  # held while more are added: the arrays then grow by a copy, and it stays
    frames = animation.frames()
    assert len(frames) == 4 + 70
    assert (frames[:len(early), :, :4 * (20 + 4)] == early[:, :, :4 * (20 + 4)]).all()  # the motion is recoloured
    assert (frames[4 + 68][:, :4 * 24] == frames[4][:, :4 * 24]).all()
    assert not (frames[4 + 1] == frames[4]).all()


def test_grey_clips_are_shown_as_their_grey_repeated_in_red_green_and_blue():
    context, prediction, target = _clips()
    for scale in (1, 0.5, 2):
        grey = side_by_side(context[:1], prediction[:1], target[:1], scale=scale)
        np.testing.assert_array_equal(grey, side_by_side(context, prediction, target, scale=scale))


def test_inputs_of_the_wrong_shape_are_refused_naming_what_is_wrong(tmp_path):
    from vidpred.evaluation.visualize import Animation

    context, prediction, target = _clips()
    with pytest.raises(ValueError, match=r"flow must be \(2, 2, H, W\), got \(2, 1, 16, 20\)"):
        side_by_side(context, prediction, target, flow=torch.zeros(2, 1, 16, 20))
    for bad in (torch.zeros(2, 4, 16, 20), torch.zeros(3, 16, 20)):
        with pytest.raises(ValueError, match="expected context \\(C, T, H, W\\) with C = 1 or 3"):
            Animation(bad, 1)
    frames = side_by_side(context, prediction, target)
    for bad in (frames.astype(np.float32), frames[..., :2], frames[:0], frames[0]):
        with pytest.raises(ValueError, match="frames must be uint8 \\(T, H, W, 3\\) with T >= 1"):
            write_animation(tmp_path / "a.gif", bad)
    for fps, suffix in [(0, ".gif"), (-1, ".gif"), (float("inf"), ".gif"), (float("nan"), ".gif"), (0.0099, ".gif"),
                        (0.0099, ".avi"), (101, ".gif"), (1001, ".mp4")]:  # below what .avi and .mp4 take, or a GIF frame can last
        with pytest.raises(ValueError, match="the frame rate must be within 0.01-100 frames a second"):
            write_animation(tmp_path / f"a{suffix}", frames, fps=fps)
    with pytest.raises(ValueError, match="a.png: use .gif, .mp4 or .avi"):
        write_animation(tmp_path / "a.png", frames)
    assert list(tmp_path.iterdir()) == []


def test_the_files_keep_the_frame_rate_loop_and_mark(tmp_path):
    import cv2

    from vidpred.evaluation.visualize import is_our_animation

    frames = side_by_side(*_clips(), scale=4)
    gif = write_animation(tmp_path / "slow.gif", frames, fps=0.5)
    with Image.open(gif) as image:
        assert (image.info["duration"], image.info["loop"]) == (2000, 0)  # 2 s a frame, looping for ever
    assert is_our_animation(gif)
    capture = cv2.VideoCapture(str(write_animation(tmp_path / "a.avi", frames, fps=5)))
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(5)
    capture.release()
    for fps in FPS_RANGE:  # every format takes both ends of the range
        with Image.open(write_animation(tmp_path / "b.gif", frames, fps=fps)) as image:
            assert image.info["duration"] == round(1000 / fps)
        for suffix in (".avi", ".mp4"):
            capture = cv2.VideoCapture(str(write_animation(tmp_path / f"b{suffix}", frames, fps=fps)))
            assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == len(frames)
            capture.release()


def test_the_bar_spans_the_prediction_panel_alone():
    frames = side_by_side(*_clips(), scale=2)  # panels 40 px wide, 4 px apart, no header
    for t, colour in ((0, (40, 170, 60)), (4, (210, 40, 40))):
        bar = frames[t, :3]
        assert (bar[:, 44:84] == colour).all()
        assert (bar[:, :44] == 32).all() and (bar[:, 84:] == 32).all()

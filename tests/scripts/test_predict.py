"""vidpred/commands/predict.py: a checkpoint and a video in, a side-by-side animation out."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as skdata
from skimage.metrics import structural_similarity

from vidpred.build import build_generator
from vidpred.checkpoint import save_checkpoint
from vidpred.commands.predict import main
from vidpred.config import config_from_dict, config_to_dict
from vidpred.data import read_video
from vidpred.evaluation.prediction_scores import SCORES_HEADER


def _main(argv):
    return main([*map(str, argv), "--device", "cpu"])


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    cfg = config_from_dict({"model": {"generator": {"n_scales": 3, "width": 0.0625}}})
    torch.manual_seed(0)
    path = tmp_path / "ckpt.pt"
    save_checkpoint({"step": 1, "config": config_to_dict(cfg), "generator": build_generator(cfg).state_dict()}, path)
    return path


def test_gif_and_video_outputs(checkpoint, make_video, moving_frames, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="vidpred")
    video = make_video(tmp_path / "clip.avi", moving_frames(12, 32, 40))
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "out.gif", "--frames", "5"]) == 0
    assert f"wrote {tmp_path / 'out.gif'}: 4 context + 5 predicted frames of {video}" in caplog.text
    assert "instead of" not in caplog.text  # 12 frames hold the 4 + 5 asked for: no warning
    gif = Image.open(tmp_path / "out.gif")
    assert gif.size == (4 * 40 * 4 + 3 * 4, 14 + 3 + 32 * 4)  # panels upscaled x4 to reach 128 px
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "out.avi", "--frames", "5",
                  "--scale", "1", "--start-frame", "2"]) == 0
    assert read_video(tmp_path / "out.avi").shape == (4 + 5, 3 + 32, 4 * 40 + 3 * 4, 3)


def test_short_video_predicts_what_it_can_and_too_short_is_an_error(checkpoint, make_video, moving_frames, tmp_path,
                                                                    caplog):
    video = make_video(tmp_path / "clip.avi", moving_frames(6, 32, 40))
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "a.avi", "--frames", "8",
                  "--scale", "1"]) == 0
    assert "predicting 2 frames instead of 8" in caplog.text
    assert len(read_video(tmp_path / "a.avi")) == 6
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "b.gif", "--start-frame", "3"]) == 2
    assert "has 6 frames: not enough for 4 context frames from frame 3" in caplog.text
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "b.gif", "--start-frame", "9"]) == 2
    assert "ends after 6 frames, before frame 9" in caplog.text
    assert _main(["--checkpoint", tmp_path / "missing.pt", "--video", video, "--out", tmp_path / "c.gif"]) == 2


def test_without_a_checkpoint_the_shipped_model_predicts_with_its_flow(make_video, moving_frames, tmp_path):
    video = make_video(tmp_path / "clip.avi", moving_frames(10, 32, 40))
    assert _main(["--video", video, "--out", tmp_path / "out.avi", "--frames", "3", "--scale", "1", "--show-flow"]) == 0
    frames = read_video(tmp_path / "out.avi")
    assert frames.shape == (4 + 3, 3 + 32, 5 * 40 + 4 * 4, 3)  # five panels: the flow is the last


def test_show_flow_needs_a_flow_head_and_the_input_is_never_overwritten(checkpoint, make_video, moving_frames,
                                                                        tmp_path, caplog):
    video = make_video(tmp_path / "clip.avi", moving_frames(10, 32, 40))
    before = video.read_bytes()
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "o.gif", "--show-flow"]) == 2
    assert "needs a model that predicts motion" in caplog.text
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", video]) == 2
    assert "is the same file as the input" in caplog.text and video.read_bytes() == before


def test_a_hard_link_to_the_input_is_refused_and_the_input_kept(checkpoint, make_video, moving_frames, tmp_path,
                                                               caplog):
    video = make_video(tmp_path / "clip.avi", moving_frames(10, 32, 40))
    link = tmp_path / "link.avi"
    os.link(video, link)
    before = hashlib.sha256(video.read_bytes()).hexdigest()
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", link, "--force"]) == 2
    assert f"{link} is the same file as the input {video}" in caplog.text
    assert hashlib.sha256(video.read_bytes()).hexdigest() == before


def test_an_existing_file_is_replaced_only_when_this_script_wrote_it(checkpoint, make_video, moving_frames,
                                                                    tmp_path, caplog):
    video = make_video(tmp_path / "clip.avi", moving_frames(10, 32, 40))
    notes = tmp_path / "notes.gif"
    notes.write_text("my notes")
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", notes]) == 2
    assert "already exists" in caplog.text and "--force" in caplog.text and notes.read_text() == "my notes"
    out = tmp_path / "pred.gif"
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", out, "--frames", "2"]) == 0
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", out, "--frames", "3"]) == 0  # ours: replaced
    assert Image.open(out).n_frames == 4 + 3
    other = make_video(tmp_path / "theirs.avi", moving_frames(10, 32, 40, seed=1))
    before = other.read_bytes()
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", other]) == 2 and other.read_bytes() == before
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", other, "--force"]) == 0
    assert other.read_bytes() != before
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", notes, "--force"]) == 0
    assert Image.open(notes).format == "GIF"
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def _pan(tmp_path: Path, lefts) -> tuple[Path, np.ndarray]:
    """A folder of lossless PNG frames (scores on them are exact): 64x80 crops of a photo
    whose left edges are at ``lefts``, a pan. Returns the folder and the frames."""
    photo = skdata.astronaut()
    frames = np.stack([photo[100:164, x:x + 80] for x in lefts])
    video = tmp_path / "pan"
    video.mkdir()
    for t, frame in enumerate(frames):
        Image.fromarray(frame).save(video / f"frame_{t:02d}.png")
    return video, frames


def test_each_predicted_frame_is_scored_beside_copying_and_dis_flow(make_video, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="vidpred")
    video, frames = _pan(tmp_path, range(100, 127, 3))  # 9 frames, a 3-px pan
    assert _main(["--video", video, "--out", tmp_path / "out.gif", "--frames", "3"]) == 0
    table = [line.split() for line in caplog.text.splitlines() if "last input" in line or "DIS flow" in line
             or "PSNR, predicted frame" in line]
    header, copying, dis = table[0], table[1], table[2]
    assert header[-3:] == ["1", "2", "3"]
    for k in range(3):  # copying's PSNR, by hand
        mse = ((frames[3].astype(float) - frames[4 + k].astype(float)) / 127.5) ** 2
        assert float(copying[-3 + k]) == pytest.approx(10 * np.log10(4 / mse.mean()), abs=0.01)
    # On a steady pan flow extrapolation beats copying on every frame.
    assert all(float(d) > float(c) + 3 for d, c in zip(dis[-3:], copying[-3:]))


def test_one_step_predicts_every_frame_from_the_real_frames_before_it(make_video, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="vidpred")
    speeds = [3, 3, 3, 3, 3, 5, 5, 5]  # a pan that speeds up after the 6th frame
    video, frames = _pan(tmp_path, np.cumsum([100] + speeds))  # 9 frames
    assert _main(["--video", video, "--out", tmp_path / "out.avi", "--one-step", "--frames", "5", "--scale", "1"]) == 0
    assert len(read_video(tmp_path / "out.avi")) == 4 + 5
    lines = {r.getMessage().split()[0]: r.getMessage() for r in caplog.records if r.name == "vidpred"}
    assert lines["PSNR"] == "PSNR over 5 frames, each predicted one step ahead: mean (min - max)"
    copying = [10 * np.log10(4 / (((frames[t - 1].astype(float) - frames[t].astype(float)) / 127.5) ** 2).mean())
               for t in range(4, 9)]  # each frame against the real one just before it, by hand
    mean, low, _, high = lines["last"].split()[2:6]  # "last input  M (L - H); ..."
    assert float(mean) == pytest.approx(np.mean(copying), abs=0.01)
    assert float(low.strip("(")) == pytest.approx(min(copying), abs=0.01)
    assert float(high.strip(");")) == pytest.approx(max(copying), abs=0.01)
    # On a pan of 3-5 px per frame the model, moving the texture, beats copying on every frame.
    assert lines["last"].endswith("pretrained/refiner better on 5 of 5 frames")
    assert lines["DIS"].startswith("DIS flow") and "better on" in lines["DIS"]
    # Copying's mean SSIM and edge ratio, against scikit-image and the neighbour differences by hand.
    shapes = lines["mean"].split(": ", 1)[1]
    assert shapes.startswith("pretrained/refiner ")
    copy_ssim, copy_edges = shapes.split("last input ")[1].split(",")[0].split(" / ")
    truth, seen = frames[4:9].astype(float), frames[3:8].astype(float)
    expected_ssim = np.mean([structural_similarity(a, b, data_range=255, gaussian_weights=True, sigma=1.5,
                                                   use_sample_covariance=False, channel_axis=-1)
                             for a, b in zip(seen, truth)])

    def edges(x):
        return (np.abs(x[1:, 1:] - x[:-1, 1:]) + np.abs(x[1:, 1:] - x[1:, :-1])).sum()
    expected_edges = np.mean([edges(a) / edges(b) for a, b in zip(seen, truth)])
    assert float(copy_ssim) == pytest.approx(expected_ssim, abs=0.001)
    assert float(copy_edges) == pytest.approx(expected_edges, abs=0.001)


def test_tall_frames_are_shown_at_540_px_and_any_fraction_is_taken(checkpoint, make_video, moving_frames, tmp_path,
                                                                    caplog):
    video = make_video(tmp_path / "tall.avi", moving_frames(6, 1080, 64))
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "a.gif", "--frames", "1"]) == 0
    assert Image.open(tmp_path / "a.gif").size == (4 * 32 + 3 * 4, 3 + 540)  # halved: 32 px wide, no header
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "b.gif", "--frames", "1",
                  "--scale", "0.25"]) == 0
    assert Image.open(tmp_path / "b.gif").size == (4 * 16 + 3 * 4, 3 + 270)
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "c.gif", "--scale", "1.5"]) == 2
    assert "--scale must be a whole number >= 1 or a fraction in (0, 1), got 1.5" in caplog.text


@pytest.mark.parametrize("scale", ["inf", "nan", "0", "-2"])
def test_a_scale_that_is_no_size_is_refused_in_one_line(checkpoint, make_video, moving_frames, tmp_path, caplog,
                                                        scale):
    video = make_video(tmp_path / "v.avi", moving_frames(6, 32, 40))
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "a.gif", "--scale", scale]) == 2
    assert f"--scale must be a whole number >= 1 or a fraction in (0, 1), got {float(scale):g}" in caplog.text
    assert not (tmp_path / "a.gif").exists()


def test_frames_too_small_to_score_are_refused_before_the_work_and_still_shown(checkpoint, make_video,
                                                                              moving_frames, tmp_path, caplog):
    video = make_video(tmp_path / "line.avi", moving_frames(8, 16, 40)[:, 6:7])  # one pixel high
    for scoring in (["--one-step"], ["--scores", tmp_path / "s.csv"]):
        caplog.clear()
        assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "a.gif", *scoring]) == 2
        assert "line.avi is 40x1: --one-step and --scores score frames of at least 2x2 px" in caplog.text
        assert not (tmp_path / "a.gif").exists() and not (tmp_path / "s.csv").exists()
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "a.avi", "--scale", "1"]) == 0
    assert read_video(tmp_path / "a.avi").shape[1:3] == (3 + 1, 4 * 40 + 3 * 4)


def test_a_prediction_that_would_fill_the_memory_is_announced(checkpoint, make_video, moving_frames, tmp_path,
                                                              monkeypatch, caplog):
    import vidpred.commands.predict as predict

    video = make_video(tmp_path / "v.avi", moving_frames(12, 48, 64))
    # 48x64 px: 0.8 GB + 3,072 px x (400 + 100 x 8) B = 0.8037 GB for 8 frames
    monkeypatch.setattr(predict, "_physical_memory", lambda: 2_000_000_000)
    with caplog.at_level("WARNING", logger="vidpred"):
        assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "a.gif", "--frames", "8"]) == 0
    assert not [r for r in caplog.records if "in memory" in r.getMessage()]
    monkeypatch.setattr(predict, "_physical_memory", lambda: 1_000_000_000)  # 0.8 GB is more than 80% of it
    with caplog.at_level("WARNING", logger="vidpred"):
        assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "b.gif", "--frames", "8"]) == 0
    assert ("predicting 8 frames of 64x48 keeps them all in memory: about 1 GB, and this machine has 1 GB; predict "
            "fewer (--frames) or give a downscaled copy") in [r.getMessage() for r in caplog.records]
    # One step ahead into a GIF its writer keeps each whole frame in its palette, a byte a pixel: 4 panels shown at
    # 3x (144x192 px), (14 + 3 + 144) x (4 x 192 + 3 x 4) = 125.58 kB a frame: 0.8 GB + 1.23 MB + 1.00 MB
    # = 802.23 MB for 8 frames, above 80% of 1.0026 GB (802.08 MB), below 80% of 1.003 GB (802.4 MB)
    monkeypatch.setattr(predict, "_physical_memory", lambda: 1_002_600_000)
    with caplog.at_level("WARNING", logger="vidpred"):
        assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "c.gif", "--frames", "8",
                      "--one-step"]) == 0
    assert "predicting 8 frames of 64x48 keeps their panels in memory: about 1 GB" in caplog.text
    monkeypatch.setattr(predict, "_physical_memory", lambda: 1_003_000_000)
    caplog.clear()
    with caplog.at_level("WARNING", logger="vidpred"):
        assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "d.gif", "--frames", "8",
                      "--one-step"]) == 0
    assert "in memory" not in caplog.text
    assert predict._physical_memory() > 0  # this system says


def test_magnified_panels_are_counted_in_a_rollouts_memory_warning(checkpoint, make_video, moving_frames, tmp_path,
                                                                   monkeypatch, caplog):
    import vidpred.commands.predict as predict

    video = make_video(tmp_path / "v.avi", moving_frames(6, 48, 64))
    # 2 frames of 48x64: 0.8 GB + 3,072 px x (400 + 100 x 2) B = 801.8 MB at --scale 1, below 80% of 1.005 GB;
    # at --scale 10 each frame's 4 panels of 480x640 px add 3 B a shown pixel beyond the frame's own: 809.2 MB
    monkeypatch.setattr(predict, "_physical_memory", lambda: 1_005_000_000)
    for scale, warned in (("1", False), ("10", True)):
        caplog.clear()
        with caplog.at_level("WARNING", logger="vidpred"):
            assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / f"{scale}.avi",
                          "--scale", scale]) == 0
        assert ("predicting 2 frames of 64x48 keeps them all in memory" in caplog.text) is warned


def test_a_gif_too_large_for_its_format_is_refused_before_the_model_runs(checkpoint, make_video, moving_frames,
                                                                        tmp_path, monkeypatch, caplog):
    import vidpred.commands.predict as predict

    video = make_video(tmp_path / "v.avi", moving_frames(6, 48, 64))
    monkeypatch.setattr(predict, "load_checkpoint_predictor", lambda *a: pytest.fail("the model was loaded"))
    # at --scale 300 the four 14,400x19,200 panels side by side are 76,812 px wide
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "a.gif", "--scale", "300"]) == 2
    assert (f"cannot write {tmp_path / 'a.gif'}: a GIF is at most 65535 px on a side, these frames are 14417x76812 "
            "(HxW); use a smaller scale") in caplog.text
    assert not (tmp_path / "a.gif").exists()


def test_a_panorama_s_panels_are_scaled_to_fit_the_format_unless_a_scale_is_given(checkpoint, make_video,
                                                                                 moving_frames, tmp_path, caplog):
    """30x2100 frames are magnified to 128 px high for a GIF (42,012 px wide), shown at a
    fraction of their size in an .mp4 (at most 8,190 px); --scale 1 (8,412 px) is refused there
    before the model runs."""
    video = make_video(tmp_path / "v.avi", moving_frames(6, 30, 2100))
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "a.gif", "--frames", "1"]) == 0
    assert Image.open(tmp_path / "a.gif").size == (4 * 5 * 2100 + 3 * 4, 14 + 3 + 5 * 30)
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "a.mp4", "--frames", "1"]) == 0
    height, width = read_video(tmp_path / "a.mp4").shape[1:3]
    assert 8100 < width <= 8190 and height < 30 + 14 + 3
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "b.mp4", "--frames", "1",
                  "--scale", "1"]) == 2
    assert "an .mp4 (MPEG-4) is at most 8190 px on a side, these frames are 47x8412 (HxW)" in caplog.text


def test_the_one_step_progress_bar_counts_the_frames_the_video_has(checkpoint, make_video, moving_frames, tmp_path,
                                                                   monkeypatch):
    """--frames 100000 (as the documented commands give, for every frame) on 16 frames
    predicts 12: the bar counts to 12, not to 100000 with an estimate of hours."""
    import vidpred.commands.predict as predict
    from vidpred._progress import progress

    totals = []

    def recording_progress(**kwargs):
        totals.append(kwargs["total"])
        return progress(**kwargs)

    monkeypatch.setattr(predict, "progress", recording_progress)
    video = make_video(tmp_path / "v.avi", moving_frames(16, 32, 40))
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "a.gif", "--frames", "100000",
                  "--one-step"]) == 0
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "b.gif", "--frames", "5",
                  "--one-step"]) == 0
    assert totals == [12, 5]


def test_an_empty_checkpoint_path_is_refused_not_read_as_the_default_model(make_video, moving_frames, tmp_path,
                                                                          caplog):
    """``--checkpoint "$CKPT"`` with the variable unset: the shipped model must not stand in."""
    video = make_video(tmp_path / "v.avi", moving_frames(8, 32, 40))
    assert _main(["--checkpoint", "", "--video", video, "--out", tmp_path / "a.gif"]) == 2
    assert "--checkpoint: the checkpoint path is empty" in caplog.text and not (tmp_path / "a.gif").exists()


def test_a_checkpoint_under_the_home_folder_is_found_by_tilde(checkpoint, make_video, moving_frames, tmp_path,
                                                              monkeypatch):
    monkeypatch.setenv("HOME", str(checkpoint.parent))
    video = make_video(tmp_path / "v.avi", moving_frames(8, 32, 40))
    assert _main(["--checkpoint", f"~/{checkpoint.name}", "--video", video, "--out", tmp_path / "a.gif"]) == 0


def test_a_model_trained_on_resized_frames_is_named_when_the_video_is_another_size(make_video, moving_frames, tmp_path,
                                                                                  caplog):
    for data, warned in (({"frame_height": 16}, "a height of 16 px (data.frame_height)"),
                         ({"frame_size": [16, 20]}, "16x20 (HxW, data.frame_size)"), ({"frame_height": 32}, None)):
        cfg = config_from_dict({"model": {"generator": {"n_scales": 3, "width": 0.0625}}, "data": data})
        path = tmp_path / "small.pt"
        save_checkpoint({"step": 1, "config": config_to_dict(cfg), "generator": build_generator(cfg).state_dict()},
                        path)
        video = make_video(tmp_path / "v.avi", moving_frames(8, 32, 40))
        caplog.clear()
        with caplog.at_level("WARNING", logger="vidpred"):
            assert _main(["--checkpoint", path, "--video", video, "--out", tmp_path / "a.gif", "--force"]) == 0
        if warned is None:  # trained at the video's own height
            assert "trained on frames resized" not in caplog.text
        else:
            assert f"trained on frames resized to {warned}; {video}'s are 32x40 and are predicted at that size" \
                in caplog.text


def test_frames_past_the_end_of_the_video_are_not_counted_in_the_memory_warning(checkpoint, make_video,
                                                                                moving_frames, tmp_path, monkeypatch,
                                                                                caplog):
    # --frames 100000 on 12 frames predicts 8: 0.8 GB + 3,072 px x (400 + 100 x 8) B, not 31 GB
    import vidpred.commands.predict as predict

    video = make_video(tmp_path / "v.avi", moving_frames(12, 48, 64))
    monkeypatch.setattr(predict, "_physical_memory", lambda: 2_000_000_000)
    for one_step in ([], ["--one-step"]):
        caplog.clear()
        with caplog.at_level("WARNING", logger="vidpred"):
            assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "a.gif", "--frames",
                          "100000", *one_step]) == 0
        assert "in memory" not in caplog.text
        assert "predicting 8 frames instead of 100000" in caplog.text
    # where it does warn, it names the frames predicted after the 4 context frames, not the 12 there are
    monkeypatch.setattr(predict, "_physical_memory", lambda: 1_000_000_000)
    for one_step in ([], ["--one-step"]):
        caplog.clear()
        with caplog.at_level("WARNING", logger="vidpred"):
            assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "a.gif", "--frames",
                          "100000", "--start-frame", "2", *one_step]) == 0
        assert "predicting 6 frames of 64x48 keeps" in caplog.text


def test_one_step_keeps_the_frames_predicted_before_an_unreadable_one(tmp_path, caplog):
    video, _ = _pan(tmp_path, range(100, 100 + 3 * 10, 3))
    (video / "frame_07.png").write_bytes(b"not a png")  # the 4th frame after the 4 context frames
    with caplog.at_level("WARNING", logger="vidpred"):
        assert _main(["--video", video, "--out", tmp_path / "out.avi", "--one-step", "--frames", "6"]) == 0
    assert "OpenCV cannot decode frame image frame_07.png: keeping the 3 frames predicted before it" in caplog.text
    assert "ends after" not in caplog.text
    assert len(read_video(tmp_path / "out.avi")) == 4 + 3
    (video / "frame_04.png").write_bytes(b"not a png")  # the 1st frame to predict: nothing to keep
    caplog.clear()
    assert _main(["--video", video, "--out", tmp_path / "none.avi", "--one-step", "--frames", "6"]) == 2
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        f"cannot read video {video}: OpenCV cannot decode frame image frame_04.png"]  # the one line, not a warning of 0 frames kept
    assert not (tmp_path / "none.avi").exists()


def test_ctrl_c_during_one_step_writes_the_frames_predicted_so_far(tmp_path, monkeypatch, caplog):
    import signal

    import vidpred.commands.predict as predict

    video, _ = _pan(tmp_path, range(100, 100 + 3 * 10, 3))
    calls = []

    def interrupted_at_the_2nd(*args, **kwargs):  # Ctrl-C while the 2nd frame is predicted
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return extrapolate(*args, **kwargs)

    extrapolate = predict.flow_extrapolation
    monkeypatch.setattr(predict, "flow_extrapolation", interrupted_at_the_2nd)
    before = signal.getsignal(signal.SIGINT)
    scores = tmp_path / "scores.csv"
    with caplog.at_level("INFO", logger="vidpred"):  # exits as training does once its work is written: 128 + SIGINT
        assert _main(["--video", video, "--out", tmp_path / "out.avi", "--one-step", "--frames", "6",
                      "--scores", scores]) == 128 + signal.SIGINT
    assert "received SIGINT: writing the frames predicted so far (again to stop at once)" in caplog.text
    assert len(read_video(tmp_path / "out.avi")) == 4 + 2  # the frame being predicted is finished, then it stops
    assert "PSNR over 2 frames" in caplog.text and "ends after" not in caplog.text
    assert "partial: 2 of 6 frames, stopped by SIGINT" in caplog.text
    lines = scores.read_text().splitlines()  # marked partial, then the table of the frames predicted
    assert lines[:2] == ["# partial: 2 of 6 frames, stopped by SIGINT", SCORES_HEADER] and len(lines) == 2 + 2 * 3
    assert signal.getsignal(signal.SIGINT) is before
    calls.clear()
    monkeypatch.setattr(predict, "flow_extrapolation", extrapolate)
    assert _main(["--video", video, "--out", tmp_path / "whole.avi", "--one-step", "--frames", "6",
                  "--scores", scores]) == 0  # the partial table is its own, replaced by a whole one
    assert scores.read_text().splitlines()[0] == SCORES_HEADER and len(scores.read_text().splitlines()) == 1 + 6 * 3


def test_one_step_plots_each_frames_psnr_and_only_with_one_step(tmp_path, caplog):
    from vidpred.evaluation.visualize import is_our_plot

    video, _ = _pan(tmp_path, range(100, 100 + 3 * 8, 3))
    run = ["--video", video, "--out", tmp_path / "out.gif", "--one-step", "--frames", "4"]
    assert _main([*run, "--plot", tmp_path / "psnr.png"]) == 0
    assert is_our_plot(tmp_path / "psnr.png") and Image.open(tmp_path / "psnr.png").size[0] > 500
    assert _main([*run, "--plot", tmp_path / "psnr.png"]) == 0  # its own plot is replaced
    (tmp_path / "mine.png").write_bytes(b"mine")
    for extra, message in ((["--plot", tmp_path / "mine.png"], "mine.png already exists and is not a plot written by "
                                                                 "predict.py"),
                           (["--plot", tmp_path / "psnr.jpg"], "--plot " + str(tmp_path / "psnr.jpg") + ": give a .png")):
        assert _main([*run, *extra]) == 2
        assert message in caplog.text
    assert (tmp_path / "mine.png").read_bytes() == b"mine"
    assert _main(["--video", video, "--out", tmp_path / "r.gif", "--plot", tmp_path / "p.png"]) == 2
    assert "--plot draws the scores of --one-step: add --one-step, or leave --plot out" in caplog.text
    assert not (tmp_path / "r.gif").exists()


def test_the_flow_panel_colours_where_the_content_moves(tmp_path):
    """The shipped refiner on a pan whose content moves left (the window moves right): the
    wheel's cyan (hue 180), not the red of the flow it samples at."""
    video, _ = _pan(tmp_path, range(100, 100 + 3 * 8, 3))
    assert _main(["--video", video, "--out", tmp_path / "out.gif", "--frames", "1", "--show-flow", "--scale", "1"]) == 0
    gif = Image.open(tmp_path / "out.gif")
    gif.seek(4)  # the first predicted frame
    frame = np.asarray(gif.convert("RGB")).astype(int)
    flow_panel = frame[14 + 3:, 4 * (80 + 4):]  # below the label and the bar, the fifth 80-px panel
    red, green, blue = flow_panel.reshape(-1, 3).mean(axis=0)
    assert green - red > 40 and blue - red > 40


def test_a_frame_folder_whose_name_is_not_utf8_is_plotted_and_scored_under_its_escape(tmp_path):
    video, _ = _pan(tmp_path, range(100, 100 + 3 * 8, 3))
    try:
        video = video.rename(tmp_path / os.fsdecode(b"caf\xe9"))
    except OSError:
        pytest.skip("this file system takes only UTF-8 names")
    assert _main(["--video", video, "--out", tmp_path / "out.gif", "--one-step", "--frames", "4",
                  "--plot", tmp_path / "psnr.png", "--scores", tmp_path / "scores.csv"]) == 0
    assert (tmp_path / "psnr.png").is_file() and (tmp_path / "out.gif").is_file()
    assert (tmp_path / "scores.csv").read_text(encoding="utf-8").startswith("frame,")


def test_a_plot_inside_the_frame_folder_is_refused_for_it_would_be_read_as_a_frame(tmp_path, caplog):
    video, _ = _pan(tmp_path, range(100, 100 + 3 * 8, 3))
    (tmp_path / "link").symlink_to(video, target_is_directory=True)
    frames = {p.name: p.read_bytes() for p in video.iterdir()}
    run = ["--video", video, "--out", tmp_path / "out.gif", "--one-step", "--frames", "4"]
    for plot, extra in ((video / "psnr.png", []), (tmp_path / "link" / "psnr.png", []),
                        (video / "frame_07.png", ["--force"])):
        caplog.clear()
        assert _main([*run, "--plot", plot, *extra]) == 2
        assert f"--plot {plot} is inside the frame folder --video {video}: it would be read as a frame" in caplog.text
    assert {p.name: p.read_bytes() for p in video.iterdir()} == frames and not (tmp_path / "out.gif").exists()
    assert _main([*run, "--plot", tmp_path / "psnr.png"]) == 0  # beside the folder, or an animation in it: read by no one
    assert _main(["--video", video, "--out", video / "out.gif", "--frames", "2"]) == 0
    assert len(read_video(video)) == 8


def test_one_step_from_a_start_frame_scores_shows_and_plots_the_frames_after_it(tmp_path, monkeypatch, caplog):
    import vidpred.commands.predict as predict

    caplog.set_level(logging.INFO, logger="vidpred")
    # 10 frames, each step its own size: each frame's score its own
    video, frames = _pan(tmp_path, np.cumsum([100, 1, 1, 6, 2, 5, 3, 7, 4, 2]))
    shown, plotted = [], []

    class Recorded(predict.Animation):
        def add(self, prediction, target, *, seen=None, flow=None):
            shown.append((seen, target))
            super().add(prediction, target, seen=seen, flow=flow)

    monkeypatch.setattr(predict, "Animation", Recorded)
    monkeypatch.setattr(predict, "plot_one_step", lambda psnrs, first, path, title: plotted.append(first) or path)
    assert _main(["--video", video, "--out", tmp_path / "out.avi", "--one-step", "--frames", "3", "--start-frame", "2",
                  "--plot", tmp_path / "psnr.png"]) == 0
    real = torch.from_numpy(frames).permute(3, 0, 1, 2).float() / 127.5 - 1  # (C, T, H, W) in [-1, 1]
    for k, (seen, target) in enumerate(shown):  # frames 6, 7 and 8, each beside the real one before it
        torch.testing.assert_close(target, real[:, 6 + k])
        torch.testing.assert_close(seen, real[:, 5 + k])
    assert len(shown) == 3 and plotted == [6]  # the plot's first frame is the first predicted one
    copying = [10 * np.log10(4 / (((frames[t - 1].astype(float) - frames[t].astype(float)) / 127.5) ** 2).mean())
               for t in (6, 7, 8)]
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("last input"))
    assert float(line.split()[2]) == pytest.approx(np.mean(copying), abs=0.01)


def test_scores_are_written_as_a_table_one_row_per_frame_and_method(tmp_path, caplog):
    import csv


    caplog.set_level(logging.INFO, logger="vidpred")
    video, frames = _pan(tmp_path, np.cumsum([100, 1, 1, 6, 2, 5, 3, 7, 4, 2]))  # each step its own size

    def copying(t, seen):  # frame t predicted by copying frame seen, by hand
        return 10 * np.log10(4 / (((frames[seen].astype(float) - frames[t].astype(float)) / 127.5) ** 2).mean())

    def table(path):
        with open(path, newline="") as f:
            return list(csv.DictReader(f))

    one_step = ["--video", video, "--out", tmp_path / "out.gif", "--one-step", "--frames", "3", "--start-frame", "2"]
    assert _main([*one_step, "--scores", tmp_path / "s.csv"]) == 0
    assert (tmp_path / "s.csv").read_text().splitlines()[0] == SCORES_HEADER
    rows = table(tmp_path / "s.csv")
    assert [(r["frame"], r["steps_ahead"], r["method"]) for r in rows] == [
        (str(t), "1", m) for t in (6, 7, 8) for m in ("pretrained/refiner", "last input", "DIS flow")]
    for t, row in zip((6, 7, 8), [r for r in rows if r["method"] == "last input"]):
        assert float(row["psnr"]) == pytest.approx(copying(t, t - 1), abs=0.001)
        assert float(row["edges"]) == pytest.approx(1.0, abs=0.2) and 0 < float(row["ssim"]) < 1
    mean = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("pretrained/refiner "))
    psnr = {m: np.array([float(r["psnr"]) for r in rows if r["method"] == m]) for m in ("pretrained/refiner", "DIS flow")}
    assert float(mean.split()[1]) == pytest.approx(psnr["pretrained/refiner"].mean(), abs=0.01)
    wins = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("DIS flow "))
    assert wins.endswith(f"better on {int((psnr['pretrained/refiner'] > psnr['DIS flow']).sum())} of 3 frames")
    # a rollout: the k-th frame after the context is k steps ahead of the newest frame seen
    assert _main(["--video", video, "--out", tmp_path / "r.gif", "--frames", "3", "--start-frame", "2",
                  "--scores", tmp_path / "s.csv"]) == 0  # its own table is replaced
    copies = [r for r in table(tmp_path / "s.csv") if r["method"] == "last input"]
    assert [(r["frame"], r["steps_ahead"]) for r in copies] == [("6", "1"), ("7", "2"), ("8", "3")]
    for t, row in zip((6, 7, 8), copies):
        assert float(row["psnr"]) == pytest.approx(copying(t, 5), abs=0.001)
    (tmp_path / "mine.csv").write_text("a,b\n1,2\n")
    for extra, message in ((["--scores", tmp_path / "mine.csv"], "mine.csv already exists and is not a scores table "
                                                                   "written by predict.py"),
                           (["--scores", tmp_path / "s.txt"], "--scores " + str(tmp_path / "s.txt") + ": give a .csv")):
        assert _main([*one_step, *extra]) == 2
        assert message in caplog.text
    assert (tmp_path / "mine.csv").read_text() == "a,b\n1,2\n"


def test_out_plot_and_scores_are_replaced_together_or_not_at_all(tmp_path, disk_full_at):
    video, _ = _pan(tmp_path, np.cumsum([100, 1, 1, 6, 2, 5, 3, 7, 4, 2]))
    outputs = {"--out": tmp_path / "out.gif", "--plot": tmp_path / "steps.png", "--scores": tmp_path / "steps.csv"}
    run = ["--video", video, "--one-step", "--frames", "3", *(str(x) for pair in outputs.items() for x in pair)]
    assert _main([*run, "--start-frame", "2"]) == 0
    first = {flag: path.read_bytes() for flag, path in outputs.items()}
    disk_full_at("steps.csv")  # the last of the three to be written
    assert _main([*run, "--start-frame", "1"]) == 2
    assert {flag: path.read_bytes() for flag, path in outputs.items()} == first  # the first run's three, whole
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary file left


def test_the_dis_flow_row_is_dis_flow_extrapolation_in_a_rollout_and_one_step(tmp_path):
    import csv

    from vidpred.evaluation.baselines import flow_extrapolation

    video, frames = _pan(tmp_path, np.cumsum([100, 1, 1, 6, 2, 5, 3, 7, 4, 2]))  # each step its own size
    real = torch.from_numpy(frames).permute(3, 0, 1, 2).float()[None] / 127.5 - 1  # (1, C, T, H, W) in [-1, 1]

    def psnr(prediction, t):  # by hand, on the prediction clamped to [-1, 1]
        mse = ((prediction.clamp(-1, 1) - real[:, :, t]) ** 2).mean().item()
        return 10 * np.log10(4 / mse)

    def dis_rows(path):
        with open(path, newline="") as f:
            return [(int(r["frame"]), float(r["psnr"])) for r in csv.DictReader(f) if r["method"] == "DIS flow"]

    # one step ahead: frame t from the 4 real frames before it
    assert _main(["--video", video, "--out", tmp_path / "o.gif", "--one-step", "--frames", "3", "--start-frame", "2",
                  "--scores", tmp_path / "o.csv"]) == 0
    apart = []
    for t, value in dis_rows(tmp_path / "o.csv"):
        context = real[:, :, t - 4:t]
        dis, farneback = (flow_extrapolation(context, 1, method=m)[:, :, 0] for m in ("dis", "farneback"))
        assert value == pytest.approx(psnr(dis, t), abs=0.001)
        apart.append(abs(psnr(dis, t) - psnr(farneback, t)))
    assert max(apart) > 0.01  # Farneback's flow would score otherwise
    # a rollout: frame 6 + k, k + 1 steps ahead of the context 2-5
    assert _main(["--video", video, "--out", tmp_path / "r.gif", "--frames", "3", "--start-frame", "2",
                  "--scores", tmp_path / "r.csv"]) == 0
    rolled = flow_extrapolation(real[:, :, 2:6], 3, method="dis")
    assert [(t, pytest.approx(psnr(rolled[:, :, t - 6], t), abs=0.001)) for t in (6, 7, 8)] == dis_rows(tmp_path / "r.csv")


def test_frames_11_px_high_are_scored_with_ssim(make_video, moving_frames, tmp_path):
    import csv

    from vidpred.data.sampler import to_model_input
    from vidpred.metrics.ssim import ssim

    video = make_video(tmp_path / "strip.avi", moving_frames(8, 32, 40)[:, 11:22])  # 11 px high: one window fits
    assert _main(["--video", video, "--out", tmp_path / "o.gif", "--frames", "3", "--scores", tmp_path / "s.csv",
                  "--one-step"]) == 0
    with open(tmp_path / "s.csv", newline="") as f:
        copied = [r for r in csv.DictReader(f) if r["method"] == "last input"]
    real = to_model_input(torch.from_numpy(read_video(video))[None])  # (1, 3, T, 11, 40)
    assert len(copied) == 3
    for r in copied:  # the last input's SSIM: the real frame before against the frame
        t = int(r["frame"])
        assert float(r["ssim"]) == pytest.approx(float(ssim(real[:, :, t - 1], real[:, :, t])[0]), abs=1e-5)


def test_frames_under_11_px_high_are_scored_without_ssim(make_video, moving_frames, tmp_path, caplog):
    import csv

    caplog.set_level(logging.INFO, logger="vidpred")
    video = make_video(tmp_path / "strip.avi", moving_frames(8, 32, 40)[:, 11:21])  # 10 px high, 40 wide
    for mode in (["--one-step"], []):
        caplog.clear()
        assert _main(["--video", video, "--out", tmp_path / "o.gif", "--frames", "3", "--scores", tmp_path / "s.csv",
                      *mode]) == 0
        with open(tmp_path / "s.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == 3 * 3 and all(r["ssim"] == "" for r in rows)  # no 11x11 window fits: left empty
        assert all(float(r["psnr"]) > 0 for r in rows)
    caplog.clear()
    assert _main(["--video", video, "--out", tmp_path / "o.gif", "--frames", "3", "--one-step"]) == 0
    shapes = next(r.getMessage() for r in caplog.records if "edge ratio" in r.getMessage())
    assert shapes.startswith("mean edge ratio (1 = as sharp as the truth") and "SSIM" not in shapes


def test_one_step_with_show_flow_adds_the_motion_as_a_fifth_panel(make_video, moving_frames, tmp_path):
    video = make_video(tmp_path / "clip.avi", moving_frames(10, 32, 40))
    assert _main(["--video", video, "--out", tmp_path / "out.avi", "--one-step", "--frames", "3", "--scale", "1",
                  "--show-flow"]) == 0
    frames = read_video(tmp_path / "out.avi")
    assert frames.shape == (4 + 3, 3 + 32, 5 * 40 + 4 * 4, 3)
    flow_panel = frames[4:, 3:, 4 * 40 + 4 * 4:].astype(int)  # the predicted frames' last panel
    assert flow_panel.std() > 1  # the square's motion drawn, not an empty panel


@pytest.mark.parametrize("mode", [[], ["--one-step"]])
def test_no_frame_after_the_context_or_no_frame_asked_is_refused_in_one_line(checkpoint, make_video, moving_frames,
                                                                          tmp_path, caplog, mode):
    video = make_video(tmp_path / "clip.avi", moving_frames(6, 32, 40))
    run = ["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "a.gif", *mode]
    for extra, said in ((["--start-frame", "2"], f"{video} has 6 frames: not enough for 4 context frames from frame 2 "
                                                 "and one to predict"),  # exactly the context: nothing to predict
                        (["--start-frame", "3"], f"{video} has 6 frames: not enough for 4 context frames from frame 3 "
                                                 "and one to predict"),
                        (["--frames", "0"], "need --frames >= 1 and --start-frame >= 0, got 0 and 0")):
        caplog.clear()
        assert _main([*run, *extra]) == 2
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [said]
        assert not (tmp_path / "a.gif").exists()


def _watch_animations(monkeypatch, keyword: str) -> list:
    """The ``keyword`` argument predict.py gives each Animation it makes, in order."""
    import vidpred.commands.predict as predict

    given, animation = [], predict.Animation

    def watched(*args, **kwargs):
        given.append(kwargs.get(keyword))
        return animation(*args, **kwargs)

    monkeypatch.setattr(predict, "Animation", watched)
    return given


def test_one_step_writes_an_mp4_or_avi_as_the_frames_come_the_same_frames_kept_ones_make(tmp_path, monkeypatch, caplog):
    import vidpred.commands.predict as predict

    video, _ = _pan(tmp_path, range(100, 100 + 3 * 10, 3))
    run = ["--video", video, "--one-step", "--frames", "5"]
    sunk = _watch_animations(monkeypatch, "sink")
    for suffix in (".avi", ".mp4"):
        assert _main([*run, "--out", tmp_path / f"streamed{suffix}"]) == 0
        with monkeypatch.context() as kept:
            kept.setattr(predict, "_streams", lambda args: False)  # the frames kept, then written whole
            assert _main([*run, "--out", tmp_path / f"kept{suffix}"]) == 0
        assert sunk[-2] is not None and sunk[-1] is None
        streamed, whole = read_video(tmp_path / f"streamed{suffix}"), read_video(tmp_path / f"kept{suffix}")
        assert len(streamed) == 4 + 5 and (streamed == whole).all()
    for out in (["--out", tmp_path / "a.gif"], ["--out", tmp_path / "a.avi", "--show-flow"]):  # these wait for the end
        assert _main([*run, *out]) == 0 and sunk[-1] is None
    # Nothing kept a frame: no memory warning, where a GIF's writer warns. The 64x80 frames: 0.8 GB + 5,120 px x
    # 400 B = 802.048 MB; a GIF's writer adds 6 frames of 4 panels of 128x160 px, a byte a pixel: (14 + 3 + 128) x
    # (4 x 160 + 3 x 4) B = 94.54 kB a frame, 802.615 MB, above 80% of 1.003 GB (802.4 MB).
    monkeypatch.setattr(predict, "_physical_memory", lambda: 1_003_000_000)
    with caplog.at_level("WARNING", logger="vidpred"):
        assert _main([*run, "--frames", "5000", "--out", tmp_path / "long.avi"]) == 0
    assert "in memory" not in caplog.text
    with caplog.at_level("WARNING", logger="vidpred"):
        assert _main([*run, "--frames", "5000", "--out", tmp_path / "long.gif"]) == 0
    assert ("keeps their panels in memory: about 1 GB, and this machine has 1 GB; predict fewer (--frames), write an "
            ".mp4 or .avi (no frame held in memory) or give a downscaled copy") in caplog.text


def test_one_step_with_show_flow_holds_an_avi_s_panels_on_disk_beside_it_not_in_memory(tmp_path, monkeypatch, caplog):
    import vidpred.commands.predict as predict

    video, _ = _pan(tmp_path, range(100, 100 + 3 * 10, 3))
    run = ["--video", video, "--one-step", "--frames", "5", "--show-flow"]
    spools = _watch_animations(monkeypatch, "spool")
    out = tmp_path / "out" / "spooled.avi"
    assert _main([*run, "--out", out]) == 0
    assert spools[-1] == out.parent and sorted(p.name for p in out.parent.iterdir()) == ["spooled.avi"]
    with monkeypatch.context() as kept:
        kept.setattr(predict, "_spools", lambda args: False)  # held in memory, as before
        assert _main([*run, "--out", tmp_path / "kept.avi"]) == 0
    assert spools[-1] is None
    assert (read_video(out) == read_video(tmp_path / "kept.avi")).all()
    # No memory warning for the panels on disk, and a disk warning where they would not fit: 64x80 frames shown
    # as 128x160, 5 panels: (14 + 3 + 128) x (5 x 160 + 4 x 4) x 3 B + 128 x 160 x 8 B = 518.9 kB a frame
    monkeypatch.setattr(predict, "_physical_memory", lambda: 1_005_000_000)
    monkeypatch.setattr(predict.shutil, "disk_usage", lambda folder: SimpleNamespace(free=3_000_000))
    with caplog.at_level("WARNING", logger="vidpred"):
        assert _main([*run, "--frames", "6", "--out", tmp_path / "long.avi"]) == 0
    assert "in memory" not in caplog.text
    assert (f"predicting 6 frames of 80x64 with --show-flow holds their panels on disk beside {tmp_path / 'long.avi'} "
            "until the end: about 3.1 MB, and 3.0 MB are free there") in caplog.text  # 3.11 MB > 0.9 x 3 MB
    caplog.clear()
    with caplog.at_level("WARNING", logger="vidpred"):
        assert _main([*run, "--frames", "5", "--out", tmp_path / "short.avi"]) == 0  # 2.59 MB: room
    assert "on disk" not in caplog.text


def test_one_step_into_a_gif_holds_its_panels_on_disk_the_same_gif_as_held_in_memory(tmp_path, monkeypatch, caplog):
    import vidpred.commands.predict as predict
    from PIL import ImageSequence

    video, _ = _pan(tmp_path, range(100, 100 + 3 * 10, 3))
    run = ["--video", video, "--one-step", "--frames", "5"]
    spools = _watch_animations(monkeypatch, "spool")

    def gif_frames(path):
        with Image.open(path) as gif:
            return [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(gif)]

    for flow in ([], ["--show-flow"]):
        out = tmp_path / "out" / "spooled.gif"
        assert _main([*run, *flow, "--out", out]) == 0
        assert spools[-1] == out.parent and sorted(p.name for p in out.parent.iterdir()) == ["spooled.gif"]
        with monkeypatch.context() as kept:
            kept.setattr(predict, "_spools", lambda args: False)  # held in memory
            assert _main([*run, *flow, "--out", tmp_path / "kept.gif"]) == 0
        assert spools[-1] is None
        spooled, whole = gif_frames(out), gif_frames(tmp_path / "kept.gif")
        assert len(spooled) == 4 + 5 and all((a == b).all() for a, b in zip(spooled, whole))
    # a disk warning where they would not fit: 64x80 frames shown as 128x160, 4 panels: (14 + 3 + 128) x
    # (4 x 160 + 3 x 4) x 3 B = 283.6 kB a frame; 6 frames 1.70 MB > 0.9 x 1.8 MB
    monkeypatch.setattr(predict.shutil, "disk_usage", lambda folder: SimpleNamespace(free=1_800_000))
    with caplog.at_level("WARNING", logger="vidpred"):
        assert _main([*run, "--frames", "6", "--out", tmp_path / "long.gif"]) == 0
    assert (f"predicting 6 frames of 80x64 into a .gif holds their panels on disk beside {tmp_path / 'long.gif'} "
            "until the end: about 1.7 MB, and 1.8 MB are free there") in caplog.text


def test_a_one_step_run_that_fails_part_way_leaves_the_earlier_video_and_no_temporary(tmp_path, monkeypatch):
    import vidpred.commands.predict as predict

    video, _ = _pan(tmp_path, range(100, 100 + 3 * 10, 3))
    out = tmp_path / "out" / "steps.avi"
    assert _main(["--video", video, "--out", out, "--one-step", "--frames", "3"]) == 0
    before = out.read_bytes()
    calls = []

    def fails_at_the_3rd(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("a failure part way")
        return extrapolate(*args, **kwargs)

    extrapolate = predict.flow_extrapolation
    monkeypatch.setattr(predict, "flow_extrapolation", fails_at_the_3rd)
    with pytest.raises(RuntimeError, match="a failure part way"):
        _main(["--video", video, "--out", out, "--one-step", "--frames", "6", "--force"])
    assert out.read_bytes() == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["steps.avi"]


def test_a_tilde_after_the_equals_sign_is_the_home_folder_in_every_path_flag(tmp_path, monkeypatch):
    # the shell expands ~/x, not --out=~/x: left as it is, the output went into a folder named "~"
    video, _ = _pan(tmp_path, range(100, 100 + 3 * 8, 3))
    home = tmp_path / "home"
    (home / "clips").mkdir(parents=True)
    os.rename(video, home / "clips" / "pan")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    assert _main(["--video=~/clips/pan", "--out=~/p.gif", "--one-step", "--frames", "2", "--plot=~/p.png",
                  "--scores=~/s.csv"]) == 0
    assert sorted(p.name for p in home.iterdir() if not p.name.startswith(".")) == ["clips", "p.gif", "p.png", "s.csv"]
    assert not (tmp_path / "~").exists()


def test_a_scale_that_shrinks_panels_to_a_few_pixels_is_refused(checkpoint, make_video, moving_frames, tmp_path,
                                                                caplog):
    video = make_video(tmp_path / "v.avi", moving_frames(6, 32, 40))
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "a.gif", "--scale", "0.01"]) == 2
    assert "--scale 0.01 shows 40x32 frames as panels of 1x1 px: give at least 0.5" in caplog.text
    assert not (tmp_path / "a.gif").exists()
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "b.gif", "--scale", "0.5",
                  "--frames", "1"]) == 0  # 16 px panels are shown


@pytest.mark.parametrize("one_step", [False, True])
def test_height_predicts_the_video_as_a_copy_resized_to_it_would_be(tmp_path, one_step):
    # 4K footage predicted at its own size took some 10 s a frame: --height predicts a smaller copy of it
    import csv

    from vidpred.data.video_io import height_to_size

    video, frames = _pan(tmp_path, range(100, 127, 3))  # 64x80 frames
    small = tmp_path / "small"
    small.mkdir()
    resized = read_video(video, frame_height=32)
    assert resized.shape[1:3] == height_to_size(32, (64, 80)) == (32, 40)
    for t, frame in enumerate(resized):
        Image.fromarray(frame).save(small / f"frame_{t:02d}.png")
    mode = ["--one-step"] if one_step else []

    def scores(source, *flags, name):
        assert _main(["--video", source, "--out", tmp_path / f"{name}.avi", "--frames", "3", "--scale", "1",
                      "--scores", tmp_path / f"{name}.csv", *mode, *flags]) == 0
        with open(tmp_path / f"{name}.csv", newline="") as f:
            return [(r["frame"], r["method"], r["psnr"], r["ssim"], r["edges"]) for r in csv.DictReader(f)]

    assert scores(video, "--height", "32", name="height") == scores(small, name="copy")
    assert read_video(tmp_path / "height.avi").shape[1:3] == read_video(tmp_path / "copy.avi").shape[1:3]


@pytest.mark.parametrize("height", ["1", "100000"])
def test_a_height_no_frame_could_have_is_refused_before_the_work(tmp_path, caplog, height):
    video, _ = _pan(tmp_path, range(100, 127, 3))
    assert _main(["--video", video, "--out", tmp_path / "o.avi", "--height", height]) == 2
    assert f"--height must be a whole number of pixels from 2 to 8640, got {height}" in caplog.text
    assert not (tmp_path / "o.avi").exists()


def test_one_step_keeps_the_newest_frame_where_the_video_s_rhythm_holds_the_next(tmp_path, caplog):
    import csv

    caplog.set_level(logging.INFO, logger="vidpred")
    lefts = np.repeat(100 + 3 * np.arange(7), 3)  # a 3-px pan, every frame shown three times (on threes): 21 frames
    video, frames = _pan(tmp_path, lefts)

    def rows(path):
        with open(path, newline="") as f:
            return {(int(r["frame"]), r["method"].replace(" (every frame predicted)", "")): float(r["psnr"])
                for r in csv.DictReader(f)}

    run = ["--video", video, "--out", tmp_path / "out.avi", "--one-step", "--frames", "17"]
    assert _main([*run, "--scores", tmp_path / "held.csv"]) == 0
    assert _main([*run, "--scores", tmp_path / "all.csv", "--no-held-frames", "--force"]) == 0
    assert ",1,pretrained/refiner (every frame predicted)," in (tmp_path / "all.csv").read_text()  # named apart
    held, every = rows(tmp_path / "held.csv"), rows(tmp_path / "all.csv")
    model = "pretrained/refiner"
    read = list(range(10, 21))  # three periods seen before frame t: the rhythm is read
    kept = [t for t in read if lefts[t] == lefts[t - 1]]
    moving = [t for t in read if lefts[t] != lefts[t - 1]]
    assert moving == [12, 15, 18] and len(kept) == 8
    for t in range(4, 21):
        if t in kept:  # the newest frame, exact; predicting it, the model carried the pan on
            assert held[(t, model)] == held[(t, "last input")] > 50  # the held frame itself (a lossless video)
            assert every[(t, model)] < held[(t, model)] - 10, t
        elif t in moving:  # predicted from the frames the pan moved through; from the last four, which hold, kept
            assert every[(t, model)] < every[(t, "last input")] + 0.5 < held[(t, model)] - 10, t
        else:
            assert held[(t, model)] == every[(t, model)], t
    assert caplog.text.count("pretrained/refiner kept the newest frame for 8 of the 17 frames, where the video holds "
                             "its frames in a steady rhythm that held them, and predicted 3 moving frames after "
                             "held ones from the video's moving frames alone") == 1  # the run reading it says so
    # a rollout reads no rhythm: the flag is refused there rather than ignored
    assert _main(["--video", video, "--out", tmp_path / "r.gif", "--frames", "3", "--no-held-frames"]) == 2
    assert "--no-held-frames is read along a video, with --one-step: add --one-step, or leave it out" in caplog.text

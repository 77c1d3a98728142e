"""scripts/predict.py: a checkpoint and a video in, a side-by-side animation out."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from PIL import Image

from vidpred.build import build_generator
from vidpred.checkpoint import save_checkpoint
from vidpred.config import config_from_dict, config_to_dict
from vidpred.data import read_video

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "predict.py"


def _main(argv):
    spec = importlib.util.spec_from_file_location("predict_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main([*map(str, argv), "--device", "cpu"])


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    cfg = config_from_dict({"model": {"generator": {"n_scales": 3, "width": 0.0625}}})
    torch.manual_seed(0)
    path = tmp_path / "ckpt.pt"
    save_checkpoint({"step": 1, "config": config_to_dict(cfg), "generator": build_generator(cfg).state_dict()}, path)
    return path


def test_gif_and_video_outputs(checkpoint, make_video, moving_frames, tmp_path):
    video = make_video(tmp_path / "clip.avi", moving_frames(12, 32, 40))
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "out.gif", "--frames", "5"]) == 0
    gif = Image.open(tmp_path / "out.gif")
    assert gif.size == (4 * 40 * 4 + 3 * 4, 14 + 3 + 32 * 4)  # panels upscaled x4 to reach 128 px
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "out.avi", "--frames", "5",
                  "--scale", "1", "--start", "2"]) == 0
    assert read_video(tmp_path / "out.avi").shape == (4 + 5, 3 + 32, 4 * 40 + 3 * 4, 3)


def test_short_video_predicts_what_it_can_and_too_short_is_an_error(checkpoint, make_video, moving_frames, tmp_path,
                                                                    caplog):
    video = make_video(tmp_path / "clip.avi", moving_frames(6, 32, 40))
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "a.avi", "--frames", "8",
                  "--scale", "1"]) == 0
    assert "predicting 2 frames instead of 8" in caplog.text
    assert len(read_video(tmp_path / "a.avi")) == 6
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", tmp_path / "b.gif", "--start", "3"]) == 2
    assert "not enough" in caplog.text
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
    assert "needs a flow-head model" in caplog.text
    assert _main(["--checkpoint", checkpoint, "--video", video, "--out", video]) == 2
    assert "is the input video" in caplog.text and video.read_bytes() == before

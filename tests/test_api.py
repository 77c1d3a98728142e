"""vidpred.api: the shipped model from Python, on numpy frames, whole clips and a stream."""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pytest
import torch
from skimage import data as skdata

from vidpred import api
from vidpred.api import load_baseline, load_model, score
from vidpred.build import build_generator
from vidpred.checkpoint import save_checkpoint
from vidpred.config import config_from_dict, config_to_dict
from vidpred.data.sampler import to_model_input, to_uint8_frames
from vidpred.evaluation.baselines import flow_extrapolation
from vidpred.evaluation.predictors import load_checkpoint_predictor
from vidpred.metrics.psnr import psnr_from_mse
from vidpred.pretrained import default_model_path


@pytest.fixture(scope="module")
def model():
    return load_model(device="cpu")


def _pan(n_frames: int = 7, speed: int = 2) -> np.ndarray:
    """uint8 (T, 96, 96, 3): a real photograph panning left by ``speed`` whole pixels a frame."""
    photo = skdata.astronaut()[::4, ::4]  # 128x128
    return np.stack([photo[16:112, speed * t:speed * t + 100] for t in range(n_frames)])[:, :, :96]


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2) / 127.5 ** 2
    return float(psnr_from_mse(torch.tensor(mse), data_range=2.0))


def test_predict_gives_what_the_checkpoint_predictor_gives(model):
    clip = _pan()
    future = model.predict(clip[:5], n_future=2)
    assert future.dtype == np.uint8 and future.shape == (2, 96, 96, 3)
    method = load_checkpoint_predictor(default_model_path(), torch.device("cpu"))
    context = to_model_input(torch.from_numpy(clip[1:5])[None])  # the newest four of the five given
    expected = to_uint8_frames(method.predict(context, 2, None))[0].numpy()
    assert np.array_equal(future, expected)
    assert np.array_equal(model.predict(torch.from_numpy(clip[:5]), n_future=2), future)  # a uint8 tensor too


def test_the_shipped_model_follows_a_pan_where_copying_cannot(model):
    clip = _pan()
    future = model.predict(clip[:4], n_future=2)
    for k in range(2):
        assert _psnr(future[k], clip[4 + k]) > _psnr(clip[3], clip[4 + k]) + 5


def test_motion_is_where_each_pixel_comes_from_in_the_newest_frame(model):
    clip = _pan(speed=2)
    future, motion = model.predict(clip[:4], n_future=2, motion=True)
    assert motion.dtype == np.float32 and motion.shape == (2, 96, 96, 2)
    inner = motion[:, 16:-16, 16:-16]  # away from the border, where content enters the frame
    # The scene moves left 2 px a frame: frame k samples the newest known frame 2k px to the right.
    assert np.median(inner[0, ..., 0]) == pytest.approx(2, abs=0.25)
    assert np.median(inner[1, ..., 0]) == pytest.approx(4, abs=0.5)
    assert np.abs(np.median(inner[..., 1])) < 0.25
    assert np.array_equal(future, model.predict(clip[:4], n_future=2))


def test_motion_of_frames_wider_than_high_is_laid_out_as_the_frames_are(model):
    photo = skdata.astronaut()[::4, ::4]  # 128x128
    clip = np.stack([photo[32:96, 2 * t:2 * t + 96] for t in range(4)])  # (4, 64, 96, 3): a pan, wider than high
    _, motion = model.predict(clip, n_future=1, motion=True)
    assert motion.shape == (1, 64, 96, 2)
    method = load_checkpoint_predictor(default_model_path(), torch.device("cpu"))
    _, flows = method.predict.with_motion(to_model_input(torch.from_numpy(clip)[None]), 1)  # (1, 2, 1, 64, 96)
    assert np.array_equal(motion[0, ..., 0], flows[0, 0, 0].numpy())  # x at each pixel (row y, column x)
    assert np.array_equal(motion[0, ..., 1], flows[0, 1, 0].numpy())


def test_a_stream_predicts_each_next_frame_as_predict_does(model):
    clip = _pan(n_frames=8)
    stream = model.stream()
    answers = [stream.push(frame) for frame in clip]
    assert answers[:3] == [None, None, None]
    for t in range(3, 8):
        assert np.array_equal(answers[t], model.predict(clip[t - 3:t + 1])[0]), t
    assert stream.n_pushed == 8
    assert 0 < len(stream._flows) <= 16  # the flows kept for the pushes after


@pytest.mark.parametrize("times", [2, 3])
def test_a_stream_keeps_the_newest_frame_where_the_video_s_rhythm_holds_the_next(model, times):
    pan = _pan(n_frames=10, speed=3)
    clip = np.repeat(pan, times, axis=0)  # every frame shown twice (15 frames a second at 30), or on threes
    stream = model.stream()
    answers = [stream.push(frame) for frame in clip]
    for t in range(3, len(clip)):
        moves_next = (t + 1) % times == 0
        if t >= 3 * times and not moves_next:  # three periods of the rhythm seen, and the next frame is held
            assert np.array_equal(answers[t], clip[t]), t
        elif t >= 3 * times and times > 2:  # the next frame moves after two held: from the frames the pan moved through
            assert np.array_equal(answers[t], model.predict(pan[t // times - 3:t // times + 1])[0]), t
        else:  # too few steps to read the rhythm yet, or one held frame, which the model leaves out itself
            assert np.array_equal(answers[t], model.predict(clip[t - 3:t + 1])[0]), t
    # the held frames kept are a gain: the model carries the motion on where nothing moves
    kept = [t for t in range(3 * times, len(clip) - 1) if (t + 1) % times]
    assert all(_psnr(model.predict(clip[t - 3:t + 1])[0], clip[t + 1]) < 40 for t in kept)
    # and so are the moving ones on threes, where the last four frames hold still and the model keeps the frame
    moving = [(answers[t], model.predict(clip[t - 3:t + 1])[0], clip[t + 1])
              for t in range(3 * times, len(clip) - 1) if (t + 1) % times == 0]
    assert len(moving) == 6
    if times == 3:
        assert all(_psnr(a, truth) > _psnr(b, truth) + 10 for a, b, truth in moving)
    without = model.stream(held_frames=False)
    assert not without.held_frames and stream.held_frames
    assert all(np.array_equal(without.push(frame), model.predict(clip[t - 3:t + 1])[0]) if t >= 3
               else without.push(frame) is None for t, frame in enumerate(clip[:12]))
    # a baseline is what it is: DIS extrapolation reads no rhythm
    dis = load_baseline("dis")
    assert not dis.reads_repeats and not dis.stream().held_frames


def test_a_stream_refuses_a_path_pushed_as_a_frame(model):
    with pytest.raises(ValueError, match="^frame 0: expected an image array, got 'my_clip.mp4'$"):
        model.stream().push("my_clip.mp4")


def test_a_checkpoint_under_the_home_folder_is_found_by_tilde(tmp_path, monkeypatch):
    cfg = config_from_dict({"model": {"generator": {"n_scales": 2, "width": 0.0625}}})
    save_checkpoint({"step": 1, "config": config_to_dict(cfg), "generator": build_generator(cfg).state_dict()},
                    tmp_path / "mine.pt")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_model("~/mine.pt", device="cpu").predict(_pan()[:4]).shape == (1, 96, 96, 3)


def test_a_checkpoint_whose_weight_average_is_empty_loads_its_weights(tmp_path):
    cfg = config_from_dict({"model": {"generator": {"n_scales": 2, "width": 0.0625}}})
    state = {"step": 1, "config": config_to_dict(cfg), "generator": build_generator(cfg).state_dict()}
    save_checkpoint(state, tmp_path / "plain.pt")
    save_checkpoint({**state, "generator_ema": None}, tmp_path / "mine.pt")  # no average kept, written by hand
    predictions = [load_model(tmp_path / name, device="cpu").predict(_pan()[:4]) for name in ("plain.pt", "mine.pt")]
    assert np.array_equal(*predictions)


def test_a_stream_refuses_a_frame_of_another_size(model):
    stream = model.stream()
    stream.push(_pan()[0])
    with pytest.raises(ValueError, match="frame 1 is 80x96, the frames before it 96x96"):
        stream.push(_pan()[1][:, :80])
    with pytest.raises(ValueError, match="frame 1: expected uint8 values 0-255, got float32"):  # counted as pushed
        stream.push(_pan()[1].astype(np.float32))


def test_grey_frames_are_read_as_three_equal_channels(model):
    grey = _pan()[:4, ..., 1]
    as_rgb = np.repeat(grey[..., None], 3, axis=-1)
    assert np.array_equal(model.predict(grey), model.predict(as_rgb))
    assert np.array_equal(model.predict(list(grey[..., None])), model.predict(as_rgb))


@pytest.mark.parametrize("frames, n_future, message", [
    (_pan()[:3], 1, "the model reads 4 known frames, got 3"),
    (_pan()[:4].astype(np.float32), 1, "frame 0: expected uint8 values 0-255, got float32"),
    (_pan()[0], 1, r"frames: one \(96, 96, 3\) frame"),
    ([_pan()[0], _pan()[1][:, :80]], 1, "frame 1 is 80x96, frame 0 96x96"),
    (_pan()[:4, ..., :2], 1, r"frame 0: expected \(H, W, 3\) RGB or \(H, W\) grey, got shape \(96, 96, 2\)"),
    ([], 1, "frames: got none"),
    (_pan()[:4, :, :0], 1, "frame 0 is 0x96: an empty frame"),
    (_pan()[:4], 0, "n_future must be a whole number >= 1, got 0"),
    (_pan()[:4], 1.5, "n_future must be a whole number >= 1, got 1.5"),
    ("my_clip.mp4", 1, "^frames: got the path 'my_clip.mp4', not frames: decode it first with "
                       r"vidpred.data.video_io.read_video$"),
    (Path("my_clip.mp4"), 1, "^frames: got the path 'my_clip.mp4', not frames"),
    (None, 1, "^frames: expected an array or a list of frames, got NoneType$"),
    (5, 1, "^frames: expected an array or a list of frames, got int$"),
    ([Path("a.png")] * 4, 1, "^frame 0: expected an image array, got 'a.png'$"),
])
def test_bad_input_is_refused_in_one_line(model, frames, n_future, message):
    with pytest.raises(ValueError, match=message):
        model.predict(frames, n_future)


def test_a_count_of_numpy_s_integer_type_is_a_whole_number(model):
    frames = _pan()
    n_future = np.int64(len(frames) - 4)  # as len(truth) or np.argmax give it
    assert np.array_equal(model.predict(frames[:4], n_future), model.predict(frames[:4], 3))
    with pytest.raises(ValueError, match="n_future must be a whole number >= 1"):
        model.predict(frames[:4], np.bool_(True))


def test_a_model_that_predicts_pixels_has_no_motion_to_give(tmp_path):
    cfg = config_from_dict({"model": {"generator": {"n_scales": 2, "width": 0.0625, "head": "pixels"}}})
    path = tmp_path / "pixels.pt"
    save_checkpoint({"step": 1, "config": config_to_dict(cfg), "generator": build_generator(cfg).state_dict()}, path)
    model = load_model(path, device="cpu")
    assert not model.predicts_motion and "head='pixels'" in repr(model)
    assert model.predict(_pan()[:4]).shape == (1, 96, 96, 3)
    with pytest.raises(ValueError, match=r"\(pixels\) predicts pixels, not motion"):
        model.predict(_pan()[:4], motion=True)


def test_a_missing_checkpoint_or_device_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.pt"):
        load_model(tmp_path / "nothing.pt")
    with pytest.raises(ValueError, match="^the checkpoint path is empty"):  # not the current folder
        load_model("")
    with pytest.raises(ValueError, match="device: unknown device 'tpu'"):
        load_model(device="tpu")


def test_the_baselines_predict_as_the_evaluation_does():
    clip = _pan()
    context = to_model_input(torch.from_numpy(clip[:4])[None])
    for name in ("dis", "farneback"):
        baseline = load_baseline(name)
        assert baseline.n_context == 2
        expected = to_uint8_frames(flow_extrapolation(context, 2, method=name))[0].numpy()
        assert np.array_equal(baseline.predict(clip[:4], n_future=2), expected), name
    copy = load_baseline("copy")
    assert copy.n_context == 1 and np.array_equal(copy.predict(clip[:4], n_future=2), clip[[3, 3]])
    assert [load_baseline(name).name for name in ("copy", "farneback", "dis")] == \
        ["last input", "Farneback flow (paper)", "DIS flow"]  # the evaluation's rows
    stream = copy.stream()
    assert np.array_equal(stream.push(clip[0]), clip[0])  # one known frame is enough to copy
    with pytest.raises(ValueError, match="predicts pixels, not motion"):
        copy.predict(clip[:4], motion=True)
    with pytest.raises(ValueError, match="unknown baseline 'raft'; choose from copy, farneback, dis"):
        load_baseline("raft")


def test_score_is_each_frames_psnr_ssim_sharpness_and_edges():
    from skimage.metrics import structural_similarity

    clip = _pan()
    truth = clip[4:6]
    copy = clip[[3, 3]]
    scores = score(copy, truth)
    assert sorted(scores) == ["edges", "psnr", "sharpness", "ssim"] and all(len(v) == 2 for v in scores.values())
    for k in range(2):
        assert scores["psnr"][k] == pytest.approx(_psnr(copy[k], truth[k]), abs=1e-5)  # frames in float32
        # The evaluation's SSIM: a Gaussian window of 11 px, sigma 1.5, per channel, on 8-bit intensities.
        expected = structural_similarity(copy[k], truth[k], channel_axis=-1, gaussian_weights=True, sigma=1.5,
                                         use_sample_covariance=False, data_range=255)
        assert scores["ssim"][k] == pytest.approx(expected, abs=1e-6)
    exact = score(truth, truth)
    assert exact["psnr"] == [pytest.approx(58.92, abs=0.01)] * 2 and exact["edges"] == [pytest.approx(1.0)] * 2
    assert scores["psnr"][1] < scores["psnr"][0]  # copying falls further behind a pan with every frame
    with pytest.raises(ValueError, match="give as many frames of the same size"):
        score(copy[:1], truth)
    with pytest.raises(ValueError, match=r"prediction \(2, 96, 94, 3\) and truth \(2, 96, 96, 3\): give as many frames"):
        score(copy[:, :, :94], truth)  # as many frames, of another size


def test_score_agrees_with_what_predict_py_writes():
    from vidpred.evaluation.prediction_scores import score_frame

    clip = _pan()
    truth, copy = clip[4:6], clip[[3, 3]]
    ours = score(copy, truth)
    theirs = {"psnr": [], "ssim": [], "edges": []}
    for k in range(2):
        as_input = [to_model_input(torch.from_numpy(x[k])[None, None])[:, :, 0] for x in (copy, truth)]
        score_frame(theirs, *as_input, with_ssim=True)
    for metric, values in theirs.items():
        assert ours[metric] == pytest.approx(values, abs=1e-6), metric


def test_unrounded_predictions_score_what_the_evaluation_scores(model):
    from vidpred.evaluation.prediction_scores import score_frame

    clip = _pan()
    levels = model.predict(clip[:4], n_future=2, rounded=False)
    assert levels.dtype == np.float32 and levels.shape == (2, 96, 96, 3) and 0 <= levels.min() <= levels.max() <= 255
    assert np.array_equal(np.rint(levels).astype(np.uint8), model.predict(clip[:4], n_future=2))
    context = to_model_input(torch.from_numpy(clip[:4])[None])
    method = load_checkpoint_predictor(default_model_path(), torch.device("cpu"))
    prediction = method.predict(context, 2, None)  # (1, 3, 2, H, W): what predict.py scores
    theirs = {"psnr": [], "ssim": [], "edges": []}
    for k in range(2):
        truth = to_model_input(torch.from_numpy(clip[4 + k])[None, None])[:, :, 0]
        score_frame(theirs, prediction[:, :, k].clamp(-1, 1), truth, with_ssim=True)
    ours = score(levels, clip[4:6])
    for metric, values in theirs.items():
        assert ours[metric] == pytest.approx(values, abs=1e-5), metric
    assert ours["psnr"][0] != score(np.rint(levels).astype(np.uint8), clip[4:6])["psnr"][0]  # rounding costs a little
    with pytest.raises(ValueError, match="frame 0: expected uint8 values 0-255, got float32"):
        model.predict(levels)  # known frames are 8-bit frames
    with pytest.raises(ValueError, match="prediction.s frame 1 is uint8, prediction.s frame 0 float32: give one kind of values"):
        score([levels[0], clip[5]], clip[4:6])
    with pytest.raises(ValueError, match="frame 0: its values must be finite grey levels 0-255"):
        score(np.full_like(levels, np.nan), clip[4:6])


def test_frames_too_small_to_score_are_refused_in_one_line():
    line = _pan()[4:6, 40:41]  # one pixel high
    with pytest.raises(ValueError, match=r"frames of 96x1: score needs at least 2x2 px"):
        score(line, line)
    assert score(_pan()[4:6, 40:42], _pan()[4:6, 40:42])["psnr"] == [pytest.approx(58.92, abs=0.01)] * 2


def test_float_predictions_on_another_scale_are_refused_rather_than_scored(model):
    clip = _pan()
    levels = model.predict(clip[:4], n_future=2, rounded=False)
    with pytest.raises(ValueError, match=r"prediction: its values lie within \[0, 1\], the truth's reach 2\d\d: give "
                                         "grey levels 0-255"):
        score(levels / 255, clip[4:6])  # a 6 dB PSNR otherwise, of frames that are right
    overshoot = levels[1].copy()
    overshoot[0, 0, :2] = -3, 256  # a network's output before clipping
    with pytest.raises(ValueError, match=r"^prediction's frame 1: its values must be grey levels 0-255, got -3 to 256"):
        score([levels[0], overshoot], clip[4:6])
    assert score(np.zeros((1, 8, 8, 3), np.float32), np.zeros((1, 8, 8, 3), np.uint8))["psnr"] == [
        pytest.approx(58.92, abs=0.01)]  # a black frame's prediction, rightly dark
    fade = np.zeros((1, 8, 8, 3), np.uint8)
    fade[..., 4:, :] = 5  # a fade from black: the truth reaches 5, a fine prediction stays under 1
    assert score(np.full((1, 8, 8, 3), 0.5, np.float32), fade)["psnr"][0] == pytest.approx(
        10 * np.log10(255**2 / np.mean((0.5 - fade) ** 2)), abs=0.01)
    with pytest.raises(ValueError, match=r"^truth's frame 0: expected uint8 values 0-255, got float32"):
        score(levels, clip[4:6].astype(np.float32))  # the truth is the frames as read: uint8


def test_loading_a_model_leaves_torch_s_random_state_as_it_was():
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    load_model(device="cpu")  # a network built without drawing initial weights, then given the checkpoint's
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("max_pairs", [0, -1, 2.5, "16", None, True])
def test_a_stream_keeping_no_flows_is_refused_when_made(model, max_pairs):
    with pytest.raises(ValueError, match=f"max_pairs must be a whole number >= 1, got {max_pairs!r}"):
        model.stream(max_pairs=max_pairs)  # not at the n_context-th push, the frame counted and no prediction made
    assert len(model.stream(max_pairs=np.int64(1))._flows) == 0


def test_a_push_that_fails_leaves_the_stream_as_it_was(model, monkeypatch):
    clip = _pan(n_frames=6)
    stream = model.stream()
    for frame in clip[:4]:
        stream.push(frame)
    predict = model.predict

    def out_of_memory(*args, **kwargs):
        raise RuntimeError("out of memory")  # or a Ctrl-C part way through the prediction

    monkeypatch.setattr(model, "predict", out_of_memory)
    with pytest.raises(RuntimeError, match="out of memory"):
        stream.push(clip[4])
    assert stream.n_pushed == 4
    monkeypatch.setattr(model, "predict", predict)
    assert np.array_equal(stream.push(clip[4]), model.predict(clip[1:5])[0])  # the frame again, read once
    assert stream.n_pushed == 5


def test_a_program_of_float64_tensors_gets_the_same_predictions(model):
    clip = _pan()
    expected = model.predict(clip[:4], n_future=2, rounded=False)
    torch.set_default_dtype(torch.float64)  # as scientific code sets it
    try:
        assert np.array_equal(model.predict(clip[:4], n_future=2, rounded=False), expected)  # loaded before
        loaded_now = load_model(device="cpu")
        assert np.array_equal(loaded_now.predict(clip[:4], n_future=2, rounded=False), expected)
        assert torch.get_default_dtype() == torch.float64
    finally:
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("call, error, message", [
    (lambda: load_model(device=None), TypeError, r"^device must be auto, cpu, cuda or cuda:N, got None$"),
    (lambda: load_model(3), TypeError, r"^checkpoint must be a path \(str or Path\) or None, got 3$"),
    (lambda: load_baseline(["dis"]), ValueError, r"^unknown baseline \['dis'\]; choose from copy, farneback, dis$"),
])
def test_an_argument_of_the_wrong_type_is_named_in_one_line(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_blur_discriminator_checkpoint_is_named_as_one(tmp_path):
    from vidpred.models.blur_discriminator import BlurDiscriminator, save_blur_discriminator

    path = tmp_path / "blur.pt"
    save_blur_discriminator(BlurDiscriminator(width=4, n_down=1), path, training={}, accuracy={})
    with pytest.raises(ValueError, match=r"blur.pt is a blur discriminator checkpoint, not a model's: give a training "
                                         r"run's checkpoint \(runs/<name>/checkpoints/best.pt\) or an export"):
        load_model(path, device="cpu")


def test_one_frame_given_to_score_is_refused_in_score_s_terms():
    frame = _pan()[4]
    with pytest.raises(ValueError, match=r"^prediction's frames: one \(96, 96, 3\) frame; give \(n, H, W, 3\) frames or "
                                         r"a list of frames$"):
        score(frame, frame)  # not 'the known frames', which predict reads
    assert score([frame], [frame])["psnr"] == [pytest.approx(58.92, abs=0.01)]


def test_a_near_black_prediction_of_dark_frames_is_scored():
    # Truths at grey levels 1 and 2: a prediction of 0.002 read as [0, 1] values (0.51 as grey
    # levels) fits them less than twice as well as it does as it is, so it is scored as it is.
    for level in (1, 2):
        truth = np.full((1, 8, 8, 3), level, np.uint8)
        prediction = np.full((1, 8, 8, 3), 0.002, np.float32)
        assert score(prediction, truth)["psnr"][0] == pytest.approx(
            10 * np.log10(255**2 / (level - 0.002) ** 2), abs=0.01)


def test_a_float_prediction_beyond_either_end_of_0_255_is_refused():
    truth = np.full((1, 8, 8, 3), 100, np.uint8)
    for bad in (-0.5, 255.5):
        prediction = np.full((1, 8, 8, 3), 100.0, np.float32)
        prediction[0, 0, 0, 0] = bad
        with pytest.raises(ValueError, match="its values must be grey levels 0-255"):
            score(prediction, truth)


@pytest.mark.parametrize("frame", [_pan()[0, ..., :1], np.dstack([_pan()[0], np.full((96, 96), 255, np.uint8)]),
                                   np.dstack(list(_pan()[:4, ..., 1]))],
                         ids=["grey (H, W, 1)", "RGBA", "dstacked grey"])
def test_one_frame_of_another_channel_count_is_refused_not_read_as_narrow_grey_frames(model, frame):
    with pytest.raises(ValueError, match=r"^frames: one \(96, 96, \d\) frame"):
        model.predict(frame)
    with pytest.raises(ValueError, match=r"^prediction's frames: one \(96, 96, \d\) frame"):
        score(frame, frame)


def test_a_bfloat16_tensor_is_named_as_not_uint8_and_scored_as_levels(model):
    frames = torch.from_numpy(_pan())
    with pytest.raises(ValueError, match="expected uint8 values 0-255"):
        model.predict(frames.to(torch.bfloat16))
    assert score(frames[4:].to(torch.bfloat16), frames[4:])["psnr"] == [pytest.approx(58.92, abs=0.01)] * 3


def test_a_long_video_is_read_from_its_newest_frames_without_copying_it_all(model, monkeypatch):
    clip = _pan()
    read, as_frames = [], api._as_frames
    monkeypatch.setattr(api, "_as_frames", lambda frames, **k: read.append(len(frames)) or as_frames(frames, **k))
    expected = model.predict(clip)
    assert np.array_equal(expected, model.predict(list(clip)))
    assert np.array_equal(expected, model.predict(collections.deque(clip, maxlen=6)))  # a stream's last frames
    assert read == [model.n_context] * 3  # only the frames the model reads are checked and copied


@pytest.mark.parametrize("channels", [3, 4])
def test_one_channels_first_tensor_is_refused_not_read_as_grey_frames(model, channels):
    image = torch.from_numpy(np.dstack([_pan()[0], np.full((96, 96), 255, np.uint8)])[..., :channels]).permute(2, 0, 1)
    for predictor in (model, load_baseline("dis")):
        with pytest.raises(ValueError, match=rf"^frames: one \({channels}, 96, 96\) image, as torchvision reads one"):
            predictor.predict(image)
    frames = torch.from_numpy(_pan()[:4, ..., 0])
    assert predictor.predict(frames[:, :, :, None]).shape == (1, 96, 96, 3)  # grey frames as (T, H, W, 1) are read

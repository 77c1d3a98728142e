"""vidpred/commands/run_ablations.py: what it runs for procedural and real-video configs, and its summary."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from vidpred.commands import run_ablations
from vidpred.config import dump_config, load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ablations(monkeypatch):
    """The command's module, with its subprocess runner replaced by a recorder."""
    calls = []

    def fake_run(cmd, log_path, threads, stop=None):
        calls.append(cmd)
        if "vidpred.commands.train" in cmd:  # leave what a finished training leaves
            run_dir = Path(cmd[cmd.index("--run-dir") + 1])
            overrides = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--set"]
            (run_dir / "config.yaml").write_text(dump_config(load_config(cmd[cmd.index("--config") + 1], overrides)))
            (run_dir / "final_metrics.json").write_text(json.dumps({"step": 3, "model": {"psnr_whole_f1": 25.0, "ssim_whole_f2": 0.5}}))
            rows = [{"step": s, "d_acc_real": 0.7, "d_acc_fake": 0.8, "d_acc": 0.75, "d_gap": 1.0} for s in (1, 2, 3)]
            (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return 0, 1.0

    monkeypatch.setattr(run_ablations, "_run", fake_run)
    monkeypatch.setattr(run_ablations, "calls", calls, raising=False)
    return run_ablations


def test_procedural_rows_are_scored_on_three_clips_of_each_test_video(ablations, tmp_path):
    configs = [ROOT / "configs" / "ablations" / "adv_gdl.yaml", ROOT / "configs" / "ablations" / "gdl_l1.yaml"]
    assert ablations.main(["--configs", *map(str, configs), "--out", str(tmp_path), "--jobs", "1"]) == 0
    train, evaluate = ablations.calls[:2], ablations.calls[2]
    assert all(c[:3] == [sys.executable, "-m", "vidpred.commands.train"] for c in train)  # from any folder
    assert evaluate[:3] == [sys.executable, "-m", "vidpred.commands.eval_ucf101"]
    assert [c[c.index("--run-dir") + 1] for c in train] == [str(tmp_path / "adv_gdl"), str(tmp_path / "gdl_l1")]
    assert evaluate[evaluate.index("--data") + 1] == "procedural"
    assert evaluate[evaluate.index("--clips-per-video") + 1] == "3"
    assert "data.procedural.n_test_videos=16" in evaluate
    summary = (tmp_path / "summary.md").read_text()
    assert "| adv_gdl | ok | 0.0 | 25.00 | - | - | - | 0.50 | - |" in summary  # the trainer's final scores
    assert "| adv_gdl | multi-scale | 2-3 (2 logs) | 0.700 | 0.800 | 0.750 | 1.000 |" in summary


def test_real_video_rows_are_scored_on_the_held_out_clip(ablations, tmp_path):
    config = ROOT / "configs" / "ablations" / "real" / "adv_gdl.yaml"
    assert ablations.main(["--configs", str(config), "--out", str(tmp_path), "--no-eval"]) == 0
    ablations.calls.clear()
    assert ablations._evaluate(["adv_gdl"], tmp_path, 1, ablations._evaluation_data(config, load_config(config)), tmp_path / "eval") == 0
    (evaluate,) = ablations.calls
    assert evaluate[evaluate.index("--data") + 1] == "samples"
    assert evaluate[evaluate.index("--clips-per-video") + 1] == "12"
    assert not any(arg.startswith("data.procedural") for arg in evaluate)


def test_procedural_and_real_video_rows_given_together_are_each_scored_on_their_own_data(ablations, tmp_path):
    configs = [ROOT / "configs" / "ablations" / "l1.yaml", ROOT / "configs" / "ablations" / "real" / "adv_gdl.yaml",
               ROOT / "configs" / "ablations" / "l2.yaml"]
    assert ablations.main(["--configs", *map(str, configs), "--out", str(tmp_path), "--jobs", "1"]) == 0
    evaluations = [c for c in ablations.calls if "vidpred.commands.eval_ucf101" in c]
    scored = {c[c.index("--data") + 1]: ([a for a in c[c.index("--name") + 1:] if not a.startswith("--")],
                                         c[c.index("--out") + 1]) for c in evaluations}
    assert scored == {"procedural": (["l1", "l2"], str(tmp_path / "eval" / "procedural")),
                      "samples": (["adv_gdl"], str(tmp_path / "eval" / "samples"))}
    summary = (tmp_path / "summary.md").read_text()
    assert f"{tmp_path / 'eval' / 'procedural' / 'report.md'} (exit 0)" in summary
    assert f"{tmp_path / 'eval' / 'samples' / 'report.md'} (exit 0)" in summary


def test_two_configs_of_one_file_name_are_refused_before_anything_trains(ablations, tmp_path, caplog):
    configs = [ROOT / "configs" / "ablations" / "adv_gdl.yaml", ROOT / "configs" / "ablations" / "real" / "adv_gdl.yaml"]
    assert ablations.main(["--configs", *map(str, configs), "--out", str(tmp_path)]) == 2
    assert (f"{configs[0]} and {configs[1]} would both train into {tmp_path / 'adv_gdl'}: give them in separate runs, "
            "each with its own --out") in caplog.text
    assert ablations.calls == []


def test_a_run_of_another_config_in_the_folder_is_refused_not_reported_as_this_configs(ablations, tmp_path, caplog):
    config = ROOT / "configs" / "ablations" / "gdl_l1.yaml"
    run = ["--configs", str(config), "--out", str(tmp_path), "--no-eval", "--set", "train.steps=3"]
    assert ablations.main(run) == 0
    assert ablations.main([*run, "--set", "train.val_every=1"]) == 0  # a change a run may resume with: reused
    assert "ok (earlier run)" in (tmp_path / "summary.md").read_text()
    ablations.calls.clear()
    assert ablations.main([*run, "--set", "loss.l_gdl=0.5"]) == 2
    assert (f"{tmp_path / 'gdl_l1'} holds a run of another config (loss.l_gdl: 1.0 -> 0.5): give another --out, or "
            "remove that run") in caplog.text
    assert ablations.calls == [] and "ok (earlier run)" in (tmp_path / "summary.md").read_text()


def test_a_study_of_fewer_configs_in_the_same_folder_names_the_runs_it_leaves_out(ablations, tmp_path, caplog):
    configs = [ROOT / "configs" / "ablations" / name for name in ("adv_gdl.yaml", "gdl_l1.yaml", "l1.yaml")]
    assert ablations.main(["--configs", *map(str, configs[:2]), "--out", str(tmp_path), "--jobs", "1"]) == 0
    assert "leave out" not in caplog.text
    assert ablations.main(["--configs", str(configs[2]), "--out", str(tmp_path)]) == 0  # one config more, or retried
    assert f"{tmp_path} holds the runs adv_gdl, gdl_l1, which this study's summary and evaluation leave out" in (
        caplog.text)


def test_a_summary_no_ablation_run_wrote_is_refused_unless_forced(ablations, tmp_path, caplog):
    config = ROOT / "configs" / "ablations" / "gdl_l1.yaml"
    run = ["--configs", str(config), "--out", str(tmp_path), "--no-eval", "--set", "train.steps=3"]
    for name in ("summary.md", "status.json"):
        (tmp_path / name).write_text("my notes")
        assert ablations.main(run) == 2
        assert (f"{tmp_path} holds {name} that no ablation run wrote: choose another --out, or pass --force to "
                "replace them") in caplog.text
        assert (tmp_path / name).read_text() == "my notes" and ablations.calls == []
        (tmp_path / name).unlink()
    assert ablations.main(run) == 0
    assert ablations.main(run) == 0  # its own summary is replaced
    (tmp_path / "summary.md").write_text("my notes")
    assert ablations.main([*run, "--force"]) == 0
    assert (tmp_path / "summary.md").read_text().startswith("# Ablation study\n")


def test_with_no_eval_data_it_could_not_evaluate_trains_all_the_same(ablations, tmp_path, caplog):
    config = ROOT / "configs" / "corpus_refiner.yaml"
    run = ["--configs", str(config), "--out", str(tmp_path), "--set", "train.steps=3"]
    assert ablations.main(run) == 2
    assert "the ablation runner evaluates procedural or samples data, not 'corpus'" in caplog.text
    assert ablations.calls == []
    assert ablations.main([*run, "--no-eval"]) == 0
    assert [c[c.index("--run-dir") + 1] for c in ablations.calls] == [str(tmp_path / "corpus_refiner")]


def test_without_configs_here_or_given_it_says_where_it_looked(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    assert run_ablations.main(["--out", "out"]) == 2
    assert "no configs in" in caplog.text and "give --configs" in caplog.text and list(tmp_path.iterdir()) == []


def test_a_final_metrics_file_of_an_older_run_is_read_under_todays_keys():
    old = {"step": 3, "model": {"psnr": 25.0, "psnr_f2": 22.0, "ssim": 0.9}, "last_input_baseline": {"psnr": 1.0}}
    assert run_ablations._model_scores(old) == {"psnr_whole_f1": 25.0, "psnr_whole_f2": 22.0, "ssim_whole_f1": 0.9}
    new = {"step": 3, "model": {"psnr_whole_f1": 25.0}, "last input": {"psnr_whole_f1": 1.0}}
    assert run_ablations._model_scores(new) == {"psnr_whole_f1": 25.0}


def test_ctrl_c_starts_no_other_training_and_writes_the_summary_of_the_runs_so_far(ablations, tmp_path, monkeypatch,
                                                                                   caplog):
    import os
    import signal

    configs = [ROOT / "configs" / "ablations" / f"{name}.yaml" for name in ("l1", "l2", "gdl_l1")]
    finished, trained = ablations._run, []

    def ctrl_c_in_the_2nd_training(cmd, log_path, threads, stop):  # the training saves its checkpoint and exits 130
        trained.append(cmd)
        if len(trained) == 2:
            os.kill(os.getpid(), signal.SIGINT)
            log_path.write_text("saved a checkpoint after step 2\n")
            return 128 + signal.SIGINT, 1.0
        return finished(cmd, log_path, threads, stop)

    monkeypatch.setattr(ablations, "_run", ctrl_c_in_the_2nd_training)
    before = signal.getsignal(signal.SIGINT)
    assert ablations.main(["--configs", *map(str, configs), "--out", str(tmp_path), "--jobs", "1"]) == 130
    assert signal.getsignal(signal.SIGINT) is before
    assert len(trained) == 2 and not any("vidpred.commands.eval_ucf101" in cmd for cmd in ablations.calls)
    status = {r["name"]: r["status"] for r in json.loads((tmp_path / "status.json").read_text())}
    assert status == {"l1": "ok", "l2": "stopped (resumes when run again)", "gdl_l1": "not started (stopped)"}
    assert (tmp_path / "summary.md").read_text().startswith(
        "partial: 1 of 3 runs, stopped by SIGINT: run the command again to resume the stopped runs and train the "
        "others.\n\n# Ablation study")


def test_the_study_s_overrides_reach_blur_pretraining_only_where_it_reads_them(ablations, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the config's blur discriminator file is relative: not there yet
    config = ROOT / "configs" / "ablations" / "adv_gdl_blur.yaml"
    assert ablations.main(["--configs", str(config), "--out", str(tmp_path / "study"), "--jobs", "1",
                           "--set", "train.steps=5", "--set", "data.n_val_clips=2",
                           "--set", "data.cache_dir=c"]) in (0, 1)
    pretrain, train = (next(cmd for cmd in ablations.calls if f"vidpred.commands.{name}" in cmd)
                       for name in ("pretrain_blur_discriminator", "train"))
    # train.steps would be refused there, and the validation clips are training's
    assert [a for a in pretrain if "=" in a] == ["data.cache_dir=c"]
    assert [a for a in train if "=" in a] == ["train.steps=5", "data.n_val_clips=2", "data.cache_dir=c"]


@pytest.mark.parametrize("failing", [("l2",), ("l1", "l2")])
def test_a_failed_run_is_reported_in_the_summary_and_the_study_goes_on(ablations, tmp_path, monkeypatch, failing):
    configs = [ROOT / "configs" / "ablations" / f"{name}.yaml" for name in ("l1", "l2")]
    finished = ablations._run

    def l2_fails(cmd, log_path, threads, stop=None):  # e.g. pretrained weights missing
        if "vidpred.commands.train" in cmd and Path(cmd[cmd.index("--config") + 1]).stem in failing:
            log_path.write_text("ERROR vidpred: no such file: vgg19.pth\n")
            return 2, 1.0
        return finished(cmd, log_path, threads, stop)

    monkeypatch.setattr(ablations, "_run", l2_fails)
    assert ablations.main(["--configs", *map(str, configs), "--out", str(tmp_path), "--jobs", "1"]) == 1
    status = {r["name"]: r["status"] for r in json.loads((tmp_path / "status.json").read_text())}
    assert status["l2"] == "failed: ERROR vidpred: no such file: vgg19.pth"
    assert status["l1"] == ("ok" if "l1" not in failing else "failed: ERROR vidpred: no such file: vgg19.pth")
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("# Ablation study")  # not marked partial: nothing was stopped
    assert any("vidpred.commands.eval_ucf101" in cmd for cmd in ablations.calls) is ("l1" not in failing)


def test_stopped_before_any_run_finished_it_still_writes_which_runs_resume(ablations, tmp_path, monkeypatch):
    import os
    import signal

    configs = [ROOT / "configs" / "ablations" / f"{name}.yaml" for name in ("l1", "l2")]

    def sigterm_in_the_1st_training(cmd, log_path, threads, stop):  # it saves its checkpoint and exits 143
        os.kill(os.getpid(), signal.SIGTERM)
        log_path.write_text("saved a checkpoint after step 2\n")
        return 128 + signal.SIGTERM, 1.0

    monkeypatch.setattr(ablations, "_run", sigterm_in_the_1st_training)
    assert ablations.main(["--configs", *map(str, configs), "--out", str(tmp_path), "--jobs", "1"]) == 143
    status = {r["name"]: r["status"] for r in json.loads((tmp_path / "status.json").read_text())}
    assert status == {"l1": "stopped (resumes when run again)", "l2": "not started (stopped)"}
    assert (tmp_path / "summary.md").read_text().startswith("partial: 0 of 2 runs, stopped by SIGTERM")


@pytest.mark.parametrize("stopped_in", ["the blur discriminator's pretraining", "the evaluation"])
def test_a_stop_outside_the_trainings_reaches_the_command_under_way_and_the_summary_is_written(
        ablations, tmp_path, monkeypatch, stopped_in):
    import os
    import signal

    configs = [ROOT / "configs" / "ablations" / f"{name}.yaml" for name in ("adv_gdl_blur", "l1")]
    finished, passed_on = ablations._run, []

    def sigterm_in(cmd, log_path, threads, stop=None):  # a kill of run_ablations alone, during that command
        step = ("vidpred.commands.pretrain_blur_discriminator" if stopped_in.endswith("pretraining")
                else "vidpred.commands.eval_ucf101")
        if step in cmd:
            passed_on.append(stop)
            os.kill(os.getpid(), signal.SIGTERM)
            return 128 + signal.SIGTERM, 1.0
        return finished(cmd, log_path, threads, stop)

    monkeypatch.setattr(ablations, "_run", sigterm_in)
    blur = tmp_path / "blur.pt"
    args = ["--configs", *map(str, configs), "--out", str(tmp_path), "--jobs", "1",
            "--set", f"model.blur_discriminator.checkpoint={blur}"]
    assert ablations.main(args) == 143
    (stop,) = passed_on
    assert stop is not None and stop.signal == signal.SIGTERM  # the command was run through the stop request
    summary = (tmp_path / "summary.md").read_text()
    status = {r["name"]: r["status"] for r in json.loads((tmp_path / "status.json").read_text())}
    if stopped_in == "the evaluation":
        assert status == {"adv_gdl_blur": "ok", "l1": "ok"}
        assert "## Evaluation\n\nstopped by SIGTERM:" in summary and "run the command again to evaluate" in summary
    else:  # no training started
        assert status == {"adv_gdl_blur": "not started (stopped)", "l1": "not started (stopped)"}
        assert summary.startswith("partial: 0 of 2 runs, stopped by SIGTERM")
        assert not any("vidpred.commands.train" in cmd for cmd in ablations.calls)


def test_a_failed_run_s_status_is_its_error_without_the_log_s_time_stamp_and_fits_one_table_cell(tmp_path):
    log = tmp_path / "stdout.log"
    log.write_text("2026-12-05 13:00:00,123 INFO vidpred: step 1\n"
                   "2026-12-05 13:00:01,456 [rank 0] ERROR vidpred: loss.l_gdl | loss.l_adv: not finite\n")
    assert run_ablations._last_error(log) == "ERROR vidpred: loss.l_gdl \\| loss.l_adv: not finite"


def test_report_folders_are_one_per_kind_of_data_and_numbered_within_a_source(tmp_path):
    small, large = ("--data", "procedural", "--set", "h=32"), ("--data", "procedural", "--set", "h=64")
    samples = ("--data", "samples")
    assert run_ablations._eval_dirs({small: ["l1"]}, tmp_path) == {small: tmp_path / "eval"}
    assert run_ablations._eval_dirs({small: ["l1"], samples: ["adv_gdl"], large: ["l2"]}, tmp_path) == {
        small: tmp_path / "eval" / "procedural", samples: tmp_path / "eval" / "samples",
        large: tmp_path / "eval" / "procedural-2"}

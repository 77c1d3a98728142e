"""vidpred/training/run_log.py: what a run writes, and each step logged once across resumes."""

from __future__ import annotations

import errno
import json
from types import SimpleNamespace

import pytest
import torch

from vidpred.config import Config, dump_config, load_config
from vidpred.training.run_log import (RunLog, RunLogError, check_new_run_dir, check_run_dir, final_metrics,
                                      read_step_rows, read_validation)


def test_a_fresh_run_writes_its_config_and_logs(tmp_path):
    cfg = Config()
    with RunLog(tmp_path / "run", cfg, step=0) as run_log:
        run_log.train(1, {"g_total": 0.5})
        run_log.validation(1, 2.34567, {"model": {"psnr_whole_f1": 20.0}, "blend_weight": 0.5})
        run_log.samples(1, torch.rand(3, 8, 8), torch.rand(3, 8, 8))
        run_log.final({"step": 1})
    run = tmp_path / "run"
    assert load_config(run / "config.yaml") == cfg
    assert json.loads((run / "metrics.jsonl").read_text()) == {"step": 1, "g_total": 0.5}
    assert json.loads((run / "validation.jsonl").read_text()) == {"step": 1, "train_seconds": 2.346,
                                                                  "model": {"psnr_whole_f1": 20.0}, "blend_weight": 0.5}
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["flow_0000001.png", "step_0000001.png"]
    assert json.loads((run / "final_metrics.json").read_text()) == {"step": 1}
    assert len(list(run.glob("events.out.tfevents.*"))) == 1


def test_a_resumed_run_drops_what_was_logged_after_its_checkpoint(tmp_path, logged_steps):
    run = tmp_path / "run"
    with RunLog(run, Config(), step=0) as run_log:
        for step in range(1, 6):
            run_log.train(step, {"g_total": float(step)})
            if step % 2 == 0:
                run_log.validation(step, 0.0, {"model": {"psnr_whole_f1": 1.0}})
    # Killed after step 5, the last checkpoint at step 3: steps 4 and 5 will be logged again.
    with RunLog(run, Config(), step=3) as run_log:
        run_log.train(4, {"g_total": 4.0})
    assert logged_steps(run / "metrics.jsonl") == [1, 2, 3, 4]
    assert logged_steps(run / "validation.jsonl") == [2]


def test_a_fresh_run_in_a_used_folder_starts_new_logs(tmp_path):
    run = tmp_path / "run"
    with RunLog(run, Config(), step=0) as run_log:
        run_log.train(1, {"g_total": 1.0})
    with RunLog(run, Config(), step=0) as run_log:
        run_log.train(1, {"g_total": 2.0})
    assert [json.loads(line)["g_total"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [2.0]
    assert len(list(run.glob("events.out.tfevents.*"))) == 1


def test_final_metrics_is_the_last_validation_record():
    record = {"model": {"psnr_whole_f1": 30.0, "psnr_whole_f2": 28.0}, "last input": {"psnr_whole_f1": 25.0},
              "blend": {"psnr_whole_f1": 26.7}, "blend_weight": 0.2}
    assert final_metrics(7, 4, 12.34567, record) == {"step": 7, "n_val_clips": 4, "train_seconds": 12.346, **record}


def test_the_scores_go_to_tensorboard_as_val_method_key(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with RunLog(tmp_path / "run", Config(), step=0) as run_log:
        run_log.validation(2, 1.0, {"model": {"psnr_whole_f1": 20.0}, "last input": {"psnr_whole_f1": 18.0},
                                    "blend_weight": 0.5})
    events = EventAccumulator(str(tmp_path / "run"))
    events.Reload()
    assert set(events.Tags()["scalars"]) == {"val/model/psnr_whole_f1", "val/last input/psnr_whole_f1",
                                             "val/blend_weight"}


def test_an_old_runs_flat_validation_lines_are_read_in_todays_shape(tmp_path):
    path = tmp_path / "validation.jsonl"
    old = {"step": 2, "train_seconds": 1.5, "psnr": 30.0, "psnr_f2": 28.0, "ssim": 0.9, "edges": 0.8,
           "baseline_psnr": 25.0, "baseline_sharpness_f2": 20.0, "flow_psnr": 26.0, "dis_ssim_f2": 0.7,
           "blend_psnr": 26.5, "blend_weight": 0.3}
    new = {"step": 4, "train_seconds": 3.0, "model": {"psnr_whole_f1": 31.0}, "blend_weight": 0.3}
    path.write_text(json.dumps(old) + "\n" + json.dumps(new) + "\n" + '{"step": 6, "psn')  # the last cut short
    assert read_validation(path) == [
        {"step": 2, "train_seconds": 1.5, "blend_weight": 0.3,
         "model": {"psnr_whole_f1": 30.0, "psnr_whole_f2": 28.0, "ssim_whole_f1": 0.9, "edges_whole_f1": 0.8},
         "last input": {"psnr_whole_f1": 25.0, "sharpness_whole_f2": 20.0},
         "Farneback flow (paper)": {"psnr_whole_f1": 26.0}, "DIS flow": {"ssim_whole_f2": 0.7},
         "blend": {"psnr_whole_f1": 26.5}},
        new,
    ]
    assert read_validation(tmp_path / "missing.jsonl") == []


@pytest.mark.parametrize("name", ["checkpoints/best.pt", "events.out.tfevents.1700000000.host.1.0", "samples/mine.png",
                                  "metrics.jsonl"])
def test_a_new_run_refuses_a_folder_holding_a_file_it_would_replace_unless_a_run_left_it(tmp_path, name):
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_bytes(b"mine")
    with pytest.raises(FileExistsError, match=f"holds {name} that no vidpred run wrote"):
        check_new_run_dir(tmp_path)
    (tmp_path / "config.yaml").write_text("train:\n  steps: 10\n")  # a config of the user's, not a run's
    with pytest.raises(FileExistsError, match=f"holds config.yaml, {name} that no vidpred run wrote"):
        check_new_run_dir(tmp_path)
    (tmp_path / "config.yaml").write_text(dump_config(Config()))  # as a run stopped before its 1st checkpoint left it
    check_new_run_dir(tmp_path)


def test_each_logged_line_is_in_its_file_when_the_call_returns(tmp_path):
    with RunLog(tmp_path, Config(), step=0) as run_log:
        run_log.train(1, {"g_total": 0.5})
        run_log.validation(1, 0.0, {"model": {"psnr_whole_f1": 20.0}})
        run_log.samples(2, torch.rand(3, 8, 8))  # a head without motion: no flow picture
        # read while the files are open: a run killed now keeps all of it
        assert json.loads((tmp_path / "metrics.jsonl").read_text()) == {"step": 1, "g_total": 0.5}
        assert json.loads((tmp_path / "validation.jsonl").read_text())["model"] == {"psnr_whole_f1": 20.0}
        assert run_log.has_samples(2) and not run_log.has_samples(1)


def test_a_log_that_fails_to_close_is_an_error_unless_another_came_first(tmp_path, monkeypatch):
    def disk_full():
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(RunLogError, match=r"cannot write .*metrics.jsonl: No space left on device"):
        with RunLog(tmp_path / "a", Config(), step=0) as run_log:
            monkeypatch.setattr(run_log._metrics, "close", disk_full)
    with pytest.raises(KeyError, match="the first error"):
        with RunLog(tmp_path / "b", Config(), step=0) as run_log:
            monkeypatch.setattr(run_log._metrics, "close", disk_full)
            raise KeyError("the first error")


@pytest.mark.parametrize("now, wait", [
    (1_700_000_005.25, 0.75),  # within the second the last file was opened in: wait for the next
    (1_700_000_004.5, 1.5),  # a file stamped a second ahead (another host's clock): wait past it
    (1_700_000_006.0, None),  # a second later already: a new file sorts after it
    (1_700_000_005 - 600, None),  # the clock set back by minutes: not ours to wait for
])
def test_a_resumed_run_s_event_file_sorts_after_its_killed_predecessor_s(tmp_path, monkeypatch, now, wait):
    from vidpred.training import run_log as run_log_module

    for name in ("events.out.tfevents.1700000005.host.1.0", "events.out.tfevents.1700000003.host.2.0",
                 "events.out.tfevents.backup"):  # a name without a time: not one TensorBoard sorts by it
        (tmp_path / name).write_bytes(b"")
    slept = []
    monkeypatch.setattr(run_log_module, "time", SimpleNamespace(time=lambda: now, sleep=slept.append))
    run_log_module._after_the_last_event_file(tmp_path)
    assert slept == ([] if wait is None else [pytest.approx(wait)])


def test_the_picture_grids_go_to_tensorboard_at_their_step(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with RunLog(tmp_path / "run", Config(), step=0) as run_log:
        run_log.samples(3, torch.rand(3, 8, 8), torch.rand(3, 8, 4))
        run_log.samples(5, torch.rand(3, 8, 8))  # a head without motion
    events = EventAccumulator(str(tmp_path / "run"))
    events.Reload()
    images = {tag: [(e.step, e.width, e.height) for e in events.Images(tag)] for tag in events.Tags()["images"]}
    assert images == {"samples/context|prediction|target|error": [(3, 8, 8), (5, 8, 8)], "samples/flow|mask": [(3, 4, 8)]}


def test_a_run_folder_whose_checkpoints_cannot_be_written_is_refused(tmp_path, read_only):
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    read_only(tmp_path / "run" / "checkpoints")
    with pytest.raises(RunLogError, match=r"the run folder .*checkpoints is not writable"):
        check_run_dir(tmp_path / "run")


def test_a_run_resumed_at_step_1_keeps_step_1s_lines(tmp_path, logged_steps):
    run = tmp_path / "run"
    with RunLog(run, Config(), step=0) as run_log:
        for step in (1, 2):
            run_log.train(step, {"g_total": float(step)})
    with RunLog(run, Config(), step=1):
        pass
    assert logged_steps(run / "metrics.jsonl") == [1]


def test_a_log_line_without_a_step_is_not_a_row(tmp_path):
    (tmp_path / "validation.jsonl").write_text('{"step": 1, "model": {}}\n{"note": "mine"}\n[1, 2]\n')
    assert read_step_rows(tmp_path / "validation.jsonl") == [{"step": 1, "model": {}}]


def test_a_resumed_run_keeps_its_checkpoints_own_step_in_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    with RunLog(run, Config(), step=0) as run_log:
        for step in (1, 2, 3):
            run_log.train(step, {"g_total": float(step)})
    with RunLog(run, Config(), step=2) as run_log:  # the checkpoint of step 2: step 3 is logged again
        run_log.train(3, {"g_total": 30.0})
    events = EventAccumulator(str(run))
    events.Reload()
    assert [(e.step, e.value) for e in events.Scalars("train/g_total")] == [(1, 1.0), (2, 2.0), (3, 30.0)]


def test_the_first_file_that_fails_to_close_is_the_one_reported(tmp_path, monkeypatch):
    def disk_full():
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(RunLogError, match=r"cannot write .*metrics.jsonl"):
        with RunLog(tmp_path, Config(), step=0) as run_log:
            monkeypatch.setattr(run_log._metrics, "close", disk_full)
            monkeypatch.setattr(run_log._validation, "close", disk_full)


def test_a_run_folder_whose_samples_cannot_be_written_is_refused_before_training(tmp_path, read_only):
    # found only at the first sample, the run would die before the checkpoint of that step
    (tmp_path / "run" / "samples").mkdir(parents=True)
    read_only(tmp_path / "run" / "samples")
    with pytest.raises(RunLogError, match=r"the run folder .*samples is not writable"):
        check_run_dir(tmp_path / "run")


def test_pictures_drawn_after_the_checkpoint_go_with_the_logs(tmp_path):
    with RunLog(tmp_path, Config(), step=0) as run_log:
        for step in (10, 20, 30):
            run_log.samples(step, torch.rand(3, 8, 8), torch.rand(3, 8, 4))
    (tmp_path / "samples" / "step_mine.png").write_bytes(b"a picture of the user's")
    with RunLog(tmp_path, Config(), step=20):  # resumed from the checkpoint at step 20
        pass
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == [
        "flow_0000010.png", "flow_0000020.png", "step_0000010.png", "step_0000020.png", "step_mine.png"]
    with RunLog(tmp_path, Config(), step=0):  # a new run over one stopped before its first checkpoint
        pass
    assert [p.name for p in (tmp_path / "samples").iterdir()] == ["step_mine.png"]


def test_a_resumed_run_s_config_is_shown_beside_the_first(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    first = Config()
    with RunLog(tmp_path / "run", first, step=0) as run_log:
        run_log.train(1, {"g_total": 0.5})
    resumed = Config()
    resumed.train.steps = first.train.steps + 7  # a resume may lengthen the run
    with RunLog(tmp_path / "run", resumed, step=1) as run_log:
        run_log.train(2, {"g_total": 0.4})
    events = EventAccumulator(str(tmp_path / "run"))
    events.Reload()
    texts = {e.step: e.tensor_proto.string_val[0].decode() for e in events.Tensors("config/text_summary")}
    assert sorted(texts) == [0, 2]
    assert f"steps: {first.train.steps}\n" in texts[0] and f"steps: {resumed.train.steps}\n" in texts[2]

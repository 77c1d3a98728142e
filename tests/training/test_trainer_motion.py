"""Training with the residual and flow heads, the weight EMA, the time budget and the
validation log (baselines beside the model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from vidpred.checkpoint import load_checkpoint, save_checkpoint
from vidpred.evaluation import load_checkpoint_predictor
from vidpred.training import trainer as trainer_module
from vidpred.training.monitor import TrainingDiverged
from vidpred.training.trainer import Trainer


def _validation(run_dir):
    return [json.loads(line) for line in (run_dir / "validation.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("head", ["residual", "flow"])
def test_heads_train_with_every_discriminator_loss(tiny_config, tmp_path, head):
    cfg = tiny_config(f"model.generator.head={head}", "train.n_future=2", "loss.l_path=1.0",
                      "model.spatiotemporal_discriminator.enabled=true", "model.spatiotemporal_discriminator.width=0.0625",
                      "model.spatiotemporal_discriminator.n_3d=1", "model.spatiotemporal_discriminator.n_2d=1",
                      "loss.adaptive_weight=true")
    trainer = Trainer(cfg, tmp_path / "run")
    before = [p.detach().clone() for p in trainer.generator.parameters()]
    final = trainer.fit()
    assert all(not torch.equal(a, b) for a, b in zip(before, trainer.generator.parameters()))
    assert set(final["model"]) >= {"psnr_whole_f1", "ssim_whole_f1", "sharpness_whole_f1"}
    assert all(torch.isfinite(torch.tensor(v)) for v in final["model"].values())


def test_flow_head_trained_on_32x32_predicts_a_240x320_frame(tiny_config, tmp_path):
    cfg = tiny_config("model.generator.head=flow", "data.patch_size=32", "model.discriminator.n_scales=3")
    trainer = Trainer(cfg, tmp_path / "run")
    trainer.fit()
    method = load_checkpoint_predictor(tmp_path / "run" / "checkpoints" / "latest.pt", torch.device("cpu"))
    context = torch.rand(1, 3, 4, 240, 320) * 2 - 1
    prediction = method.predict(context, 2, None)
    assert prediction.shape == (1, 3, 2, 240, 320) and torch.isfinite(prediction).all()
    assert method.info["head"] == "flow"
    # Motion pictures are written beside the samples.
    assert sorted(p.name for p in (tmp_path / "run" / "samples").glob("flow_*.png")) == [
        "flow_0000002.png", "flow_0000004.png"]


def test_validation_log_holds_both_baselines_and_train_time(tiny_config, tmp_path):
    final = Trainer(tiny_config("train.val_n_future=2"), tmp_path / "run").fit()
    rows = _validation(tmp_path / "run")
    assert [r["step"] for r in rows] == [2, 4]
    assert 0 < rows[0]["train_seconds"] < rows[1]["train_seconds"]
    flow = "Farneback flow (paper)"
    for method, key in (("model", "psnr_whole_f1"), ("last input", "psnr_whole_f1"), (flow, "psnr_whole_f1"),
                        (flow, "ssim_whole_f2"), (flow, "sharpness_whole_f1")):
        assert key in rows[0][method], (method, key)
    # The flow baseline does not change with training; it is a real, different predictor.
    assert rows[0][flow]["psnr_whole_f1"] == rows[1][flow]["psnr_whole_f1"] != rows[0]["last input"]["psnr_whole_f1"]
    assert final[flow]["psnr_whole_f1"] == rows[1][flow]["psnr_whole_f1"]
    assert final["train_seconds"] == pytest.approx(rows[1]["train_seconds"], abs=1e-3)


def test_max_minutes_stops_training_and_still_validates(tiny_config, tmp_path):
    final = Trainer(tiny_config("train.steps=100000", "train.max_minutes=0.002"), tmp_path / "run").fit()
    assert 1 <= final["step"] < 100000 and final["train_seconds"] >= 0.12
    saved = torch.load(tmp_path / "run" / "checkpoints" / "latest.pt", weights_only=True)
    assert saved["step"] == final["step"]
    assert _validation(tmp_path / "run")[-1]["step"] == final["step"]
    # Resuming a run whose budget is spent trains no further.
    again = Trainer(tiny_config("train.steps=100000", "train.max_minutes=0.002"), tmp_path / "run", resume=True)
    assert again.fit()["step"] == final["step"]


def test_the_step_max_minutes_ends_at_is_logged_validated_and_saved_off_schedule(tiny_config, tmp_path):
    # No schedule reaches the last step: running out of time makes it log, validate and save anyway.
    every = ("train.log_every=1000", "train.val_every=1000", "train.ckpt_every=1000", "train.sample_every=1000")
    final = Trainer(tiny_config("train.steps=100000", "train.max_minutes=0.002", *every), tmp_path / "run").fit()
    assert 1 <= final["step"] < 1000
    assert torch.load(tmp_path / "run" / "checkpoints" / "latest.pt", weights_only=True)["step"] == final["step"]
    assert [row["step"] for row in _validation(tmp_path / "run")] == [final["step"]]
    metrics = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in metrics] == [final["step"]]


def test_a_run_whose_time_is_exactly_spent_trains_no_further(tiny_config, tmp_path):
    trainer = Trainer(tiny_config("train.steps=100", "train.max_minutes=0.5"), tmp_path / "run")
    trainer.train_seconds = 30.0  # as a resumed run whose budget another rank's end set it to
    assert trainer.fit()["step"] == 0


def test_ema_follows_the_weights_and_is_what_is_loaded(tiny_config, tmp_path):
    trainer = Trainer(tiny_config("train.ema_decay=0.5"), tmp_path / "run")
    before = [p.detach().clone() for p in trainer.generator_ema.parameters()]
    trainer.fit()
    raw, ema = list(trainer.generator.parameters()), list(trainer.generator_ema.parameters())
    assert all(not torch.equal(a, b) for a, b in zip(before, ema))
    assert all(not torch.equal(a, b) for a, b in zip(raw, ema))
    state = torch.load(tmp_path / "run" / "checkpoints" / "latest.pt", weights_only=True)
    method = load_checkpoint_predictor(tmp_path / "run" / "checkpoints" / "latest.pt", torch.device("cpu"))
    assert method.info["weights"] == "generator_ema"
    for key, value in method.predict.generator.state_dict().items():
        assert torch.equal(value, state["generator_ema"][key])


@pytest.mark.parametrize("step, decay", [(0, 0.1), (8, 0.5), (100, 0.9)])
def test_ema_update_by_hand(tiny_config, tmp_path, step, decay):
    # decay = min(train.ema_decay, (1 + step) / (10 + step)): 1/10 at step 0, 9/18 at step 8, 0.9 from 80 on
    trainer = Trainer(tiny_config("train.ema_decay=0.9"), tmp_path / "run")
    trainer.step = step
    ema_before = [p.detach().clone() for p in trainer.generator_ema.parameters()]
    with torch.no_grad():
        for p in trainer.generator.parameters():
            p.add_(1.0)
    trainer._update_ema()
    for e0, w, e1 in zip(ema_before, trainer.generator.parameters(), trainer.generator_ema.parameters()):
        torch.testing.assert_close(e1, decay * e0 + (1 - decay) * w)


def test_resume_with_ema_and_flow_head_reproduces_the_uninterrupted_run(tiny_config, tmp_path):
    overrides = ["model.generator.head=flow", "train.ema_decay=0.9"]
    full = Trainer(tiny_config(*overrides, "train.steps=6"), tmp_path / "full")
    full.fit()
    Trainer(tiny_config(*overrides, "train.steps=3"), tmp_path / "split").fit()
    resumed = Trainer(tiny_config(*overrides, "train.steps=6"), tmp_path / "split", resume=True)
    resumed.fit()
    for a, b in zip(full.generator_ema.parameters(), resumed.generator_ema.parameters()):
        assert torch.equal(a, b)
    for a, b in zip(full.generator.parameters(), resumed.generator.parameters()):
        assert torch.equal(a, b)


def test_a_stop_signal_during_validation_ends_it_between_batches(tiny_config, tmp_path, monkeypatch):
    import signal

    import vidpred.training.validation as validation

    trainer = Trainer(tiny_config("data.n_val_clips=32", "train.batch_size=2", "train.steps=2", "train.val_every=2"),
                      tmp_path / "run")
    calls = []
    real_predict = validation.predict_clips

    def predict_and_signal(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # SIGTERM arrives while the 2nd of 16 batches is being scored
            trainer._stop.request(signal.SIGTERM)
        return real_predict(*args, **kwargs)

    monkeypatch.setattr(validation, "predict_clips", predict_and_signal)
    result = trainer.fit()
    assert result["interrupted"] == signal.SIGTERM and result["step"] == 2
    assert len(calls) == 2  # not 16
    assert torch.load(tmp_path / "run" / "checkpoints" / "latest.pt", weights_only=True)["step"] == 2
    assert not (tmp_path / "run" / "validation.jsonl").read_text()  # the cut-short validation is not logged


def test_under_torchrun_too_a_stop_signal_ends_rank_0_s_validation_between_batches(tiny_config, tmp_path, monkeypatch):
    # Rank 0 alone validates (no collective inside): torchrun kills its workers 30 s after
    # passing on a stop, which a validation let run to its end could outlast.
    import signal

    import vidpred.training.validation as validation
    from vidpred.training.distributed import DistInfo

    trainer = Trainer(tiny_config("data.n_val_clips=32", "train.batch_size=2"), tmp_path / "run")
    trainer.dist = DistInfo(rank=0, local_rank=0, world_size=2)
    flows = []
    real_flow = validation.backward_flow
    monkeypatch.setattr(validation, "backward_flow", lambda *args: flows.append(1) or real_flow(*args))
    trainer._stop.request(signal.SIGTERM)
    assert trainer._validate_and_log(run_log=None, step=2) is None  # nothing logged
    assert flows == []  # not even the baselines' flows, computed at the first validation


def test_every_stop_signal_stops_the_run_with_a_checkpoint(tiny_config, tmp_path, monkeypatch):
    import os
    import signal

    import vidpred.cli as cli

    # SIGUSR1 stands in for Windows' SIGBREAK, which this system lacks
    monkeypatch.setattr(cli, "STOP_SIGNALS", (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1))
    trainer = Trainer(tiny_config("train.steps=5"), tmp_path / "run")
    real_step = trainer.train_step

    def step_then_signal():
        logs = real_step()
        if trainer.step == 2:
            os.kill(os.getpid(), signal.SIGUSR1)
        return logs

    monkeypatch.setattr(trainer, "train_step", step_then_signal)
    result = trainer.fit()
    assert result["interrupted"] == signal.SIGUSR1 and result["step"] == 2
    assert torch.load(tmp_path / "run" / "checkpoints" / "latest.pt", weights_only=True)["step"] == 2
    assert signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL  # the handler is put back


def test_after_a_kill_past_the_checkpoint_each_step_is_logged_once(tiny_config, tmp_path):
    import shutil

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir, ckpt = tmp_path / "run", tmp_path / "run" / "checkpoints" / "latest.pt"
    make = lambda steps: tiny_config(f"train.steps={steps}", "train.ckpt_every=2", "train.val_every=1")  # noqa: E731
    Trainer(make(2), run_dir).fit()
    shutil.copy(ckpt, tmp_path / "step2.pt")
    Trainer(make(3), run_dir, resume=True).fit()  # logs step 3 ...
    shutil.copy(tmp_path / "step2.pt", ckpt)  # ... but, as after a kill -9, its checkpoint never landed
    Trainer(make(4), run_dir, resume=True).fit()
    for name in ("metrics.jsonl", "validation.jsonl"):
        steps = [json.loads(line)["step"] for line in (run_dir / name).read_text().splitlines()]
        assert steps == [1, 2, 3, 4], name
    events = EventAccumulator(str(run_dir)).Reload()
    assert [e.step for e in events.Scalars("train/g_total")] == [1, 2, 3, 4]
    assert [e.step for e in events.Scalars("val/model/psnr_whole_f1")] == [1, 2, 3, 4]


def test_a_fresh_run_in_a_folder_without_a_checkpoint_starts_new_logs(tiny_config, tmp_path, logged_steps):
    run_dir = tmp_path / "run"
    Trainer(tiny_config("train.steps=2"), run_dir).fit()
    # as a run killed before its first checkpoint leaves it: no checkpoint, no final metrics
    for name in ("checkpoints/latest.pt", "checkpoints/best.pt", "final_metrics.json"):
        (run_dir / name).unlink()
    Trainer(tiny_config("train.steps=3"), run_dir).fit()
    assert logged_steps(run_dir / "metrics.jsonl") == [1, 2, 3]
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 1


def test_a_fresh_run_never_replaces_a_trained_run_whose_latest_pt_was_deleted(tiny_config, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    Trainer(tiny_config("train.steps=2"), run_dir).fit()
    (run_dir / "checkpoints" / "latest.pt").unlink()  # deleted to save space; best.pt kept
    kept = (run_dir / "checkpoints" / "best.pt").read_bytes()
    left = []  # under torchrun the refused trainer leaves the process group it joined
    monkeypatch.setattr(trainer_module, "cleanup", lambda info: left.append(info))
    with pytest.raises(FileExistsError, match=r"holds a trained run \(checkpoints/best.pt, final_metrics.json\) "
                                              "without checkpoints/latest.pt; a new run would replace it"):
        Trainer(tiny_config("train.steps=3"), run_dir)
    assert (run_dir / "checkpoints" / "best.pt").read_bytes() == kept and len(left) == 1


def test_a_best_pt_kept_before_the_first_checkpoint_step_is_no_trained_run(tiny_config, tmp_path):
    # Under torchrun a new best is written at its validation and latest.pt only at the next
    # checkpoint step: a run killed in between leaves best.pt alone, and starts afresh.
    run_dir = tmp_path / "run"
    Trainer(tiny_config("train.steps=2"), run_dir).fit()
    best = run_dir / "checkpoints" / "best.pt"
    state = load_checkpoint(best)
    state["step"], state["config"]["train"]["ckpt_every"] = 1, 1000
    save_checkpoint(state, best)
    for name in ("checkpoints/latest.pt", "final_metrics.json"):
        (run_dir / name).unlink()
    Trainer(tiny_config("train.steps=2"), run_dir)  # not refused


def test_latest_pt_is_written_once_at_a_step_that_validates_to_a_new_best(tiny_config, tmp_path, monkeypatch):
    written = []
    save = trainer_module.save_checkpoint
    monkeypatch.setattr(trainer_module, "save_checkpoint", lambda state, path: (written.append(
        (state["step"], Path(path).name)), save(state, path)))
    Trainer(tiny_config("train.steps=2", "train.val_every=1", "train.ckpt_every=1"), tmp_path / "run").fit()
    latest = [step for step, name in written if name == "latest.pt"]
    assert latest == [1, 2] and ("best.pt" in {name for _, name in written})  # each step's once, a best among them


def _refiner_config(tiny_config, *extra):
    return tiny_config("model.generator.head=refiner", "model.generator.n_scales=1", "model.generator.width=0.125",
                       "model.discriminator.enabled=false", "loss.l_adv=0", "loss.multiscale=false",
                       "train.n_future=2", "train.val_n_future=2", "data.synthetic_weight=0.5",
                       "data.synthetic.n_videos=3", "data.synthetic.n_frames=8", "data.synthetic.height=32",
                       "data.synthetic.width=32", *extra)


def test_refiner_trains_on_real_and_synthetic_clips_and_resumes_exactly(tiny_config, tmp_path):
    full = Trainer(_refiner_config(tiny_config), tmp_path / "full")
    before = [p.detach().clone() for p in full.generator.parameters()]
    full.fit()
    assert all(not torch.equal(a, b) for a, b in zip(before, full.generator.parameters()))
    first = Trainer(_refiner_config(tiny_config, "train.steps=2"), tmp_path / "resumed")
    first.fit()
    resumed = Trainer(_refiner_config(tiny_config), tmp_path / "resumed", resume=True)
    resumed.fit()
    for a, b in zip(full.generator.parameters(), resumed.generator.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    rows = _validation(tmp_path / "full")
    assert {"psnr_whole_f1", "edges_whole_f1"} <= set(rows[-1]["model"]) & set(rows[-1]["DIS flow"])
    method = load_checkpoint_predictor(tmp_path / "full" / "checkpoints" / "latest.pt", torch.device("cpu"))
    assert method.info["head"] == "refiner"
    prediction = method.predict(torch.rand(1, 3, 4, 240, 320) * 2 - 1, 2, None)
    assert prediction.shape == (1, 3, 2, 240, 320) and torch.isfinite(prediction).all()
    # Its flow pictures are written beside the samples.
    assert sorted(p.name for p in (tmp_path / "full" / "samples").glob("flow_*.png")) == [
        "flow_0000002.png", "flow_0000004.png"]


def test_a_refiner_saturated_everywhere_stops_the_run_keeping_the_checkpoint_before_it(tiny_config, tmp_path,
                                                                                     logged_losses):
    # Its candidate weights and correction at their limits: the gradient is exactly zero, as in
    # a run whose features had grown to 10^7 (docs/results.md), and no step can bring it back.
    run_dir = tmp_path / "run"
    Trainer(_refiner_config(tiny_config, "train.steps=2", "train.log_every=1", "train.precision=fp32"), run_dir).fit()
    resumed = Trainer(_refiner_config(tiny_config, "train.steps=30", "train.log_every=1", "train.ckpt_every=100",
                                      "train.val_every=100", "train.sample_every=100", "train.precision=fp32"),
                      run_dir, resume=True)
    K, g_step = resumed.generator.n_candidates, resumed.g_step

    def saturating(x):  # the update of step 3 saturates it: step 4's gradient is the first that is zero
        logs = g_step(x)
        if resumed.step == 2:
            with torch.no_grad():
                resumed.generator.out.bias[1] = 1e6
                resumed.generator.out.bias[K:K + 2] = 1e6
        return logs

    resumed.g_step = saturating
    with pytest.raises(TrainingDiverged, match=r"stalled at step 13: .* exactly zero since step 4 .*latest\.pt "
                                               r"\(step 2\) was written before it, .*best\.pt holds the best "
                                               r"validation\. Train again with another train\.seed or "
                                               r"train\.lr_schedule=cosine\.$"):  # it trains in float32 already
        resumed.fit()
    assert load_checkpoint(run_dir / "checkpoints" / "latest.pt")["step"] == 2
    losses = logged_losses(run_dir)
    assert max(losses) == 12 and all(losses[s]["grad_norm_g"] == 0 < losses[s]["g_total"] for s in range(4, 13))


def test_the_discriminator_judges_the_generator_in_training_not_its_moving_average(tiny_config, tmp_path):
    # Algorithm 1's D step sees G's current predictions; the EMA is what is validated and shipped.
    # Two identical trainers whose EMAs differ must make the same D update on the same batch.
    cfg = tiny_config("train.ema_decay=0.9", "loss.disc_start=0")
    a, b = Trainer(cfg, tmp_path / "a"), Trainer(cfg, tmp_path / "b")
    with torch.no_grad():
        for p in b.generator_ema.parameters():
            p.add_(0.5)
    x = a.next_batch()
    assert torch.equal(x, b.next_batch())
    before = [p.detach().clone() for p in a.discriminator.parameters()]
    a.d_step(x)
    b.d_step(x)
    assert any(not torch.equal(p, q) for p, q in zip(before, a.discriminator.parameters()))  # D did learn
    for p, q in zip(a.discriminator.parameters(), b.discriminator.parameters()):
        assert torch.equal(p, q)

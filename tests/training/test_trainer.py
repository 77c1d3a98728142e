import json
import re
import shutil

import pytest
import torch

from vidpred.config import ConfigError, load_config
from vidpred.training import precision as precision_module
from vidpred.training.monitor import TrainingDiverged
from vidpred.training.validation import BEST_KEY, MODEL
from vidpred.training.trainer import Trainer


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


def test_run_directory_holds_everything(tiny_config, tmp_path, logged_losses):
    run_dir = tmp_path / "run"
    final = Trainer(tiny_config(), run_dir).fit()
    assert (run_dir / "config.yaml").is_file()
    assert list(run_dir.glob("events.out.tfevents.*"))
    assert (run_dir / "checkpoints" / "latest.pt").is_file()
    assert (run_dir / "checkpoints" / "best.pt").is_file()
    assert sorted(p.name for p in (run_dir / "samples").glob("*.png")) == ["step_0000002.png", "step_0000004.png"]
    on_disk = json.loads((run_dir / "final_metrics.json").read_text())
    assert on_disk == final
    assert final["step"] == 4
    for method in ("model", "last input", "Farneback flow (paper)", "DIS flow", "blend"):
        assert set(final[method]) == {"psnr_whole_f1", "ssim_whole_f1", "sharpness_whole_f1", "edges_whole_f1"}
        assert all(torch.isfinite(torch.tensor(v)) for v in final[method].values())
    assert 0 <= final["blend_weight"] <= 1
    logged = logged_losses(run_dir)
    assert sorted(logged) == [1, 2, 3, 4]
    for key in ("g_total", "g_adv", "g_lp", "g_gdl", "d_loss", "d_real", "d_fake", "grad_norm_g", "grad_norm_d", "lr_g", "lr_d"):
        assert key in logged[1], key


def test_resume_reproduces_the_uninterrupted_run(tiny_config, tmp_path, logged_losses):
    # Label noise on, so the label generator's state must be restored too.
    overrides = ["loss.real_label=[0.7, 1.2]", "loss.fake_label=[0.0, 0.3]", "train.steps=6"]
    full = Trainer(tiny_config(*overrides), tmp_path / "full")
    full.fit()
    full_rng = torch.get_rng_state()

    first = Trainer(tiny_config(*overrides[:-1], "train.steps=3"), tmp_path / "split")
    first.fit()
    resumed = Trainer(tiny_config(*overrides), tmp_path / "split", resume=True)
    assert resumed.step == 3
    resumed.fit()
    assert torch.equal(torch.get_rng_state(), full_rng)  # what the next checkpoint saves

    expected, got = logged_losses(tmp_path / "full"), logged_losses(tmp_path / "split")
    assert sorted(got) == [1, 2, 3, 4, 5, 6]
    for step in (4, 5, 6):
        assert got[step] == expected[step], step  # exact, not approximate
    for whole, split in ((full.generator, resumed.generator), (full.discriminator, resumed.discriminator)):
        whole, split = whole.state_dict(), split.state_dict()
        assert whole.keys() == split.keys()
        assert all(torch.equal(whole[k], split[k]) for k in whole)


def test_a_run_s_own_config_resumes_that_run_not_one_its_first_config_named(tiny_config, tmp_path, monkeypatch):
    # trained with --run-dir: the config.yaml it writes names its own folder, so that
    # `--config <run>/config.yaml --resume` continues it, not runs/<the first config's run.name>
    monkeypatch.chdir(tmp_path)
    Trainer(tiny_config("train.steps=1", "run.name=first_try")).fit()
    Trainer(tiny_config("train.steps=2", "run.name=first_try"), tmp_path / "mine").fit()
    saved = load_config(tmp_path / "mine" / "config.yaml", ["train.steps=3"])
    assert (saved.run.name, saved.run.out_dir) == ("mine", str(tmp_path))
    resumed = Trainer(saved, resume=True)
    assert resumed.run_dir == tmp_path / "mine" and resumed.step == 2


def test_a_finished_run_resumed_to_train_on_is_unfinished_until_its_new_end(tiny_config, tmp_path, monkeypatch):
    import signal

    run = tmp_path / "run"
    Trainer(tiny_config("train.steps=2"), run).fit()
    assert json.loads((run / "final_metrics.json").read_text())["step"] == 2
    resumed = Trainer(tiny_config("train.steps=5"), run, resume=True)
    real_step = resumed.train_step

    def step_then_stop():
        logs = real_step()
        if resumed.step == 3:
            resumed._stop.request(signal.SIGTERM)
        return logs

    monkeypatch.setattr(resumed, "train_step", step_then_stop)
    assert resumed.fit()["step"] == 3
    assert not (run / "final_metrics.json").exists()  # not the step-2 end, read as this run's
    Trainer(tiny_config("train.steps=5"), run, resume=True).fit()
    assert json.loads((run / "final_metrics.json").read_text())["step"] == 5


def test_resume_guards(tiny_config, tmp_path, caplog):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        Trainer(tiny_config(), tmp_path / "run", resume=True)
    Trainer(tiny_config("train.steps=2"), tmp_path / "run").fit()
    with pytest.raises(FileExistsError, match="--resume"):
        Trainer(tiny_config(), tmp_path / "run")
    with pytest.raises(ConfigError, match=r"model.generator.width: 0.0625 -> 0.125"):
        Trainer(tiny_config("model.generator.width=0.125"), tmp_path / "run", resume=True)
    # Training longer is allowed, in a copy of the run folder too (its run.name is the folder given);
    # fewer steps than done is refused, the recorded config untouched.
    shutil.copytree(tmp_path / "run", tmp_path / "copy")
    assert Trainer(tiny_config("train.steps=3", "run.name=copy"), tmp_path / "copy", resume=True).fit()["step"] == 3
    assert Trainer(tiny_config("train.steps=3"), tmp_path / "run", resume=True).fit()["step"] == 3
    with caplog.at_level("INFO", logger="vidpred"):  # resumed when finished: says so, and validates again
        assert Trainer(tiny_config("train.steps=3"), tmp_path / "run", resume=True).fit()["step"] == 3
    assert (f"{tmp_path / 'run'} has reached train.steps (3) already: nothing to train, the final validation runs "
            "again (a larger train.steps trains on)") in caplog.text
    config = (tmp_path / "run" / "config.yaml").read_text()
    with pytest.raises(ConfigError, match="for train.steps 2: it is at step 3 already; give a larger train.steps"):
        Trainer(tiny_config("train.steps=2"), tmp_path / "run", resume=True)
    assert (tmp_path / "run" / "config.yaml").read_text() == config


def test_resume_continues_in_the_precision_the_run_trained_in(tiny_config, tmp_path, monkeypatch, caplog):
    # train.precision "auto" resolves by device: the same config resumed where it resolves
    # otherwise (here, a CPU without native bf16) keeps the precision the run started in.
    monkeypatch.setattr(precision_module, "cpu_has_native_bf16", lambda: True)
    first = Trainer(tiny_config("train.steps=1", "train.precision=auto"), tmp_path / "run")
    first.fit()
    assert first.precision == "bf16"
    assert torch.load(tmp_path / "run" / "checkpoints" / "latest.pt", weights_only=True)["precision"] == "bf16"
    monkeypatch.setattr(precision_module, "cpu_has_native_bf16", lambda: False)
    assert Trainer(tiny_config("train.steps=1", "train.precision=auto"), tmp_path / "fresh").precision == "fp32"
    with caplog.at_level("WARNING", logger="vidpred"):
        resumed = Trainer(tiny_config("train.steps=2", "train.precision=auto"), tmp_path / "run", resume=True)
    assert resumed.precision == "bf16"
    assert "the run trained in bf16 (train.precision auto); it continues in bf16, where auto would resolve to fp32" \
        in caplog.text


def test_d_step_leaves_the_generator_alone(tiny_config, tmp_path):
    trainer = Trainer(tiny_config(), tmp_path / "run")
    g_before, d_before = _params(trainer.generator), _params(trainer.discriminator)
    logs = trainer.d_step(trainer.next_batch())
    assert all(torch.equal(a, b) for a, b in zip(g_before, trainer.generator.parameters()))
    assert all(not torch.equal(a, b) for a, b in zip(d_before, trainer.discriminator.parameters()))
    assert 0 < logs["d_real"] < 1 and 0 < logs["d_fake"] < 1


def test_adversarial_gradient_reaches_the_generator(tiny_config, tmp_path):
    # Only the adversarial term: if D's output reached G as a constant, G would not move.
    trainer = Trainer(tiny_config("loss.l_p=0.0", "loss.l_gdl=0.0", "loss.l_adv=1.0"), tmp_path / "run")
    g_before, d_before = _params(trainer.generator), _params(trainer.discriminator)
    logs = trainer.g_step(trainer.next_batch())
    assert logs["g_adv"] > 0 and logs["grad_norm_g"] > 0
    for p in trainer.generator.parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0
    assert all(not torch.equal(a, b) for a, b in zip(g_before, trainer.generator.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(d_before, trainer.discriminator.parameters()))
    assert all(p.requires_grad for p in trainer.discriminator.parameters())  # unfrozen again


def test_multi_frame_training_with_path_loss(tiny_config, tmp_path, logged_losses):
    cfg = tiny_config("train.n_future=2", "train.val_n_future=2", "loss.l_path=1.0", "train.steps=2")
    final = Trainer(cfg, tmp_path / "run").fit()
    assert {"psnr_whole_f1", "psnr_whole_f2", "ssim_whole_f2", "sharpness_whole_f2"} <= set(final["model"])
    logged = logged_losses(tmp_path / "run")
    assert logged[2]["g_path"] > 0


def test_without_discriminator_uses_one_batch_per_step(tiny_config, tmp_path, logged_losses):
    trainer = Trainer(tiny_config("model.discriminator.enabled=false", "train.steps=2"), tmp_path / "run")
    assert trainer.discriminator is None and trainer.batches_per_step == 1
    final = trainer.fit()
    assert "g_adv" not in logged_losses(tmp_path / "run")[1]
    assert final["step"] == 2


def test_a_discriminator_no_term_reads_is_named_when_the_trainer_is_built(tiny_config, tmp_path, caplog):
    Trainer(tiny_config("loss.l_adv=0"), tmp_path / "run")  # trained every step on a batch of its own, for nothing
    assert ("loss.l_adv is 0: the multiscale discriminator(s) reach the generator through no term, yet each is "
            "trained every step on a batch of its own; disable them (model.*discriminator.enabled: false)"
            ) in caplog.text
    caplog.clear()
    Trainer(tiny_config("loss.l_adv=0", "model.discriminator.enabled=false"), tmp_path / "other")
    assert "loss.l_adv is 0" not in caplog.text


def test_a_discriminator_start_no_step_reaches_is_named_when_the_trainer_is_built(tiny_config, tmp_path, caplog):
    Trainer(tiny_config("loss.disc_start=5", "train.steps=5"), tmp_path / "run")  # step 5 is never taken
    assert ("loss.disc_start (5) is not below train.steps (5): the multiscale discriminator(s) neither train nor "
            "judge the generator in this run") in caplog.text
    caplog.clear()
    Trainer(tiny_config("loss.disc_start=4", "train.steps=5"), tmp_path / "other")  # the last step is adversarial
    assert "loss.disc_start" not in caplog.text


def test_a_run_folder_reached_through_a_folder_not_made_yet_is_checked_where_the_run_writes(tiny_config, tmp_path):
    # runs/new/../mine is runs/mine once "new" is made: the check of the path as typed had found nothing there
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "metrics.jsonl").write_text("my own notes\n")
    with pytest.raises(FileExistsError, match=f"^{re.escape(str(tmp_path / 'mine'))} holds metrics.jsonl that no"):
        Trainer(tiny_config(), tmp_path / "new" / ".." / "mine")
    assert not (tmp_path / "new").exists() and (tmp_path / "mine" / "metrics.jsonl").read_text() == "my own notes\n"


def test_trains_on_a_ucf101_tree(tiny_config, tiny_ucf101, tmp_path):
    cfg = tiny_config("data.source=ucf101", f"data.root={tiny_ucf101}", "data.n_val_videos=2", "train.steps=2")
    trainer = Trainer(cfg, tmp_path / "run")
    assert all(clip.shape[1:3] == (32, 40) for clip in trainer.val_clips)  # whole frames, not patches
    final = trainer.fit()
    assert final["step"] == 2 and final["model"]["psnr_whole_f1"] > 0


def test_trains_on_a_folder_of_mixed_videos(tiny_config, video_folder, tmp_path):
    # 32x48 and 24x32 videos, .avi, .mp4 and a folder of PNG frames, at native sizes.
    cfg = tiny_config("data.source=folder", f"data.root={video_folder}", "data.n_val_videos=1", "train.steps=2")
    final = Trainer(cfg, tmp_path / "run").fit()
    assert final["step"] == 2 and final["n_val_clips"] == 4


def _diverge_from_step_3(trainer, monkeypatch, value=float("inf")):
    """From step 3 on, the trainer's steps report a discriminator loss of ``value``."""
    train_step = trainer.train_step

    def diverging_step():
        logs = train_step()
        if trainer.step >= 3:
            logs["d_loss"] = torch.tensor(value)
        return logs

    monkeypatch.setattr(trainer, "train_step", diverging_step)


def test_divergence_stops_before_logging_or_saving(tiny_config, tmp_path, monkeypatch, logged_losses):
    trainer = Trainer(tiny_config("train.steps=6"), tmp_path / "run")
    _diverge_from_step_3(trainer, monkeypatch)
    with pytest.raises(TrainingDiverged, match=r"step 3: d_loss not finite; .*latest.pt holds the last finite state"):
        trainer.fit()
    assert sorted(logged_losses(tmp_path / "run")) == [1, 2]  # step 3 was never logged
    checkpoint = torch.load(tmp_path / "run" / "checkpoints" / "latest.pt", weights_only=True)
    assert checkpoint["step"] == 2


def test_a_validation_far_below_the_run_s_best_is_said(tiny_config, tmp_path, monkeypatch, caplog):
    trainer = Trainer(tiny_config("train.steps=3", "train.val_every=1"), tmp_path / "run")
    validate, scores = trainer.validate, iter([20.0, 19.5, 18.9])

    def falling(*args, **kwargs):
        record = validate(*args, **kwargs)
        record[MODEL][BEST_KEY] = next(scores)
        return record

    monkeypatch.setattr(trainer, "validate", falling)
    with caplog.at_level("WARNING", logger="vidpred"):
        trainer.fit()
    said = [r.getMessage() for r in caplog.records if "below the run's best" in r.getMessage()]
    assert said == ["step 3: 18.90 dB on the validation clips, 1.10 below the run's best (20.00, checkpoints/best.pt "
                    "keeps it): has the run fallen apart?"]  # 0.5 below at step 2 is not said


def test_divergence_stops_before_a_new_best_is_saved(tiny_config, tmp_path, monkeypatch):
    # Validating at a step that neither logs nor checkpoints: a new best there writes
    # latest.pt too, so the check for a diverged state must come before it.
    trainer = Trainer(tiny_config("train.steps=6", "train.log_every=100", "train.ckpt_every=100",
                                  "train.val_every=1", "train.sample_every=100"), tmp_path / "run")
    _diverge_from_step_3(trainer, monkeypatch, float("nan"))
    with pytest.raises(TrainingDiverged, match=r"step 3: d_loss not finite"):
        trainer.fit()
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "validation.jsonl").read_text().splitlines()]
    assert steps == [1, 2]
    assert torch.load(tmp_path / "run" / "checkpoints" / "latest.pt", weights_only=True)["step"] <= 2


@pytest.mark.parametrize("max_norm", [None, 1.0])
def test_gradient_norm_of_a_module_without_gradients_is_on_its_device(max_norm):
    # Meta stands in for a GPU: the logged norms are stacked together (check_finite), and a
    # CPU zero among CUDA values would raise.
    from torch import nn

    from vidpred.training.trainer import _clip

    norm = _clip(nn.Linear(2, 2, device="meta"), max_norm)
    assert norm.device == torch.device("meta") and norm.shape == ()


def test_the_logged_gradient_norm_is_the_whole_module_s_l2_norm_before_clipping():
    from torch import nn

    from vidpred.training.trainer import _clip

    module = nn.Linear(1, 1)
    module.weight.grad, module.bias.grad = torch.tensor([[3.0]]), torch.tensor([4.0])
    assert _clip(module, None).item() == pytest.approx(5.0)  # sqrt(3^2 + 4^2), unclipped
    assert module.weight.grad.item() == 3.0 and module.bias.grad.item() == 4.0
    assert _clip(module, 1.0).item() == pytest.approx(5.0)  # the norm before clipping ...
    assert module.weight.grad.item() == pytest.approx(0.6) and module.bias.grad.item() == pytest.approx(0.8)  # ... to 1


def test_a_run_checkpointed_on_a_gpu_resumes_on_the_cpu(tiny_config, tmp_path, monkeypatch, caplog):
    from vidpred.checkpoint import load_checkpoint, save_checkpoint

    run_dir = tmp_path / "run"
    Trainer(tiny_config("train.steps=2"), run_dir).fit()
    latest = run_dir / "checkpoints" / "latest.pt"
    state = load_checkpoint(latest)
    # What a GPU run writes: every storage tagged cuda:0, and its own streams' states are
    # CUDA generators' (16 bytes: Philox seed and offset), which a CPU generator refuses.
    philox = torch.zeros(16, dtype=torch.uint8)
    state["rng"] = {**state["rng"], "label": philox, "frame": philox, "cuda": [philox]}
    with monkeypatch.context() as patched:
        patched.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        save_checkpoint({k: v for k, v in state.items() if k != "format_version"}, latest)

    resumed = Trainer(tiny_config("train.steps=3"), run_dir, resume=True)
    assert resumed.step == 2 and resumed.device.type == "cpu"
    assert "another kind of device" in caplog.text
    assert resumed.fit()["step"] == 3


def _signal_after_step(trainer: Trainer, step: int, signum: int, monkeypatch) -> None:
    """Make ``trainer`` receive the stop signal ``signum`` as it finishes training step ``step``."""
    train_step = trainer.train_step

    def step_then_stop():
        logs = train_step()
        if trainer.step == step:
            trainer._stop.request(signum)
        return logs

    monkeypatch.setattr(trainer, "train_step", step_then_stop)


def test_a_cosine_rate_follows_the_step_and_a_stopped_run_resumes_on_it(tiny_config, tmp_path, logged_losses,
                                                                       monkeypatch):
    import math
    import signal

    cfg = tiny_config("train.lr_schedule=cosine", "train.steps=6")
    full = Trainer(cfg, tmp_path / "full")
    full.fit()
    logged = logged_losses(tmp_path / "full")
    for step in range(1, 7):  # step s trains at the rate of s - 1 steps done, cos from 1 down to 0 at step 6
        factor = 0.5 * (1 + math.cos(math.pi * (step - 1) / 6))
        assert logged[step]["lr_g"] == pytest.approx(cfg.optim.generator.lr * factor, rel=1e-6), step
        assert logged[step]["lr_d"] == pytest.approx(cfg.optim.discriminator.lr * factor, rel=1e-6), step
    stopped = Trainer(cfg, tmp_path / "split")  # stopped by a signal after its 3rd step
    _signal_after_step(stopped, 3, signal.SIGTERM, monkeypatch)
    assert stopped.fit()["step"] == 3
    resumed = Trainer(cfg, tmp_path / "split", resume=True)
    resumed.fit()
    assert logged_losses(tmp_path / "split") == logged  # the rates and the losses, to the bit
    for a, b in zip(full.generator.parameters(), resumed.generator.parameters()):
        assert torch.equal(a, b)
    constant = Trainer(tiny_config("train.steps=2"), tmp_path / "constant")
    constant.fit()
    assert {row["lr_g"] for row in logged_losses(tmp_path / "constant").values()} == {cfg.optim.generator.lr}
    Trainer(tiny_config("train.steps=4"), tmp_path / "constant", resume=True)  # a constant rate: steps may grow
    # the cosine schedule's length is train.steps: a resume with more would restart it mid-curve
    with pytest.raises(ConfigError, match=r"train.steps: 6 -> 8 \(the length of its cosine learning-rate schedule\)"):
        Trainer(tiny_config("train.lr_schedule=cosine", "train.steps=8"), tmp_path / "split", resume=True)


def test_a_resumed_run_removes_the_temporary_files_of_writes_its_killed_run_left(tiny_config, tmp_path):
    run = tmp_path / "run"
    Trainer(tiny_config("train.steps=2"), run).fit()
    # what a SIGKILL inside write_text leaves beside final_metrics.json, metrics.jsonl or config.yaml,
    # or inside the writing of a sample or of a checkpoint
    killed = [run / ".final_metrics.json.k1.tmp.json", run / ".metrics.jsonl.k2.tmp.jsonl",
              run / ".config.yaml.k3.tmp.yaml", run / "samples" / ".step_0000002.png.k4.tmp.png",
              run / "checkpoints" / ".latest.pt.k5.tmp.pt"]
    for path in killed:
        path.write_text("half")
    mine = run / ".notes.json"  # a hidden file of the user's
    mine.write_text("{}")
    Trainer(tiny_config("train.steps=3"), run, resume=True).fit()
    assert not any(path.exists() for path in killed) and mine.read_text() == "{}"


def test_samples_a_stop_skipped_are_drawn_by_the_resumed_run(tiny_config, tmp_path, monkeypatch):
    import signal

    cfg = tiny_config("train.steps=4", "train.sample_every=2", "train.val_every=100", "train.ckpt_every=100")
    full = tmp_path / "full"
    Trainer(cfg, full).fit()
    stopped = Trainer(cfg, tmp_path / "split")  # a Ctrl-C during the 2nd step, a sample step
    _signal_after_step(stopped, 2, signal.SIGINT, monkeypatch)
    assert stopped.fit()["step"] == 2
    assert not (tmp_path / "split" / "samples" / "step_0000002.png").exists()  # skipped, to stop sooner
    Trainer(cfg, tmp_path / "split", resume=True).fit()
    names = sorted(p.name for p in (full / "samples").iterdir())
    assert sorted(p.name for p in (tmp_path / "split" / "samples").iterdir()) == names
    for name in names:  # the same pictures, drawn from the same weights
        assert (tmp_path / "split" / "samples" / name).read_bytes() == (full / "samples" / name).read_bytes(), name


def test_the_samples_a_stop_skipped_are_the_stopped_run_s_schedule_s_not_the_new_one_s(tiny_config, tmp_path,
                                                                                          monkeypatch):
    import signal

    every = ("train.val_every=100", "train.ckpt_every=100")
    stopped = Trainer(tiny_config("train.steps=4", "train.sample_every=2", *every), tmp_path / "run")
    _signal_after_step(stopped, 2, signal.SIGINT, monkeypatch)  # step 2's samples skipped, to stop sooner
    assert stopped.fit()["step"] == 2
    # Resumed drawing samples every 5 steps: step 2's are still drawn, and the last step's.
    Trainer(tiny_config("train.steps=3", "train.sample_every=5", *every), tmp_path / "run", resume=True).fit()
    assert sorted(p.name for p in (tmp_path / "run" / "samples").iterdir()) == ["step_0000002.png", "step_0000003.png"]


def test_the_logged_speed_counts_train_steps_not_the_validation_between_them(tiny_config, tmp_path, monkeypatch):
    """A validation that takes long (here: made to, on the trainer's clock) must not show as a slow step after it."""
    import time
    from types import SimpleNamespace

    import vidpred.training.trainer as trainer_module

    elapsed = {"validating": 0.0}  # seconds each validation adds to the clock: far more than any step takes
    monkeypatch.setattr(trainer_module, "time",
                        SimpleNamespace(perf_counter=lambda: time.perf_counter() + elapsed["validating"]))
    trainer = Trainer(tiny_config("train.steps=4", "train.val_every=2", "train.log_every=1"), tmp_path / "run")
    validate = trainer._validate_and_log

    def slow_validation(*args, **kwargs):
        elapsed["validating"] += 1000.0
        return validate(*args, **kwargs)

    monkeypatch.setattr(trainer, "_validate_and_log", slow_validation)
    trainer.fit()
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [1, 2, 3, 4]
    # 4 clips a step; the step after a validation would show under 0.004 clips/s were its 1000 s counted
    assert rows[2]["samples_per_sec"] > 0.1, rows
    assert trainer.train_seconds < 500  # ... nor counted as training time (2 validations: 2000 s)


def test_grad_clip_bounds_each_update_of_the_generator_and_the_discriminator(tiny_config, tmp_path):
    # Plain SGD at rate 1: an update moves the weights by the (clipped) gradient itself, so
    # with optim.*.grad_clip=0.001 each network moves by 0.001 in norm, whatever its gradient's
    # norm before clipping (logged as grad_norm_*).
    clip = 0.001
    cfg = tiny_config("optim.generator.name=sgd", "optim.generator.lr=1.0", f"optim.generator.grad_clip={clip}",
                      "optim.discriminator.lr=1.0", f"optim.discriminator.grad_clip={clip}", "loss.disc_start=0")
    trainer = Trainer(cfg, tmp_path / "run")
    nets = {"g": trainer.generator, "d": trainer.discriminator}
    before = {name: [p.detach().clone() for p in net.parameters()] for name, net in nets.items()}
    logs = trainer.train_step()
    d_key = next(k for k in logs if k.startswith("grad_norm_") and k != "grad_norm_g")
    for name, key in (("g", "grad_norm_g"), ("d", d_key)):
        assert logs[key].item() > 10 * clip  # the clip did bind
        moved = torch.linalg.vector_norm(torch.stack(
            [(p.detach() - q).norm() for p, q in zip(nets[name].parameters(), before[name])]))
        assert moved.item() == pytest.approx(clip, rel=1e-3), name

"""best.pt always holds the best row of validation.jsonl after a resume, and a validation
cut short runs again on resume."""

from __future__ import annotations

import json
import logging
import shutil
import signal

from vidpred.checkpoint import load_checkpoint
from vidpred.training.trainer import Trainer


def _rows(run_dir) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "validation.jsonl").read_text().splitlines()]


def _best_row_step(run_dir) -> int:
    rows = _rows(run_dir)
    return max(rows, key=lambda r: r["model"]["psnr_whole_f1"])["step"]


def test_a_best_from_discarded_steps_is_not_kept(tiny_config, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    run_dir = tmp_path / "run"
    ckpts = run_dir / "checkpoints"
    Trainer(tiny_config("train.steps=2", "train.val_every=1", "train.ckpt_every=2"), run_dir).fit()
    shutil.copy(ckpts / "latest.pt", tmp_path / "step2.pt")
    Trainer(tiny_config("train.steps=4", "train.val_every=1", "train.ckpt_every=2"), run_dir, resume=True).fit()
    # As after kill -9 with ckpt_every > val_every: best.pt from step 4, latest.pt still at step 2.
    shutil.copy(ckpts / "latest.pt", ckpts / "best.pt")
    shutil.copy(tmp_path / "step2.pt", ckpts / "latest.pt")
    assert load_checkpoint(ckpts / "best.pt")["step"] == 4
    Trainer(tiny_config("train.steps=2", "train.val_every=1", "train.ckpt_every=2"), run_dir, resume=True).fit()
    assert [r["step"] for r in _rows(run_dir)] == [1, 2]
    wanted = _best_row_step(run_dir)
    if wanted == 2:  # the resumed state is the best: best.pt is rewritten from it
        assert load_checkpoint(ckpts / "best.pt")["step"] == 2 and "best.pt rewritten at step 2" in caplog.text
    else:  # step 1's state is gone: no best.pt rather than a wrong one
        assert not (ckpts / "best.pt").exists() and "removed best.pt (step 4)" in caplog.text


def test_a_new_best_saves_latest_first(tiny_config, tmp_path):
    run_dir = tmp_path / "run"
    Trainer(tiny_config("train.steps=3", "train.val_every=1", "train.ckpt_every=100"), run_dir).fit()
    best = load_checkpoint(run_dir / "checkpoints" / "best.pt")["step"]
    assert best == _best_row_step(run_dir)
    assert load_checkpoint(run_dir / "checkpoints" / "latest.pt")["step"] >= best


def test_a_validation_cut_short_runs_again_on_resume(tiny_config, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    run_dir = tmp_path / "run"
    Trainer(tiny_config("train.steps=2", "train.val_every=2", "train.ckpt_every=2"), run_dir).fit()
    # As after SIGTERM during the validation at step 2: no row, no best.pt, latest.pt at step 2.
    (run_dir / "validation.jsonl").write_text("")
    (run_dir / "checkpoints" / "best.pt").unlink()
    Trainer(tiny_config("train.steps=4", "train.val_every=2", "train.ckpt_every=2"), run_dir, resume=True).fit()
    assert "the validation at step 2 did not finish" in caplog.text
    assert [r["step"] for r in _rows(run_dir)] == [2, 4]
    assert load_checkpoint(run_dir / "checkpoints" / "best.pt")["step"] == _best_row_step(run_dir)


def test_the_validation_cut_short_is_the_stopped_run_s_not_the_new_schedule_s(tiny_config, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    run_dir = tmp_path / "run"
    Trainer(tiny_config("train.steps=2", "train.val_every=2", "train.ckpt_every=2"), run_dir).fit()
    (run_dir / "validation.jsonl").write_text("")  # step 2's validation cut short
    # Resumed with validation every 3 steps: step 2's still runs first, then the new schedule's.
    Trainer(tiny_config("train.steps=3", "train.val_every=3", "train.ckpt_every=3"), run_dir, resume=True).fit()
    assert "the validation at step 2 did not finish" in caplog.text
    assert [r["step"] for r in _rows(run_dir)] == [2, 3]


def test_a_resumed_run_keeps_the_best_score_so_far(tiny_config, tmp_path):
    run_dir = tmp_path / "run"
    Trainer(tiny_config("train.steps=2", "train.val_every=1"), run_dir).fit()
    resumed = Trainer(tiny_config("train.steps=4", "train.val_every=1"), run_dir, resume=True)
    # a later validation replaces best.pt only when it beats this
    assert resumed.best_psnr == max(row["model"]["psnr_whole_f1"] for row in _rows(run_dir))


def test_of_equal_scores_best_pt_keeps_the_first(tiny_config, tmp_path):
    # Every learning rate 0: the weights never change, so every validation scores the same.
    run_dir = tmp_path / "run"
    Trainer(tiny_config("train.steps=3", "train.val_every=1", "optim.generator.lr=0", "optim.discriminator.lr=0"),
            run_dir).fit()
    assert len({row["model"]["psnr_whole_f1"] for row in _rows(run_dir)}) == 1
    assert load_checkpoint(run_dir / "checkpoints" / "best.pt")["step"] == 1  # the row align_best picks



def _stopped_in_step(trainer: Trainer, last: int) -> dict:
    """Fit ``trainer`` with a stop signal arriving during step ``last``: the step ends, and the
    validation and samples due at it are skipped to save the checkpoint sooner."""
    real_step = trainer.train_step

    def step_then_signal():
        logs = real_step()
        if trainer.step == last:
            trainer._stop.request(signal.SIGTERM)
        return logs

    trainer.train_step = step_then_signal
    return trainer.fit()


def test_a_stop_in_the_last_step_leaves_its_validation_to_the_resume(tiny_config, tmp_path, caplog):
    # The last step is not one train.val_every names: the run validates there as it ends.
    caplog.set_level(logging.INFO)
    settings = ("train.steps=3", "train.val_every=2", "train.ckpt_every=2", "train.sample_every=2")
    Trainer(tiny_config(*settings), tmp_path / "whole").fit()
    run_dir = tmp_path / "run"
    assert _stopped_in_step(Trainer(tiny_config(*settings), run_dir), 3)["step"] == 3
    assert [r["step"] for r in _rows(run_dir)] == [2] and not (run_dir / "final_metrics.json").exists()
    Trainer(tiny_config(*settings), run_dir, resume=True).fit()
    assert "the validation at step 3 did not finish" in caplog.text
    assert _rows(run_dir) == [{**row, "train_seconds": _rows(run_dir)[i]["train_seconds"]}
                              for i, row in enumerate(_rows(tmp_path / "whole"))]
    assert (run_dir / "samples" / "step_0000003.png").is_file()
    assert load_checkpoint(run_dir / "checkpoints" / "best.pt")["step"] == _best_row_step(run_dir)
    assert json.loads((run_dir / "final_metrics.json").read_text())["step"] == 3
    Trainer(tiny_config(*settings), run_dir, resume=True).fit()  # once more: its row is there, not run twice
    assert [r["step"] for r in _rows(run_dir)] == [2, 3]


def test_a_stop_as_the_time_budget_runs_out_leaves_its_validation_to_the_resume(tiny_config, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    run_dir = tmp_path / "run"
    settings = ("train.steps=100", "train.max_minutes=0.00001", "train.val_every=50", "train.sample_every=50")
    assert _stopped_in_step(Trainer(tiny_config(*settings), run_dir), 1)["step"] == 1
    assert _rows(run_dir) == [] and not (run_dir / "samples").exists()
    Trainer(tiny_config(*settings), run_dir, resume=True).fit()
    assert "the validation at step 1 did not finish" in caplog.text
    assert [r["step"] for r in _rows(run_dir)] == [1]
    assert (run_dir / "samples" / "step_0000001.png").is_file()
    assert load_checkpoint(run_dir / "checkpoints" / "best.pt")["step"] == 1


def test_a_resume_whose_train_steps_ends_the_run_where_it_stopped_owes_that_end_s_validation(tiny_config, tmp_path,
                                                                                             caplog):
    caplog.set_level(logging.INFO)
    run_dir = tmp_path / "run"
    settings = ("train.val_every=2", "train.ckpt_every=2", "train.sample_every=2")
    assert _stopped_in_step(Trainer(tiny_config("train.steps=6", *settings), run_dir), 3)["step"] == 3
    assert [r["step"] for r in _rows(run_dir)] == [2]
    Trainer(tiny_config("train.steps=3", *settings), run_dir, resume=True).fit()  # step 3 is now the run's end
    assert [r["step"] for r in _rows(run_dir)] == [2, 3]
    assert (run_dir / "samples" / "step_0000003.png").is_file()
    assert json.loads((run_dir / "final_metrics.json").read_text())["step"] == 3

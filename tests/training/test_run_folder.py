"""The run folder's checks and what a resume finds there, on hand-made folders (the same
behaviour through the trainer: test_trainer.py, test_best_after_resume.py,
test_recorded_split.py, tests/scripts/test_train_errors.py)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
import torch

from vidpred.checkpoint import load_checkpoint, save_checkpoint
from vidpred.config import Config
from vidpred.training.run_folder import (align_best, check_run_folder, claim_run_folder, file_identity, resumed_precision,
                                         validation_rows)
from vidpred.training.run_lock import RunLock, RunLocked
from vidpred.training.run_log import RunLogError


def _write_rows(run_dir, *scores) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"step": step, "train_seconds": 1.0, "model": {"psnr_whole_f1": psnr}})
             for step, psnr in scores]
    (run_dir / "validation.jsonl").write_text("\n".join(lines) + "\n")


def test_validation_rows_keep_the_finite_scores_and_read_older_lines(tmp_path):
    assert validation_rows(tmp_path / "validation.jsonl") == []  # no file
    path = tmp_path / "validation.jsonl"
    path.write_text('{"step": 1, "model": {"psnr_whole_f1": 20.5}}\n'
                    '{"step": 2, "model": {"psnr_whole_f1": NaN}}\n'
                    '{"step": 3, "psnr": 21.0}\n'  # an older run's flat line
                    '{"step": 4, "model": {"psnr_whole')  # cut short by a failed write
    assert validation_rows(path) == [{"step": 1, "best": 20.5}, {"step": 3, "best": 21.0}]


def test_a_checkpoint_rewritten_in_place_changes_its_identity(tmp_path):
    latest = tmp_path / "checkpoints" / "latest.pt"
    assert file_identity(latest) is None
    save_checkpoint({"step": 1}, latest)
    seen = file_identity(latest)
    assert file_identity(latest) == seen
    save_checkpoint({"step": 1}, latest)
    assert file_identity(latest) != seen


def test_claiming_a_folder_whose_checkpoint_changed_is_refused_and_leaves_it_unlocked(tmp_path):
    run_dir = tmp_path / "run"
    seen = file_identity(run_dir / "checkpoints" / "latest.pt")
    save_checkpoint({"step": 1}, run_dir / "checkpoints" / "latest.pt")  # another run, meanwhile
    with pytest.raises(RunLocked, match="another run wrote .*latest.pt while this one was being set up"):
        claim_run_folder(run_dir, seen)
    RunLock(run_dir).check_free()
    lock = claim_run_folder(run_dir, file_identity(run_dir / "checkpoints" / "latest.pt"))
    with pytest.raises(RunLocked):
        RunLock(run_dir).check_free()
    lock.release()


def test_a_run_folder_that_cannot_be_created_is_named_with_the_keys_that_choose_it(tmp_path, monkeypatch):
    # /proc passes the writable check (root may write there) and then takes no new folder
    def refuse(self, *args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(RunLogError, match=re.escape(f"cannot create the run folder {tmp_path / 'run'}: No such file "
                                                    "or directory; choose another with --run-dir or run.out_dir")):
        claim_run_folder(tmp_path / "run", None)


def test_a_resumed_run_keeps_the_precision_it_trained_in(caplog):
    cpu = torch.device("cpu")
    assert resumed_precision({}, "auto", "bf16", cpu, announce=True) == "bf16"  # not recorded: as resolved
    assert resumed_precision({"precision": "bf16"}, "auto", "bf16", cpu, announce=True) == "bf16"
    assert not caplog.records
    with caplog.at_level(logging.WARNING, logger="vidpred"):
        assert resumed_precision({"precision": "fp32"}, "auto", "bf16", cpu, announce=True) == "fp32"
    assert "the run trained in fp32 (train.precision auto); it continues in fp32, where auto would resolve to bf16" \
        in caplog.text


@pytest.mark.parametrize("best_row, held, expected", [
    (2, 4, 2),  # the best row is the resumed step's: best.pt is rewritten from it
    (1, 4, None),  # the best row's state is gone: no best.pt rather than a wrong one
    (2, 2, 2),  # already the best row's: left as it is
])
def test_best_is_aligned_with_the_best_validation_row(tmp_path, best_row, held, expected):
    run_dir, step = tmp_path / "run", 2  # resumed at step 2, after validations at steps 1 and 2
    _write_rows(run_dir, (1, 30.0 if best_row == 1 else 20.0), (2, 25.0))
    best = run_dir / "checkpoints" / "best.pt"
    save_checkpoint({"step": held}, best)
    saved = []

    def save_best():
        saved.append(step)
        save_checkpoint({"step": step}, best)

    align_best(run_dir, step, save_best)
    assert (load_checkpoint(best)["step"] if best.exists() else None) == expected
    assert saved == ([step] if held != expected and expected is not None else [])


@pytest.mark.parametrize("held, kept", [(1, True), (2, True), (3, False)])
def test_a_best_pt_from_before_the_resumed_step_is_kept_when_no_validation_was_logged(tmp_path, caplog, held, kept):
    # a run's checkpoints/ copied to another machine without validation.jsonl: best.pt had been removed, and
    # the resumed best score (its) left no later validation able to write it again
    run_dir, step = tmp_path / "run", 2
    best = run_dir / "checkpoints" / "best.pt"
    save_checkpoint({"step": held}, best)
    with caplog.at_level(logging.WARNING, logger="vidpred"):
        align_best(run_dir, step, save_best=lambda: pytest.fail("the resumed state is no logged best"))
    assert best.exists() == kept
    assert (f"kept best.pt (step {held})" in caplog.text) == kept  # one from after the resumed step is retrained


def test_of_equal_best_rows_best_pt_is_the_first_s(tmp_path):
    run_dir = tmp_path / "run"
    _write_rows(run_dir, (1, 25.0), (2, 25.0))  # a tie is no new best: validation kept step 1's
    best = run_dir / "checkpoints" / "best.pt"
    save_checkpoint({"step": 1}, best)
    align_best(run_dir, 2, lambda: save_checkpoint({"step": 2}, best))
    assert load_checkpoint(best)["step"] == 1


def test_a_resume_needs_a_checkpoint_and_a_new_run_a_folder_without_one(tmp_path):
    run_dir, cfg = tmp_path / "run", Config()
    latest = run_dir / "checkpoints" / "latest.pt"
    with pytest.raises(FileNotFoundError, match=f"^cannot resume: no checkpoint at {re.escape(str(latest))}$"):
        check_run_folder(run_dir, cfg, resume=True)
    assert check_run_folder(run_dir, cfg, resume=False) is None
    save_checkpoint({"step": 1}, latest)
    with pytest.raises(FileExistsError, match="already holds a run; pass --resume to continue it"):
        check_run_folder(run_dir, cfg, resume=False)


def test_a_new_run_over_files_no_run_wrote_is_refused(tmp_path):
    (tmp_path / "metrics.jsonl").write_text("my own notes\n")
    with pytest.raises(FileExistsError, match="holds metrics.jsonl that no vidpred run wrote"):
        check_run_folder(tmp_path, Config(), resume=False)


def test_an_unreadable_latest_pt_is_refused_saying_whether_best_pt_can_stand_in(tmp_path):
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir()
    (checkpoints / "latest.pt").write_bytes(b"cut short")

    def refusal() -> str:
        with pytest.raises(ValueError, match="^cannot resume: .*latest.pt is not a readable vidpred checkpoint") as info:
            check_run_folder(tmp_path, Config(), resume=True)
        return str(info.value)

    assert refusal().endswith("; there is no best.pt to fall back on")
    save_checkpoint({"step": 4}, checkpoints / "best.pt")
    assert refusal().endswith(f"; {checkpoints / 'best.pt'} (step 4) is intact: copy it to "
                              f"{checkpoints / 'latest.pt'} to resume from it")
    (checkpoints / "best.pt").write_bytes(b"cut short too")
    assert refusal().endswith(f"; {checkpoints / 'best.pt'} is unreadable too")


def test_a_folder_that_cannot_receive_the_run_is_refused(tmp_path, read_only):
    read_only(tmp_path)
    with pytest.raises(RunLogError, match=f"the run folder {re.escape(str(tmp_path))} is not writable"):
        check_run_folder(tmp_path, Config(), resume=False)

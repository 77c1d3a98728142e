"""The train command under torchrun, dumping what each rank ends with (for test_train_distributed).

    torchrun ... tests/scripts/ddp_worker.py DUMP_DIR <train.py arguments>

Runs the real command's ``main`` (vidpred.commands.train); after ``Trainer.fit`` each rank writes
``DUMP_DIR/rank<R>.pt`` with its networks' weights and the losses of its first step. With
``VIDPRED_TEST_FULL_DISK`` set, every checkpoint write fails as on a full disk; set to
``validation``, the main process's validation record fails instead.
"""

import os
import sys
from pathlib import Path

import torch

from vidpred.checkpoint import CheckpointWriteError
from vidpred.commands.train import main as train_main
from vidpred.training import trainer as trainer_module
from vidpred.training.run_log import RunLog, RunLogError


def main() -> int:
    dump_dir = Path(sys.argv[1])
    Trainer = trainer_module.Trainer
    fit, train_step = Trainer.fit, Trainer.train_step

    def recording_train_step(self):
        logs = train_step(self)
        if not hasattr(self, "_first_logs"):
            self._first_logs = {k: float(v) for k, v in logs.items()}
        return logs

    def fit_and_dump(self):
        result = fit(self)
        weights = {"generator": self.generator.state_dict()}
        weights.update({a.name: a.model.state_dict() for a in self.adversaries})
        dump_dir.mkdir(parents=True, exist_ok=True)
        torch.save(
            {"weights": weights, "first_logs": getattr(self, "_first_logs", {}), "step": self.step},
            dump_dir / f"rank{self.dist.rank}.pt",
        )
        return result

    Trainer.fit, Trainer.train_step = fit_and_dump, recording_train_step
    if os.environ.get("VIDPRED_TEST_FULL_DISK") == "validation":
        def full_disk_record(self, step, train_seconds, record):
            raise RunLogError("cannot write validation.jsonl: No space left on device")

        RunLog.validation = full_disk_record
    elif os.environ.get("VIDPRED_TEST_FULL_DISK"):
        def full_disk(state, path):
            raise CheckpointWriteError(f"cannot write the checkpoint {path}: No space left on device")

        trainer_module.save_checkpoint = full_disk
    return train_main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())

"""Train a video predictor.

    python scripts/train.py --config configs/quickstart.yaml
    python scripts/train.py --config configs/quickstart.yaml --set train.steps=2000 --set run.name=longer
    python scripts/train.py --config configs/quickstart.yaml --resume
    torchrun --nproc_per_node 2 scripts/train.py --config configs/quickstart.yaml
    torchrun --nproc_per_node 2 -m vidpred.commands.train --config configs/quickstart.yaml   # from any folder
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import sys
from pathlib import Path

from vidpred.checkpoint import CheckpointWriteError
from vidpred.cli import add_config_args, log_format, script, setup_logging, user_path
from vidpred.config import Config, load_config
from vidpred.safe_write import TEXT_ERRORS, same_file
from vidpred.training.distributed import cleanup, env_rank, launched_by_torchrun
from vidpred.training.monitor import TrainingDiverged
from vidpred.training.run_lock import RunLocked
from vidpred.training.run_log import RunLogError
from vidpred.training.trainer import Trainer


class _QuietFileHandler(logging.FileHandler):
    """train.log, which stops quietly when its disk is full: the console still shows every
    record, and the error that stops the run says what failed, in one line."""

    def __init__(self, filename) -> None:
        # UTF-8 as every other file of the run: in Windows' code page a record naming, say, a
        # path outside it would fail, and be dropped here without a word.
        super().__init__(filename, encoding="utf-8", errors=TEXT_ERRORS)

    def handleError(self, record: logging.LogRecord) -> None:
        pass


def _own_run_folder(config: Path, cfg: Config, args: argparse.Namespace) -> Path | None:
    """The run folder ``--config <run>/config.yaml --resume`` resumes without ``--run-dir``:
    the folder that config is in (beside its ``checkpoints/latest.pt``), said in a warning when
    the config names another (a folder copied or moved since, or a relative ``run.out_dir``
    read from another working folder), whose run it would have resumed. None otherwise."""
    run = config.parent
    if (not args.resume or args.run_dir is not None or config.name != "config.yaml"
            or not (run / "checkpoints" / "latest.pt").is_file()):
        return None
    named = Path(cfg.run.out_dir).expanduser() / cfg.run.name
    if not same_file(named, run):
        logging.getLogger("vidpred").warning(
            "%s names the run folder %s (run.out_dir / run.name: copied or moved since, or relative to another "
            "working folder): resuming %s, the folder it is in", config, named, run)
    return run


def _quiet_data_beside_the_first_process() -> None:
    """Under torchrun, the data's warnings (videos skipped, a stretched aspect ratio) are said
    by each machine's first process alone: the others read the same videos from its cache."""
    if launched_by_torchrun() and os.environ.get("LOCAL_RANK", "0") != "0":
        logging.getLogger("vidpred.data").setLevel(logging.ERROR)


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_args(parser)
    parser.add_argument("--run-dir", type=user_path,
                        help="run directory (default: <run.out_dir>/<run.name>)")
    parser.add_argument("--resume", action="store_true", help="continue the run from checkpoints/latest.pt")
    args = parser.parse_args(argv)

    rank = env_rank()
    logged_rank = rank if launched_by_torchrun() else None
    # Under torchrun only rank 0 reports progress; the others speak only to warn.
    setup_logging(logging.INFO if rank == 0 else logging.WARNING, rank=logged_rank)
    _quiet_data_beside_the_first_process()
    # What is logged while the trainer is built (data, cache, warnings) is kept and written
    # to train.log once the run directory is known.
    early = logging.handlers.MemoryHandler(capacity=100_000, flushLevel=logging.CRITICAL + 1)
    logging.getLogger().addHandler(early)
    try:
        cfg = load_config(args.config, args.overrides)
        own = _own_run_folder(Path(args.config), cfg, args)
        trainer = Trainer(cfg, args.run_dir or own, resume=args.resume)
    finally:
        logging.getLogger().removeHandler(early)
    file_log = None
    try:
        run_dir = trainer.run_dir
        trainer.claim_run_dir()  # a refused run writes nothing into a live run's train.log
        if trainer.dist.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
            file_log = _QuietFileHandler(run_dir / "train.log")
            file_log.setFormatter(logging.Formatter(log_format(logged_rank)))
            early.setTarget(file_log)
            early.flush()
            logging.getLogger().addHandler(file_log)
        early.close()
        result = trainer.fit()
        if "interrupted" not in result and trainer.dist.is_main:
            logging.getLogger("vidpred").info(
                "done: %s (final metrics in %s)", run_dir, run_dir / "final_metrics.json"
            )
    except (RunLocked, CheckpointWriteError, RunLogError) as exc:
        logging.getLogger("vidpred").error("%s", exc)
        return 2
    except TrainingDiverged as exc:
        logging.getLogger("vidpred").error("%s", exc)
        return 3
    finally:
        cleanup(trainer.dist)
        if file_log is not None:  # main() may run again in this process (tests)
            logging.getLogger().removeHandler(file_log)
            file_log.close()
    if "interrupted" in result:
        return 128 + int(result["interrupted"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

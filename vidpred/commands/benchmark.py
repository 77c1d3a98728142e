"""Measure training speed (or the data pipeline's) and print one JSON line.

    python scripts/benchmark.py                                  # paper sizes, config defaults
    python scripts/benchmark.py --precision bf16 --reference     # + plain eager fp32 port, same run
    python scripts/benchmark.py --compile --batch-size 16 --steps 20
    python scripts/benchmark.py --data-pipeline                  # patch sampler and loader
    python scripts/benchmark.py --predict --checkpoint vidpred/pretrained/refiner.pt   # prediction fps

Training is timed on random clips (no dataset needed) with the Trainer's own d_step and
g_step; the float32 and bf16 convolution peaks are measured in the same process. A flag
of one benchmark given to another (--checkpoint without --predict, say) is refused. Other
jobs on the machine slow everything down: compare ratios from one run, and repeat.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from vidpred.benchmark.data import benchmark_data
from vidpred.benchmark.iteration import benchmark_training
from vidpred.benchmark.prediction import benchmark_prediction
from vidpred.build import select_device
from vidpred.cli import add_config_args, checkpoint_path, script, setup_logging, user_path
from vidpred.config import load_config

_CONFIG = "configs/paper_ucf101.yaml"
_MODE_NAMES = {"training": "the training benchmark", "predict": "--predict", "data": "--data-pipeline"}
# The benchmarks each flag is read by.
_MODES = {"--checkpoint": ("predict",), "--size": ("predict",), "--device": ("predict",),
          "--loader-workers": ("data",), "--cache-dir": ("data",), "--steps": ("training", "predict"),
          **{flag: ("training",) for flag in ("--warmup", "--precision", "--channels-last", "--compile", "--batch-size",
                                              "--reference", "--no-peak", "--set", "--config")}}


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_args(parser, default=_CONFIG, help="YAML config (model sizes, optimizers)")
    parser.add_argument("--precision", choices=("fp32", "bf16", "auto"), help="train.precision")
    parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction, help="train.channels_last")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, help="train.compile")
    parser.add_argument("--batch-size", type=int, help="train.batch_size")
    parser.add_argument("--steps", type=int, default=None, help="timed iterations (default 10)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed iterations first (default 2)")
    parser.add_argument("--reference", action="store_true",
                        help="also time a plain eager float32 port of the paper's iteration and print the speedup "
                             "(a config that adds to that iteration is refused, naming the keys)")
    parser.add_argument("--no-peak", dest="peak", action="store_false", help="skip the convolution peak")
    parser.add_argument("--data-pipeline", action="store_true", help="time the patch sampler and loader instead")
    parser.add_argument("--loader-workers", type=int, default=None,
                        help="--data-pipeline: DataLoader worker processes (default 2)")
    parser.add_argument("--cache-dir", type=user_path,
                        help="--data-pipeline: where procedural videos are cached (default: a temporary folder)")
    parser.add_argument("--predict", action="store_true",
                        help="time prediction instead: the baselines and each --checkpoint on one frame size")
    parser.add_argument("--checkpoint", nargs="*", default=[], help="--predict: models to time")
    parser.add_argument("--size", type=int, nargs=2, default=None, metavar=("H", "W"),
                        help="--predict: frame size (default 360 640)")
    parser.add_argument("--device", default=None,
                        help="--predict: where the models run, auto | cpu | cuda | cuda:N (default auto; training "
                             "runs on train.device)")
    args = parser.parse_args(argv)

    setup_logging()
    args.checkpoint = [checkpoint_path(c) for c in args.checkpoint]
    _refuse_flags_of_another_benchmark(args)
    steps = 10 if args.steps is None else args.steps
    if args.data_pipeline:
        workers = 2 if args.loader_workers is None else args.loader_workers
        if workers < 0:
            raise ValueError(f"--loader-workers must be >= 0, got {workers}")
        if args.cache_dir:
            result = benchmark_data(args.cache_dir, num_workers=workers)
        else:
            # the cache's files are memory-mapped, which Windows cannot delete: keep the result
            with tempfile.TemporaryDirectory(prefix="vidpred-data-benchmark-", ignore_cleanup_errors=True) as tmp:
                result = benchmark_data(tmp, num_workers=workers)
        print(json.dumps({"benchmark": "data", **result}))
        return 0

    if args.predict:
        if steps < 1:
            raise ValueError(f"--steps must be >= 1, got {steps}")
        height, width = args.size or (360, 640)
        result = benchmark_prediction(args.checkpoint, height=height, width=width, repeats=steps,
                                      device=select_device(args.device or "auto", "--device"))
        print(json.dumps({"benchmark": "prediction", **result}))
        return 0

    flags = {"train.precision": args.precision, "train.channels_last": args.channels_last,
             "train.compile": args.compile, "train.batch_size": args.batch_size}
    overrides = [*args.overrides, *(f"{key}={json.dumps(value)}" for key, value in flags.items() if value is not None)]
    warmup = 2 if args.warmup is None else args.warmup
    if steps < 1 or warmup < 0:
        raise ValueError(f"need --steps >= 1 and --warmup >= 0, got {steps} and {warmup}")
    if args.config == _CONFIG and not Path(_CONFIG).is_file():
        raise FileNotFoundError(f"no {_CONFIG} here: run from the repository root, or give --config")
    cfg = load_config(args.config, overrides)
    result = benchmark_training(cfg, steps=steps, warmup=warmup, reference=args.reference,
                                measure_peak=args.peak)
    print(json.dumps({"benchmark": "training", "config": args.config, **result}))
    return 0


def _refuse_flags_of_another_benchmark(args: argparse.Namespace) -> None:
    """Refuse a flag that the benchmark asked for does not read: it would change nothing, and
    the numbers printed would not be the ones the user asked for."""
    if args.predict and args.data_pipeline:
        raise ValueError("--predict and --data-pipeline time different things: give one (neither: training)")
    mode = "predict" if args.predict else "data" if args.data_pipeline else "training"
    given = {"--checkpoint": bool(args.checkpoint), "--size": args.size is not None,
             "--device": args.device is not None, "--loader-workers": args.loader_workers is not None,
             "--cache-dir": args.cache_dir is not None, "--steps": args.steps is not None,
             "--warmup": args.warmup is not None, "--precision": args.precision is not None,
             "--channels-last": args.channels_last is not None, "--compile": args.compile is not None,
             "--batch-size": args.batch_size is not None, "--reference": args.reference, "--no-peak": not args.peak,
             "--set": bool(args.overrides), "--config": args.config != _CONFIG}
    for flag, modes in _MODES.items():
        if given[flag] and mode not in modes:
            raise ValueError(f"{flag} applies to {' and '.join(_MODE_NAMES[m] for m in modes)}, not to "
                             f"{_MODE_NAMES[mode]}")


if __name__ == "__main__":
    sys.exit(main())

"""Measure training speed (or the data pipeline's) and print one JSON line.

    python scripts/benchmark.py                                  # paper sizes, config defaults
    python scripts/benchmark.py --precision bf16 --reference     # + plain eager fp32 port, same run
    python scripts/benchmark.py --compile --batch-size 16 --steps 20
    python scripts/benchmark.py --data-pipeline                  # patch sampler and loader
    python scripts/benchmark.py --predict --checkpoint vidpred/pretrained/refiner.pt   # prediction fps

Training is timed on random clips (no dataset needed) with the Trainer's own d_step and
g_step; the float32 and bf16 convolution peaks are measured in the same process. Other
jobs on the machine slow everything down: compare ratios from one run, and repeat.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile

from vidpred.benchmark.data import benchmark_data
from vidpred.benchmark.iteration import benchmark_training
from vidpred.benchmark.prediction import benchmark_prediction
from vidpred.build import select_device
from vidpred.cli import add_config_args, script, setup_logging
from vidpred.config import load_config


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_args(parser, default="configs/paper_ucf101.yaml", help="YAML config (model sizes, optimizers)")
    parser.add_argument("--precision", choices=("fp32", "bf16", "auto"), help="train.precision")
    parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction, help="train.channels_last")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, help="train.compile")
    parser.add_argument("--batch-size", type=int, help="train.batch_size")
    parser.add_argument("--steps", type=int, default=10, help="timed iterations (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed iterations first (default 2)")
    parser.add_argument("--reference", action="store_true",
                        help="also time a plain eager float32 port of the iteration and print the speedup")
    parser.add_argument("--no-peak", dest="peak", action="store_false", help="skip the convolution peak")
    parser.add_argument("--data-pipeline", action="store_true", help="time the patch sampler and loader instead")
    parser.add_argument("--loader-workers", type=int, default=2,
                        help="--data-pipeline: DataLoader worker processes (default 2)")
    parser.add_argument("--cache-dir",
                        help="--data-pipeline: where procedural videos are cached (default: a temporary folder)")
    parser.add_argument("--predict", action="store_true",
                        help="time prediction instead: the baselines and each --checkpoint on one frame size")
    parser.add_argument("--checkpoint", nargs="*", default=[], help="--predict: models to time")
    parser.add_argument("--size", type=int, nargs=2, default=(360, 640), metavar=("H", "W"),
                        help="--predict: frame size (default 360 640)")
    parser.add_argument("--device", default="auto",
                        help="--predict: where the models run, auto | cpu | cuda | cuda:N (default auto; training "
                             "runs on train.device)")
    args = parser.parse_args(argv)

    setup_logging()
    if args.data_pipeline:
        if args.cache_dir:
            result = benchmark_data(args.cache_dir, num_workers=args.loader_workers)
        else:
            # the cache's files are memory-mapped, which Windows cannot delete: keep the result
            with tempfile.TemporaryDirectory(prefix="vidpred-data-benchmark-", ignore_cleanup_errors=True) as tmp:
                result = benchmark_data(tmp, num_workers=args.loader_workers)
        print(json.dumps({"benchmark": "data", **result}))
        return 0

    if args.predict:
        if args.steps < 1:
            raise ValueError(f"--steps must be >= 1, got {args.steps}")
        result = benchmark_prediction(args.checkpoint, height=args.size[0], width=args.size[1], repeats=args.steps,
                                      device=select_device(args.device, "--device"))
        print(json.dumps({"benchmark": "prediction", **result}))
        return 0

    flags = {"train.precision": args.precision, "train.channels_last": args.channels_last,
             "train.compile": args.compile, "train.batch_size": args.batch_size}
    overrides = [*args.overrides, *(f"{key}={json.dumps(value)}" for key, value in flags.items() if value is not None)]
    if args.steps < 1 or args.warmup < 0:
        raise ValueError(f"need --steps >= 1 and --warmup >= 0, got {args.steps} and {args.warmup}")
    cfg = load_config(args.config, overrides)
    result = benchmark_training(cfg, steps=args.steps, warmup=args.warmup, reference=args.reference,
                                measure_peak=args.peak)
    print(json.dumps({"benchmark": "training", "config": args.config, **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Pretrain the blur-detecting discriminator (the sharper-predictions article) and save it for training to load.

Sharp frames against Gaussian (5x5, variance 5), median (5x5) and bilateral blurs. By
default the frames are patch_size crops of the configured dataset (training videos for
training, validation videos for the held-out accuracy); with --cifar10 they are CIFAR-10
images from a local python-format directory (data batches / test batch).

    python scripts/pretrain_blur_discriminator.py --config configs/quickstart_full.yaml
    python scripts/pretrain_blur_discriminator.py --config configs/quickstart_full.yaml --cifar10 ~/data/cifar-10-batches-py

The checkpoint goes to model.blur_discriminator.checkpoint of the config (or --out), and
holds the architecture, the weights, the training data and the held-out accuracies.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import torch

from vidpred.build import select_device
from vidpred.checkpoint import describe_file, load_checkpoint
from vidpred.cli import add_config_args, add_device_arg, finite, positive, script, setup_logging, user_path
from vidpred.config import config_to_dict, load_config
from vidpred.data.cifar10 import load_cifar10
from vidpred.data.datasets import load_split
from vidpred.models.blur_discriminator import CHECKPOINT_KIND, BlurDiscriminator, save_blur_discriminator
from vidpred.safe_write import check_output
from vidpred.training.blur_pretraining import FramePool, pretrain_blur_discriminator
from vidpred.training.monitor import TrainingDiverged

log = logging.getLogger("vidpred")


# What this command reads of a config (a --set of anything else would do nothing), and the
# widest first convolution it builds (16 times the default; wider ones exhaust the memory).
USED_KEYS = ("data.source", "data.root", "data.split", "data.val_videos", "data.n_val_videos", "data.cache_dir",
             "data.frame_size", "data.frame_height", "data.max_frames_per_video", "data.patch_size", "data.procedural.",
             "model.channels", "model.blur_discriminator.checkpoint")
_MAX_WIDTH = 256


def _is_blur_checkpoint(path: Path) -> bool:
    """Whether ``path`` is a blur discriminator checkpoint (an earlier run of this script),
    never another vidpred checkpoint: a run's training checkpoint or an exported model."""
    try:
        return load_checkpoint(path).get("kind") == CHECKPOINT_KIND
    except (FileNotFoundError, ValueError):
        return False


def override_key(override: str) -> str:
    """The key of a ``--set key=value``."""
    return override.partition("=")[0].strip()


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_args(parser, help="YAML config: its data section and model.channels are used",
                    set_help="override the config's data keys that choose and decode the videos, model.channels "
                             "or model.blur_discriminator.checkpoint, e.g. --set data.patch_size=64 (repeatable; "
                             "values are YAML; the training itself is set by the flags below)")
    parser.add_argument("--cifar10", metavar="DIR", type=user_path,
                        help="train on CIFAR-10 from this cifar-10-batches-py directory")
    parser.add_argument("--out", type=user_path, help="checkpoint path (default: model.blur_discriminator.checkpoint)")
    parser.add_argument("--steps", type=int, default=300, help="Adam steps (default 300)")
    parser.add_argument("--batch-size", type=int, default=32, help="sharp and as many blurred crops per step")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--width", type=int, default=16, help="feature maps of the first convolution")
    parser.add_argument("--n-down", type=int, default=3, help="stride-2 stages")
    parser.add_argument("--leaky-slope", type=float, default=0.2)
    parser.add_argument("--n-heldout", type=int, default=512, help="held-out crops for the accuracy")
    parser.add_argument("--seed", type=int, default=0)
    add_device_arg(parser)
    parser.add_argument("--force", action="store_true",
                        help="replace an existing checkpoint path that holds something other than a blur "
                             "discriminator checkpoint (a run's training checkpoint, an exported model, ...)")
    args = parser.parse_args(argv)
    setup_logging()

    for flag, value in (("--steps", args.steps), ("--batch-size", args.batch_size), ("--lr", args.lr),
                        ("--width", args.width), ("--n-down", args.n_down), ("--n-heldout", args.n_heldout)):
        positive(flag, value)
    if args.width > _MAX_WIDTH:
        raise ValueError(f"--width must be at most {_MAX_WIDTH}, got {args.width}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    finite("--leaky-slope", args.leaky_slope, 0.0, 1.0)
    for flag, value in (("--out", args.out), ("--cifar10", args.cifar10)):
        if value is not None and not value.strip():  # an unset "$VAR": not the default, said
            raise ValueError(f"{flag}: the path is empty")
    unused = [key for key in map(override_key, args.overrides) if not key.startswith(USED_KEYS)]
    if unused:
        raise ValueError(f"--set {', '.join(unused)}: this command reads only the config's "
                         f"{', '.join(USED_KEYS)} keys; its training is set by --steps, --batch-size, --lr and --seed")
    cfg = load_config(args.config, args.overrides)
    device = select_device(args.device, "--device")
    out = args.out or cfg.model.blur_discriminator.checkpoint
    crop = 32 if args.cifar10 else cfg.data.patch_size
    if args.n_down > crop.bit_length() - 1:  # each further stage convolves a 1-px map to nothing new
        raise ValueError(f"--n-down {args.n_down} halves the {crop}-px crops below 1 px: at most "
                         f"{crop.bit_length() - 1}{'' if args.cifar10 else ' (or a larger data.patch_size)'}")
    # Refused before decoding and training, not after.
    check_output(out, inputs=[args.config, args.cifar10], ours=_is_blur_checkpoint,
                 what="a blur discriminator checkpoint", force=args.force)
    if args.cifar10:
        train_pool = FramePool([load_cifar10(args.cifar10, "train")], crop)
        heldout_pool = FramePool([load_cifar10(args.cifar10, "test")], crop)
        source = {"source": "cifar10", "root": str(args.cifar10), "crop": crop}
    else:
        train_pool = FramePool([v.frames for v in load_split(cfg.data, "train", min_frames=1)], crop)
        heldout_pool = FramePool([v.frames for v in load_split(cfg.data, "val", min_frames=1)], crop)
        source = {"source": cfg.data.source, "data": config_to_dict(cfg)["data"], "crop": crop}

    torch.manual_seed(args.seed)
    model = BlurDiscriminator(cfg.model.channels, width=args.width, n_down=args.n_down, leaky_slope=args.leaky_slope)
    heldout = heldout_pool.sample(args.n_heldout, np.random.default_rng([args.seed, 1]))
    try:
        accuracy = pretrain_blur_discriminator(
            model, train_pool, heldout,
            steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed, device=device,
        )
    except TrainingDiverged as exc:
        log.error("%s", exc)
        return 3  # as a diverged training run
    training = {
        **source,
        "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed,
        "n_heldout": args.n_heldout, "blur": "gaussian 5x5 sigma sqrt(5); median 5x5; bilateral 5x5 (vidpred.data.blur)",
    }
    replaced = describe_file(out)
    save_blur_discriminator(model.cpu(), out, training, accuracy)
    if replaced is not None:
        log.warning("replaced %s, %s", out, replaced)
    log.info("wrote %s; held-out accuracy: %s", out, ", ".join(f"{k} {v:.3f}" for k, v in accuracy.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

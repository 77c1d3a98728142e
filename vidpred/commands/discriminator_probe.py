r"""Can a config's discriminators tell a trained generator's predictions from real frames?

    python scripts/discriminator_probe.py --config configs/quickstart.yaml \
        --checkpoint runs/quickstart/checkpoints/latest.pt --steps 400

Freshly built discriminators (as the config builds them: sizes, initialisation, optimizer,
objective, penalties) are trained for --steps updates against the checkpoint's generator,
which is frozen: no adversarial game, only the question whether the discriminator can
learn the difference at all. Each update's batch is new, and the accuracies are read
before the update, so every figure is on data the discriminator has not trained on.
Prints each discriminator's accuracy on real and on predicted inputs over the last half
of the updates (and, for the multi-scale D, each scale's balanced accuracy).

A D that stays near 0.5 here cannot learn the task in that many updates, whatever the
generator does: look at its initialisation, optimizer and width before its adversarial
weight. The config's perceptual terms (``loss.l_vgg``, ``loss.l_lpips``) are left out: they
are the generator's, so their pretrained weights are not needed here.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import tempfile

from vidpred._progress import progress
from vidpred.benchmark.discriminators import PREFIXES
from vidpred.checkpoint import load_checkpoint, weights_mismatch
from vidpred.cli import add_config_args, add_threads_arg, checkpoint_path, script, set_threads, setup_logging
from vidpred.config import ConfigError, load_config
from vidpred.training.trainer import Trainer

log = logging.getLogger("vidpred.discriminator_probe")


def probe(trainer: Trainer, steps: int) -> dict[str, dict[str, float]]:
    """Train ``trainer``'s discriminators for ``steps`` updates with its generator fixed.

    Returns:
        Per discriminator log prefix (``d``, ``d_st``, ``d_blur``): the mean over the last
        half of the updates of every accuracy it logs (``acc_real``, ``acc_fake``, ``acc``,
        ``gap`` and, for the multi-scale D, ``acc_s<k>``).
    """
    trainer.generator.requires_grad_(False)
    history: list[dict[str, float]] = []
    for _ in progress(range(steps), desc="discriminator updates", unit="step"):
        batch = trainer.next_batch()
        trainer.next_batch()  # the generator's batch of the step: D sees the batches it sees in training
        history.append({k: float(v) for k, v in trainer.d_step(batch).items()})
    tail = history[len(history) // 2:]
    out: dict[str, dict[str, float]] = {}
    for prefix in PREFIXES:
        keys = [k for k in tail[0] if k.startswith(f"{prefix}_acc") or k == f"{prefix}_gap"]
        if keys:
            out[prefix] = {k.removeprefix(f"{prefix}_"): sum(row[k] for row in tail) / len(tail) for k in keys}
    return out


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_args(parser, help="the config whose discriminators are probed")
    parser.add_argument("--checkpoint", required=True, help="a training checkpoint holding the generator")
    parser.add_argument("--steps", type=int, default=400, help="discriminator updates (default 400)")
    add_threads_arg(parser)
    args = parser.parse_args(argv)
    setup_logging()
    args.checkpoint = checkpoint_path(args.checkpoint)
    if args.steps < 2:
        raise ValueError(f"--steps must be >= 2, got {args.steps}")
    set_threads(args.threads)
    cfg = load_config(args.config, args.overrides)
    # The generator's perceptual terms play no part in a discriminator update: their networks
    # (and weights files) are not needed.
    cfg = dataclasses.replace(cfg, loss=dataclasses.replace(cfg.loss, l_vgg=0.0, l_lpips=0.0))
    state = load_checkpoint(args.checkpoint)
    if "generator" not in state:
        raise ValueError(f"{args.checkpoint} holds no generator; is it a vidpred training checkpoint?")
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(cfg, run_dir)
        if not trainer.d_optimizers:
            raise ConfigError(f"{args.config} trains no discriminator")
        mismatch = weights_mismatch(trainer.generator.state_dict(), state["generator"])
        if mismatch:
            raise ValueError(f"{args.checkpoint}: its generator does not fit the one {args.config} builds "
                             f"({mismatch}): probe with the config it was trained with")
        trainer.generator.load_state_dict(state["generator"])
        results = probe(trainer, args.steps)
    print("| discriminator | acc. real | acc. predicted | balanced | logit gap | per scale (coarsest first) |\n"
          "|---|---|---|---|---|---|")
    for prefix, values in results.items():
        scales = ", ".join(f"{values[k]:.2f}" for k in sorted(k for k in values if k.startswith("acc_s")))
        print(f"| {PREFIXES[prefix]} | {values['acc_real']:.3f} | {values['acc_fake']:.3f} | {values['acc']:.3f} | "
              f"{values['gap']:.3f} | {scales or '-'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

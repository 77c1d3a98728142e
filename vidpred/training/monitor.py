"""Watching a run's health: a stop when it diverges or stalls, a warning when a discriminator sits at chance.

Divergence: a loss or gradient norm that is infinite or NaN stops training
(:class:`TrainingDiverged`) before that step is logged or saved, so the last checkpoint
still holds finite weights.

Stall: a generator whose gradient is exactly zero while its loss is not, for
:data:`STALL_STEPS` steps in a row, stops training the same way (:class:`StallWatch`). Every
output it has then sits where a softmax or tanh is flat (the refiner's candidate weights and
correction, the pyramid generator's tanh at +-1): no later step can move it, and the
averaged weights would only follow it down.

Chance: a warning naming the knobs to turn.

At chance (balanced accuracy 0.5, see :mod:`vidpred.metrics.discriminator`) a
discriminator's verdict is the same for real and predicted inputs, so the generator's
adversarial term pushes it nowhere useful while it still costs a D update and a G
gradient through D every step. The monitor reads each logged step's accuracies and warns,
once per discriminator until it recovers, when their mean over the last ``patience``
steps (those logged, from ``disc_start`` on) stays below ``threshold``.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from pathlib import Path

import torch

from vidpred.training.distributed import DistInfo, any_rank

__all__ = ["ChanceMonitor", "KNOBS", "STALL_STEPS", "StallWatch", "TrainingDiverged", "check_finite"]

log = logging.getLogger(__name__)


# Steps in a row with an exactly zero generator gradient (and a loss that is not zero) that stop a run.
STALL_STEPS = 10


class TrainingDiverged(RuntimeError):
    """A loss or gradient norm became infinite or NaN, or the generator's gradient stayed exactly
    zero (:class:`StallWatch`); no checkpoint is written once it is found."""


def check_finite(logs: dict[str, torch.Tensor], step: int, latest: Path, dist: DistInfo, device: torch.device) -> None:
    """Raise :class:`TrainingDiverged` if any value of ``logs`` is not finite on any rank.

    Every rank must call it (a collective under torchrun), so that all stop together.
    ``latest`` is the checkpoint the message points the user to.
    """
    values = torch.stack([v.detach().float().reshape(()) for v in logs.values()])
    bad = not bool(torch.isfinite(values).all())
    if any_rank(bad, dist, device):
        names = [k for k, v in logs.items() if not torch.isfinite(v).all()]
        if len(names) > 4:
            names = [*names[:4], f"{len(names) - 4} more"]
        where = f"{latest} holds the last finite state" if latest.is_file() else "no checkpoint was written"
        raise TrainingDiverged(
            f"training diverged at step {step}: {', '.join(names) or 'another rank'} not finite; "
            f"{where}. Lower the learning rates, set a grad_clip under optim, or use train.precision=fp32."
        )


class StallWatch:
    """Count the steps in a row whose generator gradient (``grad_norm_g``) was exactly zero while
    its objective (``g_total``) was not; :meth:`check` stops the run at ``patience`` of them.

    The count stays on the device (:meth:`update` every step, no host sync); :meth:`check`
    reads it at the steps that log or save anyway.
    """

    def __init__(self, device: torch.device, patience: int = STALL_STEPS,
                 remedies: tuple[str, ...] = ("another train.seed", "train.lr_schedule=cosine",
                                              "train.precision=fp32")) -> None:
        if patience < 1:
            raise ValueError(f"need patience >= 1, got {patience}")
        self.patience = patience
        self.remedies = remedies
        self.first_step: int | None = None  # the first step counted, once there is one
        self.streak = torch.zeros((), dtype=torch.long, device=device)

    def update(self, step: int, logs: dict[str, torch.Tensor]) -> None:
        """Count the logged values of ``step`` (a step without both keys breaks the streak)."""
        self.first_step = self.first_step or step
        grad, loss = logs.get("grad_norm_g"), logs.get("g_total")
        if grad is None or loss is None:
            self.streak = torch.zeros_like(self.streak)
            return
        stalled = (grad.detach().reshape(()) == 0) & (loss.detach().reshape(()) != 0)
        self.streak = torch.where(stalled.to(self.streak.device), self.streak + 1, torch.zeros_like(self.streak))

    def check(self, step: int, latest: Path, latest_step: int | None, dist: DistInfo, device: torch.device) -> None:
        """Raise :class:`TrainingDiverged` on every rank if the streak has reached ``patience`` on any.

        ``latest_step``: the step ``latest`` holds, if known (None: as found on disk). Every rank
        must call it (a collective under torchrun).
        """
        streak = int(self.streak)
        if not any_rank(streak >= self.patience, dist, device):
            return
        began = max(1, step - max(streak, self.patience) + 1)  # streak < patience: another rank's, at least as long
        if not latest.is_file():
            where = "no checkpoint was written"
        elif latest_step is None:
            where = f"{latest} holds the last checkpoint"
        elif latest_step < began - 1:  # step began's zero gradient was taken at the weights of step began - 1
            where = f"{latest} (step {latest_step}) was written before it"
        else:
            where = f"{latest} (step {latest_step}) already holds the stalled weights"
        since = f"since step {began}" if streak >= self.patience else f"on another rank since at least step {began}"
        if began == self.first_step and began > 1:  # zero before too, perhaps: this process saw no earlier step
            since += ", the first step this process trained,"
        best = latest.with_name("best.pt")
        if best.is_file():
            where += f", {best} holds the best validation"
        raise TrainingDiverged(
            f"training stalled at step {step}: the generator's gradient has been exactly zero {since} "
            f"while its loss was not (its outputs saturated, every softmax or tanh at its limit), so no later step "
            f"can change it; {where}. Train again with {', '.join(self.remedies[:-1])}"
            f"{' or ' if len(self.remedies) > 1 else ''}{self.remedies[-1]}."
        )


def _trained_from_scratch(optim_key: str, model_key: str) -> str:
    return (f"{model_key}.init=he with {model_key}.leaky_slope=0.2 (with PyTorch's default initialisation a "
            f"small D starts, and stays, near a constant), {optim_key}.name=adam with a higher {optim_key}.lr "
            f"(1e-3 for the quickstart's sizes), or a wider {model_key}.width")


# Per discriminator (its log prefix): its name in messages and what to try when it sits at chance.
KNOBS = {
    "d": ("multi-scale", _trained_from_scratch("optim.discriminator", "model.discriminator")
          + "; on real video, where predictions are close to the truth, also model.discriminator.inputs=differences, "
            "data.d_unfiltered_fraction=0.05 and loss.r1_weight=0"),
    "d_blur": ("blur", "a higher optim.blur_discriminator.lr, or model.blur_discriminator.frozen=true to keep "
                       "the pretrained detector as a fixed judge"),
    "d_st": ("spatio-temporal", _trained_from_scratch("optim.spatiotemporal_discriminator",
                                                      "model.spatiotemporal_discriminator")),
}


class ChanceMonitor:
    """Watch ``<prefix>_acc`` of every discriminator in the logged values.

    Args:
        patience: steps a discriminator may stay at chance before the warning (>= 1).
        threshold: balanced accuracy below which it counts as at chance.
        log_every: steps between logged values (the window holds ``patience / log_every`` of them).
    """

    def __init__(self, patience: int, threshold: float = 0.55, log_every: int = 1) -> None:
        if patience < 1 or log_every < 1:
            raise ValueError(f"need patience >= 1 and log_every >= 1, got {patience}, {log_every}")
        self.patience = patience
        self.threshold = threshold
        self.window = max(1, patience // log_every)
        self.history: dict[str, deque[float]] = {}
        self.warned: set[str] = set()

    def update(self, step: int, values: dict[str, float]) -> list[str]:
        """Record one logged step; returns (and logs) the warnings it raised."""
        messages = []
        for prefix, (name, advice) in KNOBS.items():
            key = f"{prefix}_acc"
            if key not in values:
                continue
            history = self.history.setdefault(prefix, deque(maxlen=self.window))
            history.append(float(values[key]))
            mean = sum(history) / len(history)
            if len(history) < self.window or mean >= self.threshold:
                if mean >= self.threshold:
                    self.warned.discard(prefix)  # recovered: warn again if it relapses
                continue
            if prefix in self.warned:
                continue
            self.warned.add(prefix)
            message = (
                f"step {step}: the {name} discriminator has stayed at chance for {self.patience} steps "
                # rounded down: a mean just under the threshold must not read as equal to it
                f"(balanced accuracy {math.floor(mean * 1000) / 1000:.3f} < {self.threshold:g} on real and "
                f"predicted inputs): its adversarial term carries no information. Where not set already, try {advice}"
            )
            log.warning("%s", message)
            messages.append(message)
        return messages

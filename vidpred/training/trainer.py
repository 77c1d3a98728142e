"""Adversarial training, paper Algorithm 1 (Mathieu, Couprie & LeCun 2016).

Each iteration updates the discriminators on one batch with the generator's predictions
detached, then updates the generator on a *new* batch with the discriminators fixed. The
trainer owns the networks and their optimizers; ``d_step`` and ``g_step`` each do
zero_grad, forward, backward and step in one visible place.

Discriminators (``self.adversaries``, see :mod:`vidpred.adversaries`): the
paper's multi-scale D, a pretrained blur detector (frozen or trained, the sharper-predictions article) and a
spatio-temporal clip D (the CogVideo loss notes); the generator's adversarial term is the mean of their
feedback (GMAN). Before ``loss.disc_start`` steps no discriminator is updated and the
generator trains on its reconstruction terms only.

Under ``torchrun`` (see :mod:`vidpred.training.distributed`) every process trains on its
own patches (the sampler's stream depends on the rank) with identical networks: the
generator's rollout and each trainable discriminator run inside
``DistributedDataParallel`` where they are updated, so their gradients are averaged
across processes; the frozen networks and the discriminators as the generator's judges
are used bare. Only rank 0 writes logs, samples, validation results and checkpoints;
checkpoints hold every rank's random state, so a resumed run continues exactly.

What is built where: the networks and optimizers in :mod:`vidpred.build`, the data in
:mod:`vidpred.data.stream`, the run's logs in :mod:`vidpred.training.run_log`; which run
folder a run may write to and what a resumed run finds there in
:mod:`vidpred.training.run_folder`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import signal
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import nn
from tqdm.contrib.logging import logging_redirect_tqdm

from vidpred._progress import progress
from vidpred.build import adversary_optimizer_config, build_training_networks, select_device, synchronize
from vidpred.checkpoint import CheckpointWriteError, remove_partial_writes, save_checkpoint
from vidpred.cli import StopRequest
from vidpred.config import Config, TrainConfig, config_to_dict, default_run_dir, validate
from vidpred.data.datasets import videos_root
from vidpred.data.split_record import SPLIT_FILE, describe_split, follow_split, read_split
from vidpred.data.stream import BatchStream, TrainingData, load_training_data
from vidpred.losses.composite import FINEST_SCALE_LOSSES, generator_objective
from vidpred.losses.perceptual import perceptual_terms
from vidpred.models._pyramid import pyramid
from vidpred.models.discriminator import MultiScaleDiscriminator
from vidpred.safe_write import remove_abandoned_temporaries, write_text
from vidpred.training.distributed import (any_rank, cleanup, gather_objects, init_distributed,
                                          local_leader_first, main_decides, wrap_for_updates)
from vidpred.training.monitor import ChanceMonitor, StallWatch, check_finite
from vidpred.training.precision import autocast_context, configure_backends, prepare_module, resolve_precision
from vidpred.training.run_folder import (align_best, check_outside_data, check_run_folder, claim_run_folder, file_identity,
                                        folders_as_recorded, read_resume_state, resumed_precision, validation_rows)
from vidpred.training.random_state import RandomStreams
from vidpred.training.run_lock import RunLock
from vidpred.training.run_log import RunLog, RunLogError, final_metrics
from vidpred.training.validation import (BEST_KEY, MODEL, WELL_BELOW_BEST_DB, ValidationInterrupted, Validator,
                                        summary_line)
from vidpred.training.visualize import sample_images

log = logging.getLogger(__name__)


def _clip(module: nn.Module, max_norm: float | None) -> torch.Tensor:
    """The gradient norm of ``module`` before clipping it to ``max_norm`` (None: no clipping),
    on the module's device: it is stacked with the other logged values."""
    grads = [p.grad.detach() for p in module.parameters() if p.grad is not None]
    if not grads:  # clip_grad_norm_ would return a CPU zero
        return torch.zeros((), device=next((p.device for p in module.parameters()), None))
    if max_norm is not None:
        return torch.nn.utils.clip_grad_norm_(module.parameters(), max_norm).detach()
    return torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))


@dataclass(frozen=True)
class _Due:
    """What a step is due to do: log (``train.log_every``), validate, draw samples, save;
    the last step does all four."""

    log: bool
    val: bool
    sample: bool
    ckpt: bool

    @classmethod
    def at(cls, step: int, last: bool, cfg: TrainConfig) -> _Due:
        return cls(*(last or step % every == 0
                     for every in (cfg.log_every, cfg.val_every, cfg.sample_every, cfg.ckpt_every)))

    @property
    def anything(self) -> bool:
        return self.log or self.val or self.sample or self.ckpt


def _resolved(folder: str | None) -> str | None:
    return None if folder is None else str(Path(folder).resolve())


class Trainer:
    """Builds everything from a config and trains it; see :meth:`fit`."""

    def __init__(self, cfg: Config, run_dir: str | Path | None = None, *, resume: bool = False):
        validate(cfg)
        self.run_dir = Path(run_dir) if run_dir else default_run_dir(cfg)
        if ".." in self.run_dir.parts:  # "new/../run" is "run" once "new" is made: check the folder written
            self.run_dir = Path(os.path.realpath(self.run_dir))
        if run_dir:  # config.yaml names the folder it is in: `--config <run>/config.yaml --resume` continues this run
            named = Path(os.path.abspath(self.run_dir))  # as from any working directory
            cfg = replace(cfg, run=replace(cfg.run, name=named.name, out_dir=str(named.parent)))
        self.cfg = cfg
        check_outside_data(self.run_dir, cfg)
        self.ckpt_dir = self.run_dir / "checkpoints"
        # Under torchrun: join the process group (gloo on CPU, NCCL on CUDA where it exists, one GPU per rank).
        self.dist, self.device = init_distributed(select_device(cfg.train.device))
        try:
            self._build(cfg, resume)
        except BaseException:
            cleanup(self.dist)  # a refused run leaves no process group behind, whose teardown at exit can abort
            raise

    def _build(self, cfg: Config, resume: bool) -> None:
        """The networks, optimizers, data and resumed state (``__init__`` past joining the processes)."""
        self.n_context, self.n_future = cfg.model.n_context, cfg.train.n_future
        self._latest_seen = file_identity(self.ckpt_dir / "latest.pt")  # what claim_run_dir expects to find there
        resume_state = main_decides(lambda: check_run_folder(self.run_dir, cfg, resume=resume), self.dist)
        if resume and not self.dist.is_main:
            resume_state = read_resume_state(self.run_dir)  # as the main process found it
        if resume_state is not None:
            cfg = self.cfg = folders_as_recorded(cfg, resume_state)

        torch.manual_seed(cfg.train.seed)
        nets = self.nets = build_training_networks(cfg, self.device, resume_state)  # checkpointed as a whole
        self.generator, self.generator_ema, self.adversaries = nets.generator, nets.generator_ema, nets.adversaries
        self.opt_g, self.d_optimizers, self.perceptual = nets.opt_g, nets.d_optimizers, nets.perceptual
        # Each optimizer with its configured rate, which train.lr_schedule scales step by step.
        self._base_lrs = [(self.opt_g, cfg.optim.generator.lr)] + [
            (self.d_optimizers[a.name], adversary_optimizer_config(cfg, a)[0].lr) for a in self.adversaries
            if a.trainable]
        # Speed: every network computes in self.precision inside self.autocast() and returns
        # float32, so the losses stay float32; parameters and optimizers are float32.
        self.precision = resolve_precision(cfg.train.precision, self.device)
        if resume_state is not None:
            self.precision = resumed_precision(resume_state, cfg.train.precision, self.precision, self.device,
                                               announce=self.dist.is_main)
        configure_backends(self.device, self.precision)
        ema = [self.generator_ema] if self.generator_ema is not None else []
        for module in [self.generator, *ema, *(a.model for a in self.adversaries), *self.perceptual.values()]:
            prepare_module(module, channels_last=cfg.train.channels_last, compile=cfg.train.compile)
        self.rng = RandomStreams(cfg.train.seed, self.dist.rank, self.device)  # label noise, frame choice
        # The generator's rollout and the trainable discriminators, in DDP under torchrun.
        self.rollout = wrap_for_updates(self.generator, self.adversaries, self.dist, self.device)
        self.step, self.best_psnr = 0, -math.inf
        self._resumed = False
        self._stopped_at_end = False  # a resumed run: it had stopped at its last step (_restore)
        self._lock: RunLock | None = None  # the main process's, while it trains
        self._claimed = False  # the same on every rank: whether the main process holds the lock
        self.train_seconds = 0.0  # time spent in train steps, across resumes (train.max_minutes)
        if cfg.loss.l_adv == 0 and cfg.loss.l_nce == 0 and self.d_optimizers and self.dist.is_main:
            log.warning("loss.l_adv is 0: the %s discriminator(s) reach the generator through no term, yet each is "
                        "trained every step on a batch of its own; disable them (model.*discriminator.enabled: false)",
                        ", ".join(self.d_optimizers))
        if cfg.loss.disc_start >= cfg.train.steps and self.d_optimizers and self.dist.is_main:
            log.warning("loss.disc_start (%d) is not below train.steps (%d): the %s discriminator(s) neither train nor "
                        "judge the generator in this run", cfg.loss.disc_start, cfg.train.steps,
                        ", ".join(self.d_optimizers))
        self.chance_monitor = (ChanceMonitor(cfg.train.chance_warning_steps, cfg.train.chance_accuracy, cfg.train.log_every)
                               if cfg.train.chance_warning_steps > 0 and self.d_optimizers else None)

        self.split, data = self._load_data(resume)
        self.sampler, self.val_clips = data.sampler, data.val_clips
        self.validator = Validator(self.val_clips, n_context=self.n_context, n_future=cfg.train.val_n_future,
                                   device=self.device, batch_size=cfg.train.batch_size)
        log.info("device %s, %s; batch %d per process%s", self.device, self.precision, cfg.train.batch_size,
                 f", {self.dist.world_size} processes" if self.dist.enabled else "")
        if resume_state is not None:
            self._restore(resume_state)
        self._batches: BatchStream | None = None
        self._latest_step: int | None = None  # the step latest.pt was last written at by this trainer
        self._stop = StopRequest("saving a checkpoint after this step", "again to stop at once, without saving")

    def _load_data(self, resume: bool) -> tuple[dict, TrainingData]:
        """The run's split and what it trains and validates on.

        The videos of each subset are recorded in split.json when the run starts; a resumed
        run follows its record, so new videos in a folder never move the hold-out.
        """
        cfg = self.cfg
        data_cfg, names = cfg.data, None
        recorded = self.run_dir / SPLIT_FILE
        if resume and recorded.is_file():
            split = read_split(recorded)
            data_cfg, names, changes = follow_split(cfg.data, split)
            if changes and self.dist.is_main:
                log.warning("%s", changes)
        else:
            split = describe_split(cfg.data)
        with local_leader_first(self.dist):  # one decode per machine fills the cache
            data = load_training_data(data_cfg, n_context=self.n_context, n_future=self.n_future,
                                      val_n_future=cfg.train.val_n_future, seed=cfg.train.seed,
                                      rank=self.dist.rank, progress=self.dist.is_main,
                                      discriminator_batches=self.batches_per_step == 2, names=names)
        return split, data

    # ------------------------------------------------------------------ data

    @property
    def discriminator(self) -> MultiScaleDiscriminator | None:
        """The paper's multi-scale discriminator, if enabled."""
        return next((a.model for a in self.adversaries if a.name == "multiscale"), None)

    @property
    def batches_per_step(self) -> int:
        """2 (Algorithm 1: one batch for the D step, a new one for G) when a discriminator trains, else 1."""
        return 2 if self.d_optimizers else 1

    @property
    def adversarial_started(self) -> bool:
        """Whether ``loss.disc_start`` has been reached (D updates and G's adversarial term)."""
        return self.step >= self.cfg.loss.disc_start

    @property
    def eval_generator(self) -> nn.Module:
        """The generator that is validated, sampled and shipped: the EMA when enabled."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    def next_batch(self) -> torch.Tensor:
        """Next training batch, float (B, C, T, H, W) in [-1, 1] on the device."""
        if self._batches is None:  # here, not in __init__: a resumed run knows its step only now
            self._batches = BatchStream(self.sampler, self.cfg.train.batch_size, device=self.device,
                                        start_index=self.step * self.batches_per_step, num_workers=self.cfg.data.num_workers)
        return next(self._batches)

    def autocast(self):
        """Context for forward passes and losses: bf16 autocast when ``self.precision`` is bf16."""
        return autocast_context(self.device, self.precision)

    # ------------------------------------------------------------------ steps

    def d_step(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """One update of every trainable discriminator on clips ``x`` ``(B, C, n_context + n_future, H, W)``
        in ``[-1, 1]``, G's predictions detached; returns what to log."""
        context, target = x[:, :, : self.n_context], x[:, :, self.n_context :]
        with torch.no_grad(), self.autocast():
            fake_scales = self.generator.rollout(context, self.n_future, return_scales=True)
        real_scales = pyramid(target, len(fake_scales))
        logs: dict[str, torch.Tensor] = {}
        for adversary in self.adversaries:
            if not adversary.trainable:
                continue
            optimizer = self.d_optimizers[adversary.name]
            with self.autocast():
                loss, adversary_logs = adversary.d_loss(context, real_scales, fake_scales, self.rng.label)

            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            logs[f"grad_norm_{adversary.log_prefix}"] = _clip(adversary.model, adversary.grad_clip)
            optimizer.step()
            logs.update(adversary_logs)
        return logs

    def g_step(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """One generator update on clips ``x`` ``(B, C, n_context + n_future, H, W)`` in ``[-1, 1]``;
        the discriminators are fixed but pass gradients. Returns what to log."""
        context, target = x[:, :, : self.n_context], x[:, :, self.n_context :]
        loss_cfg = self.cfg.loss
        adv_losses: dict[str, torch.Tensor] = {}
        extra_terms: dict[str, tuple[float, torch.Tensor]] = {}
        with self.autocast():
            pred_scales = self.rollout(context, self.n_future)
            n_scales = len(pred_scales)
            target_scales = pyramid(target, n_scales)
            if loss_cfg.l_adv > 0 and self.adversarial_started:
                for adversary in self.adversaries:
                    # D's weights are fixed for this step, but the gradient flows through D into G.
                    adversary.model.requires_grad_(False)
                    adv_losses[adversary.name] = adversary.g_loss(context, pred_scales)
            if loss_cfg.l_nce > 0 and self.adversarial_started:
                multiscale = next(a for a in self.adversaries if a.name == "multiscale")
                multiscale.model.requires_grad_(False)
                extra_terms["g_nce"] = (loss_cfg.l_nce, multiscale.contrastive_loss(
                    context, pred_scales, target_scales, loss_cfg.nce_temperature))
        for name, (weight_key, finest_scale_loss) in FINEST_SCALE_LOSSES.items():  # float32, outside autocast
            weight = getattr(loss_cfg, weight_key)
            if weight > 0:
                extra_terms[name] = (weight, finest_scale_loss(pred_scales[-1].float(), target.float(), loss_cfg))
        extra_terms.update(perceptual_terms(pred_scales[-1], target, self.perceptual,
                                            {"vgg": loss_cfg.l_vgg, "lpips": loss_cfg.l_lpips}, generator=self.rng.frame))
        loss, terms = generator_objective(
            pred_scales, target_scales,
            l_adv=loss_cfg.l_adv, l_p=loss_cfg.l_p, p=loss_cfg.p, l_gdl=loss_cfg.l_gdl, gdl_alpha=loss_cfg.gdl_alpha,
            l_path=loss_cfg.l_path, anchor_scales=pyramid(context[:, :, -1], n_scales), multiscale=loss_cfg.multiscale,
            adv_losses=adv_losses, extra_terms=extra_terms, adaptive_max=loss_cfg.adaptive_max,
            last_layer=self.generator.last_layer if loss_cfg.adaptive_weight and adv_losses else None,
        )

        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = _clip(self.generator, self.cfg.optim.generator.grad_clip)
        self.opt_g.step()
        self._update_ema()
        for adversary in self.adversaries:
            if adversary.trainable:  # a frozen judge stays frozen
                adversary.model.requires_grad_(True)
        return {**terms, "grad_norm_g": grad_norm}

    @torch.no_grad()
    def _update_ema(self) -> None:
        """``ema <- ema + (1 - d) (w - ema)`` with ``d = min(decay, (1 + step) / (10 + step))``:
        the usual warm-up, so early averages are not dominated by the random initialisation."""
        if self.generator_ema is None:
            return
        decay = min(self.cfg.train.ema_decay, (1 + self.step) / (10 + self.step))
        ema = list(self.generator_ema.parameters())
        torch._foreach_lerp_(ema, [p.detach() for p in self.generator.parameters()], 1.0 - decay)

    def learning_rate_factor(self) -> float:
        """This step's multiple of every optimizer's configured rate (``train.lr_schedule``)."""
        if self.cfg.train.lr_schedule == "constant":
            return 1.0
        return 0.5 * (1 + math.cos(math.pi * min(self.step / self.cfg.train.steps, 1.0)))

    def train_step(self) -> dict[str, torch.Tensor]:
        """Algorithm 1: a D update on one batch, then a G update on a new batch."""
        factor = self.learning_rate_factor()
        for optimizer, lr in self._base_lrs:  # set every step: a resumed optimizer's saved rate is a past step's
            for group in optimizer.param_groups:
                group["lr"] = lr * factor
        logs = {}
        if self.batches_per_step == 2:
            # Drawn even before disc_start, so batch i is the same whatever disc_start is.
            d_batch = self.next_batch()
            if self.adversarial_started:
                logs.update(self.d_step(d_batch))
        logs.update(self.g_step(self.next_batch()))
        self.step += 1
        return logs

    # ------------------------------------------------------------------ state

    def state_dict(self, *, all_ranks: bool = True) -> dict:
        """Everything a resumed run needs. Under torchrun, ``all_ranks`` gathers every rank's
        random state (``rng_ranks``), a collective that every rank must call; ``rng`` is this rank's."""
        rng = self.rng.state()
        state = {"step": self.step, "best_psnr": self.best_psnr, "train_seconds": self.train_seconds,
                 "config": config_to_dict(self.cfg), **self.nets.state_dict(), "rng": rng,
                 "precision": self.precision,  # what train.precision "auto" resolved to
                 # The validation videos by name: what evaluation's "auto" scores for a folder run,
                 # and the folders read, resolved here: they may be relative to where training ran.
                 "held_out": [v["name"] for v in self.split["subsets"]["val"]],
                 "data_root": _resolved(videos_root(self.cfg.data)),
                 "photo_dir": _resolved(self.cfg.data.synthetic.photo_dir)}
        if self.dist.enabled and all_ranks:
            state["rng_ranks"] = gather_objects(rng, self.dist)
        return state

    def _restore(self, state: dict) -> None:
        self.nets.load_state_dict(state)
        self.step, self.best_psnr = int(state["step"]), float(state["best_psnr"])
        self.train_seconds = float(state.get("train_seconds", 0.0))
        self.rng.restore(state.get("rng_ranks", [state["rng"]]), self.dist.world_size)
        self._resumed = True  # announced by fit, once the run folder is this process's
        # The run that stopped validated and drew samples on its own schedule (train.val_every
        # and train.sample_every may change on resume).
        self._stopped_val_every = int(state["config"]["train"]["val_every"])
        self._stopped_sample_every = int(state["config"]["train"]["sample_every"])
        # ... and at its last step whatever the intervals (train.steps, or train.max_minutes spent).
        minutes = state["config"]["train"].get("max_minutes")
        self._stopped_at_end = (self.step >= int(state["config"]["train"]["steps"])
                                or (minutes is not None and self.train_seconds >= 60.0 * minutes))

    def save(self, name: str = "latest.pt", *, all_ranks: bool = True) -> Path:
        """Write a checkpoint (rank 0 writes; under torchrun every rank must call it unless
        ``all_ranks`` is false, which leaves out the other ranks' random state)."""
        path = self.ckpt_dir / name
        state = self.state_dict(all_ranks=all_ranks)

        def write() -> None:
            save_checkpoint(state, path)
            if name == "latest.pt":
                self._latest_seen = file_identity(path)

        if all_ranks and self.dist.enabled:
            # Every rank waits for the file and shares its failure: a rank that stopped at once
            # would end, and torchrun then SIGTERMs the main process in the middle of the write.
            main_decides(write, self.dist)
        elif self.dist.is_main:
            write()
        if name == "latest.pt":
            self._latest_step = self.step
        return path

    # ------------------------------------------------------------------ validation

    def validate(self, interruptible: bool = False) -> dict:
        """The validation record: the model's scores on the validation clips (``"model"``) with
        the baselines' on the same clips, under the evaluation's names and keys (``"last
        input"``, ``"Farneback flow (paper)"``, ``"DIS flow"``, ``"blend"``, ``blend_weight``;
        :mod:`~vidpred.training.validation`).

        With ``interruptible``, a stop signal ends it between two batches
        (:class:`~vidpred.training.validation.ValidationInterrupted`)."""
        return self.validator(self.eval_generator, (lambda: self._stop.signal is not None) if interruptible else None)

    def _validate_and_log(self, run_log: RunLog, step: int) -> dict | None:
        """Validate, log the record and keep ``best.pt`` (the best model PSNR, whole frames, 1st
        frame); None when a stop signal cut it short."""
        try:
            record = self.validate(interruptible=True)  # rank 0 alone validates: no collective to keep in step
        except ValidationInterrupted:
            log.warning("validation at step %d interrupted by the stop signal", step)
            return None
        run_log.validation(step, self.train_seconds, record)
        if record[MODEL][BEST_KEY] > self.best_psnr:
            self.best_psnr = record[MODEL][BEST_KEY]
            if not self.dist.enabled:  # (under torchrun a save is a collective; align_best covers it)
                # latest.pt first: a run killed from here on resumes at this step or later, so
                # the validation rows it keeps name best.pt's step as their best.
                self.save()
            self.save("best.pt", all_ranks=False)
        log.info("step %d: %s", step, summary_line(record))
        below = self.best_psnr - record[MODEL][BEST_KEY]
        if below > WELL_BELOW_BEST_DB:
            log.warning("step %d: %.2f dB on the validation clips, %.2f below the run's best (%.2f, "
                        "checkpoints/best.pt keeps it): has the run fallen apart?", step, record[MODEL][BEST_KEY],
                        below, self.best_psnr)
        return record

    # ------------------------------------------------------------------ loop

    def claim_run_dir(self) -> None:
        """Take the run directory's lock (rank 0; one writer per run directory) unless held:
        before anything is written there, train.log included (``fit`` takes it otherwise).

        Raises:
            RunLocked: another process is training into the same run directory, or has
                written its ``latest.pt`` since this trainer looked (while it decoded its data).
        """
        if self._claimed:
            return

        def claim() -> None:
            if self.dist.is_main:
                self._lock = claim_run_folder(self.run_dir, self._latest_seen)

        main_decides(claim, self.dist)  # every rank stops when the main one is refused
        self._claimed = True

    def fit(self) -> dict:
        """Train to ``train.steps`` (or until ``train.max_minutes``); returns the final metrics
        (also written to disk).

        Ctrl-C or SIGTERM finishes the current step, saves ``checkpoints/latest.pt`` and
        returns ``{"interrupted": signum, "step": step}``. Under torchrun the ranks agree on stopping
        after the same step, and every rank trains and saves together;
        only rank 0 writes files, validates and returns the metrics (the other ranks
        return ``{"step": ..., "rank": ...}``).

        Raises:
            RunLocked: another process is training into the same run directory.
            CheckpointWriteError, RunLogError: a file could not be written; the last checkpoint stays intact.
        """
        main = self.dist.is_main
        self.claim_run_dir()
        try:
            if main:
                remove_partial_writes(self.ckpt_dir)
                # The run's logs, records and samples, killed mid-write (its lock: no other writer).
                for folder, suffix in ((self.run_dir, ".json"), (self.run_dir, ".jsonl"), (self.run_dir, ".yaml"),
                                       (self.run_dir / "samples", ".png")):
                    for stray in remove_abandoned_temporaries(folder, suffix, older_than_s=0):
                        log.info("removed %s, a write that never finished", stray)
            with (RunLog(self.run_dir, self.cfg, self.step) if main else contextlib.nullcontext()) as run_log:
                # A new run records its own split, also over one left by a run killed before its
                # first checkpoint; a resumed run keeps the record it follows.
                if main and not (self._resumed and (self.run_dir / SPLIT_FILE).is_file()):
                    write_text(self.run_dir / SPLIT_FILE, json.dumps(self.split, indent=1) + "\n")
                if main and self._resumed:
                    log.info("resumed %s at step %d", self.run_dir, self.step)
                    align_best(self.run_dir, self.step, lambda: self.save("best.pt", all_ranks=False))
                return self._fit(main, run_log)
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None
            self._claimed = False

    def _fit(self, main: bool, run_log: RunLog | None) -> dict:
        cfg = self.cfg.train
        self._stop.install()
        self.generator.train()
        for adversary in self.adversaries:
            adversary.model.train(adversary.trainable)  # frozen judges stay in eval mode
        budget = math.inf if cfg.max_minutes is None else 60.0 * cfg.max_minutes
        stop, out_of_time = False, self.train_seconds >= budget
        finished = self.step >= cfg.steps or out_of_time  # a resumed run that has finished: no bar
        # a resume whose train.steps or max_minutes ends it here owes its end's validation and samples too
        self._stopped_at_end = self._stopped_at_end or (self._resumed and finished)
        last_val = self._missed_validation(run_log) if main else None
        stall = StallWatch(self.device, remedies=("another train.seed",)
                           + (("train.lr_schedule=cosine",) if cfg.lr_schedule != "cosine" else ())
                           + (("train.precision=fp32",) if self.precision != "fp32" else ()))
        resumed_step = self.step if self._resumed else None  # what latest.pt holds until this run writes it
        if main:
            self._missed_samples(run_log)
        if main and finished:
            limit = (f"train.steps ({cfg.steps})" if self.step >= cfg.steps
                     else f"train.max_minutes ({cfg.max_minutes:g})")
            log.info("%s has reached %s already: nothing to train, the final validation runs again (a larger %s "
                     "trains on)", self.run_dir, limit, limit.split(" ")[0])
        if main and not finished:
            run_log.training_on()
        bar = progress(total=cfg.steps, initial=self.step, desc="train", unit="step", disable=not main or finished)
        # Log lines above the bar, not glued to its end (tqdm clears and redraws it around each)
        on_terminal = main and not finished and sys.stderr.isatty()
        redirect = logging_redirect_tqdm() if on_terminal else contextlib.nullcontext()
        redirect.__enter__()
        # The speed logged counts train steps only, not the validation, samples and checkpoints between them.
        tick_seconds, tick_step = self.train_seconds, self.step
        try:
            while self.step < cfg.steps and not out_of_time and not stop:
                started = time.perf_counter()
                logs = self.train_step()
                step = self.step
                stall.update(step, logs)
                due = _Due.at(step, step == cfg.steps, cfg)
                if due.anything:
                    # A GPU may still run this step's kernels, and what follows reads values (a
                    # host sync): wait here, so that the wait counts as training time.
                    synchronize(self.device)
                self.train_seconds += time.perf_counter() - started
                out_of_time = self._out_of_time(step, budget)
                if out_of_time:
                    due = _Due.at(step, True, cfg)
                if due.anything:
                    # Before anything is logged or saved: a diverged run must not overwrite
                    # the last good checkpoint (every rank checks, so all stop together).
                    check_finite(logs, step, self.ckpt_dir / "latest.pt", self.dist, self.device)
                    stall.check(step, self.ckpt_dir / "latest.pt",
                                self._latest_step if self._latest_step is not None else resumed_step,
                                self.dist, self.device)
                failed: Exception | None = None  # a failed write of rank 0's, raised once every rank knows
                try:
                    if main and due.log:
                        self._log_train(run_log, bar, logs, step, self.train_seconds - tick_seconds, tick_step)
                        tick_seconds, tick_step = self.train_seconds, step
                    # Samples before validation: a new best saves latest.pt at this step, and a run
                    # killed after that resumes past it, so everything of this step is logged by then.
                    if main and due.sample and self._stop.signal is None:
                        self._log_samples(run_log, step)
                    if main and due.val:
                        last_val = self._validate_and_log(run_log, step) or last_val
                except (CheckpointWriteError, RunLogError) as exc:
                    if not self.dist.enabled:
                        raise
                    failed = exc
                # A failed write of rank 0's is shared before the save's collectives, which rank 0
                # would otherwise skip while the others wait in them: the others stop with its message.
                if self.dist.enabled and any_rank(failed is not None, self.dist, self.device):
                    main_decides(lambda: _raise(failed), self.dist)
                if due.ckpt and self._latest_step != step:  # not again after a new best's
                    self.save()  # under torchrun a failed write raises on every rank (main_decides)
                bar.update(1)
                # All ranks stop at the same step, whichever received the signal. Under DDP this
                # is a collective every step: torchrun kills the workers 30 s after passing on
                # a Ctrl-C, which a wait for the next log step could outlast.
                stop = any_rank(self._stop.signal is not None, self.dist, self.device)
            if stop:
                if not due.ckpt:  # else saved after the step
                    self.save()
                if main:  # said once, not by every process
                    log.warning("stopped at step %d; continue with --resume", self.step)
                return {"interrupted": self._stop.signal or signal.SIGTERM, "step": self.step}
        finally:
            redirect.__exit__(None, None, None)
            bar.close()
            self._stop.restore()

        if not main:
            return {"step": self.step, "rank": self.dist.rank}
        if last_val is None:  # nothing left to train (resumed at the end): still report
            last_val = self.validate()
        final = final_metrics(self.step, len(self.val_clips), self.train_seconds, last_val)
        run_log.final(final)
        return final

    def _missed_validation(self, run_log: RunLog) -> dict | None:
        """Run the validation a resumed run owes, if any, and return its record: the run stopped
        at a step its ``train.val_every`` validates at, or at its end (its own, or the one the
        resumed config sets), before that validation reached ``validation.jsonl``. None when
        nothing is owed (or a stop signal cuts it short)."""
        if not (self._resumed and self.step > 0
                and (self.step % self._stopped_val_every == 0 or self._stopped_at_end)):
            return None
        if self.step in {r["step"] for r in validation_rows(self.run_dir / "validation.jsonl")}:
            return None
        log.info("the validation at step %d did not finish before the run stopped: running it now", self.step)
        return self._validate_and_log(run_log, self.step)

    def _missed_samples(self, run_log: RunLog) -> None:
        """Draw the samples a resumed run owes: the run stopped at a step its
        ``train.sample_every`` draws at, or at its end, and a stop signal skips them to save
        the checkpoint sooner."""
        if not (self._resumed and self.step > 0
                and (self.step % self._stopped_sample_every == 0 or self._stopped_at_end)):
            return
        if run_log.has_samples(self.step) or self._stop.signal is not None:
            return
        self._log_samples(run_log, self.step)

    def _log_samples(self, run_log: RunLog, step: int) -> None:
        """The validation clips' picture grids at ``step``, to TensorBoard and ``samples/``."""
        run_log.samples(step, *sample_images(self.eval_generator, self.val_clips, self.n_context,
                                             self.cfg.train.val_n_future, self.device))

    def _out_of_time(self, step: int, budget: float) -> bool:
        """Whether ``train.max_minutes`` is spent (under DDP: on any rank, decided at log steps)."""
        out = self.train_seconds >= budget
        if self.dist.enabled and budget < math.inf:
            # Each rank measures its own time: all end together, at a log step (a collective).
            out = step % self.cfg.train.log_every == 0 and any_rank(out, self.dist, self.device)
        if out:
            # Under DDP another rank may have run out first: the budget is spent for all.
            self.train_seconds = max(self.train_seconds, budget)
            log.info("train.max_minutes reached at step %d", step)
        return out

    def _log_train(self, run_log: RunLog, bar, logs: dict, step: int, seconds: float, tick_step: int) -> None:
        """Rank 0's losses and rates to the run's logs and the progress bar: ``seconds`` of
        train steps since the one after ``tick_step``."""
        batch = self.cfg.train.batch_size * self.dist.world_size
        values = {k: float(v) for k, v in logs.items()}  # the one host sync per log
        values["samples_per_sec"] = (step - tick_step) * batch / max(seconds, 1e-9)
        values["lr_g"] = self.opt_g.param_groups[0]["lr"]
        for adversary in self.adversaries:
            if adversary.trainable:
                values[f"lr_{adversary.log_prefix}"] = self.d_optimizers[adversary.name].param_groups[0]["lr"]
        if self.chance_monitor is not None and step > self.cfg.loss.disc_start:
            self.chance_monitor.update(step, values)
        run_log.train(step, values)
        # d=: the first discriminator's loss (one learning from scratch before a pretrained one), "-" before any
        adversaries = sorted(self.adversaries, key=lambda adversary: adversary.pretrained)
        losses = [values[adversary.loss_key] for adversary in adversaries if adversary.loss_key in values]
        d_loss = f"{losses[0]:.3f}" if losses else "-"
        # refresh=False: redraw at the bar's own pace, not every log step
        bar.set_postfix(g=f"{values['g_total']:.4f}", d=d_loss, sps=f"{values['samples_per_sec']:.1f}", refresh=False)


def _raise(exc: BaseException | None) -> None:
    if exc is not None:
        raise exc

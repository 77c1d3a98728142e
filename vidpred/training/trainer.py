"""Adversarial training, paper Algorithm 1 (Mathieu, Couprie & LeCun 2016).

Each iteration updates the discriminators on one batch with the generator's predictions
detached, then updates the generator on a *new* batch with the discriminators fixed. The
trainer owns the networks, their optimizers and the run directory; ``d_step`` and
``g_step`` each do zero_grad, forward, backward and step in one visible place.

Discriminators (``self.adversaries``, see :mod:`vidpred.adversaries`): the
paper's multi-scale D, a pretrained blur detector (frozen or trained, seed 002) and a
spatio-temporal clip D (seed 003); the generator's adversarial term is the mean of their
feedback (GMAN). Before ``loss.disc_start`` steps no discriminator is updated and the
generator trains on its reconstruction terms only.

Under ``torchrun`` (see :mod:`vidpred.training.distributed`) every process trains on its
own patches (the sampler's stream depends on the rank) with identical networks: the
generator's rollout and each trainable discriminator run inside
``DistributedDataParallel`` where they are updated, so their gradients are averaged
across processes; the frozen networks and the discriminators as the generator's judges
are used bare. Only rank 0 writes logs, samples, validation results and checkpoints;
checkpoints hold every rank's random state, so a resumed run continues exactly.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import save_image
from vidpred._progress import progress

from vidpred.build import (
    adversary_optimizer_config,
    build_adversaries,
    build_generator,
    build_optimizer,
    build_perceptual_networks,
    count_parameters,
    select_device,
    validate_config,
)
from vidpred.checkpoint import load_checkpoint, save_checkpoint
from vidpred.config import Config, ConfigError, config_from_dict, config_to_dict, dump_config
from vidpred.data.datasets import load_split
from vidpred.data.sampler import PatchBatches, PatchSampler, fixed_clips, to_model_input
from vidpred.losses.composite import generator_objective
from vidpred.losses.perceptual import lpips_loss, sample_frames, vgg_feature_loss
from vidpred.models._pyramid import pyramid
from vidpred.models.discriminator import MultiScaleDiscriminator
from vidpred.training.distributed import DistInfo, any_rank, barrier, gather_objects, init_distributed
from vidpred.training.precision import autocast_context, configure_backends, prepare_module, resolve_precision
from vidpred.training.monitor import ChanceMonitor
from vidpred.training.run_lock import RunLock
from vidpred.training.validation import ValidationInterrupted, baseline_scores, evaluate, predict_clips
from vidpred.training.visualize import motion_grid, sample_grid

log = logging.getLogger(__name__)

# Keys that may change when a run is resumed: they do not alter what is computed.
RESUMABLE_CHANGES = {
    "train.steps",
    "train.max_minutes",
    "train.device",
    "train.log_every",
    "train.val_every",
    "train.ckpt_every",
    "train.sample_every",
    "train.chance_warning_steps",
    "train.chance_accuracy",
    "data.num_workers",
    "data.cache_dir",
    # Layout and compilation change how fast, not what is computed (precision does).
    "train.channels_last",
    "train.compile",
    # The blur discriminator's weights are restored from the run's checkpoint, not this file.
    "model.blur_discriminator.checkpoint",
}
N_SAMPLE_CLIPS = 4


class TrainingDiverged(RuntimeError):
    """A loss or gradient norm became infinite or NaN; no checkpoint was written after it."""


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in d.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(_flatten(value, full))
        else:
            out[full] = value
    return out


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


class _Rollout(nn.Module):
    """The generator's multi-step prediction as a module's forward, so DDP can wrap it."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, context: torch.Tensor, n_future: int) -> list[torch.Tensor]:
        return self.generator.rollout(context, n_future, return_scales=True)


def _ddp(module: nn.Module, device: torch.device) -> DistributedDataParallel:
    return DistributedDataParallel(module, device_ids=[device] if device.type == "cuda" else None)


def _grad_norm(parameters) -> torch.Tensor:
    grads = [p.grad.detach().norm() for p in parameters if p.grad is not None]
    return torch.linalg.vector_norm(torch.stack(grads)) if grads else torch.zeros(())


class Trainer:
    """Builds everything from a config and trains it; see :meth:`fit`."""

    def __init__(self, cfg: Config, run_dir: str | Path | None = None, *, resume: bool = False):
        validate_config(cfg)
        self.cfg = cfg
        if run_dir is None:
            name = Path(cfg.run.name)
            if name.is_absolute() or len(name.parts) != 1 or name.name in ("", ".", ".."):
                raise ConfigError(f"run.name must be a plain folder name, got {cfg.run.name!r}; "
                                  "give a path with --run-dir instead")
        self.run_dir = Path(run_dir) if run_dir else Path(cfg.run.out_dir) / cfg.run.name
        self.ckpt_dir = self.run_dir / "checkpoints"
        # Under torchrun: join the process group (gloo on CPU, NCCL on CUDA, one GPU per rank).
        self.dist, self.device = init_distributed(select_device(cfg.train.device))
        self.n_context = cfg.model.n_context
        self.n_future = cfg.train.n_future

        latest = self.ckpt_dir / "latest.pt"
        if resume and not latest.is_file():
            raise FileNotFoundError(f"cannot resume: no checkpoint at {latest}")
        if not resume and latest.is_file():
            raise FileExistsError(
                f"{self.run_dir} already holds a run; pass --resume to continue it or "
                "choose another run.name"
            )

        torch.manual_seed(cfg.train.seed)
        self.generator = build_generator(cfg).to(self.device)
        # The weights' moving average (train.ema_decay): what validation scores and users load.
        self.generator_ema: nn.Module | None = None
        if cfg.train.ema_decay is not None:
            self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False).eval()
        # Multi-scale, blur, spatio-temporal (those enabled), each with its own optimizer
        # unless it is a frozen judge.
        self.adversaries = build_adversaries(cfg, self.device)
        self.opt_g = build_optimizer(self.generator.parameters(), cfg.optim.generator, "optim.generator")
        self.d_optimizers = {
            adversary.name: build_optimizer(adversary.model.parameters(), *adversary_optimizer_config(cfg, adversary))
            for adversary in self.adversaries
            if adversary.trainable
        }
        # Frozen ImageNet networks: plain attributes, never in an optimizer (or DDP).
        self.perceptual = build_perceptual_networks(cfg, self.device)
        # Speed: every network computes in self.precision inside self.autocast() and returns
        # float32, so the losses stay float32; parameters and optimizers are float32.
        self.precision = resolve_precision(cfg.train.precision, self.device)
        configure_backends(self.device, self.precision)
        ema = [self.generator_ema] if self.generator_ema is not None else []
        for module in [self.generator, *ema, *(a.model for a in self.adversaries), *self.perceptual.values()]:
            prepare_module(module, channels_last=cfg.train.channels_last, compile=cfg.train.compile)
        # Label noise and the perceptual frame choice draw from their own generators (one
        # stream per rank), saved and restored exactly.
        rank_offset = 1000 * self.dist.rank
        self.label_rng = torch.Generator(device=self.device).manual_seed(cfg.train.seed + 1 + rank_offset)
        self.frame_rng = torch.Generator(device=self.device).manual_seed(cfg.train.seed + 2 + rank_offset)
        # What the updates call: the generator's rollout and the trainable discriminators,
        # inside DDP when there are several processes (identical weights everywhere: DDP
        # broadcasts rank 0's at construction, and every rank built them from one seed).
        self.rollout: nn.Module = _Rollout(self.generator)
        if self.dist.enabled:
            self.rollout = _ddp(self.rollout, self.device)
            for adversary in self.adversaries:
                if adversary.trainable:
                    adversary.d_model = _ddp(adversary.model, self.device)
        self.step = 0
        self.best_psnr = -math.inf
        self.train_seconds = 0.0  # time spent in train steps, across resumes (train.max_minutes)
        self._baselines: dict[str, float] | None = None  # the validation clips' baselines, computed once
        self.chance_monitor = (ChanceMonitor(cfg.train.chance_warning_steps, cfg.train.chance_accuracy,
                                             cfg.train.log_every)
                               if cfg.train.chance_warning_steps > 0 and self.d_optimizers else None)

        min_frames = self.n_context + max(self.n_future, cfg.train.val_n_future)
        # Each machine's first process decodes (or generates) into the cache first; the
        # others then read it (cache files are written atomically, so machines sharing
        # data.cache_dir on a network filesystem are safe too).
        decodes_first = self.dist.local_rank == 0
        if not decodes_first:
            barrier(self.dist)
        show = self.dist.is_main
        train_videos = load_split(cfg.data, "train", min_frames=min_frames, progress=show)
        val_videos = load_split(cfg.data, "val", min_frames=self.n_context + cfg.train.val_n_future, progress=show)
        if decodes_first:
            barrier(self.dist)
        self.val_clips = fixed_clips(
            [v.frames for v in val_videos],
            cfg.data.n_val_clips,
            self.n_context + cfg.train.val_n_future,
            seed=cfg.train.seed,
            cut_ratio=cfg.data.cut_ratio,
        )
        self.sampler = PatchSampler(
            [v.frames for v in train_videos],
            self.n_context + self.n_future,
            cfg.data.patch_size,
            motion_threshold=cfg.data.motion_threshold,
            max_tries=cfg.data.max_tries,
            unfiltered_fraction=cfg.data.unfiltered_fraction,
            seed=cfg.train.seed,
            rank=self.dist.rank,
            cut_ratio=cfg.data.cut_ratio,
            augment=cfg.data.augment,
            static_fraction=cfg.data.static_fraction,
        )
        if cfg.data.cut_ratio is not None:
            log.info("scene cuts: %d in the training videos; no patch spans one",
                     sum(len(cuts) for cuts in self.sampler.cuts))
        if self.dist.enabled:
            log.info(
                "distributed: %d processes, batch %d per process (%d per step)",
                self.dist.world_size, cfg.train.batch_size, cfg.train.batch_size * self.dist.world_size,
            )
        log.info(
            "data: %d training videos, %d validation clips; generator %.2fM parameters%s; device %s",
            len(train_videos),
            len(self.val_clips),
            count_parameters(self.generator) / 1e6,
            "".join(
                f", {a.name} discriminator {count_parameters(a.model) / 1e6:.2f}M{'' if a.trainable else ' (frozen)'}"
                for a in self.adversaries
            ),
            self.device,
        )
        if resume:
            self._restore(load_checkpoint(latest))
        self._batches: Iterator[torch.Tensor] | None = None
        self._stop_signal: int | None = None

    # ------------------------------------------------------------------ data

    @property
    def discriminator(self) -> MultiScaleDiscriminator | None:
        """The paper's multi-scale discriminator, if enabled."""
        return next((a.model for a in self.adversaries if a.name == "multiscale"), None)

    @property
    def opt_d(self) -> torch.optim.Optimizer | None:
        """The multi-scale discriminator's optimizer, if enabled."""
        return self.d_optimizers.get("multiscale")

    @property
    def batches_per_step(self) -> int:
        """2 (Algorithm 1: one batch for the D step, a new one for G) when a discriminator trains, else 1."""
        return 2 if self.d_optimizers else 1

    @property
    def adversarial_started(self) -> bool:
        """Whether ``loss.disc_start`` has been reached (D updates and G's adversarial term)."""
        return self.step >= self.cfg.loss.disc_start

    def _next_batch(self) -> torch.Tensor:
        """Next training batch, float (B, C, T, H, W) in [-1, 1] on the device."""
        if self._batches is None:
            # Batch i is a pure function of (seed, rank, i): resuming at step s restarts the
            # stream at s * batches_per_step and sees exactly the batches it would have seen.
            dataset = PatchBatches(
                self.sampler, self.cfg.train.batch_size, start_index=self.step * self.batches_per_step
            )
            loader = DataLoader(
                dataset,
                batch_size=None,
                num_workers=self.cfg.data.num_workers,
                pin_memory=self.device.type == "cuda",
            )
            self._batches = iter(loader)
        batch = next(self._batches)
        return to_model_input(batch.to(self.device, non_blocking=True))

    def autocast(self):
        """Context for forward passes and losses: bf16 autocast when ``self.precision`` is bf16."""
        return autocast_context(self.device, self.precision)

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x[:, :, : self.n_context], x[:, :, self.n_context :]

    # ------------------------------------------------------------------ steps

    def d_step(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """One update of every trainable discriminator on clips x (B, C, T, H, W), G's predictions detached."""
        context, target = self._split(x)
        with torch.no_grad(), self.autocast():
            fake_scales = self.generator.rollout(context, self.n_future, return_scales=True)
        real_scales = pyramid(target, len(fake_scales))
        logs: dict[str, torch.Tensor] = {}
        for adversary in self.adversaries:
            if not adversary.trainable:
                continue
            optimizer = self.d_optimizers[adversary.name]
            with self.autocast():
                loss, adversary_logs = adversary.d_loss(context, real_scales, fake_scales, self.label_rng)

            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_clip = adversary_optimizer_config(self.cfg, adversary)[0].grad_clip
            logs[f"grad_norm_{adversary.log_prefix}"] = self._clip(adversary.model, grad_clip)
            optimizer.step()
            logs.update(adversary_logs)
        return logs

    def g_step(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """One generator update on clips x (B, C, T, H, W); the discriminators are fixed but pass gradients."""
        context, target = self._split(x)
        loss_cfg = self.cfg.loss
        adv_losses: dict[str, torch.Tensor] = {}
        with self.autocast():
            pred_scales = self.rollout(context, self.n_future)
            if loss_cfg.l_adv > 0 and self.adversarial_started:
                for adversary in self.adversaries:
                    # D's weights are fixed for this step, but the gradient flows through D into G.
                    adversary.model.requires_grad_(False)
                    adv_losses[adversary.name] = adversary.g_loss(context, pred_scales)
        n_scales = len(pred_scales)
        loss, terms = generator_objective(
            pred_scales,
            pyramid(target, n_scales),
            None,
            l_adv=loss_cfg.l_adv,
            l_p=loss_cfg.l_p,
            p=loss_cfg.p,
            l_gdl=loss_cfg.l_gdl,
            gdl_alpha=loss_cfg.gdl_alpha,
            l_path=loss_cfg.l_path,
            anchor_scales=pyramid(context[:, :, -1], n_scales),
            multiscale=loss_cfg.multiscale,
            adv_losses=adv_losses,
            extra_terms=self._perceptual_terms(pred_scales[-1], target),
            last_layer=self.generator.last_layer if loss_cfg.adaptive_weight and adv_losses else None,
            adaptive_max=loss_cfg.adaptive_max,
        )

        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = self._clip(self.generator, self.cfg.optim.generator.grad_clip)
        self.opt_g.step()
        self._update_ema()
        for adversary in self.adversaries:
            if adversary.trainable:  # a frozen judge stays frozen
                adversary.model.requires_grad_(True)
        return {**terms, "grad_norm_g": grad_norm}

    @property
    def eval_generator(self) -> nn.Module:
        """The generator that is validated, sampled and shipped: the EMA when enabled."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    @torch.no_grad()
    def _update_ema(self) -> None:
        """``ema <- ema + (1 - d) (w - ema)`` with ``d = min(decay, (1 + step) / (10 + step))``:
        the usual warm-up, so early averages are not dominated by the random initialisation."""
        if self.generator_ema is None:
            return
        decay = min(self.cfg.train.ema_decay, (1 + self.step) / (10 + self.step))
        ema = list(self.generator_ema.parameters())
        torch._foreach_lerp_(ema, [p.detach() for p in self.generator.parameters()], 1.0 - decay)

    def _perceptual_terms(
        self, pred: torch.Tensor, target: torch.Tensor
    ) -> dict[str, tuple[float, torch.Tensor]]:
        """VGG / LPIPS distances on one random frame per clip of pred, target (B, C, n_future, H, W)."""
        if not self.perceptual:
            return {}
        pred_frames, target_frames, _ = sample_frames(pred, target, generator=self.frame_rng)
        terms = {}
        if "vgg" in self.perceptual:
            terms["g_vgg"] = (self.cfg.loss.l_vgg, vgg_feature_loss(pred_frames, target_frames, self.perceptual["vgg"]))
        if "lpips" in self.perceptual:
            terms["g_lpips"] = (self.cfg.loss.l_lpips, lpips_loss(pred_frames, target_frames, self.perceptual["lpips"]))
        return terms

    def _clip(self, module: torch.nn.Module, max_norm: float | None) -> torch.Tensor:
        if max_norm is not None:
            return torch.nn.utils.clip_grad_norm_(module.parameters(), max_norm).detach()
        return _grad_norm(module.parameters())

    def train_step(self) -> dict[str, torch.Tensor]:
        """Algorithm 1: a D update on one batch, then a G update on a new batch."""
        logs = {}
        if self.batches_per_step == 2:
            # Drawn even before disc_start, so batch i is the same whatever disc_start is.
            d_batch = self._next_batch()
            if self.adversarial_started:
                logs.update(self.d_step(d_batch))
        logs.update(self.g_step(self._next_batch()))
        self.step += 1
        return logs

    # ------------------------------------------------------------------ state

    def _rng_state(self) -> dict:
        rng = {"torch": torch.get_rng_state(), "label": self.label_rng.get_state(), "frame": self.frame_rng.get_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        return rng

    def state_dict(self, *, all_ranks: bool = True) -> dict:
        """Everything a resumed run needs.

        Under torchrun, ``all_ranks`` gathers every rank's random state (``rng_ranks``), a
        collective that every rank must call; ``rng`` is this rank's.
        """
        rng = self._rng_state()
        state = {
            "step": self.step,
            "best_psnr": self.best_psnr,
            "train_seconds": self.train_seconds,
            "config": config_to_dict(self.cfg),
            "generator": self.generator.state_dict(),
            **({"generator_ema": self.generator_ema.state_dict()} if self.generator_ema is not None else {}),
            "opt_g": self.opt_g.state_dict(),
            "rng": rng,
        }
        if self.dist.enabled and all_ranks:
            state["rng_ranks"] = gather_objects(rng, self.dist)
        for adversary in self.adversaries:
            # Frozen judges too: a resumed run must not depend on the pretrained file being unchanged.
            state[adversary.state_key] = adversary.model.state_dict()
            if adversary.trainable:
                state[adversary.opt_key] = self.d_optimizers[adversary.name].state_dict()
        return state

    def _restore(self, state: dict) -> None:
        saved = _flatten(config_to_dict(config_from_dict(state["config"])))
        current = _flatten(config_to_dict(self.cfg))
        changed = sorted(k for k in saved if saved[k] != current.get(k) and k not in RESUMABLE_CHANGES)
        if changed:
            details = ", ".join(f"{k}: {saved[k]!r} -> {current.get(k)!r}" for k in changed)
            raise ConfigError(
                f"cannot resume {self.run_dir}: the config differs from the checkpoint's in {details}. "
                f"Only {', '.join(sorted(RESUMABLE_CHANGES))} may change on resume."
            )
        self.generator.load_state_dict(state["generator"])
        if self.generator_ema is not None:
            self.generator_ema.load_state_dict(state["generator_ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        for adversary in self.adversaries:
            adversary.model.load_state_dict(state[adversary.state_key])
            if adversary.trainable:
                self.d_optimizers[adversary.name].load_state_dict(state[adversary.opt_key])
        self.step = int(state["step"])
        self.best_psnr = float(state["best_psnr"])
        self.train_seconds = float(state.get("train_seconds", 0.0))
        saved_ranks = state.get("rng_ranks", [state["rng"]])
        if len(saved_ranks) != self.dist.world_size:
            log.warning(
                "the checkpoint was written by %d process(es), this run has %d: training continues "
                "from its weights, but the patch and label-noise streams of the ranks differ from "
                "an uninterrupted run",
                len(saved_ranks), self.dist.world_size,
            )
        if self.dist.rank < len(saved_ranks):
            rng = saved_ranks[self.dist.rank]
            torch.set_rng_state(rng["torch"])
            self.label_rng.set_state(rng["label"])
            if "frame" in rng:  # absent from checkpoints written before perceptual losses
                self.frame_rng.set_state(rng["frame"])
            if "cuda" in rng and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(rng["cuda"])
        log.info("resumed %s at step %d", self.run_dir, self.step)

    def save(self, name: str = "latest.pt", *, all_ranks: bool = True) -> Path:
        """Write a checkpoint (rank 0 writes; under torchrun every rank must call it unless
        ``all_ranks`` is false, which leaves out the other ranks' random state)."""
        path = self.ckpt_dir / name
        state = self.state_dict(all_ranks=all_ranks)
        if self.dist.is_main:
            save_checkpoint(state, path)
        return path

    # ------------------------------------------------------------------ evaluation

    def validate(self, interruptible: bool = False) -> dict[str, float]:
        """The model's scores on the validation clips, with the last-input (``baseline_*``)
        and optical-flow (``flow_*``) baselines' on the same clips.

        With ``interruptible``, a stop signal ends it between two batches
        (:class:`~vidpred.training.validation.ValidationInterrupted`)."""
        if self._baselines is None:
            self._baselines = baseline_scores(
                self.val_clips, n_context=self.n_context, n_future=self.cfg.train.val_n_future,
                device=self.device, batch_size=self.cfg.train.batch_size,
            )
        scores = evaluate(
            self.eval_generator,
            self.val_clips,
            n_context=self.n_context,
            n_future=self.cfg.train.val_n_future,
            device=self.device,
            batch_size=self.cfg.train.batch_size,
            should_stop=(lambda: self._stop_signal is not None) if interruptible else None,
        )
        return {**scores, **self._baselines}

    @torch.no_grad()
    def sample_image(self) -> torch.Tensor:
        """Grid (3, H', W') in [0, 1] of the first validation clips."""
        clips = [c for c in self.val_clips if c.shape == self.val_clips[0].shape][:N_SAMPLE_CLIPS]
        x = to_model_input(torch.from_numpy(np.stack(clips)).to(self.device))
        generator = self.eval_generator
        was_training = generator.training
        generator.eval()
        grid = sample_grid(*predict_clips(generator, x, self.n_context, self.cfg.train.val_n_future))
        generator.train(was_training)
        return grid

    @torch.no_grad()
    def motion_image(self) -> torch.Tensor | None:
        """Grid (3, H', W') in [0, 1] of the flow head's flows and masks on the first
        validation clips (None for the other heads)."""
        if self.generator.head != "flow":
            return None
        clips = [c for c in self.val_clips if c.shape == self.val_clips[0].shape][:N_SAMPLE_CLIPS]
        x = to_model_input(torch.from_numpy(np.stack(clips)).to(self.device))
        generator = self.eval_generator
        was_training = generator.training
        generator.eval()
        _, flows, masks = generator.rollout_with_motion(x[:, :, : self.n_context], self.cfg.train.val_n_future)
        generator.train(was_training)
        return motion_grid(flows, masks)

    # ------------------------------------------------------------------ loop

    def _handle_signal(self, signum, frame) -> None:
        if self._stop_signal is not None:  # second Ctrl-C: stop now
            raise KeyboardInterrupt
        self._stop_signal = signum
        log.warning("received %s: saving a checkpoint after this step", signal.Signals(signum).name)

    def fit(self) -> dict:
        """Train to ``train.steps``; returns the final metrics (also written to disk).

        Ctrl-C or SIGTERM finishes the current step, saves ``checkpoints/latest.pt`` and
        returns ``{"interrupted": signum}``. Under torchrun the ranks agree on stopping at
        the next log step (``train.log_every``), and every rank trains and saves together;
        only rank 0 writes files, validates and returns the metrics (the other ranks
        return ``{"step": ..., "rank": ...}``).

        Raises:
            RunLocked: another process is training into the same run directory.
        """
        main = self.dist.is_main
        lock = RunLock(self.run_dir).acquire() if main else None  # one writer per run directory
        try:
            return self._fit(main)
        finally:
            if lock is not None:
                lock.release()

    def _fit(self, main: bool) -> dict:
        cfg = self.cfg.train
        writer = metrics_log = None
        if main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            for stray in self.ckpt_dir.glob(".*.pt.*.tmp"):  # left by a process killed mid-save
                log.info("removing %s, a checkpoint write that never finished", stray)
                stray.unlink(missing_ok=True)
            (self.run_dir / "config.yaml").write_text(dump_config(self.cfg), encoding="utf-8")
            self._prepare_logs()
            # purge_step hides events at and after it: the checkpoint's own step was logged
            # before the stop and is not logged again, so purge from the step after it.
            writer = SummaryWriter(str(self.run_dir), purge_step=self.step + 1 if self.step else None)
            if self.step == 0:
                writer.add_text("config", "```yaml\n" + dump_config(self.cfg) + "\n```", 0)
            metrics_log = open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8")
            val_log = open(self.run_dir / "validation.jsonl", "a", encoding="utf-8")
        previous = {s: signal.signal(s, self._handle_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        self.generator.train()
        for adversary in self.adversaries:
            adversary.model.train(adversary.trainable)  # frozen judges stay in eval mode
        last_val: dict[str, float] | None = None
        bar = progress(total=cfg.steps, initial=self.step, desc="train", unit="step", disable=not main)
        tick, tick_step = time.perf_counter(), self.step
        budget = math.inf if cfg.max_minutes is None else 60.0 * cfg.max_minutes
        stop = False
        out_of_time = self.train_seconds >= budget
        try:
            while self.step < cfg.steps and not out_of_time and not stop:
                started = time.perf_counter()
                logs = self.train_step()
                step = self.step
                self.train_seconds += time.perf_counter() - started
                out_of_time = self.train_seconds >= budget
                if self.dist.enabled and budget < math.inf:
                    # Each rank measures its own time: all end together, at a log step (a collective).
                    out_of_time = step % cfg.log_every == 0 and any_rank(out_of_time, self.dist, self.device)
                if out_of_time:
                    # Under DDP another rank may have run out first: the budget is spent for all.
                    self.train_seconds = max(self.train_seconds, budget)
                    log.info("train.max_minutes reached at step %d", step)
                last = step == cfg.steps or out_of_time
                if step % cfg.log_every == 0 or last or step % cfg.ckpt_every == 0:
                    # Before anything is logged or saved: a diverged run must not overwrite
                    # the last good checkpoint (every rank checks, so all stop together).
                    self._check_finite(logs, step)
                if main and (step % cfg.log_every == 0 or last):
                    self._log_train(writer, metrics_log, bar, logs, step, tick, tick_step)
                    tick, tick_step = time.perf_counter(), step
                validated = None
                if main and (step % cfg.val_every == 0 or last):
                    try:
                        validated = self.validate(interruptible=not self.dist.enabled)
                    except ValidationInterrupted:
                        log.warning("validation at step %d interrupted by the stop signal", step)
                if validated is not None:
                    last_val = validated
                    for key, value in last_val.items():
                        writer.add_scalar(f"val/{key}", value, step)
                    val_log.write(json.dumps({"step": step, "train_seconds": round(self.train_seconds, 3),
                                              **last_val}) + "\n")
                    val_log.flush()
                    if last_val["psnr"] > self.best_psnr:
                        self.best_psnr = last_val["psnr"]
                        self.save("best.pt", all_ranks=False)
                    log.info(
                        "step %d: val PSNR %.2f dB (last-input baseline %.2f dB), SSIM %.3f",
                        step, last_val["psnr"], last_val["baseline_psnr"], last_val["ssim"],
                    )
                if main and (step % cfg.sample_every == 0 or last) and self._stop_signal is None:
                    grid = self.sample_image()
                    writer.add_image("samples/context|prediction|target|error", grid, step)
                    (self.run_dir / "samples").mkdir(exist_ok=True)
                    save_image(grid, self.run_dir / "samples" / f"step_{step:07d}.png")
                    motion = self.motion_image()
                    if motion is not None:
                        writer.add_image("samples/flow|mask", motion, step)
                        save_image(motion, self.run_dir / "samples" / f"flow_{step:07d}.png")
                if step % cfg.ckpt_every == 0 or last:
                    self.save()
                bar.update(1)
                # All ranks stop at the same step, whichever received the signal. Under DDP
                # this is a collective (and a host sync), so it runs at log steps only.
                if not self.dist.enabled or step % cfg.log_every == 0:
                    stop = any_rank(self._stop_signal is not None, self.dist, self.device)
            if stop:
                if self.step % cfg.ckpt_every != 0 and self.step != cfg.steps and not out_of_time:  # else saved
                    self.save()
                log.warning("stopped at step %d; continue with --resume", self.step)
                return {"interrupted": self._stop_signal or signal.SIGTERM, "step": self.step}
        finally:
            bar.close()
            for s, handler in previous.items():
                signal.signal(s, handler)
            if main:
                metrics_log.close()
                val_log.close()
                writer.close()

        if not main:
            return {"step": self.step, "rank": self.dist.rank}
        if last_val is None:  # nothing left to train (resumed at the end): still report
            last_val = self.validate()
        final = {
            "step": self.step,
            "n_val_clips": len(self.val_clips),
            "train_seconds": round(self.train_seconds, 3),
            "model": {k: v for k, v in last_val.items() if not k.startswith(("baseline_", "flow_"))},
            "last_input_baseline": {
                k.removeprefix("baseline_"): v for k, v in last_val.items() if k.startswith("baseline_")
            },
            "flow_baseline": {k.removeprefix("flow_"): v for k, v in last_val.items() if k.startswith("flow_")},
        }
        _write_json_atomic(self.run_dir / "final_metrics.json", final)
        return final

    def _prepare_logs(self) -> None:
        """Each step logged once: a resumed run drops what was logged after its checkpoint's
        step; a fresh run in a folder without a checkpoint starts new logs."""
        names = ("metrics.jsonl", "validation.jsonl")
        if self.step == 0:
            stale = [p for p in self.run_dir.glob("events.out.tfevents.*")] + \
                [self.run_dir / n for n in names if (self.run_dir / n).exists()]
            if stale:
                log.info("%s holds logs of a run without a checkpoint: starting new logs", self.run_dir)
            for path in stale:
                path.unlink()
            return
        for name in names:
            path = self.run_dir / name
            if not path.exists():
                continue
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            kept = [line for line in lines if line.strip() and json.loads(line)["step"] <= self.step]
            if len(kept) != len(lines):
                tmp = path.with_name(f".{name}.tmp")
                tmp.write_text("".join(kept), encoding="utf-8")
                os.replace(tmp, path)

    def _check_finite(self, logs: dict[str, torch.Tensor], step: int) -> None:
        values = torch.stack([v.detach().float().reshape(()) for v in logs.values()])
        bad = not bool(torch.isfinite(values).all())
        if any_rank(bad, self.dist, self.device):
            names = [k for k, v in logs.items() if not torch.isfinite(v).all()]
            if len(names) > 4:
                names = [*names[:4], f"{len(names) - 4} more"]
            latest = self.ckpt_dir / "latest.pt"
            where = f"{latest} holds the last finite state" if latest.is_file() else "no checkpoint was written"
            raise TrainingDiverged(
                f"training diverged at step {step}: {', '.join(names) or 'another rank'} not finite; "
                f"{where}. Lower the learning rates, set a grad_clip under optim, or use train.precision=fp32."
            )

    def _log_train(self, writer, metrics_log, bar, logs: dict, step: int, tick: float, tick_step: int) -> None:
        """Rank 0's losses and rates to TensorBoard, ``metrics.jsonl`` and the progress bar."""
        batch = self.cfg.train.batch_size * self.dist.world_size
        values = {k: float(v) for k, v in logs.items()}  # the one host sync per log
        values["samples_per_sec"] = (step - tick_step) * batch / (time.perf_counter() - tick)
        values["lr_g"] = self.opt_g.param_groups[0]["lr"]
        for adversary in self.adversaries:
            if adversary.trainable:
                values[f"lr_{adversary.log_prefix}"] = self.d_optimizers[adversary.name].param_groups[0]["lr"]
        if self.chance_monitor is not None and step > self.cfg.loss.disc_start:
            self.chance_monitor.update(step, values)
        for key, value in values.items():
            writer.add_scalar(f"train/{key}", value, step)
        metrics_log.write(json.dumps({"step": step, **values}) + "\n")
        metrics_log.flush()
        bar.set_postfix(
            g=f"{values['g_total']:.4f}",
            d=next((f"{values[k]:.3f}" for k in ("d_loss", "d_st_loss", "d_blur_loss") if k in values), "-"),
            sps=f"{values['samples_per_sec']:.1f}",
            refresh=False,  # redraw at the bar's own pace, not every log step
        )

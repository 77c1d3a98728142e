"""Adversarial training, paper Algorithm 1 (Mathieu, Couprie & LeCun 2016).

Each iteration updates the discriminator on one batch with the generator's predictions
detached, then updates the generator on a *new* batch with the discriminator fixed. The
trainer owns the networks, their optimizers and the run directory; ``d_step`` and
``g_step`` each do zero_grad, forward, backward and step in one visible place.
"""

from __future__ import annotations

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
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import save_image
from vidpred._progress import progress

from vidpred.build import (
    build_discriminator,
    build_generator,
    build_optimizer,
    count_parameters,
    select_device,
    validate_config,
)
from vidpred.config import Config, ConfigError, config_from_dict, config_to_dict, dump_config
from vidpred.data.datasets import load_split
from vidpred.data.sampler import PatchBatches, PatchSampler, fixed_clips, to_model_input
from vidpred.losses.adversarial import bce_d_loss, sample_labels
from vidpred.losses.composite import generator_objective
from vidpred.models._pyramid import pyramid
from vidpred.training.checkpoint import load_checkpoint, save_checkpoint
from vidpred.training.validation import evaluate, predict_clips
from vidpred.training.visualize import sample_grid

log = logging.getLogger(__name__)

# Keys that may change when a run is resumed: they do not alter what is computed.
RESUMABLE_CHANGES = {
    "train.steps",
    "train.device",
    "train.log_every",
    "train.val_every",
    "train.ckpt_every",
    "train.sample_every",
    "data.num_workers",
    "data.cache_dir",
}
N_SAMPLE_CLIPS = 4


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


def _grad_norm(parameters) -> torch.Tensor:
    grads = [p.grad.detach().norm() for p in parameters if p.grad is not None]
    return torch.linalg.vector_norm(torch.stack(grads)) if grads else torch.zeros(())


class Trainer:
    """Builds everything from a config and trains it; see :meth:`fit`."""

    def __init__(self, cfg: Config, run_dir: str | Path | None = None, *, resume: bool = False):
        validate_config(cfg)
        self.cfg = cfg
        self.run_dir = Path(run_dir) if run_dir else Path(cfg.run.out_dir) / cfg.run.name
        self.ckpt_dir = self.run_dir / "checkpoints"
        self.device = select_device(cfg.train.device)
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
        self.discriminator = build_discriminator(cfg)
        if self.discriminator is not None:
            self.discriminator.to(self.device)
        self.opt_g = build_optimizer(self.generator.parameters(), cfg.optim.generator, "optim.generator")
        self.opt_d = (
            build_optimizer(self.discriminator.parameters(), cfg.optim.discriminator, "optim.discriminator")
            if self.discriminator is not None
            else None
        )
        # Label noise draws from its own generator so it is saved and restored exactly.
        self.label_rng = torch.Generator(device=self.device).manual_seed(cfg.train.seed + 1)
        self.step = 0
        self.best_psnr = -math.inf

        min_frames = self.n_context + max(self.n_future, cfg.train.val_n_future)
        train_videos = load_split(cfg.data, "train", min_frames=min_frames)
        val_videos = load_split(cfg.data, "val", min_frames=self.n_context + cfg.train.val_n_future)
        self.val_clips = fixed_clips(
            [v.frames for v in val_videos],
            cfg.data.n_val_clips,
            self.n_context + cfg.train.val_n_future,
            seed=cfg.train.seed,
        )
        self.sampler = PatchSampler(
            [v.frames for v in train_videos],
            self.n_context + self.n_future,
            cfg.data.patch_size,
            motion_threshold=cfg.data.motion_threshold,
            max_tries=cfg.data.max_tries,
            unfiltered_fraction=cfg.data.unfiltered_fraction,
            seed=cfg.train.seed,
        )
        log.info(
            "data: %d training videos, %d validation clips; generator %.2fM parameters%s; device %s",
            len(train_videos),
            len(self.val_clips),
            count_parameters(self.generator) / 1e6,
            f", discriminator {count_parameters(self.discriminator) / 1e6:.2f}M"
            if self.discriminator is not None
            else "",
            self.device,
        )
        if resume:
            self._restore(load_checkpoint(latest))
        self._batches: Iterator[torch.Tensor] | None = None
        self._stop_signal: int | None = None

    # ------------------------------------------------------------------ data

    @property
    def batches_per_step(self) -> int:
        return 2 if self.discriminator is not None else 1

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

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x[:, :, : self.n_context], x[:, :, self.n_context :]

    def _d_inputs(
        self, context: torch.Tensor, future_scales: list[torch.Tensor]
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Inputs of the conditional discriminator for every predicted step.

        Step t is judged with the n_context frames before it (real context, then earlier
        predicted or real frames) and the frame itself at each of D's scales; steps are
        stacked along the batch.

        Args:
            context: (B, C, n_context, H, W).
            future_scales: generator scales, coarsest first, each (B, C, n_future, h, w).
        Returns:
            per D scale: contexts (n_future*B, C, n_context, h, w), frames (n_future*B, C, h, w).
        """
        n_scales = self.discriminator.n_scales
        scales = future_scales[-n_scales:]
        sequence = torch.cat([context, future_scales[-1]], dim=2)  # (B, C, n_context + n_future, H, W)
        windows = torch.cat(
            [sequence[:, :, t : t + self.n_context] for t in range(self.n_future)], dim=0
        )
        frames = [torch.cat(scale.unbind(dim=2), dim=0) for scale in scales]
        return pyramid(windows, n_scales), frames

    def _labels(self, logits: list[torch.Tensor], bounds: list[float]) -> float | list[torch.Tensor]:
        low, high = bounds
        if low == high:
            return low
        return [sample_labels(l, low, high, generator=self.label_rng) for l in logits]

    # ------------------------------------------------------------------ steps

    def d_step(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """One discriminator update on clips x (B, C, T, H, W) with G's predictions detached."""
        context, target = self._split(x)
        with torch.no_grad():
            fake_scales = self.generator.rollout(context, self.n_future, return_scales=True)
        real_scales = pyramid(target, len(fake_scales))
        real_ctx, real_frames = self._d_inputs(context, real_scales)
        fake_ctx, fake_frames = self._d_inputs(context, fake_scales)
        # One forward pass over real and fake together (also what DDP wants).
        logits = self.discriminator(
            [torch.cat(pair) for pair in zip(real_ctx, fake_ctx)],
            [torch.cat(pair) for pair in zip(real_frames, fake_frames)],
        )
        n = real_frames[0].shape[0]
        real_logits = [l[:n] for l in logits]
        fake_logits = [l[n:] for l in logits]
        loss = bce_d_loss(
            real_logits,
            fake_logits,
            real_target=self._labels(real_logits, self.cfg.loss.real_label),
            fake_target=self._labels(fake_logits, self.cfg.loss.fake_label),
        )

        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = self._clip(self.discriminator, self.cfg.optim.discriminator.grad_clip)
        self.opt_d.step()
        return {
            "d_loss": loss.detach(),
            "d_real": torch.stack([torch.sigmoid(l.detach()).mean() for l in real_logits]).mean(),
            "d_fake": torch.stack([torch.sigmoid(l.detach()).mean() for l in fake_logits]).mean(),
            "grad_norm_d": grad_norm,
        }

    def g_step(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """One generator update on clips x (B, C, T, H, W); D is fixed but passes gradients."""
        context, target = self._split(x)
        pred_scales = self.generator.rollout(context, self.n_future, return_scales=True)
        n_scales = len(pred_scales)
        use_adv = self.discriminator is not None and self.cfg.loss.l_adv > 0
        fake_logits = None
        if use_adv:
            # D's weights are frozen for this step, but the gradient flows through D into G.
            self.discriminator.requires_grad_(False)
            fake_logits = self.discriminator(*self._d_inputs(context, pred_scales))
        loss, terms = generator_objective(
            pred_scales,
            pyramid(target, n_scales),
            fake_logits,
            l_adv=self.cfg.loss.l_adv,
            l_p=self.cfg.loss.l_p,
            p=self.cfg.loss.p,
            l_gdl=self.cfg.loss.l_gdl,
            gdl_alpha=self.cfg.loss.gdl_alpha,
            l_path=self.cfg.loss.l_path,
            anchor_scales=pyramid(context[:, :, -1], n_scales),
            multiscale=self.cfg.loss.multiscale,
        )

        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = self._clip(self.generator, self.cfg.optim.generator.grad_clip)
        self.opt_g.step()
        if use_adv:
            self.discriminator.requires_grad_(True)
        return {**terms, "grad_norm_g": grad_norm}

    def _clip(self, module: torch.nn.Module, max_norm: float | None) -> torch.Tensor:
        if max_norm is not None:
            return torch.nn.utils.clip_grad_norm_(module.parameters(), max_norm).detach()
        return _grad_norm(module.parameters())

    def train_step(self) -> dict[str, torch.Tensor]:
        """Algorithm 1: a D update on one batch, then a G update on a new batch."""
        logs = {}
        if self.discriminator is not None:
            logs.update(self.d_step(self._next_batch()))
        logs.update(self.g_step(self._next_batch()))
        self.step += 1
        return logs

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict:
        rng = {"torch": torch.get_rng_state(), "label": self.label_rng.get_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        state = {
            "step": self.step,
            "best_psnr": self.best_psnr,
            "config": config_to_dict(self.cfg),
            "generator": self.generator.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "rng": rng,
        }
        if self.discriminator is not None:
            state["discriminator"] = self.discriminator.state_dict()
            state["opt_d"] = self.opt_d.state_dict()
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
        self.opt_g.load_state_dict(state["opt_g"])
        if self.discriminator is not None:
            self.discriminator.load_state_dict(state["discriminator"])
            self.opt_d.load_state_dict(state["opt_d"])
        self.step = int(state["step"])
        self.best_psnr = float(state["best_psnr"])
        torch.set_rng_state(state["rng"]["torch"])
        self.label_rng.set_state(state["rng"]["label"])
        if "cuda" in state["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        log.info("resumed %s at step %d", self.run_dir, self.step)

    def save(self, name: str = "latest.pt") -> Path:
        path = self.ckpt_dir / name
        save_checkpoint(self.state_dict(), path)
        return path

    # ------------------------------------------------------------------ evaluation

    def validate(self) -> dict[str, float]:
        return evaluate(
            self.generator,
            self.val_clips,
            n_context=self.n_context,
            n_future=self.cfg.train.val_n_future,
            device=self.device,
            batch_size=self.cfg.train.batch_size,
        )

    @torch.no_grad()
    def sample_image(self) -> torch.Tensor:
        """Grid (3, H', W') in [0, 1] of the first validation clips."""
        clips = [c for c in self.val_clips if c.shape == self.val_clips[0].shape][:N_SAMPLE_CLIPS]
        x = to_model_input(torch.from_numpy(np.stack(clips)).to(self.device))
        was_training = self.generator.training
        self.generator.eval()
        grid = sample_grid(*predict_clips(self.generator, x, self.n_context, self.cfg.train.val_n_future))
        self.generator.train(was_training)
        return grid

    # ------------------------------------------------------------------ loop

    def _handle_signal(self, signum, frame) -> None:
        if self._stop_signal is not None:  # second Ctrl-C: stop now
            raise KeyboardInterrupt
        self._stop_signal = signum
        log.warning("received %s: saving a checkpoint after this step", signal.Signals(signum).name)

    def fit(self) -> dict:
        """Train to ``train.steps``; returns the final metrics (also written to disk).

        Ctrl-C or SIGTERM finishes the current step, saves ``checkpoints/latest.pt`` and
        returns ``{"interrupted": signum}``.
        """
        cfg = self.cfg.train
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "config.yaml").write_text(dump_config(self.cfg), encoding="utf-8")
        writer = SummaryWriter(str(self.run_dir), purge_step=self.step if self.step else None)
        if self.step == 0:
            writer.add_text("config", "```yaml\n" + dump_config(self.cfg) + "\n```", 0)
        metrics_log = open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8")
        previous = {s: signal.signal(s, self._handle_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        self.generator.train()
        if self.discriminator is not None:
            self.discriminator.train()
        last_val: dict[str, float] | None = None
        bar = progress(total=cfg.steps, initial=self.step, desc="train", unit="step")
        tick, tick_step = time.perf_counter(), self.step
        try:
            while self.step < cfg.steps and self._stop_signal is None:
                logs = self.train_step()
                step = self.step
                if step % cfg.log_every == 0 or step == cfg.steps:
                    values = {k: float(v) for k, v in logs.items()}  # the one host sync per log
                    now = time.perf_counter()
                    values["samples_per_sec"] = (step - tick_step) * cfg.batch_size / (now - tick)
                    tick, tick_step = now, step
                    values["lr_g"] = self.opt_g.param_groups[0]["lr"]
                    if self.opt_d is not None:
                        values["lr_d"] = self.opt_d.param_groups[0]["lr"]
                    for key, value in values.items():
                        writer.add_scalar(f"train/{key}", value, step)
                    metrics_log.write(json.dumps({"step": step, **values}) + "\n")
                    metrics_log.flush()
                    bar.set_postfix(
                        g=f"{values['g_total']:.4f}",
                        d=f"{values['d_loss']:.3f}" if "d_loss" in values else "-",
                        sps=f"{values['samples_per_sec']:.1f}",
                        refresh=False,  # redraw at the bar's own pace, not every log step
                    )
                if step % cfg.val_every == 0 or step == cfg.steps:
                    last_val = self.validate()
                    for key, value in last_val.items():
                        writer.add_scalar(f"val/{key}", value, step)
                    if last_val["psnr"] > self.best_psnr:
                        self.best_psnr = last_val["psnr"]
                        self.save("best.pt")
                    log.info(
                        "step %d: val PSNR %.2f dB (last-input baseline %.2f dB), SSIM %.3f",
                        step, last_val["psnr"], last_val["baseline_psnr"], last_val["ssim"],
                    )
                if step % cfg.sample_every == 0 or step == cfg.steps:
                    grid = self.sample_image()
                    writer.add_image("samples/context|prediction|target|error", grid, step)
                    (self.run_dir / "samples").mkdir(exist_ok=True)
                    save_image(grid, self.run_dir / "samples" / f"step_{step:07d}.png")
                if step % cfg.ckpt_every == 0 or step == cfg.steps:
                    self.save()
                bar.update(1)
            if self._stop_signal is not None:
                self.save()
                log.warning("stopped at step %d; continue with --resume", self.step)
                return {"interrupted": self._stop_signal, "step": self.step}
        finally:
            bar.close()
            for s, handler in previous.items():
                signal.signal(s, handler)
            metrics_log.close()
            writer.close()

        if last_val is None:  # nothing left to train (resumed at the end): still report
            last_val = self.validate()
        final = {
            "step": self.step,
            "n_val_clips": len(self.val_clips),
            "model": {k: v for k, v in last_val.items() if not k.startswith("baseline_")},
            "last_input_baseline": {
                k.removeprefix("baseline_"): v for k, v in last_val.items() if k.startswith("baseline_")
            },
        }
        _write_json_atomic(self.run_dir / "final_metrics.json", final)
        return final

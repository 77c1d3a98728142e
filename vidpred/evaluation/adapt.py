"""Fine-tuning a trained generator on the footage it is about to predict.

A model trained on other videos has to guess how *this* camera and *this* subject move. The
frames of a video that come before the ones to predict are free training data for exactly
that: :func:`adapt_generator` fine-tunes a copy of the generator on random crops of them
(the context frames in, the next frames as targets: the generator's own Lp and GDL terms),
and returns the moving average of its weights. It reads only the frames it is given, so a
caller that passes the frames up to the newest context frame never shows the model what it
will be scored on (the development benchmark's ``--adapt-steps`` adapts on each video's
first half and scores its second half; docs/results.md, "Adapting to the footage", has
what it gains and loses).

Clips are cut at scene cuts (:func:`~vidpred.data.cuts.scene_cuts`), flipped left-right
and played backwards at random (as ``data.augment`` does in training); everything is
deterministic for a seed.

With ``check_fraction > 0`` the newest part of the frames is held out of the fine-tuning
and the adapted copy is kept only if it predicts those frames better than the model as it
was (:func:`adaptation_gain`). A video whose motion changes over time can make the
fine-tuning worse than none; on the corpus the check did not foresee such a change.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vidpred._progress import progress
from vidpred.config import LossConfig
from vidpred.data.cuts import scene_cuts, valid_starts
from vidpred.data.sampler import to_model_input
from vidpred.losses.composite import generator_objective

__all__ = ["AdaptSettings", "adapt_generator", "adaptation_gain", "adaptation_starts", "checked_frames"]

logger = logging.getLogger(__name__)

# Crops are rounded down to a multiple of this, so every pyramid generator can take them.
_CROP_MULTIPLE = 16


@dataclass(frozen=True)
class AdaptSettings:
    """How to fine-tune on a video.

    Attributes:
        steps: optimizer steps (0: no adaptation).
        lr: Adam's learning rate.
        batch_size: crops per step.
        crop: crop side in pixels (smaller frames: the whole frame's shorter side).
        n_future: predicted frames per crop, each scored.
        ema_decay: the returned weights are this moving average of the steps' weights.
        grad_clip: gradient-norm bound (None: none).
        cut_ratio: scene-cut threshold (:func:`~vidpred.data.cuts.scene_cuts`; None: off).
        seed: the crops' random stream.
        check_fraction: this newest fraction of the frames is not trained on but checks the
            result; the adapted copy is kept only if it predicts them better (0: always kept).
        check_clips: at most this many whole-frame clips, spread over the held-out frames,
            make the check.
    """

    steps: int = 300
    lr: float = 1e-4
    batch_size: int = 8
    crop: int = 128
    n_future: int = 2
    ema_decay: float = 0.99
    grad_clip: float | None = 1.0
    cut_ratio: float | None = 5.0
    seed: int = 0
    check_fraction: float = 0.0
    check_clips: int = 6

    def __post_init__(self) -> None:
        if self.steps < 0:
            raise ValueError(f"adaptation steps must be >= 0, got {self.steps}")
        if self.lr <= 0 or self.batch_size < 1 or self.n_future < 1 or self.crop < _CROP_MULTIPLE:
            raise ValueError(f"adaptation needs lr > 0, batch_size >= 1, n_future >= 1 and crop >= {_CROP_MULTIPLE}; "
                             f"got lr={self.lr}, batch_size={self.batch_size}, n_future={self.n_future}, "
                             f"crop={self.crop}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if not 0 <= self.check_fraction < 1 or self.check_clips < 1:
            raise ValueError(f"check_fraction must be in [0, 1) and check_clips >= 1, got {self.check_fraction} "
                             f"and {self.check_clips}")


def adaptation_starts(frames: np.ndarray, window: int, cut_ratio: float | None) -> np.ndarray:
    """First frames of the ``window``-frame clips of ``frames`` that span no scene cut.

    Raises:
        ValueError: no such clip (too few frames, or a cut in every window).
    """
    if len(frames) < window:
        raise ValueError(f"adaptation needs at least {window} frames (context and predicted), got {len(frames)}")
    cuts = scene_cuts(frames, cut_ratio) if cut_ratio is not None else []
    starts = valid_starts(len(frames), window, cuts)
    if len(starts) == 0:
        raise ValueError(f"every {window}-frame clip of the {len(frames)} adaptation frames spans a scene cut")
    return starts


def _batch(frames: np.ndarray, starts: np.ndarray, window: int, crop: int, n: int,
           rng: np.random.Generator) -> np.ndarray:
    """``(n, window, crop, crop, C)`` uint8: random clips, crops, flips and time reversals."""
    H, W = frames.shape[1:3]
    out = []
    for _ in range(n):
        s = int(rng.choice(starts))
        y, x = int(rng.integers(0, H - crop + 1)), int(rng.integers(0, W - crop + 1))
        clip = frames[s:s + window, y:y + crop, x:x + crop]
        if rng.random() < 0.5:
            clip = clip[:, :, ::-1]
        if rng.random() < 0.5:
            clip = clip[::-1]
        out.append(clip)
    return np.ascontiguousarray(np.stack(out))


@torch.no_grad()
def adaptation_gain(before: nn.Module, after: nn.Module, frames: np.ndarray, n_future: int, n_clips: int,
                    device: torch.device = torch.device("cpu")) -> float:
    """How much better ``after`` predicts ``frames`` than ``before``: dB of PSNR, from the mean
    squared error of every predicted frame of up to ``n_clips`` whole-frame clips spread over them.

    Args:
        before, after: generators (``n_context`` and ``rollout``) of the same ``n_context``.
        frames: uint8 ``(T, H, W, C)``, grey levels 0-255, in time order.
        n_future: frames each clip predicts, after ``n_context`` context frames.
        n_clips: at most this many clips, their starts spread evenly over ``frames``.

    Returns:
        ``10 log10(MSE before / MSE after)``, each MSE summed over the clips' means (floored
        at 1e-12): above 0 where ``after`` predicts better.
    """
    window = before.n_context + n_future
    starts = np.arange(len(frames) - window + 1)
    if len(starts) == 0:
        raise ValueError(f"the check needs at least {window} frames, got {len(frames)}")
    chosen = sorted({int(starts[round(i * (len(starts) - 1) / max(n_clips - 1, 1))]) for i in range(n_clips)})
    errors = [0.0, 0.0]  # before, after
    for start in chosen:
        clip = to_model_input(torch.from_numpy(np.ascontiguousarray(frames[start:start + window]))[None].to(device))
        for i, model in enumerate((before, after)):
            pred = model.rollout(clip[:, :, :model.n_context], n_future).float()
            errors[i] += float(((pred - clip[:, :, model.n_context:]) ** 2).mean())
    return 10 * math.log10(max(errors[0], 1e-12) / max(errors[1], 1e-12))


def checked_frames(n_frames: int, n_context: int, settings: AdaptSettings) -> int:
    """How many of ``n_frames`` adaptation frames the check holds out (``settings.check_fraction``;
    0: none), for a model of ``n_context`` context frames.

    Raises:
        ValueError: too few frames to train on beside those held out.
    """
    if settings.check_fraction <= 0:
        return 0
    window = n_context + settings.n_future
    n_check = max(window, round(settings.check_fraction * n_frames))
    if n_frames - n_check < window:
        raise ValueError(f"adaptation with a check needs at least {window + n_check} frames ({window} to train on, "
                         f"{n_check} to check), got {n_frames}")
    return n_check


def adapt_generator(generator: nn.Module, frames: np.ndarray, settings: AdaptSettings, loss: LossConfig,
                    device: torch.device = torch.device("cpu"), show_progress: bool = True,
                    should_stop: Callable[[], bool] | None = None) -> nn.Module:
    """A copy of ``generator`` fine-tuned on ``frames``; ``generator`` itself is left as it was.

    Args:
        generator: a vidpred generator (``n_context`` and ``rollout``).
        frames: uint8 ``(T, H, W, C)``, the footage to adapt on, in time order.
        settings: steps, learning rate, crops (:class:`AdaptSettings`).
        loss: the weights of its Lp and GDL terms (the checkpoint's ``loss`` section; the
            adversarial and other terms are not used here).
        device: where to train.
        show_progress: show a progress bar.
        should_stop: asked before every step; when it says so, the fine-tuning ends there and
            the copy as it stands is returned (a stopped benchmark does not score it).

    Returns:
        the moving average of the fine-tuned weights, in eval mode; ``generator`` itself when
        ``settings.steps`` is 0, or when the check (``settings.check_fraction``) finds the
        fine-tuned copy no better on the held-out newest frames.

    Raises:
        ValueError: too few frames, or a cut in every clip.
    """
    if settings.steps == 0:
        return generator
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 (T, H, W, C), got {frames.dtype} {frames.shape}")
    n_context = generator.n_context
    window = n_context + settings.n_future
    held_out = None
    n_check = checked_frames(len(frames), n_context, settings)
    if n_check:
        frames, held_out = frames[:len(frames) - n_check], frames[len(frames) - n_check:]
    starts = adaptation_starts(frames, window, settings.cut_ratio)
    side = min(settings.crop, *frames.shape[1:3]) // _CROP_MULTIPLE * _CROP_MULTIPLE
    if side < _CROP_MULTIPLE:
        raise ValueError(f"frames of {frames.shape[1]}x{frames.shape[2]} are too small to adapt on "
                         f"(at least {_CROP_MULTIPLE} px a side)")
    rng = np.random.default_rng(settings.seed)
    model = copy.deepcopy(generator).to(device).train()
    average = copy.deepcopy(model).eval().requires_grad_(False)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    for _ in progress(range(settings.steps), desc="adapting", unit="step", disable=not show_progress):
        if should_stop is not None and should_stop():
            break
        clips = to_model_input(torch.from_numpy(_batch(frames, starts, window, side, settings.batch_size, rng))
                               .to(device))  # (B, C, window, h, w) in [-1, 1]
        pred = model.rollout(clips[:, :, :n_context], settings.n_future)
        total, _ = generator_objective([pred.float()], [clips[:, :, n_context:]], l_adv=0.0, l_p=loss.l_p,
                                       p=loss.p, l_gdl=loss.l_gdl, gdl_alpha=loss.gdl_alpha, l_path=0.0,
                                       multiscale=False)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        if settings.grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
        optimizer.step()
        with torch.no_grad():  # no warm-up, unlike training's average: this one starts at trained weights
            for kept, new in zip(average.parameters(), model.parameters()):
                kept.lerp_(new, 1 - settings.ema_decay)
            for kept, new in zip(average.buffers(), model.buffers()):
                kept.copy_(new)
    if held_out is None:
        return average
    was_training = generator.training
    gain = adaptation_gain(generator.eval(), average, held_out, settings.n_future, settings.check_clips, device)
    generator.train(was_training)
    if gain > 0:
        logger.info("adapted: %+.2f dB on the %d held-out newest frames; kept", gain, len(held_out))
        return average
    logger.info("adapted: %+.2f dB on the %d held-out newest frames; the model is kept as it was", gain, len(held_out))
    return generator

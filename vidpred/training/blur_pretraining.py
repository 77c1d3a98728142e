"""Pretraining of the blur-detecting discriminator (the sharper-predictions article, "Pre-train D2 to specialize on blur detection").

Sharp frames are class 1; copies blurred by a Gaussian, median or bilateral filter
(:mod:`vidpred.data.blur`) are class 0. Each step draws ``batch_size`` sharp crops and
``batch_size`` other crops, blurs the latter (a third with each filter), and takes one
Adam step on the binary cross-entropy. Crops come from training frames; accuracy is
measured on a fixed set of crops from held-out frames (validation videos, or CIFAR-10's
test batch), once sharp and once per blur kind.

The result is written by :func:`vidpred.models.blur_discriminator.save_blur_discriminator`
with what it was trained on and these held-out accuracies.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from vidpred._progress import progress
from vidpred.data.blur import BLUR_KINDS, blur_frames
from vidpred.models.blur_discriminator import BlurDiscriminator
from vidpred.training.monitor import TrainingDiverged

__all__ = ["FramePool", "blur_accuracy", "pretrain_blur_discriminator"]

log = logging.getLogger(__name__)


class FramePool:
    """Random square crops of single frames from a set of videos (or images).

    Args:
        videos: uint8 ``(T, H, W, C)`` arrays (a stack of images is one "video"); every
            frame must be at least ``size`` pixels on each side.
        size: crop side.
    """

    def __init__(self, videos: Sequence[np.ndarray], size: int) -> None:
        self.videos = [v for v in videos if v.shape[1] >= size and v.shape[2] >= size]
        if not self.videos:
            raise ValueError(f"no frame of at least {size}x{size} pixels to crop from")
        self.size = size
        # Sample frames uniformly, not videos: weight each video by its number of frames.
        lengths = np.array([len(v) for v in self.videos], dtype=np.float64)
        self._weights = lengths / lengths.sum()

    def sample(self, n: int, rng: np.random.Generator) -> torch.Tensor:
        """``n`` crops as float ``(n, C, size, size)`` in ``[-1, 1]``."""
        crops = []
        for video_index in rng.choice(len(self.videos), size=n, p=self._weights):
            video = self.videos[video_index]
            t = rng.integers(len(video))
            top = rng.integers(video.shape[1] - self.size + 1)
            left = rng.integers(video.shape[2] - self.size + 1)
            crops.append(video[t, top : top + self.size, left : left + self.size])
        batch = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2)  # (n, C, size, size) uint8
        return batch.float() / 127.5 - 1


def _blur_mixed(frames: torch.Tensor) -> torch.Tensor:
    """Blur consecutive thirds of ``frames`` (N, C, H, W) with each kind of :data:`BLUR_KINDS`."""
    parts = torch.tensor_split(frames, len(BLUR_KINDS))
    return torch.cat([blur_frames(part, kind) for part, kind in zip(parts, BLUR_KINDS) if len(part)])


@torch.no_grad()
def blur_accuracy(model: BlurDiscriminator, frames: torch.Tensor, batch_size: int = 256, *,
                  show_progress: bool = False) -> dict[str, float]:
    """Held-out accuracy on sharp frames and on each blur kind.

    Args:
        frames: sharp ``(N, C, H, W)`` in ``[-1, 1]``.
        show_progress: a progress bar over the batches scored.

    Returns:
        ``{"sharp": P(logit > 0 | sharp), "<kind>": P(logit < 0 | blurred by kind) per kind,
        "balanced": (sharp + mean over kinds) / 2}``.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    chunks = frames.split(batch_size)
    bar = progress(total=len(chunks) * (1 + len(BLUR_KINDS)), desc="held-out accuracy", unit="batch",
                   disable=not show_progress)

    def correct(kind: str | None) -> float:
        hits = 0
        for chunk in chunks:
            chunk = chunk.to(device)
            logits = model(chunk if kind is None else blur_frames(chunk, kind))
            hits += int((logits > 0).sum()) if kind is None else int((logits < 0).sum())
            bar.update(1)
        return hits / len(frames)

    accuracy = {"sharp": correct(None), **{kind: correct(kind) for kind in BLUR_KINDS}}
    bar.close()
    accuracy["balanced"] = (accuracy["sharp"] + float(np.mean([accuracy[k] for k in BLUR_KINDS]))) / 2
    model.train(was_training)
    return accuracy


def pretrain_blur_discriminator(
    model: BlurDiscriminator,
    train_pool: FramePool,
    heldout: torch.Tensor,
    *,
    steps: int,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> dict[str, float]:
    """Train ``model`` to tell sharp crops from blurred ones; returns held-out accuracies.

    Args:
        model: the discriminator, trained in place.
        train_pool: where training crops come from.
        heldout: sharp ``(N, C, H, W)`` crops in ``[-1, 1]`` from frames never trained on.
        steps: Adam steps, each on ``batch_size`` sharp and ``batch_size`` blurred crops.
        seed: crop sampling and initial order are a function of it.
    """
    device = torch.device(device)
    model.to(device).train()
    rng = np.random.default_rng(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    labels = torch.cat([torch.ones(batch_size), torch.zeros(batch_size)]).to(device)
    bar = progress(total=steps, desc="pretrain blur D", unit="step")
    start = time.perf_counter()
    for step in range(1, steps + 1):
        sharp = train_pool.sample(batch_size, rng).to(device)
        blurred = _blur_mixed(train_pool.sample(batch_size, rng).to(device))
        logits = model(torch.cat([sharp, blurred]))
        loss = F.binary_cross_entropy_with_logits(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        # Weights a step left NaN make the next step's loss NaN: the last step's are checked themselves.
        finite = bool(torch.isfinite(loss)) and (step < steps or all(bool(torch.isfinite(p).all())
                                                                    for p in model.parameters()))
        if not finite:
            bar.close()
            raise TrainingDiverged(f"blur discriminator pretraining diverged at step {step}: its loss or weights "
                                   "are not finite; nothing was written. Lower the learning rate (--lr)")
        if step % 50 == 0 or step == steps:
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
        bar.update(1)
    bar.close()
    log.info("blur discriminator: %d steps in %.1f s; scoring %d held-out crops, sharp and blurred %d ways",
             steps, time.perf_counter() - start, len(heldout), len(BLUR_KINDS))
    accuracy = blur_accuracy(model, heldout, show_progress=True)
    log.info("held-out accuracy %s", ", ".join(f"{k} {v:.3f}" for k, v in accuracy.items()))
    return accuracy

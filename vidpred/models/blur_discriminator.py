"""Blur-detecting discriminator (the sharper-predictions article, "What's up next?").

A small fully convolutional CNN that scores single frames: high logit for a sharp frame,
low for a blurred one. It is pretrained by ``scripts/pretrain_blur_discriminator.py`` on
sharp frames against Gaussian-, median- and bilateral-blurred copies, then used during
training either frozen (a judge whose verdict the generator learns to satisfy) or updated
adversarially with the generator's predictions as the blurred class.

Architecture: 3x3 convolution to ``width`` maps, then ``n_down`` stages of 3x3 stride-2
convolutions (maps doubling, capped at ``8 * width``), LeakyReLU after each, global average
pooling and a linear layer to one logit. The global pooling makes it work on any frame
size (it is pretrained on patches and can judge whole frames). No normalisation layers:
a frozen judge must not depend on batch statistics, and DDP needs no buffer sync.

A pretrained one is saved (atomically) with its architecture arguments, the weights, what
it was trained on and its held-out accuracies::

    {"kind": "blur_discriminator", "arch": {...}, "state_dict": {...},
     "training": {...}, "accuracy": {"sharp": .., "gaussian": .., "median": ..,
     "bilateral": .., "balanced": ..}}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import Tensor, nn

from vidpred.checkpoint import load_checkpoint, save_checkpoint

__all__ = ["BlurDiscriminator", "save_blur_discriminator", "load_blur_discriminator", "CHECKPOINT_KIND"]

CHECKPOINT_KIND = "blur_discriminator"
PRETRAIN_SCRIPT = "scripts/pretrain_blur_discriminator.py"


class BlurDiscriminator(nn.Module):
    """Sharp-vs-blurred frame classifier; returns logits (sharp = 1).

    Args:
        channels: channels per frame.
        width: feature maps of the first convolution.
        n_down: stride-2 stages; frames must be at least ``2**n_down`` pixels.
        leaky_slope: LeakyReLU slope.
    """

    def __init__(self, channels: int = 3, width: int = 32, n_down: int = 3, leaky_slope: float = 0.2) -> None:
        super().__init__()
        if channels < 1 or width < 1 or n_down < 0 or leaky_slope < 0:
            raise ValueError(
                f"bad blur discriminator: channels={channels}, width={width}, n_down={n_down}, leaky_slope={leaky_slope}"
            )
        self.channels, self.width, self.n_down, self.leaky_slope = channels, width, n_down, leaky_slope
        maps = [width * 2 ** min(i, 3) for i in range(n_down + 1)]
        layers: list[nn.Module] = [nn.Conv2d(channels, maps[0], 3, padding=1), nn.LeakyReLU(leaky_slope)]
        for i in range(n_down):
            layers += [nn.Conv2d(maps[i], maps[i + 1], 3, stride=2, padding=1), nn.LeakyReLU(leaky_slope)]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(maps[-1], 1)

    @property
    def arch(self) -> dict[str, int | float]:
        """Constructor arguments, stored in checkpoints to rebuild the model."""
        return {"channels": self.channels, "width": self.width, "n_down": self.n_down, "leaky_slope": self.leaky_slope}

    def forward(self, frames: Tensor) -> Tensor:
        """Logits that frames are sharp.

        Args:
            frames: ``(N, C, H, W)`` in ``[-1, 1]``, ``H, W >= 2**n_down``.

        Returns:
            ``(N,)`` logits.
        """
        if frames.dim() != 4 or frames.shape[1] != self.channels:
            raise ValueError(f"expected frames (N, {self.channels}, H, W), got {tuple(frames.shape)}")
        h = self.features(frames)  # (N, M, H / 2^n_down, W / 2^n_down)
        return self.classifier(h.mean(dim=(2, 3))).squeeze(1)  # (N,)


def save_blur_discriminator(
    model: BlurDiscriminator, path: str | Path, training: dict[str, Any], accuracy: dict[str, float]
) -> None:
    """Write the model with its metadata atomically (see the module docstring for the layout)."""
    save_checkpoint(
        {
            "kind": CHECKPOINT_KIND,
            "arch": model.arch,
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "training": training,
            "accuracy": accuracy,
        },
        path,
    )


def load_blur_discriminator(path: str | Path) -> tuple[BlurDiscriminator, dict[str, Any]]:
    """Rebuild a pretrained blur discriminator; returns ``(model, metadata)``.

    Raises:
        FileNotFoundError: naming the file and the script that makes it.
        ValueError: the file is a vidpred checkpoint of something else.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder: model.blur_discriminator.checkpoint names the detector's file "
                                f"(`python {PRETRAIN_SCRIPT} --out` writes it)")
    if not path.is_file():
        raise FileNotFoundError(
            f"blur discriminator checkpoint not found: {path}. Make it with "
            f"`python {PRETRAIN_SCRIPT} --config <your config> --out {path}` "
            "or point model.blur_discriminator.checkpoint at an existing one"
        )
    state = load_checkpoint(path)
    if state.get("kind") != CHECKPOINT_KIND:
        raise ValueError(f"{path} is not a blur discriminator checkpoint (kind {state.get('kind')!r})")
    model = BlurDiscriminator(**state["arch"])
    model.load_state_dict(state["state_dict"])
    return model, {k: state[k] for k in ("arch", "training", "accuracy")}

"""Fixtures for the model tests: real photos made into clips with known motion and edits.

* ``photo_clips`` -- :class:`PhotoClips`: ``pan(shift, n_frames, size=(96, 128))``, a real
  photo panned by an integer shift a frame, ``(1, 3, T, H, W)`` in ``[-1, 1]``; and the edits
  the refiner's readings look for, made on such a clip: ``cut_to`` (a cut to another photo),
  ``faded`` and ``whitened`` (fades to or from black and white), ``dissolved`` (a
  cross-dissolve), ``repeated`` (a frame shown twice).
"""

from __future__ import annotations

import pytest
import torch
from skimage import data as skdata


class PhotoClips:
    """Clips made from scikit-image's real photos (the module docstring)."""

    @staticmethod
    def pan(shift: tuple[int, int], n_frames: int, size: tuple[int, int] = (96, 128)) -> torch.Tensor:
        """(1, 3, T, H, W) in [-1, 1]: a real photo panned by an integer ``shift`` (x, y) per frame."""
        photo = torch.from_numpy(skdata.astronaut()).permute(2, 0, 1).float() / 127.5 - 1  # (3, 512, 512)
        H, W = size
        frames = [photo[:, 200 + t * shift[1]: 200 + t * shift[1] + H, 150 + t * shift[0]: 150 + t * shift[0] + W]
                  for t in range(n_frames)]
        return torch.stack(frames, dim=1).unsqueeze(0)

    @staticmethod
    def cut_to(other: str, clip: torch.Tensor, newest: int) -> torch.Tensor:
        """``clip`` whose last ``newest`` frames are another real photo (skimage's ``other``), panned as
        the clip's frames were: a cut between scenes before them."""
        photo = torch.from_numpy(getattr(skdata, other)()).permute(2, 0, 1).float() / 127.5 - 1
        H, W = clip.shape[-2:]
        cut = clip.clone()
        for t in range(clip.shape[2] - newest, clip.shape[2]):
            cut[0, :, t] = photo[:, 100:100 + H, 100 + 3 * t:100 + 3 * t + W]
        return cut

    @staticmethod
    def faded(clip: torch.Tensor, *factors: float) -> torch.Tensor:
        """``clip`` with frame ``t``'s levels in [0, 1] multiplied by ``factors[t]``, rounded to 8 bits."""
        levels = (clip + 1) / 2 * torch.tensor(factors).view(1, 1, -1, 1, 1)
        return (levels * 255).round() / 127.5 - 1

    @staticmethod
    def whitened(clip: torch.Tensor, *factors: float) -> torch.Tensor:
        """``clip`` with frame ``t``'s distances from white multiplied by ``factors[t]``, rounded to 8 bits."""
        return -PhotoClips.faded(-clip, *factors)

    @staticmethod
    def dissolved(clip: torch.Tensor, share: float) -> torch.Tensor:
        """``clip`` cross-dissolving into a still second scene (another part of the same photo, turned
        a half turn), the second scene's share growing by ``share`` a frame from none."""
        photo = torch.from_numpy(skdata.astronaut()).permute(2, 0, 1).float() / 127.5 - 1
        H, W = clip.shape[-2:]
        second = photo[:, 300:300 + H, 300:300 + W].flip(-1, -2).view(1, 3, 1, H, W)
        shares = share * torch.arange(clip.shape[2], dtype=torch.float32).view(1, 1, -1, 1, 1)
        return (1 - shares) * clip + shares * second

    @staticmethod
    def repeated(clip: torch.Tensor, *shown: int) -> torch.Tensor:
        """``clip``'s frames in the order ``shown`` (a frame-rate conversion shows one twice)."""
        return clip[:, :, list(shown)].clone()


@pytest.fixture
def photo_clips() -> type[PhotoClips]:
    """:class:`PhotoClips` (the module docstring)."""
    return PhotoClips

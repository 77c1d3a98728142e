"""Picture grids of predictions: context | prediction | target | error."""

from __future__ import annotations

import torch
from torchvision.utils import make_grid


def sample_grid(
    context: torch.Tensor, prediction: torch.Tensor, target: torch.Tensor, padding: int = 2
) -> torch.Tensor:
    """One row per clip: the context frames, the predicted frames, the targets, the errors.

    Args:
        context: (B, C, n_context, H, W) in [-1, 1].
        prediction, target: (B, C, n_future, H, W) in [-1, 1].
    Returns:
        (3, H', W') float image in [0, 1] (grey frames are repeated to RGB). The error
        panel is |prediction - target| / 2, so black means exact.
    """
    # Every panel is shown as (x + 1) / 2, so |e| - 1 displays as |e| / 2.
    error = (prediction.float() - target.float()).abs() - 1.0
    panels = torch.cat([context.float(), prediction.float(), target.float(), error], dim=2)
    b, c, t, h, w = panels.shape
    frames = panels.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)  # row-major: clip by clip
    if c == 1:
        frames = frames.expand(-1, 3, -1, -1)
    frames = ((frames.clamp(-1, 1) + 1) / 2).cpu()
    return make_grid(frames, nrow=t, padding=padding, pad_value=1.0)

"""Picture grids of predictions (context | prediction | target | error) and of the flow head's motion."""

from __future__ import annotations

import torch
from torchvision.utils import make_grid

from vidpred.models.warp import flow_to_color


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


def motion_grid(flows: torch.Tensor, masks: torch.Tensor, padding: int = 2) -> torch.Tensor:
    """One row per clip: the flow head's flow (colour wheel) then its mask, per predicted frame.

    Args:
        flows: (B, 2, n_future, H, W) in pixels; each row's colours share one speed scale.
        masks: (B, 1, n_future, H, W) in [0, 1], weight of the warped frame (white: warped).
    Returns:
        (3, H', W') float image in [0, 1].
    """
    b, _, t, h, w = flows.shape
    speed = flows.float().norm(dim=1).amax(dim=(1, 2, 3))  # (B,), the fastest pixel of each clip
    colours = torch.stack([flow_to_color(flows[i].transpose(0, 1), float(speed[i])) for i in range(b)])
    grey = masks.float().clamp(0, 1).transpose(1, 2).expand(-1, -1, 3, -1, -1)  # (B, n_future, 3, H, W)
    panels = torch.cat([colours, grey], dim=1).reshape(b * 2 * t, 3, h, w).cpu()
    return make_grid(panels, nrow=2 * t, padding=padding, pad_value=1.0)

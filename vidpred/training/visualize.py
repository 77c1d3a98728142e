"""Picture grids of predictions (context | prediction | target | error) and of the predicted motion."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torchvision.utils import make_grid

from vidpred.data.sampler import to_model_input
from vidpred.models.generator import MultiScaleGenerator
from vidpred.models.refiner import FlowRefiner
from vidpred.models.warp import flow_to_color
from vidpred.training.validation import predict_clips

N_SAMPLE_CLIPS = 4


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


def motion_grid(flows: torch.Tensor, masks: torch.Tensor | None, padding: int = 2) -> torch.Tensor:
    """One row per clip: the predicted flow (colour wheel) then its mask, per predicted frame.

    Args:
        flows: (B, 2, n_future, H, W) in pixels, where each pixel is sampled from (a backward
            warp); drawn as the motion, minus it. Each row's colours share one speed scale.
        masks: (B, 1, n_future, H, W) in [0, 1], weight of the warped frame (white: warped);
            None for a model without a mask (the refiner): flows only.
    Returns:
        (3, H', W') float image in [0, 1].
    """
    b, _, t, h, w = flows.shape
    speed = flows.float().norm(dim=1).amax(dim=(1, 2, 3))  # (B,), the fastest pixel of each clip
    # a model's flow is where each pixel is sampled from (a backward warp): the content moves by minus it
    colours = torch.stack([flow_to_color(-flows[i].transpose(0, 1), float(speed[i])) for i in range(b)])
    if masks is None:
        return make_grid(colours.reshape(b * t, 3, h, w).cpu(), nrow=t, padding=padding, pad_value=1.0)
    grey = masks.float().clamp(0, 1).transpose(1, 2).expand(-1, -1, 3, -1, -1)  # (B, n_future, 3, H, W)
    panels = torch.cat([colours, grey], dim=1).reshape(b * 2 * t, 3, h, w).cpu()
    return make_grid(panels, nrow=2 * t, padding=padding, pad_value=1.0)


@torch.no_grad()
def sample_images(
    generator: MultiScaleGenerator | FlowRefiner, clips: Sequence[np.ndarray], n_context: int, n_future: int,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The run's picture of progress on its first validation clips (those of the first clip's size).

    Args:
        clips: uint8 ``(T, H, W, C)`` with ``T >= n_context + n_future``.

    Returns:
        :func:`sample_grid` of the predictions, and :func:`motion_grid` of the predicted motion
        when the generator gives one (``predicts_motion``: the flow head's flows and masks, the
        refiner's flows), else None; both ``(3, H', W')`` in ``[0, 1]``.
    """
    first = [c for c in clips if c.shape == clips[0].shape][:N_SAMPLE_CLIPS]
    x = to_model_input(torch.from_numpy(np.stack(first)).to(device))
    was_training = generator.training
    generator.eval()
    grid = sample_grid(*predict_clips(generator, x, n_context, n_future))
    motion = None
    if generator.predicts_motion:
        _, flows, masks = generator.rollout_with_motion(x[:, :, :n_context], n_future)
        motion = motion_grid(flows, masks)
    generator.train(was_training)
    return grid, motion

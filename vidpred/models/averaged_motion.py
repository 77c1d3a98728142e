"""Test-time averaging of refiners' motion: several trained models, or one model and its mirror.

A refiner's prediction is one resampling of the newest frame along its velocity field, so
averaging *velocities* (not predicted frames) keeps the output one sharp resampling: an
ensemble or a mirrored second look that does not blur. :class:`AveragedMotion` is the mean
velocity (and persistence) of its members, each optionally also run on the left-right
mirrored context with its answer mirrored back. Averaged over a mirror pair, the prediction
treats left and right alike, whatever its members learned. It costs one refiner (flows
included) per member and view. Its predictions keep the newest frame's brightness: a
member's reading of a fade (``model.generator.fades``) is not averaged in.

    model = AveragedMotion([refiner_a, refiner_b], mirror=True)  # four looks, one warp
    frames = model.rollout(context, n_future=2)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from vidpred.models.refiner import FlowRefiner, VelocityPredictor

__all__ = ["AveragedMotion"]


def _mirrored(refiner: FlowRefiner, context: Tensor) -> tuple[Tensor, Tensor | None]:
    """The refiner's velocity and persistence for the left-right mirrored context, mirrored
    back to the context's own pixels (the horizontal component changes sign)."""
    velocity, persistence = refiner.motion_and_persistence(context.flip(-1))
    x_sign = torch.tensor([-1.0, 1.0], dtype=velocity.dtype, device=velocity.device).view(1, 2, 1, 1)
    velocity = velocity.flip(-1) * x_sign
    return velocity, None if persistence is None else persistence.flip(-1)


class AveragedMotion(VelocityPredictor):
    """The mean motion of refiners (and, with ``mirror``, of their mirrored looks).

    Args:
        members: trained :class:`FlowRefiner` s that see the same number of context frames.
        mirror: also run each member on the mirrored context and average that answer in.

    Raises:
        ValueError: no members, a member that is not a refiner, or members that see different
            numbers of context frames.
    """

    head = "refiner"

    def __init__(self, members: Sequence[FlowRefiner], mirror: bool = False) -> None:
        super().__init__()
        if not members:
            raise ValueError("AveragedMotion needs at least one member")
        if not all(isinstance(m, FlowRefiner) for m in members):
            kinds = sorted({type(m).__name__ for m in members})
            raise ValueError(f"only refiners have a motion to average, got {', '.join(kinds)}")
        contexts = {m.n_context for m in members}
        if len(contexts) > 1:
            raise ValueError(f"members see different numbers of context frames: {sorted(contexts)}")
        if len({m.step_scale for m in members}) > 1:
            raise ValueError("members must all learn the motion's persistence (step_scale) or all not")
        if len({m.rollout_mode for m in members}) > 1:
            raise ValueError("members must all roll out the same way (model.generator.rollout)")
        self.rollout_mode = members[0].rollout_mode
        self.members = nn.ModuleList(members)
        self.mirror = bool(mirror)
        self.n_context = members[0].n_context
        self.channels = members[0].channels

    def motion_and_persistence(self, context: Tensor) -> tuple[Tensor, Tensor | None]:
        """The mean velocity ``(B, 2, H, W)`` and persistence (None without ``step_scale``)."""
        looks = [m.motion_and_persistence(context) for m in self.members]
        if self.mirror:
            looks += [_mirrored(m, context) for m in self.members]
        velocity = torch.stack([v for v, _ in looks]).mean(dim=0)
        persistence = None if looks[0][1] is None else torch.stack([a for _, a in looks]).mean(dim=0)
        return velocity, persistence

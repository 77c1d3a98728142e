"""Multi-scale (Laplacian-pyramid) next-frame generator of Mathieu, Couprie & LeCun (2016).

Layer table (feature maps / kernels per scale, coarse to fine, for 4 scales):

=========  ===========================  ==================
scale      feature maps                 kernels
=========  ===========================  ==================
1 (H/8)    128, 256, 128                3, 3, 3, 3
2 (H/4)    128, 256, 128                5, 3, 3, 5
3 (H/2)    128, 256, 512, 256, 128      5, 3, 3, 3, 3, 5
4 (H)      128, 256, 512, 256, 128      7, 5, 5, 5, 5, 7
=========  ===========================  ==================

The last kernel of each row belongs to the conv that maps to the ``channels`` output.
With RGB and 4 context frames this is 12,569,740 parameters (paper: ~12.6 M).

Beyond the paper, the same pyramid can predict *motion* (``head``):

* ``pixels`` -- the paper: every scale outputs frame pixels through a tanh.
* ``residual`` -- every scale outputs a change to the last context frame, so an untrained
  model starts at the last-input baseline instead of below it.
* ``flow`` -- every scale outputs a flow field that refines twice the upsampled flow of the
  coarser scale, an occlusion/blend mask and synthesized pixels; the frame is
  ``m * warp(last, flow) + (1 - m) * pixels`` (backward warp of the last context frame),
  as in motion-compensating predictors (Deep Voxel Flow, SDC-Net, DMVFN). Copying and
  moving texture then costs the network a few flow values instead of every pixel.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vidpred.models._pyramid import pyramid, scaled_width, stack_frames, table_rows, upsample2x
from vidpred.models.warp import warp

__all__ = ["MultiScaleGenerator", "GENERATOR_TABLE", "HEADS", "Motion"]

logger = logging.getLogger(__name__)

# (feature maps, kernels) per scale, coarsest first; kernels has one more entry (output conv).
GENERATOR_TABLE: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...] = (
    ((128, 256, 128), (3, 3, 3, 3)),
    ((128, 256, 128), (5, 3, 3, 5)),
    ((128, 256, 512, 256, 128), (5, 3, 3, 3, 3, 5)),
    ((128, 256, 512, 256, 128), (7, 5, 5, 5, 5, 7)),
)

HEADS = ("pixels", "residual", "flow")
# Output convolutions of the residual and flow heads start with weights this much smaller
# than PyTorch's default, so an untrained model predicts (close to) the last input while
# every parameter still receives a gradient from step one (zero weights would block the
# gradient to all earlier layers).
_HEAD_INIT_SCALE = 0.1
# Initial blend-mask logit of the flow head (coarsest scale's bias): sigmoid(4) = 0.982
# of the warped frame, so the untrained model is ~ a copy of the last input.
_MASK_INIT_LOGIT = 4.0
# The flow fed to a finer scale is scaled by this, to keep its input values O(1).
_FLOW_INPUT_SCALE = 0.25


class Motion(NamedTuple):
    """What the flow head predicts at each scale, coarsest first.

    Attributes:
        flows: ``(B, 2, h_k, w_k)`` (x, y) in pixels of scale k; the frame is sampled at
            ``p + flow(p)`` of the last context frame.
        masks: ``(B, 1, h_k, w_k)`` in ``(0, 1)``: weight of the warped frame against the
            synthesized pixels.
    """

    flows: list[Tensor]
    masks: list[Tensor]


class MultiScaleGenerator(nn.Module):
    """Laplacian-pyramid generator: each scale refines the upsampled coarser prediction.

    Scale 1 sees the context at its size (``channels * n_context`` input channels); scale
    k > 1 also sees the upsampled prediction of scale k-1 (``channels * (n_context + 1)``).
    Each scale is a stack of same-padded convs with ReLU between them.

    The residual is accumulated on the pre-tanh activations:
    ``z_1 = G'_1(X_1)``, ``Y_1 = tanh(z_1)``;
    ``z_k = up(z_{k-1}) + G'_k(X_k, up(Y_{k-1}))``, ``Y_k = tanh(z_k)``.
    The paper writes ``Y_k = up(Y_{k-1}) + G'_k(...)`` with a tanh output; adding after a
    tanh would either leave [-1, 1] or need a second squashing per scale, which compounds
    saturation across scales. Summing pre-activations keeps every ``Y_k`` in ``(-1, 1)``
    with one tanh, and the finer scales still only learn a correction to the coarser one.
    No layer is zero-initialised, so every parameter receives a gradient from step one.

    Args:
        n_context: number of past frames.
        channels: channels per frame (3 for RGB).
        n_scales: pyramid levels; the finest ``n_scales`` rows of the paper table are
            used, and scales beyond 4 repeat the coarsest row.
        width: multiplier on every feature-map count, ``max(1, round(m * width))``.
        head: ``pixels`` (the paper), ``residual`` or ``flow`` (module docstring). The
            residual head computes ``Y_k = clamp(last_k + z_k, -1, 1)`` with ``z_k``
            accumulated over scales as above (``last_k`` the last context frame at scale
            k), so ``z = 0`` returns the last input exactly. The flow head's scale k also
            sees the upsampled flow of scale k-1 and outputs ``2 + 1 + channels`` maps: a
            flow increment, a mask logit and a pixel pre-activation; the flow is
            ``F_k = 2 up(F_{k-1}) + dF_k`` and mask and pixels accumulate like ``z_k``.
    """

    def __init__(self, n_context: int = 4, channels: int = 3, n_scales: int = 4, width: float = 1.0,
                 head: str = "pixels") -> None:
        super().__init__()
        if n_context < 1 or channels < 1 or width <= 0 or n_scales < 1:
            raise ValueError(f"bad generator size: n_context={n_context}, channels={channels}, "
                             f"n_scales={n_scales}, width={width}")
        if head not in HEADS:
            raise ValueError(f"generator head must be one of {', '.join(HEADS)}, got {head!r}")
        self.n_context = n_context
        self.channels = channels
        self.n_scales = n_scales
        self.width = width
        self.head = head
        flow_channels = 2 if head == "flow" else 0
        out_channels = channels + (3 if head == "flow" else 0)
        self.scales = nn.ModuleList()
        for k, (maps, kernels) in enumerate(table_rows(n_scales, GENERATOR_TABLE)):
            in_channels = channels * n_context if k == 0 else channels * (n_context + 1) + flow_channels
            sizes = [in_channels, *(scaled_width(m, width) for m in maps), out_channels]
            layers: list[nn.Module] = []
            for i, kernel in enumerate(kernels):
                layers.append(nn.Conv2d(sizes[i], sizes[i + 1], kernel, padding=kernel // 2))
                if i < len(kernels) - 1:
                    layers.append(nn.ReLU())
            self.scales.append(nn.Sequential(*layers))
        if head != "pixels":
            with torch.no_grad():
                for net in self.scales:
                    net[-1].weight.mul_(_HEAD_INIT_SCALE)
                    net[-1].bias.mul_(_HEAD_INIT_SCALE)
                if head == "flow":
                    self.scales[0][-1].bias[2] = _MASK_INIT_LOGIT

    @property
    def last_layer(self) -> nn.Parameter:
        """Weight of the finest scale's output convolution, ``(channels, maps, k, k)``.

        Every finest-scale prediction passes through it last, so the adaptive adversarial
        weight (the CogVideo loss notes) compares the loss gradients there.
        """
        return self.scales[-1][-1].weight

    @property
    def size_multiple(self) -> int:
        """``forward`` needs H and W divisible by this (``2**(n_scales - 1)``)."""
        return 2 ** (self.n_scales - 1)

    def _check_context(self, context: Tensor) -> None:
        if context.dim() != 5 or context.shape[1] != self.channels or context.shape[2] != self.n_context:
            raise ValueError(
                f"context must be (B, {self.channels}, {self.n_context}, H, W), got {tuple(context.shape)}"
            )

    def forward(self, context: Tensor) -> list[Tensor]:
        """Predict the next frame at every scale.

        Args:
            context: ``(B, C, n_context, H, W)`` in ``[-1, 1]``, oldest frame first; ``H`` and
                ``W`` divisible by ``2**(n_scales - 1)``.

        Returns:
            ``n_scales`` predictions, coarsest first, each ``(B, C, H / 2**(n_scales-1-k),
            W / 2**(n_scales-1-k))`` in ``[-1, 1]``.
        """
        return self.forward_with_motion(context)[0]

    def forward_with_motion(self, context: Tensor) -> tuple[list[Tensor], Motion | None]:
        """:meth:`forward`, plus the flow head's flows and masks at every scale (None for other heads)."""
        self._check_context(context)
        H, W = context.shape[-2:]
        if H % self.size_multiple or W % self.size_multiple:
            raise ValueError(
                f"MultiScaleGenerator.forward needs H and W divisible by {self.size_multiple} "
                f"(2**(n_scales-1)), got {H}x{W}; use predict() for arbitrary sizes"
            )
        predictions: list[Tensor] = []
        flows: list[Tensor] = []
        masks: list[Tensor] = []
        z_prev: Tensor | None = None  # pre-activations accumulated over scales
        y_prev: Tensor | None = None
        for net, context_k in zip(self.scales, pyramid(context, self.n_scales)):
            x_k = stack_frames(context_k)  # (B, n_context*C, h_k, w_k)
            if y_prev is None:
                out = net(x_k)
            else:
                inputs = [x_k, upsample2x(y_prev)]
                if self.head == "flow":
                    inputs.append(2 * upsample2x(flows[-1]).to(x_k.dtype) * _FLOW_INPUT_SCALE)
                out = net(torch.cat(inputs, dim=1))
            if self.head == "flow":
                # (B, 2 + 1 + C, h_k, w_k): flow increment, mask logit, pixel pre-activation.
                d_flow, z = out[:, :2].float(), out[:, 2:]
                flow = d_flow if not flows else 2 * upsample2x(flows[-1]) + d_flow
            else:
                z = out  # (B, C, h_k, w_k)
            if z_prev is not None:
                z = upsample2x(z_prev) + z
            last = context_k[:, :, -1]
            if self.head == "pixels":
                y = torch.tanh(z.float())  # float32 outputs, also from inside a bf16 autocast
            elif self.head == "residual":
                y = (last + z).clamp(-1.0, 1.0)
            else:
                mask = torch.sigmoid(z[:, :1].float())  # (B, 1, h_k, w_k)
                pixels = torch.tanh(z[:, 1:].float())  # (B, C, h_k, w_k)
                y = mask * warp(last, flow).float() + (1 - mask) * pixels
                flows.append(flow)
                masks.append(mask)
            predictions.append(y)
            z_prev, y_prev = z, y
        return predictions, (Motion(flows, masks) if self.head == "flow" else None)

    def predict(self, context: Tensor) -> Tensor:
        """Finest next-frame prediction for any frame size.

        The context is padded at the bottom and right to the next multiple of
        ``2**(n_scales - 1)`` (reflect, or replicate when the pad exceeds what reflect
        allows) and the prediction cropped back, so pooling blocks stay aligned with the
        top-left corner as they are for training patches.

        Args:
            context: ``(B, C, n_context, H, W)`` in ``[-1, 1]``, any ``H``, ``W``.

        Returns:
            ``(B, C, H, W)`` in ``[-1, 1]``.
        """
        return self.predict_with_motion(context)[0]

    def predict_with_motion(self, context: Tensor) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """:meth:`predict`, plus the finest flow ``(B, 2, H, W)`` and mask ``(B, 1, H, W)`` of the flow head.

        For the other heads the flow and mask are None.
        """
        self._check_context(context)
        B, C, T, H, W = context.shape
        pad_h = -H % self.size_multiple
        pad_w = -W % self.size_multiple
        if pad_h or pad_w:
            mode = "reflect" if pad_h < H and pad_w < W else "replicate"
            if mode == "replicate":
                logger.debug("predict: %dx%d too small to reflect-pad by (%d, %d); replicating", H, W, pad_h, pad_w)
            padded = F.pad(context.reshape(B, C * T, H, W), (0, pad_w, 0, pad_h), mode=mode)
            context = padded.reshape(B, C, T, H + pad_h, W + pad_w)
        predictions, motion = self.forward_with_motion(context)
        frame = predictions[-1][..., :H, :W]
        if motion is None:
            return frame, None, None
        return frame, motion.flows[-1][..., :H, :W], motion.masks[-1][..., :H, :W]

    def rollout(self, context: Tensor, n_future: int, return_scales: bool = False) -> Tensor | list[Tensor]:
        """Predict ``n_future`` frames recursively.

        Each finest prediction becomes the newest context frame (the oldest is dropped) for
        the next step. Gradients flow through the recursion (nothing is detached).

        Args:
            context: ``(B, C, n_context, H, W)`` in ``[-1, 1]``.
            n_future: number of frames to predict, >= 1.
            return_scales: if False, use :meth:`predict` (any ``H``, ``W``) and return the
                finest clip; if True, use :meth:`forward` (``H``, ``W`` divisible by
                ``2**(n_scales - 1)``) and return every scale.

        Returns:
            ``(B, C, n_future, H, W)`` in ``[-1, 1]``; with ``return_scales`` a list over
            scales, coarsest first, of ``(B, C, n_future, h_k, w_k)``.
        """
        if n_future < 1:
            raise ValueError(f"n_future must be >= 1, got {n_future}")
        per_step: list[list[Tensor]] = []  # [step][scale]; a single (finest) scale without return_scales
        for _ in range(n_future):
            scales = self(context) if return_scales else [self.predict(context)]
            per_step.append(scales)
            context = torch.cat([context[:, :, 1:], scales[-1].unsqueeze(2).to(context.dtype)], dim=2)
        clips = [torch.stack(over_time, dim=2) for over_time in zip(*per_step)]  # (B, C, n_future, h_k, w_k)
        return clips if return_scales else clips[0]

    @property
    def predicts_motion(self) -> bool:
        """Whether :meth:`rollout_with_motion` gives flows (the ``flow`` head) or None."""
        return self.head == "flow"

    def rollout_with_motion(self, context: Tensor, n_future: int) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """:meth:`rollout` at any size, plus the flow head's flows ``(B, 2, n_future, H, W)``
        and masks ``(B, 1, n_future, H, W)`` of every step (None for the other heads)."""
        if n_future < 1:
            raise ValueError(f"n_future must be >= 1, got {n_future}")
        frames, flows, masks = [], [], []
        for _ in range(n_future):
            frame, flow, mask = self.predict_with_motion(context)
            frames.append(frame)
            flows.append(flow)
            masks.append(mask)
            context = torch.cat([context[:, :, 1:], frame.unsqueeze(2).to(context.dtype)], dim=2)
        if self.head != "flow":
            return torch.stack(frames, dim=2), None, None
        return torch.stack(frames, dim=2), torch.stack(flows, dim=2), torch.stack(masks, dim=2)

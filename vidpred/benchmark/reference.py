"""A plain eager float32 port of the paper's iteration: the baseline speed is measured against.

It is what a careful hand-written PyTorch port does, with no speed work: the same vidpred
networks and loss functions, float32, contiguous (NCHW) tensors, the discriminator run
once on real and once on predicted frames, and D's weight gradients computed (then
discarded) during the generator's step because D is never frozen. It trains the same
objective as :class:`~vidpred.training.trainer.Trainer` for the paper's loss terms
(adversarial BCE, Lp, GDL, all multi-scale); only the paper's multi-scale discriminator
is supported.
"""

from __future__ import annotations

import torch
from torch import Tensor

from vidpred.build import build_discriminator, build_generator, build_optimizer
from vidpred.config import Config
from vidpred.losses.adversarial import bce_d_loss, bce_g_loss
from vidpred.losses.gradient import gradient_difference_loss
from vidpred.losses.lp import lp_loss
from vidpred.models._pyramid import pyramid

__all__ = ["ReferenceIteration"]


class ReferenceIteration:
    """The paper's Algorithm 1 written the obvious way; ``d_step``/``g_step`` take clips.

    Args:
        cfg: the config whose model sizes, loss weights and optimizers to use.
        device: where to run.
    """

    def __init__(self, cfg: Config, device: torch.device) -> None:
        if cfg.train.n_future != 1:
            raise ValueError("the reference iteration predicts one frame (train.n_future = 1)")
        torch.manual_seed(cfg.train.seed)
        self.cfg = cfg
        self.n_context = cfg.model.n_context
        self.generator = build_generator(cfg).to(device)
        self.discriminator = build_discriminator(cfg)
        if self.discriminator is None:
            raise ValueError("the reference iteration needs the multi-scale discriminator")
        self.discriminator.to(device)
        self.opt_g = build_optimizer(self.generator.parameters(), cfg.optim.generator, "optim.generator")
        self.opt_d = build_optimizer(self.discriminator.parameters(), cfg.optim.discriminator, "optim.discriminator")

    def _discriminate(self, context: Tensor, frame_scales: list[Tensor]) -> list[Tensor]:
        """D's logits, per scale ``(B,)``, for context (B, C, n_context, H, W) and frames per scale (B, C, h, w)."""
        n_scales = self.discriminator.n_scales
        return self.discriminator(pyramid(context, n_scales), frame_scales[-n_scales:])

    def d_step(self, x: Tensor) -> Tensor:
        """Discriminator update on clips x (B, C, n_context + 1, H, W); returns the loss."""
        context, target = x[:, :, : self.n_context], x[:, :, self.n_context]
        with torch.no_grad():
            fake = self.generator(context)
        real = pyramid(target, len(fake))
        loss = bce_d_loss(self._discriminate(context, real), self._discriminate(context, fake))
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()
        return loss.detach()

    def g_step(self, x: Tensor) -> Tensor:
        """Generator update on clips x (B, C, n_context + 1, H, W); returns the loss."""
        loss_cfg = self.cfg.loss
        context, target = x[:, :, : self.n_context], x[:, :, self.n_context]
        pred = self.generator(context)
        loss = loss_cfg.l_adv * bce_g_loss(self._discriminate(context, pred))
        for y_hat, y in zip(pred, pyramid(target, len(pred))):
            loss = loss + loss_cfg.l_p * lp_loss(y_hat, y, p=loss_cfg.p)
            loss = loss + loss_cfg.l_gdl * gradient_difference_loss(y_hat, y, alpha=loss_cfg.gdl_alpha)
        self.opt_g.zero_grad()
        loss.backward()
        self.opt_g.step()
        return loss.detach()

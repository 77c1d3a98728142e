"""A plain eager float32 port of the paper's iteration: the baseline speed is measured against.

It is what a careful hand-written PyTorch port does, with no speed work: the same vidpred
networks and loss functions, float32, contiguous (NCHW) tensors, the discriminator run
once on real and once on predicted frames, and D's weight gradients computed (then
discarded) during the generator's step because D is never frozen. It trains the same
objective as :class:`~vidpred.training.trainer.Trainer` for the paper's loss terms
(adversarial BCE, Lp, GDL, all multi-scale); only the paper's multi-scale discriminator
is supported. A config that adds to that iteration (:data:`PAPER_ITERATION`) is refused:
timed against it, the optimized iteration would be doing other work.
"""

from __future__ import annotations

import torch
from torch import Tensor

from vidpred.build import build_discriminator, build_generator, build_optimizer
from vidpred.config import Config, config_to_dict
from vidpred.losses.adversarial import bce_d_loss, bce_g_loss
from vidpred.losses.gradient import gradient_difference_loss
from vidpred.losses.lp import lp_loss
from vidpred.models._pyramid import pyramid

__all__ = ["PAPER_ITERATION", "ReferenceIteration", "check_paper_iteration"]

# What the reference computes, as config values: one predicted frame, the multi-scale D
# alone with the paper's BCE, from the first step, and no term but adversarial, Lp and GDL,
# summed over the scales. (Label noise and the moving average of the weights cost little
# and change no step's work.)
PAPER_ITERATION = {
    "train.n_future": 1,
    "model.discriminator.enabled": True,
    "model.discriminator.objective": "bce",
    "model.spatiotemporal_discriminator.enabled": False,
    "model.blur_discriminator.enabled": False,
    "loss.multiscale": True,
    "loss.disc_start": 0,
    "loss.adaptive_weight": False,
    "loss.r1_weight": 0.0,
    **{f"loss.{term}": 0.0 for term in ("l_path", "l_lap", "l_census", "l_ssim", "l_vgg", "l_lpips", "l_nce")},
}


def check_paper_iteration(cfg: Config) -> None:
    """Raise ``ValueError`` naming each ``key: value (the reference: value)`` where ``cfg``
    differs from :data:`PAPER_ITERATION`."""
    plain = config_to_dict(cfg)

    def value(key: str):
        node = plain
        for part in key.split("."):
            node = node[part]
        return node

    differences = [f"{key}: {value(key)!r} (the reference: {wanted!r})" for key, wanted in PAPER_ITERATION.items()
                   if value(key) != wanted]
    if differences:
        raise ValueError(f"the reference iteration is the paper's, which this config adds to: {'; '.join(differences)}"
                         ": set these to the reference's values (--set) to time like with like")


class ReferenceIteration:
    """The paper's Algorithm 1 written the obvious way; ``d_step``/``g_step`` take clips.

    Args:
        cfg: the config whose model sizes, loss weights and optimizers to use.
        device: where to run.
    """

    def __init__(self, cfg: Config, device: torch.device) -> None:
        check_paper_iteration(cfg)
        torch.manual_seed(cfg.train.seed)
        self.cfg = cfg
        self.n_context = cfg.model.n_context
        self.generator = build_generator(cfg).to(device)
        self.discriminator = build_discriminator(cfg).to(device)
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

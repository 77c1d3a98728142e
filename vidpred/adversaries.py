"""How each discriminator is fed and scored: one small class per kind of discriminator.

The trainer keeps a list of adversaries; each wraps a plain ``nn.Module`` (``.model``,
which is what an optimizer or DDP sees) and knows

* ``d_loss(context, real_scales, fake_scales, label_rng)``: the discriminator's loss on
  real clips and (detached) predictions, and what to log; it calls ``.d_model``, which is
  ``.model`` itself or, under ``torchrun``, its ``DistributedDataParallel`` wrapper, so
  that D's gradients are averaged across processes;
* ``g_loss(context, pred_scales)``: the generator's adversarial loss against it (the
  trainer freezes D's parameters around it; the gradient still flows through D into G).

Shapes shared by every method: ``context`` is ``(B, C, n_context, H, W)``; ``*_scales`` are
the generator's pyramid levels, coarsest first, each ``(B, C, n_future, h_k, w_k)``, the
last one at full patch size; all in ``[-1, 1]``. Every predicted step is judged: the
multi-scale D sees each step with the frames before it, the blur D every predicted frame,
the spatio-temporal D the whole clip (context + every predicted frame).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor, nn

from vidpred.losses.adversarial import bce_d_loss, bce_g_loss, sample_labels
from vidpred.losses.contrastive import info_nce
from vidpred.losses.gradient_penalty import gradient_penalty
from vidpred.losses.hinge import hinge_d_loss, hinge_g_loss
from vidpred.metrics.discriminator import discriminator_accuracy
from vidpred.models._pyramid import pyramid
from vidpred.models.blur_discriminator import BlurDiscriminator
from vidpred.models.discriminator import MultiScaleDiscriminator
from vidpred.models.spatiotemporal_discriminator import SpatioTemporalDiscriminator

__all__ = ["Adversary", "MultiScaleAdversary", "BlurAdversary", "SpatioTemporalAdversary"]


class Adversary(ABC):
    """Base: a named discriminator, whether it is updated, and where it goes in checkpoints.

    Attributes:
        name: short name, used in ``g_adv_<name>`` and to find its optimizer section.
        model: the network.
        trainable: False for a frozen judge (never in an optimizer, ``requires_grad`` off,
            eval mode).
        d_model: what ``d_loss`` calls: ``model``, or its DDP wrapper (set by the trainer).
        grad_clip: the largest gradient norm of a D update (``optim.<its key>.grad_clip``,
            set by the builder); None does not clip.
        log_prefix: the start of its log keys (``<log_prefix>_loss``, ``<log_prefix>_acc``, ...;
            the multi-scale D's is ``d``), and its line in :data:`vidpred.training.monitor.KNOBS`.
        state_key: checkpoint key of its weights; ``opt_key`` of its optimizer state.
        pretrained: whether it starts trained (the blur detector); the progress bar shows
            the loss of a discriminator learning from scratch before a pretrained one's.
    """

    name: str
    log_prefix: str
    state_key: str
    opt_key: str
    pretrained: bool = False

    def __init__(self, model: nn.Module, trainable: bool = True) -> None:
        self.model = model
        self.d_model: nn.Module = model
        self.trainable = trainable
        self.grad_clip: float | None = None
        if not trainable:
            model.requires_grad_(False)
            model.eval()

    @property
    def loss_key(self) -> str:
        """The log key of its loss, ``<log_prefix>_loss`` (``d_loss`` for the multi-scale D)."""
        return f"{self.log_prefix}_loss"

    @abstractmethod
    def d_loss(
        self, context: Tensor, real_scales: list[Tensor], fake_scales: list[Tensor], label_rng: torch.Generator
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """D's loss, a scalar, on real clips and (detached) predictions, and what to log: 0-d
        detached tensors, its loss under :attr:`loss_key` and its accuracies under
        ``<log_prefix>_acc...``. ``label_rng`` draws the noisy labels of a BCE objective."""

    @abstractmethod
    def g_loss(self, context: Tensor, pred_scales: list[Tensor]) -> Tensor:
        """G's adversarial loss, a scalar, on its predictions (gradients flow through the fixed D)."""


def _labels(logits: Tensor, bounds: list[float], rng: torch.Generator) -> float | Tensor:
    """A constant label, or per-sample labels drawn uniformly in ``bounds`` (the sharper-predictions article's smoothing/noise)."""
    low, high = bounds
    return low if low == high else sample_labels(logits, low, high, generator=rng)


def _accuracy_logs(prefix: str, real_logits: Tensor | list[Tensor],
                   fake_logits: Tensor | list[Tensor]) -> dict[str, Tensor]:
    """``<prefix>_acc_real``, ``<prefix>_acc_fake``, ``<prefix>_acc`` and ``<prefix>_gap`` for the logs."""
    return {f"{prefix}_{key}": value for key, value in discriminator_accuracy(real_logits, fake_logits).items()}


def _frames(clip: Tensor) -> Tensor:
    """``(B, C, T, H, W)`` -> ``(T*B, C, H, W)``, time-major (all clips' step 1, then step 2, ...)."""
    return torch.cat(clip.unbind(dim=2), dim=0)


class MultiScaleAdversary(Adversary):
    """The paper's conditional multi-scale D, trained with BCE (optionally smoothed or noisy
    labels) or the hinge loss, summed over its scales.

    Args:
        model: the discriminator.
        real_label, fake_label: ``[low, high]`` label ranges (``[1, 1]`` and ``[0, 0]`` plain);
            BCE only.
        objective: ``"bce"`` (the paper's) or ``"hinge"`` (the CogVideo loss notes'), summed over scales.
        r1_weight: weight of the R1 penalty (zero-centred gradient penalty, Mescheder et al.
            2018) on the real frames, summed over scales; 0 turns it off and skips the
            double backward.
    """

    name, log_prefix, state_key, opt_key = "multiscale", "d", "discriminator", "opt_d"

    def __init__(self, model: MultiScaleDiscriminator, real_label: list[float], fake_label: list[float],
                 objective: str = "bce", r1_weight: float = 0.0) -> None:
        super().__init__(model)
        if objective not in ("bce", "hinge"):
            raise ValueError(f"objective must be 'bce' or 'hinge', got {objective!r}")
        self.real_label, self.fake_label = real_label, fake_label
        self.objective = objective
        self.r1_weight = r1_weight

    def inputs(self, context: Tensor, future_scales: list[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
        """Inputs of the conditional discriminator for every predicted step.

        Step t is judged with the n_context frames before it (real context, then earlier
        predicted or real frames) and the frame itself at each of D's scales; steps are
        stacked along the batch.

        Returns:
            per D scale: contexts ``(n_future*B, C, n_context, h, w)``, frames ``(n_future*B, C, h, w)``.
        """
        n_context, n_future = context.shape[2], future_scales[-1].shape[2]
        n_scales = self.model.n_scales
        sequence = torch.cat([context, future_scales[-1]], dim=2)  # (B, C, n_context + n_future, H, W)
        windows = torch.cat([sequence[:, :, t : t + n_context] for t in range(n_future)], dim=0)
        frames = [_frames(scale) for scale in future_scales[-n_scales:]]
        return pyramid(windows, n_scales), frames

    def d_loss(self, context, real_scales, fake_scales, label_rng):
        real_ctx, real_frames = self.inputs(context, real_scales)
        if self.r1_weight > 0:  # the penalty differentiates D at the real frames
            real_frames = [frame.detach().requires_grad_() for frame in real_frames]
        fake_ctx, fake_frames = self.inputs(context, fake_scales)
        # One forward pass over real and fake together (also what DDP wants).
        logits = self.d_model(
            [torch.cat(pair) for pair in zip(real_ctx, fake_ctx)],
            [torch.cat(pair) for pair in zip(real_frames, fake_frames)],
        )
        n = real_frames[0].shape[0]
        real_logits, fake_logits = [l[:n] for l in logits], [l[n:] for l in logits]
        if self.objective == "hinge":
            loss = sum(hinge_d_loss(real, fake) for real, fake in zip(real_logits, fake_logits))
        else:
            real_target = [_labels(l, self.real_label, label_rng) for l in real_logits]
            fake_target = [_labels(l, self.fake_label, label_rng) for l in fake_logits]
            loss = bce_d_loss(real_logits, fake_logits, real_target=real_target, fake_target=fake_target)
        logs = {}
        if self.r1_weight > 0:
            penalty = sum(gradient_penalty(logit, frame, center=0.0) for logit, frame in zip(real_logits, real_frames))
            logs["d_r1"] = penalty.detach()
            loss = loss + self.r1_weight * penalty
        return loss, {
            **logs,
            self.loss_key: loss.detach(),
            "d_real": torch.stack([torch.sigmoid(l.detach()).mean() for l in real_logits]).mean(),
            "d_fake": torch.stack([torch.sigmoid(l.detach()).mean() for l in fake_logits]).mean(),
            **_accuracy_logs("d", real_logits, fake_logits),
            # Per scale, coarsest first: a coarse scale may sit at chance while the finest learns.
            **{f"d_acc_s{k}": discriminator_accuracy(real, fake)["acc"]
               for k, (real, fake) in enumerate(zip(real_logits, fake_logits))},
        }

    def g_loss(self, context, pred_scales):
        logits = self.model(*self.inputs(context, pred_scales))
        return sum(hinge_g_loss(l) for l in logits) if self.objective == "hinge" else bce_g_loss(logits)

    def contrastive_loss(self, context: Tensor, pred_scales: list[Tensor], real_scales: list[Tensor],
                         temperature: float) -> Tensor:
        """:func:`~vidpred.losses.contrastive.info_nce` between D's hidden features of each
        prediction and of its true frame, mean over D's scales. The rows are :meth:`inputs`'
        (every predicted step of every clip, each with its own context window), so a
        prediction's negatives are the other clips' true steps and, with ``n_future >= 2``,
        its own clip's other true steps: a different window and frame, the hardest negatives.
        The true frames' features carry no gradient."""
        pred_features = self.model.features(*self.inputs(context, pred_scales))
        with torch.no_grad():
            real_features = self.model.features(*self.inputs(context, real_scales))
        losses = [info_nce(p, r, temperature) for p, r in zip(pred_features, real_features)]
        return sum(losses) / len(losses)


class BlurAdversary(Adversary):
    """Pretrained blur detector judging every predicted frame (the sharper-predictions article).

    Frozen, it only scores the generator (``g_loss``: BCE of its "sharp" verdict). Trainable,
    it keeps learning with real frames as sharp and predictions as the blurred class.
    """

    name, log_prefix, state_key, opt_key = "blur", "d_blur", "blur_discriminator", "opt_blur"
    pretrained = True

    def __init__(
        self, model: BlurDiscriminator, trainable: bool, real_label: list[float], fake_label: list[float]
    ) -> None:
        super().__init__(model, trainable)
        self.real_label, self.fake_label = real_label, fake_label

    def d_loss(self, context, real_scales, fake_scales, label_rng):
        real, fake = _frames(real_scales[-1]), _frames(fake_scales[-1])  # (n_future*B, C, H, W)
        logits = self.d_model(torch.cat([real, fake]))
        real_logits, fake_logits = logits[: len(real)], logits[len(real) :]
        loss = bce_d_loss(
            [real_logits],
            [fake_logits],
            real_target=[_labels(real_logits, self.real_label, label_rng)],
            fake_target=[_labels(fake_logits, self.fake_label, label_rng)],
        )
        return loss, {
            self.loss_key: loss.detach(),
            "d_blur_real": torch.sigmoid(real_logits.detach()).mean(),
            "d_blur_fake": torch.sigmoid(fake_logits.detach()).mean(),
            **_accuracy_logs("d_blur", real_logits, fake_logits),
        }

    def g_loss(self, context, pred_scales):
        return bce_g_loss([self.model(_frames(pred_scales[-1]))])


class SpatioTemporalAdversary(Adversary):
    """3D clip discriminator with the hinge loss and a gradient penalty on real clips (the CogVideo loss notes).

    Args:
        model: the discriminator, built for ``n_context + n_future`` frames.
        gp_weight: weight of :func:`~vidpred.losses.gradient_penalty.gradient_penalty`
            in D's loss (0 turns it off and skips the double backward).
        gp_center: the gradient norm it pulls to: 1 (the CogVideo loss notes) or 0 (R1).
    """

    name, log_prefix, state_key, opt_key = "spatiotemporal", "d_st", "spatiotemporal_discriminator", "opt_st"

    def __init__(self, model: SpatioTemporalDiscriminator, gp_weight: float, gp_center: float = 1.0) -> None:
        super().__init__(model)
        self.gp_weight = gp_weight
        self.gp_center = gp_center

    def d_loss(self, context, real_scales, fake_scales, label_rng):
        real = torch.cat([context, real_scales[-1]], dim=2)  # (B, C, n_context + n_future, H, W)
        fake = torch.cat([context, fake_scales[-1]], dim=2)
        real.requires_grad_(self.gp_weight > 0)  # the penalty differentiates D at the real clips
        logits = self.d_model(torch.cat([real, fake]))
        real_logits, fake_logits = logits[: len(real)], logits[len(real) :]
        hinge = hinge_d_loss(real_logits, fake_logits)
        logs = {
            "d_st_real": real_logits.detach().mean(),
            "d_st_fake": fake_logits.detach().mean(),
            **_accuracy_logs("d_st", real_logits, fake_logits),
        }
        loss = hinge
        if self.gp_weight > 0:
            penalty = gradient_penalty(real_logits, real, center=self.gp_center)
            loss = hinge + self.gp_weight * penalty
            logs["d_st_gp"] = penalty.detach()
        logs[self.loss_key] = loss.detach()
        return loss, logs

    def g_loss(self, context, pred_scales):
        return hinge_g_loss(self.model(torch.cat([context, pred_scales[-1]], dim=2)))

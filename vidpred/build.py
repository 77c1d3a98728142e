"""The one place that turns a :class:`~vidpred.config.Config` into objects."""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass

import torch
from torch import nn

from vidpred.adversaries import Adversary, BlurAdversary, MultiScaleAdversary, SpatioTemporalAdversary
from vidpred.config import Config, ConfigError, OptimizerConfig
from vidpred.models.blur_discriminator import BlurDiscriminator, load_blur_discriminator
from vidpred.models.discriminator import MultiScaleDiscriminator, smallest_valid_patch
from vidpred.models.generator import MultiScaleGenerator
from vidpred.models.refiner import REFINER_WIDTH, FlowRefiner
from vidpred.models.perceptual_networks import LPIPS_MIN_SIZE, VGG19_LAYERS, VGG19Features, build_lpips
from vidpred.models.spatiotemporal_discriminator import SpatioTemporalDiscriminator
from vidpred.models.init import he_init_
from vidpred.models.spectral_norm import apply_spectral_norm

log = logging.getLogger(__name__)


def select_device(name: str) -> torch.device:
    """``auto`` picks CUDA when available, else the CPU; anything else must exist."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ConfigError(f"train.device: {exc}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"train.device: '{name}' requested but CUDA is not available here")
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"train.device: '{name}' is not supported; use auto, cpu, cuda or cuda:N")
    return device


def build_generator(cfg: Config) -> MultiScaleGenerator | FlowRefiner:
    g = cfg.model.generator
    if g.head == "refiner":
        return FlowRefiner(n_context=cfg.model.n_context, channels=cfg.model.channels, n_flows=g.n_flows,
                           scale=g.working_scale, width=max(1, round(REFINER_WIDTH * g.width)),
                           max_correction=g.max_correction)
    return MultiScaleGenerator(
        n_context=cfg.model.n_context,
        channels=cfg.model.channels,
        n_scales=cfg.model.generator.n_scales,
        width=cfg.model.generator.width,
        head=cfg.model.generator.head,
    )


def build_discriminator(cfg: Config) -> MultiScaleDiscriminator | None:
    d = cfg.model.discriminator
    if not d.enabled:
        return None
    if d.n_scales > cfg.model.generator.n_scales:
        raise ConfigError(
            f"model.discriminator.n_scales ({d.n_scales}) cannot exceed "
            f"model.generator.n_scales ({cfg.model.generator.n_scales}): D judges G's scales"
        )
    model = MultiScaleDiscriminator(
        n_context=cfg.model.n_context,
        channels=cfg.model.channels,
        patch_size=cfg.data.patch_size,
        n_scales=d.n_scales,
        width=d.width,
        leaky_slope=d.leaky_slope,
        padding=d.padding,
        inputs=d.inputs,
    )
    if d.init == "he":
        he_init_(model, d.leaky_slope)
    return apply_spectral_norm(model) if d.spectral_norm else model


def build_blur_discriminator(cfg: Config) -> BlurDiscriminator | None:
    """The pretrained blur detector named by ``model.blur_discriminator.checkpoint``, or None.

    Raises:
        FileNotFoundError: naming the missing file and ``scripts/pretrain_blur_discriminator.py``.
    """
    b = cfg.model.blur_discriminator
    if not b.enabled:
        return None
    model, meta = load_blur_discriminator(b.checkpoint)
    if model.channels != cfg.model.channels:
        raise ConfigError(
            f"model.blur_discriminator.checkpoint {b.checkpoint} was trained on {model.channels}-channel "
            f"frames, model.channels is {cfg.model.channels}"
        )
    accuracy = meta.get("accuracy", {})
    log.info(
        "blur discriminator from %s (%s; held-out accuracy %s), %s",
        b.checkpoint,
        meta.get("training", {}).get("source", "?"),
        ", ".join(f"{k} {v:.3f}" for k, v in accuracy.items()) or "unknown",
        "frozen" if b.frozen else "trained adversarially",
    )
    return model


def build_spatiotemporal_discriminator(cfg: Config) -> SpatioTemporalDiscriminator | None:
    s = cfg.model.spatiotemporal_discriminator
    if not s.enabled:
        return None
    model = SpatioTemporalDiscriminator(
        channels=cfg.model.channels,
        n_frames=cfg.model.n_context + cfg.train.n_future,
        size=cfg.data.patch_size,
        width=s.width,
        n_3d=s.n_3d,
        n_2d=s.n_2d,
        attention=s.attention,
        leaky_slope=s.leaky_slope,
    )
    if s.init == "he":
        he_init_(model, s.leaky_slope)
    return apply_spectral_norm(model) if s.spectral_norm else model


def build_adversaries(cfg: Config, device: torch.device) -> list[Adversary]:
    """Every enabled discriminator, wrapped with how it is fed and scored, on ``device``,
    each holding its optimizer's ``grad_clip``.

    Order (fixed, so logs and checkpoints are stable): multi-scale, blur, spatio-temporal.
    """
    adversaries: list[Adversary] = []
    multiscale = build_discriminator(cfg)
    if multiscale is not None:
        adversaries.append(MultiScaleAdversary(multiscale.to(device), cfg.loss.real_label, cfg.loss.fake_label,
                                               objective=cfg.model.discriminator.objective,
                                               r1_weight=cfg.loss.r1_weight))
    blur = build_blur_discriminator(cfg)
    if blur is not None:
        adversaries.append(
            BlurAdversary(
                blur.to(device),
                trainable=not cfg.model.blur_discriminator.frozen,
                real_label=cfg.loss.real_label,
                fake_label=cfg.loss.fake_label,
            )
        )
    spatiotemporal = build_spatiotemporal_discriminator(cfg)
    if spatiotemporal is not None:
        adversaries.append(SpatioTemporalAdversary(spatiotemporal.to(device), gp_weight=cfg.loss.gp_weight,
                                                   gp_center=cfg.loss.gp_center))
    for adversary in adversaries:
        adversary.grad_clip = adversary_optimizer_config(cfg, adversary)[0].grad_clip
    return adversaries


def adversary_optimizer_config(cfg: Config, adversary: Adversary) -> tuple[OptimizerConfig, str]:
    """Each discriminator's own optimizer settings and their config key."""
    key = {
        "multiscale": "discriminator",
        "blur": "blur_discriminator",
        "spatiotemporal": "spatiotemporal_discriminator",
    }[adversary.name]
    return getattr(cfg.optim, key), f"optim.{key}"


def build_perceptual_networks(cfg: Config, device: torch.device) -> dict[str, nn.Module]:
    """Frozen ImageNet networks for the perceptual terms whose weight is non-zero.

    Returns ``{"vgg": VGG19Features, "lpips": lpips.LPIPS}`` (only the enabled ones).
    They are never trained: keep them out of optimizers and DDP.

    Raises:
        MissingWeightsError: naming the torchvision cache file that is missing.
    """
    networks: dict[str, nn.Module] = {}
    if cfg.loss.l_vgg != 0:
        networks["vgg"] = VGG19Features(cfg.loss.vgg_layers, pretrained=True).to(device)
    if cfg.loss.l_lpips != 0:
        networks["lpips"] = build_lpips(cfg.loss.lpips_net, pretrained=True).to(device)
    return networks


@dataclass
class TrainingNetworks:
    """Everything a run trains or consults, built from one config.

    Attributes:
        generator: the generator, in training.
        generator_ema: the moving average of its weights (``train.ema_decay``; None when
            off): what validation scores and users load.
        adversaries: the enabled discriminators (:func:`build_adversaries`).
        opt_g: the generator's optimizer.
        d_optimizers: each trainable discriminator's optimizer, by adversary name; a
            frozen judge has none.
        perceptual: the frozen ImageNet networks of the perceptual terms
            (:func:`build_perceptual_networks`), never in an optimizer.
    """

    generator: MultiScaleGenerator
    generator_ema: MultiScaleGenerator | None
    adversaries: list[Adversary]
    opt_g: torch.optim.Optimizer
    d_optimizers: dict[str, torch.optim.Optimizer]
    perceptual: dict[str, nn.Module]

    def state_dict(self) -> dict:
        """Weights and optimizer states under the checkpoint's keys: ``generator``,
        ``generator_ema`` (when on), ``opt_g``, and each adversary's ``state_key`` and
        (when trained) ``opt_key``. The frozen perceptual networks are not saved."""
        state = {"generator": self.generator.state_dict(), "opt_g": self.opt_g.state_dict()}
        if self.generator_ema is not None:
            state["generator_ema"] = self.generator_ema.state_dict()
        for adversary in self.adversaries:
            # Frozen judges too: a resumed run must not depend on the pretrained file being unchanged.
            state[adversary.state_key] = adversary.model.state_dict()
            if adversary.trainable:
                state[adversary.opt_key] = self.d_optimizers[adversary.name].state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` saved (extra keys in ``state`` are ignored)."""
        self.generator.load_state_dict(state["generator"])
        if self.generator_ema is not None:
            self.generator_ema.load_state_dict(state["generator_ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        for adversary in self.adversaries:
            adversary.model.load_state_dict(state[adversary.state_key])
            if adversary.trainable:
                self.d_optimizers[adversary.name].load_state_dict(state[adversary.opt_key])


def build_training_networks(cfg: Config, device: torch.device) -> TrainingNetworks:
    """The networks and optimizers of a run, on ``device``; seed torch's generator first for
    reproducible initial weights (they are drawn in the order of the fields)."""
    generator = build_generator(cfg).to(device)
    generator_ema = None
    if cfg.train.ema_decay is not None:
        generator_ema = copy.deepcopy(generator).requires_grad_(False).eval()
    adversaries = build_adversaries(cfg, device)
    opt_g = build_optimizer(generator.parameters(), cfg.optim.generator, "optim.generator")
    d_optimizers = {
        adversary.name: build_optimizer(adversary.model.parameters(), *adversary_optimizer_config(cfg, adversary))
        for adversary in adversaries
        if adversary.trainable
    }
    perceptual = build_perceptual_networks(cfg, device)
    log.info("networks: generator %.2fM parameters%s", count_parameters(generator) / 1e6, "".join(
        f", {a.name} discriminator {count_parameters(a.model) / 1e6:.2f}M{'' if a.trainable else ' (frozen)'}"
        for a in adversaries))
    return TrainingNetworks(generator, generator_ema, adversaries, opt_g, d_optimizers, perceptual)


def build_optimizer(params, cfg: OptimizerConfig, key: str) -> torch.optim.Optimizer:
    params = [p for p in params if p.requires_grad]
    if cfg.name == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.name == "adam":
        if len(cfg.betas) != 2:
            raise ConfigError(f"{key}.betas: expected two numbers, got {cfg.betas}")
        return torch.optim.Adam(params, lr=cfg.lr, betas=tuple(cfg.betas), weight_decay=cfg.weight_decay)
    raise ConfigError(f"{key}.name: unknown optimizer {cfg.name!r}")  # Literal already guards this


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _check_ranges(cfg: Config) -> None:
    """Values outside what a run can use: one line naming the key."""
    m, d, t = cfg.model, cfg.data, cfg.train
    minimum = {
        "model.n_context": (m.n_context, 1), "model.channels": (m.channels, 1),
        "model.generator.n_scales": (m.generator.n_scales, 1),
        "model.discriminator.n_scales": (m.discriminator.n_scales, 1),
        "data.patch_size": (d.patch_size, 1), "data.n_val_clips": (d.n_val_clips, 1),
        "data.max_tries": (d.max_tries, 1), "data.num_workers": (d.num_workers, 0),
        "data.n_val_videos": (d.n_val_videos, 1), "train.steps": (t.steps, 1),
        "model.spatiotemporal_discriminator.n_3d": (m.spatiotemporal_discriminator.n_3d, 1),
        "model.spatiotemporal_discriminator.n_2d": (m.spatiotemporal_discriminator.n_2d, 0),
    }
    for key, (value, low) in minimum.items():
        if value < low:
            hint = " (validation needs held-out clips)" if key in ("data.n_val_clips", "data.n_val_videos") else ""
            raise ConfigError(f"{key} must be >= {low}, got {value}{hint}")
    if d.source == "procedural":
        p = d.procedural
        lowest = {"n_train_videos": (p.n_train_videos, 1), "n_val_videos": (p.n_val_videos, 1),
                  "n_test_videos": (p.n_test_videos, 0), "n_frames": (p.n_frames, 1), "height": (p.height, 1),
                  "width": (p.width, 1), "n_objects": (p.n_objects, 0)}
        for key, (value, low) in lowest.items():
            if value < low:
                hint = {"n_train_videos": " (training needs videos)",
                        "n_val_videos": " (validation needs held-out videos)"}.get(key, "")
                raise ConfigError(f"data.procedural.{key} must be >= {low}, got {value}{hint}")
        if min(p.height, p.width) < d.patch_size:
            raise ConfigError(f"data.procedural.height and width ({p.height}x{p.width}) must be >= data.patch_size "
                              f"({d.patch_size})")
    if d.val_videos is not None and not d.val_videos:
        raise ConfigError("data.val_videos is empty: name the held-out videos, or set it to null to hold out "
                          "data.n_val_videos of them")
    if d.max_frames_per_video is not None and d.max_frames_per_video < 1:
        raise ConfigError(f"data.max_frames_per_video must be >= 1 or null, got {d.max_frames_per_video}")
    for key, value in (("model.generator.width", m.generator.width), ("model.discriminator.width", m.discriminator.width),
                       ("model.spatiotemporal_discriminator.width", m.spatiotemporal_discriminator.width)):
        if not value > 0:
            raise ConfigError(f"{key} must be > 0, got {value}")
    for name in ("generator", "discriminator", "blur_discriminator", "spatiotemporal_discriminator"):
        opt = getattr(cfg.optim, name)
        if not (math.isfinite(opt.lr) and opt.lr >= 0):
            raise ConfigError(f"optim.{name}.lr must be a finite number >= 0, got {opt.lr}")
        if opt.momentum < 0 or opt.weight_decay < 0 or (opt.grad_clip is not None and opt.grad_clip <= 0):
            raise ConfigError(f"optim.{name}: momentum and weight_decay must be >= 0 and grad_clip > 0 or null")
    if d.motion_threshold < 0 or not 0 <= d.unfiltered_fraction <= 1:
        raise ConfigError("data.motion_threshold must be >= 0 and data.unfiltered_fraction in [0, 1]")
    if d.d_unfiltered_fraction is not None and not 0 <= d.d_unfiltered_fraction <= 1:
        raise ConfigError(f"data.d_unfiltered_fraction must be in [0, 1] or null, got {d.d_unfiltered_fraction}")
    _check_synthetic(cfg)


def _check_synthetic(cfg: Config) -> None:
    """``data.synthetic`` and ``data.synthetic_weight``: one line naming the key."""
    d, syn = cfg.data, cfg.data.synthetic
    if not 0 <= d.synthetic_weight <= 1:
        raise ConfigError(f"data.synthetic_weight must be in [0, 1], got {d.synthetic_weight}")
    minimum = {"n_videos": 0, "n_frames": 1, "height": 8, "width": 8, "seed": 0, "max_speed": 0, "max_layers": 0,
               "max_zoom": 0, "max_rotation": 0, "max_shake": 0, "max_noise": 0}
    for name, low in minimum.items():
        if getattr(syn, name) < low:
            raise ConfigError(f"data.synthetic.{name} must be >= {low}, got {getattr(syn, name)}")
    for name in ("still_fraction", "jpeg_fraction"):
        if not 0 <= getattr(syn, name) <= 1:
            raise ConfigError(f"data.synthetic.{name} must be in [0, 1], got {getattr(syn, name)}")
    if d.synthetic_weight == 0:
        return
    if syn.n_videos < 1:
        raise ConfigError(f"data.synthetic_weight is {d.synthetic_weight} but data.synthetic.n_videos is 0: "
                          "set how many synthetic videos to generate")
    if min(syn.height, syn.width) < d.patch_size:
        raise ConfigError(f"data.synthetic.height and width ({syn.height}x{syn.width}) must be >= data.patch_size "
                          f"({d.patch_size})")
    n_frames = cfg.model.n_context + cfg.train.n_future
    if syn.n_frames < n_frames:
        raise ConfigError(f"data.synthetic.n_frames ({syn.n_frames}) must be >= model.n_context + train.n_future "
                          f"({n_frames})")


def validate_config(cfg: Config) -> None:
    """Cross-field checks the type system cannot express."""
    _check_ranges(cfg)
    g = cfg.model.generator
    factor = 2 ** (g.n_scales - 1)
    if cfg.data.patch_size % factor:
        raise ConfigError(
            f"data.patch_size ({cfg.data.patch_size}) must be divisible by 2**(n_scales-1) = {factor}"
        )
    d_scales = cfg.model.discriminator.n_scales
    d_padding = cfg.model.discriminator.padding
    if cfg.model.discriminator.enabled and d_padding == "same" and cfg.data.patch_size % 2**d_scales:
        raise ConfigError(
            f"data.patch_size ({cfg.data.patch_size}) must be divisible by 2**n_scales = {2**d_scales} "
            "of the discriminator (it pools once after its finest-scale convolutions)"
        )
    if cfg.model.discriminator.enabled and d_padding == "valid" and cfg.data.patch_size < smallest_valid_patch(d_scales):
        raise ConfigError(
            f"data.patch_size ({cfg.data.patch_size}) is too small for the unpadded convolutions of "
            f"model.discriminator (padding: valid, {d_scales} scales): the smallest that works is "
            f"{smallest_valid_patch(d_scales)}"
        )
    if cfg.train.ema_decay is not None and not 0 < cfg.train.ema_decay < 1:
        raise ConfigError(f"train.ema_decay: expected a decay in (0, 1) or null, got {cfg.train.ema_decay}")
    if cfg.train.max_minutes is not None and cfg.train.max_minutes <= 0:
        raise ConfigError(f"train.max_minutes: expected minutes > 0 or null, got {cfg.train.max_minutes}")
    if cfg.train.chance_warning_steps < 0 or not 0 <= cfg.train.chance_accuracy <= 1:
        raise ConfigError("train.chance_warning_steps must be >= 0 and train.chance_accuracy in [0, 1]")
    if cfg.train.n_future < 1 or cfg.train.val_n_future < 1:
        raise ConfigError("train.n_future and train.val_n_future must be >= 1")
    if g.head == "refiner":
        if g.n_scales != 1:
            raise ConfigError(f"model.generator.n_scales must be 1 with the refiner head (one output scale), got {g.n_scales}")
        if not 1 <= g.n_flows < cfg.model.n_context:
            raise ConfigError(f"model.generator.n_flows must be in [1, model.n_context - 1], got {g.n_flows}")
        if not g.max_correction >= 0:
            raise ConfigError(f"model.generator.max_correction must be >= 0, got {g.max_correction}")
        if g.working_scale < 1 or g.working_scale & (g.working_scale - 1):
            raise ConfigError(f"model.generator.working_scale must be a power of 2, got {g.working_scale}")
        if cfg.model.channels not in (1, 3):
            raise ConfigError("the refiner head needs grey or RGB frames (model.channels 1 or 3) for optical flow")
    for key in ("real_label", "fake_label"):
        pair = getattr(cfg.loss, key)
        if len(pair) != 2 or pair[0] > pair[1]:
            raise ConfigError(f"loss.{key}: expected [low, high] with low <= high, got {pair}")
    bce_trained = (cfg.model.discriminator.enabled and cfg.model.discriminator.objective == "bce") or \
        (cfg.model.blur_discriminator.enabled and not cfg.model.blur_discriminator.frozen)
    if (cfg.loss.real_label != [1.0, 1.0] or cfg.loss.fake_label != [0.0, 0.0]) and not bce_trained:
        raise ConfigError("loss.real_label and loss.fake_label smooth the labels of a BCE discriminator's "
                          "updates, and none is trained here (a hinge objective has no labels)")
    if cfg.loss.p not in (1, 2):
        raise ConfigError(f"loss.p: expected 1 or 2, got {cfg.loss.p}")
    if cfg.data.frame_size is not None and len(cfg.data.frame_size) != 2:
        raise ConfigError(f"data.frame_size: expected [H, W], got {cfg.data.frame_size}")
    if cfg.data.frame_height is not None and (cfg.data.frame_height < 1 or cfg.data.frame_size is not None):
        raise ConfigError("data.frame_height: expected a height >= 1, and frame_size null (they exclude each other)")
    if cfg.data.cut_ratio is not None and cfg.data.cut_ratio <= 1:
        raise ConfigError(f"data.cut_ratio: expected a ratio > 1 or null, got {cfg.data.cut_ratio}")
    if cfg.data.source in ("folder", "ucf101") and not cfg.data.root:
        raise ConfigError(f"data.root is required when data.source is '{cfg.data.source}'")
    for key in ("log_every", "val_every", "ckpt_every", "sample_every", "batch_size"):
        if getattr(cfg.train, key) < 1:
            raise ConfigError(f"train.{key} must be >= 1")
    st = cfg.model.spatiotemporal_discriminator
    if st.enabled:
        factor = 2 ** (st.n_3d + st.n_2d)
        if st.n_3d < 1 or st.n_2d < 0:
            raise ConfigError("model.spatiotemporal_discriminator: n_3d must be >= 1 and n_2d >= 0")
        if cfg.data.patch_size % factor or cfg.data.patch_size // factor < 2:
            raise ConfigError(
                f"data.patch_size ({cfg.data.patch_size}) must be divisible by 2**(n_3d + n_2d) = {factor} "
                "of model.spatiotemporal_discriminator and leave at least 2x2 positions"
            )
    loss = cfg.loss
    for key in ("gp_weight", "gp_center", "r1_weight", "l_vgg", "l_lpips", "l_nce"):
        if getattr(loss, key) < 0:
            raise ConfigError(f"loss.{key} must be >= 0, got {getattr(loss, key)}")
    if loss.l_nce and not cfg.model.discriminator.enabled:
        raise ConfigError("loss.l_nce uses the multi-scale discriminator's features: set model.discriminator.enabled")
    if loss.l_nce and (loss.nce_temperature <= 0 or cfg.train.batch_size < 2):
        raise ConfigError(f"loss.l_nce needs loss.nce_temperature > 0 and train.batch_size >= 2 (the other clips are "
                          f"the negatives), got {loss.nce_temperature} and {cfg.train.batch_size}")
    if loss.disc_start < 0:
        raise ConfigError(f"loss.disc_start must be >= 0, got {loss.disc_start}")
    if loss.adaptive_max <= 0:
        raise ConfigError(f"loss.adaptive_max must be > 0, got {loss.adaptive_max}")
    if (loss.l_vgg or loss.l_lpips) and cfg.model.channels != 3:
        raise ConfigError("loss.l_vgg and loss.l_lpips need RGB frames (model.channels: 3)")
    if loss.l_lpips and cfg.data.patch_size < LPIPS_MIN_SIZE[loss.lpips_net]:
        raise ConfigError(
            f"loss.lpips_net {loss.lpips_net!r} needs frames of at least {LPIPS_MIN_SIZE[loss.lpips_net]} pixels, "
            f"data.patch_size is {cfg.data.patch_size}; use {', '.join(k for k, v in LPIPS_MIN_SIZE.items() if v <= cfg.data.patch_size) or 'a larger patch'}"
        )
    unknown = [name for name in loss.vgg_layers if name not in VGG19_LAYERS]
    if unknown or not loss.vgg_layers:
        raise ConfigError(f"loss.vgg_layers: unknown layers {unknown}; choose from {', '.join(VGG19_LAYERS)}")
    if loss.adaptive_weight and not any((loss.l_p, loss.l_gdl, loss.l_path, loss.l_vgg, loss.l_lpips)):
        raise ConfigError("loss.adaptive_weight needs a reconstruction term (l_p, l_gdl, l_path, l_vgg or l_lpips)")

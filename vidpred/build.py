"""The one place that turns a :class:`~vidpred.config.Config` into objects."""

from __future__ import annotations

import logging

import torch
from torch import nn

from vidpred.config import Config, ConfigError, OptimizerConfig
from vidpred.models.discriminator import MultiScaleDiscriminator
from vidpred.models.generator import MultiScaleGenerator

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


def build_generator(cfg: Config) -> MultiScaleGenerator:
    return MultiScaleGenerator(
        n_context=cfg.model.n_context,
        channels=cfg.model.channels,
        n_scales=cfg.model.generator.n_scales,
        width=cfg.model.generator.width,
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
    return MultiScaleDiscriminator(
        n_context=cfg.model.n_context,
        channels=cfg.model.channels,
        patch_size=cfg.data.patch_size,
        n_scales=d.n_scales,
        width=d.width,
        leaky_slope=d.leaky_slope,
    )


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


def validate_config(cfg: Config) -> None:
    """Cross-field checks the type system cannot express."""
    g = cfg.model.generator
    factor = 2 ** (g.n_scales - 1)
    if cfg.data.patch_size % factor:
        raise ConfigError(
            f"data.patch_size ({cfg.data.patch_size}) must be divisible by 2**(n_scales-1) = {factor}"
        )
    d_scales = cfg.model.discriminator.n_scales
    if cfg.model.discriminator.enabled and cfg.data.patch_size % 2**d_scales:
        raise ConfigError(
            f"data.patch_size ({cfg.data.patch_size}) must be divisible by 2**n_scales = {2**d_scales} "
            "of the discriminator (it pools once after its finest-scale convolutions)"
        )
    if cfg.train.n_future < 1 or cfg.train.val_n_future < 1:
        raise ConfigError("train.n_future and train.val_n_future must be >= 1")
    for key in ("real_label", "fake_label"):
        pair = getattr(cfg.loss, key)
        if len(pair) != 2 or pair[0] > pair[1]:
            raise ConfigError(f"loss.{key}: expected [low, high] with low <= high, got {pair}")
    if cfg.loss.p not in (1, 2):
        raise ConfigError(f"loss.p: expected 1 or 2, got {cfg.loss.p}")
    if cfg.data.frame_size is not None and len(cfg.data.frame_size) != 2:
        raise ConfigError(f"data.frame_size: expected [H, W], got {cfg.data.frame_size}")
    if cfg.data.source in ("folder", "ucf101") and not cfg.data.root:
        raise ConfigError(f"data.root is required when data.source is '{cfg.data.source}'")
    for key in ("log_every", "val_every", "ckpt_every", "sample_every", "batch_size"):
        if getattr(cfg.train, key) < 1:
            raise ConfigError(f"train.{key} must be >= 1")

"""The one place that turns a :class:`~vidpred.config.Config` into objects.

It trusts the config's values: :func:`vidpred.config.validate` checked them.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass

import torch
from torch import nn

from vidpred.adversaries import Adversary, BlurAdversary, MultiScaleAdversary, SpatioTemporalAdversary
from vidpred.config import Config, ConfigError, OptimizerConfig
from vidpred.models.blur_discriminator import BlurDiscriminator, load_blur_discriminator
from vidpred.models.discriminator import MultiScaleDiscriminator
from vidpred.models.generator import MultiScaleGenerator
from vidpred.models.refiner import REFINER_WIDTH, FlowRefiner
from vidpred.models.perceptual_networks import MissingWeightsError, UnusableWeightsError, VGG19Features, build_lpips
from vidpred.models.spatiotemporal_discriminator import SpatioTemporalDiscriminator
from vidpred.models.init import he_init_
from vidpred.models.spectral_norm import apply_spectral_norm

log = logging.getLogger(__name__)


def select_device(name: str, option: str = "train.device") -> torch.device:
    """The device ``name`` names: ``auto`` picks CUDA when available, else the CPU; ``cpu``,
    ``cuda`` or ``cuda:N`` must exist here. ``option`` names the setting in an error
    (``--device`` for a command's flag).

    Raises:
        ConfigError: an unknown or unsupported device, or CUDA (or GPU N) not on this machine.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:  # torch's message lists every device type it knows
        raise ConfigError(f"{option}: unknown device '{name}'; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"{option}: '{name}' requested but CUDA is not available here")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ConfigError(f"{option}: '{name}' requested but this machine has {torch.cuda.device_count()} GPU(s), "
                          "numbered from 0")
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"{option}: '{name}' is not supported; use auto, cpu, cuda or cuda:N")
    return device


def synchronize(device: torch.device) -> None:
    """Wait for the work queued on ``device``: CUDA runs kernels after the call that launched
    them returns, so a clock read without it charges them to whatever waits next. A no-op on
    the CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def build_generator(cfg: Config) -> MultiScaleGenerator | FlowRefiner:
    """The generator ``model.generator.head`` names: the refiner, a model of its own, or the
    paper's pyramid with one of its heads (``pixels``, ``residual``, ``flow``)."""
    g = cfg.model.generator
    if g.head == "refiner":
        return FlowRefiner(n_context=cfg.model.n_context, channels=cfg.model.channels, n_flows=g.n_flows,
                           scale=g.working_scale, width=max(1, round(REFINER_WIDTH * g.width)),
                           max_correction=g.max_correction, global_context=g.global_context,
                           farneback=g.farneback, step_scale=g.step_scale, rollout=g.rollout,
                           camera_still=g.camera_still, refine_flows=g.refine_flows,
                           projected=g.projected, scene_cuts=g.scene_cuts, repeated_frames=g.repeated_frames,
                           fades=g.fades, skipped_frames=g.skipped_frames, followed_inside=g.followed_inside,
                           white_fades=g.white_fades, dissolves=g.dissolves,
                           pans_not_cuts=g.pans_not_cuts, pan_flows=g.pan_flows,
                           pan_restarts=g.pan_restarts, still_with_camera=g.still_with_camera)
    return MultiScaleGenerator(
        n_context=cfg.model.n_context,
        channels=cfg.model.channels,
        n_scales=g.n_scales,
        width=g.width,
        head=g.head,
    )


def build_discriminator(cfg: Config) -> MultiScaleDiscriminator | None:
    """The paper's multi-scale discriminator (``model.discriminator``), initialised, for
    ``data.patch_size`` patches; None when it is disabled."""
    d = cfg.model.discriminator
    if not d.enabled:
        return None
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
    return _initialised(model, d.init, d.leaky_slope, d.spectral_norm)


def build_blur_discriminator(cfg: Config, arch: dict | None = None) -> BlurDiscriminator | None:
    """The pretrained blur detector named by ``model.blur_discriminator.checkpoint``; None when
    it is disabled.

    Raises:
        FileNotFoundError: naming the missing file and ``scripts/pretrain_blur_discriminator.py``.
        ConfigError: a detector trained on frames of another channel count than ``model.channels``.
    """
    b = cfg.model.blur_discriminator
    if not b.enabled:
        return None
    if arch is not None:  # a resumed run: its checkpoint holds the weights, the file is not read
        return BlurDiscriminator(**arch)
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
    """The 3D clip discriminator (``model.spatiotemporal_discriminator``), initialised, for
    clips of ``n_context + n_future`` frames of ``data.patch_size``; None when it is disabled."""
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
    return _initialised(model, s.init, s.leaky_slope, s.spectral_norm)


def _initialised(model: nn.Module, init: str, leaky_slope: float, spectral_norm: bool) -> nn.Module:
    """A discriminator with its configured initialisation (``he`` or PyTorch's) and spectral norm."""
    if init == "he":
        he_init_(model, leaky_slope)
    return apply_spectral_norm(model) if spectral_norm else model


def build_adversaries(cfg: Config, device: torch.device, blur_arch: dict | None = None) -> list[Adversary]:
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
    blur = build_blur_discriminator(cfg, blur_arch)
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


# Which ``optim.<key>`` section trains each discriminator, by its adversary's ``name``.
ADVERSARY_OPTIMIZERS = {
    "multiscale": "discriminator",
    "blur": "blur_discriminator",
    "spatiotemporal": "spatiotemporal_discriminator",
}


def adversary_optimizer_config(cfg: Config, adversary: Adversary) -> tuple[OptimizerConfig, str]:
    """Each discriminator's own optimizer settings and their config key.

    Raises:
        ValueError: the adversary's ``name`` has no line in :data:`ADVERSARY_OPTIMIZERS`, or
            its section is missing from ``OptimConfig``.
    """
    key = ADVERSARY_OPTIMIZERS.get(adversary.name)
    if key is None or not hasattr(cfg.optim, key):
        raise ValueError(
            f"discriminator {adversary.name!r} ({type(adversary).__name__}) has no optimizer: "
            + (f"add '{adversary.name}': '<key>' to ADVERSARY_OPTIMIZERS in vidpred/build.py" if key is None else
               f"add an OptimizerConfig field '{key}' to OptimConfig in vidpred/config.py")
            + " (docs/design.md, \"A discriminator\")")
    return getattr(cfg.optim, key), f"optim.{key}"


def build_perceptual_networks(cfg: Config, device: torch.device) -> dict[str, nn.Module]:
    """Frozen ImageNet networks for the perceptual terms whose weight is non-zero.

    Returns ``{"vgg": VGG19Features, "lpips": lpips.LPIPS}`` (only the enabled ones).
    They are never trained: keep them out of optimizers and DDP.

    Raises:
        MissingWeightsError: naming every torchvision cache file that is missing (both
            terms' when both are on), so one attempt tells all there is to fetch.
    """
    builders = {"vgg": (cfg.loss.l_vgg, lambda: VGG19Features(cfg.loss.vgg_layers, pretrained=True)),
                "lpips": (cfg.loss.l_lpips, lambda: build_lpips(cfg.loss.lpips_net, pretrained=True))}
    networks: dict[str, nn.Module] = {}
    problems: list[MissingWeightsError | UnusableWeightsError] = []
    for name, (weight, build) in builders.items():
        if weight == 0:
            continue
        try:
            networks[name] = build().to(device)
        except (MissingWeightsError, UnusableWeightsError) as exc:  # every file to fetch, said at once
            problems.append(exc)
    if problems:
        kind = MissingWeightsError if all(isinstance(p, MissingWeightsError) for p in problems) else UnusableWeightsError
        raise kind(" Also, ".join(str(p).rstrip(".") + "." for p in problems))
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

    generator: MultiScaleGenerator | FlowRefiner
    generator_ema: MultiScaleGenerator | FlowRefiner | None
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
            if adversary.pretrained:  # rebuilt from this on resume, without its pretrained file
                state[f"{adversary.state_key}_arch"] = adversary.model.arch
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
            try:
                adversary.model.load_state_dict(state[adversary.state_key])
            except RuntimeError:  # another architecture: a pretrained judge's file replaced since
                if adversary.pretrained:
                    raise ValueError(f"cannot resume: the run's {adversary.name} discriminator is not of the "
                                     f"architecture its pretrained file has now (model.{adversary.name}_discriminator"
                                     ".checkpoint): give the file the run started with") from None
                raise
            if adversary.trainable:
                self.d_optimizers[adversary.name].load_state_dict(state[adversary.opt_key])


def build_training_networks(cfg: Config, device: torch.device, resume_state: dict | None = None) -> TrainingNetworks:
    """The networks and optimizers of a run, on ``device``; seed torch's generator first for
    reproducible initial weights (they are drawn in the order of the fields).

    Raises:
        FileNotFoundError: a missing blur-detector checkpoint or perceptual network weights
            (:func:`build_blur_discriminator`, :func:`build_perceptual_networks`).
        ConfigError: a blur detector of another channel count.
    """
    generator = build_generator(cfg).to(device)
    generator_ema = None
    if cfg.train.ema_decay is not None:
        generator_ema = copy.deepcopy(generator).requires_grad_(False).eval()
    adversaries = build_adversaries(cfg, device, (resume_state or {}).get("blur_discriminator_arch"))
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
    """The optimizer ``cfg`` names (SGD or Adam) over those of ``params`` that take a gradient;
    ``key`` (``optim.generator``) names the section in an error."""
    params = [p for p in params if p.requires_grad]
    if cfg.name == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.name == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=tuple(cfg.betas), weight_decay=cfg.weight_decay)
    # OptimizerConfig.name's Literal admits no other name: a new one needs its branch above.
    raise ConfigError(f"{key}.name: unknown optimizer {cfg.name!r}")


def count_parameters(module: nn.Module) -> int:
    """How many numbers ``module``'s parameters hold, frozen ones included."""
    return sum(p.numel() for p in module.parameters())

"""Every check of a config's values that their types cannot express: ranges, and what one
key needs of another. Each problem is a sentence naming its key, and all of a config's are
reported at once.

:func:`validate` is public as :func:`vidpred.config.validate`, beside the schema. The schema
is imported here for type hints alone, since :mod:`vidpred.config` imports this module. The
checks ask the networks which patch sizes and layers they take, so this module sits in the
layer of :mod:`vidpred.config`, above :mod:`vidpred.models`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

import torch

from vidpred._config_io import problems_error
from vidpred.models.discriminator import smallest_valid_patch
from vidpred.models.perceptual_networks import LPIPS_MIN_SIZE, VGG19_LAYERS

if TYPE_CHECKING:
    from vidpred.config import Config, GeneratorConfig


# The most videos one seed of the procedural or the synthetic generator names: its block of
# generator seeds (vidpred.data.procedural.procedural_seeds, vidpred.data.synthetic.synthetic_seeds).
SEED_BLOCK = 1_000_000
# vidpred.metrics.ssim.SSIM_WINDOW, which this layer cannot import (tests/test_config.py ties the two).
SSIM_WINDOW = 11

# The most times a network may halve a frame (its scales, or its pooling stages).
MAX_HALVINGS = 16

# The largest width multiplier of a network, and of DataLoader workers.
MAX_WIDTH = 64.0
MAX_WORKERS = 64
# float32's largest: weights and bounds the networks and losses multiply float32 tensors by.
FLOAT32_MAX = torch.finfo(torch.float32).max
MIN_NCE_TEMPERATURE = 1e-6

# The data settings each source does not read, with why: refused rather than ignored (a
# video named in data.val_videos of UCF101 data would be trained on), dropped on resume.
UNREAD_DATA_KEYS = {
    "procedural": {"data.root": ", which reads no folder",
                   "data.split": ": it names a UCF101 split",
                   "data.val_videos": ": its validation videos are drawn by data.procedural.n_val_videos",
                   "data.n_val_videos": ": its validation videos are drawn by data.procedural.n_val_videos"},
    "samples": {"data.root": ", which reads no folder", "data.split": ": it names a UCF101 split",
                "data.n_val_videos": ": its validation video is carphone, or those data.val_videos names"},
    "folder": {"data.split": ": it names a UCF101 split"},
    "corpus": {"data.split": ": it names a UCF101 split",
               "data.val_videos": ": its split is fixed (docs/data.md)",
               "data.n_val_videos": ": its split is fixed (docs/data.md)"},
    "ucf101": {"data.val_videos": ": its validation videos are drawn by data.n_val_videos (whole groups)"},
}

# The generator settings only the refiner head reads: refused with another head.
REFINER_ONLY = ("n_flows", "working_scale", "max_correction", "global_context", "farneback", "step_scale", "rollout",
                "camera_still", "refine_flows", "projected", "scene_cuts", "repeated_frames",
                "fades", "skipped_frames", "followed_inside", "white_fades",
                "dissolves", "pans_not_cuts", "pan_flows", "pan_restarts", "still_with_camera")


def validate(cfg: Config) -> None:
    """Check every value of ``cfg`` that its type does not settle: ranges, and what one key
    needs of another (a patch the networks can pool, a discriminator for the InfoNCE term).

    :func:`vidpred.config.load_config` calls it, and so does the trainer (for a config built in code).

    Raises:
        ConfigError: listing every problem found, each naming its key.
    """
    problems = [*_model_problems(cfg), *_data_problems(cfg), *_loss_problems(cfg), *_optim_problems(cfg),
                *_train_problems(cfg)]
    said = {problem.split(" ", 1)[0].rstrip(":") for problem in problems}  # a key's own check says it better
    problems += [problem for problem in _non_finite(cfg) if problem.split(" ", 1)[0] not in said]
    if problems:
        raise problems_error(problems)


def _non_finite(node: object, key: str = "") -> Iterator[str]:
    """A problem for each number of the config that is infinite or NaN (a YAML ``.inf`` or
    ``.nan``, or a literal too large for a float, ``1e400``): no key means either, and the
    range checks below, written as comparisons, would let a NaN through."""
    if dataclasses.is_dataclass(node):
        for field in dataclasses.fields(node):
            yield from _non_finite(getattr(node, field.name), f"{key}.{field.name}" if key else field.name)
    elif isinstance(node, (list, tuple)):
        if any(isinstance(v, float) and not math.isfinite(v) for v in node):
            yield f"{key} must hold finite numbers, got {list(node)}"
    elif isinstance(node, float) and not math.isfinite(node):
        yield f"{key} must be a finite number, got {node}"


def _at_least(values: dict[str, tuple[float, float]], hints: dict[str, str] | None = None) -> Iterator[str]:
    """``{key: (value, low)}``: a problem for each value below its ``low``."""
    for key, (value, low) in values.items():
        if value < low:
            yield f"{key} must be >= {low}, got {value}{(hints or {}).get(key, '')}"


def _model_problems(cfg: Config) -> Iterator[str]:
    """The networks' sizes, and the patch sizes each enabled one can take."""
    m, g, d, st = cfg.model, cfg.model.generator, cfg.model.discriminator, cfg.model.spatiotemporal_discriminator
    patch = cfg.data.patch_size
    yield from _at_least({
        "model.n_context": (m.n_context, 1),
        "model.generator.n_scales": (g.n_scales, 1), "model.discriminator.n_scales": (d.n_scales, 1),
        "model.spatiotemporal_discriminator.n_3d": (st.n_3d, 1),
        "model.spatiotemporal_discriminator.n_2d": (st.n_2d, 0),
    })
    for key, slope in (("model.discriminator.leaky_slope", d.leaky_slope),
                       ("model.spatiotemporal_discriminator.leaky_slope", st.leaky_slope)):
        if not 0 <= slope < 1:  # negative or 1 and above: no longer a rectifier
            yield f"{key} must be in [0, 1), got {slope}"
    if m.channels != 3:
        yield (f"model.channels must be 3, got {m.channels}: every data source reads frames as RGB "
               "(grey video as three equal channels)")
    for key, width in (("model.generator.width", g.width), ("model.discriminator.width", d.width),
                       ("model.spatiotemporal_discriminator.width", st.width)):
        if not width > 0:
            yield f"{key} must be > 0, got {width}"
        elif width > MAX_WIDTH:  # int(width * maps) overflows torch's sizes well before float's largest
            yield f"{key} must be at most {MAX_WIDTH:g} (times the paper's feature maps), got {width:g}"
    halvings = {"model.generator.n_scales": g.n_scales, "model.discriminator.n_scales": d.n_scales,
                "model.spatiotemporal_discriminator.n_3d + n_2d": st.n_3d + st.n_2d}
    for key, n in halvings.items():
        if n > MAX_HALVINGS:
            yield f"{key} must be at most {MAX_HALVINGS} (a {2 ** MAX_HALVINGS}-px frame halved to 1 px), got {n}"
    # (the checks below take 2 to those powers)
    if 1 <= g.n_scales <= MAX_HALVINGS and patch % 2 ** (g.n_scales - 1):
        yield f"data.patch_size ({patch}) must be divisible by 2**(n_scales-1) = {2 ** (g.n_scales - 1)}"
    yield from _refiner_problems(cfg) if g.head == "refiner" else _refiner_only_problems(g)
    if d.enabled and 1 <= d.n_scales <= MAX_HALVINGS:
        if d.n_scales > g.n_scales:
            yield (f"model.discriminator.n_scales ({d.n_scales}) cannot exceed model.generator.n_scales "
                   f"({g.n_scales}): D judges G's scales")
        if d.padding == "same" and patch % 2 ** d.n_scales:
            yield (f"data.patch_size ({patch}) must be divisible by 2**n_scales = {2 ** d.n_scales} of the "
                   "discriminator (it pools once after its finest-scale convolutions)")
        if d.padding == "valid" and patch < smallest_valid_patch(d.n_scales):
            yield (f"data.patch_size ({patch}) is too small for the unpadded convolutions of model.discriminator "
                   f"(padding: valid, {d.n_scales} scales): the smallest that works is "
                   f"{smallest_valid_patch(d.n_scales)}")
    if m.blur_discriminator.enabled and not str(m.blur_discriminator.checkpoint).strip():
        yield ("model.blur_discriminator.checkpoint is empty: give the pretrained detector's file "
               "(scripts/pretrain_blur_discriminator.py writes it)")
    if st.enabled and st.n_3d + st.n_2d <= MAX_HALVINGS:
        factor = 2 ** (st.n_3d + st.n_2d)
        if patch % factor or patch // factor < 2:
            yield (f"data.patch_size ({patch}) must be divisible by 2**(n_3d + n_2d) = {factor} of "
                   "model.spatiotemporal_discriminator and leave at least 2x2 positions")


def _refiner_problems(cfg: Config) -> Iterator[str]:
    """The refiner head's settings, and the other settings it constrains."""
    m, g, d = cfg.model, cfg.model.generator, cfg.model.discriminator
    if g.n_scales != 1:
        yield (f"model.generator.n_scales must be 1 with the refiner head (one output scale), got {g.n_scales}"
               + ("; so must model.discriminator.n_scales, or set model.discriminator.enabled: false"
                  if d.enabled and d.n_scales != 1 else ""))
    if not 1 <= g.n_flows < m.n_context:
        yield f"model.generator.n_flows must be in [1, model.n_context - 1], got {g.n_flows}"
    elif g.skipped_frames and g.n_flows < 3:
        yield (f"model.generator.skipped_frames needs model.generator.n_flows >= 3 (a skipped frame is read from "
               f"three steps), got {g.n_flows}")
    elif g.dissolves and g.n_flows < 3:
        yield (f"model.generator.dissolves needs model.generator.n_flows >= 3 (a dissolve is read from three "
               f"steps), got {g.n_flows}")
    if g.white_fades and not g.fades:
        yield "model.generator.white_fades reads fades to and from white as well: it needs model.generator.fades"
    if g.dissolves and not g.fades:
        yield ("model.generator.dissolves reads each step's change after its change of brightness: it needs "
               "model.generator.fades")
    if g.pans_not_cuts and not g.scene_cuts:
        yield "model.generator.pans_not_cuts tells fast pans from cuts between scenes: it needs model.generator.scene_cuts"
    if g.pan_flows and not g.pans_not_cuts:
        yield ("model.generator.pan_flows estimates the flow of the fast pans pans_not_cuts finds: it needs "
               "model.generator.pans_not_cuts")
    if not g.max_correction >= 0:
        yield f"model.generator.max_correction must be >= 0, got {g.max_correction}"
    elif g.max_correction > FLOAT32_MAX:  # inf * tanh(0) is NaN, and NaN coordinates crash the warp's backward
        yield (f"model.generator.max_correction must be at most {FLOAT32_MAX:.4g} (float32's largest), "
               f"got {g.max_correction:g}")
    if g.working_scale < 1 or g.working_scale & (g.working_scale - 1):
        yield f"model.generator.working_scale must be a power of 2, got {g.working_scale}"
    elif g.working_scale > max(1, cfg.data.patch_size // 4):  # the U-Net's working size is clamped to 4 px
        yield (f"model.generator.working_scale ({g.working_scale}) must be at most data.patch_size / 4 "
               f"({max(1, cfg.data.patch_size // 4)}): the refiner works at no less than 4x4 pixels")
    if g.step_scale and cfg.train.n_future < 2:
        # The persistence only moves frames after the 1st: trained on one, it never gets a gradient.
        yield ("model.generator.step_scale learns how far the motion persists after the 1st predicted frame: "
               f"it needs train.n_future >= 2, got {cfg.train.n_future}")


def _refiner_only_problems(g: GeneratorConfig) -> Iterator[str]:
    """The refiner's settings (``REFINER_ONLY``) changed from their defaults with another head."""
    defaults = type(g)()
    for key in REFINER_ONLY:
        if getattr(g, key) != getattr(defaults, key):
            yield (f"model.generator.{key} is for the refiner head (model.generator.head: refiner), got "
                   f"{getattr(g, key)!r} with the {g.head} head")


def _data_problems(cfg: Config) -> Iterator[str]:
    """The data source's settings, the sampler's and the procedural videos'."""
    d = cfg.data
    held_out = " (validation needs held-out clips)"
    yield from _at_least({
        "data.patch_size": (d.patch_size, 1), "data.n_val_clips": (d.n_val_clips, 1),
        "data.max_tries": (d.max_tries, 1), "data.num_workers": (d.num_workers, 0),
        "data.n_val_videos": (d.n_val_videos, 1),
    }, {"data.n_val_clips": held_out, "data.n_val_videos": held_out})
    if d.num_workers > MAX_WORKERS:  # each is a process holding the sampler: thousands exhaust memory
        yield f"data.num_workers must be at most {MAX_WORKERS}, got {d.num_workers}"
    if d.source in ("folder", "ucf101") and not d.root:
        yield f"data.root is required when data.source is '{d.source}'"
    if not str(d.cache_dir).strip():
        yield "data.cache_dir is empty: give the folder for decoded videos (it would be the current folder)"
    defaults = type(d)()
    for key, why in UNREAD_DATA_KEYS.get(d.source, {}).items():
        name = key.removeprefix("data.")
        if getattr(d, name) != getattr(defaults, name):
            yield f"{key} does not apply to data.source '{d.source}'{why}"
    if d.source == "ucf101" and d.split not in (1, 2, 3):
        yield f"data.split must be 1, 2 or 3, got {d.split}"
    if d.val_videos is not None and not d.val_videos:
        yield ("data.val_videos is empty: name the held-out videos, or set it to null to hold out "
               "data.n_val_videos of them")
    if d.frame_size is not None and (len(d.frame_size) != 2 or min(d.frame_size) < 1):
        yield f"data.frame_size: expected [H, W] with positive sizes, got {d.frame_size}"
    if d.frame_height is not None and (d.frame_height < 1 or d.frame_size is not None):
        yield "data.frame_height: expected a height >= 1, and frame_size null (they exclude each other)"
    if d.max_frames_per_video is not None and d.max_frames_per_video < 1:
        yield f"data.max_frames_per_video must be >= 1 or null, got {d.max_frames_per_video}"
    if d.motion_threshold < 0:
        yield f"data.motion_threshold must be >= 0, got {d.motion_threshold}"
    if not 0 <= d.unfiltered_fraction <= 1:
        yield f"data.unfiltered_fraction must be in [0, 1], got {d.unfiltered_fraction}"
    if d.d_unfiltered_fraction is not None and not 0 <= d.d_unfiltered_fraction <= 1:
        yield f"data.d_unfiltered_fraction must be in [0, 1] or null, got {d.d_unfiltered_fraction}"
    if d.cut_ratio is not None and d.cut_ratio <= 1:
        yield f"data.cut_ratio: expected a ratio > 1 or null, got {d.cut_ratio}"
    if d.source == "procedural":
        p = d.procedural
        yield from _at_least({
            "data.procedural.n_train_videos": (p.n_train_videos, 1),
            "data.procedural.n_val_videos": (p.n_val_videos, 1),
            "data.procedural.n_test_videos": (p.n_test_videos, 0), "data.procedural.n_frames": (p.n_frames, 1),
            "data.procedural.height": (p.height, 1), "data.procedural.width": (p.width, 1),
            "data.procedural.n_objects": (p.n_objects, 0), "data.procedural.seed": (p.seed, 0),
            "data.procedural.beta": (p.beta, 0), "data.procedural.max_speed": (p.max_speed, 0),
            "data.procedural.pan_speed": (p.pan_speed, 0),
        }, {"data.procedural.n_train_videos": " (training needs videos)",
            "data.procedural.n_val_videos": " (validation needs held-out videos)"})
        for subset in ("train", "val", "test"):
            n = getattr(p, f"n_{subset}_videos")
            if n > SEED_BLOCK:
                yield f"data.procedural.n_{subset}_videos must be <= {SEED_BLOCK} (a seed's block of videos), got {n}"
        if min(p.height, p.width) < d.patch_size:
            yield (f"data.procedural.height and width ({p.height}x{p.width}) must be >= data.patch_size "
                   f"({d.patch_size})")
    yield from _synthetic_problems(cfg)


def _synthetic_problems(cfg: Config) -> Iterator[str]:
    """The synthetic videos' settings, and what training on them needs."""
    d, syn = cfg.data, cfg.data.synthetic
    if not 0 <= d.synthetic_weight <= 1:
        yield f"data.synthetic_weight must be in [0, 1], got {d.synthetic_weight}"
    yield from _at_least({f"data.synthetic.{name}": (getattr(syn, name), low) for name, low in (
        ("n_videos", 0), ("n_frames", 1), ("height", 8), ("width", 8), ("seed", 0), ("max_speed", 0),
        ("max_layers", 0), ("max_zoom", 0), ("max_rotation", 0), ("max_shake", 0), ("max_noise", 0), ("max_wander", 0))})
    # Above these the motion leaves the frame every frame, the frame outgrows memory, or the noise the 8 bits.
    side = max(syn.height, syn.width)
    for name, high, why in (("n_videos", SEED_BLOCK, "a seed's block of videos"),
                            ("n_frames", 10_000, "frames of one video, held in memory"),
                            ("height", 16_384, "a frame's side"), ("width", 16_384, "a frame's side"),
                            ("max_layers", 1_000, "cut-outs per video"),
                            ("max_speed", side, "the larger side: faster leaves the frame every frame"),
                            ("max_shake", side, "the larger side"), ("max_wander", side, "the larger side"),
                            ("max_zoom", 1.0, "e-fold a frame"), ("max_rotation", 180.0, "half a turn a frame"),
                            ("max_noise", 255.0, "the 8 bits' range")):
        if getattr(syn, name) > high:
            yield f"data.synthetic.{name} must be <= {high} ({why}), got {getattr(syn, name)}"
    if syn.photo_dir is not None and not str(syn.photo_dir).strip():
        yield ("data.synthetic.photo_dir is empty: give a folder of photos, or null for scikit-image's (it would be "
               "the current folder)")
    for name in ("still_fraction", "jpeg_fraction"):
        if not 0 <= getattr(syn, name) <= 1:
            yield f"data.synthetic.{name} must be in [0, 1], got {getattr(syn, name)}"
    if not 0 < d.synthetic_weight <= 1:
        return  # off, or out of range (said above): what using the videos needs does not apply
    if syn.n_videos < 1:
        yield (f"data.synthetic_weight is {d.synthetic_weight} but data.synthetic.n_videos is {syn.n_videos}: "
               "set how many synthetic videos to generate")
    if min(syn.height, syn.width) < d.patch_size:
        yield (f"data.synthetic.height and width ({syn.height}x{syn.width}) must be >= data.patch_size "
               f"({d.patch_size})")
    n_frames = cfg.model.n_context + cfg.train.n_future
    if syn.n_frames < n_frames:
        yield f"data.synthetic.n_frames ({syn.n_frames}) must be >= model.n_context + train.n_future ({n_frames})"


def _smallest_laplacian_frame(levels: int) -> int:
    """:func:`vidpred.losses.laplacian.smallest_frame`, which this layer may not import: each of the
    pyramid's ``levels - 1`` pyrdowns reflects a 2-pixel border, so the last one needs 3 px."""
    return 1 if levels <= 1 else 3 * 2 ** (levels - 2)


def _loss_problems(cfg: Config) -> Iterator[str]:
    """Every term's weight and settings, and what each term needs of the model and data."""
    loss, model = cfg.loss, cfg.model
    if loss.p not in (1, 2):
        yield f"loss.p: expected 1 or 2, got {loss.p}"
    if loss.l_gdl and not loss.gdl_alpha > 0:
        yield f"loss.gdl_alpha must be > 0, got {loss.gdl_alpha}"
    if loss.l_path > 0 and cfg.train.n_future < 2:
        # The anchor cancels: over one predicted frame the path loss is that frame's MSE.
        yield ("loss.l_path compares the steps between predicted frames (over one it is the frame's MSE): "
               f"it needs train.n_future >= 2, got {cfg.train.n_future}")
    weights = [f.name for f in dataclasses.fields(loss) if f.name.startswith("l_")]  # every term's, a new one too
    for key in (*weights, "gp_weight", "gp_center", "r1_weight"):
        if not (math.isfinite(getattr(loss, key)) and getattr(loss, key) >= 0):
            yield f"loss.{key} must be a finite number >= 0, got {getattr(loss, key)}"
        elif getattr(loss, key) > FLOAT32_MAX:  # the loss is a float32 tensor: more overflows to inf
            yield f"loss.{key} must be at most {FLOAT32_MAX:.4g} (float32's largest), got {getattr(loss, key):g}"
    for key in ("real_label", "fake_label"):
        pair = getattr(loss, key)
        if len(pair) != 2 or pair[0] > pair[1]:
            yield f"loss.{key}: expected [low, high] with low <= high, got {pair}"
        elif max(map(abs, pair)) > FLOAT32_MAX:  # the labels are a float32 tensor
            yield f"loss.{key} must hold numbers of at most {FLOAT32_MAX:.4g} (float32's largest), got {pair}"
        elif not 0 <= sum(pair) / 2 <= 1:  # BCE's expected loss against a mean label past [0, 1] falls without end
            yield (f"loss.{key}: expected a range centred in [0, 1] (a mean label outside it gives the discriminator's "
                   f"BCE no minimum), got {pair}")
    if len(loss.real_label) == len(loss.fake_label) == 2 and loss.fake_label[1] >= loss.real_label[0]:
        yield (f"loss.fake_label ({loss.fake_label}) must lie below loss.real_label ({loss.real_label}): the "
               "discriminator learns to tell them apart, and a fake label as high as a real one leaves it nothing "
               "to learn")
    bce_trained = (model.discriminator.enabled and model.discriminator.objective == "bce") or \
        (model.blur_discriminator.enabled and not model.blur_discriminator.frozen)
    if (loss.real_label != [1.0, 1.0] or loss.fake_label != [0.0, 0.0]) and not bce_trained:
        yield ("loss.real_label and loss.fake_label smooth the labels of a BCE discriminator's updates, and none "
               "is trained here (a hinge objective has no labels)")
    if loss.l_nce and not model.discriminator.enabled:
        yield "loss.l_nce uses the multi-scale discriminator's features: set model.discriminator.enabled"
    if loss.l_nce and 0 < loss.nce_temperature < MIN_NCE_TEMPERATURE:  # the loss grows as 1/t, its gradient as 1/t**2
        yield (f"loss.nce_temperature must be at least {MIN_NCE_TEMPERATURE:g} (below it the term's float32 gradient "
               f"overflows), got {loss.nce_temperature:g}")
    if loss.l_nce and (loss.nce_temperature <= 0 or cfg.train.batch_size < 2):
        yield (f"loss.l_nce needs loss.nce_temperature > 0 and train.batch_size >= 2 (the other clips are the "
               f"negatives), got {loss.nce_temperature} and {cfg.train.batch_size}")
    if loss.disc_start < 0:
        yield f"loss.disc_start must be >= 0, got {loss.disc_start}"
    if loss.adaptive_max <= 0:
        yield f"loss.adaptive_max must be > 0, got {loss.adaptive_max}"
    elif loss.adaptive_max > FLOAT32_MAX:  # clamped against a float32 tensor
        yield f"loss.adaptive_max must be at most {FLOAT32_MAX:.4g} (float32's largest), got {loss.adaptive_max:g}"
    if loss.l_lap and loss.lap_levels < 1:
        yield f"loss.lap_levels must be >= 1, got {loss.lap_levels}"
    elif loss.l_lap and loss.lap_levels > MAX_HALVINGS + 1:
        yield f"loss.lap_levels must be at most {MAX_HALVINGS + 1}, got {loss.lap_levels}"
    elif loss.l_lap and cfg.data.patch_size < _smallest_laplacian_frame(loss.lap_levels):
        yield (f"loss.lap_levels {loss.lap_levels} needs data.patch_size >= "
               f"{_smallest_laplacian_frame(loss.lap_levels)}, got {cfg.data.patch_size}")
    if loss.l_census and (loss.census_window < 3 or loss.census_window % 2 == 0):
        yield f"loss.census_window must be odd and >= 3, got {loss.census_window}"
    elif loss.l_census and loss.census_window > cfg.data.patch_size:
        yield f"loss.census_window {loss.census_window} is larger than data.patch_size ({cfg.data.patch_size})"
    if loss.l_ssim and cfg.data.patch_size < SSIM_WINDOW:
        yield (f"loss.l_ssim needs data.patch_size >= {SSIM_WINDOW} (its {SSIM_WINDOW}x{SSIM_WINDOW} window), "
               f"got {cfg.data.patch_size}")
    if loss.adaptive_weight:
        yield from _adaptive_weight_problems(cfg, weights)
    if loss.l_lpips and cfg.data.patch_size < LPIPS_MIN_SIZE[loss.lpips_net]:
        fitting = [k for k, v in LPIPS_MIN_SIZE.items() if v <= cfg.data.patch_size]
        yield (f"loss.lpips_net {loss.lpips_net!r} needs frames of at least {LPIPS_MIN_SIZE[loss.lpips_net]} "
               f"pixels, data.patch_size is {cfg.data.patch_size}; use {', '.join(fitting) or 'a larger patch'}")
    unknown = [name for name in loss.vgg_layers if name not in VGG19_LAYERS]
    if unknown or not loss.vgg_layers:
        yield f"loss.vgg_layers: unknown layers {unknown}; choose from {', '.join(VGG19_LAYERS)}"


def _adaptive_weight_problems(cfg: Config, weights: list[str]) -> Iterator[str]:
    """What ``loss.adaptive_weight`` needs: an adversarial term to scale, and a reconstruction
    term (any of the ``l_*`` ``weights`` but ``l_adv`` and ``l_nce``) to scale it against."""
    loss, model = cfg.loss, cfg.model
    reconstruction = [key for key in weights if key not in ("l_adv", "l_nce")]  # what G's prediction is compared by
    # Every discriminator section of the model (those with an ``enabled`` switch), a new one too.
    sections = [f.name for f in dataclasses.fields(model) if hasattr(getattr(model, f.name), "enabled")]
    adversaries = any(getattr(model, name).enabled for name in sections)
    if not (adversaries and loss.l_adv > 0):
        # Without an adversarial term the weight is never computed: the setting would change nothing.
        yield ("loss.adaptive_weight scales the adversarial term: it needs loss.l_adv > 0 and an enabled "
               f"{', '.join(f'model.{name}' for name in sections[:-1])} or model.{sections[-1]}")
    if not any(getattr(loss, key) for key in reconstruction):
        yield f"loss.adaptive_weight needs a reconstruction term ({', '.join(reconstruction[:-1])} or {reconstruction[-1]})"


def _optim_problems(cfg: Config) -> Iterator[str]:
    """Every optimizer's rate, momentum, weight decay, clipping and betas."""
    for name in (f.name for f in dataclasses.fields(cfg.optim)):  # every optimizer's, a new one too
        opt, key = getattr(cfg.optim, name), f"optim.{name}"
        if not (math.isfinite(opt.lr) and opt.lr >= 0):
            yield f"{key}.lr must be a finite number >= 0, got {opt.lr}"
        yield from _at_least({f"{key}.weight_decay": (opt.weight_decay, 0)})
        for setting in ("lr", "weight_decay"):  # the optimizers scale float32 tensors by them: more overflows
            value = getattr(opt, setting)
            if math.isfinite(value) and value > FLOAT32_MAX:
                yield f"{key}.{setting} must be at most {FLOAT32_MAX:.4g} (float32's largest), got {value:g}"
        if not 0 <= opt.momentum < 1:  # 1 or more: the velocity never decays, and the steps grow without bound
            yield f"{key}.momentum must be in [0, 1), got {opt.momentum}"
        if opt.grad_clip is not None and not opt.grad_clip > 0:
            yield f"{key}.grad_clip must be > 0 or null, got {opt.grad_clip}"
        if opt.name == "adam" and len(opt.betas) != 2:
            yield f"{key}.betas: expected two numbers, got {opt.betas}"
        elif opt.name == "adam" and not all(0 <= beta < 1 for beta in opt.betas):
            yield f"{key}.betas must be in [0, 1), got {opt.betas}"


def _train_problems(cfg: Config) -> Iterator[str]:
    """The loop's lengths, intervals, moving average and at-chance warning, and where runs go."""
    t = cfg.train
    if not str(cfg.run.out_dir).strip():
        yield "run.out_dir is empty: give the folder runs go in (it would be the current folder)"
    yield from _at_least({f"train.{key}": (getattr(t, key), 1) for key in (
        "steps", "batch_size", "n_future", "val_n_future", "log_every", "val_every", "ckpt_every", "sample_every")})
    if not 0 <= t.seed < 2**63:  # numpy's generators take no negative seed, torch's none from 2**64
        yield f"train.seed must be in [0, 2**63), got {t.seed}"
    if t.max_minutes is not None and t.max_minutes <= 0:
        yield f"train.max_minutes: expected minutes > 0 or null, got {t.max_minutes}"
    if t.ema_decay is not None and not 0 < t.ema_decay < 1:
        yield f"train.ema_decay: expected a decay in (0, 1) or null, got {t.ema_decay}"
    st = cfg.model.spatiotemporal_discriminator
    penalties = [key for key, on in (("loss.r1_weight", cfg.loss.r1_weight and cfg.model.discriminator.enabled),
                                     ("loss.gp_weight", cfg.loss.gp_weight and st.enabled)) if on]
    if t.compile and penalties:  # torch.compile's aot_autograd has no double backward
        yield (f"train.compile cannot train with a gradient penalty ({', '.join(penalties)} > 0 needs a double "
               "backward, which torch.compile does not support): set train.compile: false or the penalty to 0")
    if t.chance_warning_steps < 0:
        yield f"train.chance_warning_steps must be >= 0, got {t.chance_warning_steps}"
    if not 0 <= t.chance_accuracy <= 1:
        yield f"train.chance_accuracy must be in [0, 1], got {t.chance_accuracy}"

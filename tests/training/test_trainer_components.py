"""The trainer with the components beyond the paper: blur and spatio-temporal discriminators,
perceptual losses, adaptive weighting, the disc_start gate and multi-frame training."""

import math

import pytest
import torch
from torch import nn

import vidpred.build as build_module
from vidpred.checkpoint import load_checkpoint, save_checkpoint
from vidpred.config import ConfigError
from vidpred.losses.composite import FINEST_SCALE_LOSSES
from vidpred.losses.perceptual import sample_frames
from vidpred.models.blur_discriminator import BlurDiscriminator, save_blur_discriminator
from vidpred.models.perceptual_networks import MissingWeightsError, UnusableWeightsError, VGG19Features, build_lpips
from vidpred.training.trainer import Trainer

ONLY_ADV = ("loss.l_p=0.0", "loss.l_gdl=0.0", "loss.l_adv=1.0")
NO_MULTISCALE = "model.discriminator.enabled=false"
SPATIOTEMPORAL = ("model.spatiotemporal_discriminator.enabled=true", "model.spatiotemporal_discriminator.width=0.0625",
                  "model.spatiotemporal_discriminator.n_2d=1")


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


def _unchanged(before, module):
    return all(torch.equal(a, b) for a, b in zip(before, module.parameters()))


@pytest.fixture
def blur_checkpoint(tmp_path):
    """A (random, small) blur discriminator checkpoint in the pretraining script's format."""
    torch.manual_seed(123)
    path = tmp_path / "blur.pt"
    save_blur_discriminator(BlurDiscriminator(width=4, n_down=2), path, {"source": "test"}, {"sharp": 0.5})
    return path


def _blur(path, frozen=True):
    return ("model.blur_discriminator.enabled=true", f"model.blur_discriminator.checkpoint={path}",
            f"model.blur_discriminator.frozen={str(frozen).lower()}")


@pytest.fixture
def random_perceptual(monkeypatch):
    """Perceptual networks with random weights (no ImageNet files here), built like the real ones."""

    def build(cfg, device):
        networks = {}
        if cfg.loss.l_vgg:
            networks["vgg"] = VGG19Features(cfg.loss.vgg_layers, pretrained=False).to(device)
        if cfg.loss.l_lpips:
            networks["lpips"] = build_lpips(cfg.loss.lpips_net, pretrained=False).to(device)
        return networks

    monkeypatch.setattr(build_module, "build_perceptual_networks", build)


@pytest.mark.parametrize("which", ["multiscale", "multiscale_hinge", "blur", "spatiotemporal"])
def test_adversarial_gradient_reaches_the_generator_through_each_discriminator(which, tiny_config, blur_checkpoint, tmp_path):
    # One discriminator at a time and only the adversarial term: every G parameter must move.
    extra = {"multiscale": (), "blur": (NO_MULTISCALE, *_blur(blur_checkpoint)), "spatiotemporal": (NO_MULTISCALE, *SPATIOTEMPORAL),
             "multiscale_hinge": ("model.discriminator.objective=hinge", "model.discriminator.init=he",
                                  "model.discriminator.leaky_slope=0.2")}
    trainer = Trainer(tiny_config(*ONLY_ADV, *extra[which]), tmp_path / "run")
    which = which.removesuffix("_hinge")
    assert [a.name for a in trainer.adversaries] == [which]
    d_before = _params(trainer.adversaries[0].model)
    logs = trainer.g_step(trainer.next_batch())
    assert set(k for k in logs if k.startswith("g_") and k not in ("g_total",)) == {"g_adv", f"g_adv_{which}"}
    missing = [n for n, p in trainer.generator.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, f"no adversarial gradient from the {which} discriminator: {missing}"
    assert _unchanged(d_before, trainer.adversaries[0].model)


def test_all_discriminators_train_and_generator_averages_them(tiny_config, blur_checkpoint, tmp_path, logged_losses):
    cfg = tiny_config(*_blur(blur_checkpoint, frozen=False), *SPATIOTEMPORAL, "train.steps=2")
    trainer = Trainer(cfg, tmp_path / "run")
    befores = [_params(a.model) for a in trainer.adversaries]
    trainer.fit()
    assert all(not _unchanged(before, a.model) for before, a in zip(befores, trainer.adversaries))
    logs = logged_losses(tmp_path / "run")[2]
    for key in ("d_loss", "d_blur_loss", "d_st_loss", "d_st_gp", "grad_norm_d_blur", "grad_norm_d_st", "lr_d_st"):
        assert key in logs, key
    assert [a.loss_key for a in trainer.adversaries] == ["d_loss", "d_blur_loss", "d_st_loss"]  # where the bar looks
    mean = (logs["g_adv_multiscale"] + logs["g_adv_blur"] + logs["g_adv_spatiotemporal"]) / 3
    assert logs["g_adv"] == pytest.approx(mean, rel=1e-6)
    assert logs["g_total"] == pytest.approx(logs["g_lp"] + logs["g_gdl"] + 0.05 * logs["g_adv"], rel=1e-5)


def test_frozen_networks_are_never_updated(tiny_config, blur_checkpoint, random_perceptual, tmp_path, logged_losses):
    cfg = tiny_config(*_blur(blur_checkpoint, frozen=True), "loss.l_vgg=0.1", "loss.l_lpips=0.1",
                      "loss.lpips_net=vgg", "loss.vgg_layers=[relu1_2, relu2_2]", "train.steps=3")
    trainer = Trainer(cfg, tmp_path / "run")
    blur = next(a for a in trainer.adversaries if a.name == "blur")
    frozen = [blur.model, *trainer.perceptual.values()]
    befores = [_params(m) for m in frozen]
    optimised = {id(p) for opt in [trainer.opt_g, *trainer.d_optimizers.values()] for g in opt.param_groups for p in g["params"]}
    assert "blur" not in trainer.d_optimizers
    trainer.fit()
    logs = logged_losses(tmp_path / "run")[3]
    assert logs["g_vgg"] > 0 and logs["g_lpips"] > 0 and "g_adv_blur" in logs and "d_blur_loss" not in logs
    for module, before in zip(frozen, befores):
        assert _unchanged(before, module)
        assert not module.training and not any(p.requires_grad for p in module.parameters())
        assert not any(id(p) in optimised for p in module.parameters())
        assert all(p.grad is None for p in module.parameters())
    assert trainer.batches_per_step == 2  # the multi-scale D still trains


def test_missing_weight_files_stop_training_with_their_names(tiny_config, tmp_path, monkeypatch):
    missing = tmp_path / "no" / "blur.pt"
    with pytest.raises(FileNotFoundError) as info:
        Trainer(tiny_config(*_blur(missing)), tmp_path / "run")
    assert str(missing) in str(info.value) and "pretrain_blur_discriminator.py" in str(info.value)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(MissingWeightsError, match=str(tmp_path / "torch" / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth")):
        Trainer(tiny_config("loss.l_vgg=0.1"), tmp_path / "run")
    with pytest.raises(MissingWeightsError, match="vgg16-397923af.pth"):
        Trainer(tiny_config("loss.l_lpips=0.1", "loss.lpips_net=vgg"), tmp_path / "run")
    with pytest.raises(MissingWeightsError) as both:  # one attempt names every file to fetch
        Trainer(tiny_config("loss.l_vgg=0.1", "loss.l_lpips=0.1", "loss.lpips_net=vgg"), tmp_path / "run")
    assert "vgg19-dcbb9e9d.pth" in str(both.value) and "vgg16-397923af.pth" in str(both.value)
    assert "\n" not in str(both.value)
    # A file there but not the named download is said together with the one missing.
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "vgg19-dcbb9e9d.pth").write_bytes(b"not the download")
    with pytest.raises(UnusableWeightsError) as both:
        Trainer(tiny_config("loss.l_vgg=0.1", "loss.l_lpips=0.1", "loss.lpips_net=vgg"), tmp_path / "run")
    assert "vgg19-dcbb9e9d.pth is not torchvision's" in str(both.value) and "vgg16-397923af.pth" in str(both.value)


def test_adaptive_weight_is_applied(tiny_config, tmp_path):
    trainer = Trainer(tiny_config("loss.adaptive_weight=true", "loss.l_adv=0.05"), tmp_path / "run")
    logs = trainer.g_step(trainer.next_batch())
    w = logs["g_adv_weight"].item()
    assert w > 0 and w != pytest.approx(1.0)
    rec = logs["g_lp"] + logs["g_gdl"]
    assert logs["g_total"].item() == pytest.approx((rec + w * 0.05 * logs["g_adv"]).item(), rel=1e-5)


def test_the_adaptive_weight_is_clamped_at_the_configured_maximum(tiny_config, tmp_path):
    trainer = Trainer(tiny_config("loss.adaptive_weight=true", "loss.l_adv=0.05", "loss.adaptive_max=0.001"),
                      tmp_path / "run")
    logs = trainer.g_step(trainer.next_batch())
    assert logs["g_adv_weight"].item() == pytest.approx(0.001)
    rec = logs["g_lp"] + logs["g_gdl"]
    assert logs["g_total"].item() == pytest.approx((rec + 0.001 * 0.05 * logs["g_adv"]).item(), rel=1e-5)


def test_without_multiscale_the_reconstruction_terms_are_the_finest_scale_s(tiny_config, tmp_path):
    from vidpred.losses import gradient_difference_loss, lp_loss

    trainer = Trainer(tiny_config("loss.multiscale=false", "loss.l_adv=0.0", NO_MULTISCALE), tmp_path / "run")
    x = trainer.next_batch()
    context, target = x[:, :, :trainer.n_context], x[:, :, trainer.n_context:]
    with torch.no_grad():
        scales = trainer.generator.rollout(context, trainer.n_future, return_scales=True)
    assert len(scales) > 1
    logs = trainer.g_step(x)
    assert logs["g_lp"].item() == pytest.approx(lp_loss(scales[-1], target, p=trainer.cfg.loss.p).item(), rel=1e-3)
    assert logs["g_gdl"].item() == pytest.approx(
        gradient_difference_loss(scales[-1], target, alpha=trainer.cfg.loss.gdl_alpha).item(), rel=1e-3)


def test_disc_start_gates_both_d_updates_and_the_adversarial_term(tiny_config, tmp_path, logged_losses):
    trainer = Trainer(tiny_config("loss.disc_start=2", "train.steps=3"), tmp_path / "run")
    d_before = _params(trainer.discriminator)
    trainer.train_step()
    trainer.train_step()
    assert _unchanged(d_before, trainer.discriminator)  # steps 0 and 1: D not updated
    trainer.train_step()
    assert not _unchanged(d_before, trainer.discriminator)
    trainer2 = Trainer(tiny_config("loss.disc_start=2", "train.steps=3"), tmp_path / "run2")
    trainer2.fit()
    logged = logged_losses(tmp_path / "run2")
    assert "g_adv" not in logged[1] and "d_loss" not in logged[2] and "g_adv" in logged[3] and "d_loss" in logged[3]


def test_each_step_draws_the_discriminator_s_batch_before_disc_start_too(tiny_config, tmp_path, monkeypatch):
    # Batch i of the stream is the same whatever loss.disc_start is, and a resumed run, which
    # starts the stream 2 batches a step in, meets the clips the uninterrupted run met.
    g_batches = {}
    for disc_start in (0, 3):
        trainer = Trainer(tiny_config(f"loss.disc_start={disc_start}"), tmp_path / f"run{disc_start}")
        seen = g_batches[disc_start] = []
        monkeypatch.setattr(trainer, "g_step", lambda x, seen=seen: seen.append(x.clone()) or {})
        for _ in range(3):
            trainer.train_step()
    assert len(g_batches[0]) == 3 and all(torch.equal(a, b) for a, b in zip(g_batches[0], g_batches[3]))


def test_multi_frame_d_steps_see_the_rolled_out_clip(tiny_config, blur_checkpoint, tmp_path):
    cfg = tiny_config("train.n_future=3", "train.val_n_future=3", *_blur(blur_checkpoint, frozen=False), *SPATIOTEMPORAL)
    trainer = Trainer(cfg, tmp_path / "run")
    seen = {}
    for adversary in trainer.adversaries:
        adversary.model.register_forward_hook(
            lambda module, args, out, name=adversary.name: seen.__setitem__(name, [a for a in args])
        )
    x = trainer.next_batch()  # (4, 3, 7, 16, 16)
    B = x.shape[0]
    with torch.no_grad(), trainer.autocast():  # in the trainer's precision (bf16 where native)
        rollout = trainer.generator.rollout(x[:, :, :4], 3)  # the predictions D must be judging
    trainer.d_step(x)
    # Spatio-temporal D: real and fake whole clips, context + every predicted frame.
    clips = seen["spatiotemporal"][0]
    assert clips.shape == (2 * B, 3, 7, 16, 16)
    torch.testing.assert_close(clips[B:, :, 4:], rollout)
    torch.testing.assert_close(clips[:B], x)
    # Blur D: every real and every predicted frame.
    assert seen["blur"][0].shape == (2 * 3 * B, 3, 16, 16)
    torch.testing.assert_close(seen["blur"][0][3 * B :], torch.cat(rollout.unbind(2)))
    # Multi-scale D: each step with the frames before it; step 3's fake context holds predictions 1 and 2.
    contexts, frames = seen["multiscale"]
    assert frames[-1].shape == (2 * 3 * B, 3, 16, 16)
    fake_step3_context = contexts[-1][3 * B + 2 * B :]
    torch.testing.assert_close(fake_step3_context[:, :, 2:], rollout[:, :, :2])


def test_multi_frame_losses_cover_every_predicted_frame(tiny_config, random_perceptual, tmp_path):
    cfg = tiny_config("train.n_future=2", "train.val_n_future=2", "loss.l_path=1.0", "loss.l_vgg=0.1",
                      "loss.vgg_layers=[relu1_2]")
    trainer = Trainer(cfg, tmp_path / "run")
    g_state = {k: v.clone() for k, v in trainer.generator.state_dict().items()}
    x = trainer.next_batch()
    changed = x.clone()
    changed[:, :, -1] = changed[:, :, -1].flip(-1)  # only the second predicted frame's target differs
    rng_state = trainer.rng.frame.get_state()
    first = trainer.g_step(x)
    trainer.generator.load_state_dict(g_state)
    trainer.rng.frame.set_state(rng_state)
    second = trainer.g_step(changed)
    for key in ("g_lp", "g_gdl", "g_path"):
        assert first[key] != second[key], key
    # The perceptual frame is one of the two predicted frames, drawn per clip.
    _, _, index = sample_frames(torch.zeros(64, 1, 2, 1, 1), torch.zeros(64, 1, 2, 1, 1), torch.Generator().manual_seed(0))
    assert set(index.tolist()) == {0, 1}


@pytest.mark.slow  # about 12 s on one CPU thread
def test_resume_is_exact_with_every_component_on(tiny_config, blur_checkpoint, random_perceptual, tmp_path,
                                                 logged_losses):
    overrides = [
        *_blur(blur_checkpoint, frozen=False), *SPATIOTEMPORAL,
        "train.n_future=2", "train.val_n_future=2", "loss.l_path=1.0", "loss.adaptive_weight=true",
        "loss.disc_start=1", "loss.real_label=[0.7, 1.2]", "loss.fake_label=[0.0, 0.3]",
        "loss.l_vgg=0.1", "loss.l_lpips=0.1", "loss.lpips_net=vgg", "loss.vgg_layers=[relu1_2]",
        "model.discriminator.leaky_slope=0.2",
        "train.steps=4",
    ]
    full = Trainer(tiny_config(*overrides), tmp_path / "full")
    full.fit()
    Trainer(tiny_config(*overrides[:-1], "train.steps=2"), tmp_path / "split").fit()
    resumed = Trainer(tiny_config(*overrides), tmp_path / "split", resume=True)
    assert resumed.step == 2
    resumed.fit()
    expected, got = logged_losses(tmp_path / "full"), logged_losses(tmp_path / "split")
    for step in (3, 4):
        assert got[step] == expected[step], step  # exact, not approximate
    assert {"g_vgg", "g_lpips", "g_adv_weight", "d_st_gp", "d_blur_loss"} <= set(got[4])
    for a, b in zip([full.generator, *(x.model for x in full.adversaries)], [resumed.generator, *(x.model for x in resumed.adversaries)]):
        assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_zero_centred_penalties_train_both_discriminators(tiny_config, tmp_path, logged_losses):
    # R1 on the multi-scale D's real frames, and the spatio-temporal D's penalty centred at 0.
    cfg = tiny_config(*SPATIOTEMPORAL, "loss.r1_weight=1.0", "loss.gp_center=0.0", "train.steps=2")
    trainer = Trainer(cfg, tmp_path / "run")
    assert [getattr(a, "gp_center", None) for a in trainer.adversaries if a.name == "spatiotemporal"] == [0.0]
    befores = [_params(a.model) for a in trainer.adversaries]
    trainer.fit()
    assert all(not _unchanged(before, a.model) for before, a in zip(befores, trainer.adversaries))
    logs = logged_losses(tmp_path / "run")[1]
    assert logs["d_r1"] > 0 and logs["d_st_gp"] > 0


def test_discriminator_batches_take_their_own_motion_filter(tiny_config, tmp_path):
    settings = ("data.unfiltered_fraction=1.0", "data.d_unfiltered_fraction=0.0")
    trainer = Trainer(tiny_config(*settings), tmp_path / "run")
    assert trainer.batches_per_step == 2
    assert trainer.sampler.unfiltered_fractions == (0.0, 1.0)  # batch 2s is D's, 2s + 1 is G's
    trainer.next_batch()
    assert trainer.sampler.last_stats.n_unfiltered == 0
    trainer.next_batch()
    assert trainer.sampler.last_stats.n_unfiltered == trainer.cfg.train.batch_size
    no_d = Trainer(tiny_config(*settings, NO_MULTISCALE), tmp_path / "run2")
    assert no_d.sampler.unfiltered_fractions == (1.0,)


def test_contrastive_term_trains_the_generator_through_the_frozen_discriminator(tiny_config, tmp_path):
    trainer = Trainer(tiny_config("loss.l_nce=0.5", "loss.l_adv=0.0"), tmp_path / "run")
    d_before, g_before = _params(trainer.discriminator), _params(trainer.generator)
    logs = trainer.g_step(trainer.next_batch())
    # Before training, log(B) is about where InfoNCE starts; the term enters the total with its weight.
    assert 0 < logs["g_nce"].item() < 2 * math.log(trainer.cfg.train.batch_size)
    assert logs["g_total"].item() == pytest.approx((logs["g_lp"] + logs["g_gdl"] + 0.5 * logs["g_nce"]).item(), rel=1e-5)
    assert _unchanged(d_before, trainer.discriminator) and not _unchanged(g_before, trainer.generator)
    assert all(p.requires_grad for p in trainer.discriminator.parameters())  # trainable again for its own step


def test_contrastive_term_needs_the_multiscale_discriminator(tiny_config):
    with pytest.raises(ConfigError, match="loss.l_nce uses the multi-scale discriminator"):
        Trainer(tiny_config("loss.l_nce=0.5", NO_MULTISCALE))


def test_laplacian_term_enters_the_objective_with_its_weight(tiny_config, tmp_path):
    trainer = Trainer(tiny_config("loss.l_lap=2.0", "loss.lap_levels=3", "loss.l_adv=0.0"), tmp_path / "run")
    g_before = _params(trainer.generator)
    logs = trainer.g_step(trainer.next_batch())
    assert logs["g_lap"].item() > 0
    assert logs["g_total"].item() == pytest.approx((logs["g_lp"] + logs["g_gdl"] + 2.0 * logs["g_lap"]).item(), rel=1e-5)
    assert not _unchanged(g_before, trainer.generator)


def test_census_term_enters_the_objective_with_its_weight(tiny_config, tmp_path):
    trainer = Trainer(tiny_config("loss.l_census=0.5", "loss.census_window=5", "loss.l_adv=0.0"), tmp_path / "run")
    g_before = _params(trainer.generator)
    logs = trainer.g_step(trainer.next_batch())
    assert math.isfinite(logs["g_census"].item()) and logs["g_census"].item() > 0
    assert logs["g_total"].item() == pytest.approx((logs["g_lp"] + logs["g_gdl"] + 0.5 * logs["g_census"]).item(), rel=1e-5)
    assert not _unchanged(g_before, trainer.generator)


def test_ssim_term_enters_the_objective_with_its_weight(tiny_config, tmp_path):
    trainer = Trainer(tiny_config("loss.l_ssim=0.25", "loss.l_adv=0.0"), tmp_path / "run")
    g_before = _params(trainer.generator)
    logs = trainer.g_step(trainer.next_batch())
    assert 0 < logs["g_ssim"].item() < 2
    assert logs["g_total"].item() == pytest.approx((logs["g_lp"] + logs["g_gdl"] + 0.25 * logs["g_ssim"]).item(), rel=1e-5)
    assert not _unchanged(g_before, trainer.generator)


@pytest.mark.parametrize("weight", ["l_lap", "l_census", "l_ssim"])
def test_a_finest_scale_term_alone_trains_the_generator(weight, tiny_config, tmp_path):
    # Lp and GDL off: the generator's whole gradient comes through this term.
    cfg = tiny_config(f"loss.{weight}=1.0", "loss.l_p=0.0", "loss.l_gdl=0.0", "loss.l_adv=0.0", NO_MULTISCALE)
    trainer = Trainer(cfg, tmp_path / "run")
    g_before = _params(trainer.generator)
    logs = trainer.g_step(trainer.next_batch())
    assert logs["grad_norm_g"].item() > 0
    assert not _unchanged(g_before, trainer.generator)


def test_a_finest_scale_loss_in_the_table_is_computed_in_float32_weighted_and_logged_in_order(
        tiny_config, tmp_path, monkeypatch, logged_losses):
    # A new finest-scale term is one entry of FINEST_SCALE_LOSSES: the trainer computes, weights and logs
    # it with no line of its own, after the entries before it, outside autocast even under bf16.
    seen = []

    def fake_loss(pred, target, loss):
        seen.append((pred.dtype, target.dtype, torch.is_autocast_enabled("cpu"), loss.lap_levels))
        return (pred - target).abs().mean()

    monkeypatch.setitem(FINEST_SCALE_LOSSES, "g_fake", ("l_lap", fake_loss))  # sharing l_lap's weight
    cfg = tiny_config("loss.l_lap=2.0", "loss.l_census=0.5", "loss.l_adv=0.0", "train.precision=bf16", "train.steps=1")
    trainer = Trainer(cfg, tmp_path / "run")
    logs = trainer.g_step(trainer.next_batch())
    assert seen == [(torch.float32, torch.float32, False, cfg.loss.lap_levels)]
    expected = logs["g_lp"] + logs["g_gdl"] + 2.0 * logs["g_lap"] + 0.5 * logs["g_census"] + 2.0 * logs["g_fake"]
    assert logs["g_total"].item() == pytest.approx(expected.item(), rel=1e-5)
    terms = [k for k in logs if k in FINEST_SCALE_LOSSES]
    assert terms == ["g_lap", "g_census", "g_fake"]

    trainer.fit()
    logged = [k for k in logged_losses(tmp_path / "run")[1] if k in FINEST_SCALE_LOSSES]
    assert logged == ["g_lap", "g_census", "g_fake"]


class _Bar:
    """Records the progress bar's postfix."""

    def set_postfix(self, refresh=True, **postfix):
        self.postfix = postfix


class _RunLog:
    def train(self, step, values):
        pass


def _bar_text(trainer, **losses) -> str:
    bar = _Bar()
    logs = {"g_total": torch.tensor(1.5), **{k: torch.tensor(v) for k, v in losses.items()}}
    trainer._log_train(_RunLog(), bar, logs, step=1, seconds=1.0, tick_step=0)
    return bar.postfix["d"]


def test_the_logged_speed_counts_the_steps_since_the_last_log(tiny_config, tmp_path):
    trainer = Trainer(tiny_config(), tmp_path / "run")
    logged = {}

    class RunLog:
        def train(self, step, values):
            logged.update(values)

    logs = {"g_total": torch.tensor(1.5)}
    trainer._log_train(RunLog(), _Bar(), logs, step=30, seconds=2.0, tick_step=20)
    # 10 steps of train.batch_size (4) clips in 2 s
    assert logged["samples_per_sec"] == pytest.approx(10 * 4 / 2.0)


def test_the_progress_bar_shows_a_new_discriminators_loss(tiny_config, tmp_path, unscoring_adversary):
    Fake = unscoring_adversary("fake", "d_fake")
    trainer = Trainer(tiny_config(NO_MULTISCALE, "loss.l_adv=0.0"), tmp_path / "run")
    assert trainer.adversaries == []
    assert _bar_text(trainer) == "-"
    trainer.adversaries.append(Fake(nn.Linear(1, 1), trainable=False))
    assert _bar_text(trainer, d_fake_loss=0.25) == "0.250"
    assert _bar_text(trainer) == "-"  # before it starts


def test_the_progress_bar_prefers_a_discriminator_learning_from_scratch(tiny_config, blur_checkpoint, tmp_path):
    trainer = Trainer(tiny_config(*_blur(blur_checkpoint, frozen=False), *SPATIOTEMPORAL), tmp_path / "run")
    assert _bar_text(trainer, d_loss=0.5, d_blur_loss=0.75, d_st_loss=1.25) == "0.500"
    assert _bar_text(trainer, d_blur_loss=0.75, d_st_loss=1.25) == "1.250"  # the blur detector starts trained
    assert _bar_text(trainer, d_blur_loss=0.75) == "0.750"


def test_a_run_with_a_blur_judge_resumes_without_its_pretrained_file(tiny_config, blur_checkpoint, tmp_path):
    # Its checkpoint holds the judge's architecture and weights: the file (moved, replaced,
    # left on another machine) is not read; an earlier vidpred's checkpoint still needs it.
    run = tmp_path / "run"
    Trainer(tiny_config(*_blur(blur_checkpoint), "train.steps=2"), run).fit()
    judge = load_checkpoint(run / "checkpoints" / "latest.pt")["blur_discriminator"]
    blur_checkpoint.rename(tmp_path / "moved.pt")
    resumed = Trainer(tiny_config(*_blur(blur_checkpoint), "train.steps=3"), run, resume=True)
    blur = next(a.model for a in resumed.adversaries if a.pretrained)
    assert all(torch.equal(judge[k], v) for k, v in blur.state_dict().items())
    other = tmp_path / "other_blur.pt"
    save_blur_discriminator(BlurDiscriminator(width=8, n_down=2), other, {"source": "test"}, {"sharp": 0.5})
    Trainer(tiny_config(*_blur(other), "train.steps=3"), run, resume=True)  # a file of another architecture
    latest = run / "checkpoints" / "latest.pt"
    state = load_checkpoint(latest)
    del state["blur_discriminator_arch"], state["format_version"]  # a checkpoint of an earlier vidpred
    save_checkpoint(state, latest)
    with pytest.raises(ValueError, match=r"^cannot resume: the run's blur discriminator is not of the architecture its "
                                         r"pretrained file has now \(model.blur_discriminator.checkpoint\)"):
        Trainer(tiny_config(*_blur(other), "train.steps=3"), run, resume=True)

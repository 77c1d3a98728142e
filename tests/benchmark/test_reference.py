import pytest
import torch

from vidpred.benchmark.reference import ReferenceIteration
from vidpred.training.trainer import Trainer


def test_reference_computes_the_trainers_losses_and_updates(tiny_config, tmp_path):
    # Plain float32 NCHW for both: then the only differences are how the work is organised
    # (one D pass vs two, D frozen or not in the G step), which must not change any value.
    cfg = tiny_config("train.precision=fp32", "train.channels_last=false")
    trainer = Trainer(cfg, tmp_path / "run")
    reference = ReferenceIteration(cfg, torch.device("cpu"))
    for a, b in zip(trainer.generator.state_dict().values(), reference.generator.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)  # same seed, same construction order

    generator = torch.Generator().manual_seed(0)
    for _ in range(2):
        d_batch, g_batch = (torch.rand(4, 3, 5, 16, 16, generator=generator) * 2 - 1 for _ in range(2))
        d_loss = trainer.d_step(d_batch)["d_loss"]
        assert reference.d_step(d_batch).item() == pytest.approx(d_loss.item(), rel=1e-5)
        g_total = trainer.g_step(g_batch)["g_total"]
        assert reference.g_step(g_batch).item() == pytest.approx(g_total.item(), rel=1e-5)
    for a, b in zip(trainer.discriminator.parameters(), reference.discriminator.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    for a, b in zip(trainer.generator.parameters(), reference.generator.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_a_config_that_adds_to_the_paper_s_iteration_is_refused_naming_each_addition(tiny_config):
    with pytest.raises(ValueError, match=r"adds to: train.n_future: 2 \(the reference: 1\); loss.r1_weight: 1.0 "
                                         r"\(the reference: 0.0\): set these"):
        ReferenceIteration(tiny_config("train.n_future=2", "loss.r1_weight=1.0"), torch.device("cpu"))
    with pytest.raises(ValueError, match=r"model.discriminator.enabled: False \(the reference: True\)"):
        ReferenceIteration(tiny_config("model.discriminator.enabled=false"), torch.device("cpu"))
    with pytest.raises(ValueError, match=r"model.discriminator.objective: 'hinge'"):
        ReferenceIteration(tiny_config("model.discriminator.objective=hinge"), torch.device("cpu"))

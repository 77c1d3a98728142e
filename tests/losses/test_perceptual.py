from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from vidpred.losses.perceptual import lpips_loss, sample_frames, vgg_feature_loss
from vidpred.models.perceptual_networks import (
    LPIPS_BACKBONES,
    UNVERIFIED_WEIGHTS_ENV,
    MissingWeightsError,
    UnusableWeightsError,
    VGG19_LAYERS,
    VGG19Features,
    build_lpips,
    torchvision_cache_file,
)


@pytest.fixture
def empty_torch_home(tmp_path, monkeypatch):
    """torchvision's cache pointed at an empty directory (whatever this machine has)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub" / "checkpoints"


def test_sample_frames_same_index_for_both_and_reproducible():
    pred = torch.arange(4 * 3).float().view(4, 1, 3, 1, 1).expand(4, 2, 3, 2, 2)
    target = pred + 100
    p, t, index = sample_frames(pred, target, torch.Generator().manual_seed(1))
    assert p.shape == (4, 2, 2, 2) and index.shape == (4,)
    for b in range(4):
        assert torch.equal(p[b], pred[b, :, index[b]]) and torch.equal(t[b], target[b, :, index[b]])
    _, _, again = sample_frames(pred, target, torch.Generator().manual_seed(1))
    assert torch.equal(index, again)
    _, _, many = sample_frames(pred.repeat(50, 1, 1, 1, 1), target.repeat(50, 1, 1, 1, 1), torch.Generator().manual_seed(2))
    assert set(many.tolist()) == {0, 1, 2}  # every frame can be drawn, independently per clip


class _FakeFeatures(nn.Module):
    """Stands in for VGG: two 'layers', identity and 2x."""

    def forward(self, x):
        return {"a": x, "b": 2 * x}


def test_vgg_feature_loss_hand_worked():
    pred = torch.zeros(2, 3, 2, 2)
    target = torch.zeros(2, 3, 2, 2)
    target[0] = 1.0  # frame 0: layer a MSE 1, layer b MSE 4 -> 2.5; frame 1: 0
    per_frame = vgg_feature_loss(pred, target, _FakeFeatures(), reduction="none")
    torch.testing.assert_close(per_frame, torch.tensor([2.5, 0.0]))
    assert vgg_feature_loss(pred, target, _FakeFeatures()).item() == pytest.approx(1.25)


def test_vgg19_features_random_weights_shapes_and_gradient_only_to_the_prediction(caplog):
    with caplog.at_level("WARNING"):
        vgg = VGG19Features(["relu1_2", "relu2_2", "relu3_4"], pretrained=False)  # random: test only
    assert "VGG19 features built with RANDOM weights" in caplog.text  # asked for, and said
    frames = torch.rand(2, 3, 32, 32) * 2 - 1
    features = vgg(frames)
    assert {k: tuple(v.shape) for k, v in features.items()} == {
        "relu1_2": (2, 64, 32, 32), "relu2_2": (2, 128, 16, 16), "relu3_4": (2, 256, 8, 8)
    }
    assert len(vgg.features) == VGG19_LAYERS.index("relu3_4") + 1  # truncated after the deepest layer
    assert "mean" not in vgg.state_dict() and "std" not in vgg.state_dict()
    pred = frames.clone().requires_grad_()
    assert vgg_feature_loss(frames, frames, vgg).item() == 0.0
    loss = vgg_feature_loss(pred, torch.rand(2, 3, 32, 32) * 2 - 1, vgg)
    loss.backward()
    assert loss > 0 and pred.grad.abs().sum() > 0
    assert not vgg.training and all(p.grad is None and not p.requires_grad for p in vgg.parameters())


def test_lpips_random_backbone_zero_on_identical_frames():
    torch.manual_seed(0)
    lpips_net = build_lpips("alex", pretrained=False)  # random backbone: test only
    frames = torch.rand(3, 3, 32, 32) * 2 - 1
    assert lpips_loss(frames, frames, lpips_net).item() == pytest.approx(0.0, abs=1e-7)
    per_frame = lpips_loss(frames, frames.flip(0), lpips_net, reduction="none")
    assert per_frame.shape == (3,)
    # Reversed, the middle frame meets itself: 0 there only; the first and last swap places, and
    # the distance does not depend on which one is the prediction.
    assert per_frame[1].item() == pytest.approx(0.0, abs=1e-7) and (per_frame[[0, 2]] > 1e-4).all()
    torch.testing.assert_close(per_frame[0], per_frame[2])
    torch.testing.assert_close(lpips_loss(frames, frames.flip(0), lpips_net), per_frame.mean())
    torch.testing.assert_close(lpips_loss(frames, frames.flip(0), lpips_net, reduction="sum"), per_frame.sum())
    assert not lpips_net.training and not any(p.requires_grad for p in lpips_net.parameters())


def test_missing_weight_files_are_named(empty_torch_home):
    with pytest.raises(MissingWeightsError) as info:
        VGG19Features(["relu1_2"])
    assert str(empty_torch_home / "vgg19-dcbb9e9d.pth") in str(info.value)
    assert "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth" in str(info.value)
    for net, filename in LPIPS_BACKBONES.items():
        with pytest.raises(MissingWeightsError, match=str(empty_torch_home / filename)):
            build_lpips(net)


def test_weights_are_read_from_torchvisions_cache(empty_torch_home, monkeypatch, caplog):
    # A stand-in for vgg19-dcbb9e9d.pth holding only what relu1_2 needs, in torchvision's key layout.
    empty_torch_home.mkdir(parents=True)
    torch.manual_seed(0)
    conv1, conv2 = nn.Conv2d(3, 64, 3, padding=1), nn.Conv2d(64, 64, 3, padding=1)
    state = {"features.0.weight": conv1.weight, "features.0.bias": conv1.bias,
             "features.2.weight": conv2.weight, "features.2.bias": conv2.bias}
    torch.save({k: v.detach() for k, v in state.items()}, torchvision_cache_file("vgg19-dcbb9e9d.pth"))
    # not ImageNet's: refused by its hash unless accepted explicitly (then with a warning)
    with pytest.raises(UnusableWeightsError, match="is not torchvision's vgg19-dcbb9e9d.pth: its SHA-256 begins "):
        VGG19Features(["relu1_2"])
    monkeypatch.setenv(UNVERIFIED_WEIGHTS_ENV, "1")
    with caplog.at_level("WARNING"):
        vgg = VGG19Features(["relu1_2"])
    assert f"used all the same, as {UNVERIFIED_WEIGHTS_ENV}=1 asks (these are not the ImageNet weights)" in caplog.text
    assert torch.equal(vgg.features[0].weight, conv1.weight) and torch.equal(vgg.features[2].bias, conv2.bias)

    alex = torchvision.models.alexnet().features
    torch.save({f"features.{k}": v for k, v in alex.state_dict().items()}, torchvision_cache_file(LPIPS_BACKBONES["alex"]))
    lpips_net = build_lpips("alex")
    assert torch.equal(getattr(lpips_net.net.slice1, "0").weight, alex[0].weight)  # slices keep torchvision indices as names
    assert torch.equal(getattr(lpips_net.net.slice5, "10").bias, alex[10].bias)

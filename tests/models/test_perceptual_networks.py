"""The one loader of the frozen ImageNet networks: its size table is what the networks accept,
and the metric and the loss share it. ImageNet weights cannot be downloaded here: random
weights are built explicitly, and files laid out like torchvision's stand in for real ones."""

from __future__ import annotations

import pytest
import torch

import vidpred.metrics.lpips as lpips_metric
from vidpred.models.perceptual_networks import (
    _VGG19_CFG,
    LPIPS_BACKBONES,
    LPIPS_MIN_SIZE,
    MissingWeightsError,
    UnusableWeightsError,
    build_lpips,
    is_named_file,
)


@pytest.mark.parametrize("net", sorted(LPIPS_MIN_SIZE))
def test_min_size_is_the_smallest_side_the_network_accepts(net):
    network = build_lpips(net, pretrained=False)  # random backbone: sizes only
    size = LPIPS_MIN_SIZE[net]
    frames = torch.rand(2, 3, size, size + 9) * 2 - 1
    assert torch.isfinite(network(frames, frames.flip(0))).all()
    with pytest.raises(RuntimeError, match="too small"):
        network(frames[..., :size - 1, :], frames[..., :size - 1, :])


def test_the_metric_uses_the_same_loader_and_table(monkeypatch):
    assert lpips_metric.LPIPS_MIN_SIZE is LPIPS_MIN_SIZE and lpips_metric.LPIPS_BACKBONES is LPIPS_BACKBONES
    calls = []

    def recording(net, pretrained=True, weights_path=None, turn_off=""):
        calls.append((net, pretrained))
        return build_lpips(net, pretrained=False)

    monkeypatch.setattr(lpips_metric, "build_lpips", recording)
    lpips_metric.load_lpips("squeeze", random_backbone=True)
    assert calls == [("squeeze", False)]


def test_vgg19_recipe_is_torchvisions():
    import torchvision

    assert _VGG19_CFG == torchvision.models.vgg.cfgs["E"]


def test_a_file_of_another_network_is_refused_by_name(tmp_path):
    import torchvision

    vgg_features = torchvision.models.vgg16().features.state_dict()  # not AlexNet's layers
    path = tmp_path / "alexnet-owt-7be5be79.pth"
    torch.save({f"features.{k}": v for k, v in vgg_features.items()}, path)
    with pytest.raises(UnusableWeightsError, match=str(path)):
        build_lpips("alex", weights_path=path)
    with pytest.raises(MissingWeightsError, match="squeezenet1_1-b8a52dc0.pth"):
        build_lpips("squeeze", weights_path=tmp_path / "squeezenet1_1-b8a52dc0.pth")


def test_vgg_sees_frames_normalised_with_imagenets_statistics():
    # Frames in [-1, 1] go to [0, 1], then (x - mean) / std with torchvision's ImageNet values:
    # black is -mean / std, white (1 - mean) / std per channel.
    from vidpred.models.perceptual_networks import VGG19Features

    vgg = VGG19Features(["relu1_1"], pretrained=False)  # random weights: only the input is looked at
    seen = []
    vgg.features[0].register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0]))
    vgg(torch.tensor([-1.0, 1.0]).view(2, 1, 1, 1).expand(2, 3, 4, 4))
    mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
    torch.testing.assert_close(seen[0][:, :, 0, 0], torch.stack([-mean / std, (1 - mean) / std]))


def test_a_file_is_the_named_download_when_its_hash_begins_as_the_name_says(tmp_path):
    import hashlib

    path = tmp_path / "weights.pth"
    path.write_bytes(b"some weights")
    digest = hashlib.sha256(b"some weights").hexdigest()
    assert is_named_file(path, f"net-{digest[:8]}.pth")
    assert not is_named_file(path, f"net-{'0' if digest[0] != '0' else '1'}{digest[1:8]}.pth")
    assert is_named_file(path, "net.pth")  # no hash in the name: nothing to check it against

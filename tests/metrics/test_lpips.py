"""LPIPS: plumbing with an explicitly random backbone, loading a backbone file, and skipping."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import vidpred.metrics.lpips as lpips_module
from vidpred.metrics import LPIPSUnavailable, backbone_weights_path, load_lpips


def test_default_path_is_torch_hubs_alexnet_file():
    path = backbone_weights_path("alex")
    assert path.name == "alexnet-owt-7be5be79.pth"
    assert path.parent == Path(torch.hub.get_dir()) / "checkpoints"


def test_plumbing_with_a_random_backbone():
    metric = load_lpips(random_backbone=True)
    assert not metric.pretrained_backbone
    x = torch.rand(2, 3, 40, 48, generator=torch.Generator().manual_seed(0)) * 2 - 1
    same = metric(x, x.clone())
    different = metric(x, x.flip(0))
    assert same.shape == (2,) and same.dtype == torch.float64
    torch.testing.assert_close(same, torch.zeros(2, dtype=torch.float64))
    assert (different > 0).all()
    with pytest.raises(ValueError, match="at least 31 px"):
        metric(x[..., :24, :24], x[..., :24, :24])


def test_missing_weights_skip_names_the_file_and_where_to_put_it(monkeypatch, tmp_path):
    missing = tmp_path / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth"
    monkeypatch.setattr(lpips_module, "backbone_weights_path", lambda net="alex": missing)
    with pytest.raises(LPIPSUnavailable) as info:
        load_lpips()
    message = str(info.value)
    assert message.startswith("LPIPS skipped")
    assert str(missing) in message and f"{missing.parent}/" in message
    assert "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth" in message


def test_backbone_is_filled_from_the_file(tmp_path, lpips_standin):
    path = tmp_path / "alexnet-owt-7be5be79.pth"
    source = lpips_standin(path)
    metric = load_lpips(weights_path=path)
    assert metric.pretrained_backbone
    backbone = metric.network.net
    for slice_name, index in (("slice1", 0), ("slice2", 3), ("slice3", 6), ("slice4", 8), ("slice5", 10)):
        layer = dict(getattr(backbone, slice_name).named_children())[str(index)]  # lpips keeps torchvision's index
        torch.testing.assert_close(layer.weight, source[f"features.{index}.weight"])
        torch.testing.assert_close(layer.bias, source[f"features.{index}.bias"])


def test_unreadable_file_is_a_skip_not_a_crash(tmp_path):
    path = tmp_path / "alexnet-owt-7be5be79.pth"
    path.write_bytes(b"truncated download")
    with pytest.raises(LPIPSUnavailable, match="unreadable"):
        load_lpips(weights_path=path)


def test_the_metric_is_frozen_and_in_eval_mode():
    metric = load_lpips(random_backbone=True)
    assert not metric.network.training
    assert not any(parameter.requires_grad for parameter in metric.parameters())

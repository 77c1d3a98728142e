from __future__ import annotations

import re

import pytest
import torch

from vidpred.checkpoint import save_checkpoint
from vidpred.models.blur_discriminator import BlurDiscriminator, load_blur_discriminator, save_blur_discriminator


def test_logits_for_any_frame_size():
    model = BlurDiscriminator(width=8, n_down=3)
    for size in ((32, 32), (64, 48)):
        logits = model(torch.rand(5, 3, *size) * 2 - 1)
        assert logits.shape == (5,) and torch.isfinite(logits).all()
    with pytest.raises(ValueError, match="expected frames"):
        model(torch.zeros(2, 3, 1, 32, 32))


def test_has_no_batch_norm():
    model = BlurDiscriminator(width=8, n_down=2)
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())


def test_checkpoint_round_trip_keeps_architecture_and_metadata(tmp_path):
    torch.manual_seed(0)
    model = BlurDiscriminator(width=6, n_down=2, leaky_slope=0.1)
    path = tmp_path / "blur.pt"
    save_blur_discriminator(model, path, {"source": "procedural"}, {"sharp": 0.9})
    loaded, meta = load_blur_discriminator(path)
    assert loaded.arch == {"channels": 3, "width": 6, "n_down": 2, "leaky_slope": 0.1}
    assert meta["training"] == {"source": "procedural"} and meta["accuracy"] == {"sharp": 0.9}
    x = torch.rand(2, 3, 16, 16)
    torch.testing.assert_close(loaded(x), model(x))


def test_missing_or_foreign_checkpoint_is_named(tmp_path):
    missing = tmp_path / "nowhere" / "blur.pt"
    with pytest.raises(FileNotFoundError) as info:
        load_blur_discriminator(missing)
    assert str(missing) in str(info.value) and "scripts/pretrain_blur_discriminator.py" in str(info.value)
    save_checkpoint({"step": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a blur discriminator"):
        load_blur_discriminator(tmp_path / "other.pt")
    # a folder is not "not found": it is named as a folder
    with pytest.raises(IsADirectoryError, match=f"^{re.escape(str(tmp_path))} is a folder: model.blur_discriminator"):
        load_blur_discriminator(tmp_path)


def test_parameter_count_by_hand_with_maps_capped_at_8_width():
    # 3x3 convs 3 -> 32 -> 64 -> 128 -> 256 -> 256 (capped at 8 * 32), then a linear layer to one logit:
    # (3*32*9 + 32) + (32*64*9 + 64) + (64*128*9 + 128) + (128*256*9 + 256) + (256*256*9 + 256) + (256 + 1).
    model = BlurDiscriminator(width=32, n_down=4)
    expected = 896 + 18_496 + 73_856 + 295_168 + 590_080 + 257
    assert sum(p.numel() for p in model.parameters()) == expected == 978_753


def test_the_logit_reads_the_features_averaged_over_every_position():
    # Global average pooling (the module docstring): a pretrained detector's logits depend on it.
    torch.manual_seed(0)
    model = BlurDiscriminator(width=4, n_down=2).eval()
    frames = torch.rand(2, 3, 24, 40) * 2 - 1
    with torch.no_grad():
        features = model.features(frames)  # (2, 16, 6, 10)
        expected = features.mean(dim=(2, 3)) @ model.classifier.weight[0] + model.classifier.bias[0]
        torch.testing.assert_close(model(frames), expected)
        assert not torch.allclose(model(frames), features.amax(dim=(2, 3)) @ model.classifier.weight[0]
                                  + model.classifier.bias[0])

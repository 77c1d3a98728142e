import pytest
import torch

from vidpred.losses.laplacian import _up, laplacian_loss, laplacian_pyramid


def test_zero_on_identical_inputs_and_plain_l1_with_one_level():
    x = torch.rand(2, 3, 2, 16, 20) * 2 - 1
    assert float(laplacian_loss(x, x.clone())) == 0.0
    y = torch.rand_like(x) * 2 - 1
    assert torch.allclose(laplacian_loss(x, y, levels=1), (x - y).abs().mean())


def test_the_pyramid_rebuilds_the_image_at_odd_sizes():
    image = torch.rand(1, 3, 37, 50, dtype=torch.float64)
    bands = laplacian_pyramid(image, 4)
    assert [b.shape[-2:] for b in bands] == [(37, 50), (18, 25), (9, 12), (4, 6)]
    rebuilt = bands[-1]
    for band in reversed(bands[:-1]):
        rebuilt = band + _up(rebuilt, band.shape[-2:])
    torch.testing.assert_close(rebuilt, image)


def test_hand_worked_values():
    target = torch.zeros(1, 1, 1, 16, 16)
    # A constant offset of 0.5: every band-pass level is 0 (the Gaussian keeps a constant, the
    # reflected border too), the low-pass level is 0.5 everywhere.
    assert float(laplacian_loss(target + 0.5, target, levels=3)) == pytest.approx(0.5)
    # One pixel of 1 in a 16x16 frame of zeros, one level: the mean absolute difference, 1/256.
    spike = target.clone()
    spike[..., 8, 8] = 1.0
    assert float(laplacian_loss(spike, target, levels=1)) == pytest.approx(1 / 256)
    # Sum reduction with one level: the L1 sum.
    assert float(laplacian_loss(spike, target, levels=1, reduction="sum")) == pytest.approx(1.0)


def test_a_shift_costs_more_at_fine_bands_than_a_brightness_change_of_the_same_l1():
    torch.manual_seed(0)
    texture = torch.rand(1, 1, 32, 32)
    shifted = torch.roll(texture, 1, dims=-1)
    brighter = texture + (shifted - texture).abs().mean()  # the same plain L1 as the shift
    fine = laplacian_pyramid(shifted, 3)[0] - laplacian_pyramid(texture, 3)[0]
    assert fine.abs().mean() > 0.1 and float((laplacian_pyramid(brighter, 3)[0] - laplacian_pyramid(texture, 3)[0]).abs().max()) < 1e-5


def test_gradcheck():
    pred = torch.rand(1, 1, 2, 8, 8, dtype=torch.float64, requires_grad=True)
    target = torch.rand(1, 1, 2, 8, 8, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda p: laplacian_loss(p, target, levels=3), (pred,))


def test_bad_inputs_are_one_line_errors():
    x = torch.zeros(1, 1, 8, 8)
    with pytest.raises(ValueError, match="shapes differ"):
        laplacian_loss(x, torch.zeros(1, 1, 8, 9))
    with pytest.raises(ValueError, match="at least 16 px"):
        laplacian_loss(x, x, levels=5)
    with pytest.raises(ValueError, match="reduction"):
        laplacian_loss(x, x, reduction="none")

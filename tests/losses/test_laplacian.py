import pytest
import torch

from vidpred.losses.laplacian import _up, laplacian_loss, laplacian_pyramid, smallest_frame


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


def test_a_linear_ramp_lives_in_the_low_pass_level_only_away_from_the_border():
    # The Gaussian blur and bilinear resampling (align_corners=False, samples at 2i + 0.5) both keep
    # a linear function, so every band-pass level of a ramp is 0 where no reflected border reaches.
    rows = torch.arange(32, dtype=torch.float64)[:, None]
    cols = torch.arange(48, dtype=torch.float64)[None, :]
    ramp = (0.02 * rows - 0.03 * cols + 0.4)[None, None]
    bands = laplacian_pyramid(ramp, 3)
    assert bands[0][..., 3:-3, 3:-3].abs().max() < 1e-12
    assert bands[1][..., 5:-5, 5:-5].abs().max() < 1e-12


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
    with pytest.raises(ValueError, match="at least 6 px"):
        laplacian_loss(x[..., :5], x[..., :5], levels=3)
    with pytest.raises(ValueError, match="levels must be >= 1"):
        laplacian_loss(x, x, levels=0)


def test_every_level_adds_its_mean_absolute_difference():
    # A random texture against a flat frame differs at every level of a 3-level pyramid: the loss is
    # the sum of the three per-level means (and of the three sums for reduction="sum"), not one of them.
    generator = torch.Generator().manual_seed(0)
    pred = torch.rand(1, 1, 24, 24, generator=generator, dtype=torch.float64)
    target = torch.zeros_like(pred)
    diffs = [(a - b).abs() for a, b in zip(laplacian_pyramid(pred, 3), laplacian_pyramid(target, 3))]
    means = [float(d.mean()) for d in diffs]
    assert min(means) > 0.01
    assert float(laplacian_loss(pred, target, levels=3)) == pytest.approx(sum(means))
    summed = sum(float(d.sum()) for d in diffs)
    assert float(laplacian_loss(pred, target, levels=3, reduction="sum")) == pytest.approx(summed)


@pytest.mark.parametrize("levels, side", [(1, 1), (2, 3), (3, 6), (4, 12), (5, 24)])
def test_the_smallest_frame_each_number_of_levels_takes(levels, side):
    # The last pyrdown reflects a 2-pixel border, so its input needs 3 px: side / 2^(levels-2) >= 3.
    assert smallest_frame(levels) == side
    x = torch.zeros(1, 1, side, side + 1)
    assert float(laplacian_loss(x, x + 1, levels=levels)) == pytest.approx(1.0)  # an offset: the low-pass level only
    if side > 1:
        with pytest.raises(ValueError, match=f"{levels} levels need frames of at least {side} px"):
            laplacian_loss(x[..., :-2, :], x[..., :-2, :], levels=levels)
    with pytest.raises(ValueError, match="reduction"):
        laplacian_loss(x, x, reduction="none")

import pytest
import torch

from vidpred.losses.census import CENSUS_EPSILON, census_loss

# With epsilon 0.75 a difference of 0.5 has the soft sign 0.5 / sqrt(0.75 + 0.25) = 0.5, and a
# gap of 0.5 between two soft signs costs 0.25 / (0.1 + 0.25) = 5/7.
EPSILON = 0.75


def test_zero_on_identical_inputs():
    x = torch.rand(2, 3, 2, 16, 20) * 2 - 1
    assert float(census_loss(x, x.clone())) == 0.0


def test_hand_worked_values_3x3_window():
    # 3x3 frame: one described pixel, the centre. The prediction's top-left corner is 0.5, the
    # target is flat: one neighbour's soft signs differ by 0.5, 5/7.
    target = torch.zeros(1, 1, 3, 3)
    corner = target.clone()
    corner[..., 0, 0] = 0.5
    assert float(census_loss(corner, target, window=3, epsilon=EPSILON)) == pytest.approx(5 / 7)
    # Grey is the mean over channels: (1.0, 0.5, 0.0) at the centre is 0.5, so all 8 neighbours'
    # soft signs are -0.5 where the target's are 0: 8 x 5/7.
    target = torch.zeros(1, 3, 3, 3)
    centre = target.clone()
    centre[0, :, 1, 1] = torch.tensor([1.0, 0.5, 0.0])
    assert float(census_loss(centre, target, window=3, epsilon=EPSILON)) == pytest.approx(40 / 7)
    # 4x4 frame: the inner 2x2 pixels are described. The prediction's (1, 1) is 0.5: as a centre
    # all 8 neighbours differ (8 x 5/7), and it is a neighbour of each of the other 3 centres
    # (3 x 5/7): 55/7 in all, 55/28 per described pixel.
    target = torch.zeros(1, 1, 4, 4)
    spike = target.clone()
    spike[..., 1, 1] = 0.5
    assert float(census_loss(spike, target, window=3, epsilon=EPSILON)) == pytest.approx(55 / 28)
    assert float(census_loss(spike, target, window=3, epsilon=EPSILON, reduction="sum")) == pytest.approx(55 / 7)


def test_limiting_cases_with_the_default_epsilon():
    assert CENSUS_EPSILON == pytest.approx((0.9 * 2 / 255) ** 2)  # 0.9 grey levels of 255 on the [-1, 1] scale
    # A step far above sqrt(epsilon) (0.007) is a hard sign: against a flat target a neighbour
    # costs 1 / 1.1; against the step the other way, 4 / 4.1. One neighbour on a 3x3 frame.
    flat = torch.zeros(1, 1, 3, 3)
    up, down = flat.clone(), flat.clone()
    up[..., 0, 0], down[..., 0, 0] = 0.5, -0.5
    assert float(census_loss(up, flat, window=3)) == pytest.approx(1 / 1.1, rel=1e-3)
    assert float(census_loss(up, down, window=3)) == pytest.approx(4 / 4.1, rel=1e-3)
    # A difference d far below it is nearly linear: soft sign d / sqrt(epsilon), cost d^2 / (0.1 epsilon), 0.002.
    up[..., 0, 0] = 1e-4
    assert float(census_loss(up, flat, window=3)) == pytest.approx(1e-8 / (0.1 * CENSUS_EPSILON), rel=5e-3)


def test_a_brightness_offset_costs_nothing_and_a_shift_costs_much():
    torch.manual_seed(0)
    texture = torch.rand(1, 3, 2, 24, 24, dtype=torch.float64) * 1.6 - 0.8
    assert float(census_loss(texture + 0.2, texture)) == pytest.approx(0.0, abs=1e-9)
    other = torch.rand_like(texture) * 1.6 - 0.8
    assert float(census_loss(texture - 0.15, other)) == pytest.approx(float(census_loss(texture, other)))
    shifted = torch.roll(texture, 1, dims=-1)
    # Of 48 neighbours, a texture's shift by one pixel changes most of the signs.
    assert float(census_loss(shifted, texture)) > 10


def test_gradcheck():
    pred = torch.rand(1, 2, 2, 5, 6, dtype=torch.float64, requires_grad=True)
    target = torch.rand(1, 2, 2, 5, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda p, t: census_loss(p, t, window=3), (pred, target))


def test_bad_inputs_are_one_line_errors():
    x = torch.zeros(1, 1, 8, 8)
    with pytest.raises(ValueError, match="shapes differ"):
        census_loss(x, torch.zeros(1, 1, 8, 9))
    with pytest.raises(ValueError, match="odd and >= 3, got 4"):
        census_loss(x, x, window=4)
    with pytest.raises(ValueError, match="odd and >= 3, got 1"):
        census_loss(x, x, window=1)
    with pytest.raises(ValueError, match="at least 9 px"):
        census_loss(x, x, window=9)
    with pytest.raises(ValueError, match="reduction"):
        census_loss(x, x, reduction="none")

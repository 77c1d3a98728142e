from __future__ import annotations

import kornia.filters
import pytest
import torch

from vidpred.models.blurpool import Blur2d, Blur3d, binomial_kernel


def test_kernel_is_the_normalised_outer_product_of_1_2_1():
    k = torch.tensor([1.0, 2.0, 1.0])
    assert torch.equal(Blur2d().kernel, torch.outer(k, k) / 16)
    assert torch.equal(Blur3d().kernel, torch.einsum("i,j,l->ijl", k, k, k) / 64)
    assert Blur2d().kernel[1, 1] == 0.25 and Blur3d().kernel[1, 1, 1] == 0.125
    for ndim in (1, 2, 3):
        assert binomial_kernel(ndim).sum().item() == pytest.approx(1.0)


def test_fixed_kernel_is_a_non_persistent_buffer():
    for blur in (Blur2d(), Blur3d()):
        assert "taps" in dict(blur.named_buffers())
        assert blur.state_dict() == {}
        assert list(blur.parameters()) == []


def _alternating(n: int) -> torch.Tensor:
    return torch.tensor([1.0, -1.0]).repeat(n // 2)


def test_removes_the_nyquist_pattern_in_every_direction():
    along_w = _alternating(8).view(1, 1, 1, 8).expand(2, 3, 8, 8)
    along_h = along_w.transpose(2, 3)
    checker = along_w * along_h
    for x in (along_w, along_h, checker):
        assert Blur2d()(x).abs().max() < 1e-6  # amplitude 1 before
    along_t = _alternating(6).view(1, 1, 6, 1, 1).expand(2, 3, 6, 8, 8)
    assert Blur3d()(along_t).abs().max() < 1e-6
    assert Blur3d()(along_t * checker.unsqueeze(2)[:, :, :1]).abs().max() < 1e-6


def test_keeps_constants_and_low_frequencies():
    assert torch.allclose(Blur2d()(torch.full((1, 2, 5, 7), 0.3)), torch.full((1, 2, 5, 7), 0.3))
    ramp = torch.linspace(-1, 1, 8).view(1, 1, 8, 1).expand(1, 1, 8, 8)
    # A linear ramp is unchanged away from the (reflected) border rows.
    assert torch.allclose(Blur2d()(ramp)[:, :, 1:-1], ramp[:, :, 1:-1], atol=1e-6)


def test_equals_kornia_filtering_with_the_full_kernel():
    # An independent implementation: a direct (non-separable) correlation with reflect borders.
    generator = torch.Generator().manual_seed(0)
    x2 = torch.randn(2, 3, 6, 9, generator=generator, dtype=torch.float64)
    x3 = torch.randn(2, 3, 5, 6, 7, generator=generator, dtype=torch.float64)
    expected2 = kornia.filters.filter2d(x2, binomial_kernel(2, torch.float64)[None], border_type="reflect")
    expected3 = kornia.filters.filter3d(x3, binomial_kernel(3, torch.float64)[None], border_type="reflect")
    torch.testing.assert_close(Blur2d().double()(x2), expected2)
    torch.testing.assert_close(Blur3d().double()(x3), expected3)


def test_gradcheck_including_double_backward():
    x = torch.randn(1, 2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    blur = Blur3d().double()
    assert torch.autograd.gradcheck(blur, (x,))
    assert torch.autograd.gradgradcheck(blur, (x,))  # the gradient penalty differentiates twice


def test_too_small_inputs_are_refused():
    with pytest.raises(ValueError, match="at least 2 samples"):
        Blur3d()(torch.zeros(1, 1, 1, 4, 4))

"""Temporal flicker: the path-loss note's example and hand-worked spectra."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidpred.metrics import temporal_energy, temporal_high_frequency_share


def _clip(values: list[float]) -> torch.Tensor:
    """A one-pixel clip (1, 1, T, 1, 1) from grey levels in [0, 255], in [-1, 1]."""
    return (torch.tensor(values, dtype=torch.float64) / 127.5 - 1).reshape(1, 1, -1, 1, 1)


def test_path_loss_note_flickering_prediction_scores_higher():
    target = _clip([128, 128, 128])
    smooth, flicker = _clip([129, 129, 129]), _clip([127, 129, 127])
    # Same per-frame MSE against the target (1 grey level everywhere)...
    assert (smooth - target).square().mean() == pytest.approx((flicker - target).square().mean().item())
    # ...but only the second one changes frame to frame.
    shares = temporal_high_frequency_share(torch.cat([target, smooth, flicker]))
    assert shares.tolist() == [0.0, 0.0, 1.0]


def test_hand_worked_spectra():
    # x = [0, 1, 2, 3]: X_k = sum_t x_t e^{-i pi k t / 2} -> X_1 = -2 + 2i, X_2 = -2, X_3 = -2 - 2i:
    # energies 8, 4, 8 at |f| = 0.25, 0.5, 0.25; only 0.5 is above 0.25 -> 4 / 20.
    ramp = torch.arange(4, dtype=torch.float64).reshape(1, 1, 4, 1, 1)
    high, total = temporal_energy(ramp)
    assert (high.item(), total.item()) == pytest.approx((4.0, 20.0))
    assert temporal_high_frequency_share(ramp).item() == pytest.approx(0.2)
    # Pure alternation: all energy at the Nyquist frequency.
    alternating = torch.tensor([0.0, 1, 0, 1]).reshape(1, 1, 4, 1, 1)
    assert temporal_high_frequency_share(alternating).item() == pytest.approx(1.0)
    # One slow period (0, 1, 1, 0): energy only at |f| = 0.25.
    slow = torch.tensor([0.0, 1, 1, 0]).reshape(1, 1, 4, 1, 1)
    assert temporal_high_frequency_share(slow).item() == pytest.approx(0.0, abs=1e-12)


def test_parseval_and_batching():
    clips = torch.rand(3, 3, 6, 5, 7, generator=torch.Generator().manual_seed(0)) * 2 - 1
    high, total = temporal_energy(clips)
    deviation = clips.double() - clips.double().mean(dim=2, keepdim=True)
    torch.testing.assert_close(total, 6 * deviation.square().sum(dim=(1, 2, 3, 4)))
    # An independent implementation: NumPy's FFT along time, |X_k|^2 summed where |f_k| > 0.25.
    spectrum = np.abs(np.fft.fft(clips.double().numpy(), axis=2)) ** 2  # (B, C, T, H, W)
    upper = np.abs(np.fft.fftfreq(6)) > 0.25  # 1/3, -1/2 and -1/3 cycles per frame
    np.testing.assert_allclose(high.numpy(), spectrum[:, :, upper].sum(axis=(1, 2, 3, 4)), rtol=1e-10, atol=0)
    assert (high < 0.9 * total).all() and (high > 0.1 * total).all()  # neither band empty: the check compares something
    torch.testing.assert_close(temporal_high_frequency_share(clips)[1:], temporal_high_frequency_share(clips[1:]))


def test_static_clip_has_no_flicker_and_short_clips_are_rejected():
    static = torch.full((2, 3, 4, 8, 8), 0.3)
    assert temporal_high_frequency_share(static).tolist() == [0.0, 0.0]
    # One pixel of a 3 x 32 x 32 clip alternating by one grey level is a change, not rounding: share 1.
    one_pixel = static[:1].clone().repeat(1, 1, 1, 4, 4)
    one_pixel[0, 0, 1::2, 5, 7] += 2 / 255
    assert temporal_high_frequency_share(one_pixel).tolist() == [pytest.approx(1.0)]
    with pytest.raises(ValueError, match="T >= 2"):
        temporal_energy(static[:, :, :1])

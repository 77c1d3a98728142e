"""Anti-aliasing blur placed before strided convolutions ("blurpool"; the CogVideo loss notes).

A strided convolution samples its input on a coarser grid; content above the new Nyquist
frequency folds back (aliases) into low frequencies, so a one-pixel shift of the input can
change the output a lot. Blurring with a binomial low-pass filter first (Zhang, "Making
Convolutional Networks Shift-Invariant Again", ICML 2019) removes that content. The CogVideo loss notes
uses the outer product of ``[1, 2, 1]``, normalised to sum 1::

    k = [1, 2, 1] / 4;  K_2d[i, j] = k_i k_j  (= outer / 16);  K_3d[i, j, l] = k_i k_j k_l  (= outer / 64)

The blur has stride 1; the strided convolution that follows does the subsampling. Borders
are reflected, so an alternating (Nyquist) pattern blurs to exactly 0 everywhere.

Implementation: the kernel is separable, so the blur is one ``[1, 2, 1] / 4`` pass per
axis, each a multiplication by a banded ``n x n`` matrix that also encodes the reflected
borders. The result equals ``kornia.filters.filter2d`` / ``filter3d`` with the full kernel
and reflect borders (a test checks it), but on a CPU the matrix products are several
times faster than a depthwise convolution, most of all through the double backward of
the gradient penalty.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["binomial_kernel", "Blur2d", "Blur3d"]

_TAPS = (1.0, 2.0, 1.0)


def binomial_kernel(ndim: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """Normalised outer product of ``[1, 2, 1]`` over ``ndim`` axes.

    Args:
        ndim: 1 (``[1, 2, 1] / 4``), 2 (``(3, 3)``, ``[[1, 2, 1], [2, 4, 2], [1, 2, 1]] / 16``)
            or 3 (``(3, 3, 3)``, ``k_i k_j k_l / 64``).

    Returns:
        ``(3,) * ndim`` tensor summing to 1.
    """
    if ndim not in (1, 2, 3):
        raise ValueError(f"binomial_kernel supports ndim 1, 2 or 3, got {ndim}")
    taps = torch.tensor(_TAPS, dtype=dtype)
    kernel = taps
    for _ in range(ndim - 1):
        kernel = kernel.unsqueeze(-1) * taps  # outer product, one axis at a time
    return kernel / kernel.sum()


def _blur_matrix(taps: Tensor, n: int) -> Tensor:
    """``(n, n)`` matrix M with ``(M @ x)[i] = sum_o taps[o + 1] * x[reflect(i + o)]``, o in {-1, 0, 1}.

    Reflection maps index -1 to 1 and n to n - 2 (edge sample not repeated), as
    ``torch.nn.functional.pad(mode="reflect")`` does. Needs ``n >= 2``.
    """
    if n < 2:
        raise ValueError(f"the reflected [1, 2, 1] blur needs at least 2 samples along each axis, got {n}")
    rows = torch.arange(n, device=taps.device)
    matrix = torch.zeros(n, n, dtype=taps.dtype, device=taps.device)
    for offset, weight in zip((-1, 0, 1), taps):
        cols = (rows + offset).abs()  # -1 -> 1
        cols = torch.where(cols > n - 1, 2 * (n - 1) - cols, cols)  # n -> n - 2
        matrix.index_put_((rows, cols), weight.expand(n), accumulate=True)
    return matrix


class _Blur(nn.Module):
    ndim: int

    def __init__(self) -> None:
        super().__init__()
        # Fixed 1D taps [1, 2, 1] / 4: a non-persistent buffer (moves with .to(), not saved).
        self.register_buffer("taps", binomial_kernel(1), persistent=False)

    @property
    def kernel(self) -> Tensor:
        """The full ``(3,) * ndim`` kernel this blur applies (outer product of the taps)."""
        return binomial_kernel(self.ndim, self.taps.dtype).to(self.taps.device)

    def _matrix(self, n: int, like: Tensor) -> Tensor:
        return _blur_matrix(self.taps.to(like.dtype), n)


class Blur2d(_Blur):
    """Depthwise ``[1, 2, 1]`` binomial blur of ``(B, C, H, W)`` maps, stride 1, reflect borders.

    Needs ``H, W >= 2``.

    Example:
        >>> x = torch.tensor([1.0, -1.0]).repeat(4).view(1, 1, 1, 8).expand(1, 1, 8, 8)
        >>> Blur2d()(x).abs().max()
        tensor(0.)
    """

    ndim = 2

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` -> blurred ``(B, C, H, W)`` (same range: the kernel is convex)."""
        H, W = x.shape[-2:]
        return self._matrix(H, x) @ x @ self._matrix(W, x).T  # rows, then columns


class Blur3d(_Blur):
    """Depthwise ``[1, 2, 1]^3`` binomial blur of ``(B, C, T, H, W)`` volumes, stride 1, reflect borders.

    Needs ``T, H, W >= 2``.
    """

    ndim = 3

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, T, H, W)`` -> blurred ``(B, C, T, H, W)``."""
        B, C, T, H, W = x.shape
        spatial = self._matrix(H, x) @ x @ self._matrix(W, x).T  # (B, C, T, H, W)
        temporal = self._matrix(T, x) @ spatial.reshape(B * C, T, H * W)  # (B*C, T, H*W), time mixed
        return temporal.reshape(B, C, T, H, W)

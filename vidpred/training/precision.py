"""Speed features as small functions: mixed precision, memory format, compilation.

The trainer uses them in a few lines::

    precision = resolve_precision(cfg.train.precision, device)   # "fp32" | "bf16"
    configure_backends(device, precision)
    generator = prepare_module(generator, channels_last=True, compile=False)
    with autocast_context(device, precision):     # bf16 convolutions inside
        pred_scales = generator(context)          # outputs come back float32
        loss = lp_loss(pred_scales[-1], target)   # so losses compute in float32

What is fast depends on the hardware (measurements in ``docs/performance.md``):

* **bf16** runs convolutions in bfloat16 under ``torch.autocast`` (fully connected layers
  stay float32, below) while the weights, their gradients and the optimizer stay float32 (autocast casts each weight
  once per forward and its backward returns a float32 gradient). No loss scaling is
  needed: bf16 has float32's exponent range.
* On CUDA GPUs with native bf16 (compute capability 8.0 and newer), bf16 uses the tensor
  cores. The float32 work that remains may use TF32 unless ``fp32`` is asked for.
* On x86 CPUs oneDNN runs bf16 convolutions natively only with AVX512_BF16 or AMX. Without
  them (older Xeons, or a VM that hides those CPUID bits) it falls back to an emulated
  kernel (``jit_bf16:avx512_core``) that is 3-7x *slower* than its float32 kernels, which
  is why a bf16 autocast probe on such a machine is slower than float32.
* Fully connected layers stay float32 under bf16 autocast (:func:`prepare_module`).
  They hold the discriminators' classifier heads, where bf16 made the quickstart's
  SGD-trained discriminator's gradients spike and, in one of two seeds, diverge; they
  cost a few percent of the iteration, so keeping them float32 is cheap.
* ``channels_last`` (NHWC) is the layout oneDNN's fast float32 kernels (``brg_conv``) and
  cuDNN's tensor-core kernels work in; NCHW tensors are reordered on every call.

``auto`` picks bf16 exactly where it has native hardware support, else float32; the choice
is a pure function of the hardware, never of a timing, so a run is reproducible.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "PRECISIONS",
    "autocast_context",
    "configure_backends",
    "cpu_has_native_bf16",
    "prepare_module",
    "resolve_precision",
    "to_float32",
]

log = logging.getLogger(__name__)

PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "auto")


def cpu_has_native_bf16() -> bool:
    """Whether this CPU has bf16 dot-product instructions oneDNN uses (AVX512_BF16 or AMX-BF16)."""
    get_capabilities = getattr(torch.cpu, "get_capabilities", None)
    if get_capabilities is None:  # older PyTorch: no way to tell, so do not assume it
        return False
    caps = get_capabilities()
    return bool(caps.get("avx512_bf16") or caps.get("amx_bf16"))


def _cuda_has_native_bf16(device: torch.device) -> bool:
    if not torch.cuda.is_available():
        return False
    major, _ = torch.cuda.get_device_capability(device)
    return major >= 8  # Ampere and newer; older GPUs emulate bf16 with float32 arithmetic


def resolve_precision(precision: str, device: torch.device | str) -> Literal["fp32", "bf16"]:
    """The precision to run on ``device``: ``fp32`` or ``bf16``.

    ``fp32`` and ``bf16`` are returned as asked (bf16 on hardware without native support is
    allowed, with a warning: it is correct but slow). ``auto`` is ``bf16`` on CUDA devices
    of compute capability >= 8.0 and on CPUs with AVX512_BF16 or AMX, ``fp32`` elsewhere.

    Raises:
        ValueError: ``precision`` is not one of :data:`PRECISIONS`.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    device = torch.device(device)
    native = _cuda_has_native_bf16(device) if device.type == "cuda" else (
        device.type == "cpu" and cpu_has_native_bf16()
    )
    if precision == "auto":
        return "bf16" if native else "fp32"
    if precision == "bf16" and not native:
        log.warning(
            "precision bf16 on %s without native bf16 support: results are correct but "
            "convolutions are emulated and several times slower than fp32 (use auto)",
            device,
        )
    return precision  # type: ignore[return-value]


def autocast_context(device: torch.device | str, precision: str) -> contextlib.AbstractContextManager:
    """Context manager for the forward passes: bf16 autocast or nothing.

    Inside it, convolutions and linear layers compute in bfloat16 (their outputs are bf16)
    while parameters stay float32. Compute losses and metrics *outside* it on
    :func:`to_float32` tensors: element-wise losses written by hand (Lp, GDL) would
    otherwise reduce in bf16. ``fp32`` gives a context that explicitly disables autocast,
    so an enclosing autocast region cannot leak bf16 into float32 code.

    Args:
        device: where the forward runs (``cpu`` or ``cuda[:N]``).
        precision: ``fp32`` | ``bf16`` | ``auto`` (resolved by :func:`resolve_precision`).
    """
    device = torch.device(device)
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":  # explicit fp32/bf16 are not re-resolved: that would warn every step
        precision = resolve_precision(precision, device)
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return torch.autocast(device.type, enabled=False)


def to_float32(*tensors: Tensor) -> list[Tensor]:
    """Upcast tensors (e.g. bf16 predictions or logits) to float32 before a loss or metric.

    Float32 tensors are returned as they are (no copy); gradients flow through the cast.
    """
    return [t.float() for t in tensors]


def configure_backends(device: torch.device | str, precision: str) -> None:
    """Process-wide math settings for ``device`` and the resolved ``precision``.

    On CUDA, TF32 is allowed for float32 matmuls and convolutions unless ``precision`` is
    ``fp32``, which asks for full float32 (TF32 keeps float32's range but only 10 mantissa
    bits, like bf16's 7, so it is no less accurate than the bf16 work around it). Nothing
    is changed on the CPU.
    """
    device = torch.device(device)
    if device.type != "cuda":
        return
    mode = "ieee" if precision == "fp32" else "tf32"
    matmul, conv = torch.backends.cuda.matmul, torch.backends.cudnn
    if hasattr(matmul, "fp32_precision") and hasattr(conv, "conv"):
        matmul.fp32_precision = mode
        conv.conv.fp32_precision = mode
    else:  # PyTorch < 2.9
        matmul.allow_tf32 = conv.allow_tf32 = mode == "tf32"


def _upcast_outputs(module: nn.Module, args: tuple, output):
    """Forward hook: floating-point outputs (a tensor, or a list, tuple or dict of them) as float32."""
    if isinstance(output, Tensor):
        return output.float() if output.is_floating_point() else output
    if isinstance(output, (list, tuple)):
        return type(output)(_upcast_outputs(module, args, o) for o in output)
    if isinstance(output, dict):
        return {key: _upcast_outputs(module, args, o) for key, o in output.items()}
    return output


class Float32Linear(nn.Linear):
    """``nn.Linear`` that computes in float32 even inside an autocast region."""

    def forward(self, input: Tensor) -> Tensor:
        with torch.autocast(input.device.type, enabled=False):
            return F.linear(input.float(), self.weight, self.bias)


def _float32_linear(module: nn.Module) -> None:
    """Make every plain ``nn.Linear`` in ``module`` a :class:`Float32Linear`, in place.

    Only the class changes: parameters, ``state_dict`` keys and values stay as they are.
    """
    for child in module.modules():
        if type(child) is nn.Linear:
            child.__class__ = Float32Linear


def _to_channels_last(module: nn.Module) -> None:
    """NHWC strides for every 4-D parameter and buffer (2-D conv weights), in place.

    Unlike ``module.to(memory_format=...)``, 5-D tensors (3-D conv weights) are left as
    they are instead of raising.
    """
    with torch.no_grad():
        for tensor in itertools.chain(module.parameters(), module.buffers()):
            if tensor.dim() == 4:
                tensor.data = tensor.data.contiguous(memory_format=torch.channels_last)


def prepare_module(
    module: nn.Module,
    *,
    channels_last: bool = False,
    compile: bool = False,
    float32_outputs: bool = True,
    float32_linear: bool = True,
) -> nn.Module:
    """Put a module in the fast layout, make its outputs float32 and optionally compile it, in place.

    ``channels_last`` converts every 4-D parameter and buffer (2-D conv weights) to NHWC
    strides; 2-D convolutions then produce NHWC activations whatever the input layout, and
    values are unchanged. ``float32_outputs`` upcasts the module's outputs (a tensor, or a
    list, tuple or dict of tensors) to float32, a no-op outside autocast: inside a bf16 autocast region
    the network computes in bf16 but whatever consumes its outputs (losses, metrics, the
    recursion of a rollout) sees float32, so loss code needs no precision logic.
    ``float32_linear`` keeps fully connected layers in float32 under autocast (the
    discriminators' heads: see the module docstring); convolutions still run in bf16.
    ``compile`` uses ``nn.Module.compile`` (in place), so the module keeps its type,
    methods and ``state_dict`` keys and checkpoints stay interchangeable with uncompiled
    runs. Compiling on the CPU needs a C++ compiler and takes minutes for the paper's
    networks.

    Call it before or after building the optimizer: parameters keep their identity.

    Returns:
        ``module`` itself.
    """
    if channels_last:
        _to_channels_last(module)
    if float32_linear:
        _float32_linear(module)
    if float32_outputs:
        module.register_forward_hook(_upcast_outputs)
    if compile:
        module.compile()
    return module

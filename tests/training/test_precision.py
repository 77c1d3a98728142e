import math

import pytest
import torch
from torch import nn

from vidpred.losses.lp import lp_loss
from vidpred.models.discriminator import MultiScaleDiscriminator
from vidpred.models.generator import MultiScaleGenerator
from vidpred.models._pyramid import pyramid
from vidpred.training import precision as precision_module
from vidpred.training.precision import (
    autocast_context,
    configure_backends,
    Float32Linear,
    prepare_module,
    resolve_precision,
    to_float32,
)

CPU = torch.device("cpu")


def _small_generator(seed=0):
    torch.manual_seed(seed)
    return MultiScaleGenerator(n_context=4, channels=3, n_scales=3, width=0.0625)


def test_resolve_precision_explicit_and_auto(monkeypatch):
    assert resolve_precision("fp32", CPU) == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16"
    monkeypatch.setattr(precision_module, "cpu_has_native_bf16", lambda: False)
    assert resolve_precision("auto", CPU) == "fp32"  # emulated bf16 is slower: never chosen
    monkeypatch.setattr(precision_module, "cpu_has_native_bf16", lambda: True)
    assert resolve_precision("auto", CPU) == "bf16"
    with pytest.raises(ValueError, match="precision"):
        resolve_precision("fp16", CPU)


def test_bf16_context_gives_bf16_convolutions_and_float32_losses():
    conv = nn.Conv2d(6, 4, 3, padding=1)
    x, target = torch.randn(2, 6, 8, 8), torch.randn(2, 4, 8, 8)
    with autocast_context(CPU, "bf16"):
        out = conv(x)
        assert out.dtype == torch.bfloat16
        (pred,) = to_float32(out)
        loss = lp_loss(pred, target)
    assert pred.dtype == torch.float32 and loss.dtype == torch.float32
    loss.backward()
    assert conv.weight.grad.dtype == torch.float32  # master weights and their gradients stay float32
    with autocast_context(CPU, "fp32"):
        assert conv(x).dtype == torch.float32
    # fp32 also switches off an enclosing autocast region
    with torch.autocast("cpu", dtype=torch.bfloat16), autocast_context(CPU, "fp32"):
        assert conv(x).dtype == torch.float32


def test_prepared_module_outputs_are_float32_under_autocast():
    generator = prepare_module(_small_generator())
    context = torch.rand(2, 3, 4, 16, 16) * 2 - 1
    with autocast_context(CPU, "bf16"):
        scales = generator(context)
    assert all(s.dtype == torch.float32 for s in scales)


@pytest.mark.parametrize("channels_last", [False, True])
def test_prepared_modules_match_unprepared_ones(channels_last):
    context = torch.rand(3, 3, 4, 16, 16) * 2 - 1
    plain = _small_generator()
    prepared = prepare_module(_small_generator(), channels_last=channels_last)
    if channels_last:
        assert prepared.scales[-1][0].weight.is_contiguous(memory_format=torch.channels_last)
    expected = plain(context)
    got = prepared(context)
    for e, g in zip(expected, got):
        torch.testing.assert_close(g, e, rtol=1e-5, atol=1e-5)  # same values, other layout
    with autocast_context(CPU, "bf16"):
        low = prepared(context)
    for e, g in zip(expected, low):
        torch.testing.assert_close(g, e, rtol=0, atol=0.05)  # bf16: ~3 significant digits

    torch.manual_seed(1)
    plain_d = MultiScaleDiscriminator(n_context=4, channels=3, patch_size=16, n_scales=3, width=0.03125)
    torch.manual_seed(1)
    prepared_d = prepare_module(
        MultiScaleDiscriminator(n_context=4, channels=3, patch_size=16, n_scales=3, width=0.03125),
        channels_last=channels_last,
    )
    frames = [s[:, :, 0] for s in pyramid(context[:, :, -1:], 3)]
    for e, g in zip(plain_d(pyramid(context, 3), frames), prepared_d(pyramid(context, 3), frames)):
        torch.testing.assert_close(g, e, rtol=1e-5, atol=1e-5)


def test_prepare_module_keeps_state_dict_keys_and_parameters():
    generator = _small_generator()
    params = list(generator.parameters())
    keys = list(generator.state_dict())
    prepare_module(generator, channels_last=True)
    assert list(generator.state_dict()) == keys
    assert all(a is b for a, b in zip(params, generator.parameters()))  # optimizers stay valid


def test_configure_backends_leaves_the_cpu_alone():
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    configure_backends(CPU, "bf16")
    assert (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32) == before


def test_gradients_reach_every_parameter_in_bf16():
    generator = prepare_module(_small_generator(), channels_last=True)
    context, target = torch.rand(2, 3, 4, 16, 16) * 2 - 1, torch.rand(2, 3, 16, 16) * 2 - 1
    with autocast_context(CPU, "bf16"):
        loss = lp_loss(generator(context)[-1], target)
    loss.backward()
    assert math.isfinite(loss.item())
    for name, p in generator.named_parameters():
        assert p.grad is not None and p.grad.dtype == torch.float32 and p.grad.abs().sum() > 0, name


def test_bf16_training_steps_are_finite_and_close_to_fp32(tiny_config, tmp_path):
    from vidpred.training.trainer import Trainer

    losses = {}
    for precision in ("fp32", "bf16"):
        trainer = Trainer(tiny_config(f"train.precision={precision}"), tmp_path / precision)
        assert trainer.precision == precision
        x = trainer.next_batch()
        with trainer.autocast():
            fake = trainer.generator(x[:, :, :4])
        assert all(f.dtype == torch.float32 for f in fake)  # float32 outputs even under autocast
        steps = [{**trainer.d_step(trainer.next_batch()), **trainer.g_step(trainer.next_batch())} for _ in range(3)]
        for logs in steps:
            assert all(torch.isfinite(v).all() for v in logs.values()), logs
            assert logs["g_total"].dtype == torch.float32 and logs["d_loss"].dtype == torch.float32
        losses[precision] = steps[0]
        for p in trainer.generator.parameters():
            assert p.dtype == torch.float32  # master weights
    # Same weights and batches: the first step's losses differ only by bf16 rounding.
    for key in ("g_total", "d_loss"):
        assert losses["bf16"][key].item() == pytest.approx(losses["fp32"][key].item(), rel=0.05), key


def test_emulated_bf16_warns_once_not_every_step(monkeypatch, caplog):
    monkeypatch.setattr(precision_module, "cpu_has_native_bf16", lambda: False)
    with caplog.at_level("WARNING", logger="vidpred.training.precision"):
        resolved = resolve_precision("bf16", CPU)
        for _ in range(3):
            with autocast_context(CPU, resolved):
                pass
    assert len(caplog.records) == 1 and "emulated" in caplog.records[0].getMessage()


def test_fully_connected_layers_stay_float32_under_bf16_autocast():
    torch.manual_seed(0)
    d = MultiScaleDiscriminator(n_context=4, channels=3, patch_size=16, n_scales=3, width=0.03125)
    state = {k: v.clone() for k, v in d.state_dict().items()}
    prepare_module(d, channels_last=True)
    assert all(torch.equal(v, state[k]) for k, v in d.state_dict().items()) and d.state_dict().keys() == state.keys()
    linears = [m for m in d.modules() if isinstance(m, torch.nn.Linear)]
    assert linears and all(type(m) is Float32Linear for m in linears)
    seen = []
    for m in linears:
        m.register_forward_hook(lambda module, args, out: seen.append((args[0].dtype, out.dtype)))
    convs = [m for m in d.modules() if isinstance(m, torch.nn.Conv2d)]
    convs[0].register_forward_hook(lambda module, args, out: seen.append(("conv", out.dtype)))
    context = torch.rand(2, 3, 4, 16, 16) * 2 - 1
    frames = [s[:, :, 0] for s in pyramid(context[:, :, -1:], 3)]
    with autocast_context(CPU, "bf16"):
        d(pyramid(context, 3), frames)
    assert ("conv", torch.bfloat16) in seen  # convolutions still run in bf16
    # Each head's layers get bf16 features from the convolutions but compute in float32.
    assert all(out == torch.float32 for kind, out in seen if kind != "conv")
    # Outside autocast a Float32Linear is an nn.Linear.
    x = torch.randn(5, linears[-1].in_features)
    torch.testing.assert_close(linears[-1](x), torch.nn.functional.linear(x, linears[-1].weight, linears[-1].bias))


@pytest.mark.parametrize("capabilities, native", [
    ({"avx512_bf16": True, "amx_bf16": False}, True),
    ({"avx512_bf16": False, "amx_bf16": True}, True),  # AMX alone (Sapphire Rapids without the flag reported)
    ({"avx512_bf16": False, "amx_bf16": False, "avx512_f": True}, False),  # AVX512 without bf16: emulated
    ({}, False),
])
def test_cpu_native_bf16_is_avx512_bf16_or_amx(monkeypatch, capabilities, native):
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: capabilities)
    assert precision_module.cpu_has_native_bf16() is native


@pytest.mark.parametrize("capability, expected", [((7, 5), "fp32"), ((8, 0), "bf16"), ((9, 0), "bf16")])
def test_auto_is_bf16_on_gpus_of_compute_capability_8_and_newer(monkeypatch, capability, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    assert resolve_precision("auto", "cuda") == expected


def test_an_auto_context_resolves_to_the_hardware_s_precision(monkeypatch):
    conv, x = nn.Conv2d(3, 2, 3), torch.randn(1, 3, 5, 5)
    monkeypatch.setattr(precision_module, "cpu_has_native_bf16", lambda: True)
    with autocast_context(CPU, "auto"):
        assert conv(x).dtype == torch.bfloat16
    monkeypatch.setattr(precision_module, "cpu_has_native_bf16", lambda: False)
    with torch.autocast("cpu", dtype=torch.bfloat16), autocast_context(CPU, "auto"):
        assert conv(x).dtype == torch.float32


@pytest.mark.parametrize("precision, mode", [("fp32", "ieee"), ("bf16", "tf32")])
def test_configure_backends_allows_tf32_on_cuda_unless_fp32_is_asked_for(monkeypatch, precision, mode):
    from types import SimpleNamespace

    # PyTorch >= 2.9 spells it fp32_precision, older ones allow_tf32: fakes of both, never the real settings.
    matmul, cudnn = SimpleNamespace(fp32_precision="none"), SimpleNamespace(conv=SimpleNamespace(fp32_precision="none"))
    monkeypatch.setattr(torch.backends.cuda, "matmul", matmul)
    monkeypatch.setattr(torch.backends, "cudnn", cudnn)
    configure_backends("cuda", precision)
    assert (matmul.fp32_precision, cudnn.conv.fp32_precision) == (mode, mode)
    old_matmul, old_cudnn = SimpleNamespace(allow_tf32=None), SimpleNamespace(allow_tf32=None)
    monkeypatch.setattr(torch.backends.cuda, "matmul", old_matmul)
    monkeypatch.setattr(torch.backends, "cudnn", old_cudnn)
    configure_backends(torch.device("cuda", 0), precision)
    assert old_matmul.allow_tf32 is old_cudnn.allow_tf32 is (mode == "tf32")


class _Outputs(nn.Module):
    """A convolution whose output comes back as a tensor, a tuple, a list and a dict, with an integer beside it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 1)

    def forward(self, x):
        y = self.conv(x)
        return y, (y, y.argmax(dim=1)), [y], {"y": y, "n": 3}


def test_prepared_outputs_of_every_container_are_float32_and_keep_their_type():
    module = prepare_module(_Outputs())
    with autocast_context(CPU, "bf16"):
        tensor, pair, listed, keyed = module(torch.randn(1, 3, 4, 4))
    assert tensor.dtype == pair[0].dtype == listed[0].dtype == keyed["y"].dtype == torch.float32
    assert type(pair) is tuple and type(listed) is list and keyed["n"] == 3
    assert pair[1].dtype == torch.int64  # integers are left as they are


def test_channels_last_leaves_3d_convolutions_as_they_are():
    module = nn.Sequential(nn.Conv3d(3, 2, 3), nn.Flatten(1, 2), nn.Conv2d(2 * 3, 2, 1))  # 5-D and 4-D weights
    prepare_module(module, channels_last=True)  # a 5-D tensor has no channels_last layout: it must not be asked for
    assert module[0].weight.is_contiguous() and module[2].weight.is_contiguous(memory_format=torch.channels_last)
    assert module(torch.randn(1, 3, 5, 6, 6)).shape == (1, 2, 4, 4)


def test_an_unknown_precision_is_refused_by_the_context_too():
    with pytest.raises(ValueError, match="precision must be one of fp32, bf16, auto, got 'fp16'"):
        autocast_context(CPU, "fp16")


def test_prepare_module_compiles_in_place_only_when_asked(monkeypatch):
    compiled = []
    module = nn.Linear(2, 2)
    monkeypatch.setattr(module, "compile", lambda: compiled.append(True), raising=False)
    assert prepare_module(module) is module and compiled == []
    assert prepare_module(module, compile=True) is module and compiled == [True]


def test_a_subclass_of_linear_keeps_its_own_forward():
    class Doubled(nn.Linear):
        def forward(self, input):
            return 2 * super().forward(input)

    layer = Doubled(2, 1)
    x = torch.randn(3, 2)
    expected = 2 * torch.nn.functional.linear(x, layer.weight, layer.bias)
    prepare_module(layer)
    assert type(layer) is Doubled
    torch.testing.assert_close(layer(x), expected)

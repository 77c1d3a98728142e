"""Timing the training iteration: samples/s, FLOPs, fraction of the convolution peak, memory.

The optimized iteration is the :class:`~vidpred.training.trainer.Trainer`'s own ``d_step``
and ``g_step``, so what is measured is what ``scripts/train.py`` runs. The trainer needs a
dataset to start; the benchmark gives it a tiny procedural one in a temporary folder and
then feeds random clips, so no data has to be on disk and the data pipeline is not timed
here (``vidpred.benchmark.data`` times it on its own).

On a machine shared with other jobs only ratios measured in the same run mean much: the
reference iteration is timed interleaved with the optimized one (round i runs both), the
speedup is the median of the per-round ratios, and every figure comes with its spread.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from vidpred.benchmark.conv_peak import PEAK_SHAPES, ConvProbe, conv_peak
from vidpred.benchmark.reference import ReferenceIteration, check_paper_iteration
from vidpred.build import synchronize
from vidpred.config import UNREAD_DATA_KEYS, Config, DataConfig, config_from_dict, config_to_dict
from vidpred.training.trainer import Trainer

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

__all__ = ["benchmark_config", "benchmark_training", "count_flops", "peak_memory_mb"]

log = logging.getLogger(__name__)

Step = Callable[[torch.Tensor], object]  # a D or G step: one update on a batch of clips


def benchmark_config(cfg: Config, workdir: Path) -> Config:
    """``cfg`` with a tiny procedural dataset and every output under ``workdir``.

    Model, loss, optimizer and train settings are untouched; only what the trainer reads
    at start-up (data, run directory) changes.
    """
    n_frames = cfg.model.n_context + max(cfg.train.n_future, cfg.train.val_n_future) + 1
    size = cfg.data.patch_size
    defaults = DataConfig()
    overrides = [
        "data.source=procedural", "data.frame_size=null", "data.num_workers=0",
        # what a procedural source refuses when set (data.root, data.split, ...), back to its default
        *(f"{key}={json.dumps(getattr(defaults, key.split('.', 1)[1]))}" for key in UNREAD_DATA_KEYS["procedural"]),
        f"data.cache_dir={workdir / 'cache'}", "data.n_val_clips=1",
        "data.procedural.n_train_videos=2", "data.procedural.n_val_videos=1", "data.procedural.n_test_videos=1",
        f"data.procedural.n_frames={n_frames}", f"data.procedural.height={size}", f"data.procedural.width={size}",
        f"run.out_dir={workdir}",
    ]
    return config_from_dict(config_to_dict(cfg), overrides)


def _timed(step: Step, x: torch.Tensor, device: torch.device) -> float:
    """Seconds for one call of ``step(x)``, device work included."""
    synchronize(device)
    start = time.perf_counter()
    step(x)
    synchronize(device)
    return time.perf_counter() - start


def count_flops(d_step: Step, g_step: Step, d_batch: torch.Tensor, g_batch: torch.Tensor) -> int:
    """FLOPs of one D step and one G step, forward and backward, by ``FlopCounterMode``.

    It counts matrix products and convolutions (2 per multiply-add), the work that
    dominates; element-wise operations are not counted.
    """
    with FlopCounterMode(display=False) as counter:
        d_step(d_batch)
        g_step(g_batch)
    return counter.get_total_flops()


def peak_memory_mb(device: torch.device) -> float | None:
    """Peak memory so far: CUDA memory allocated by PyTorch, or the process's peak RSS on the
    CPU (None where the ``resource`` module does not exist: Windows)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    if resource is None:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB on Linux


def _load_1min() -> float | None:
    """The system's 1-minute load average; None where there is none (Windows)."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def _summary(d_times: list[float], g_times: list[float], batch_size: int, flops_per_sample: float) -> dict:
    """Samples per second (at the median iteration, and the best), milliseconds per step, and
    GFLOP per sample and GFLOP/s achieved, from seconds per D and G step of each round."""
    iteration = [d + g for d, g in zip(d_times, g_times)]
    median = statistics.median(iteration)
    samples_per_sec = batch_size / median
    return {
        "samples_per_sec": round(samples_per_sec, 3),
        "samples_per_sec_best": round(batch_size / min(iteration), 3),
        "ms_per_d_step": round(1e3 * statistics.median(d_times), 1),
        "ms_per_g_step": round(1e3 * statistics.median(g_times), 1),
        "ms_per_iteration": {"median": round(1e3 * median, 1), "min": round(1e3 * min(iteration), 1),
                             "max": round(1e3 * max(iteration), 1)},
        "gflop_per_sample": round(flops_per_sample / 1e9, 4),
        "achieved_gflops": round(flops_per_sample * samples_per_sec / 1e9, 1),
    }


def benchmark_training(
    cfg: Config,
    *,
    steps: int = 10,
    warmup: int = 2,
    reference: bool = False,
    measure_peak: bool = True,
) -> dict:
    """Time ``steps`` training iterations (D step + G step) of ``cfg`` on random clips.

    Args:
        cfg: the config to benchmark (model, precision, batch size, device...).
        steps: timed iterations (after ``warmup`` untimed ones).
        warmup: untimed iterations first: kernel selection, weight reorders, compilation.
        reference: also time :class:`ReferenceIteration` (plain eager float32), round by
            round with the optimized iteration, and report the speedup.
        measure_peak: measure the float32 and bf16 convolution peaks in this process.

    Returns:
        A flat-ish dict ready for ``json.dumps`` (see ``docs/performance.md`` for the keys):
        samples per second, milliseconds per step, GFLOP per sample, peak memory in MiB
        (None with ``reference`` and no warm-up: the reference's would be mixed in), and with
        ``reference`` and ``measure_peak`` the speedup and the fraction of the peak.

    Raises:
        ValueError: ``steps`` or ``warmup`` out of range, or with ``reference`` a config the
            reference iteration does not compute (:func:`~vidpred.benchmark.reference.check_paper_iteration`).
    """
    if steps < 1 or warmup < 0:
        raise ValueError(f"need steps >= 1 and warmup >= 0, got {steps}, {warmup}")
    if reference:  # before any work
        check_paper_iteration(cfg)
    load_before = _load_1min()  # other jobs' load: a reader can tell a quiet run from a busy one
    # its cache is memory-mapped: Windows cannot delete a mapped file, and the result matters more
    with tempfile.TemporaryDirectory(prefix="vidpred-benchmark-", ignore_cleanup_errors=True) as tmp:
        trainer = Trainer(benchmark_config(cfg, Path(tmp)), Path(tmp) / "run")
        device = trainer.device
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        batch_size = cfg.train.batch_size
        d_batch, g_batch = _random_clips(cfg, device)

        trainer.generator.train()
        log.info("warm-up: %d iterations", warmup)
        _run(trainer.d_step, trainer.g_step, d_batch, g_batch, warmup)
        # the steady state of the optimized iteration alone: after the warm-up, before the reference runs
        memory_mb = peak_memory_mb(device) if warmup else None

        ref = None
        if reference:
            ref = ReferenceIteration(cfg, device)
            _run(ref.d_step, ref.g_step, d_batch, g_batch, warmup)

        # A short convolution of the precision in use, sampled every round, gives the peak
        # under the same load as that round's iteration.
        dtype = torch.bfloat16 if trainer.precision == "bf16" else torch.float32
        probe = ConvProbe(PEAK_SHAPES[-1], dtype, device=device) if measure_peak else None
        log.info("timing %d iterations%s", steps, " interleaved with the reference" if ref else "")
        times = _timed_rounds(trainer, ref, probe, d_batch, g_batch, steps, device)
        if not warmup and ref is None:  # no warm-up: the timed iterations are the first to reach the peak
            memory_mb = peak_memory_mb(device)

        flops = count_flops(trainer.d_step, trainer.g_step, d_batch, g_batch) / batch_size
        result = {
            "iteration": "Trainer.d_step + Trainer.g_step",
            "precision": cfg.train.precision,
            "precision_resolved": trainer.precision,
            "channels_last": cfg.train.channels_last,
            "compile": cfg.train.compile,
            "device": str(device),
            "threads": torch.get_num_threads(),
            "batch_size": batch_size,
            "steps": steps,
            "warmup": warmup,
            **_summary(times["d"], times["g"], batch_size, flops),
            "peak_memory_mb": None if memory_mb is None else round(memory_mb, 1),
            "peak_memory_kind": "cuda_max_allocated" if device.type == "cuda" else "process_max_rss",
        }
        if ref is not None:
            ref_flops = count_flops(ref.d_step, ref.g_step, d_batch, g_batch) / batch_size
            result.update(_against_reference(times, batch_size, ref_flops))
        if measure_peak:
            result.update(_against_peak(times, batch_size, flops, result["achieved_gflops"], trainer.precision,
                                        device))
        result["load_avg_1min"] = [load_before, _load_1min()]  # before, after
        return result


def _random_clips(cfg: Config, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The D step's and the G step's batch: uniform random clips ``(B, C, n_context + n_future,
    patch_size, patch_size)`` in ``[-1, 1]`` on ``device``, the same on every call."""
    n_frames = cfg.model.n_context + cfg.train.n_future
    shape = (cfg.train.batch_size, cfg.model.channels, n_frames, cfg.data.patch_size, cfg.data.patch_size)
    generator = torch.Generator().manual_seed(0)
    d_batch = (torch.rand(shape, generator=generator) * 2 - 1).to(device)
    g_batch = (torch.rand(shape, generator=generator) * 2 - 1).to(device)
    return d_batch, g_batch


def _run(d_step: Step, g_step: Step, d_batch: torch.Tensor, g_batch: torch.Tensor, iterations: int) -> None:
    """``iterations`` untimed iterations, D step then G step."""
    for _ in range(iterations):
        d_step(d_batch)
        g_step(g_batch)


def _timed_rounds(trainer: Trainer, ref: ReferenceIteration | None, probe: ConvProbe | None,
                  d_batch: torch.Tensor, g_batch: torch.Tensor, steps: int,
                  device: torch.device) -> dict[str, list[float]]:
    """``steps`` rounds, each timing the trainer's D and G steps, then the reference's, then
    sampling the convolution peak, so that every figure of a round shares its load.

    Returns:
        Seconds per round of each step (``"d"``, ``"g"``, ``"ref_d"``, ``"ref_g"``; the
        reference's empty without ``ref``) and the peak's GFLOP/s (``"peak"``; empty
        without ``probe``).
    """
    times: dict[str, list[float]] = {"d": [], "g": [], "ref_d": [], "ref_g": [], "peak": []}
    for _ in range(steps):
        times["d"].append(_timed(trainer.d_step, d_batch, device))
        times["g"].append(_timed(trainer.g_step, g_batch, device))
        if ref is not None:
            times["ref_d"].append(_timed(ref.d_step, d_batch, device))
            times["ref_g"].append(_timed(ref.g_step, g_batch, device))
        if probe is not None:
            times["peak"].append(probe.gflops())
    return times


def _against_reference(times: dict[str, list[float]], batch_size: int, ref_flops: float) -> dict:
    """The reference iteration's summary and the speedup over it, paired round by round.

    Args:
        times: seconds per round of the D and G steps (``"d"``, ``"g"``) and of the
            reference's (``"ref_d"``, ``"ref_g"``).
        ref_flops: the reference iteration's FLOPs per sample.
    """
    ratios = [(rd + rg) / (d + g) for d, g, rd, rg in zip(times["d"], times["g"], times["ref_d"], times["ref_g"])]
    return {
        "reference": _summary(times["ref_d"], times["ref_g"], batch_size, ref_flops),
        "speedup_vs_reference": round(statistics.median(ratios), 3),
        "speedup_range": [round(min(ratios), 3), round(max(ratios), 3)],
    }


def _against_peak(times: dict[str, list[float]], batch_size: int, flops: float, achieved_gflops: float,
                  precision: str, device: torch.device) -> dict:
    """The float32 and bf16 convolution peaks, measured now, and the iteration's fraction of each.

    Args:
        times: seconds per round of the D and G steps (``"d"``, ``"g"``) and the peak GFLOP/s
            sampled after each round in ``precision`` (``"peak"``), which count towards its peak.
        flops: the iteration's FLOPs per sample.
        achieved_gflops: the iteration's GFLOP/s at its median time.
    """
    log.info("measuring the convolution peak (float32, bf16; channels_last)")
    peaks = {name: conv_peak(dtype, device=device)["gflops"]
             for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16))}
    peaks[precision] = round(max(peaks[precision], *times["peak"]), 1)
    # Round by round: the iteration's GFLOP/s over the peak sampled right after it.
    paired = [flops * batch_size / (d + g) / 1e9 / peak for d, g, peak in zip(times["d"], times["g"], times["peak"])]
    return {
        "conv_peak_gflops": peaks,
        "fraction_of_peak": {name: round(achieved_gflops / peak, 3) for name, peak in peaks.items()},
        "fraction_of_peak_paired": {
            precision: round(statistics.median(paired), 3),
            "range": [round(min(paired), 3), round(max(paired), 3)],
        },
    }

"""Multi-process training with ``torchrun``: process-group setup and the few collectives used.

``torchrun --nproc_per_node N scripts/train.py ...`` sets ``RANK``, ``LOCAL_RANK`` and
``WORLD_SIZE``; without them everything here degrades to a single process and no
collective is ever called, so the single-process trainer pays nothing.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from vidpred.adversaries import Adversary
from vidpred.errors import ExpectedFailure

log = logging.getLogger(__name__)

T = TypeVar("T")

# How long a collective may wait (see init_distributed): decoding UCF101's 9,537 videos once
# takes the first process minutes to tens of minutes.
COLLECTIVE_TIMEOUT = datetime.timedelta(hours=2)


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def env_rank() -> int:
    """This process's global rank as torchrun set it (0 without torchrun)."""
    return int(os.environ["RANK"]) if launched_by_torchrun() else 0


def init_distributed(device: torch.device) -> tuple[DistInfo, torch.device]:
    """Join the process group when launched by torchrun; returns the info and this rank's device.

    The backend is NCCL for CUDA devices and gloo for the CPU, and for CUDA where PyTorch
    has no NCCL (Windows). Each rank uses the GPU of its ``LOCAL_RANK``; a single process
    asked for ``cuda:N`` makes GPU N the current device, so that pinned batches and anything
    made on "the" GPU go there and not to GPU 0. Collectives wait up to
    :data:`COLLECTIVE_TIMEOUT`: the other ranks wait at a barrier while each machine's first
    process decodes the data (:func:`local_leader_first`), longer on a first UCF101 run than
    NCCL's default of 10 minutes.
    """
    if not launched_by_torchrun():
        if device.type == "cuda" and device.index is not None:
            torch.cuda.set_device(device)
        return DistInfo(), device
    rank = env_rank()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    world_size = int(os.environ["WORLD_SIZE"])
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        nccl = device.type == "cuda" and dist.is_nccl_available()
        backend = "nccl" if nccl else "gloo"
        dist.init_process_group(backend=backend, device_id=device if nccl else None, timeout=COLLECTIVE_TIMEOUT)
        log.info("rank %d/%d joined the %s process group on %s", rank, world_size, backend, device)
    return DistInfo(rank, local_rank, world_size), device


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


class RefusedByMain(ExpectedFailure):
    """What the main process refused (:func:`main_decides`), raised on the other ranks with its message."""


def main_decides(decide: Callable[[], T], info: DistInfo) -> T | None:
    """``decide()`` on the main process alone, with its verdict shared: when it raises, every
    rank raises (the main its own error, the others :class:`RefusedByMain` with the same
    message), so that no rank goes on to a collective the main never reaches. Returns what
    it returned on the main process, None on the others.

    For the checks only the main process makes, of the folder it alone writes to.
    """
    if not info.enabled:
        return decide()
    failure: BaseException | None = None
    result = None
    if info.is_main:
        try:
            result = decide()
        except Exception as exc:  # noqa: BLE001 - shared, then raised again below
            failure = exc
    verdict = [None if failure is None else " ".join(str(failure).split()) or type(failure).__name__]
    dist.broadcast_object_list(verdict, src=0)
    if failure is not None:
        raise failure
    if verdict[0] is not None:
        raise RefusedByMain(verdict[0])
    return result


@contextlib.contextmanager
def local_leader_first(info: DistInfo) -> Iterator[None]:
    """Run the block on each machine's first process before the others run it.

    For filling the data cache: the first process decodes, the others then read what it
    wrote (cache files are written atomically, so machines sharing a cache directory on a
    network filesystem are safe too). When a first process's block fails (no usable video),
    the others raise :class:`RefusedByMain` with its message instead of running theirs (or
    waiting at a barrier whose peer has gone).
    """
    leader = info.local_rank == 0
    if not leader:
        _leaders_done(info, None)
    try:
        yield
    except Exception as exc:
        if leader:
            _leaders_done(info, exc)
        raise
    if leader:
        _leaders_done(info, None)


def _leaders_done(info: DistInfo, failure: BaseException | None) -> None:
    """The barrier of :func:`local_leader_first`, which also shares a first process's failure."""
    if not info.enabled:
        return
    message = None if failure is None else " ".join(str(failure).split()) or type(failure).__name__
    failures = [m for m in gather_objects(message, info) if m is not None]
    if failures and failure is None:
        raise RefusedByMain(failures[0])


class Rollout(nn.Module):
    """The generator's multi-step prediction as a module's forward, so DDP can wrap it."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, context: torch.Tensor, n_future: int) -> list[torch.Tensor]:
        """``context`` ``(B, C, n_context, H, W)`` in ``[-1, 1]`` -> the predicted clip at every
        scale, coarsest first, ``(B, C, n_future, h_k, w_k)`` in ``[-1, 1]``."""
        return self.generator.rollout(context, n_future, return_scales=True)


def wrap_ddp(module: nn.Module, device: torch.device) -> DistributedDataParallel:
    """``module`` in DDP (its gradients averaged across processes) on this rank's device."""
    # A (1, N) weight's gradient (the discriminators' last, spectrally normalised Linear) comes
    # with strides (1, 1) where its bucket has (N, 1): the same memory order, yet the reducer
    # warns on every rank of every run that this "may impair performance".
    warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
    return DistributedDataParallel(module, device_ids=[device] if device.type == "cuda" else None)


def wrap_for_updates(generator: nn.Module, adversaries: Sequence[Adversary], info: DistInfo,
                     device: torch.device) -> nn.Module:
    """What the updates call: returns the generator's :class:`Rollout` and sets each trainable
    adversary's ``d_model``; under torchrun both are in DDP, so their gradients are averaged.

    Weights are identical everywhere: DDP broadcasts rank 0's at construction, and every
    rank built them from one seed. The adversaries' bare ``model`` stays what the
    generator's update calls (their weights are fixed there).
    """
    rollout: nn.Module = Rollout(generator)
    if not info.enabled:
        return rollout
    rollout = wrap_ddp(rollout, device)
    for adversary in adversaries:
        if adversary.trainable:
            adversary.d_model = wrap_ddp(adversary.model, device)
    return rollout


def any_rank(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """True on every rank if ``flag`` is true on any rank (so all ranks stop together)."""
    if not info.enabled:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def gather_objects(obj: Any, info: DistInfo) -> list[Any]:
    """Every rank's ``obj``, in rank order (a one-element list without torchrun)."""
    if not info.enabled:
        return [obj]
    out: list[Any] = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out


def cleanup(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()

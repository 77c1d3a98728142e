"""A run's random streams, saved in every checkpoint so that a resumed run continues exactly.

torch's global generator (and CUDA's) plus two of the run's own, so that a draw added in
one place never shifts another: label noise (``loss.real_label``/``fake_label`` ranges)
and the perceptual losses' frame choice. Each rank seeds its own two streams,
``seed + k + 1000 * rank``.
"""

from __future__ import annotations

import logging

import torch

__all__ = ["RandomStreams"]

log = logging.getLogger(__name__)


class RandomStreams:
    """The label-noise and frame-choice generators of one rank, on ``device``."""

    def __init__(self, seed: int, rank: int, device: torch.device) -> None:
        self.rank = rank
        self.label = torch.Generator(device=device).manual_seed(seed + 1 + 1000 * rank)
        self.frame = torch.Generator(device=device).manual_seed(seed + 2 + 1000 * rank)

    def state(self) -> dict:
        """This rank's state, torch's global (and CUDA's) included: the checkpoint's ``rng``."""
        rng = {"torch": torch.get_rng_state(), "label": self.label.get_state(), "frame": self.frame.get_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        return rng

    def restore(self, saved_ranks: list[dict], world_size: int) -> None:
        """Continue from every rank's saved :meth:`state` (in rank order).

        A checkpoint from a different number of processes still restores what it has: the
        run continues, with a warning that its streams differ from an uninterrupted run.
        """
        if len(saved_ranks) != world_size and self.rank == 0:  # said once, not by every process
            log.warning("the checkpoint holds the random streams of %d process(es) (a best.pt holds rank 0's alone), "
                        "this run has %d: training continues from its weights, but the patch and label-noise streams "
                        "of the ranks differ from an uninterrupted run", len(saved_ranks), world_size)
        if self.rank >= len(saved_ranks):
            return
        rng = saved_ranks[self.rank]
        torch.set_rng_state(rng["torch"])
        # A CPU generator's state (Mersenne Twister, 5056 bytes) and a CUDA one's (Philox seed
        # and offset, 16 bytes) do not fit each other: a run resumed on the other kind of
        # device keeps its freshly seeded streams.
        if rng["label"].numel() == self.label.get_state().numel():
            self.label.set_state(rng["label"])
            if "frame" in rng:  # absent from checkpoints written before perceptual losses
                self.frame.set_state(rng["frame"])
        else:
            log.warning("the checkpoint's label-noise and frame-choice streams were drawn on another kind of device "
                        "(%s here): they start again from the seed", self.label.device.type)
        if "cuda" in rng and torch.cuda.is_available():
            # One state per GPU of the machine that saved it; a machine with fewer GPUs
            # restores those it has (set_rng_state_all would index past them).
            for index, state in enumerate(rng["cuda"][:torch.cuda.device_count()]):
                torch.cuda.set_rng_state(state, index)

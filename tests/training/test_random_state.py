"""vidpred/training/random_state.py: saved streams continue exactly; each rank has its own."""

from __future__ import annotations

import logging

import torch

from vidpred.training.random_state import RandomStreams

CPU = torch.device("cpu")


def _draws(streams: RandomStreams) -> list[torch.Tensor]:
    return [torch.rand(3), torch.rand(3, generator=streams.label), torch.rand(3, generator=streams.frame)]


def test_restored_streams_continue_exactly():
    streams = RandomStreams(seed=5, rank=0, device=CPU)
    _draws(streams)
    saved = streams.state()
    expected = _draws(streams)
    other = RandomStreams(seed=99, rank=0, device=CPU)
    other.restore([saved], world_size=1)
    assert all(torch.equal(a, b) for a, b in zip(expected, _draws(other)))


def test_ranks_draw_different_streams_and_restore_their_own():
    ranks = [RandomStreams(seed=5, rank=r, device=CPU) for r in range(2)]
    assert not torch.equal(torch.rand(3, generator=ranks[0].label), torch.rand(3, generator=ranks[1].label))
    saved = [r.state() for r in ranks]
    expected = torch.rand(3, generator=ranks[1].label)
    restored = RandomStreams(seed=0, rank=1, device=CPU)
    restored.restore(saved, world_size=2)
    assert torch.equal(torch.rand(3, generator=restored.label), expected)


def test_another_process_count_restores_what_it_can_and_warns(caplog):
    saved = [RandomStreams(seed=5, rank=0, device=CPU).state()]
    rank1 = RandomStreams(seed=5, rank=1, device=CPU)
    before = rank1.label.get_state()
    with caplog.at_level(logging.WARNING):
        rank1.restore(saved, world_size=2)
    assert "written by 1 process(es), this run has 2" in caplog.text
    assert torch.equal(rank1.label.get_state(), before)  # rank 1 had no saved state: its own seed stays

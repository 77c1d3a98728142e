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
    assert "written by" not in caplog.text  # said by the main process alone, not once a rank
    assert torch.equal(rank1.label.get_state(), before)  # rank 1 had no saved state: its own seed stays
    with caplog.at_level(logging.WARNING):
        RandomStreams(seed=5, rank=0, device=CPU).restore(saved, world_size=2)
    assert "holds the random streams of 1 process(es) (a best.pt holds rank 0's alone), this run has 2" in caplog.text


def test_streams_saved_on_a_gpu_restore_on_the_cpu_from_their_seed(caplog):
    # A CUDA generator's state is its Philox seed and offset, 16 bytes; a CPU generator refuses it.
    saved = RandomStreams(seed=5, rank=0, device=CPU).state()
    saved = {**saved, "label": torch.zeros(16, dtype=torch.uint8), "frame": torch.zeros(16, dtype=torch.uint8)}
    expected_global = torch.rand(3, generator=torch.Generator().set_state(saved["torch"]))
    streams = RandomStreams(seed=7, rank=0, device=CPU)
    fresh = RandomStreams(seed=7, rank=0, device=CPU)
    with caplog.at_level(logging.WARNING):
        streams.restore([saved], world_size=1)
    assert "another kind of device" in caplog.text
    assert torch.equal(torch.rand(3), expected_global)  # the global stream is the CPU's everywhere
    assert torch.equal(torch.rand(3, generator=streams.label), torch.rand(3, generator=fresh.label))
    assert torch.equal(torch.rand(3, generator=streams.frame), torch.rand(3, generator=fresh.frame))


def test_cuda_states_of_more_gpus_than_this_machine_has_restore_those_it_has(monkeypatch):
    restored = []

    def set_rng_state(state, device="cuda"):
        restored.append(device)

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "set_rng_state", set_rng_state)
    monkeypatch.setattr(torch.cuda.random, "set_rng_state", set_rng_state)  # what set_rng_state_all calls
    saved = {**RandomStreams(seed=5, rank=0, device=CPU).state(), "cuda": [torch.zeros(16, dtype=torch.uint8)] * 2}
    RandomStreams(seed=5, rank=0, device=CPU).restore([saved], world_size=1)
    assert restored == [0]


def test_each_rank_seeds_its_streams_seed_plus_k_plus_1000_rank():
    # The documented seeds: a run started again from its config draws the same labels and frames.
    streams = RandomStreams(seed=5, rank=1, device=CPU)
    assert torch.equal(torch.rand(4, generator=streams.label), torch.rand(4, generator=torch.Generator().manual_seed(1006)))
    assert torch.equal(torch.rand(4, generator=streams.frame), torch.rand(4, generator=torch.Generator().manual_seed(1007)))


def test_a_checkpoint_from_before_the_frame_stream_restores_the_label_stream():
    streams = RandomStreams(seed=5, rank=0, device=CPU)
    saved = {k: v for k, v in streams.state().items() if k != "frame"}  # written before perceptual losses
    expected = torch.rand(3, generator=streams.label)
    restored = RandomStreams(seed=9, rank=0, device=CPU)
    fresh_frame = torch.rand(3, generator=RandomStreams(seed=9, rank=0, device=CPU).frame)
    restored.restore([saved], world_size=1)
    assert torch.equal(torch.rand(3, generator=restored.label), expected)
    assert torch.equal(torch.rand(3, generator=restored.frame), fresh_frame)  # its own seed's

"""Joining the process group (also where PyTorch has no NCCL, its Windows builds), and the current GPU."""

import torch

import vidpred.training.distributed as distributed


def test_cuda_without_nccl_joins_with_gloo(monkeypatch):
    joined = {}
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: False)
    monkeypatch.setattr(distributed.dist, "is_nccl_available", lambda: False)
    monkeypatch.setattr(distributed.dist, "init_process_group", lambda **kwargs: joined.update(kwargs))
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: None)
    info, device = distributed.init_distributed(torch.device("cuda"))
    assert joined == {"backend": "gloo", "device_id": None, "timeout": distributed.COLLECTIVE_TIMEOUT}
    assert device == torch.device("cuda", 1) and (info.rank, info.local_rank, info.world_size) == (1, 1, 2)


def test_collectives_outwait_the_first_process_decoding_the_data():
    assert distributed.COLLECTIVE_TIMEOUT.total_seconds() >= 3600  # NCCL's default is 10 minutes, gloo's 30


def test_one_process_on_gpu_n_makes_it_the_current_gpu(monkeypatch):
    current = []
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.setattr(torch.cuda, "set_device", current.append)
    info, device = distributed.init_distributed(torch.device("cuda", 1))
    assert current == [torch.device("cuda", 1)] and device == torch.device("cuda", 1) and not info.enabled
    for other in (torch.device("cuda"), torch.device("cpu")):  # "cuda" alone is the current GPU already
        assert distributed.init_distributed(other)[1] == other
    assert current == [torch.device("cuda", 1)]

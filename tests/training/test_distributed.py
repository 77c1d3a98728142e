"""Joining the process group where PyTorch has no NCCL (its Windows builds)."""

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
    assert joined == {"backend": "gloo", "device_id": None}
    assert device == torch.device("cuda", 1) and (info.rank, info.local_rank, info.world_size) == (1, 1, 2)

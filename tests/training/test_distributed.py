"""Joining the process group (also where PyTorch has no NCCL, its Windows builds), the current GPU, and the
collectives each rank calls (none without torchrun)."""

import pytest
import torch

import vidpred.training.distributed as distributed
from vidpred.errors import ExpectedFailure


@pytest.mark.parametrize("nccl", [True, False], ids=["nccl", "no nccl (Windows builds)"])
def test_cuda_joins_on_this_rank_s_gpu_with_nccl_or_else_gloo(monkeypatch, nccl):
    joined, current = {}, []
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: False)
    monkeypatch.setattr(distributed.dist, "is_nccl_available", lambda: nccl)
    monkeypatch.setattr(distributed.dist, "init_process_group", lambda **kwargs: joined.update(kwargs))
    monkeypatch.setattr(torch.cuda, "set_device", current.append)
    info, device = distributed.init_distributed(torch.device("cuda"))
    gpu = torch.device("cuda", 1)
    assert joined == {"backend": "nccl" if nccl else "gloo", "device_id": gpu if nccl else None,
                      "timeout": distributed.COLLECTIVE_TIMEOUT}
    assert device == gpu and current == [gpu]  # not GPU 0, where every rank would pile up
    assert (info.rank, info.local_rank, info.world_size) == (1, 1, 2)


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


def test_the_main_process_is_global_rank_0_not_each_machine_s_first():
    # Two machines of two GPUs: ranks 0 and 2 are each machine's first, only rank 0 writes the run.
    assert [distributed.DistInfo(rank, rank % 2, 4).is_main for rank in range(4)] == [True, False, False, False]
    assert distributed.DistInfo().is_main and not distributed.DistInfo().enabled


def test_one_process_calls_no_collective(monkeypatch):
    def no_collective(*args, **kwargs):
        raise AssertionError("a collective was called without torchrun")

    for name in ("all_reduce", "all_gather_object", "broadcast_object_list", "barrier", "destroy_process_group"):
        monkeypatch.setattr(distributed.dist, name, no_collective)
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: True)
    single, cpu = distributed.DistInfo(), torch.device("cpu")
    assert distributed.any_rank(True, single, cpu) is True and distributed.any_rank(False, single, cpu) is False
    assert distributed.gather_objects({"psnr": 30.0}, single) == [{"psnr": 30.0}]
    assert distributed.main_decides(lambda: "checked", single) == "checked"
    with distributed.local_leader_first(single):
        distributed.barrier(single)
    distributed.cleanup(single)


def test_cleanup_leaves_the_process_group_under_torchrun(monkeypatch):
    left = []
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: True)
    monkeypatch.setattr(distributed.dist, "destroy_process_group", lambda: left.append(True))
    distributed.cleanup(distributed.DistInfo(1, 1, 2))
    assert left == [True]


def test_only_trainable_adversaries_are_wrapped_in_ddp(monkeypatch):
    from torch import nn

    from vidpred.adversaries import BlurAdversary, SpatioTemporalAdversary

    wrapped = []
    monkeypatch.setattr(distributed, "wrap_ddp", lambda module, device: wrapped.append(module) or ("ddp", module))
    trained = SpatioTemporalAdversary(nn.Linear(2, 1), gp_weight=0.0)
    frozen = BlurAdversary(nn.Linear(2, 1), trainable=False, real_label=[1.0, 1.0], fake_label=[0.0, 0.0])
    generator = nn.Linear(2, 2)
    two_ranks, cpu = distributed.DistInfo(0, 0, 2), torch.device("cpu")
    rollout = distributed.wrap_for_updates(generator, [trained, frozen], two_ranks, cpu)
    assert rollout[0] == "ddp" and rollout[1].generator is generator
    assert trained.d_model == ("ddp", trained.model)
    assert frozen.d_model is frozen.model  # a frozen judge has no gradient for DDP to average
    assert wrapped == [rollout[1], trained.model]
    single = distributed.wrap_for_updates(generator, [trained], distributed.DistInfo(), cpu)
    assert isinstance(single, distributed.Rollout) and len(wrapped) == 2


def test_the_global_rank_is_rank_not_the_machine_s_local_rank(monkeypatch):
    # The 4th process of two machines of two GPUs.
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: True)  # joined already
    assert distributed.env_rank() == 3
    info, device = distributed.init_distributed(torch.device("cpu"))
    assert (info.rank, info.local_rank, info.world_size) == (3, 1, 4) and device == torch.device("cpu")


@pytest.mark.parametrize("rank, local_rank, order", [
    (0, 0, ["block", "barrier"]),  # the first machine's first process decodes, then lets the others go
    (2, 0, ["block", "barrier"]),  # so does the second machine's, into its own cache
    (3, 1, ["barrier", "block"]),  # the others wait, then read what it wrote
])
def test_each_machine_s_first_process_runs_the_block_first(monkeypatch, rank, local_rank, order):
    seen = []
    monkeypatch.setattr(distributed, "gather_objects", lambda obj, info: seen.append("barrier") or [obj])
    with distributed.local_leader_first(distributed.DistInfo(rank, local_rank, 4)):
        seen.append("block")
    assert seen == order


def test_a_first_process_s_failure_stops_the_others_with_its_message(monkeypatch):
    # The leader's decode failed: the process waiting for it raises its message, not a gloo error.
    monkeypatch.setattr(distributed, "gather_objects", lambda obj, info: [obj, "no usable video"])
    with pytest.raises(distributed.RefusedByMain, match="^no usable video$"):
        with distributed.local_leader_first(distributed.DistInfo(1, 1, 2)):
            raise AssertionError("the block must not run")


@pytest.mark.parametrize("mine, other, expected", [(False, False, False), (True, False, True), (False, True, True)])
def test_any_rank_is_true_everywhere_when_one_rank_is(monkeypatch, mine, other, expected):
    def all_reduce(value, op):  # two ranks: this one's value and the other's, reduced by op
        values = torch.stack([value.clone(), torch.tensor([1.0 if other else 0.0])])
        value.copy_(values.max(dim=0).values if op == distributed.dist.ReduceOp.MAX else values.min(dim=0).values)

    monkeypatch.setattr(distributed.dist, "all_reduce", all_reduce)
    assert distributed.any_rank(mine, distributed.DistInfo(0, 0, 2), torch.device("cpu")) is expected


def _broadcast_from(main_sends):
    """A stand-in for ``broadcast_object_list`` on two ranks: on the main rank it records what
    is sent; on the other it receives ``main_sends``."""
    sent = []

    def broadcast_object_list(objects, src):
        assert src == 0
        if main_sends is None:
            sent.append(list(objects))
        else:
            objects[:] = main_sends

    return broadcast_object_list, sent


def test_the_main_process_s_refusal_is_raised_on_every_rank(monkeypatch):
    def refuse():
        raise FileExistsError("runs/x holds config.yaml that no vidpred run wrote;\n  choose another")

    broadcast, sent = _broadcast_from(None)
    monkeypatch.setattr(distributed.dist, "broadcast_object_list", broadcast)
    with pytest.raises(FileExistsError, match="no vidpred run wrote"):  # the main rank: its own error
        distributed.main_decides(refuse, distributed.DistInfo(0, 0, 2))
    assert sent == [["runs/x holds config.yaml that no vidpred run wrote; choose another"]]

    asked = []
    broadcast, _ = _broadcast_from(sent[0])
    monkeypatch.setattr(distributed.dist, "broadcast_object_list", broadcast)
    with pytest.raises(distributed.RefusedByMain, match="^runs/x holds config.yaml that no vidpred run wrote; choose"):
        distributed.main_decides(lambda: asked.append(True), distributed.DistInfo(1, 1, 2))
    assert asked == []  # only the main process decides
    assert issubclass(distributed.RefusedByMain, ExpectedFailure)  # shown as one line


def test_what_the_main_process_allows_goes_on_everywhere(monkeypatch):
    broadcast, sent = _broadcast_from(None)
    monkeypatch.setattr(distributed.dist, "broadcast_object_list", broadcast)
    assert distributed.main_decides(lambda: {"step": 4}, distributed.DistInfo(0, 0, 2)) == {"step": 4}
    assert sent == [[None]]
    broadcast, _ = _broadcast_from([None])
    monkeypatch.setattr(distributed.dist, "broadcast_object_list", broadcast)
    assert distributed.main_decides(lambda: {"step": 4}, distributed.DistInfo(1, 1, 2)) is None


def test_the_rollout_module_returns_every_scale_of_every_predicted_frame():
    from vidpred.models.generator import MultiScaleGenerator

    torch.manual_seed(0)
    generator = MultiScaleGenerator(n_context=4, channels=3, n_scales=3, width=0.0625)
    context = torch.rand(2, 3, 4, 16, 16) * 2 - 1
    scales = distributed.Rollout(generator)(context, 2)
    assert [tuple(s.shape) for s in scales] == [(2, 3, 2, 4, 4), (2, 3, 2, 8, 8), (2, 3, 2, 16, 16)]
    torch.testing.assert_close(scales[-1], generator.rollout(context, 2))



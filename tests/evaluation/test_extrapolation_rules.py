"""The extrapolation rules built on the camera's motion (a homography over the flow field)."""

import torch

from vidpred.evaluation.extrapolation_rules import _camera_where_it_fits


def test_the_camera_replaces_the_flow_only_where_it_fits():
    flow = torch.zeros(1, 2, 60, 80)
    flow[:, 0], flow[:, 1] = 2.0, -1.0  # a pan ...
    flow[:, 0, 10:14, 10:14] += 0.5  # ... with noise the camera explains to within 1 px
    flow[:, 0, 20:35, 30:50] = -3.0  # and a subject moving against it
    fitted = _camera_where_it_fits(flow, tolerance=1.0)
    pan = torch.tensor([2.0, -1.0]).view(1, 2, 1, 1)
    assert torch.allclose(fitted[:, :, 10:14, 10:14], pan.expand(1, 2, 4, 4), atol=0.05)  # the 0.5-px noise is gone
    assert torch.equal(fitted[:, :, 20:35, 30:50], flow[:, :, 20:35, 30:50])  # the subject keeps its flow
    assert torch.allclose(fitted[:, :, 40:, :], flow[:, :, 40:, :], atol=0.05)
    assert torch.equal(_camera_where_it_fits(flow, tolerance=0.0), flow)  # nothing fits within 0 px


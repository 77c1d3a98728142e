"""The camera's motion as the extrapolation rules fit it: a homography over the flow field,
blind to a subject moving on its own."""

import torch

from vidpred.evaluation.extrapolation_rules import _camera_flow, _camera_where_it_fits


def test_a_pan_is_all_camera_and_a_moving_subject_is_none_of_it():
    pan = torch.zeros(1, 2, 60, 80)
    pan[:, 0], pan[:, 1] = 2.0, -1.0
    assert torch.allclose(_camera_flow(pan), pan, atol=1e-3)
    still_with_subject = torch.zeros(1, 2, 60, 80)
    still_with_subject[:, 0, 20:35, 30:50] = 3.0  # a fifth of the frame moves right
    assert _camera_flow(still_with_subject).abs().max() < 1e-3
    zoom = torch.stack(torch.meshgrid(torch.arange(80.0), torch.arange(60.0), indexing="xy")) - torch.tensor(
        [40.0, 30.0]).view(2, 1, 1)
    zoom = 0.05 * zoom[None]  # 5% zoom about the centre: a homography too
    assert torch.allclose(_camera_flow(zoom), zoom, atol=1e-2)


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


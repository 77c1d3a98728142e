"""The camera's share of a flow field: a homography fitted with RANSAC, blind to a subject
moving on its own, one per field of a batch."""

import pytest
import torch

from vidpred.models.camera_motion import camera_flow


def test_a_pan_is_all_camera_and_a_moving_subject_is_none_of_it():
    pan = torch.zeros(1, 2, 60, 80)
    pan[:, 0], pan[:, 1] = 2.0, -1.0
    assert torch.allclose(camera_flow(pan), pan, atol=1e-3)
    still_with_subject = torch.zeros(1, 2, 60, 80)
    still_with_subject[:, 0, 20:35, 30:50] = 3.0  # a fifth of the frame moves right
    assert camera_flow(still_with_subject).abs().max() < 1e-3
    zoom = torch.stack(torch.meshgrid(torch.arange(80.0), torch.arange(60.0), indexing="xy")) - torch.tensor(
        [40.0, 30.0]).view(2, 1, 1)
    zoom = 0.05 * zoom[None]  # 5% zoom about the centre: a homography too
    assert torch.allclose(camera_flow(zoom), zoom, atol=1e-2)


def test_each_field_of_a_batch_gets_its_own_homography():
    pan = torch.zeros(2, 60, 80)
    pan[0], pan[1] = 1.5, 0.5
    zoom = torch.stack(torch.meshgrid(torch.arange(80.0), torch.arange(60.0), indexing="xy")) - torch.tensor(
        [30.0, 20.0]).view(2, 1, 1)
    zoom = -0.03 * zoom  # zooming out about (30, 20)
    batch = torch.stack([pan, zoom])
    fitted = camera_flow(batch)
    assert fitted.shape == batch.shape and fitted.dtype == torch.float32
    assert torch.allclose(fitted[0], pan, atol=1e-3) and torch.allclose(fitted[1], zoom, atol=1e-2)
    with pytest.raises(ValueError, match="flow must be"):
        camera_flow(torch.zeros(1, 3, 8, 8))

"""The camera's share of a flow field: a homography fitted with RANSAC, blind to a subject
moving on its own, one per field of a batch."""

import numpy as np
import pytest
import torch

from vidpred.models.camera_motion import camera_flow, homographies


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


def test_a_perspective_homography_is_recovered_with_its_division():
    # A camera turning in place: h(p) = (A p + t) / (g . p + 1) with g != 0, so the flow is not affine.
    H, W = 60, 80
    h = np.array([[1.01, 0.02, 1.5], [-0.01, 0.99, -0.5], [3e-4, -2e-4, 1.0]])
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    w = h[2, 0] * xs + h[2, 1] * ys + h[2, 2]  # 0.988 to 1.024 over the frame
    flow = np.stack([(h[0, 0] * xs + h[0, 1] * ys + h[0, 2]) / w - xs,
                     (h[1, 0] * xs + h[1, 1] * ys + h[1, 2]) / w - ys])
    flow = torch.from_numpy(flow[None]).float()
    assert torch.allclose(camera_flow(flow), flow, atol=1e-3)
    np.testing.assert_allclose(homographies(flow)[0], h, rtol=0, atol=1e-5)


def test_homographies_default_threshold_leaves_a_subject_out():
    # The subject moves 3 px, beyond the 1 px inlier distance: the still camera is the identity.
    flow = torch.zeros(1, 2, 60, 80)
    flow[:, 0, 20:35, 30:50] = 3.0
    np.testing.assert_allclose(homographies(flow)[0], np.eye(3), rtol=0, atol=1e-6)


def test_a_pan_is_found_on_a_frame_of_8_px():
    # The samples sit at the centres of 4 px cells, rows and columns 2 and 6: the 4 points a homography needs.
    pan = torch.zeros(1, 2, 8, 8)
    pan[:, 0], pan[:, 1] = -1.5, 0.5
    assert torch.allclose(camera_flow(pan), pan, atol=1e-3)


def test_frames_too_small_for_4_samples_have_no_camera_motion():
    # A 4x4 frame holds one 4 px cell, one sample: no homography for any field of the batch.
    flow = torch.ones(3, 2, 4, 4)
    assert homographies(flow) == [None, None, None]
    assert torch.equal(camera_flow(flow), torch.zeros(3, 2, 4, 4))

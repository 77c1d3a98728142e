"""Cuts between scenes and fast pans among a context's steps (vidpred/models/scene_steps.py);
the refiner reading them: tests/models/test_refiner.py."""

import pytest
import torch

from vidpred.models import scene_steps
from vidpred.models.optical_flow import dis_flows_back

def _working_greys(clip: torch.Tensor) -> list[torch.Tensor]:
    """Each frame's grey levels at a quarter of its size, ``(h, w)``, as the cut scores read them."""
    return [grey[0, 0] for grey in scene_steps.cut_greys(clip)]


def _inner_error(flow: torch.Tensor, shift: tuple[int, int], margin: int = 24) -> float:
    """Mean distance of ``flow`` ``(2, H, W)`` from a pan's backward flow ``shift``, away from the edges."""
    true = torch.tensor(shift, dtype=flow.dtype).view(2, 1, 1)
    return float((flow - true)[:, margin:-margin, margin:-margin].norm(dim=0).mean())


@pytest.mark.parametrize("newest", [1, 2, 3])
def test_a_cut_between_real_scenes_is_found_at_its_step_and_nowhere_else(newest, photo_clips):
    clip = photo_clips.pan((3, 0), 4)
    steps = dis_flows_back(clip, 3)
    assert not scene_steps.scene_cut_steps(clip, steps).any()
    cut = photo_clips.cut_to("coffee", clip, newest)
    found = scene_steps.scene_cut_steps(cut, dis_flows_back(cut, 3))
    assert found[0].tolist() == [j == newest - 1 for j in range(3)]


def test_a_change_of_brightness_and_contrast_is_no_cut(photo_clips):
    clip = photo_clips.pan((3, 0), 4)
    clip[:, :, -1] = (clip[:, :, -1] * 0.5 - 0.3).clamp(-1, 1)  # a flash the other way: darker, flatter
    assert not scene_steps.scene_cut_steps(clip, dis_flows_back(clip, 3)).any()


def test_from_the_newest_scene_the_frames_before_the_cut_are_its_first_still(photo_clips):
    clip = photo_clips.cut_to("coffee", photo_clips.pan((3, 0), 4), 2)  # frames 2 and 3 are the new scene
    steps = dis_flows_back(clip, 3)
    context, flows, cut_last = scene_steps.from_newest_scene(clip, steps)
    assert not cut_last.any()
    for t in (0, 1):
        assert torch.equal(context[:, :, t], clip[:, :, 2])
    assert torch.equal(context[:, :, 2:], clip[:, :, 2:])
    assert torch.equal(flows[0], steps[0]) and not flows[1].any() and not flows[2].any()
    # a clip of the batch without a cut is left as it was
    both = torch.cat([clip, photo_clips.pan((3, 0), 4)])
    context, flows, _ = scene_steps.from_newest_scene(both, dis_flows_back(both, 3))
    assert torch.equal(context[1], both[1])


def test_one_shift_of_the_frame_explains_a_pan_and_not_a_cut(photo_clips):
    pan = photo_clips.pan((12, -8), 2)  # 3 and 2 px a step at the working size
    greys = _working_greys(pan)
    assert scene_steps.shifted_change(greys[1], greys[0]) < 0.1
    cut = _working_greys(photo_clips.cut_to("coffee", pan, 1))
    assert scene_steps.shifted_change(cut[1], cut[0]) > 2 * scene_steps.SCENE_CUT_RESIDUAL
    # a step that leaves more than half of the frame is not taken for a pan
    far = _working_greys(photo_clips.pan((80, 0), 2))
    assert scene_steps.shifted_change(far[1], far[0]) > scene_steps.SCENE_CUT_RESIDUAL


def test_with_pans_a_step_one_shift_explains_is_no_cut_however_little_its_flow_does(photo_clips):
    pan = photo_clips.pan((12, -8), 4)
    still = [torch.zeros(1, 2, *pan.shape[-2:]) for _ in range(3)]  # a flow that missed the motion
    assert scene_steps.scene_cut_steps(pan, still).all()
    assert not scene_steps.scene_cut_steps(pan, still, pans=True).any()
    cut = photo_clips.cut_to("coffee", pan, 1)
    assert scene_steps.scene_cut_steps(cut, still, pans=True)[0].tolist() == [True, False, False]


def test_restarted_pans_flow_again_from_the_shift_only_the_steps_under_the_line_dis_missed_in_part(photo_clips):
    clip = photo_clips.pan((24, 16), 4, size=(144, 176))  # DIS misses much of the older steps, the newest is over the line
    steps = dis_flows_back(clip, 3, refine_newest=True)
    greys = scene_steps.cut_greys(clip)
    before = scene_steps.unexplained_change(clip, steps, greys)[0]
    assert before[0] > scene_steps.SCENE_CUT_RESIDUAL > before[1] > before[2] > 0.1
    given = [flow.clone() for flow in steps]
    restarted = scene_steps.restarted_pans(clip, steps, greys, refine_newest=True)
    assert all(torch.equal(a, b) for a, b in zip(steps, given))  # the caller's flows are left as they were
    after = scene_steps.unexplained_change(clip, restarted, greys)[0]
    assert torch.equal(restarted[0], steps[0])  # over the line: pans_not_cuts' to read, not this
    for j in (1, 2):
        assert after[j] <= 0.9 * before[j]
        assert _inner_error(restarted[j][0], (24, 16)) < 0.5 * _inner_error(steps[j][0], (24, 16))
    # in a batch, each clip's steps are its own: a still clip beside the pan keeps DIS's flows
    batch = torch.cat([clip, clip[:, :, :1].expand_as(clip)])
    steps = dis_flows_back(batch, 3, refine_newest=True)
    restarted = scene_steps.restarted_pans(batch, steps, scene_steps.cut_greys(batch), refine_newest=True)
    assert all(torch.equal(a[1], b[1]) for a, b in zip(restarted, steps))
    assert torch.equal(restarted[0][0], steps[0][0]) and not torch.equal(restarted[1][0], steps[1][0])


def test_restarted_pans_keep_dis_s_flow_where_it_found_the_pan_and_start_nothing_on_slow_motion(monkeypatch, photo_clips):
    found = photo_clips.pan((12, 8), 4, size=(144, 176))  # DIS's pyramid reaches it: no new flow explains a tenth more
    steps = dis_flows_back(found, 3)
    restarted = scene_steps.restarted_pans(found, steps, scene_steps.cut_greys(found))
    assert all(torch.equal(a, b) for a, b in zip(restarted, steps))
    started = []
    monkeypatch.setattr(scene_steps, "dis_flow", lambda *args, **kwargs: started.append(1))
    slow = photo_clips.pan((4, 3), 4, size=(144, 176))  # 5 px a step, under the 8 px that starts DIS again
    steps = dis_flows_back(slow, 3)
    scene_steps.restarted_pans(slow, steps, scene_steps.cut_greys(slow))
    still = found[:, :, :1].expand_as(found)
    scene_steps.restarted_pans(still, dis_flows_back(still, 3), scene_steps.cut_greys(still))
    assert not started


def test_the_cut_score_and_the_restarts_read_the_residuals_they_are_given(monkeypatch, photo_clips):
    clip = photo_clips.pan((24, 16), 4, size=(144, 176))
    steps = dis_flows_back(clip, 3, refine_newest=True)
    greys = scene_steps.cut_greys(clip)
    residuals = scene_steps.unexplained_change(clip, steps, greys)
    assert scene_steps.scene_cut_steps(clip, steps, greys, residuals=residuals).tolist() == [[True, False, False]]
    assert scene_steps.scene_cut_steps(clip, steps, greys, residuals=torch.zeros_like(residuals)).tolist() == [[False] * 3]
    restarted = scene_steps.restarted_pans(clip, steps, greys, residuals, refine_newest=True)
    assert all(torch.equal(a, b) for a, b in zip(restarted, scene_steps.restarted_pans(clip, steps, greys,
                                                                                       refine_newest=True)))
    # each step's change measured once: given the residuals, the restarts measure only their new flows
    measured = []
    monkeypatch.setattr(scene_steps, "unexplained_change",
                        lambda *args, m=scene_steps.unexplained_change: measured.append(len(args[1])) or m(*args))
    scene_steps.restarted_pans(clip, steps, greys, residuals, refine_newest=True)
    assert measured == [1, 1]  # the two older steps' new flows
    assert torch.equal(scene_steps.scene_cut_steps(clip, steps, greys, residuals=residuals),
                       residuals > scene_steps.SCENE_CUT_RESIDUAL)
    assert measured == [1, 1]

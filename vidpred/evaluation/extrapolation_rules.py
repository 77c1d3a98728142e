"""Classical extrapolation rules on the corpus: what a refiner could choose from, and the headroom.

Each rule predicts the 1st and 2nd frame after 4 context frames as one resampling of the
newest frame; each is scored on the same clips as DIS-flow extrapolation (OpenCV's medium
preset, bilinear), the strongest baseline on moving-camera footage, and reported as the
paired per-clip difference against it (:mod:`vidpred.evaluation.rule_scores`). Rules:

* ``followed``: the last step's flow sampled where the content came from, ``f1(p + f1(p))``;
* ``bicubic``: DIS extrapolation resampled bicubically instead of bilinearly;
* ``damped 0.85`` / ``damped 0.7``: DIS extrapolation with the velocity scaled down, the
  best linear forecast when the next step only partly follows the last (still one sharp
  resampling, not a blend);
* ``DIS fast`` / ``DIS ultrafast`` / ``DIS fine``: other DIS settings (``fine``: the
  medium preset down to full resolution, patches every 2 px, 50 iterations);
* ``DIS refined`` (and ``, composed``): the medium preset's flow refined at full resolution
  (:func:`~vidpred.models.optical_flow.dis_flow` with ``refine``, what
  ``model.generator.refine_flows`` gives the refiner);
* ``Farneback refined, composed``: Farneback's flow (the evaluation's settings) refined at
  full resolution as DIS's is, rolled out composed;
* ``fused <k>, composed``: per pixel, the last step's refined DIS or Farneback flow,
  whichever rebuilds that step better (the newest frame from the one before, absolute errors
  box-filtered over ``k`` px), rolled out composed: the better-fitting estimate of the past
  step, where it fits better;
* ``check <k>``: per region, the candidate (still, ``f1``, followed) that best predicted the
  newest context frame from the one before (errors box-filtered over ``k`` px), applied to
  the next step;
* ``clip check``: per clip, the rule among DIS, ``followed`` and ``DIS fast`` that best
  predicted the newest context frame from the one before, applied to the next step;
* ``clip check F``: the same among DIS, ``followed`` and Farneback's flow (the evaluation's
  settings; smoother, better on flat scenes, worse on large motion);
* ``AR clip`` / ``AR 63``: DIS extrapolation damped by the velocity's own persistence, the
  least-squares coefficient of each context step's flow on the step before it (both at the
  newest frame's pixels, followed along the flows), clamped to ``[0, 1]``: per clip, or
  per region (sums box-filtered over 63 px). A steady pan keeps its speed (coefficient 1);
  motion that changes from step to step is damped towards copying;
* ``residual 0.85`` / ``residual 0.7``: the followed flow split into the camera's motion (a
  homography fitted to ``f1`` with RANSAC) and the rest, the rest scaled down: a pan kept,
  the subjects' own motion damped (they may stop or turn, the camera keeps going);
* ``camera``: the camera's motion alone (``residual`` with the rest scaled to 0);
* ``camera fit 1`` / ``camera fit 2``: the last step's flow replaced by the camera's motion
  wherever the two agree to within 1 or 2 px, then followed: the homography's exact field in
  place of the flow's noise on the background, the flow kept on whatever moves on its own;
* ``fixed point 3``: the exact constant-velocity source of each pixel, ``s = p + k f1(s)``
  for frame ``k``, by three fixed-point steps from ``p + k f1(p)`` (``followed`` is one
  step, with the step's velocity scaled by ``k``);
* ``composed`` / ``followed, composed``: frame ``k`` sampled at the ``k``-fold composition of
  the velocity (``f1``, or ``followed``), ``s_k = s_(k-1) + v(s_(k-1))`` from ``s_0 = p``:
  the velocity field held still in the frame, exact for a steady zoom or rotation of the
  camera, where ``p + k v(p)`` is not (the 1st frame is the uncomposed rule's);
* ``camera still, rest followed`` (and ``, composed``): the camera's motion (a RANSAC
  homography of ``f1``) kept where it is, as a steady zoom's field holds still in the frame,
  and only the rest of ``f1`` followed, as a subject's motion travels with it;
* ``blurred <s>`` / ``sharpened <a> s<s>``: ``DIS refined, composed``'s prediction ``p``
  blurred by a Gaussian of ``s`` px, or sharpened by an unsharp mask ``p + a (p - G_s * p)``
  (:data:`BLURS`, :data:`SHARPENINGS`): whether the flow's prediction is as soft as PSNR
  asks, a win bought with blur being no win (its edge ratio shows it);
* ``DIS refined x<a>``: the refined DIS velocity scaled by ``a`` (:data:`SPEED_FACTORS`), a
  faster or slower camera than the last step's;
  :func:`~vidpred.evaluation.rule_scores.speed_hindsight_table` asks what the best factor,
  chosen with the answer known, would gain;
* ``oracle``: the flow from the true next frame back to the newest one (not a predictor:
  what a perfect forecast of the next motion would reach);
* ``camera damped`` / ``camera mean 2`` / ``camera mean 3``: the last step's refined DIS flow
  with its camera part (a RANSAC homography) replaced by a forecast of the camera's next step
  from its last steps (each a homography of that step's DIS flow): ``a * last + b * (last -
  before)`` with :data:`CAMERA_DAMPING` fitted on the training videos
  (:mod:`vidpred.evaluation.camera_forecast`), or the mean of the last 2 or 3;
* ``camera oracle``: the last step's refined DIS flow with its camera part (a RANSAC
  homography, :func:`~vidpred.models.camera_motion.camera_flow`) replaced by the camera's
  true next motion (the homography of the flow from the true frame back to the newest),
  the rest extrapolated (not a predictor: all that a perfect forecast of the camera alone
  could gain);
* ``camera error x<a>``: the ``camera oracle`` with ``a`` times the last step's error
  against the camera's true motion left in (:data:`CAMERA_ERRORS`): what a forecast of the
  camera that removed the rest of that error would gain (not a predictor);
* ``oracle outside``: DIS extrapolation with the true frame wherever its source falls
  outside the newest frame (not a predictor: all that a better fill of the content
  entering at the borders could gain);
* ``mean past <n>`` / ``fused past <n> <tau>`` / ``fused past <n> auto`` (and ``, box 3``) /
  ``soft past <n> auto``: temporal fusion, not one resampling: ``DIS refined, composed``'s
  prediction averaged per pixel with the ``n - 1`` older context frames, each resampled once
  onto the predicted frame along the refined DIS flows composed with the extrapolation, where
  it agrees with the newest frame's warp (mean absolute difference over channels below ``tau``
  grey levels; ``auto``: twice the clip's mean absolute residual of rebuilding the newest frame
  from the one before; ``, box 3``: the difference box-filtered over 3 px; ``soft``: weight
  ``exp(-(d / tau)^2)``; ``mean``: unguarded): the sensor and compression noise no forecast
  can predict averaged down, the newest warp alone wherever the alignment is off;
* ``fit``: how well ``f1`` rebuilds the newest frame from the previous one, the step it was
  estimated on (a ceiling on the flow's own error, without any forecast).
* ``splatted, composed`` / ``splatted speed, composed`` / ``splatted fit, composed``: the
  newest frame moved forward (:func:`~vidpred.models.warp.splat`) along the refined DIS
  velocity ``-f1``, composed, instead of sampled backward: a subject's front edge arrives
  with it, where the backward warp takes the still background's velocity there; where
  content lands together, no order (the mean), the faster in front, or the pixel the last
  step's flow rebuilt better; the backward warp in the holes;
* ``projected, composed`` / ``projected speed, composed``: the refined DIS flow splatted the
  same way (no order, or the faster in front), then one backward sampling along it: the
  refiner's ``projected`` candidate (:class:`~vidpred.models.refiner.FlowRefiner`).

    python scripts/extrapolation_rules.py --subset val
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import kornia
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from vidpred.evaluation.scoring import whole_frame_psnr
from vidpred.models.camera_motion import camera_flow
from vidpred.models.optical_flow import FARNEBACK_PARAMS, dis_flow_grey, full_size_refinement
from vidpred.models.refiner import FlowRefiner, context_flows, entered
from vidpred.models.warp import splat, warp

__all__ = ["RULES", "SPEED_RULES", "frame_psnr"]

REFERENCE = "DIS"


def _dis(source: np.ndarray, destination: np.ndarray, setting: str = "medium") -> Tensor:
    """``(1, 2, H, W)`` DIS flow with ``source(p) ≈ destination(p + flow(p))``, grey uint8 frames:
    the baselines' (:func:`~vidpred.models.optical_flow.dis_flow_grey`) for a preset or
    ``"refined"``; ``"fine"``, the medium preset down to full resolution, is this table's own."""
    if setting == "fine":
        estimator = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        estimator.setFinestScale(0)
        estimator.setPatchStride(2)
        estimator.setGradientDescentIterations(50)
        flow = estimator.calc(source, destination, None)
    else:
        refine = setting == "refined"
        flow = dis_flow_grey(source, destination, "medium" if refine else setting, refine=refine)
    return torch.from_numpy(flow).permute(2, 0, 1)[None]


def _resample(frame: Tensor, flow: Tensor, mode: str) -> Tensor:
    return warp(frame, flow, mode=mode).clamp(-1, 1)


def _box(x: Tensor, k: int) -> Tensor:
    return F.avg_pool2d(F.pad(x, (k // 2,) * 4, mode="replicate"), k, stride=1)


def _checked_velocity(frames: Tensor, grey: list[np.ndarray], window: int) -> Tensor:
    """Per region, the candidate that best predicted the newest context frame, for the next step."""
    f1, g1 = _dis(grey[3], grey[2]), _dis(grey[2], grey[1])
    now = [torch.zeros_like(f1), f1, warp(f1, f1)]
    before = [torch.zeros_like(g1), g1, warp(g1, g1)]
    errors = torch.cat([_box((warp(frames[:, :, 2], v) - frames[:, :, 3]).abs().mean(1, keepdim=True), window)
                        for v in before], dim=1)  # (1, 3, H, W)
    choice = F.one_hot(errors.argmin(1), 3).permute(0, 3, 1, 2).float()
    return sum(choice[:, i:i + 1] * v for i, v in enumerate(now))


def _farneback(source: np.ndarray, destination: np.ndarray, refine: bool = False) -> Tensor:
    """``(1, 2, H, W)`` Farneback flow (the evaluation's settings), optionally refined at full size."""
    flow = cv2.calcOpticalFlowFarneback(source, destination, None, **FARNEBACK_PARAMS)
    if refine:
        flow = full_size_refinement().calc(source, destination, flow)
    return torch.from_numpy(flow).permute(2, 0, 1)[None]


_CLIP_CHECK_RULES = {
    "DIS": lambda g, t: _dis(g[t], g[t - 1]),
    "followed": lambda g, t: (lambda f: warp(f, f))(_dis(g[t], g[t - 1])),
    "DIS fast": lambda g, t: _dis(g[t], g[t - 1], "fast"),
}


_CLIP_CHECK_RULES_F = {
    "DIS": _CLIP_CHECK_RULES["DIS"],
    "followed": _CLIP_CHECK_RULES["followed"],
    "Farneback": lambda g, t: _farneback(g[t], g[t - 1]),
}


def _fused_velocity(frames: Tensor, grey: list[np.ndarray], window: int) -> Tensor:
    """Per pixel, the refined DIS or the Farneback flow of the last step, whichever rebuilds it better."""
    flows = [_dis(grey[3], grey[2], "refined"), _farneback(grey[3], grey[2])]
    errors = [_box((warp(frames[:, :, 2], f) - frames[:, :, 3]).abs().mean(1, keepdim=True), window) for f in flows]
    return torch.where(errors[1] < errors[0], flows[1], flows[0])


def _clip_checked_velocity(frames: Tensor, grey: list[np.ndarray],
                           rules: dict[str, Callable] = _CLIP_CHECK_RULES) -> Tensor:
    """The velocity of the rule that best predicted the newest context frame, for the whole clip."""
    def check(rule: Callable) -> float:
        return frame_psnr(warp(frames[:, :, 2], rule(grey, 2)), frames[:, :, 3])
    best = max(rules.values(), key=check)
    return best(grey, 3)


def _persistent_velocity(frames: Tensor, window: int | None) -> Tensor:
    """The last step's flow times the regression coefficient of each step's flow on the one before."""
    f1, f2, f3 = context_flows(frames[:, :, :4], 3)
    agreement = (f1 * f2 + f2 * f3).sum(1, keepdim=True)
    energy = (f2 * f2 + f3 * f3).sum(1, keepdim=True)
    if window is None:
        coefficient = agreement.sum() / energy.sum().clamp_min(1e-6)
    else:  # a floor of 0.05 px^2 keeps still regions' noise from setting the coefficient
        coefficient = _box(agreement, window) / (_box(energy, window) + 0.05)
    return coefficient.clamp(0, 1) * f1


def _velocity_rule(velocity: Callable[[Tensor, list[np.ndarray]], Tensor], mode: str = "bilinear"):
    def predict(frames: Tensor, grey: list[np.ndarray], k: int) -> Tensor:
        return _resample(frames[:, :, 3], k * velocity(frames, grey), mode)
    return predict


def _residual_damped(frames: Tensor, grey: list[np.ndarray], factor: float) -> Tensor:
    f1 = _dis(grey[3], grey[2])
    camera = camera_flow(f1)
    camera = warp(camera, camera)  # followed, as the flow is
    return camera + factor * (warp(f1, f1) - camera)


def _camera_still_rest_followed(grey: list[np.ndarray]) -> Tensor:
    """The refiner's followed candidate with ``camera_still``: the camera's motion (a homography
    fitted to ``f1``) where it is, the rest of ``f1`` followed to where the content goes."""
    return FlowRefiner.candidates([_dis(grey[3], grey[2])], camera_still=True)[:, 2]


def _camera_where_it_fits(flow: Tensor, tolerance: float) -> Tensor:
    """``flow`` with the camera's motion (:func:`~vidpred.models.camera_motion.camera_flow`)
    wherever the two differ by less than ``tolerance`` px: the homography's exact field
    replaces the flow's noise there."""
    camera = camera_flow(flow)
    return torch.where((flow - camera).norm(dim=1, keepdim=True) < tolerance, camera, flow)


def _camera_fit_followed(grey: list[np.ndarray], tolerance: float) -> Tensor:
    f1 = _dis(grey[3], grey[2])
    return warp(_camera_where_it_fits(f1, tolerance), f1)


def _fixed_point(frames: Tensor, grey: list[np.ndarray], k: int, steps: int = 3) -> Tensor:
    f1 = _dis(grey[3], grey[2])
    offset = k * f1
    for _ in range(steps):
        offset = k * warp(f1, offset)
    return _resample(frames[:, :, 3], offset, "bilinear")


def _composed(velocity: Tensor, k: int) -> Tensor:
    """The offset of ``k`` steps along ``velocity`` held still in the frame: ``s_k = s_(k-1) +
    v(s_(k-1))`` from ``s_0 = p``, less ``p``."""
    offset = velocity
    for _ in range(k - 1):
        offset = offset + warp(velocity, offset)
    return offset


def _composed_rule(velocity: Callable[[Tensor, list[np.ndarray]], Tensor]):
    def predict(frames: Tensor, grey: list[np.ndarray], k: int) -> Tensor:
        return _resample(frames[:, :, 3], _composed(velocity(frames, grey), k), "bilinear")
    return predict


def _splatted(frames: Tensor, grey: list[np.ndarray], k: int, order: str, min_coverage: float = 0.5,
              project: bool = False) -> Tensor:
    """``DIS refined, composed`` moved forward instead of sampled backward: each pixel of the
    newest frame splatted along the forward velocity ``u = -f1`` composed ``k`` times (``p +
    u(p)``, then ``+ u`` where it landed), so a moving subject's edges move with it. Where
    content overlaps, ``order`` says which is in front: ``"mean"`` none (averaged), ``"speed"``
    the faster (nearer, for a camera moving through a still scene; the subject, for a still
    camera), ``"fit"`` the pixel that the last step's flow rebuilt better (its absolute error
    in grey levels, a gap of 4 levels weighing ``e``). The holes (coverage below
    ``min_coverage``) keep the backward warp."""
    v = _dis(grey[3], grey[2], "refined")
    offset = _composed(-v, k)  # where each pixel's content lands
    if order == "mean":
        importance = torch.zeros_like(v[:, :1])
    elif order == "speed":
        importance = 4 * offset.norm(dim=1, keepdim=True)  # a pixel faster: e^4 times the weight
    elif order == "fit":
        residual = (warp(frames[:, :, 2], v) - frames[:, :, 3]).abs().mean(1, keepdim=True)
        importance = -residual * (255 / 2) / 4
    else:
        raise ValueError(f"splat order must be mean, speed or fit, got {order!r}")
    backward = _composed(v, k)  # ``DIS refined, composed``'s offset, for the holes
    if project:  # the backward offset carried to where its content lands, then one backward sampling
        projected, coverage = splat(-offset, offset, importance)
        return _resample(frames[:, :, 3], torch.where(coverage >= min_coverage, projected, backward), "bilinear")
    moved, coverage = splat(frames[:, :, 3], offset, importance)
    return torch.where(coverage >= min_coverage, moved.clamp(-1, 1), _resample(frames[:, :, 3], backward, "bilinear"))


def _oracle_outside(frames: Tensor, grey: list[np.ndarray], k: int) -> Tensor:
    offset = k * _dis(grey[3], grey[2])
    return torch.where(entered(offset), frames[:, :, 3 + k], _resample(frames[:, :, 3], offset, "bilinear"))


def _camera_oracle(frames: Tensor, grey: list[np.ndarray], k: int, error: float = 0.0) -> Tensor:
    """The camera's part of ``k`` steps of the last one replaced by the camera's true ``k`` steps,
    plus ``error`` times the last step's error against them (1: ``DIS refined`` again)."""
    v = _dis(grey[3], grey[2], "refined")
    last, true = k * camera_flow(v), camera_flow(_dis(grey[3 + k], grey[3]))
    offset = k * v - last + true + error * (last - true)
    return _resample(frames[:, :, 3], offset, "bilinear")


# The camera's next step from its last two, ``a * last + b * (last - before)``: the least-squares
# fit on the training videos' steps, pooled (``damped`` of scripts/camera_forecast.py).
CAMERA_DAMPING = (0.833, -0.096)


def _camera_forecast_velocity(grey: list[np.ndarray], forecast: Callable[[list[Tensor]], Tensor]) -> Tensor:
    """The last step's refined DIS flow with its camera part replaced by ``forecast`` of the
    camera's last three steps (newest first, each a RANSAC homography of the step's DIS flow)."""
    v = _dis(grey[3], grey[2], "refined")
    cameras = [camera_flow(v)] + [camera_flow(_dis(grey[t], grey[t - 1])) for t in (2, 1)]
    return v - cameras[0] + forecast(cameras)


def _oracle(frames: Tensor, grey: list[np.ndarray], k: int) -> Tensor:
    return warp(frames[:, :, 3], _dis(grey[3 + k], grey[3]))


def _fit(frames: Tensor, grey: list[np.ndarray], k: int) -> Tensor:  # scored against the newest frame
    return warp(frames[:, :, 2], _dis(grey[3], grey[2]))


def _aligned_past(frames: Tensor, grey: list[np.ndarray], k: int, n: int) -> list[Tensor]:
    """The newest ``n`` context frames, newest first, each resampled once onto frame ``3 + k``:
    the newest by ``DIS refined, composed``'s offset ``o_k``, each older frame along the
    context flows composed onto it (frame 2 at ``o_k + v(p + o_k)``, frame 1 one refined DIS
    step of frame 2 further, ...)."""
    v = _dis(grey[3], grey[2], "refined")
    offset = _composed(v, k)
    aligned = [_resample(frames[:, :, 3], offset, "bilinear")]
    for t in range(3, 3 - n + 1, -1):  # the step t -> t-1
        offset = offset + warp(_dis(grey[t], grey[t - 1], "refined"), offset)
        aligned.append(_resample(frames[:, :, t - 1], offset, "bilinear"))
    return aligned


def _clip_noise(frames: Tensor, grey: list[np.ndarray]) -> float:
    """The mean absolute residual (over pixels and channels) of rebuilding the newest context
    frame from the one before by the refined DIS flow: the spread of a difference of two
    aligned frames, noise and misfit together. (Not the median: in compressed footage most
    pixels of a still background repeat exactly, and the median is 0.)"""
    residual = warp(frames[:, :, 2], _dis(grey[3], grey[2], "refined")) - frames[:, :, 3]
    return float(residual.abs().mean())


def _fused_past(frames: Tensor, grey: list[np.ndarray], k: int, n: int, tau: float | None,
                scale: float = 2.0, soft: bool = False, window: int = 1) -> Tensor:
    """The newest frame's composed extrapolation averaged, per pixel, with the older context
    frames aligned onto it (:func:`_aligned_past`) wherever each agrees with it: the mean
    absolute difference over channels (box-filtered over ``window`` px) below ``tau`` (in
    grey levels of 255; None: ``scale`` times the clip's :func:`_clip_noise`), with weight 1
    (``soft``: ``exp(-(d / tau)^2)``), elsewhere the newest frame's warp alone.
    ``tau = inf``: the plain, unguarded average."""
    aligned = _aligned_past(frames, grey, k, n)
    threshold = scale * _clip_noise(frames, grey) if tau is None else 2 * tau / 255
    total, weight = aligned[0].clone(), torch.ones_like(aligned[0][:, :1])
    for older in aligned[1:]:
        d = (older - aligned[0]).abs().mean(1, keepdim=True)
        if window > 1:
            d = _box(d, window)
        if soft:  # d = 0 agrees even in a clip without noise (black footage: tau = 0, and 0 / 0 is nan)
            w = torch.exp(-(d / threshold).nan_to_num(0.0) ** 2)
        else:
            w = (d < threshold).float()
        total, weight = total + w * older, weight + w
    return total / weight


# Every rule is ``rule(frames, grey, k) -> the frame k ahead``: ``frames`` the clip
# ``(1, C, 6, H, W)`` in ``[-1, 1]`` (context frames 0-3, then the true frames 4 and 5, which
# only the oracles read), ``grey`` its frames as uint8 ``(H, W)`` grey levels (0-255), ``k`` 1
# or 2; the prediction is ``(1, C, H, W)`` on the ``[-1, 1]`` scale (scored as it is, so a
# sharpening may overshoot it). In the table ``f`` stands for ``frames``, ``g`` for ``grey``.
RULES: dict[str, Callable[[Tensor, list[np.ndarray], int], Tensor]] = {
    REFERENCE: _velocity_rule(lambda f, g: _dis(g[3], g[2])),
    "followed": _velocity_rule(lambda f, g: (lambda v: warp(v, v))(_dis(g[3], g[2]))),
    "bicubic": _velocity_rule(lambda f, g: _dis(g[3], g[2]), mode="bicubic"),
    "damped 0.85": _velocity_rule(lambda f, g: 0.85 * _dis(g[3], g[2])),
    "damped 0.7": _velocity_rule(lambda f, g: 0.7 * _dis(g[3], g[2])),
    "DIS fast": _velocity_rule(lambda f, g: _dis(g[3], g[2], "fast")),
    "DIS ultrafast": _velocity_rule(lambda f, g: _dis(g[3], g[2], "ultrafast")),
    "DIS fine": _velocity_rule(lambda f, g: _dis(g[3], g[2], "fine")),
    "DIS refined": _velocity_rule(lambda f, g: _dis(g[3], g[2], "refined")),
    "DIS refined, composed": _composed_rule(lambda f, g: _dis(g[3], g[2], "refined")),
    "Farneback refined, composed": _composed_rule(lambda f, g: _farneback(g[3], g[2], refine=True)),
    "fused 15, composed": _composed_rule(lambda f, g: _fused_velocity(f, g, 15)),
    "fused 31, composed": _composed_rule(lambda f, g: _fused_velocity(f, g, 31)),
    "check 31": _velocity_rule(lambda f, g: _checked_velocity(f, g, 31)),
    "check 63": _velocity_rule(lambda f, g: _checked_velocity(f, g, 63)),
    "clip check": _velocity_rule(_clip_checked_velocity),
    "clip check F": _velocity_rule(lambda f, g: _clip_checked_velocity(f, g, _CLIP_CHECK_RULES_F)),
    "AR clip": _velocity_rule(lambda f, g: _persistent_velocity(f, None)),
    "AR 63": _velocity_rule(lambda f, g: _persistent_velocity(f, 63)),
    "residual 0.85": _velocity_rule(lambda f, g: _residual_damped(f, g, 0.85)),
    "residual 0.7": _velocity_rule(lambda f, g: _residual_damped(f, g, 0.7)),
    "camera": _velocity_rule(lambda f, g: _residual_damped(f, g, 0.0)),
    "camera fit 1": _velocity_rule(lambda f, g: _camera_fit_followed(g, 1.0)),
    "camera fit 2": _velocity_rule(lambda f, g: _camera_fit_followed(g, 2.0)),
    "fixed point 3": _fixed_point,
    "composed": _composed_rule(lambda f, g: _dis(g[3], g[2])),
    "camera still, rest followed": _velocity_rule(lambda f, g: _camera_still_rest_followed(g)),
    "camera still, rest followed, composed": _composed_rule(lambda f, g: _camera_still_rest_followed(g)),
    "followed, composed": _composed_rule(lambda f, g: (lambda v: warp(v, v))(_dis(g[3], g[2]))),
    "camera damped": _velocity_rule(lambda f, g: _camera_forecast_velocity(
        g, lambda c: CAMERA_DAMPING[0] * c[0] + CAMERA_DAMPING[1] * (c[0] - c[1]))),
    "camera mean 2": _velocity_rule(lambda f, g: _camera_forecast_velocity(g, lambda c: (c[0] + c[1]) / 2)),
    "camera mean 3": _velocity_rule(lambda f, g: _camera_forecast_velocity(g, lambda c: sum(c) / 3)),
    "camera oracle": _camera_oracle,
    "oracle": _oracle,
    "oracle outside": _oracle_outside,
    "fit": _fit,
    "splatted, composed": lambda f, g, k: _splatted(f, g, k, "mean"),
    "splatted speed, composed": lambda f, g, k: _splatted(f, g, k, "speed"),
    "splatted fit, composed": lambda f, g, k: _splatted(f, g, k, "fit"),
    "projected, composed": lambda f, g, k: _splatted(f, g, k, "mean", project=True),
    "projected speed, composed": lambda f, g, k: _splatted(f, g, k, "speed", project=True),
}

# Fusion of the aligned past frames (:func:`_fused_past`): ``mean past <n>`` unguarded;
# ``fused past <n> <tau>`` gated at a fixed tau (grey levels) or ``auto`` (2x the clip's
# noise); ``soft past <n> auto``: the smooth weight at the clip's tau; ``, box 3``: the
# differences box-filtered over 3 px before the gate.
FUSION_RULES: dict[str, Callable[[Tensor, list[np.ndarray], int], Tensor]] = {}
for _n in (2, 3):
    FUSION_RULES[f"mean past {_n}"] = lambda f, g, k, n=_n: _fused_past(f, g, k, n, float("inf"))
    for _tau in (4, 8, 16):
        FUSION_RULES[f"fused past {_n} {_tau}"] = lambda f, g, k, n=_n, t=_tau: _fused_past(f, g, k, n, float(t))
    FUSION_RULES[f"fused past {_n} auto"] = lambda f, g, k, n=_n: _fused_past(f, g, k, n, None)
    FUSION_RULES[f"soft past {_n} auto"] = lambda f, g, k, n=_n: _fused_past(f, g, k, n, None, soft=True)
    FUSION_RULES[f"fused past {_n} auto, box 3"] = lambda f, g, k, n=_n: _fused_past(f, g, k, n, None, window=3)
RULES.update(FUSION_RULES)

# How much of the last step's camera error a forecast leaves, scored by ``camera error x<a>``
# (0 is ``camera oracle``, 1 the last step's camera, ``DIS refined``).
CAMERA_ERRORS = (0.25, 0.5, 0.75)
RULES.update({f"camera error x{a}": lambda f, g, k, a=a: _camera_oracle(f, g, k, error=a) for a in CAMERA_ERRORS})

# Speeds of the last step's refined DIS velocity scored by ``DIS refined x<a>`` (1 is ``DIS refined``).
SPEED_FACTORS = (0.5, 0.7, 0.8, 0.9, 0.95, 1.05, 1.1, 1.2, 1.3)
SPEED_RULES = ["DIS refined"] + [f"DIS refined x{a}" for a in SPEED_FACTORS]
RULES.update({f"DIS refined x{a}": _velocity_rule(lambda v, g, a=a: a * _dis(g[3], g[2], "refined"))
              for a in SPEED_FACTORS})


def _gaussian(x: Tensor, sigma: float) -> Tensor:
    """``x`` blurred by a Gaussian of ``sigma`` px (taps out to 3 sigma, borders replicated)."""
    size = 2 * math.ceil(3 * sigma) + 1
    return kornia.filters.gaussian_blur2d(x, (size, size), (sigma, sigma), border_type="replicate")


def _refined_composed_filtered(sigma: float, amount: float | None = None):
    """``DIS refined, composed``, then blurred by a Gaussian of ``sigma`` px (``amount`` None)
    or sharpened by the unsharp mask ``p + amount (p - G_sigma * p)``."""
    def predict(frames: Tensor, grey: list[np.ndarray], k: int) -> Tensor:
        p = RULES["DIS refined, composed"](frames, grey, k)
        blurred = _gaussian(p, sigma)
        return blurred if amount is None else p + amount * (p - blurred)
    return predict


# Blurs (sigma, px) and unsharp masks (amount, sigma) of refined DIS's prediction, scored by
# ``blurred <s>`` and ``sharpened <a> s<s>``.
BLURS = (0.35, 0.5, 0.7, 1.0)
SHARPENINGS = tuple((a, s) for a in (0.1, 0.2, 0.35, 0.5) for s in (0.6, 1.0))
RULES.update({f"blurred {s}": _refined_composed_filtered(s) for s in BLURS})
RULES.update({f"sharpened {a} s{s}": _refined_composed_filtered(s, a) for a, s in SHARPENINGS})


def frame_psnr(a: Tensor, b: Tensor) -> float:
    """Whole-frame PSNR (dB) of ``a`` against ``b``, frames of one shape, scored as the
    evaluation scores them (:func:`~vidpred.evaluation.scoring.whole_frame_psnr`: ``a``'s
    overshoot, a sharpened or bicubic rule's, clipped to ``[-1, 1]``)."""
    return float(whole_frame_psnr(a, b, dim=tuple(range(a.dim()))))

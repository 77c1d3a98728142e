"""Flow-refining next-frame predictor: classical flow in, a learned choice of motion out.

Constant-velocity extrapolation along the last step's optical flow (OpenCV's DIS) is the
strongest simple predictor on footage with a moving camera; what it gets wrong is the
*forecast* (the camera's next move is not its last one, a noisy flow moves still texture).
:class:`FlowRefiner` keeps the classical estimate and learns where to depart from it, as
SDC-Net refines the flows of a frozen estimator:

1. DIS backward flows of the last ``n_flows`` context steps, each brought to the newest
   frame's pixels (``f1``: newest -> previous; ``f2``: previous -> the one before, sampled
   along ``f1``; ...); with ``scene_cuts``, a step its flow cannot explain is a cut between
   scenes, and the context starts there (:func:`~vidpred.models.scene_steps.from_newest_scene`);
2. candidate velocities from them (:meth:`FlowRefiner.candidates`: still, ``f1``, ``f1``
   followed to where the content goes, means over the last steps);
3. a small U-Net at ``1/scale`` of the frame size sees the context frames, those flows and
   how well ``f1`` explains the last step, and outputs per-pixel softmax weights over the
   candidates (and, with ``max_correction > 0``, a bounded velocity correction);
4. frame ``k`` ahead is the newest real frame sampled at ``p + flow_k(p)``, the velocity
   followed ``k`` steps (:meth:`VelocityPredictor.rollout_with_motion`: ``k v(p)`` in the
   ``linear`` rollout, each step continuing from where the one before ended in the
   ``composed`` one the shipped model uses): every predicted frame is *one* resampling of
   a real frame, so the 2nd frame is not a warp of a warp, and texture is moved, not
   redrawn (sharp output); with ``fades``, in a context whose steps all change its
   brightness alike (:func:`~vidpred.models.brightness.fade_rate`), that frame is relit to carry the fade on.

With the default candidates the weights start at 0.93 on ``f1``, so an untrained model is
close to DIS-flow extrapolation. The flows and the network run at a reduced size, the warp at the full
size (as DMVFN and RIFE do): 3.6 GFLOPs for a 640x360 frame besides the three flows.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vidpred.models._frames import in_frame, shrunk, working_size
from vidpred.models.brightness import (Fade, brightened, brightness_steps, dissolving, fade_levelled, fade_pivots,
                                       fade_rate, step_changes)
from vidpred.models.camera_motion import camera_flow
from vidpred.models.frame_timing import skipped_newest, without_repeats
from vidpred.models.optical_flow import dis_flows_back, farneback_flow
from vidpred.models.scene_steps import (cut_greys, fast_pans, from_newest_scene, restarted_pans, scene_cut_steps,
                                        shift_started_flow, unexplained_change)
from vidpred.models.warp import splat, warp

__all__ = ["FlowRefiner", "VelocityPredictor", "context_flows", "entered", "followed_within", "REFINER_WIDTH",
           "ROLLOUTS"]

REFINER_WIDTH = 32  # feature maps of the first level at model.generator.width 1

# Flows enter the network in units of this many working-size pixels, so typical motion is O(1).
_FLOW_UNIT = 4.0
_OUT_INIT_SCALE = 0.1
# Initial logit of the last step's velocity (the others start at 0): the untrained model
# is nearly DIS-flow extrapolation.
_LAST_STEP_LOGIT = 4.0
# Initial logit of the motion's persistence after the 1st frame: sigmoid(4) = 0.98, nearly
# constant velocity.
_PERSISTENCE_LOGIT = 4.0
# The network's logit outputs are multiplied by this, so a learning-rate step moves the
# choice between candidates as fast as it moves the correction.
_LOGIT_SCALE = 8.0
# The default bound (tanh) of the velocity correction, in working-size pixels. Even bounded,
# the correction can run to its bound everywhere after a few thousand iterations, where
# its gradient vanishes and training never recovers (docs/results.md): the shipped config
# keeps this bound and stops at 1,500 iterations, before that happens.
_MAX_CORRECTION = 4.0
# The projected candidate's z-buffer: where a step's content lands on the same pixel, the
# faster in front (for a camera moving through a still scene, the nearer), one pixel a step
# faster weighing e^4 times as much.
_PROJECTION_ORDER = 4.0
# Below this sum of bilinear weights landing on a pixel, the projected candidate has a hole
# there (content it cannot know appears) and takes the followed candidate's velocity.
_MIN_COVERAGE = 0.5
# With ``still_with_camera``, where the camera's motion over the last step moves a pixel
# this far (frame pixels), the still candidate there is the camera's motion: the small weight
# the network leaves on still would shorten a fast pan's step by a fraction of a pixel
# (docs/results.md, "Fast pans: the still candidate moves with the camera").
_FAST_CAMERA = 16.0


def context_flows(context: Tensor, n_flows: int, refine: bool = False) -> list[Tensor]:
    """DIS backward flows of the last ``n_flows`` steps, all at the newest frame's pixels.

    ``flows[0]`` (``f1``): newest(p) ≈ previous(p + f1(p)). ``flows[j]``: the step j frames
    earlier, sampled where the newest frame's pixel was then (along the composed flows), so
    each is that pixel's displacement over that step.

    Args:
        context: ``(B, C, T, H, W)`` in ``[-1, 1]``, ``T > n_flows``.
        n_flows: steps, >= 1.
        refine: ``f1`` refined at full resolution (``dis_flow(refine=True)``). The older
            flows are left as DIS gives them: they reach the prediction only through the
            network's reduced-size input and the mean candidates, where refining them moved
            no validation score by more than 0.001 dB and cost 12-17 ms each at 640x360
            (docs/ablations.md, "Flows refined at full size").

    Returns:
        ``n_flows`` tensors ``(B, 2, H, W)`` float32, (x, y) in pixels.
    """
    T = context.shape[2]
    if not 1 <= n_flows < T:
        raise ValueError(f"need 1 <= n_flows < T, got n_flows={n_flows} with T={T}")
    with torch.no_grad():
        return _at_newest_pixels(dis_flows_back(context, n_flows, refine_newest=refine))


def _at_newest_pixels(steps: list[Tensor]) -> list[Tensor]:
    """Each step's backward flow (newest step first), the older ones sampled where the
    newest frame's pixel was at that step (:func:`context_flows`)."""
    flows, offset = [steps[0]], steps[0]
    for step in steps[1:]:
        at_pixel = warp(step, offset)  # that step's flow where the pixel was
        flows.append(at_pixel)
        offset = offset + at_pixel
    return flows


def entered(flow: Tensor) -> Tensor:
    """``(B, 1, H, W)`` bool: the pixels whose content entered the frame over the step the
    backward ``flow`` ``(B, 2, H, W)`` spans: ``p + flow(p)`` lies outside the older frame,
    so no pixel there matched and the flow is the estimator's guess (on a pan, the strip
    along the edge the scene comes in from, as wide as the step)."""
    H, W = flow.shape[-2:]
    x = torch.arange(W, device=flow.device, dtype=flow.dtype).view(1, 1, W) + flow[:, 0]
    y = torch.arange(H, device=flow.device, dtype=flow.dtype).view(1, H, 1) + flow[:, 1]
    return ~in_frame(x, y, H, W).unsqueeze(1)


def followed_within(field: Tensor, flow: Tensor) -> Tensor:
    """``field`` ``(B, c, H, W)`` followed along the backward ``flow``: sampled at
    ``p + flow(p)`` (:func:`warp`), but kept as it is at ``p`` where ``p + flow(p)`` lands
    inside the frame on a pixel whose content :func:`entered` it over the step (whose flow is
    a guess), or between one and its neighbours. Where ``p + flow(p)`` leaves the frame, the
    border is sampled, as :func:`warp` does."""
    guessed = entered(flow)
    lands_on_guess = (warp(guessed.float(), flow) > 1e-3) & ~guessed
    return torch.where(lands_on_guess, field, warp(field, flow))


def _conv(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1), nn.LeakyReLU(0.1))


ROLLOUTS = ("linear", "composed")


class VelocityPredictor(nn.Module):
    """A predictor whose every frame is one resampling of the newest context frame along a
    velocity field: subclasses give :meth:`motion_and_persistence`, this class the rollouts
    (``rollout_mode``: how frames after the 1st follow the velocity, :meth:`rollout_with_motion`)."""

    rollout_mode = "linear"
    predicts_motion = True  # rollout_with_motion gives each predicted frame's flow

    def motion_and_persistence(self, context: Tensor) -> tuple[Tensor, Tensor | None]:
        """The velocity ``(B, 2, H, W)`` and its persistence ``(B, 1, H, W)`` or None: each
        subclass's own (:class:`FlowRefiner`, :class:`~vidpred.models.averaged_motion.AveragedMotion`)."""
        raise NotImplementedError(f"{type(self).__name__} must define motion_and_persistence")

    def motion_persistence_and_fade(self, context: Tensor) -> tuple[Tensor, Tensor | None, Fade | None]:
        """:meth:`motion_and_persistence`, and each clip's :class:`~vidpred.models.brightness.Fade`
        (frame ``k`` ahead ``1 + k * rate`` times as bright as the newest context frame, or as far
        from white; :func:`~vidpred.models.brightness.fade_rate`) or None where every prediction
        keeps the newest frame's brightness (here always; :class:`FlowRefiner` with ``fades``
        reads fades)."""
        return (*self.motion_and_persistence(context), None)

    def motion(self, context: Tensor) -> Tensor:
        """The velocity ``v`` at the newest frame's pixels (:meth:`motion_and_persistence`)."""
        return self.motion_and_persistence(context)[0]

    def rollout_with_motion(self, context: Tensor, n_future: int) -> tuple[Tensor, Tensor, None]:
        """``n_future`` frames, frame ``k`` the newest context frame sampled at ``p + flow_k(p)``:
        ``flow_1 = v`` and ``flow_k = flow_(k-1) + a(p) v(q)``, with ``q = p`` (rollout
        ``"linear"``: ``(1 + (k - 1) a) v(p)``) or ``q = p + flow_(k-1)(p)`` (``"composed"``: the
        step continues from where the one before ended); ``a`` = 1 without a learned persistence.
        In a fade (:meth:`motion_persistence_and_fade`), frame ``k`` is then made
        ``1 + k * rate`` times as bright, or as far from white (:func:`~vidpred.models.brightness.brightened`).

        Returns:
            frames ``(B, C, n_future, H, W)`` in ``[-1, 1]``, flows ``(B, 2, n_future, H, W)``,
            and None (no mask).
        """
        if n_future < 1:
            raise ValueError(f"n_future must be >= 1, got {n_future}")
        velocity, persistence, fade = self.motion_persistence_and_fade(context)
        last = context[:, :, -1].float()
        a = 1.0 if persistence is None else persistence
        flows = [velocity]
        for _ in range(n_future - 1):
            step = warp(velocity, flows[-1]) if self.rollout_mode == "composed" else velocity
            flows.append(flows[-1] + a * step)
        frames = [warp(last, flow) for flow in flows]
        if fade is not None:  # frame k ahead 1 + k * rate times as bright (or as far from white), never past the end
            frames = [brightened(frame, (1 + k * fade.rate).clamp_min(0), fade.white)
                      for k, frame in enumerate(frames, 1)]
        if fade is not None and fade.dissolve is not None:  # a dissolve's change, k times, moved with the content
            frames = [(frame + k * warp(fade.dissolve, flow)).clamp(-1, 1)
                      for k, (frame, flow) in enumerate(zip(frames, flows), 1)]
        return torch.stack(frames, dim=2), torch.stack(flows, dim=2), None

    def rollout(self, context: Tensor, n_future: int, return_scales: bool = False) -> Tensor | list[Tensor]:
        """``(B, C, n_future, H, W)``; with ``return_scales`` a one-element list (one scale)."""
        frames = self.rollout_with_motion(context, n_future)[0]
        return [frames] if return_scales else frames

    def predict_with_motion(self, context: Tensor) -> tuple[Tensor, Tensor, None]:
        """The next frame ``(B, C, H, W)`` in ``[-1, 1]``, its flow ``(B, 2, H, W)`` in pixels,
        and None (no mask), for ``context`` ``(B, C, n_context, H, W)`` in ``[-1, 1]``."""
        frames, flows, _ = self.rollout_with_motion(context, 1)
        return frames[:, :, 0], flows[:, :, 0], None

    def predict(self, context: Tensor) -> Tensor:
        """The next frame ``(B, C, H, W)`` for any frame size."""
        return self.predict_with_motion(context)[0]

    def forward(self, context: Tensor) -> list[Tensor]:
        """The next frame as a one-scale list, as the pyramid generator's ``forward`` gives
        its scales (training calls :meth:`rollout`)."""
        return [self.predict(context)]


class FlowRefiner(VelocityPredictor):
    """Refine DIS-flow extrapolation with a small U-Net (module docstring).

    Args:
        n_context: context frames (>= ``n_flows + 1``).
        channels: channels per frame.
        n_flows: DIS flows of the last steps given to the network (1-3).
        scale: the network runs at ``1/scale`` of the frame size (power of 2).
        width: feature maps of the first level (doubling at each of 3 levels).
        max_correction: bound of the velocity correction added to the chosen candidate, in
            working-size pixels (tanh); 0: no correction, the velocity is a convex
            combination of the candidates and cannot leave their range.
        global_context: concatenate the frame-wide mean of the coarsest features to them, so
            the choice can depend on the whole frame's motion (is the camera moving?).
        farneback: also see the last step's Farneback flow (smoother than DIS's: better on flat
            scenes and grainy footage, worse on large motion) and offer it, as it is and
            followed, as two more candidates.
        step_scale: learn, per pixel, how far the motion persists after the 1st predicted
            frame: each step after the 1st adds ``a`` times the velocity, ``a`` in ``(0, 1)``
            (1: constant velocity; 0: the motion stops after one frame, as a subject that
            stops or turns; linear rollout: frame ``k`` displaced by ``(1 + (k - 1) a) v``).
            Without it ``a`` is 1.
        rollout: ``"linear"`` or ``"composed"``, how frames after the 1st follow the
            velocity (:meth:`VelocityPredictor.rollout_with_motion`).
        camera_still: the followed candidate keeps the camera's motion (a homography fitted
            to ``f1``, :func:`~vidpred.models.camera_motion.camera_flow`) where it is and
            follows only the rest, ``c(p) + r(p + f1(p))`` with ``r = f1 - c``: a steady
            zoom's field holds still in the frame, a subject's motion travels with it.
            Off: ``f1(p + f1(p))``, all of it followed.
        followed_inside: the followed candidate does not take up the flow of the pixels
            whose content entered the newest frame over the last step (:func:`entered`: their
            flow is DIS's guess, matched to nothing): where ``p + f1(p)`` lands on one, the
            pixel keeps its own (:func:`followed_within`). Off: on a fast pan the strip inward
            of the edge the scene comes in from, as wide as the step, is moved by the guess.
        refine_flows: the last step's DIS flow ``f1`` refined at full resolution
            (:func:`~vidpred.models.optical_flow.dis_flow` with ``refine``; :func:`context_flows`).
        projected: one more candidate, ``f1`` carried forward to where each pixel's content
            lands (:func:`~vidpred.models.warp.splat`, the faster content in front; the
            followed candidate in the holes): a moving subject's front edge arrives with it,
            where the followed candidate samples the still background's velocity there.
        scene_cuts: a cut between scenes among the context's last ``n_flows`` steps
            (:func:`~vidpred.models.scene_steps.scene_cut_steps`) starts the context there
            (:func:`~vidpred.models.scene_steps.from_newest_scene`): the frames before it are the
            first frame after it, still; a clip whose newest step is the cut is predicted by copying
            the newest frame. Off: every context frame is read as the same scene's.
        pans_not_cuts: with ``scene_cuts``, a step one shift of the whole frame explains
            (:func:`~vidpred.models.scene_steps.shifted_change`) is no cut, however little of it its
            flow explains: a pan faster than DIS's flow reaches on small frames. Off: such a step is
            read as a cut.
        pan_flows: with ``pans_not_cuts``, such a step's flow is DIS's again, started from the
            shift (:func:`~vidpred.models.optical_flow.dis_flow` with ``start``) instead of
            from still. Off: its flow is the one that missed the motion.
        pan_restarts: a step under the cut line whose whole frame moves by 8 px or more (phase
            correlation) is flowed again by DIS started from that shift, the new flow kept where it
            explains a tenth more of the step (:func:`~vidpred.models.scene_steps.restarted_pans`):
            a pan DIS's pyramid reaches only in part. Off: every such step keeps DIS's flow from
            still.
        still_with_camera: where the camera's motion (the homography fitted to ``f1``,
            :func:`~vidpred.models.camera_motion.camera_flow`) moves a pixel 16 px or more, the
            still candidate is that motion (:meth:`candidates`): what a still thing in the scene
            does before a fast camera, so the weight the network leaves on still (a fraction of a
            percent) does not shorten a fast pan's step. A still camera's fast subject keeps its
            still candidate. Off: the still candidate is zero everywhere.
        repeated_frames: a context frame that shows the frame before it again (a frame-rate
            conversion's or a dropped frame's, :func:`~vidpred.models.frame_timing.repeated_steps`)
            is taken out of the context (:func:`~vidpred.models.frame_timing.without_repeats`), so
            the motion goes on after it. Off: a repeated newest frame reads as a stop, and the
            prediction copies it.
        fades: in a steady fade of the whole frame's brightness
            (:func:`~vidpred.models.brightness.fade_rate`: a fade to or from black, an exposure
            settling), the context's older frames are brought to the newest one's brightness before
            its flows are read (:func:`~vidpred.models.brightness.fade_levelled`), and each
            predicted frame carries the fade on by the newest step's change
            (:meth:`motion_persistence_and_fade`). Off: every prediction keeps the newest frame's
            brightness.
        white_fades: with ``fades``, each clip's steps are read towards black or towards white,
            whichever describes them better (:func:`~vidpred.models.brightness.fade_pivots`), so a
            fade to or from white (every pixel's distance from white scaled alike, dark pixels
            lifted most) is levelled and carried on as one. Off: every fade is read as one to or
            from black.
        dissolves: with ``fades``, in a cross-dissolve
            (:func:`~vidpred.models.brightness.dissolving`: each context step changes the picture
            beyond its motion and brightness as the step before did), frame ``k`` ahead adds ``k``
            times the three steps' mean change (:func:`~vidpred.models.brightness.step_changes`, in
            colour, at full size), moved with the content, so the next scene goes on mixing in. Off:
            every prediction keeps the newest frame's mix.
        skipped_frames: where the context's newest step skips a frame
            (:func:`~vidpred.models.frame_timing.skipped_newest`: it moves the content twice as far
            as the steady steps before it, as a conversion to a lower frame rate or a dropped frame
            makes it), the velocity is halved: each frame ahead moves one of the steady steps. Off:
            the double step is carried on.

    Attributes:
        head: ``"refiner"`` (read by code that asks a generator for its kind).
    """

    head = "refiner"

    def __init__(self, n_context: int = 4, channels: int = 3, n_flows: int = 3, scale: int = 4,
                 width: int = REFINER_WIDTH, max_correction: float = _MAX_CORRECTION,
                 global_context: bool = False, farneback: bool = False, step_scale: bool = False,
                 rollout: str = "linear", camera_still: bool = False, refine_flows: bool = False,
                 projected: bool = False, scene_cuts: bool = False, repeated_frames: bool = False,
                 fades: bool = False, skipped_frames: bool = False, followed_inside: bool = False,
                 white_fades: bool = False, dissolves: bool = False, pans_not_cuts: bool = False,
                 pan_flows: bool = False, pan_restarts: bool = False, still_with_camera: bool = False) -> None:
        super().__init__()
        if rollout not in ROLLOUTS:
            raise ValueError(f"rollout must be one of {', '.join(ROLLOUTS)}, got {rollout!r}")
        self.rollout_mode = rollout
        self.camera_still = bool(camera_still)
        self.followed_inside = bool(followed_inside)
        self.refine_flows = bool(refine_flows)
        self.projected = bool(projected)
        self.scene_cuts = bool(scene_cuts)
        self.pans_not_cuts = bool(pans_not_cuts)
        if self.pans_not_cuts and not self.scene_cuts:
            raise ValueError("pans_not_cuts tells fast pans from cuts between scenes: it needs scene_cuts")
        self.pan_flows = bool(pan_flows)
        if self.pan_flows and not self.pans_not_cuts:
            raise ValueError("pan_flows estimates the flow of the fast pans pans_not_cuts finds: "
                             "it needs pans_not_cuts")
        self.pan_restarts = bool(pan_restarts)
        self.still_with_camera = bool(still_with_camera)
        self.repeated_frames = bool(repeated_frames)
        self.fades = bool(fades)
        self.white_fades = bool(white_fades)
        if self.white_fades and not self.fades:
            raise ValueError("white_fades reads fades to and from white as well: it needs fades")
        self.dissolves = bool(dissolves)
        if self.dissolves and not (self.fades and n_flows >= 3):
            raise ValueError(f"dissolves reads three steps' changes after their changes of brightness: it needs fades "
                             f"and n_flows >= 3, got fades={self.fades}, n_flows={n_flows}")
        self.skipped_frames = bool(skipped_frames)
        if n_context < n_flows + 1 or n_flows < 1:
            raise ValueError(f"need n_context >= n_flows + 1 >= 2, got n_context={n_context}, n_flows={n_flows}")
        if self.skipped_frames and n_flows < 3:
            raise ValueError(f"skipped_frames reads three steps: it needs n_flows >= 3, got {n_flows}")
        if scale < 1 or scale & (scale - 1):
            raise ValueError(f"scale must be a power of 2, got {scale}")
        if not max_correction >= 0:
            raise ValueError(f"max_correction must be >= 0, got {max_correction}")
        self.max_correction = float(max_correction)
        self.global_context = bool(global_context)
        self.farneback = bool(farneback)
        self.step_scale = bool(step_scale)
        self.n_context, self.channels, self.n_flows, self.scale, self.width = n_context, channels, n_flows, scale, width
        # frames, flows (and Farneback's), f1's fit error
        c_in = channels * n_context + 2 * (n_flows + self.farneback) + channels
        w = width
        self.enc1 = nn.Sequential(_conv(c_in, w), _conv(w, w))
        self.enc2 = nn.Sequential(_conv(w, 2 * w, 2), _conv(2 * w, 2 * w))
        self.enc3 = nn.Sequential(_conv(2 * w, 4 * w, 2), _conv(4 * w, 4 * w), _conv(4 * w, 4 * w))
        self.dec2 = nn.Sequential(_conv((8 if global_context else 4) * w + 2 * w, 2 * w), _conv(2 * w, 2 * w))
        self.dec1 = nn.Sequential(_conv(2 * w + w, w), _conv(w, w))
        # One logit per candidate velocity, then a velocity correction (2), then the logit of
        # the motion's persistence after the 1st frame (1).
        n_out = self.n_candidates + (2 if self.max_correction > 0 else 0) + self.step_scale
        self.out = nn.Conv2d(w, n_out, 3, padding=1)
        with torch.no_grad():
            self.out.weight.mul_(_OUT_INIT_SCALE)
            self.out.bias.zero_()
            self.out.bias[1] = _LAST_STEP_LOGIT / _LOGIT_SCALE
            if self.step_scale:
                self.out.bias[-1] = _PERSISTENCE_LOGIT / _LOGIT_SCALE

    def compile(self, *args, **kwargs) -> None:
        """Compile the network's stages in place (``nn.Module.compile``'s arguments).

        Training and prediction call :meth:`rollout`, never ``self(...)``, and the flows come
        from OpenCV, outside what torch can trace: compiling the whole module would change nothing.
        """
        for stage in (self.enc1, self.enc2, self.enc3, self.dec2, self.dec1, self.out):
            stage.compile(*args, **kwargs)

    @property
    def last_layer(self) -> nn.Parameter:
        """Weight of the output convolution ``(n_out, width, 3, 3)``, where the adaptive
        adversarial weight compares the loss gradients."""
        return self.out.weight

    @property
    def n_candidates(self) -> int:
        """Candidate velocities: still, the last step's, the last step's followed to where the
        content goes, the mean over the last 2 .. n_flows steps (and with ``farneback``, its
        flow of the last step as it is and followed; with ``projected``, the last step's
        carried to where its content lands)."""
        return 3 + (self.n_flows - 1) + 2 * self.farneback + self.projected

    @staticmethod
    def candidates(flows: list[Tensor], others: tuple[Tensor, ...] = (), camera_still: bool = False,
                   projected: bool = False, followed_inside: bool = False, still_with_camera: bool = False) -> Tensor:
        """``(B, K, 2, H, W)``: the candidate velocities at the newest frame's pixels; each
        flow of ``others`` (another estimate of the last step) adds itself and itself followed.
        ``camera_still``: the followed candidate follows only what the camera does not explain.
        ``followed_inside``: it does not follow onto the pixels whose content entered the frame
        over the last step (:func:`entered`), keeping each pixel's own there.
        ``projected``: last, ``f1`` splatted to where each pixel's content lands one step on
        (the faster in front), the followed candidate where nothing lands.
        ``still_with_camera``: the first, still, candidate is the camera's motion (the homography
        fitted to ``f1``) where that moves a pixel 16 px or more."""
        f1 = flows[0]
        follow = followed_within if followed_inside else warp
        camera = camera_flow(f1) if camera_still or still_with_camera else None
        if camera_still:
            followed = camera + follow(f1 - camera, f1)
        else:
            followed = follow(f1, f1)
        still = torch.zeros_like(f1)
        if still_with_camera:
            fast = camera.square().sum(dim=1, keepdim=True) >= _FAST_CAMERA ** 2  # (not torch.norm: 100x slower)
            still = torch.where(fast, camera, still)
        out = [still, f1, followed]
        for n in range(2, len(flows) + 1):
            out.append(torch.stack(flows[:n]).mean(dim=0))
        for other in others:
            out += [other, warp(other, other)]
        if projected:
            carried, coverage = splat(f1, -f1, _PROJECTION_ORDER * f1.norm(dim=1, keepdim=True))
            out.append(torch.where(coverage >= _MIN_COVERAGE, carried, followed))
        return torch.stack(out, dim=1)

    def motion_and_persistence(self, context: Tensor) -> tuple[Tensor, Tensor | None]:
        """The velocity ``v`` at the newest frame's pixels, and how far it persists.

        Args:
            context: ``(B, C, n_context, H, W)`` in ``[-1, 1]``, any ``H``, ``W``.

        Returns:
            ``v``, ``(B, 2, H, W)`` float32, pixels per frame; and ``a``, ``(B, 1, H, W)`` in
            ``(0, 1)`` with ``step_scale``, else None (``a`` = 1). How frames ahead follow
            them: :meth:`rollout_with_motion`.
        """
        return self.motion_persistence_and_fade(context)[:2]

    def motion_persistence_and_fade(self, context: Tensor) -> tuple[Tensor, Tensor | None, Fade | None]:
        """:meth:`motion_and_persistence`, and with ``fades`` each clip's
        :class:`~vidpred.models.brightness.Fade` (its rate 0 where it does not fade; None without
        ``fades``)."""
        if context.dim() != 5 or context.shape[1] != self.channels or context.shape[2] != self.n_context:
            raise ValueError(f"context must be (B, {self.channels}, {self.n_context}, H, W), got {tuple(context.shape)}")
        B, C, T, H, W = context.shape
        h, w = working_size(H, W, self.scale)
        context, frames, flows, cut_last, fade = self._read(context.float(), (h, w))
        last = context[:, :, -1]
        others = (farneback_flow(last, context[:, :, -2]),) if self.farneback else ()
        fit_error = warp(context[:, :, -2], flows[0]) - last  # (B, C, H, W): where f1 fails
        to_working = torch.tensor([w / W, h / H], dtype=last.dtype, device=last.device).view(1, 2, 1, 1)
        x = torch.cat([*frames, *(shrunk(f * to_working, (h, w)) / _FLOW_UNIT for f in (*flows, *others)),
                       shrunk(fit_error, (h, w))], dim=1)
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        if self.global_context:  # the frame-wide mean of the coarsest features, at every position
            e3 = torch.cat([e3, e3.mean(dim=(2, 3), keepdim=True).expand_as(e3)], dim=1)
        d2 = self.dec2(torch.cat([F.interpolate(e3, size=e2.shape[-2:], mode="bilinear", align_corners=False), e2], 1))
        d1 = self.dec1(torch.cat([F.interpolate(d2, size=e1.shape[-2:], mode="bilinear", align_corners=False), e1], 1))
        out = F.interpolate(self.out(d1).float(), size=(H, W), mode="bilinear", align_corners=False)
        K = self.n_candidates
        weights = torch.softmax(out[:, :K] * _LOGIT_SCALE, dim=1).unsqueeze(2)  # (B, K, 1, H, W)
        candidates = self.candidates(flows, others, self.camera_still, self.projected,
                                     self.followed_inside, self.still_with_camera)  # (B, K, 2, H, W)
        velocity = (weights * candidates).sum(dim=1)  # (B, 2, H, W)
        if self.max_correction > 0:
            bound = self.max_correction
            velocity = velocity + bound * torch.tanh(out[:, K:K + 2] * (_FLOW_UNIT / bound)) / to_working
        persistence = torch.sigmoid(out[:, -1:] * _LOGIT_SCALE) if self.step_scale else None
        if cut_last.any():  # the newest frame is all there is of its scene: copied
            velocity = torch.where(cut_last.view(B, 1, 1, 1), torch.zeros_like(velocity), velocity)
        if self.skipped_frames:  # the newest step spans two frames' motion: a frame's is half of it
            velocity = torch.where(skipped_newest(flows).view(B, 1, 1, 1), velocity / 2, velocity)
        return velocity, persistence, fade

    def _read(self, context: Tensor, size: tuple[int, int]
              ) -> tuple[Tensor, list[Tensor], list[Tensor], Tensor, Fade | None]:
        """The context as the network reads it: repeated frames taken out (``repeated_frames``),
        a fade's frames at the newest one's brightness (``fades``), the newest scene only
        (``scene_cuts``); its frames at the working ``size``; its steps' flows at the newest
        frame's pixels (:func:`context_flows`); ``(B,)`` bool, whether the newest step is a
        cut; and with ``fades``, each clip's :class:`~vidpred.models.brightness.Fade` (else None)."""
        if self.repeated_frames:
            context = without_repeats(context)
        T = context.shape[2]
        cut_last = torch.zeros(context.shape[0], dtype=torch.bool, device=context.device)
        fade = None
        with torch.no_grad():
            steps = dis_flows_back(context, self.n_flows, refine_newest=self.refine_flows)
            if self.fades:  # the steps' brightness read along their flows; a fade's flows read again, levelled
                if self.white_fades:
                    brightness, white = fade_pivots(context, steps)
                else:
                    brightness = brightness_steps(context, steps)
                    white = torch.zeros(context.shape[0], dtype=torch.bool, device=context.device)
                fade = Fade(fade_rate(brightness), white)
                if fade.rate.any():
                    context = fade_levelled(context, brightness, fade.rate != 0, white)
                    steps = dis_flows_back(context, self.n_flows, refine_newest=self.refine_flows)
            frames = [shrunk(context[:, :, t], size) for t in range(T)]  # each shrunk alone: no full-size copy of them all
            if self.scene_cuts or self.pan_restarts:  # (at a quarter of the frame size, the network's frames serve)
                greys = [frame.mean(dim=1, keepdim=True) for frame in frames] if self.scale == 4 else cut_greys(context)
                residuals = unexplained_change(context, steps, greys)  # a restarted step stays under the cut line
            if self.pan_restarts:
                steps = restarted_pans(context, steps, greys, residuals, refine_newest=self.refine_flows)
            mixing = None
            if self.dissolves:  # read at full size (shrunk, a step's blur and occlusions repeat); a fade is not one
                grey = context.mean(dim=1, keepdim=True)
                changes = step_changes([grey[:, :, t] for t in range(T)], steps[:3], brightness, white)
                mixing = dissolving(changes) & (fade.rate == 0)
            if self.scene_cuts:
                cuts = scene_cut_steps(context, steps, greys, residuals=residuals)
                for (b, j), shift in (fast_pans(context, cuts, greys) if self.pans_not_cuts else {}).items():
                    cuts[b, j] = False
                    if self.pan_flows:  # DIS again, started from the shift
                        steps[j][b] = shift_started_flow(context, b, j, shift, self.refine_flows)[0]
                if mixing is not None:
                    mixing &= ~cuts.any(dim=1)
                context, steps, cut_last = from_newest_scene(context, steps, cuts)
                if cuts.any():
                    frames = [shrunk(context[:, :, t], size) for t in range(T)]
            if mixing is not None and mixing.any():  # the steps' mean change at full size: a third of their noise
                unlit = torch.zeros_like(brightness)
                change = sum(step_changes([context[:, :, t] for t in range(T)], steps[:3], unlit, white)) / 3
                fade = fade._replace(dissolve=torch.where(mixing.view(-1, 1, 1, 1), change, torch.zeros_like(change)))
            return context, frames, _at_newest_pixels(steps), cut_last, fade

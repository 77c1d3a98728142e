"""Predicting frames from Python: a trained model on numpy frames.

    from vidpred.api import load_model, score
    from vidpred.data.video_io import iter_video, read_video

    model = load_model()                          # the shipped refiner (or load_model("run/best.pt"))
    frames = read_video("my_clip.mp4", max_frames=model.n_context)   # uint8 (T, H, W, 3), RGB
    future = model.predict(frames, n_future=2)    # uint8 (2, H, W, 3): the next two frames

Along a stream, each frame's prediction of the next one, with each pair of frames' optical
flow estimated once however many predictions read it (and, where the video holds its frames
in a steady rhythm, as footage shown at twice its frame rate does, the newest frame wherever
the rhythm holds the next one: :class:`PredictionStream`):

    stream = model.stream()
    for frame in iter_video("my_clip.mp4"):       # or frames from a camera, converted to RGB
        guess = stream.push(frame)                # the next frame; None until n_context were pushed

The baselines a prediction is judged against have the same interface: ``load_baseline("dis")``
(DIS optical-flow extrapolation), ``"farneback"`` (the paper's) and ``"copy"`` (the last
frame repeated). :func:`score` scores predicted frames against the true ones as the
evaluation does:

    truth = read_video("my_clip.mp4", start=model.n_context, max_frames=2)
    score(future, truth)["psnr"]                  # each frame's PSNR, dB

Frames are RGB, as :func:`~vidpred.data.video_io.read_video` returns them (OpenCV's own
``cv2.VideoCapture`` gives BGR: ``frame[..., ::-1]``). A grey frame, ``(H, W)`` or ``(H, W, 1)``,
is read as three equal channels, as the video readers read greyscale footage; grey
frames stacked are ``(T, H, W)`` or ``(T, H, W, 1)``. Torch tensors are read too, channels
last as arrays are (torchvision's channels-first ``(3, H, W)`` image is refused). A model
predicts frames of any size; the predictions are what ``scripts/predict.py`` shows for the
same frames, rounded to uint8 as a saved frame is. The evaluation and ``predict.py``'s
scores are of the prediction before rounding (``predict(..., rounded=False)``), which
scores a little higher where the prediction is close: by up to 0.03 dB along the test video
carphone's frames, and by up to 0.11 dB along mire-2's, which the model predicts at up to 43 dB.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from functools import partial
from numbers import Integral
from os import PathLike
from pathlib import Path

import numpy as np
import torch

from vidpred.build import select_device
from vidpred.data.sampler import to_model_input, to_uint8_frames
from vidpred.evaluation.predictors import (DIS_FLOW, FARNEBACK_FLOW, LAST_INPUT, Method, baseline_methods,
                                          load_checkpoint_predictor)
from vidpred.evaluation.scoring import score_frames
from vidpred.models.frame_timing import HeldFrames, changed_fractions
from vidpred.models.optical_flow import reused_flows
from vidpred.pretrained import default_model_path

__all__ = ["load_model", "load_baseline", "score", "BASELINES", "VideoPredictor", "PredictionStream"]

# load_baseline's names, and the evaluation's rows they are (baseline_methods defines each).
BASELINES = {"copy": LAST_INPUT, "farneback": FARNEBACK_FLOW, "dis": DIS_FLOW}


def load_model(checkpoint: str | Path | None = None, device: str = "auto") -> VideoPredictor:
    """A trained model, ready to predict.

    Args:
        checkpoint: a vidpred checkpoint (a training run's, or one written by
            ``scripts/export_model.py``); None: the shipped model, ``vidpred/pretrained/refiner.pt``.
        device: ``auto`` (CUDA when there is one, else the CPU), ``cpu``, ``cuda`` or ``cuda:N``
            (or a ``torch.device``).

    Returns:
        A :class:`VideoPredictor` in eval mode on ``device``.

    Raises:
        TypeError: a checkpoint that is not a path, or a device that is not a string or
            ``torch.device``.
        FileNotFoundError: no such checkpoint.
        ValueError: an empty path; not a vidpred checkpoint, or one this version cannot read
            (the message names the file); a device unknown or not on this machine (CUDA
            without a GPU).
    """
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be auto, cpu, cuda or cuda:N, got {device!r}")
    if checkpoint is not None and not isinstance(checkpoint, (str, PathLike)):
        raise TypeError(f"checkpoint must be a path (str or Path) or None, got {checkpoint!r}")
    if isinstance(checkpoint, str) and not checkpoint.strip():  # Path("") would be the current folder
        raise ValueError("the checkpoint path is empty: give a checkpoint file, or None for the shipped model")
    torch_device = select_device(device, "device")
    path = default_model_path() if checkpoint is None else Path(checkpoint).expanduser()
    method = load_checkpoint_predictor(path, torch_device)  # draws nothing from torch's random stream
    return VideoPredictor(method, torch_device)


def load_baseline(name: str) -> VideoPredictor:
    """A baseline with a model's interface, to score beside it on the same frames.

    Args:
        name: ``"dis"`` (the last frame moved on along its DIS optical flow, k times the last
            step's for the k-th frame), ``"farneback"`` (the same with Farneback's flow: the
            paper's baseline) or ``"copy"`` (the last frame repeated).

    Returns:
        A :class:`VideoPredictor` on the CPU (OpenCV computes the flows there), named as the
        evaluation's rows are (``"DIS flow"``, ``"Farneback flow (paper)"``, ``"last input"``).

    Raises:
        ValueError: any other name.
    """
    if not isinstance(name, str) or name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}")
    row = next(method for method in baseline_methods() if method.name == BASELINES[name])
    # The evaluation hands the flow baselines the flows it computed once; here they compute their own.
    predict = partial(row.predict, method=row.flow) if row.flow is not None else row.predict
    method = Method(row.name, "baseline", predict, {"n_context": row.info["context_frames_used"], "head": "baseline"})
    return VideoPredictor(method, torch.device("cpu"))  # OpenCV's flows run on the CPU


class VideoPredictor:
    """A trained model (:func:`load_model`) or a baseline (:func:`load_baseline`) predicting the
    frames that follow a few known ones.

    Attributes:
        n_context: how many known frames a prediction reads (the newest of those given).
        name: its row name in reports: ``<run>/<checkpoint file stem>`` for a model, the
            baseline's row (``"DIS flow"``) for a baseline.
        info: what the checkpoint says of itself (head, training step, sizes, what it trained
            on); a baseline's holds ``n_context`` and ``head: "baseline"``.
        device: where the predictions are computed.
    """

    def __init__(self, method: Method, device: torch.device) -> None:
        self._method = method
        self.device = device
        self.name = method.name
        self.info = method.info
        self.n_context: int = method.info["n_context"]

    def __repr__(self) -> str:
        return (f"VideoPredictor({self.name!r}, head={self.info['head']!r}, n_context={self.n_context}, "
                f"device={str(self.device)!r})")

    @property
    def predicts_motion(self) -> bool:
        """Whether :meth:`predict` can return the motion of each predicted frame (a model whose
        network says it does: the refiner and the pyramid's flow head)."""
        return bool(getattr(getattr(self._method.predict, "generator", None), "predicts_motion", False))

    def predict(self, frames: np.ndarray | Sequence[np.ndarray], n_future: int = 1, *, motion: bool = False,
                rounded: bool = True) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """The ``n_future`` frames after ``frames``, each predicted from the ones before it.

        Args:
            frames: the known frames, oldest first: uint8 ``(T, H, W, 3)`` RGB, or a
                sequence of ``(H, W, 3)`` (or grey ``(H, W)``) frames of one size. The
                newest :attr:`n_context` are read (and only they are checked and copied); fewer
                is an error.
            n_future: how many frames to predict.
            motion: also return the predicted motion (:attr:`predicts_motion` models only).
            rounded: rounded to uint8, as a saved frame is; False: float32 values in
                ``[0, 255]``, the prediction the evaluation scores (:func:`score` takes both).

        Returns:
            uint8 ``(n_future, H, W, 3)`` (float32 without ``rounded``); with ``motion``, also float32 ``(n_future, H, W,
            2)``: for each predicted frame, the offset in pixels (x, then y) from each of its
            pixels to where it is sampled from: pixel ``(x, y)`` takes the value at ``(x +
            motion[..., 0], y + motion[..., 1])`` of the newest known frame (the refiner, which
            resamples that frame for every prediction) or of the frame before it (the flow head).

        Raises:
            ValueError: ``n_future`` not a whole number >= 1, ``motion`` for a model that
                predicts pixels, frames that are not uint8 RGB or grey of one size (a path,
                say: decode it with :func:`~vidpred.data.video_io.read_video`), or fewer than
                :attr:`n_context` of them.
        """
        n_future = _count(n_future, "n_future")
        if motion and not self.predicts_motion:
            raise ValueError(f"{self.name} ({self.info['head']}) predicts pixels, not motion")
        newest, first = _newest(frames, self.n_context)  # not a copy of a whole video to read its last frames
        clip = _as_frames(newest, first=first)
        if len(clip) < self.n_context:
            raise ValueError(f"the model reads {self.n_context} known frames, got {len(clip)}")
        context = self._model_input(clip[-self.n_context:])
        as_frames = _as_uint8 if rounded else _as_levels
        if motion:
            prediction, flows = self._method.predict.with_motion(context, n_future)
            return as_frames(prediction), flows[0].permute(1, 2, 3, 0).float().cpu().numpy()
        return as_frames(self._method.predict(context, n_future, None))

    def stream(self, max_pairs: int = 16, held_frames: bool = True) -> PredictionStream:
        """A :class:`PredictionStream` fed one frame at a time (``max_pairs``: how many frame
        pairs' optical flows it keeps for the predictions after, at least 1; ``held_frames``:
        a model that reads repeated frames also reads the video's rhythm of held frames)."""
        return PredictionStream(self, max_pairs, held_frames)

    @property
    def reads_repeats(self) -> bool:
        """Whether the model takes a repeated frame out of its context (the shipped refiner's
        ``repeated_frames``), and so, along a stream, reads the video's rhythm of held frames."""
        return bool(self.info.get("repeated_frames"))

    def _model_input(self, clip: np.ndarray) -> torch.Tensor:
        """uint8 ``(T, H, W, 3)`` -> ``(1, 3, T, H, W)`` in ``[-1, 1]`` on the model's device."""
        return to_model_input(torch.from_numpy(clip)[None].to(self.device))


class PredictionStream:
    """Frames pushed one at a time, each push answered by the prediction of the next frame.

    Made by :meth:`VideoPredictor.stream`. Each pair of consecutive frames' optical flow is
    estimated once and reused by the predictions that read it again (DIS is deterministic:
    every prediction is what :meth:`VideoPredictor.predict` gives for the same frames), but
    for a model that reads repeated frames (:attr:`VideoPredictor.reads_repeats`) where the
    video holds its frames in a steady rhythm (each frame shown twice or three times, one frame
    in four shown twice: :class:`~vidpred.models.frame_timing.HeldFrames`, over the steps
    pushed so far): where the rhythm holds the next frame, the prediction is the newest frame;
    where it moves it, the prediction is made from the frames the newest moving steps started
    from and the newest frame, the held frames left out.

    Attributes:
        model: the predictor it feeds.
        n_pushed: how many frames were pushed so far.
        held_frames: whether it reads the rhythm of held frames.
    """

    def __init__(self, model: VideoPredictor, max_pairs: int = 16, held_frames: bool = True) -> None:
        self.model = model
        self._window: deque[np.ndarray] = deque(maxlen=model.n_context)
        self._flows: OrderedDict = OrderedDict()  # the newest frame pairs' flows, for reused_flows
        self._max_pairs = _count(max_pairs, "max_pairs")
        self.held_frames = bool(held_frames) and model.reads_repeats
        self._held = HeldFrames(model.n_context)  # the video's steps so far, for its rhythm of held frames
        self.n_pushed = 0

    def push(self, frame: np.ndarray) -> np.ndarray | None:
        """Add the newest frame; return the prediction of the one after it, uint8 ``(H, W,
        3)``, or None while fewer than ``model.n_context`` frames have been pushed.

        A push that raises leaves the stream as it was before it.

        Raises:
            ValueError: a frame that is not uint8 ``(H, W, 3)`` or ``(H, W)``, or whose size
                differs from the frames pushed before it.
        """
        (image,) = _as_frames([frame], first=self.n_pushed)
        if self._window and image.shape != self._window[-1].shape:
            raise ValueError(f"frame {self.n_pushed} is {image.shape[1]}x{image.shape[0]}, the frames before it "
                             f"{self._window[-1].shape[1]}x{self._window[-1].shape[0]}: a stream keeps one size")
        window = [*self._window, image][-self.model.n_context:]
        held = self._held
        if self.held_frames and self._window:
            held = held.after(_changed_fraction(self._window[-1], image), self._window[-1])
        guess = None
        if len(window) == self.model.n_context:
            if self.held_frames and held.holds_next():
                guess = image.copy()
            else:
                moving = held.moving_context(image) if self.held_frames else None
                with reused_flows(self._max_pairs, store=self._flows):
                    guess = self.model.predict(np.stack(moving or window))[0]
        # Kept only once predicted: a push that fails (out of memory, Ctrl-C) can be made again.
        self._window.append(image)
        self._held = held
        self.n_pushed += 1
        return guess


def score(prediction: np.ndarray | Sequence[np.ndarray], truth: np.ndarray | Sequence[np.ndarray]) -> dict[str, list[float]]:
    """Each predicted frame's scores against the true frame, as the evaluation computes them.

    Args:
        prediction: the predicted frames, uint8 ``(n, H, W, 3)`` (or grey) as :meth:`VideoPredictor.predict`
            returns them, or float values in ``[0, 255]`` (``predict(..., rounded=False)``); values
            outside it, or all within ``[0, 1]`` where the truth's are not, are refused.
        truth: the true frames, uint8 (or grey), the same shape, at least 2x2 px.

    Returns:
        ``{"psnr": [...], "ssim": [...], "sharpness": [...], "edges": [...]}``, one value per
        frame: PSNR in dB (an exact frame scores 58.92, not infinity), SSIM (NaN for frames
        under 11 px), the sharpness difference in dB, and the edge ratio (below 1: smoother
        than the truth, so a PSNR won with blur shows).

    Raises:
        ValueError: frames that are not as above, or a prediction and truth of different shapes.
    """
    predicted = _as_frames(prediction, levels=True, what="prediction's frame")
    true = _as_frames(truth, what="truth's frame")
    if predicted.shape != true.shape:
        raise ValueError(f"prediction {predicted.shape} and truth {true.shape}: give as many frames of the same size")
    if min(true.shape[1:3]) < 2:  # the edge ratio and sharpness compare each pixel with its neighbours
        raise ValueError(f"frames of {true.shape[2]}x{true.shape[1]}: score needs at least 2x2 px")
    # Scaled to [0, 1] (it would score as black): its values fit the truth far better as 0-255 levels.
    # A dark prediction of dark frames (a fade from black) fits as it is, and is scored.
    if (predicted.dtype != np.uint8 and predicted.max() <= 1 < true.max()
            and 2 * np.mean((predicted * 255.0 - true) ** 2) < np.mean((predicted - true.astype(np.float32)) ** 2)):
        raise ValueError(f"prediction: its values lie within [0, 1], the truth's reach {true.max()}: give grey levels "
                         "0-255 (multiply by 255)")
    as_model = [_unit_range(x).transpose(0, 1) for x in (predicted, true)]  # (n, 3, H, W) in [-1, 1]
    values = score_frames(as_model[0][None].clamp(-1, 1), as_model[1])
    return {metric: [float(values[f"{metric}_whole_f{k + 1}"][0]) for k in range(len(true))]
            for metric in ("psnr", "ssim", "sharpness", "edges")}


def _changed_fraction(earlier: np.ndarray, later: np.ndarray) -> float:
    """The fraction of a step's pixels whose grey level changes by 3 levels or more
    (:func:`~vidpred.models.frame_timing.changed_fractions`), between two uint8 RGB frames."""
    return float(changed_fractions(to_model_input(torch.from_numpy(np.stack([earlier, later]))[None]))[0, 0])


def _count(value: int, name: str) -> int:
    """``value`` as an int, checked to be a whole number >= 1 (numpy's integers too, not bools)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    return int(value)


def _shown(value: object) -> str:
    """A value as an error names it: a path as its text, anything else by its type."""
    return repr(str(value)) if isinstance(value, (str, PathLike)) else type(value).__name__


def _newest(frames: object, n: int) -> tuple[object, int]:
    """The newest ``n`` of ``frames`` (an array or tensor of frames, or a list of them) and
    the index of the first; anything else (one frame, a generator) as it is, for
    :func:`_as_frames` to read or refuse."""
    stacked = isinstance(frames, (np.ndarray, torch.Tensor)) and (
        frames.ndim == 4 or (frames.ndim == 3 and frames.shape[-1] > 4 and not _channels_first_image(frames)))
    if stacked:
        return frames[-n:], max(0, len(frames) - n)
    if isinstance(frames, Sequence) and not isinstance(frames, (str, bytes)):
        first = max(0, len(frames) - n)  # by index: a deque (a stream's last frames) takes no slice
        return [frames[i] for i in range(first, len(frames))], first
    return frames, 0


def _channels_first_image(frames: object) -> bool:
    """Whether ``frames`` is a tensor shaped as one RGB or RGBA image as torchvision reads it, ``(C, H, W)``."""
    return isinstance(frames, torch.Tensor) and frames.dim() == 3 and frames.shape[0] in (3, 4) and frames.shape[-1] > 4


def _as_frames(frames: np.ndarray | Sequence[np.ndarray], levels: bool = False,
               what: str = "frame", first: int = 0) -> np.ndarray:
    """Frames (an array or a sequence of them; torch tensors too) -> uint8 ``(T, H, W, 3)``,
    checked; grey frames repeated to three channels. With ``levels``, float frames of grey
    levels (``[0, 255]``) are taken too, as float32. ``what`` names a frame in the errors
    ("truth's frame 2"), counting from ``first``."""
    if isinstance(frames, torch.Tensor):
        if _channels_first_image(frames):
            raise ValueError(f"{what}s: one {tuple(frames.shape)} image, as torchvision reads one (channels first), "
                             f"or {frames.shape[0]} grey frames? Give frames as (T, H, W, 3) (image.permute(1, 2, 0) "
                             "for one), grey frames as (T, H, W, 1)")
        frames = _tensor_as_array(frames)
    if isinstance(frames, (str, bytes, PathLike)):
        raise ValueError(f"{what}s: got the path {_shown(frames)}, not frames: decode it first with "
                         "vidpred.data.video_io.read_video")
    if not isinstance(frames, np.ndarray) and not isinstance(frames, Iterable):
        raise ValueError(f"{what}s: expected an array or a list of frames, got {type(frames).__name__}")
    if isinstance(frames, np.ndarray):
        # (H, W, C): one frame (RGB, grey, grey+alpha, RGBA), not C-px-wide grey frames; those are (T, H, W, 1)
        if frames.ndim == 3 and frames.shape[-1] <= 4:
            wanted = "the known frames, oldest first, as (T, H, W, 3)" if what == "frame" else "(n, H, W, 3) frames"
            narrow = "" if frames.shape[-1] == 3 else " (grey frames under 5 px wide as (T, H, W, 1))"
            raise ValueError(f"{what}s: one {frames.shape} frame; give {wanted} or a list of frames{narrow}")
        if frames.ndim not in (3, 4):
            raise ValueError(f"{what}s: expected uint8 (T, H, W, 3) or grey (T, H, W), got shape {frames.shape}")
        items = list(frames)
    else:
        items = [_tensor_as_array(f) if isinstance(f, torch.Tensor) else np.asarray(f) for f in frames]
    if not items:
        raise ValueError(f"{what}s: got none")
    out = []
    for k, item in enumerate(items, start=first):
        if item.dtype.kind in "USO":  # a path, text or objects: np.asarray keeps what it was given
            got = _shown(item.item()) if item.ndim == 0 else item.dtype
            raise ValueError(f"{what} {k}: expected an image array, got {got}")
        if levels and np.issubdtype(item.dtype, np.floating):
            if not np.isfinite(item).all():
                raise ValueError(f"{what} {k}: its values must be finite grey levels 0-255")
            if item.min() < 0 or item.max() > 255:
                raise ValueError(f"{what} {k}: its values must be grey levels 0-255, got {item.min():g} to "
                                 f"{item.max():g}")
            item = item.astype(np.float32)
        elif item.dtype != np.uint8:
            raise ValueError(f"{what} {k}: expected uint8 values 0-255, got {item.dtype} (scale and convert first)")
        if item.ndim == 3 and item.shape[-1] == 1:
            item = item[..., 0]
        if item.ndim == 2:
            item = np.repeat(item[..., None], 3, axis=-1)
        if item.ndim != 3 or item.shape[-1] != 3:
            raise ValueError(f"{what} {k}: expected (H, W, 3) RGB or (H, W) grey, got shape {item.shape}")
        if not item.size:
            raise ValueError(f"{what} {k} is {item.shape[1]}x{item.shape[0]}: an empty frame")
        if out and (item.shape != out[0].shape or item.dtype != out[0].dtype):
            if item.shape == out[0].shape:
                raise ValueError(f"{what} {k} is {item.dtype}, {what} {first} {out[0].dtype}: give one kind of values")
            raise ValueError(f"{what} {k} is {item.shape[1]}x{item.shape[0]}, {what} {first} {out[0].shape[1]}x"
                             f"{out[0].shape[0]}: the frames must share one size")
        out.append(item)
    return np.ascontiguousarray(np.stack(out))


def _tensor_as_array(tensor: torch.Tensor) -> np.ndarray:
    """A tensor's values on the CPU as numpy holds them (bfloat16, which numpy lacks, as float32)."""
    tensor = tensor.detach().cpu()
    return (tensor.float() if tensor.dtype == torch.bfloat16 else tensor).numpy()


def _as_uint8(prediction: torch.Tensor) -> np.ndarray:
    """``(1, 3, n, H, W)`` in ``[-1, 1]`` -> uint8 ``(n, H, W, 3)`` on the CPU."""
    return to_uint8_frames(prediction.float())[0].cpu().numpy()


def _as_levels(prediction: torch.Tensor) -> np.ndarray:
    """``(1, 3, n, H, W)`` in ``[-1, 1]`` -> float32 grey levels ``(n, H, W, 3)`` in ``[0, 255]``, unrounded."""
    return ((prediction.float().clamp(-1, 1) + 1) * 127.5)[0].permute(1, 2, 3, 0).contiguous().cpu().numpy()


def _unit_range(frames: np.ndarray) -> torch.Tensor:
    """uint8 or float32 grey levels ``(T, H, W, 3)`` -> float32 ``(3, T, H, W)`` in ``[-1, 1]``."""
    if frames.dtype == np.uint8:
        return to_model_input(torch.from_numpy(frames)[None])[0]
    return (torch.from_numpy(frames) / 127.5 - 1).permute(3, 0, 1, 2).contiguous()

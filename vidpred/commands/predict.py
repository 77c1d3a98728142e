"""Show what a model predicts: context | prediction | ground truth | error, side by side.

    python scripts/predict.py --video my_clip.mp4 --out pred.gif      # the shipped model
    python scripts/predict.py --checkpoint runs/quickstart/checkpoints/latest.pt --video clip.avi --out pred.gif
    python scripts/predict.py --checkpoint best.pt --video v_Basketball_g01_c01.avi --out pred.mp4 --frames 8 --start-frame 30

The model sees n_context real frames starting at --start-frame, then predicts --frames frames:
the shipped refiner resamples the newest real frame k times as far along its velocity for
the k-th frame; the pyramid models of the paper predict recursively (each prediction is
fed back as context). The output (.gif, .mp4 or .avi) plays
the context, then the rollout; a green bar over the prediction panel marks real frames, a
red bar predicted ones. The error panel is black where the prediction is exact and white
where it is off by half the range or more. --show-flow adds the model's motion as a
fifth panel (colour wheel: hue is the direction, saturation the speed, white is still).
It also logs the PSNR of every predicted frame beside the two baselines a prediction has
to beat on that footage: copying the newest context frame, and extrapolating it along
OpenCV's DIS optical flow.

Without --checkpoint the model shipped with vidpred is used (vidpred/pretrained/refiner.pt,
DIS optical flow refined by a small network, trained on real video: docs/results.md).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import torch

from vidpred.build import select_device
from vidpred.cli import add_device_arg, positive, script, setup_logging
from vidpred.data.sampler import to_model_input
from vidpred.data.video_io import read_video
from vidpred.evaluation import load_checkpoint_predictor
from vidpred.evaluation.baselines import flow_extrapolation, last_input
from vidpred.evaluation.predictors import DIS_FLOW, LAST_INPUT
from vidpred.evaluation.visualize import is_our_animation, side_by_side, write_animation
from vidpred.pretrained import default_model_path
from vidpred.metrics.psnr import psnr
from vidpred.safe_write import check_output


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=None,
                        help="vidpred checkpoint (default: the shipped model, vidpred/pretrained/refiner.pt)")
    parser.add_argument("--video", required=True, help="a video file (or folder of frame images)")
    parser.add_argument("--out", required=True, help="output .gif, .mp4 or .avi")
    parser.add_argument("--frames", type=int, default=8, help="frames to predict (default 8)")
    parser.add_argument("--start-frame", type=int, default=0, help="index of the first context frame (default 0)")
    parser.add_argument("--fps", type=float, default=4.0, help="output frame rate (default 4)")
    parser.add_argument("--scale", type=int, default=None,
                        help="integer magnification of each panel (default: enough for panels >= 128 px high)")
    parser.add_argument("--show-flow", action="store_true", help="add the model's predicted motion as a fifth panel")
    add_device_arg(parser)
    parser.add_argument("--force", action="store_true",
                        help="replace an existing --out that is not a GIF written by this script")
    args = parser.parse_args(argv)

    setup_logging()
    log = logging.getLogger("vidpred")
    if args.frames < 1 or args.start_frame < 0:
        raise ValueError(f"need --frames >= 1 and --start-frame >= 0, got {args.frames} and {args.start_frame}")
    positive("--fps", args.fps)
    positive("--scale", args.scale)
    if Path(args.out).suffix.lower() not in (".gif", ".mp4", ".avi"):
        raise ValueError(f"--out {args.out}: use .gif, .mp4 or .avi")
    check_output(args.out, inputs=[args.video, args.checkpoint], ours=is_our_animation,
                 what="a GIF written by predict.py", force=args.force)
    device = select_device(args.device)
    method = load_checkpoint_predictor(args.checkpoint or default_model_path(), device)
    if args.show_flow and method.info["head"] not in ("flow", "refiner"):
        raise ValueError(f"--show-flow needs a model that predicts motion (flow or refiner head); {method.name} "
                         f"has the {method.info['head']} head")
    n_context = method.info["n_context"]
    video = read_video(args.video, max_frames=args.start_frame + n_context + args.frames)
    n_future = len(video) - args.start_frame - n_context
    if n_future < 1:
        raise ValueError(f"{args.video} has {len(video)} frames: not enough for {n_context} context frames "
                         f"from frame {args.start_frame} and one to predict")
    if n_future < args.frames:
        log.warning("%s ends after %d frames: predicting %d frames instead of %d", args.video, len(video),
                    n_future, args.frames)
    clip = to_model_input(torch.from_numpy(video[args.start_frame:]).unsqueeze(0).to(device))  # (1, C, T, H, W)
    context, target = clip[:, :, :n_context], clip[:, :, n_context:]
    flow = None
    if args.show_flow:
        prediction, flows = method.predict.with_motion(context, n_future)
        flow = flows[0]
    else:
        prediction = method.predict(context, n_future, None)  # a generator needs no flow
    scale = args.scale or max(1, -(-128 // context.shape[-2]))
    frames = side_by_side(context[0], prediction[0].float(), target[0], scale=scale, flow=flow)
    path = write_animation(args.out, frames, fps=args.fps)
    log.info("wrote %s: %d context + %d predicted frames of %s", path, n_context, n_future, args.video)
    for line in score_lines(context, prediction.float(), target, method.name):
        log.info("%s", line)
    return 0


def score_lines(context: torch.Tensor, prediction: torch.Tensor, target: torch.Tensor, name: str) -> list[str]:
    """PSNR (dB) of each predicted frame: the model's, copying's and DIS extrapolation's, one line each.

    Args:
        context: ``(1, C, T, H, W)`` in ``[-1, 1]``.
        prediction, target: ``(1, C, K, H, W)`` in ``[-1, 1]``.
        name: the model's row name.
    """
    n = target.shape[2]
    rows = {name: prediction, LAST_INPUT: last_input(context, n),
            DIS_FLOW: flow_extrapolation(context, n, method="dis")}
    width = max(len(row) for row in rows)
    header = f"{'PSNR, predicted frame':<{width}}" + "".join(f"{k:>8}" for k in range(1, n + 1))
    lines = [header]
    for row, frames in rows.items():
        values = [float(psnr(frames[:, :, k].clamp(-1, 1), target[:, :, k])[0]) for k in range(n)]
        lines.append(f"{row:<{width}}" + "".join(f"{v:8.2f}" for v in values))
    return lines


if __name__ == "__main__":
    sys.exit(main())

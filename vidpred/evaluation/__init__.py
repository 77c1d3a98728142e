"""The paper's evaluation protocol: clip selection, moving-area masks, baselines, scoring, report.

``run_evaluation`` does it all (``scripts/eval_ucf101.py`` is a thin command line around it);
the pieces are usable on their own:

* :mod:`~vidpred.evaluation.clips` -- which videos and frames are scored;
* :mod:`~vidpred.evaluation.flow` -- Farneback and DIS flow, the moving-area mask;
* :mod:`~vidpred.evaluation.baselines` -- last input, flow extrapolation and their blend;
* :mod:`~vidpred.evaluation.predictors` -- checkpoints rebuilt into predictors;
* :mod:`~vidpred.evaluation.scoring` -- every metric of every method on one clip's frames;
* :mod:`~vidpred.evaluation.runner` -- per-clip scores;
* :mod:`~vidpred.evaluation.report` -- averages and the Markdown report;
* :mod:`~vidpred.evaluation.report_files` -- the report's Markdown, CSV and JSON files;
* :mod:`~vidpred.evaluation.visualize` -- side-by-side videos of a rollout.

See ``docs/evaluation.md`` for every choice the paper leaves open.
"""

from vidpred.evaluation.baselines import Blend, BlendFit, fit_blend_weight, flow_extrapolation, last_input, warp
from vidpred.evaluation.clips import (
    VIDEO_CHOICES,
    ClipSelection,
    EvalClip,
    choose_eval_videos,
    cut_clip,
    load_eval_clips,
    spread_starts,
)
from vidpred.evaluation.flow import (
    DEFAULT_FLOW_THRESHOLD,
    DIS_PRESET,
    FARNEBACK_PARAMS,
    backward_flow,
    dis_flow,
    farneback_flow,
    moving_mask,
)
from vidpred.evaluation.pipeline import EvalOutcome, load_methods, run_evaluation
from vidpred.evaluation.predictors import Method, baseline_methods, checkpoint_label, load_checkpoint_predictor
from vidpred.evaluation.report import PAPER_TABLE1, markdown_report, summarize
from vidpred.evaluation.report_files import write_report
from vidpred.evaluation.runner import ClipResult, Protocol, evaluate, evaluate_clip
from vidpred.evaluation.scoring import metric_key, score_frames

__all__ = [
    "Blend",
    "BlendFit",
    "ClipResult",
    "ClipSelection",
    "DEFAULT_FLOW_THRESHOLD",
    "DIS_PRESET",
    "EvalClip",
    "EvalOutcome",
    "FARNEBACK_PARAMS",
    "Method",
    "PAPER_TABLE1",
    "VIDEO_CHOICES",
    "Protocol",
    "backward_flow",
    "baseline_methods",
    "checkpoint_label",
    "choose_eval_videos",
    "cut_clip",
    "spread_starts",
    "farneback_flow",
    "dis_flow",
    "evaluate",
    "evaluate_clip",
    "fit_blend_weight",
    "flow_extrapolation",
    "last_input",
    "load_checkpoint_predictor",
    "load_eval_clips",
    "load_methods",
    "markdown_report",
    "metric_key",
    "moving_mask",
    "run_evaluation",
    "score_frames",
    "summarize",
    "warp",
    "write_report",
]

r"""Validation quality against training time: train configs for N minutes each, plot the curves.

    python scripts/time_to_quality.py --minutes 5 --out docs/figures/ttq_real.png \
        --run configs/real_quickstart.yaml:flow --run configs/real_quickstart.yaml:pixels:model.generator.head=pixels

Each --run is CONFIG[:LABEL[:KEY=VALUE,...]]; a label is a plain name, one per --run.
Every run trains with train.max_minutes set to --minutes into <--runs>/<label>/ (a finished
run is reused, an interrupted one resumed, both only when trained with the same config,
--minutes and --val-every: a label taken by another is refused),
validating every --val-every steps on the config's validation clips, where the baselines
(last input, Farneback and DIS flow extrapolation, their blend) are scored too. The PNG
has one panel per predicted frame; a Markdown table of final and best scores is printed
and written beside it (.md). The runs must share their validation clips (the figure draws
the first run's baselines): runs whose last input scores differ are refused.
Plot runs trained earlier, without training, with --plot-only.

Ctrl-C, or a SIGTERM to this process alone, is passed on to the training under way, which
saves a checkpoint and exits; the command waits for it, starts no other run and writes no figure (run again, the runs resume). A
second Ctrl-C stops at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from pathlib import Path

import yaml

from vidpred.benchmark.time_to_quality import TABLE_START, curves_table, is_our_plot, plot_curves, read_curve
from vidpred.cli import (StopRequest, add_set_arg, add_threads_arg, command, positive, script, setup_logging,
                         user_path)
from vidpred.commands import stopped_exit_code
from vidpred.config import Config, check_folder_name, load_config
from vidpred.config_resume import resume_differences
from vidpred.safe_write import check_figure_and_table, write_text

log = logging.getLogger("vidpred.time_to_quality")


def _parse_run(spec: str) -> tuple[Path, str, list[str]]:
    """``CONFIG[:LABEL[:KEY=VALUE,...]]`` -> ``(config, label, overrides)``; the label defaults
    to the config's stem and must be a plain name. A Windows drive (``C:\\configs\\x.yaml``)
    is part of the config's path, not a label."""
    drive = spec[:2] if len(spec) > 2 and spec[0].isalpha() and spec[1] == ":" and spec[2] in "\\/" else ""
    parts = spec[len(drive):].split(":", 2)
    config = Path(user_path(drive + parts[0]))
    if not config.is_file():
        raise FileNotFoundError(f"--run {spec}: no config file {config}")
    label = parts[1] if len(parts) > 1 and parts[1] else config.stem
    check_folder_name(label, f"--run {spec}: the label (it names the run's folder in --runs)")
    overrides = [item for item in parts[2].split(",") if item] if len(parts) > 2 else []
    return config, label, overrides


def _requested(config: Path, overrides: list[str], args: argparse.Namespace) -> Config:
    """The config a run of this label trains with: the file, its overrides and this script's settings."""
    return load_config(config, [*_script_settings(args), *overrides])


def _script_settings(args: argparse.Namespace) -> list[str]:
    """The overrides every run gets: train by the clock (--minutes), validate every --val-every steps."""
    return ["train.steps=100000000", f"train.max_minutes={args.minutes}", f"train.val_every={args.val_every}"]


def _check_reuse(run_dir: Path, label: str, cfg: Config, plot_only: bool = False) -> None:
    """Refuse to reuse (or resume) ``run_dir`` when it was trained with another config; with
    ``plot_only`` (nothing is trained), only when its model or objective differ."""
    saved = run_dir / "config.yaml"
    if not saved.is_file():
        return
    before = yaml.safe_load(saved.read_text(encoding="utf-8"))
    trained = before.get("train", {})
    # This script's own settings too: a training may resume with other ones, but a curve
    # trained for other minutes, or validated at other steps, is not this label's. A plot of
    # what is there draws the curve as it was trained.
    model = resume_differences(before, cfg)
    own = [f"train.{key}: {trained.get(key)!r} -> {getattr(cfg.train, key)!r}"
           for key in ("max_minutes", "val_every") if not plot_only and trained.get(key) != getattr(cfg.train, key)]
    detail = ", ".join(d for d in [model, *own] if d)
    if detail:
        repeat = "" if model else ", or repeat the --minutes and --val-every it was trained with"
        advice = ("plot it with the config and --set it was trained with" if plot_only
                  else f"give this run another label{repeat}")
        raise ValueError(f"the label {label!r} is taken by {run_dir}, trained with another config ({detail}): "
                         f"{advice}")


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", action="append", required=True, metavar="CONFIG[:LABEL[:K=V,...]]")
    parser.add_argument("--minutes", type=float, default=5.0, help="training minutes per run (default 5)")
    parser.add_argument("--val-every", type=int, default=250, help="validate every this many steps (default 250)")
    parser.add_argument("--runs", default="runs/time_to_quality", type=user_path,
                        help="where the runs go (default %(default)s)")
    parser.add_argument("--out", required=True, type=user_path, help="output PNG")
    parser.add_argument("--title", default="", help="figure title")
    add_threads_arg(parser, help="CPU threads per run (default: torch's choice)")
    add_set_arg(parser, help="override applied to every run (repeatable)")
    parser.add_argument("--plot-only", action="store_true", help="plot the runs' existing logs, train nothing")
    parser.add_argument("--force", action="store_true",
                        help="replace an --out (or the .md beside it) that this script did not write")
    args = parser.parse_args(argv)
    setup_logging()
    try:
        positive("--minutes", args.minutes)  # nan and inf too, which train.max_minutes would refuse by its key
        if args.val_every < 1 or (args.threads is not None and args.threads < 1):
            raise ValueError("need --val-every >= 1 and --threads >= 1")
        check_figure_and_table(args.out, ours=is_our_plot, table_start=TABLE_START, noun="figure",
                               force=args.force)
        runs = [_parse_run(spec) for spec in args.run]
        labels = [label for _, label, _ in runs]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"two --run share the label {', '.join(map(repr, repeated))}: give each its own")
        for config, label, overrides in runs:  # every refusal before any training
            _check_reuse(Path(args.runs) / label, label, _requested(config, [*args.overrides, *overrides], args),
                         plot_only=args.plot_only)
        curves = []
        stop = StopRequest("waiting for the training under way to save its checkpoint, then stopping without the "
                           "figure")
        with stop:
            for config, label, overrides in runs:
                run_dir = Path(args.runs) / label
                if not args.plot_only:
                    _train(config, run_dir, [*args.overrides, *overrides], args, stop)
                if stop.signal is not None:
                    log.warning("stopped: no figure written; run the command again to resume the runs")
                    return stopped_exit_code(stop)
                if not (run_dir / "final_metrics.json").is_file():  # --plot-only of a run stopped midway
                    log.warning("%s has not finished its training: its curve and final scores stop where it was "
                                "stopped (run without --plot-only to finish it)", run_dir)
                    label = f"{label} (unfinished)"
                curves.append(read_curve(run_dir, label))
    except (FileNotFoundError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    except subprocess.CalledProcessError as exc:  # the training said why, in its own line
        log.error("the training into %s failed (exit %d): no figure written", exc.cmd[exc.cmd.index("--run-dir") + 1],
                  exc.returncode)
        return 2
    path = plot_curves(curves, args.out, title=args.title)
    table = curves_table(curves)
    write_text(Path(path).with_suffix(".md"), table + "\n")
    print(table)
    log.info("wrote %s and %s", path, Path(path).with_suffix(".md"))
    return 0


def _train(config: Path, run_dir: Path, overrides: list[str], args: argparse.Namespace, stop: StopRequest) -> None:
    """Train ``config`` into ``run_dir`` (resumed, or reused when finished), in a process of its
    own that gets ``stop``'s signals and is waited for: at the first it saves a checkpoint and
    exits."""
    done = run_dir / "final_metrics.json"
    if done.is_file():
        log.info("%s: already trained, reusing its log", run_dir)
        return
    cmd = [*command("train"), "--config", str(config), "--run-dir", str(run_dir)]
    for item in [*_script_settings(args), *overrides]:
        cmd += ["--set", item]
    if (run_dir / "checkpoints" / "latest.pt").is_file():
        cmd.append("--resume")
    env = dict(os.environ)
    if args.threads is not None:
        env.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    log.info("training %s for %g minutes into %s", config, args.minutes, run_dir)
    code = stop.run(cmd, env=env)
    if code != 0 and stop.signal is None:  # else: stopped by the same Ctrl-C, its checkpoint saved
        raise subprocess.CalledProcessError(code, cmd)


if __name__ == "__main__":
    sys.exit(main())

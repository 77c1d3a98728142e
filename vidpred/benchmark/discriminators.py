"""Did a run's discriminators learn? Their logged accuracies, averaged over a run's tail.

Every trained discriminator logs, at each log step, its accuracy on real inputs
(``<prefix>_acc_real``), on predicted ones (``<prefix>_acc_fake``), their mean
(``<prefix>_acc``, balanced accuracy: 0.5 is chance) and the logit gap (``<prefix>_gap``)
to ``metrics.jsonl`` (:mod:`vidpred.metrics.discriminator`). A single log step is one
batch and noisy; what says whether a D stays informative is the average over the last
part of the run. ``scripts/discriminator_report.py`` prints it for several runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vidpred.training.monitor import KNOBS
from vidpred.training.run_log import read_step_rows

__all__ = ["DiscriminatorSummary", "PREFIXES", "read_metrics", "summarize_discriminators", "summary_table"]

# Log prefix of each discriminator and the name used in tables: the monitor's, so a new
# discriminator registered there is reported here too.
PREFIXES = {prefix: name for prefix, (name, _) in KNOBS.items()}


@dataclass(frozen=True)
class DiscriminatorSummary:
    """One discriminator's means over the logged steps of a run's tail."""

    run: str
    name: str
    n_logs: int  # logged steps averaged
    first_step: int
    last_step: int
    acc_real: float
    acc_fake: float
    acc: float
    gap: float


def read_metrics(run_dir: str | Path) -> list[dict]:
    """The rows of a run's ``metrics.jsonl`` (one per log step), in step order. A line cut
    short by a failed write (the run stopped mid-line) is skipped.

    Raises:
        FileNotFoundError: the run has no ``metrics.jsonl``.
    """
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: is {run_dir} a run directory that has logged?")
    return sorted(read_step_rows(path), key=lambda row: row["step"])


def summarize_discriminators(run_dir: str | Path, tail: float = 0.5, label: str | None = None
                             ) -> list[DiscriminatorSummary]:
    """Each trained discriminator's mean accuracies over the last ``tail`` of its logged steps.

    Args:
        run_dir: a run directory holding ``metrics.jsonl``.
        tail: fraction of the discriminator's logged steps (those where it was trained,
            i.e. from ``loss.disc_start`` on) to average, counted from the end; 0.5 is
            the last half of its run.
        label: the run's name in the result (default: the directory's name).

    Returns:
        One summary per discriminator that logged an accuracy, in :data:`PREFIXES` order
        (empty when none did).
    """
    if not 0 < tail <= 1:
        raise ValueError(f"tail must be in (0, 1], got {tail}")
    rows = read_metrics(run_dir)
    out = []
    for prefix, name in PREFIXES.items():
        logged = [row for row in rows if f"{prefix}_acc" in row]
        if not logged:
            continue
        kept = logged[len(logged) - max(1, round(tail * len(logged))):]

        def mean(key: str) -> float:
            missing = next((row["step"] for row in kept if f"{prefix}_{key}" not in row), None)
            if missing is not None:  # the trainer logs all four together: an edited or foreign log
                raise ValueError(f"{Path(run_dir) / 'metrics.jsonl'}: step {missing} logs {prefix}_acc without "
                                 f"{prefix}_{key}")
            return sum(row[f"{prefix}_{key}"] for row in kept) / len(kept)

        out.append(DiscriminatorSummary(
            run=label or Path(run_dir).name, name=name, n_logs=len(kept),
            first_step=kept[0]["step"], last_step=kept[-1]["step"],
            acc_real=mean("acc_real"), acc_fake=mean("acc_fake"), acc=mean("acc"), gap=mean("gap"),
        ))
    return out


def summary_table(summaries: list[DiscriminatorSummary], goal: float | None = None) -> str:
    """Markdown table of summaries; with ``goal``, a column saying whether both the real and
    the predicted accuracy reach it."""
    head = "| run | discriminator | steps averaged | acc. real | acc. predicted | balanced | logit gap |"
    rule = "|---|---|---|---|---|---|---|"
    if goal is not None:
        head += f" both >= {goal:.2f} |"
        rule += "---|"
    lines = [head, rule]
    for s in summaries:
        line = (f"| {s.run} | {s.name} | {s.first_step}-{s.last_step} ({s.n_logs} logs) | {s.acc_real:.3f} | "
                f"{s.acc_fake:.3f} | {s.acc:.3f} | {s.gap:.3f} |")
        if goal is not None:
            line += f" {'yes' if min(s.acc_real, s.acc_fake) >= goal else 'no'} |"
        lines.append(line)
    return "\n".join(lines)

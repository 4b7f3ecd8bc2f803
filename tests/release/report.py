"""What a rehearsal saw: counts, latencies before, during and after the rollout, each step's
timing; as text, as JSON, and as a plot of every request's latency over time."""

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.release.load import Sample


@dataclass
class Step:
    at: float  # when the step ended: seconds on the load's clock (before the load: negative)
    what: str
    seconds: float


@dataclass
class Rehearsal:
    previous: str
    new: str
    replicas: int
    rate: float
    samples: list[Sample] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    rollout: tuple[float, float] = (0.0, 0.0)  # from the first new replica's start to the end
    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)
    problem: str | None = None  # a step that could not be taken

    @property
    def failed(self) -> list[Sample]:
        return [sample for sample in self.samples if sample.failure is not None]

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.failed and not self.lost

    def phase(self, name: str) -> list[Sample]:
        """The requests due before, during or after the rollout."""
        start, end = self.rollout
        bounds = {"before": (-math.inf, start), "during": (start, end), "after": (end, math.inf)}
        low, high = bounds[name]
        return [sample for sample in self.samples if low <= sample.due < high]


PHASES = ("before", "during", "after")


def percentile(latencies: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile, in milliseconds; None without samples."""
    if not latencies:
        return None
    ranked = sorted(latencies)
    return ranked[max(0, math.ceil(share * len(ranked)) - 1)] * 1000


def figures(run: Rehearsal) -> dict[str, Any]:
    return {
        "previous_release": run.previous,
        "new_release": run.new,
        "replicas": run.replicas,
        "rate_per_second": run.rate,
        "requests": len(run.samples),
        "failed_requests": len(run.failed),
        "failures": dict(Counter(str(sample.failure) for sample in run.failed).most_common()),
        "longest_request_ms": round(max((s.latency for s in run.samples), default=0) * 1000, 1),
        "p99_ms": {
            name: _rounded(percentile([s.latency for s in run.phase(name)], 0.99))
            for name in PHASES
        },
        "requests_by_phase": {name: len(run.phase(name)) for name in PHASES},
        "rows_acknowledged": run.acknowledged,
        "rows_present": run.acknowledged - len(run.lost),
        "steps": [
            {"at": round(s.at, 2), "what": s.what, "seconds": round(s.seconds, 2)}
            for s in run.steps
        ],
        "problem": run.problem,
        "passed": run.ok,
    }


def text(run: Rehearsal) -> list[str]:
    data = figures(run)
    verdict = "passed" if run.ok else "FAILED"
    lines = [
        f"rehearsal: {verdict}: {data['failed_requests']} of {data['requests']} requests "
        f"failed, {data['rows_present']} of {data['rows_acknowledged']} acknowledged rows "
        f"present, rolling {run.replicas} replicas of {run.previous} to {run.new}",
    ]
    if run.problem:
        lines.append(f"  stopped: {run.problem}")
    for failure, count in data["failures"].items():
        lines.append(f"  failed: {count} x {failure}")
    p99 = data["p99_ms"]
    lines.append(
        "  p99 ms: "
        + ", ".join(f"{name} {p99[name]}" for name in PHASES)
        + f"; longest request {data['longest_request_ms']} ms"
    )
    lines.append(
        f"  load: open loop, {run.rate:g} requests/s through HAProxy; requests before, during, "
        f"after the rollout: {', '.join(str(data['requests_by_phase'][n]) for n in PHASES)}"
    )
    lines += [
        f"  {step['at']:7.2f}s  {step['what']} ({step['seconds']:.2f}s)" for step in data["steps"]
    ]
    return lines


def plot(run: Rehearsal, path: Path) -> None:
    """Every request's latency against when it was due; the steps as vertical lines."""
    # Imported here: the plot alone needs it, and it is slow to import.
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(11, 5))
    good = [s for s in run.samples if s.failure is None]
    axes.scatter([s.due for s in good], [s.latency * 1000 for s in good], s=4, label="worked")
    if run.failed:
        axes.scatter(
            [s.due for s in run.failed],
            [s.latency * 1000 for s in run.failed],
            s=12,
            marker="x",
            color="red",
            label=f"failed ({len(run.failed)})",
        )
    for step in (step for step in run.steps if step.at >= 0):  # not the first replicas' start
        axes.axvline(step.at, color="grey", linewidth=0.6, linestyle="--")
        axes.text(
            step.at,
            0.98,
            step.what,
            transform=axes.get_xaxis_transform(),
            rotation=90,
            fontsize=6,
            va="top",
            ha="right",
        )
    axes.axvspan(*run.rollout, color="orange", alpha=0.08, label="rollout")
    axes.set_yscale("log")
    axes.set_xlabel("seconds since the load started (when each request was due)")
    axes.set_ylabel("latency, ms (log)")
    axes.set_title(f"Rolling deploy of {run.replicas} replicas: {run.previous} to {run.new}")
    axes.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)

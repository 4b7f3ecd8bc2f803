"""The plot of bench/migrations/: every request's latency over time, one panel per series.

Time 0 is the start of the first `alembic upgrade` process in each panel, so the panels line
up; the baseline is to the left of it. Lightly shaded: while an `alembic upgrade` process ran
(one per release), labelled with the revisions it ran; darker, from a dotted line: each revision,
from its start to its commit. The dashed line is the migrations' lock timeout, the longest any
request should wait.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes

# A Figure made directly, not through pyplot: no GUI backend, no global state; savefig
# renders a .png with Agg.
from matplotlib.figure import Figure

from bench.migrations.load import MIX, Sample
from bench.migrations.upgrade import UpgradeRun

COLOURS = {"get": "tab:blue", "update": "tab:orange", "insert": "tab:green"}


@dataclass(frozen=True)
class Panel:
    title: str
    samples: Sequence[Sample]
    origin: float  # the run's clock at time 0 of the plot
    upgrades: Sequence[UpgradeRun]
    # Real revision names of what the upgrades ran (the naive series runs stand-ins).
    real_name: dict[str, str]


def _short(revision: str) -> str:
    return revision.split("_", 1)[0]  # "0005_backfill_user_full_name" -> "0005"


def _mark_upgrades(axis: Axes, panel: Panel) -> None:
    for upgrade in panel.upgrades:
        start = upgrade.started - panel.origin
        axis.axvspan(start, upgrade.ended - panel.origin, color="0.94", lw=0, zorder=0)
        for revision in upgrade.revisions:
            began = revision.started - panel.origin
            axis.axvspan(began, revision.ended - panel.origin, color="0.8", lw=0, zorder=0)
            axis.axvline(began, color="0.45", lw=0.5, ls=":", zorder=0)
        label = "+".join(
            _short(panel.real_name.get(r.revision, r.revision)) for r in upgrade.revisions
        )
        axis.annotate(
            label,
            xy=(start, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(1, -2),
            textcoords="offset points",
            rotation=90,
            va="top",
            fontsize=7,
            color="0.3",
        )


def _scatter_requests(axis: Axes, panel: Panel) -> None:
    for kind in MIX:
        done = [s for s in panel.samples if s.kind == kind and s.error is None]
        axis.scatter(
            [s.due - panel.origin for s in done],
            [s.latency * 1000 for s in done],
            s=2,
            color=COLOURS[kind],
            alpha=0.5,
            linewidths=0,
            label=kind,
            rasterized=True,  # tens of thousands of points: pixels, not vectors
        )
    failed = [s for s in panel.samples if s.error is not None]
    if failed:
        axis.scatter(
            [s.due - panel.origin for s in failed],
            [s.latency * 1000 for s in failed],
            s=10,
            marker="x",
            color="tab:red",
            linewidths=0.8,
            label="failed",
            rasterized=True,
        )


def draw(path: Path, panels: Sequence[Panel], *, lock_timeout_s: float) -> None:
    figure = Figure(figsize=(12, 3.4 * len(panels)), layout="constrained")
    axes = list(figure.subplots(len(panels), 1, sharex=True, sharey=True, squeeze=False)[:, 0])
    legend: dict[str, Any] = {}  # label -> handle, across the panels (only some have failures)
    for axis, panel in zip(axes, panels, strict=True):
        _mark_upgrades(axis, panel)
        _scatter_requests(axis, panel)
        axis.axhline(lock_timeout_s * 1000, color="tab:red", ls="--", lw=0.8)
        axis.set_yscale("log")
        axis.set_ylabel("latency, ms")
        axis.set_title(panel.title, loc="left", fontsize=10)
        axis.grid(axis="y", which="major", color="0.85", lw=0.5)
        for handle, label in zip(*axis.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    axes[-1].set_xlabel(
        "seconds from the first alembic upgrade (light: an upgrade process, labelled with its "
        "revisions; dark: a revision, start to commit; dashed: the lock timeout)"
    )
    figure.legend(
        list(legend.values()), list(legend), loc="outside right upper", markerscale=4, fontsize=8
    )
    figure.savefig(path, dpi=110)

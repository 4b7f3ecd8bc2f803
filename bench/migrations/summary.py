"""The figures of a run, the text summary, and every request as CSV."""

import csv
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench import report
from bench.migrations.load import Sample
from bench.migrations.naive import INITIAL
from bench.migrations.series import SeriesRun

SLOW_SECONDS = 1.0


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest rank: the smallest value that at least `share` of `values` do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def latency(samples: Sequence[Sample]) -> dict[str, Any]:
    latencies = [sample.latency for sample in samples]
    return {
        "requests": len(samples),
        "failed": sum(sample.error is not None for sample in samples),
        "over_1s": sum(seconds > SLOW_SECONDS for seconds in latencies),
        "p50_ms": _ms(percentile(latencies, 0.50)),
        "p99_ms": _ms(percentile(latencies, 0.99)),
        "max_ms": _ms(max(latencies, default=None)),
    }


def _due_within(samples: Iterable[Sample], windows: Iterable[tuple[float, float]]) -> list[Sample]:
    """The requests that were due while one of `windows` lasted.

    A request is counted where it was due, not where it ended: one held up by a revision's lock
    counts for that revision, not for the one that happens to run when the lock goes.
    """
    spans = list(windows)
    return [s for s in samples if any(start <= s.due < end for start, end in spans)]


def summarise(run: SeriesRun, real_name: Mapping[str, str]) -> dict[str, Any]:
    """The figures of one series; `real_name` names the revisions the naive series stood in for."""
    samples = run.counted
    upgrades = [upgraded for _, upgraded in run.upgrades]
    revisions: list[dict[str, Any]] = [
        {
            "revision": real_name.get(revision.revision, revision.revision),
            "ran_as": revision.revision,
            "release": release,
            "started_s": round(revision.started - run.migrations_from, 3),  # as on the plot
            "seconds": round(revision.seconds, 3),
            "due_meanwhile": latency(_due_within(samples, [(revision.started, revision.ended)])),
        }
        for release, upgraded in run.upgrades
        for revision in upgraded.revisions
    ]
    return {
        "title": run.series.title,
        "all": latency(samples),
        "before": latency([s for s in samples if s.due < run.migrations_from]),
        # While a revision ran: not the interpreter's start nor the pause between releases.
        "during": latency(
            _due_within(samples, ((r.started, r.ended) for u in upgrades for r in u.revisions))
        ),
        "after": latency([s for s in samples if s.due >= run.migrations_to]),
        "errors": dict(Counter(s.error for s in samples if s.error is not None).most_common()),
        "migration_seconds": round(sum(u.ended - u.started for u in upgrades), 2),
        "revision_seconds": round(sum(r["seconds"] for r in revisions), 2),
        "upgrades": [
            {
                "release": release,
                "target": upgraded.target,
                "seconds": round(upgraded.ended - upgraded.started, 3),
                "startup_seconds": round(upgraded.startup_seconds, 3),
                "lock_timeout_retries": upgraded.retries,
                "failure": upgraded.failure,
            }
            for release, upgraded in run.upgrades
        ],
        "revisions": revisions,
        "migration_failure": run.failure,
    }


def _fmt_ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:,.2f} s" if value >= 1000 else f"{value:,.1f} ms"


def headline(figures: dict[str, Any]) -> str:
    """One series in a line: what the plot's panel says in its title."""
    every, before, during = figures["all"], figures["before"], figures["during"]
    return (
        f"{every['failed']:,} failed, longest {_fmt_ms(every['max_ms'])}, "
        f"{every['over_1s']:,} over {SLOW_SECONDS:g} s, p99 {_fmt_ms(before['p99_ms'])} before "
        f"and {_fmt_ms(during['p99_ms'])} during the revisions"
    )


def _header(result: dict[str, Any]) -> list[str]:
    load, settings = result["load"], result["settings"]
    mix = ", ".join(f"{kind} {share:.0%}" for kind, share in load["mix"].items())
    return [
        "Migrations under load: the example series to head while the live release serves",
        f"machine: {report.describe_machine(result['machine'])}",
        f"database: {result['rows']:,} users seeded at {INITIAL}, then cloned: each series "
        "migrates its own identical copy, one series after the other",
        *(f"  {name}: {s['title']}" for name, s in result["series"].items()),
        f"load: open loop, {load['rate']:g} requests/s ({mix}) as the live release issues them "
        "(tests/story/releases.py), each in its own transaction on the app's pool: "
        f"{settings['pool_size']} connections + {settings['pool_max_overflow']} overflow, "
        f"{settings['pool_timeout_seconds']:g} s to get one, statement timeout "
        f"{settings['db_statement_timeout_ms']:,} ms; latency: from when the request was due "
        "to when it ended, the wait for a pooled connection included",
        f"story: {load['warmup']:g} s warm-up (not counted), {load['baseline']:g} s baseline, "
        "then for each release N: N-1 live while `alembic upgrade <N's revision>` runs "
        f"(lock timeout {settings['migration_lock_timeout_ms']:,} ms, statement timeout "
        f"{settings['migration_statement_timeout_ms']:,} ms, backfill batches of "
        f"{settings['migration_backfill_batch_size']:,} rows), then N live for "
        f"{load['pause']:g} s; {load['tail']:g} s after the last",
        "requests counted by when they were due: before = in the baseline; during = while a "
        "revision ran (from its `Running upgrade` line to its commit); after = after the last "
        "revision; a failed request's latency runs until it failed",
    ]


def _totals(series: dict[str, Any], lock_timeout_ms: int) -> list[str]:
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("failed requests (target 0)", lambda s: f"{s['all']['failed']:,}"),
        (
            f"longest request (target < {lock_timeout_ms / 1000:g} s)",
            lambda s: _fmt_ms(s["all"]["max_ms"]),
        ),
        (f"requests over {SLOW_SECONDS:g} s", lambda s: f"{s['all']['over_1s']:,}"),
        ("p99 before (baseline)", lambda s: _fmt_ms(s["before"]["p99_ms"])),
        ("p99 during", lambda s: _fmt_ms(s["during"]["p99_ms"])),
        ("p99 after", lambda s: _fmt_ms(s["after"]["p99_ms"])),
        ("p50 before (baseline)", lambda s: _fmt_ms(s["before"]["p50_ms"])),
        ("p50 during", lambda s: _fmt_ms(s["during"]["p50_ms"])),
        ("requests before", lambda s: f"{s['before']['requests']:,}"),
        ("requests during", lambda s: f"{s['during']['requests']:,}"),
        ("revisions' run time, sum", lambda s: f"{s['revision_seconds']:,.2f} s"),
        ("alembic processes, sum", lambda s: f"{s['migration_seconds']:,.2f} s"),
        (
            "lock-timeout retries",
            lambda s: str(sum(u["lock_timeout_retries"] for u in s["upgrades"])),
        ),
    ]
    lines = [f"{'':<40}" + "".join(f"{name:>14}" for name in series)]
    for title, value in rows:
        lines.append(f"{title:<40}" + "".join(f"{value(s):>14}" for s in series.values()))
    for name, s in series.items():
        if s["errors"]:
            counts = ", ".join(f"{n:,} {error}" for error, n in s["errors"].items())
            lines.append(f"{name} failures: {counts}")
        if s["migration_failure"]:
            lines.append(f"{name}: a migration FAILED: {s['migration_failure']}")
    return lines


def _per_revision(series: dict[str, Any]) -> list[str]:
    names = list(series)
    lines = [
        "per revision: run time (from Alembic's `Running upgrade` line to its commit), and the "
        "longest request due meanwhile (-: none was due)",
        f"{'revision':<32}{'release':>8}"
        + "".join(f"{name + ' s':>10}" for name in names)
        + "".join(f"{name + ' longest':>16}" for name in names),
    ]
    by_revision: dict[str, dict[str, dict[str, Any]]] = {}
    for name, s in series.items():
        for revision in s["revisions"]:
            by_revision.setdefault(revision["revision"], {})[name] = revision
    for revision, runs in by_revision.items():
        release = next(iter(runs.values()))["release"]
        times = "".join(
            f"{runs[name]['seconds']:>10.2f}" if name in runs else f"{'-':>10}" for name in names
        )
        longest = "".join(
            f"{_fmt_ms(runs[name]['due_meanwhile']['max_ms']) if name in runs else '-':>16}"
            for name in names
        )
        lines.append(f"{revision:<32}{release:>8}{times}{longest}")
    return lines


def _verdict(result: dict[str, Any]) -> list[str]:
    end, safe = result["end_state"], result["series"]["safe"]["all"]
    lock_timeout_ms = result["settings"]["migration_lock_timeout_ms"]
    same = {True: "yes", False: "NO", None: "not compared: a series did not reach head"}
    return [
        f"end state: the same schema in both copies: {same[end['same_schema']]}; "
        "rows = seeded + acknowledged inserts: "
        + ", ".join(
            f"{name} {'yes' if e['rows'] == e['expected_rows'] else 'NO'} ({e['rows']:,})"
            for name, e in end["series"].items()
        ),
        f"safe series: {safe['failed']:,} failed (target 0): "
        f"{'met' if safe['failed'] == 0 else 'MISSED'}; longest request "
        f"{_fmt_ms(safe['max_ms'])} (target < {lock_timeout_ms / 1000:g} s, the lock timeout): "
        f"{'met' if (safe['max_ms'] or 0) < lock_timeout_ms else 'MISSED'}",
    ]


def human_summary(result: dict[str, Any]) -> list[str]:
    lock_timeout_ms = result["settings"]["migration_lock_timeout_ms"]
    return [
        *_header(result),
        "",
        *_totals(result["series"], lock_timeout_ms),
        "",
        *_per_revision(result["series"]),
        "",
        *_verdict(result),
    ]


def write_requests(path: Path, runs: Sequence[SeriesRun]) -> None:
    """Every request: series, kind, live release, due (seconds from the first revision's start),
    latency in ms, and the error if it failed."""
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["series", "kind", "release", "due_s", "latency_ms", "error"])
        for run in runs:
            for s in run.samples:
                writer.writerow(
                    [
                        run.series.name,
                        s.kind,
                        s.release,
                        f"{s.due - run.migrations_from:.4f}",
                        f"{s.latency * 1000:.2f}",
                        s.error or "",
                    ]
                )

"""Start to ready: from starting entrypoint.sh to the first 200 from /health/ready.

    uv run python -m bench.startup              # 5 starts at head, 5 from an empty database

Two cases: the schema is already at head (every restart and scale-out of a release: the
common case, with a target of under 2 s), and an empty database (the first deploy: the whole
revision series runs). The output lines entrypoint.sh's steps print are timestamped as they
appear, which splits each start into its phases; the CPU time of all the start's processes is
the figure to compare on a shared machine. In the same run, the floor: bare uvicorn with
entrypoint.sh's flags serving bench/limit_app.py (one interpreter, Starlette, an asyncpg pool),
and the start of an interpreter that imports nothing (`python -c pass`); entrypoint.sh starts
two (wait for the database and migrate, then uvicorn). --compare adds the entrypoint.sh of
another source tree, interleaved with ours. One unmeasured start per tree comes first: it
writes the bytecode that the image ships compiled.
"""

import argparse
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import database, report, server
from bench.paths import ROOT
from tests.support.throwaway import free_port

TARGET_AT_HEAD_SECONDS = 2.0
# Lines entrypoint.sh's steps print, in order; each ends the phase named beside it.
PHASES = (
    ("wait for the database", "is up"),
    ("alembic loaded and connected", "Context impl"),
    ("migrations run, uvicorn loaded the app", "Started server process"),
    ("lifespan (engine created)", "Application startup complete"),
)
READY = "first 200 from /health/ready"
CPU = "cpu"


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = report.Parser(prog="python -m bench.startup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=report.positive_int, default=5, help="starts per case")
    report.compare_argument(parser)
    report.output_argument(parser, "startup.json")
    return parser.parse_args(argv)


Command = Callable[[dict[str, str]], list[str]]


def entrypoint(env: dict[str, str]) -> list[str]:
    return ["./entrypoint.sh"]  # of the source tree it runs in


def bare_uvicorn(env: dict[str, str]) -> list[str]:
    return server.uvicorn_command(server.LIMIT_TARGET, env)


def time_to_ready(
    name: str, command: Command, database_url: str, log_dir: Path, cwd: Path = ROOT
) -> dict[str, float]:
    """Seconds from starting `command` until each phase line appeared and until ready."""
    port = free_port()
    env = server.server_env(database_url, PORT=str(port), PYTHONUNBUFFERED="1")
    started = time.monotonic()
    with server.running(name, command(env), env, port, log_dir, cwd) as process:
        seen: dict[str, float] = {}
        server.wait_until_ready(process, on_poll=lambda: _note_phases(process.log, started, seen))
        seen[READY] = time.monotonic() - started
        seen[CPU] = process.cpu_seconds()
        _note_phases(process.log, started, seen)
    return seen


def _note_phases(log: Path, started: float, seen: dict[str, float]) -> None:
    now = time.monotonic() - started
    text = log.read_text(errors="replace")
    for phase, line in PHASES:
        if phase not in seen and line in text:
            seen[phase] = now


def interpreter_start_seconds() -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.monotonic() - started


def summarise(runs: list[dict[str, float]], *, phases: bool = True) -> dict[str, Any]:
    ready = [run[READY] for run in runs]
    summary: dict[str, Any] = {
        "median_seconds": round(report.median(ready), 3),
        # CPU seconds until ready, all processes: what the wall time would be on an idle
        # machine, less the waits for the database; far steadier than wall time when shared.
        "median_cpu_seconds": round(report.median([run[CPU] for run in runs]), 3),
        "min_seconds": round(min(ready), 3),
        "max_seconds": round(max(ready), 3),
        "runs_seconds": [round(seconds, 3) for seconds in ready],
    }
    if phases:
        # Each phase's median duration: the median time its line appeared, minus the previous.
        summary["phases_seconds"] = {}
        previous = 0.0
        for phase in [name for name, _ in PHASES] + [READY]:
            at = report.median([run[phase] for run in runs])
            summary["phases_seconds"][phase] = round(at - previous, 3)
            previous = at
    return summary


CASE_TITLES = {
    "at_head": "schema at head",
    "from_empty": "empty database (whole series)",
    "floor": "floor: bare uvicorn + limit app",
}


def human_summary(result: dict[str, Any]) -> list[str]:
    lines = [
        "Start to ready: entrypoint.sh started -> first 200 from /health/ready",
        f"machine: {report.describe_machine(result['machine'])}",
        *(f"compare {name}: entrypoint.sh of {tree}" for name, tree in result["compare"].items()),
        f"{result['repeat']} starts per case, interleaved; medians; phases from the timestamped "
        "output lines (polled every 5 ms)",
        "",
    ]
    for case, s in result["cases"].items():
        tree, _, kind = case.rpartition(":")
        title = f"{tree + ': ' if tree else ''}{CASE_TITLES[kind]}"
        lines.append(
            f"{title:<44} {s['median_seconds']:6.2f} s  (min {s['min_seconds']:.2f}, "
            f"max {s['max_seconds']:.2f}); CPU {s['median_cpu_seconds']:.2f} s"
        )
    met = result["cases"]["at_head"]["median_seconds"] < TARGET_AT_HEAD_SECONDS
    lines.append(f"target at head < {TARGET_AT_HEAD_SECONDS:g} s: {'met' if met else 'MISSED'}")
    lines.append(
        f"an interpreter that imports nothing: {result['interpreter_start_seconds']:.3f} s"
    )
    for case, s in result["cases"].items():
        if "phases_seconds" in s:
            lines.append(f"phases, {case.replace('_', ' ')}:")
            lines += [
                f"  {seconds:6.3f} s  {phase}" for phase, seconds in s["phases_seconds"].items()
            ]
    return lines


def run(argv: list[str]) -> int:
    args = parse(argv)
    facts = report.machine()
    log_dir = args.output.parent / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    trees = [("", ROOT), *args.compare]
    runs: dict[str, list[dict[str, float]]] = {}

    def start(case: str, command: Command, dsn: str, cwd: Path) -> None:
        name = f"start-{case.replace(':', '-')}"
        runs.setdefault(case, []).append(time_to_ready(name, command, dsn, log_dir, cwd))

    with database.temporary_database("start_head") as head_url:
        database.migrate(head_url)
        head_dsn = database.dsn(head_url)
        # Unmeasured: the first start of each tree writes its bytecode (the image ships it).
        for _, tree in trees:
            time_to_ready("start-warm-up", entrypoint, head_dsn, log_dir, tree)
        # Interleaved, so load from elsewhere on the machine spreads over every case.
        for _ in range(args.repeat):
            for tree_name, tree in trees:
                prefix = f"{tree_name}:" if tree_name else ""
                start(f"{prefix}at_head", entrypoint, head_dsn, tree)
                with database.temporary_database("start_empty") as empty_url:
                    start(f"{prefix}from_empty", entrypoint, database.dsn(empty_url), tree)
            start("floor", bare_uvicorn, head_dsn, ROOT)

    result: dict[str, Any] = {
        "benchmark": "startup",
        "machine": facts,
        "repeat": args.repeat,
        "compare": {name: str(tree) for name, tree in args.compare},
        "cases": {
            case: summarise(case_runs, phases=case != "floor") for case, case_runs in runs.items()
        },
        "interpreter_start_seconds": round(
            report.median([interpreter_start_seconds() for _ in range(args.repeat)]), 3
        ),
    }
    lines = human_summary(result)
    report.publish(args.output, result, lines)
    return 0


if __name__ == "__main__":
    report.main(run)

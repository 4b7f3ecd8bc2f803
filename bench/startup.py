"""Start to ready: from starting entrypoint.sh to the first 200 from /health/ready.

    uv run python -m bench.startup              # 5 starts at head, 5 from an empty database

Two cases: the schema is already at head (every restart and scale-out of a release: the
common case, with a target of under 2 s), and an empty database (the first deploy: the whole
revision series runs). The output lines entrypoint.sh's steps print are timestamped as they
appear, which splits each start into its phases. In the same run, the floor: bare uvicorn with
entrypoint.sh's flags serving bench/limit_app.py (one interpreter, Starlette, an asyncpg pool),
and the start of an interpreter that imports nothing (`python -c pass`): entrypoint.sh starts
three interpreters (wait for the database, alembic, uvicorn).
"""

import argparse
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import database, report, server
from bench.paths import ENTRYPOINT

TARGET_AT_HEAD_SECONDS = 2.0
# Lines entrypoint.sh's steps print, in order; each ends the phase named beside it.
PHASES = (
    ("wait for the database", "is up"),
    ("alembic loaded and connected", "Context impl"),
    ("migrations run, uvicorn loaded the app", "Started server process"),
    ("lifespan (engine created)", "Application startup complete"),
)
READY = "first 200 from /health/ready"


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = report.Parser(prog="python -m bench.startup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=report.positive_int, default=5, help="starts per case")
    report.output_argument(parser, "startup.json")
    return parser.parse_args(argv)


Command = Callable[[dict[str, str]], list[str]]


def entrypoint(env: dict[str, str]) -> list[str]:
    return [str(ENTRYPOINT)]


def bare_uvicorn(env: dict[str, str]) -> list[str]:
    return server.uvicorn_command(server.LIMIT_TARGET, env)


def time_to_ready(
    name: str, command: Command, database_url: str, log_dir: Path
) -> dict[str, float]:
    """Seconds from starting `command` until each phase line appeared and until ready."""
    port = server.free_port()
    env = server.server_env(database_url, PORT=str(port), PYTHONUNBUFFERED="1")
    started = time.monotonic()
    with server.running(name, command(env), env, port, log_dir) as process:
        seen: dict[str, float] = {}
        server.wait_until_ready(process, on_poll=lambda: _note_phases(process.log, started, seen))
        seen[READY] = time.monotonic() - started
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


def human_summary(result: dict[str, Any]) -> list[str]:
    lines = [
        "Start to ready: entrypoint.sh started -> first 200 from /health/ready",
        f"machine: {report.describe_machine(result['machine'])}",
        f"{result['repeat']} starts per case, medians; phases from the timestamped output lines "
        "(polled every 5 ms)",
        "",
    ]
    for case, title in (
        ("at_head", "schema at head"),
        ("from_empty", "empty database (whole series)"),
        ("floor_bare_uvicorn", "floor: bare uvicorn + limit app"),
    ):
        s = result[case]
        lines.append(
            f"{title:<34} {s['median_seconds']:6.2f} s  (min {s['min_seconds']:.2f}, "
            f"max {s['max_seconds']:.2f})"
        )
    met = result["at_head"]["median_seconds"] < TARGET_AT_HEAD_SECONDS
    lines.append(f"target at head < {TARGET_AT_HEAD_SECONDS:g} s: {'met' if met else 'MISSED'}")
    lines.append(
        f"an interpreter that imports nothing: {result['interpreter_start_seconds']:.3f} s"
    )
    for case in ("at_head", "from_empty"):
        lines.append(f"phases, {case.replace('_', ' ')}:")
        lines += [
            f"  {seconds:6.3f} s  {phase}"
            for phase, seconds in result[case]["phases_seconds"].items()
        ]
    return lines


def run(argv: list[str]) -> int:
    args = parse(argv)
    facts = report.machine()
    log_dir = args.output.parent / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    at_head: list[dict[str, float]] = []
    from_empty: list[dict[str, float]] = []
    floor: list[dict[str, float]] = []

    with database.temporary_database("start_head") as head_url:
        database.migrate(head_url)
        head_dsn = database.dsn(head_url)
        # Interleaved, so load from elsewhere on the machine spreads over all three cases.
        for _ in range(args.repeat):
            at_head.append(time_to_ready("start-at-head", entrypoint, head_dsn, log_dir))
            with database.temporary_database("start_empty") as empty_url:
                from_empty.append(
                    time_to_ready("start-empty", entrypoint, database.dsn(empty_url), log_dir)
                )
            floor.append(time_to_ready("start-bare", bare_uvicorn, head_dsn, log_dir))

    result: dict[str, Any] = {
        "benchmark": "startup",
        "machine": facts,
        "repeat": args.repeat,
        "at_head": summarise(at_head),
        "from_empty": summarise(from_empty),
        "floor_bare_uvicorn": summarise(floor, phases=False),
        "interpreter_start_seconds": round(
            report.median([interpreter_start_seconds() for _ in range(args.repeat)]), 3
        ),
    }
    lines = human_summary(result)
    print("\n".join(lines))
    report.write_result(args.output, result)
    args.output.with_suffix(".txt").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    report.main(run)

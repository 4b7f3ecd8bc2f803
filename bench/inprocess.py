"""CPU per request through the app itself: no HTTP server, no load generator, no network.

    uv run python -m bench.inprocess --compare before:/tmp/before
    uv run python -m bench.inprocess --variant ping:POOL_PRE_PING=true

Each source tree (this one, and every --compare) and each --variant runs in a process of its
own that calls the ASGI app directly, GET /users/<id> after a warm-up, one request at a time,
and reports its process CPU time per request. The processes alternate, --repeat times each.
Without uvicorn, httptools and wrk sharing the CPU, this separates changes of 5-15% that the
HTTP benchmark (bench/api.py) cannot tell from the noise of a shared machine; it is how each
change to the request path was judged.
"""

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import database, report, server
from bench.errors import BenchError
from bench.paths import ROOT

ROWS = 1_000

# Runs with the tree under test first on the import path (its `app`), so an older tree without
# the child script can be measured too.
CHILD = ROOT / "bench" / "inprocess_child.py"


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = report.Parser(prog="python -m bench.inprocess", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=report.positive_int, default=3000, help="per run")
    parser.add_argument("--repeat", type=report.positive_int, default=7, help="runs per case")
    report.variant_argument(parser)
    report.compare_argument(parser)
    report.output_argument(parser, "inprocess.json")
    return report.check_names(parser, parser.parse_args(argv))


def one_run(tree: Path, env: dict[str, str], requests: int) -> float:
    result = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, str(CHILD), str(requests), str(ROWS)],
        cwd=tree,
        env={**env, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        problem = (result.stderr.strip() or "no output").splitlines()[-1]
        raise BenchError(f"the app in {tree} failed: {problem}")
    return float(json.loads(result.stdout)["cpu_us_per_request"])


def run(argv: list[str]) -> int:
    args = parse(argv)
    facts = report.machine()
    cases: list[tuple[str, Path, dict[str, str]]] = [
        ("app", ROOT, {}),
        *((name, ROOT, settings) for name, settings in args.variant),
        *((name, tree, {}) for name, tree in args.compare),
    ]
    runs: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    with database.temporary_database("inprocess") as url:
        database.migrate(url)
        database.seed_users(url, ROWS)
        for _ in range(args.repeat):
            for name, tree, settings in cases:
                env = server.server_env(database.dsn(url), **settings)
                runs[name].append(one_run(tree, env, args.requests))

    result: dict[str, Any] = {
        "benchmark": "inprocess",
        "machine": facts,
        "requests_per_run": args.requests,
        "repeat": args.repeat,
        "variants": dict(args.variant),
        "compare": {name: str(tree) for name, tree in args.compare},
        "cpu_us_per_request": {
            name: {"median": round(report.median(values)), "runs": [round(v) for v in values]}
            for name, values in runs.items()
        },
    }
    baseline = result["cpu_us_per_request"]["app"]["median"]
    lines = [
        "In-process: GET /users/<id> through the ASGI app, one at a time, process CPU time",
        f"machine: {report.describe_machine(facts)}",
        f"{args.requests} requests per run after 300 to warm up, {args.repeat} alternating runs "
        "per case; medians",
        "",
        *(
            f"{name:<14}{s['median']:>6} us/request  ({s['median'] / baseline - 1:+.0%} vs app)"
            f"  runs: {' '.join(map(str, s['runs']))}"
            for name, s in result["cpu_us_per_request"].items()
        ),
    ]
    report.publish(args.output, result, lines)
    return 0


if __name__ == "__main__":
    report.main(run)

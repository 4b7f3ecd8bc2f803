"""API throughput and latency: the app against its limit, in the same run, under the same load.

    uv run python -m bench.api                  # the full run (about 5 minutes)
    uv run python -m bench.api --profile get    # then py-spy on the app under the GET load

A throwaway database is migrated with `alembic upgrade head` and seeded with --rows users. Two
servers start with entrypoint.sh's uvicorn flags: the app, and the limit (bench/limit_app.py:
bare Starlette + asyncpg doing the same queries). wrk drives three scenarios (GET a random id,
list a page after a random id, create a user) at each server in turn; the server order
rotates from round to round, so a burst of load from elsewhere on a shared machine hits both
sides alike. Figures are medians over the rounds; the ratio is the median of the per-round
app-to-limit ratios. CPU time per request is the server process's own CPU (user + system) over the
requests it answered: on a shared machine it moves far less than requests per second does.
Also reported: PostgreSQL connections opened per second under load (a churning pool shows
here), and each server's peak RSS.

--variant runs more copies of the app in the same rounds, each with some settings changed
through the environment, e.g. `--variant no-ping:POOL_PRE_PING=false`; --compare runs the app
as it is in another source tree (`git archive main | tar -x -C /tmp/main`), e.g.
`--compare main:/tmp/main`. That is how each change to the app was judged.
"""

import argparse
import secrets
import subprocess
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from bench import database, report, server, wrk
from bench.errors import BenchError
from bench.paths import VENV_BIN
from bench.profile import summarise_profile
from bench.users import CREATE_BODY_TEMPLATE

TARGET_RATIO = {"get": 0.70}  # the target; other scenarios are reported, not judged


@dataclass(frozen=True)
class Measurement:
    server: str
    scenario: str
    round: int
    result: wrk.WrkResult
    cpu_us_per_request: float
    new_connections_per_second: float


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = report.Parser(prog="python -m bench.api", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=report.positive_int, default=100_000)
    parser.add_argument("--duration", type=report.positive_int, default=10, help="seconds/run")
    parser.add_argument("--warmup", type=report.natural_int, default=2, help="seconds; 0: none")
    parser.add_argument("--rounds", type=report.positive_int, default=3)
    parser.add_argument("--connections", type=report.positive_int, default=32)
    parser.add_argument("--threads", type=report.positive_int, default=1, help="wrk threads")
    parser.add_argument(
        "--scenarios",
        type=lambda text: text.split(","),
        default=list(wrk.SCENARIOS),
        help="comma-separated, from: " + ", ".join(wrk.SCENARIOS),
    )
    parser.add_argument("--profile", choices=wrk.SCENARIOS, help="py-spy the app afterwards")
    report.variant_argument(parser)
    report.compare_argument(parser)
    report.output_argument(parser, "api.json")
    args = report.check_names(parser, parser.parse_args(argv))
    unknown = sorted(set(args.scenarios) - set(wrk.SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}; choose from {', '.join(wrk.SCENARIOS)}")
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads (wrk gives each thread one)")
    return args


@dataclass(frozen=True)
class Seeded:
    url: URL
    max_id: int


def measure(
    target: server.Server, scenario: str, load: wrk.Load, seeded: Seeded, round_number: int
) -> Measurement:
    # Only the server under load opens connections meanwhile; the others are idle.
    sessions_before = database.sessions_opened(seeded.url)
    cpu_before = target.cpu_seconds()
    result = wrk.run(
        target.base_url,
        scenario,
        load,
        max_id=seeded.max_id,
        run_tag=secrets.token_hex(4),
        body_template=CREATE_BODY_TEMPLATE,
    )
    cpu = target.cpu_seconds() - cpu_before
    # Less one: the session that read the count before.
    new_connections = database.sessions_opened(seeded.url) - sessions_before - 1
    return Measurement(
        target.name,
        scenario,
        round_number,
        result,
        cpu * 1e6 / max(result.requests, 1),
        new_connections / result.seconds,
    )


def profile(
    target: server.Server, scenario: str, load: wrk.Load, seeded: Seeded, directory: Path
) -> list[str]:
    """py-spy samples the app while wrk runs the scenario once more (not counted above)."""
    raw = directory / f"profile-{scenario}.txt"
    py_spy = subprocess.Popen(  # noqa: S603 - our venv's py-spy
        [
            str(VENV_BIN / "py-spy"),
            "record",
            f"--pid={target.process.pid}",
            f"--duration={load.duration_seconds}",
            "--rate=200",
            "--format=raw",
            f"--output={raw}",
            # Only samples that hold the GIL: where the process spends CPU in Python, not
            # where it waits for the network or the database.
            "--gil",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    measure(target, scenario, load, seeded, round_number=0)
    _, errors = py_spy.communicate(timeout=load.duration_seconds + 30)
    if py_spy.returncode != 0 or not raw.exists():
        raise BenchError(f"py-spy failed: {(errors.strip() or 'no output').splitlines()[-1]}")
    return [f"py-spy profile of the app under '{scenario}' ({raw}):", *summarise_profile(raw)]


def summarise(
    measurements: list[Measurement], scenarios: list[str], servers: list[str]
) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for scenario in scenarios:
        runs = {
            name: [m for m in measurements if (m.server, m.scenario) == (name, scenario)]
            for name in servers
        }
        entry: dict[str, Any] = {
            name: {
                "requests_per_second": round(
                    report.median([m.result.requests_per_second for m in ms])
                ),
                "p50_ms": round(report.median([m.result.p50_ms for m in ms]), 2),
                "p99_ms": round(report.median([m.result.p99_ms for m in ms]), 2),
                "cpu_us_per_request": round(report.median([m.cpu_us_per_request for m in ms])),
                "new_connections_per_second": round(
                    report.median([m.new_connections_per_second for m in ms]), 1
                ),
                "failed_requests": sum(m.result.failed for m in ms),
                "runs": [asdict(m.result) for m in ms],
            }
            for name, ms in runs.items()
        }
        for name in servers[1:]:
            per_round = [
                ours.result.requests_per_second / limit.result.requests_per_second
                for limit, ours in zip(runs["limit"], runs[name], strict=True)
            ]
            entry[name]["ratio"] = round(report.median(per_round), 3)
            entry[name]["ratio_per_round"] = [round(ratio, 3) for ratio in per_round]
            entry[name]["cpu_ratio"] = round(
                entry["limit"]["cpu_us_per_request"] / entry[name]["cpu_us_per_request"], 3
            )
        summary[scenario] = entry
    return summary


def human_summary(result: dict[str, Any]) -> list[str]:
    load = result["load"]
    lines = [
        "API benchmark: the app vs the limit (bare Starlette + asyncpg), same uvicorn flags",
        *(f"variant {name}: the app with {env}" for name, env in result["variants"].items()),
        *(f"compare {name}: the app from {tree}" for name, tree in result["compare"].items()),
        f"machine: {report.describe_machine(result['machine'])}",
        f"load: {result['wrk']}, {load['threads']} thread(s), {load['connections']} connections, "
        f"{load['duration_seconds']} s per run, {result['rounds']} rounds (server order "
        f"rotating), loopback; {result['rows']:,} seeded users",
        "",
        f"{'scenario':<9}{'server':<10}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'CPU us/req':>12}"
        f"{'new conn/s':>12}{'ratio':>7}{'by CPU':>8}",
    ]
    for scenario, entry in result["scenarios"].items():
        for name, s in entry.items():
            ratios = f"{s['ratio']:>7.2f}{s['cpu_ratio']:>8.2f}" if "ratio" in s else ""
            lines.append(
                f"{scenario:<9}{name:<10}{s['requests_per_second']:>8,}{s['p50_ms']:>9.2f}"
                f"{s['p99_ms']:>9.2f}{s['cpu_us_per_request']:>12,}"
                f"{s['new_connections_per_second']:>12.1f}{ratios}"
            )
        if scenario in TARGET_RATIO:
            app = entry["app"]
            met = app["ratio"] >= TARGET_RATIO[scenario]
            rounds = " ".join(f"{r:.2f}" for r in app["ratio_per_round"])
            lines.append(
                f"{'':<9}app to limit {app['ratio']:.2f} (rounds: {rounds}); "
                f"target >= {TARGET_RATIO[scenario]:.2f}: {'met' if met else 'MISSED'}"
            )
    lines += [
        "",
        "ratio: req/s as a share of the limit's (median of per-round ratios); by CPU: the "
        "limit's CPU per request over this server's",
        "new conn/s: PostgreSQL sessions opened while the server was under load "
        "(pg_stat_database), per second",
        "peak RSS (VmHWM): "
        + ", ".join(f"{name} {mb} MB" for name, mb in result["peak_rss_mb"].items()),
    ]
    return lines


def run(argv: list[str]) -> int:
    args = parse(argv)
    wrk_version = wrk.version()  # fails with one line if wrk is missing, before any setup
    load = wrk.Load(args.duration, args.connections, args.threads)
    warmup = wrk.Load(args.warmup, args.connections, args.threads)
    facts = report.machine()
    log_dir = args.output.parent / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    measurements: list[Measurement] = []
    profile_lines: list[str] = []

    with database.temporary_database("api") as url:
        database.migrate(url)
        seeded = Seeded(url, database.seed_users(url, args.rows))
        dsn = database.dsn(url)
        with ExitStack() as stack:
            servers = [
                stack.enter_context(server.uvicorn("limit", server.LIMIT_TARGET, dsn, log_dir)),
                stack.enter_context(server.uvicorn("app", server.APP_TARGET, dsn, log_dir)),
                *(
                    stack.enter_context(server.uvicorn(name, server.APP_TARGET, dsn, log_dir, env))
                    for name, env in args.variant
                ),
                *(
                    stack.enter_context(
                        server.uvicorn(name, server.APP_TARGET, dsn, log_dir, cwd=tree)
                    )
                    for name, tree in args.compare
                ),
            ]
            for scenario in args.scenarios if args.warmup else ():
                for target in servers:
                    measure(target, scenario, warmup, seeded, round_number=0)
            for round_number in range(1, args.rounds + 1):
                shift = round_number % len(servers)
                for scenario in args.scenarios:
                    for target in servers[shift:] + servers[:shift]:
                        measurements.append(measure(target, scenario, load, seeded, round_number))
            peak_rss = {s.name: round(s.peak_rss_bytes() / 2**20, 1) for s in servers}
            if args.profile:
                profile_lines = profile(servers[1], args.profile, load, seeded, log_dir.parent)

    result: dict[str, Any] = {
        "benchmark": "api",
        "machine": facts,
        "wrk": wrk_version,
        "load": asdict(load),
        "rounds": args.rounds,
        "rows": args.rows,
        "variants": dict(args.variant),
        "compare": {name: str(tree) for name, tree in args.compare},
        "scenarios": summarise(measurements, args.scenarios, [s.name for s in servers]),
        "peak_rss_mb": peak_rss,
    }
    lines = human_summary(result)
    if profile_lines:
        lines += ["", *profile_lines]
    report.publish(args.output, result, lines)
    failed = sum(m.result.failed for m in measurements)
    if failed:
        raise BenchError(f"{failed} requests failed (see {log_dir}); the figures are not valid")
    return 0


if __name__ == "__main__":
    report.main(run)

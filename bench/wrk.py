"""wrk, the load generator (Debian package `wrk`), driven through bench/scenario.lua."""

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError

SCENARIO_SCRIPT = Path(__file__).with_name("scenario.lua")
SCENARIOS = ("get", "list", "create")


@dataclass(frozen=True)
class Load:
    duration_seconds: int
    connections: int
    threads: int


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    failed: int  # socket errors, timeouts and non-2xx/3xx answers
    p50_ms: float
    p99_ms: float
    max_ms: float

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise BenchError("wrk not found on PATH; install it: apt-get install -y wrk")
    return found


def version() -> str:
    result = subprocess.run(  # noqa: S603 - wrk, found on PATH
        [wrk_binary(), "--version"], capture_output=True, text=True, check=False
    )
    return (result.stdout or result.stderr).split(" [")[0].strip()


def run(
    base_url: str, scenario: str, load: Load, *, max_id: int, run_tag: str, body_template: str
) -> WrkResult:
    command = [
        wrk_binary(),
        f"--threads={load.threads}",
        f"--connections={load.connections}",
        f"--duration={load.duration_seconds}s",
        "--timeout=10s",
        f"--script={SCENARIO_SCRIPT}",
        base_url,
        "--",
        scenario,
        str(max_id),
        run_tag,
        body_template,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    summary_line = result.stdout.strip().splitlines()[-1:] or [""]
    if result.returncode != 0 or not summary_line[0].startswith("{"):
        problem = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()[-1]
        raise BenchError(f"wrk failed on {scenario} at {base_url}: {problem}")
    summary = json.loads(summary_line[0])
    latency = summary["latency_us"]
    return WrkResult(
        requests=summary["requests"],
        seconds=summary["duration_us"] / 1e6,
        failed=sum(summary["errors"].values()),
        p50_ms=latency["p50"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
    )

"""The benchmarks start, run at a tiny size, and fail in one line. No timing is asserted here:
speed targets belong to the benchmarks' own output, their figures measured in one run."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy.engine import URL

from bench import limit_app, server, startup
from bench.paths import ENTRYPOINT
from bench.profile import summarise_profile
from bench.users import CREATE_BODY_TEMPLATE
from tests.support.alembic import run_tool
from tests.support.paths import ROOT
from tests.support.settings import settings_for
from tests.support.throwaway import free_port

needs_wrk = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not installed")


def bench(module: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bench.MODULE ARGS`, as the documented command runs it."""
    return run_tool("python", "-m", f"bench.{module}", *args, url=None, cwd=ROOT, **env)


def test_servers_get_entrypoints_uvicorn_flags() -> None:
    command = server.uvicorn_command(server.LIMIT_TARGET, {"HOST": "127.0.0.1", "PORT": "9"})
    entrypoint = ENTRYPOINT.read_text()

    assert command[1] == server.LIMIT_TARGET
    assert command[command.index("--port") + 1] == "9"
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert command[command.index("--workers") + 1] == "1"  # WEB_CONCURRENCY's default
    for flag in ("--factory", "--proxy-headers", "--no-server-header"):
        assert flag in entrypoint
        assert flag in command


def new_user(token: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(CREATE_BODY_TEMPLATE.replace("{n}", token))
    return body


async def test_the_limit_answers_what_the_app_answers(
    committing_client: httpx.AsyncClient, committed_database: URL
) -> None:
    created = await committing_client.post("/users", json=new_user("ours"))
    ours = [
        await committing_client.get(f"/users/{created.json()['id']}"),
        await committing_client.get("/users", params={"limit": 1, "after_id": 0}),
    ]

    limit = limit_app.create_app(settings_for(committed_database))
    async with LifespanManager(limit):
        transport = httpx.ASGITransport(app=limit)
        async with httpx.AsyncClient(transport=transport, base_url="http://limit") as client:
            theirs = [
                await client.get(f"/users/{created.json()['id']}"),
                await client.get("/users", params={"limit": 1, "after_id": 0}),
            ]
            limit_created = await client.post("/users", json=new_user("theirs"))

    for mine, its in zip(ours, theirs, strict=True):
        assert its.status_code == mine.status_code == 200
        assert its.json() == mine.json()
    assert created.status_code == limit_created.status_code == 201
    assert limit_created.json().keys() == created.json().keys()


@needs_wrk
def test_api_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    output = tmp_path / "api.json"

    result = bench(
        "api",
        *("--rows", "50", "--duration", "1", "--warmup", "0", "--rounds", "1"),
        *("--connections", "2", "--output", str(output)),
    )

    assert result.returncode == 0, result.stderr
    figures = json.loads(output.read_text())
    assert figures["machine"]["postgresql"]
    for scenario in ("get", "list", "create"):
        for name in ("limit", "app"):
            measured = figures["scenarios"][scenario][name]
            assert measured["requests_per_second"] > 0
            assert measured["failed_requests"] == 0
        assert figures["scenarios"][scenario]["app"]["ratio"] > 0
    assert figures["peak_rss_mb"]["app"] > 0
    assert "app to limit" in output.with_suffix(".txt").read_text()


def test_startup_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    output = tmp_path / "startup.json"

    result = bench("startup", "--repeat", "1", "--output", str(output))

    assert result.returncode == 0, result.stderr
    figures = json.loads(output.read_text())
    for case in ("at_head", "from_empty"):
        phases = figures["cases"][case]["phases_seconds"]
        assert list(phases) == [name for name, _ in startup.PHASES] + [startup.READY]
        # Every phase line appeared, in entrypoint.sh's order.
        assert all(seconds >= 0 for seconds in phases.values()), phases
        assert sum(phases.values()) == pytest.approx(
            figures["cases"][case]["median_seconds"], abs=0.01
        )
    assert figures["cases"]["floor"]["median_seconds"] > 0


def test_inprocess_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    output = tmp_path / "inprocess.json"

    result = bench(
        "inprocess",
        *("--repeat", "1", "--requests", "20", "--output", str(output)),
        *("--variant", "ping:POOL_PRE_PING=true"),
    )

    assert result.returncode == 0, result.stderr
    figures = json.loads(output.read_text())["cpu_us_per_request"]
    assert list(figures) == ["app", "ping"]
    assert all(case["median"] > 0 and len(case["runs"]) == 1 for case in figures.values())


@pytest.mark.parametrize(
    ("module", "args", "complaint"),
    [
        ("api", ["--rounds", "0"], "0 is not positive"),
        ("api", ["--scenarios", "get,delete"], "unknown scenario 'delete'"),
        ("api", ["--variant", "nope"], "is not NAME:KEY=VALUE"),
        ("api", ["--compare", "old:/nowhere"], "/nowhere has no app/main.py"),
        ("api", ["--variant", "a:X=1", "--variant", "a:Y=2"], "needs a name of its own"),
        ("startup", ["--repeat", "many"], "'many' is not a whole number"),
    ],
)
def test_bad_arguments_are_one_line(module: str, args: list[str], complaint: str) -> None:
    result = bench(module, *args)

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert complaint in result.stderr


def test_unreachable_postgres_is_one_line() -> None:
    result = bench("startup", BENCH_POSTGRES_URL=f"postgresql://u@127.0.0.1:{free_port()}/x")

    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot connect to PostgreSQL at postgresql://u@127.0.0.1:")


def test_missing_wrk_is_one_line(tmp_path: Path) -> None:
    result = bench("api", PATH=str(tmp_path))  # an empty folder: no wrk on PATH

    assert result.returncode == 1
    assert (
        result.stderr.strip() == "error: wrk not found on PATH; install it: apt-get install -y wrk"
    )


def test_profile_summary_attributes_self_time_to_packages(tmp_path: Path) -> None:
    raw = tmp_path / "profile.txt"
    raw.write_text(
        "run (uvicorn/main.py:1);get_user (app/api/users.py:9);execute (asyncpg/conn.py:3) 3\n"
        "run (uvicorn/main.py:1);wait (threading.py:7) 1\n"
    )

    lines = summarise_profile(raw)

    assert lines[0] == "  4 samples; self time by package (inclusive in brackets):"
    assert "     75.0%  ( 75.0%)  asyncpg" in lines
    assert "     25.0%  ( 25.0%)  stdlib" in lines
    assert "     75.0%  execute (asyncpg/conn.py)" in lines

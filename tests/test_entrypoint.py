"""entrypoint.sh as a real process: wait for the database, migrate, exec uvicorn, stop."""

import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from app.schema import startup
from tests.conftest import DatabaseFactory
from tests.support import alembic, postgres
from tests.support.paths import ROOT
from tests.support.processes import ENTRYPOINT, entrypoint
from tests.support.throwaway import free_port


def run_to_its_end(url: URL | str, **env: str) -> tuple[int, str]:
    """entrypoint.sh that is expected to stop by itself: its exit status and output."""
    with entrypoint(url, env=env) as server:
        return server.wait(timeout=30), server.output


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


async def test_migrates_then_serves_then_stops_cleanly_on_sigterm(
    fresh_database: DatabaseFactory,
) -> None:
    url = await fresh_database()

    with entrypoint(url) as server:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            await server.wait_until_ready(client)
            created = await client.post("/users", json={"email": "o@example.com", "full_name": "O"})
            fetched = await client.get(created.headers["location"])
        # exec: the process we started *is* uvicorn now, so SIGTERM reaches the server itself.
        serving_command = command_line(server.pid)
        server.signal(signal.SIGTERM)
        returncode = server.wait(timeout=15)
        output = server.output

    assert created.status_code == 201
    assert fetched.json() == created.json()
    assert "uvicorn" in serving_command
    assert "bash" not in serving_command
    # A graceful stop: uvicorn finishes its shutdown, then re-raises the SIGTERM it caught,
    # so the exit status is "terminated by SIGTERM" (143 in a shell), as for any server.
    assert returncode == -signal.SIGTERM, output
    assert "Application shutdown complete" in output
    assert output.index("Running upgrade  -> 0001_initial_schema") < output.index(
        "Started server process"
    )
    assert "Finished server process" in output
    assert "Traceback" not in output
    version = await postgres.fetchval(url, "SELECT version_num FROM alembic_version")
    assert version is not None


async def test_a_failed_migration_ends_before_the_server_starts(
    fresh_database: DatabaseFactory,
) -> None:
    url = await fresh_database()
    await postgres.execute(url, "CREATE TABLE users (squatter int)")  # the migration's table

    returncode, output = run_to_its_end(url)

    assert returncode != 0
    assert "running migrations: alembic upgrade head" in output
    assert 'relation "users" already exists' in output
    assert "Started server process" not in output


async def test_without_migrate_on_start_it_serves_but_is_not_ready_until_migrated(
    fresh_database: DatabaseFactory,
) -> None:
    """MIGRATE_ON_START=false, for migrations run as their own deploy step: the app starts,
    and readiness keeps it out of the load balancer until that step has run."""
    url = await fresh_database()

    with entrypoint(url, env={"MIGRATE_ON_START": "false"}) as server:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            await server.wait_for_200(client, "/health/live")
            before = await client.get("/health/ready")
            await alembic.upgrade(url)  # the separate migration step
            await server.wait_until_ready(client)
        server.signal(signal.SIGTERM)
        server.wait(timeout=15)
        output = server.output

    assert "is up" in output
    assert "running migrations" not in output
    assert before.status_code == 503
    assert before.json()["reason"].startswith("the database has no migrations applied")


def test_unreachable_database_ends_with_one_clear_line_and_no_server() -> None:
    nowhere = postgres.database_url("app").set(host="127.0.0.1", port=free_port())
    started = time.monotonic()

    returncode, output = run_to_its_end(
        nowhere, DB_WAIT_ATTEMPTS="3", DB_WAIT_INTERVAL_SECONDS="0.2"
    )

    assert returncode == 1
    lines = output.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "waiting for database at 127.0.0.1",
        "waiting for database at 127.0.0.1",
        "error",
    ]
    assert "(attempt 1/3)" in lines[0]
    assert lines[-1].startswith(f"error: database at 127.0.0.1:{nowhere.port}/app not reachable")
    assert time.monotonic() - started < 15  # bounded: 3 tries 0.2 s apart, plus start-up


async def test_missing_database_fails_at_once_without_retrying() -> None:
    missing = postgres.database_url(postgres.new_database_name("missing"))

    returncode, output = run_to_its_end(
        missing, DB_WAIT_ATTEMPTS="50", DB_WAIT_INTERVAL_SECONDS="1"
    )

    assert returncode == 2
    assert output.strip().splitlines() == [
        f"error: database at {missing.host}:{missing.port}/{missing.database} refused us: "
        f'database "{missing.database}" does not exist'
    ]


def test_a_misspelt_migrate_on_start_is_one_line_not_a_silent_skip() -> None:
    returncode, output = run_to_its_end(postgres.database_url("app"), MIGRATE_ON_START="yes please")

    assert returncode == 2
    assert output.strip().splitlines() == [
        "error: MIGRATE_ON_START must be true or false, not 'yes please'"
    ]


def test_invalid_database_url_is_one_line() -> None:
    returncode, output = run_to_its_end("mysql://root@localhost/app")

    assert returncode == 2
    assert output.strip().splitlines() == [
        "error: invalid settings: DATABASE_URL Value error, uses scheme 'mysql'; "
        "this service needs PostgreSQL (postgresql://, postgres:// or postgresql+asyncpg://)"
    ]


def test_entrypoint_is_executable_and_strict() -> None:
    assert os.access(ENTRYPOINT, os.X_OK)
    assert "set -euo pipefail" in ENTRYPOINT.read_text()


async def test_readme_run_command_creates_the_database_and_serves() -> None:
    """scripts/run-local.sh, the README's way to run without Docker."""
    name = postgres.new_database_name("readme")
    try:
        with entrypoint(postgres.database_url(name), ROOT / "scripts" / "run-local.sh") as server:
            async with httpx.AsyncClient(base_url=server.base_url) as client:
                await server.wait_until_ready(client)
                created = await client.post(
                    "/users", json={"email": "r@example.com", "full_name": "R"}
                )
                fetched = await client.get(created.headers["location"])
            server.signal(signal.SIGTERM)
            server.wait(timeout=15)
            output = server.output
    finally:
        await postgres.drop_database(name)

    assert f"created database '{name}'" in output
    assert fetched.json() == created.json()
    assert "Application shutdown complete" in output


def test_startup_refuses_unknown_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        startup.main(["--migrat"])

    assert exited.value.code == startup.EXIT_MISCONFIGURED
    assert capsys.readouterr().err == (
        "usage: python -m app.schema.startup [--migrate | --create-database]\n"
    )

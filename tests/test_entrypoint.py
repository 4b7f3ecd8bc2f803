"""entrypoint.sh as a real process: wait for the database, migrate, exec uvicorn, stop."""

import asyncio
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from app import wait_for_db
from tests.conftest import DatabaseFactory
from tests.support import postgres
from tests.support.alembic import ROOT, subprocess_env

ENTRYPOINT = ROOT / "entrypoint.sh"
STARTUP_DEADLINE_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Entrypoint:
    process: subprocess.Popen[str]
    base_url: str

    async def wait_until_ready(self, client: httpx.AsyncClient) -> None:
        deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"exited early:\n{self.process.communicate()[0]}")
            try:
                if (await client.get("/health/ready", timeout=1)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"not ready within {STARTUP_DEADLINE_SECONDS}s")


@contextmanager
def entrypoint(url: URL | str, command: Path = ENTRYPOINT, **env: str) -> Iterator[Entrypoint]:
    """Start entrypoint.sh (or `command`); kill it at the end if the test did not stop it."""
    port = free_port()
    database_url = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    process = subprocess.Popen(
        [str(command)],
        cwd=ROOT,
        env=subprocess_env(
            None, HOST="127.0.0.1", PORT=str(port), DATABASE_URL=database_url, **env
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield Entrypoint(process, f"http://127.0.0.1:{port}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


async def test_migrates_then_serves_then_stops_cleanly_on_sigterm(
    fresh_database: DatabaseFactory,
) -> None:
    url = await fresh_database()

    with entrypoint(url) as server:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            await server.wait_until_ready(client)
            created = await client.post("/users", json={"email": "o@example.com", "name": "O"})
            fetched = await client.get(created.headers["location"])
        # exec: the process we started *is* uvicorn now, so SIGTERM reaches the server itself.
        serving_command = command_line(server.process.pid)
        server.process.send_signal(signal.SIGTERM)
        output, _ = server.process.communicate(timeout=15)
        returncode = server.process.returncode

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

    with entrypoint(url) as server:
        output, _ = server.process.communicate(timeout=30)

    assert server.process.returncode != 0
    assert "running migrations: alembic upgrade head" in output
    assert 'relation "users" already exists' in output
    assert "Started server process" not in output


async def test_without_migrate_on_start_it_waits_then_serves_unmigrated(
    fresh_database: DatabaseFactory,
) -> None:
    url = await fresh_database()

    with entrypoint(url, MIGRATE_ON_START="false") as server:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            await server.wait_until_ready(client)
        server.process.send_signal(signal.SIGTERM)
        output, _ = server.process.communicate(timeout=15)

    assert "is up" in output
    assert "running migrations" not in output
    tables = await postgres.fetchval(
        url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
    )
    assert tables == 0


def test_unreachable_database_ends_with_one_clear_line_and_no_server() -> None:
    nowhere = postgres.database_url("app").set(host="127.0.0.1", port=free_port())
    started = time.monotonic()

    with entrypoint(nowhere, DB_WAIT_ATTEMPTS="3", DB_WAIT_INTERVAL_SECONDS="0.2") as server:
        output, _ = server.process.communicate(timeout=30)

    assert server.process.returncode == 1
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

    with entrypoint(missing, DB_WAIT_ATTEMPTS="50", DB_WAIT_INTERVAL_SECONDS="1") as server:
        output, _ = server.process.communicate(timeout=30)

    assert server.process.returncode == 2
    assert output.strip().splitlines() == [
        f"error: database at {missing.host}:{missing.port}/{missing.database} refused us: "
        f'database "{missing.database}" does not exist'
    ]


def test_invalid_database_url_is_one_line() -> None:
    with entrypoint("mysql://root@localhost/app") as server:
        output, _ = server.process.communicate(timeout=30)

    assert server.process.returncode == 2
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
                created = await client.post("/users", json={"email": "r@example.com", "name": "R"})
                fetched = await client.get(created.headers["location"])
            server.process.send_signal(signal.SIGTERM)
            output, _ = server.process.communicate(timeout=15)
    finally:
        await postgres.drop_database(name)

    assert f"created database '{name}'" in output
    assert fetched.json() == created.json()
    assert "Application shutdown complete" in output


def test_wait_for_db_refuses_unknown_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert wait_for_db.main(["--migrat"]) == wait_for_db.EXIT_MISCONFIGURED
    assert capsys.readouterr().err == "usage: python -m app.wait_for_db [--migrate]\n"

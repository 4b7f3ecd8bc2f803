"""Migrations and the app under the faults production brings: real processes, real PostgreSQL.

- a session holds a lock the migration needs: the migration gives up within lock_timeout, so
  nobody queues behind it for long, retries, and succeeds once the lock is gone;
- the lock never goes: the run ends with one readable line, and the entrypoint never starts
  uvicorn;
- three replicas start at once: the migrations run exactly once;
- the database goes away under a running app: readiness says so, and recovers by itself.
"""

import asyncio
import random
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import URL

from app.migrations.runtime import RUNNER_LOCK_KEY
from tests.conftest import DatabaseFactory
from tests.support import alembic, postgres
from tests.support.alembic import ROOT, VENV_BIN, subprocess_env
from tests.support.processes import entrypoint
from tests.support.proxy import Proxy
from tests.support.waiting import eventually

LOCK_TIMEOUT_MS = 300
REVISION_COUNT = 11
HEAD = "0010_drop_user_bio"
FAST = {
    "MIGRATION_LOCK_TIMEOUT_MS": str(LOCK_TIMEOUT_MS),
    "MIGRATION_RETRY_BACKOFF_SECONDS": "0.2",
}
DEADLINE_SECONDS = 60


@dataclass
class Runner:
    """An `alembic upgrade head` process whose output a test can read while it runs."""

    process: subprocess.Popen[str]
    log: Path

    @property
    def output(self) -> str:
        return self.log.read_text()

    async def wait_for(self, text: str) -> None:
        await eventually(lambda: text in self.output, f"{text!r} in the output")

    async def finish(self) -> int:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while self.process.poll() is None:
            assert time.monotonic() < deadline, f"still running:\n{self.output}"
            await asyncio.sleep(0.1)
        return self.process.returncode


def start_runner(url: URL, log: Path, **env: str) -> Runner:
    with log.open("w") as sink:
        process = subprocess.Popen(
            [str(VENV_BIN / "alembic"), "upgrade", "head"],
            cwd=ROOT,
            env=subprocess_env(url, **FAST, **env),
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    return Runner(process, log)


@asynccontextmanager
async def lock_held(url: URL, sql: str) -> AsyncIterator[asyncpg.Connection]:
    """Another session holding a lock (in an open transaction) until the block ends."""
    connection = await postgres.connect_raw(url)
    transaction = connection.transaction()
    await transaction.start()
    await connection.execute(sql)
    try:
        yield connection
    finally:
        await transaction.rollback()
        await connection.close()


@dataclass
class Traffic:
    """The live release's queries, each allowed to wait for a lock twice the migration's
    lock_timeout before it gives up: no query should ever need to."""

    answered: int = 0
    gave_up: list[str] = field(default_factory=list)


@asynccontextmanager
async def traffic(url: URL) -> AsyncIterator[Traffic]:
    result, stop = Traffic(), asyncio.Event()

    async def query() -> None:
        rng = random.Random(0)
        connection = await postgres.connect_raw(url)
        await connection.execute(f"SET lock_timeout = {2 * LOCK_TIMEOUT_MS}")
        try:
            while not stop.is_set():
                user_id = rng.randint(1, 100)
                try:
                    await connection.fetchrow("SELECT id, email FROM users WHERE id = $1", user_id)
                    await connection.execute(
                        "UPDATE users SET email = email WHERE id = $1", user_id
                    )
                except asyncpg.LockNotAvailableError as exc:
                    result.gave_up.append(str(exc))
                else:
                    result.answered += 1
                await asyncio.sleep(0.01)
        finally:
            await connection.close()

    task = asyncio.create_task(query())
    try:
        yield result
    finally:
        stop.set()
        await task


async def database_at_release_1(fresh_database: DatabaseFactory) -> URL:
    url = await fresh_database()
    await alembic.upgrade(url, "0001_initial_schema")
    await postgres.seed_users(url, 100)
    return url


async def test_a_held_lock_is_waited_out_by_retries_and_blocks_nobody(
    fresh_database: DatabaseFactory, tmp_path: Path
) -> None:
    url = await database_at_release_1(fresh_database)

    async with traffic(url) as live:
        # A long report: ACCESS SHARE, which conflicts with ADD COLUMN's ACCESS EXCLUSIVE.
        async with lock_held(url, "LOCK TABLE users IN ACCESS SHARE MODE"):
            runner = start_runner(url, tmp_path / "alembic.log", MIGRATION_ATTEMPTS="30")
            await runner.wait_for("retrying")
            answered_while_blocked = live.answered
            await asyncio.sleep(0.5)  # let queries run while the migration keeps retrying
            answered_while_blocked = live.answered - answered_while_blocked
        status = await runner.finish()

    assert status == 0, runner.output
    assert (
        f"revision 0002_add_user_role: could not get a lock within {LOCK_TIMEOUT_MS}ms "
        "(attempt 1 of 30), for: ALTER TABLE users ADD COLUMN role" in runner.output
    )
    assert await postgres.fetchval(url, "SELECT version_num FROM alembic_version") == HEAD
    assert live.gave_up == [], "a query waited behind the migration for over 2 x lock_timeout"
    assert answered_while_blocked > 0, "queries stopped while the migration waited"


async def test_a_lock_that_never_goes_ends_in_one_line_and_no_server(
    fresh_database: DatabaseFactory,
) -> None:
    url = await database_at_release_1(fresh_database)

    blocker_pid = []
    async with lock_held(url, "LOCK TABLE users IN ACCESS SHARE MODE") as blocker:
        blocker_pid.append(blocker.get_server_pid())
        with entrypoint(url, env={"MIGRATION_ATTEMPTS": "2", **FAST}) as server:
            output, _ = await asyncio.to_thread(server.process.communicate, timeout=60)

    assert server.process.returncode != 0
    alarms = [line for line in output.splitlines() if "FAILED" in line or "ERROR" in line]
    holder_pid = blocker_pid.pop()
    assert alarms == [
        f"FAILED: revision 0002_add_user_role: could not get a lock within {LOCK_TIMEOUT_MS}ms "
        "after 2 attempt(s), for: ALTER TABLE users ADD COLUMN role TEXT DEFAULT 'member'; "
        f"held by pid {holder_pid} on users (AccessShareLock, idle in transaction: "
        "LOCK TABLE users IN ACCESS SHARE MODE); the revision did not complete and is safe to "
        "run again"
    ]
    assert "Traceback" not in output
    assert "Started server process" not in output  # uvicorn never started
    assert await postgres.fetchval(url, "SELECT version_num FROM alembic_version") == (
        "0001_initial_schema"
    )


async def test_three_runners_at_once_migrate_exactly_once(
    fresh_database: DatabaseFactory, tmp_path: Path
) -> None:
    url = await fresh_database()
    # Hold the runner lock ourselves until all three are up and waiting, so they truly race.
    holder = await postgres.connect_raw(url)
    await holder.execute("SELECT pg_advisory_lock($1)", RUNNER_LOCK_KEY)
    runners = [start_runner(url, tmp_path / f"runner{i}.log") for i in range(3)]
    try:
        for runner in runners:
            await runner.wait_for("another migration runner")
    finally:
        await holder.close()  # releases the advisory lock
    statuses = [await runner.finish() for runner in runners]

    assert statuses == [0, 0, 0], [runner.output for runner in runners]
    applied = [runner.output.count("Running upgrade") for runner in runners]
    assert sorted(applied) == [0, 0, REVISION_COUNT]
    versions = await postgres.fetchval(url, "SELECT array_agg(version_num) FROM alembic_version")
    assert versions == [HEAD]


async def test_readiness_follows_the_database_away_and_back(
    fresh_database: DatabaseFactory,
) -> None:
    url = await fresh_database()
    target = postgres.server_url()
    proxy = Proxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.start()
    through_proxy = url.set(host="127.0.0.1", port=proxy.port)

    try:
        with entrypoint(through_proxy) as server:
            async with httpx.AsyncClient(base_url=server.base_url) as client:
                await server.wait_until_ready(client)

                await proxy.cut()
                away = await client.get("/health/ready")
                live_while_away = await client.get("/health/live")
                await proxy.start()
                await server.wait_until_ready(client)
                back = await client.get("/health/ready")

            assert server.process.poll() is None  # the same process throughout: no restart
    finally:
        await proxy.cut()

    assert away.status_code == 503
    assert away.json()["reason"].startswith("database unreachable")
    assert live_while_away.status_code == 200
    assert back.status_code == 200


async def test_a_replica_waits_for_the_runner_lock_only_so_long(
    fresh_database: DatabaseFactory, tmp_path: Path
) -> None:
    url = await fresh_database()
    holder = await postgres.connect_raw(url)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", RUNNER_LOCK_KEY)
        runner = start_runner(url, tmp_path / "alembic.log", MIGRATION_RUNNER_WAIT_SECONDS="1")
        status = await runner.finish()
    finally:
        await holder.close()

    assert status != 0
    assert f"another migration runner (pid {holder.get_server_pid()}) is migrating" in (
        runner.output
    )
    assert runner.output.strip().splitlines()[-1] == (
        "FAILED: another migration runner held the lock for longer than 1s "
        "(MIGRATION_RUNNER_WAIT_SECONDS); giving up"
    )


async def test_an_old_replica_restarting_after_a_newer_release_migrated_starts(
    committed_database: URL,
) -> None:
    """Release N-1 restarts mid-rollout: the database is at a revision it has never seen."""
    await postgres.execute(
        committed_database, "UPDATE alembic_version SET version_num = '0011_from_the_future'"
    )

    with entrypoint(committed_database) as server:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            await server.wait_until_ready(client)
        server.process.terminate()
        output = server.process.communicate(timeout=30)[0]

    assert "the database is at 0011_from_the_future, newer than this code's revisions" in output
    assert "FAILED" not in output

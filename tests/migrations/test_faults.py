"""Migrations under the faults production brings: real processes, real PostgreSQL.

- a session holds a lock the migration needs: the migration gives up within lock_timeout, so
  nobody queues behind it for long, retries, and succeeds once the lock is gone;
- the lock never goes: the run ends with one readable line, and the entrypoint never starts
  uvicorn;
- three replicas start at once: the migrations run exactly once;
- a replica waits for another runner only so long;
- an old replica restarts on a database a newer release migrated: it starts.

The lock tests add two revisions of their own to a copy of the project (a table, then a change
to it), so they hold for any project's history, not only the template's.
"""

import asyncio
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import URL

from app.schema.runtime import RUNNER_LOCK_KEY
from tests.conftest import DatabaseFactory
from tests.support import postgres
from tests.support.alembic import HEAD, SCRIPTS, add_revision, project_copy, run_project_cli
from tests.support.paths import ROOT, VENV_BIN, subprocess_env
from tests.support.processes import Process, entrypoint, started
from tests.support.traffic import live_traffic
from tests.support.waiting import eventually

LOCK_TIMEOUT_MS = 300
REVISION_COUNT = len(list(SCRIPTS.walk_revisions()))
FAST = {
    "MIGRATION_LOCK_TIMEOUT_MS": str(LOCK_TIMEOUT_MS),
    "MIGRATION_RETRY_BACKOFF_SECONDS": "0.2",
}
DEADLINE_SECONDS = 60
# The revisions the lock tests add after the project's head.
PROBE_TABLE = f"{int(HEAD[:4]) + 1:04d}_lock_probe_table"
PROBE_CHANGE = f"{int(HEAD[:4]) + 2:04d}_lock_probe_change"
CHANGE = "ALTER TABLE lock_probe ADD COLUMN note TEXT DEFAULT 'none'"


@contextmanager
def migration_runner(url: URL, config: Path | None = None, **env: str) -> Iterator[Process]:
    """`alembic upgrade head` as its own process; a test reads its output while it runs."""
    chosen: list[str | Path] = ["-c", config] if config else []
    command = [VENV_BIN / "alembic", *chosen, "upgrade", "head"]
    environment = subprocess_env(url, PYTHONPATH=str(ROOT), **FAST, **env)
    with started(command, env=environment) as process:
        yield process


async def output_shows(process: Process, text: str) -> None:
    await eventually(lambda: text in process.output, f"{text!r} in the output")


@asynccontextmanager
async def lock_held(url: URL, sql: str) -> AsyncIterator[asyncpg.Connection]:
    """Another session holding a lock (in an open transaction) until the block ends."""
    connection = await postgres.connect_to(url)
    transaction = connection.transaction()
    await transaction.start()
    await connection.execute(sql)
    try:
        yield connection
    finally:
        await transaction.rollback()
        await connection.close()


async def at_the_probe_table(fresh_database: DatabaseFactory, project: Path) -> URL:
    """A database at the first probe revision, its table filled: the next revision alters it."""
    project_copy(project)
    add_revision(
        project,
        PROBE_TABLE,
        HEAD,
        'op.create_table("lock_probe", sa.Column("id", sa.BigInteger(), primary_key=True))',
    )
    add_revision(project, PROBE_CHANGE, PROBE_TABLE, f'op.execute("{CHANGE}")')
    url = await fresh_database()
    upgraded = run_project_cli(project, "upgrade", PROBE_TABLE, url=url)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    await postgres.execute(url, "INSERT INTO lock_probe SELECT generate_series(1, 100)")
    return url


async def test_a_held_lock_is_waited_out_by_retries_and_blocks_nobody(
    fresh_database: DatabaseFactory, tmp_path: Path
) -> None:
    url = await at_the_probe_table(fresh_database, tmp_path)

    probe = (
        "SELECT id FROM lock_probe WHERE id = $1",
        "UPDATE lock_probe SET id = id WHERE id = $1",
    )
    async with live_traffic(
        url, probe, keys=100, lock_timeout_ms=2 * LOCK_TIMEOUT_MS, pause_seconds=0.01
    ) as live:
        config = tmp_path / "alembic.ini"
        with migration_runner(url, config, MIGRATION_ATTEMPTS="30") as runner:
            # A long report: ACCESS SHARE, which conflicts with ADD COLUMN's ACCESS EXCLUSIVE.
            async with lock_held(url, "LOCK TABLE lock_probe IN ACCESS SHARE MODE"):
                await output_shows(runner, "retrying")
                answered_while_blocked = live.answered
                await asyncio.sleep(0.5)  # let queries run while the migration keeps retrying
                answered_while_blocked = live.answered - answered_while_blocked
            status = await runner.finished(DEADLINE_SECONDS)

    assert status == 0, runner.output
    assert (
        f"revision {PROBE_CHANGE}: could not get a lock within {LOCK_TIMEOUT_MS}ms "
        f"(attempt 1 of 30), for: {CHANGE}" in runner.output
    )
    version = await postgres.fetchval(url, "SELECT version_num FROM alembic_version")
    assert version == PROBE_CHANGE
    assert live.gave_up == [], "a query waited behind the migration for over 2 x lock_timeout"
    assert answered_while_blocked > 0, "queries stopped while the migration waited"


async def test_a_lock_that_never_goes_ends_in_one_line_and_no_server(
    fresh_database: DatabaseFactory, tmp_path: Path
) -> None:
    url = await at_the_probe_table(fresh_database, tmp_path)
    # The entrypoint runs `alembic upgrade head`, which reads ALEMBIC_CONFIG.
    env = {"ALEMBIC_CONFIG": str(tmp_path / "alembic.ini"), "PYTHONPATH": str(ROOT)}

    async with lock_held(url, "LOCK TABLE lock_probe IN ACCESS SHARE MODE") as blocker:
        holder_pid = blocker.get_server_pid()
        with entrypoint(url, env={"MIGRATION_ATTEMPTS": "2", **FAST, **env}) as server:
            returncode = await server.finished(60)
            output = server.output

    assert returncode != 0
    alarms = [line for line in output.splitlines() if "FAILED" in line or "ERROR" in line]
    assert alarms == [
        f"FAILED: revision {PROBE_CHANGE}: could not get a lock within {LOCK_TIMEOUT_MS}ms "
        f"after 2 attempt(s), for: {CHANGE}; held by pid {holder_pid} on lock_probe "
        "(AccessShareLock, idle in transaction: LOCK TABLE lock_probe IN ACCESS SHARE MODE); "
        "the revision did not complete and is safe to run again"
    ]
    assert "Traceback" not in output
    assert "Started server process" not in output  # uvicorn never started
    version = await postgres.fetchval(url, "SELECT version_num FROM alembic_version")
    assert version == PROBE_TABLE


async def test_three_runners_at_once_migrate_exactly_once(
    fresh_database: DatabaseFactory,
) -> None:
    url = await fresh_database()
    # Hold the runner lock ourselves until all three are up and waiting, so they truly race.
    holder = await postgres.connect_to(url)
    await holder.execute("SELECT pg_advisory_lock($1)", RUNNER_LOCK_KEY)
    with ExitStack() as stack:
        runners = [stack.enter_context(migration_runner(url)) for _ in range(3)]
        try:
            for runner in runners:
                await output_shows(runner, "another migration runner")
        finally:
            await holder.close()  # releases the advisory lock
        statuses = [await runner.finished(DEADLINE_SECONDS) for runner in runners]

    assert statuses == [0, 0, 0], [runner.output for runner in runners]
    applied = [runner.output.count("Running upgrade") for runner in runners]
    assert sorted(applied) == [0, 0, REVISION_COUNT]
    versions = await postgres.fetchval(url, "SELECT array_agg(version_num) FROM alembic_version")
    assert versions == [HEAD]


async def test_a_replica_waits_for_the_runner_lock_only_so_long(
    fresh_database: DatabaseFactory,
) -> None:
    url = await fresh_database()
    holder = await postgres.connect_to(url)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", RUNNER_LOCK_KEY)
        with migration_runner(url, MIGRATION_RUNNER_WAIT_SECONDS="1") as runner:
            status = await runner.finished(DEADLINE_SECONDS)
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
    newer = "9999_from_a_newer_release"
    await postgres.execute(
        committed_database, f"UPDATE alembic_version SET version_num = '{newer}'"
    )

    with entrypoint(committed_database) as server:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            await server.wait_until_ready(client)
        server.signal(signal.SIGTERM)
        server.wait(timeout=30)
        output = server.output

    assert f"the database is at {newer}, newer than this code's revisions" in output
    assert "FAILED" not in output

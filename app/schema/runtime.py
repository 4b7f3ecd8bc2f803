"""How an online `alembic upgrade` behaves on a busy production database. alembic/env.py runs
every online migration through `run`.

- Timeouts: every migration session starts with `lock_timeout` and `statement_timeout` set, so
  a statement that cannot get its lock fails within seconds instead of queueing all traffic on
  the table behind it.
- Retries: such a failure is retried a bounded number of times with backoff. PostgreSQL rolled
  the failed revision back whole (transactional DDL, one transaction per revision), and the
  helpers in app.schema.operations are safe to re-run, so a retry starts clean. When the tries
  run out, or a statement ran too long, the run ends with one line naming the revision, the
  statement and the session holding the lock.
- One runner: a session-level advisory lock, held on a connection of its own, makes replicas
  that start together run the migrations once; the others wait, then find nothing to do.
"""

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.settings import Settings

log = logging.getLogger(__name__)

# Any constant works: advisory locks are scoped to the current database. This one spells
# "alembic" in ASCII; pg_locks shows its high and low halves as classid 6384741 and objid
# 1835166051.
RUNNER_LOCK_KEY = 0x616C656D626963

LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout expired
DEADLOCK_DETECTED = "40P01"
QUERY_CANCELED = "57014"  # statement_timeout expired (or a cancel request)
RETRYABLE = {LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED}

# Who holds locks on the tables a failed statement names (any identifier in it that is a
# table of the current schema), for the failure message.
_LOCK_HOLDERS = text(
    """
    SELECT DISTINCT c.relname, a.pid, l.mode, a.state,
           left(regexp_replace(a.query, '\\s+', ' ', 'g'), 60) AS query
    FROM pg_locks l
    JOIN pg_class c ON c.oid = l.relation
    JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.granted AND a.pid <> pg_backend_pid()
      AND c.relnamespace = current_schema()::regnamespace AND c.relname = ANY(:names)
    ORDER BY c.relname, a.pid
    """
)

_POLL_SECONDS = 0.5
_REPORT_EVERY_SECONDS = 5.0


def session_timeouts(settings: Settings) -> dict[str, str]:
    """The SET commands every migration session starts with, as name -> value (milliseconds)."""
    return {
        "lock_timeout": str(settings.migration_lock_timeout_ms),
        "statement_timeout": str(settings.migration_statement_timeout_ms),
    }


def connect_args(settings: Settings) -> dict[str, Any]:
    """asyncpg's options for every migration connection: the timeouts are session defaults, in
    force before the first statement and again after every autocommit block."""
    return {"server_settings": {"application_name": "alembic", **session_timeouts(settings)}}


def sqlstate(exc: BaseException) -> str | None:
    return getattr(getattr(exc, "orig", None), "sqlstate", None)


@asynccontextmanager
async def single_runner(engine: AsyncEngine, settings: Settings) -> AsyncIterator[None]:
    """Hold the runner lock for the whole run; wait (bounded) while another runner holds it.

    The lock lives on its own connection in autocommit mode. A lock taken inside the migration
    transaction would be released at the first autocommit block; and a connection sitting in an
    open transaction holds a snapshot that CREATE INDEX CONCURRENTLY waits for, for ever.
    """
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        started = time.monotonic()
        next_report = 0.0
        while not await connection.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": RUNNER_LOCK_KEY}
        ):
            waited = time.monotonic() - started
            if waited >= settings.migration_runner_wait_seconds:
                raise CommandError(
                    f"another migration runner held the lock for longer than "
                    f"{settings.migration_runner_wait_seconds:g}s "
                    f"(MIGRATION_RUNNER_WAIT_SECONDS); giving up"
                )
            if waited >= next_report:
                holder = await connection.scalar(
                    text(
                        # pg_locks shows every database's locks; the runner lock is per database.
                        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND database = (SELECT oid FROM pg_database "
                        "WHERE datname = current_database()) "
                        "AND ((classid::bigint << 32) | objid::bigint) = :key"
                    ),
                    {"key": RUNNER_LOCK_KEY},
                )
                log.info(
                    "another migration runner (pid %s) is migrating; waiting (%.0fs of %gs)",
                    holder,
                    waited,
                    settings.migration_runner_wait_seconds,
                )
                next_report = waited + _REPORT_EVERY_SECONDS
            await asyncio.sleep(_POLL_SECONDS)
        try:
            yield
        finally:
            await connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": RUNNER_LOCK_KEY}
            )


async def lock_holders(connection: AsyncConnection, statement: str) -> str:
    """'held by pid 42 on users (AccessShareLock, idle in transaction: LOCK TABLE ...)'."""
    names = sorted(set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", statement)))
    rows = (await connection.execute(_LOCK_HOLDERS, {"names": names})).all()
    if not rows:
        return "the session holding the lock has since let go"
    return "; ".join(
        f"held by pid {row.pid} on {row.relname} ({row.mode}, {row.state}: {row.query})"
        for row in rows
    )


def next_revisions(script: ScriptDirectory, current_heads: Iterable[str]) -> str:
    """The revision(s) an upgrade from `current_heads` runs next, for error messages."""
    heads = list(current_heads)
    if not heads:
        return ", ".join(sorted(script.get_bases()))
    following = {child for head in heads for child in script.get_revision(head).nextrev}
    return ", ".join(sorted(following)) or "(none: at head)"


async def run(
    engine: AsyncEngine,
    settings: Settings,
    scripts: ScriptDirectory,
    migrate: Callable[[Connection], None],
) -> None:
    """Hold the runner lock, then run `migrate` on a fresh connection until it succeeds.

    A lock timeout or a deadlock is retried with backoff; when the tries run out, the run ends
    with one line (a `CommandError`, which Alembic prints as `FAILED: ...`). A statement timeout
    is not retried: a schema change that runs that long is rewriting or scanning the table while
    it holds its lock, and would do so again.
    """
    async with single_runner(engine, settings):
        for number in range(1, settings.migration_attempts + 1):
            try:
                async with engine.connect() as connection:
                    await connection.run_sync(migrate)
                return
            except DBAPIError as exc:
                state = sqlstate(exc)
                if state not in RETRYABLE and not _statement_timeout(exc):
                    raise
                statement = " ".join(str(exc.statement or "").split())[:160]
                revision, holders = await _failed_at(engine, scripts, statement)
                if _statement_timeout(exc):
                    raise CommandError(
                        f"revision {revision}: {_ran_too_long(statement, settings)}"
                    ) from None
                reason = (
                    f"could not get a lock within {settings.migration_lock_timeout_ms}ms"
                    if state == LOCK_NOT_AVAILABLE
                    else "deadlock"
                )
                if number == settings.migration_attempts:
                    raise CommandError(
                        f"revision {revision}: {reason} after {number} attempt(s), for: "
                        f"{statement}; {holders}; the revision did not complete and is safe to "
                        f"run again"
                    ) from None
                delay = settings.migration_retry_backoff_seconds * 2 ** (number - 1)
                log.warning(
                    "revision %s: %s (attempt %d of %d), for: %s; %s; retrying in %gs",
                    revision,
                    reason,
                    number,
                    settings.migration_attempts,
                    statement,
                    holders,
                    delay,
                )
                await asyncio.sleep(delay)


async def _failed_at(
    engine: AsyncEngine, scripts: ScriptDirectory, statement: str
) -> tuple[str, str]:
    """The revision that failed (the next one after what the database has), and who holds the
    locks on the tables `statement` names."""
    async with engine.connect() as connection:
        heads = await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_heads()
        )
        holders = await lock_holders(connection, statement)
    return next_revisions(scripts, heads), holders


def _ran_too_long(statement: str, settings: Settings) -> str:
    # The long limit applies to the statements that block no traffic (app.schema.operations).
    if re.search(r"\b(CONCURRENTLY|VALIDATE)\b", statement, re.IGNORECASE):
        return (
            f"ran longer than {settings.migration_long_statement_timeout_ms}ms "
            f"(MIGRATION_LONG_STATEMENT_TIMEOUT_MS) and was cancelled, for: {statement} "
            f"(it blocks no reads or writes: raise that limit for a table this large; a "
            f"cancelled concurrent index build leaves an INVALID index, which the next run "
            f"rebuilds)"
        )
    return (
        f"ran longer than {settings.migration_statement_timeout_ms}ms "
        f"(MIGRATION_STATEMENT_TIMEOUT_MS) and was cancelled, for: {statement} "
        f"(a schema change this slow rewrites or scans the table under its lock; "
        f"app/schema/operations.py has the safe forms)"
    )


def _statement_timeout(exc: DBAPIError) -> bool:
    return sqlstate(exc) == QUERY_CANCELED and "statement timeout" in str(exc.orig)

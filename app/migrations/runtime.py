"""How `alembic upgrade` behaves against a busy production database. Used by alembic/env.py.

- Timeouts: every migration session starts with `lock_timeout` and `statement_timeout` set, so
  a statement that cannot get its lock fails within seconds instead of queueing all traffic on
  the table behind it.
- Retries: such a failure is retried a bounded number of times with backoff. PostgreSQL rolled
  the failed revision back whole (transactional DDL, one transaction per revision), and the
  helpers in app.migrations.operations are safe to re-run, so a retry starts clean.
- One runner: a session-level advisory lock, held on a connection of its own, makes replicas
  that start together run the migrations once; the others wait, then find nothing to do.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import Settings

log = logging.getLogger(__name__)

# Any constant works: advisory locks are scoped to the current database. This one spells
# "alembic" in ASCII, so it is recognisable in pg_locks (classid 0, objid 1634495845...).
RUNNER_LOCK_KEY = 0x616C656D626963

LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout expired
DEADLOCK_DETECTED = "40P01"
RETRYABLE = {LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED}

_POLL_SECONDS = 0.5
_REPORT_EVERY_SECONDS = 5.0


def session_timeouts(settings: Settings) -> dict[str, str]:
    """The SET commands every migration session starts with, as name -> value (milliseconds)."""
    return {
        "lock_timeout": str(settings.migration_lock_timeout_ms),
        "statement_timeout": str(settings.migration_statement_timeout_ms),
    }


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
                        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
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


def next_revisions(script: ScriptDirectory, current_heads: Iterable[str]) -> str:
    """The revision(s) an upgrade from `current_heads` runs next, for error messages."""
    heads = list(current_heads)
    if not heads:
        return ", ".join(sorted(script.get_bases()))
    following = {child for head in heads for child in script.get_revision(head).nextrev}
    return ", ".join(sorted(following)) or "(none: at head)"


async def run_with_retries(
    attempt: Callable[[], Awaitable[None]],
    settings: Settings,
    describe_failure: Callable[[], Awaitable[str]],
) -> None:
    """Run `attempt`; retry it on a lock timeout or deadlock, then fail with one clear line."""
    for number in range(1, settings.migration_attempts + 1):
        try:
            await attempt()
            return
        except DBAPIError as exc:
            if sqlstate(exc) not in RETRYABLE:
                raise
            where = await describe_failure()
            statement = " ".join(str(exc.statement or "").split())[:160]
            reason = (
                f"could not get a lock within {settings.migration_lock_timeout_ms}ms"
                if sqlstate(exc) == LOCK_NOT_AVAILABLE
                else "deadlock"
            )
            if number == settings.migration_attempts:
                raise CommandError(
                    f"revision {where}: {reason} after {number} attempt(s), for: {statement} "
                    f"(another session holds a conflicting lock; the revision did not complete "
                    f"and is safe to run again)"
                ) from None
            delay = settings.migration_retry_backoff_seconds * 2 ** (number - 1)
            log.warning(
                "revision %s: %s (attempt %d of %d), for: %s; retrying in %gs",
                where,
                reason,
                number,
                settings.migration_attempts,
                statement,
                delay,
            )
            await asyncio.sleep(delay)

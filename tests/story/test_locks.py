"""On a table with many rows, the whole series runs while other sessions keep reading and writing.

Each prober session gives up on any lock it waits for longer than twice the migration's
lock_timeout. The migration's exclusive locks are taken only for catalog changes (milliseconds)
and are waited for at most lock_timeout, so no prober may ever give up.

What this shows is the safe series keeping a table of 100,000 rows open, with the rows to
backfill. It is no proof that each naive form would fail here: at this size a plain
SET NOT NULL scan or CREATE INDEX takes well under the bound (a one-statement UPDATE of the
whole table, followed by another ALTER in the same transaction, did fail it when tried).
bench/ measures the naive forms against the safe ones at 1,000,000 rows.
"""

import asyncio

from tests.conftest import DatabaseFactory
from tests.support import alembic, postgres
from tests.support.traffic import live_traffic

ROWS = 100_000
MIGRATION_LOCK_TIMEOUT_MS = 1_000
PROBER_LOCK_TIMEOUT_MS = 2 * MIGRATION_LOCK_TIMEOUT_MS
PROBERS = 2


async def test_reads_and_writes_never_wait_behind_the_migration(
    fresh_database: DatabaseFactory,
) -> None:
    url = await fresh_database()
    await alembic.upgrade(url, "0001_initial_schema")
    await postgres.seed_users(url, ROWS)
    await postgres.execute(url, "ANALYZE users")
    # Columns every release has: these statements are valid throughout the series.
    queries = (
        "SELECT id, email FROM users WHERE id = $1",
        "UPDATE users SET email = email WHERE id = $1",
    )
    async with live_traffic(
        url, queries, keys=ROWS, lock_timeout_ms=PROBER_LOCK_TIMEOUT_MS, sessions=PROBERS
    ) as result:
        await asyncio.sleep(0.2)
        answered_before = result.answered
        await alembic.upgrade(url, "head", migration_lock_timeout_ms=MIGRATION_LOCK_TIMEOUT_MS)

    assert result.gave_up == [], f"a query waited over {PROBER_LOCK_TIMEOUT_MS}ms for a lock"
    assert result.answered - answered_before > 100, "the probers did not run during the migration"
    full_names = await postgres.fetchval(url, "SELECT count(full_name) FROM users")
    assert full_names == ROWS

"""The shared migration helpers recover from the failures they promise to recover from."""

import asyncio
import logging

import asyncpg
import pytest
from alembic.util import CommandError
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError

from tests.conftest import DatabaseFactory
from tests.support import alembic, postgres
from tests.support.alembic import run_cli
from tests.support.waiting import eventually

INDEX_STATE = """
SELECT i.indisvalid, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relname = 'ix_users_full_name_id'
"""


async def index_state(url: URL) -> tuple[bool, str] | None:
    connection = await postgres.connect_to(url)
    try:
        row = await connection.fetchrow(INDEX_STATE)
    finally:
        await connection.close()
    return None if row is None else (row[0], row[1])


async def test_concurrent_index_replaces_an_invalid_leftover(
    fresh_database: DatabaseFactory,
) -> None:
    url = await fresh_database()
    await alembic.upgrade(url, "0007_drop_user_name")
    await postgres.execute(
        url,
        "INSERT INTO users (email, full_name) VALUES ('a@example.com', 'Twin'), "
        "('b@example.com', 'Twin')",
    )
    # A concurrent build that fails (here on duplicates) leaves an INVALID index behind.
    with pytest.raises(asyncpg.UniqueViolationError, match="could not create unique index"):
        await postgres.execute_outside_transaction(
            url, "CREATE UNIQUE INDEX CONCURRENTLY ix_users_full_name_id ON users (full_name)"
        )
    assert await index_state(url) == (
        False,
        "CREATE UNIQUE INDEX ix_users_full_name_id ON public.users USING btree (full_name)",
    )

    await alembic.upgrade(url, "0008_index_users_full_name_id")

    assert await index_state(url) == (
        True,
        "CREATE INDEX ix_users_full_name_id ON public.users USING btree (full_name, id)",
    )


async def test_concurrent_index_keeps_a_valid_one(fresh_database: DatabaseFactory) -> None:
    """An earlier run built the index, then died before Alembic recorded the revision."""
    url = await fresh_database()
    await alembic.upgrade(url, "0007_drop_user_name")
    await postgres.execute(url, "CREATE INDEX ix_users_full_name_id ON users (full_name, id)")
    oid_before = await postgres.fetchval(url, "SELECT 'ix_users_full_name_id'::regclass::oid")

    await alembic.upgrade(url, "0008_index_users_full_name_id")

    assert await postgres.fetchval(url, "SELECT 'ix_users_full_name_id'::regclass::oid") == (
        oid_before
    )


async def test_not_null_fails_cleanly_on_a_null_and_succeeds_once_it_is_fixed(
    fresh_database: DatabaseFactory,
) -> None:
    url = await fresh_database()
    await alembic.upgrade(url, "0006_user_name_nullable")
    # A row some writer left without full_name: VALIDATE must refuse, not SET NOT NULL.
    await postgres.execute(url, "INSERT INTO users (email, name) VALUES ('x@example.com', 'X')")

    with pytest.raises(IntegrityError, match="ck_users_full_name_not_null"):
        await alembic.upgrade(url, "0007_drop_user_name")

    assert await postgres.fetchval(url, "SELECT version_num FROM alembic_version") == (
        "0006_user_name_nullable"
    )
    assert (
        await postgres.fetchval(
            url,
            "SELECT is_nullable FROM information_schema.columns "
            "WHERE table_name = 'users' AND column_name = 'full_name'",
        )
        == "YES"
    )

    await postgres.execute(url, "UPDATE users SET full_name = name WHERE full_name IS NULL")
    await alembic.upgrade(url, "0007_drop_user_name")

    checks = await postgres.fetchval(
        url, "SELECT count(*) FROM pg_constraint WHERE conname = 'ck_users_full_name_not_null'"
    )
    assert checks == 0


async def rows_at_0004(fresh_database: DatabaseFactory, count: int) -> URL:
    """Release 2's rows: a name each and no full_name yet, as 0005 finds them."""
    url = await fresh_database()
    await alembic.upgrade(url, "0004_add_user_full_name")
    await postgres.seed_users(url, count)
    return url


async def migration_waits_for_a_lock(url: URL) -> bool:
    waiting = await postgres.fetchval(
        url,
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE application_name = 'alembic' AND wait_event_type = 'Lock'",
    )
    return bool(waiting)


async def test_backfill_goes_on_past_a_batch_that_live_writers_fixed_first(
    fresh_database: DatabaseFactory,
) -> None:
    """The batch's UPDATE waits for rows a live release is changing; when it gets them, the
    release has already written full_name, so the UPDATE changes none of them. The rows after
    that batch must still be copied."""
    url = await rows_at_0004(fresh_database, 6)
    writer = await postgres.connect_to(url)
    transaction = writer.transaction()
    await transaction.start()
    await writer.execute("UPDATE users SET full_name = name WHERE id IN (1, 2)")

    migration = asyncio.create_task(
        alembic.upgrade(url, "0005_backfill_user_full_name", migration_backfill_batch_size=2)
    )
    await eventually(lambda: migration_waits_for_a_lock(url), "the backfill to wait for a row")
    await transaction.commit()
    await writer.close()
    await migration

    missing = await postgres.fetchval(
        url, "SELECT count(*) FROM users WHERE full_name IS DISTINCT FROM name"
    )
    assert missing == 0


async def test_an_interrupted_backfill_keeps_its_batches_and_resumes(
    fresh_database: DatabaseFactory, caplog: pytest.LogCaptureFixture
) -> None:
    url = await rows_at_0004(fresh_database, 10)
    settings = {"migration_backfill_batch_size": 3, "migration_lock_timeout_ms": 200}
    blocker = await postgres.connect_to(url)
    transaction = blocker.transaction()
    await transaction.start()
    await blocker.execute("SELECT * FROM users WHERE id = 8 FOR UPDATE")

    with pytest.raises(CommandError, match="could not get a lock within 200ms"):
        await alembic.upgrade(url, "0005_backfill_user_full_name", migration_attempts=1, **settings)
    copied = await postgres.fetchval(
        url, "SELECT array_agg(id ORDER BY id) FROM users WHERE full_name = name"
    )
    await transaction.rollback()
    await blocker.close()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="app.schema"):
        await alembic.upgrade(url, "0005_backfill_user_full_name", **settings)

    assert copied == [1, 2, 3, 4, 5, 6]  # two batches committed before the third one timed out
    assert "backfill users: done, 4 rows updated" in caplog.text  # the re-run did only the rest
    assert await postgres.fetchval(url, "SELECT version_num FROM alembic_version") == (
        "0005_backfill_user_full_name"
    )


async def test_a_concurrent_build_past_its_long_timeout_is_named_and_rebuilt_next_run(
    fresh_database: DatabaseFactory,
) -> None:
    url = await fresh_database()
    await alembic.upgrade(url, "0007_drop_user_name")
    await postgres.seed_users(url, 200_000, name_column="full_name")

    result = run_cli(
        "upgrade",
        "0008_index_users_full_name_id",
        url=url,
        MIGRATION_LONG_STATEMENT_TIMEOUT_MS="20",
    )

    assert result.returncode != 0
    [failed] = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert "ran longer than 20ms (MIGRATION_LONG_STATEMENT_TIMEOUT_MS) and was cancelled" in failed
    assert "CREATE INDEX CONCURRENTLY" in failed
    valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_users_full_name_id'::regclass"
    assert await postgres.fetchval(url, valid) is False  # the leftover the message announces

    await alembic.upgrade(url, "0008_index_users_full_name_id")

    assert await postgres.fetchval(url, valid) is True

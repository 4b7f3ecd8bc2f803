"""The shared migration helpers recover from the failures they promise to recover from."""

import asyncpg
import pytest
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError

from tests.conftest import DatabaseFactory
from tests.support import alembic, postgres

INDEX_STATE = """
SELECT i.indisvalid, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relname = 'ix_users_full_name_id'
"""


async def index_state(url: URL) -> tuple[bool, str] | None:
    connection = await postgres.connect_raw(url)
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

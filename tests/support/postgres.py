"""Throwaway databases on the test server: create, clone from a template, drop."""

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

# Any database on the server the suite may use; the suite only creates and drops its own.
SERVER_URL_SETTING = "TEST_POSTGRES_URL"
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# Each run's databases share a prefix, so a run never touches another's (CI and a developer's
# run may share one server).
RUN_PREFIX = f"apptest_{os.getpid()}_{secrets.token_hex(3)}"


def server_url() -> URL:
    return make_url(os.environ.get(SERVER_URL_SETTING, DEFAULT_SERVER_URL))


def database_url(name: str, *, driver: str = "postgresql+asyncpg") -> URL:
    return server_url().set(drivername=driver, database=name)


def plain_dsn(url: URL) -> str:
    """A libpq-style DSN (for asyncpg, psql and pg_dump), password included."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def new_database_name(purpose: str) -> str:
    return f"{RUN_PREFIX}_{purpose}_{secrets.token_hex(2)}"[:63]


async def admin_connect() -> asyncpg.Connection:
    return await asyncpg.connect(plain_dsn(server_url()), timeout=5)


async def create_database(name: str, *, template: str | None = None) -> URL:
    connection = await admin_connect()
    try:
        clause = f' TEMPLATE "{template}"' if template else ""
        await connection.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await connection.close()
    return database_url(name)


async def drop_database(name: str) -> None:
    connection = await admin_connect()
    try:
        # FORCE (PG 13+) ends connections a failed test left open, so the drop cannot hang.
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@asynccontextmanager
async def temporary_database(purpose: str, *, template: str | None = None) -> AsyncIterator[URL]:
    name = new_database_name(purpose)
    url = await create_database(name, template=template)
    try:
        yield url
    finally:
        await drop_database(name)


async def server_problem() -> str | None:
    """None if the test server answers, else one line saying why not."""
    try:
        connection = await admin_connect()
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    await connection.close()
    return None


async def connect_raw(url: URL) -> asyncpg.Connection:
    """A plain asyncpg connection to `url`, in autocommit mode (asyncpg's default)."""
    return await asyncpg.connect(plain_dsn(url), timeout=5)


async def execute(url: URL, *statements: str) -> None:
    """Run statements in one committed transaction on the database at `url`."""
    connection = await connect_raw(url)
    try:
        async with connection.transaction():
            for statement in statements:
                await connection.execute(statement)
    finally:
        await connection.close()


async def execute_outside_transaction(url: URL, statement: str) -> None:
    """For statements that refuse a transaction block, such as CREATE INDEX CONCURRENTLY."""
    connection = await connect_raw(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def fetchval(url: URL, query: str, *args: object) -> object:
    connection = await connect_raw(url)
    try:
        return await connection.fetchval(query, *args)
    finally:
        await connection.close()


@asynccontextmanager
async def connect(url: URL) -> AsyncIterator[AsyncConnection]:
    """A SQLAlchemy connection to `url`; the caller begins and ends its transactions."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


@asynccontextmanager
async def transaction(url: URL) -> AsyncIterator[AsyncConnection]:
    """A SQLAlchemy connection to `url` in a transaction, committed at the end of the block."""
    async with connect(url) as connection, connection.begin():
        yield connection


# alembic_version is left out: it is Alembic's bookkeeping, and survives `downgrade base`.
SCHEMA_FINGERPRINT = """
SELECT 'column', table_name || '.' || column_name,
       format('%s(%s) nullable=%s default=%s identity=%s', data_type,
              character_maximum_length, is_nullable, column_default, is_identity)
FROM information_schema.columns
WHERE table_schema = 'public' AND table_name <> 'alembic_version'
UNION ALL
SELECT 'constraint', conrelid::regclass || '.' || conname, pg_get_constraintdef(oid)
FROM pg_constraint
WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> 'alembic_version'
UNION ALL
SELECT 'index', c.relname, pg_get_indexdef(i.indexrelid) || ' valid=' || i.indisvalid
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relnamespace = 'public'::regnamespace AND i.indrelid::regclass::text <> 'alembic_version'
ORDER BY 1, 2
"""


async def schema_fingerprint(url: URL) -> list[tuple[str, str, str]]:
    """Every column, constraint and index of the public schema but Alembic's own table."""
    connection = await connect_raw(url)
    try:
        return [tuple(row) for row in await connection.fetch(SCHEMA_FINGERPRINT)]
    finally:
        await connection.close()


async def seed_users(url: URL, count: int, *, name_column: str = "name", **columns: str) -> None:
    """`count` users in one INSERT ... SELECT (ids 1..count on a fresh table): emails
    u<i>@example.com, 'User <i>' in `name_column`, each of `columns` set to its SQL expression."""
    names = "".join(f", {column}" for column in columns)
    values = "".join(f", {value}" for value in columns.values())
    await execute(
        url,
        f"INSERT INTO users (email, {name_column}{names}) "
        f"SELECT 'u' || i || '@example.com', 'User ' || i{values} "
        f"FROM generate_series(1, {count}) AS i",
    )

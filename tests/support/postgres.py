"""The test server, and what tests do on its databases: query, compare schemas, seed users.

Its throwaway databases come from tests.support.throwaway, as the benchmarks' do.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from tests.support.throwaway import SERVER_URL_SETTING as SERVER_URL_SETTING
from tests.support.throwaway import Server, server_url
from tests.support.throwaway import connect_to as connect_to
from tests.support.throwaway import dsn as dsn

# The server the suite makes its databases on (TEST_POSTGRES_URL, or the local PostgreSQL).
SERVER = Server(server_url(), prefix="apptest")
database_url = SERVER.database_url
new_database_name = SERVER.new_database_name
temporary_database = SERVER.temporary_database
drop_database = SERVER.drop_database
server_problem = SERVER.problem


async def execute(url: URL, *statements: str) -> None:
    """Run statements in one committed transaction on the database at `url`."""
    connection = await connect_to(url)
    try:
        async with connection.transaction():
            for statement in statements:
                await connection.execute(statement)
    finally:
        await connection.close()


async def execute_outside_transaction(url: URL, statement: str) -> None:
    """For statements that refuse a transaction block, such as CREATE INDEX CONCURRENTLY."""
    connection = await connect_to(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def fetchval(url: URL, query: str, *args: object) -> object:
    connection = await connect_to(url)
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
    connection = await connect_to(url)
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

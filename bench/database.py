"""Benchmark databases: throwaway ones (tests.support.throwaway, as the suite's), migrated
with the real CLI, seeded, queried.

Every database made here is named bench_<pid>_<random>_<purpose> and dropped on the way out,
failures and Ctrl-C included. Nothing else on the server is touched. The server is
BENCH_POSTGRES_URL, or the local PostgreSQL.
"""

import asyncio
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from sqlalchemy.engine import URL

from bench.errors import BenchError
from bench.paths import ROOT, VENV_BIN
from bench.users import SEED_SQL
from tests.support.throwaway import Server, connect_to, server_url
from tests.support.throwaway import dsn as dsn

SERVER_URL_SETTING = "BENCH_POSTGRES_URL"
SERVER = Server(server_url(SERVER_URL_SETTING), prefix="bench")


def _run(coroutine_function: Any, url: URL, *args: object) -> Any:
    async def go() -> Any:
        try:
            connection = await connect_to(url)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            where = url.render_as_string(hide_password=True)
            raise BenchError(f"cannot connect to PostgreSQL at {where}: {exc}") from None
        try:
            return await coroutine_function(connection, *args)
        finally:
            await connection.close()

    return asyncio.run(go())


def server_version() -> str:
    async def query(connection: asyncpg.Connection) -> str:
        version: str = await connection.fetchval("SHOW server_version")
        return version

    return str(_run(query, SERVER.url))


@contextmanager
def temporary_database(purpose: str, template: URL | None = None) -> Iterator[URL]:
    """A new empty database, or a copy of `template` (which nobody may be connected to)."""
    server_version()  # a server that does not answer is one line, not a traceback
    name = template.database if template is not None else None
    with SERVER.temporary_database_sync(purpose, template=name) as url:
        yield url


def migrate(url: URL, revision: str = "head") -> None:
    """`alembic upgrade head` (the command entrypoint.sh runs), or up to `revision`."""
    result = subprocess.run(  # noqa: S603 - our own venv's alembic, fixed arguments
        [str(VENV_BIN / "alembic"), "upgrade", revision],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": dsn(url)},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise BenchError(f"alembic upgrade {revision} failed: {last}")


def seed_users(url: URL, rows: int, sql: str = SEED_SQL) -> int:
    """Insert `rows` users (`sql` takes the count as $1, for a schema other than head's);
    return the highest id, the top of the load's random id range."""

    async def seed(connection: asyncpg.Connection) -> int:
        await connection.execute(sql, rows)
        # Fresh statistics, so the planner sees 100,000 rows and not an empty table.
        await connection.execute("ANALYZE users")
        return int(await connection.fetchval("SELECT coalesce(max(id), 0) FROM users"))

    return int(_run(seed, url))


def execute(url: URL, statement: str) -> None:
    """One statement in its own session, outside a transaction (VACUUM needs that)."""
    _run(lambda c: c.execute(statement), url)


def fetch_value(url: URL, query: str) -> Any:
    """The first column of the first row of `query`, in a session of its own."""
    return _run(lambda c: c.fetchval(query), url)


def sessions_opened(url: URL) -> int:
    """Sessions ever opened on this database (PostgreSQL 14+), this one included."""

    async def query(connection: asyncpg.Connection) -> int:
        return int(
            await connection.fetchval(
                "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
            )
        )

    return int(_run(query, url))

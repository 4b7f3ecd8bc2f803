"""Throwaway resources on this machine, for the tests and the benchmarks alike.

- Databases on a PostgreSQL server the caller may create databases on: each named
  `<prefix>_<pid>_<random>_<purpose>`, so runs sharing a server (CI, a developer's suite, a
  benchmark) never touch each other's, and each dropped on the way out, failures included.
- Free TCP ports on loopback, for servers a test or a benchmark starts.
"""

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import asyncpg
from sqlalchemy.engine import URL, make_url

from app.db import connect, quote_identifier

# Any database on the server the suite may use; the suite only creates and drops its own.
SERVER_URL_SETTING = "TEST_POSTGRES_URL"
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def server_url(setting: str = SERVER_URL_SETTING) -> URL:
    """The server named by the environment variable `setting`, or the local default."""
    return make_url(os.environ.get(setting, DEFAULT_SERVER_URL))


def dsn(url: URL) -> str:
    """The libpq spelling of `url`, password included: for DATABASE_URL of child processes,
    psql and pg_dump."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def connect_to(url: URL) -> asyncpg.Connection:
    """A plain asyncpg connection to `url`, in autocommit mode (asyncpg's default)."""
    return await connect(url, connect_timeout=5)


class Server:
    """A PostgreSQL server to make throwaway databases on."""

    def __init__(self, url: URL, prefix: str) -> None:
        self.url = url
        # One run's databases share this prefix.
        self.run_prefix = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"

    def database_url(self, name: str) -> URL:
        return self.url.set(drivername="postgresql+asyncpg", database=name)

    def new_database_name(self, purpose: str) -> str:
        return f"{self.run_prefix}_{purpose}_{secrets.token_hex(2)}"[:63]

    async def problem(self) -> str | None:
        """None if the server answers, else one line saying why not."""
        try:
            connection = await connect_to(self.url)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            return f"{type(exc).__name__}: {exc}".splitlines()[0]
        await connection.close()
        return None

    async def create_database(self, name: str, *, template: str | None = None) -> URL:
        """A new empty database, or a copy of `template` (which nobody may be connected to)."""
        clause = f" TEMPLATE {quote_identifier(template)}" if template else ""
        await self._run(f"CREATE DATABASE {quote_identifier(name)}{clause}")
        return self.database_url(name)

    async def drop_database(self, name: str) -> None:
        # FORCE (PG 13+) ends connections a failed run left open, so the drop cannot hang.
        await self._run(f"DROP DATABASE IF EXISTS {quote_identifier(name)} WITH (FORCE)")

    @asynccontextmanager
    async def temporary_database(
        self, purpose: str, *, template: str | None = None
    ) -> AsyncIterator[URL]:
        name = self.new_database_name(purpose)
        url = await self.create_database(name, template=template)
        try:
            yield url
        finally:
            await self.drop_database(name)

    @contextmanager
    def temporary_database_sync(
        self, purpose: str, *, template: str | None = None
    ) -> Iterator[URL]:
        """The same, for programs without an event loop of their own (the benchmarks)."""
        name = self.new_database_name(purpose)
        url = asyncio.run(self.create_database(name, template=template))
        try:
            yield url
        finally:
            asyncio.run(self.drop_database(name))

    async def _run(self, statement: str) -> None:
        connection = await connect_to(self.url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port

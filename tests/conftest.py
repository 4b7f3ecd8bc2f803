"""The suite's database fixtures. Everything runs against a real PostgreSQL.

- `migrated_template`: one database per run, migrated to head by the real revisions (never
  `create_all`). Other databases are cloned from it with CREATE DATABASE ... TEMPLATE, which
  copies files instead of replaying migrations.
- `connection`: a connection into a clone, inside a transaction that is rolled back after each
  test; the app and the test's own sessions join it through savepoints.
- `client`: httpx through the ASGI app, lifespan included. Only `get_sessionmaker` is
  overridden, so requests run the app's real session dependency (commit included; the commit
  releases a savepoint).
- `fresh_database` / `committed_database`: for tests that need real commits or an empty schema.

All databases are dropped at the end of the run, also when tests fail.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from app.api.deps import get_read_sessionmaker, get_sessionmaker
from app.main import create_app
from tests.support import alembic, postgres
from tests.support.app import serve
from tests.support.settings import settings_for

DatabaseFactory = Callable[[], Awaitable[URL]]


@pytest.fixture(scope="session", autouse=True)
async def postgres_server() -> None:
    problem = await postgres.server_problem()
    if problem is not None:
        where = postgres.server_url().render_as_string(hide_password=True)
        pytest.exit(
            f"No PostgreSQL at {where} ({problem}). Start one (`docker compose up -d db`, "
            f"or install PostgreSQL) or point {postgres.SERVER_URL_SETTING} at one.",
            returncode=3,
        )


@pytest.fixture(scope="session")
async def migrated_template() -> AsyncIterator[str]:
    """Name of a database at head, to clone from. Nobody connects to it after migrating."""
    async with postgres.temporary_database("template") as url:
        await alembic.upgrade(url)
        assert url.database is not None
        yield url.database


@pytest.fixture(scope="session")
async def database_url(migrated_template: str) -> AsyncIterator[URL]:
    """The database the rolled-back tests share."""
    async with postgres.temporary_database("shared", template=migrated_template) as url:
        yield url


@pytest.fixture(scope="session")
async def engine(database_url: URL) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url, poolclass=NullPool)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


def _joining_sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    # create_savepoint: the session's begin/commit/rollback become SAVEPOINT / RELEASE /
    # ROLLBACK TO inside the test's transaction, which is itself rolled back at the end.
    return async_sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    async with _joining_sessionmaker(connection)() as session:
        yield session


@pytest.fixture
async def app(database_url: URL, connection: AsyncConnection) -> AsyncIterator[FastAPI]:
    app = create_app(settings_for(database_url))
    sessionmaker = _joining_sessionmaker(connection)
    app.dependency_overrides[get_sessionmaker] = lambda: sessionmaker
    app.dependency_overrides[get_read_sessionmaker] = lambda: sessionmaker
    async with LifespanManager(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def fresh_database() -> AsyncIterator[DatabaseFactory]:
    """Make empty databases (no tables, no alembic_version); all dropped after the test."""
    async with AsyncExitStack() as stack:

        async def make() -> URL:
            return await stack.enter_async_context(postgres.temporary_database("fresh"))

        yield make


@pytest.fixture
async def committed_database(migrated_template: str) -> AsyncIterator[URL]:
    """A private database at head, for tests whose writes must really commit."""
    async with postgres.temporary_database("commit", template=migrated_template) as url:
        yield url


@pytest.fixture
async def committing_client(committed_database: URL) -> AsyncIterator[httpx.AsyncClient]:
    """The app exactly as deployed (no overrides) on a private database."""
    async with serve(create_app(settings_for(committed_database))) as client:
        yield client

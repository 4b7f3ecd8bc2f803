"""The suite's database fixtures. Everything runs against a real PostgreSQL.

- `migrated_template`: one database per run, migrated to head by the real revisions (never
  `create_all`). Other databases are cloned from it with CREATE DATABASE ... TEMPLATE, which
  copies files instead of replaying migrations.
- `committed_database`: a private clone at head, for a test whose writes really commit.
- `committing_client`: the app exactly as deployed (nothing overridden) on such a clone.
- `fresh_database`: empty databases, for tests that run migrations themselves.
- The API tests' `client` is in tests/api/conftest.py: the same app, or a running server.

Each fixture asks for the test server first, so a run without one stops at once with the
reason; the API tests against a running server need no database at all. All databases are
dropped at the end of the run, also when tests fail.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import httpx
import pytest
from sqlalchemy.engine import URL

from app.main import create_app
from tests.support import alembic, postgres
from tests.support.app import serve
from tests.support.settings import settings_for

DatabaseFactory = Callable[[], Awaitable[URL]]


@pytest.fixture(scope="session")
async def postgres_server() -> None:
    problem = await postgres.server_problem()
    if problem is not None:
        where = postgres.SERVER.url.render_as_string(hide_password=True)
        pytest.exit(
            f"No PostgreSQL at {where} ({problem}). Start one (`docker compose up -d db`, "
            f"or install PostgreSQL) or point {postgres.SERVER_URL_SETTING} at one.",
            returncode=3,
        )


@pytest.fixture(scope="session")
async def migrated_template(postgres_server: None) -> AsyncIterator[str]:
    """Name of a database at head, to clone from. Nobody connects to it after migrating."""
    async with postgres.temporary_database("template") as url:
        await alembic.upgrade(url)
        assert url.database is not None
        yield url.database


@pytest.fixture
async def fresh_database(postgres_server: None) -> AsyncIterator[DatabaseFactory]:
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

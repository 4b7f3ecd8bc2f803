"""The API tests: black-box over HTTP, run one of two ways with the same tests.

- In-process (the default): the app exactly as deployed, no dependency overridden, served
  through httpx's ASGI transport on a database of its own at head. Writes really commit.
- Against a running server: `API_BASE_URL=http://<host>:<port> pytest tests/api`. The release
  gate runs a release's API tests this way, against that release's code serving a newer schema.

So a test here uses nothing but `client` (and `token`): no database session, no fixture that
knows the schema, and only data it made itself, under names no other test or run shares. The
database may hold any other rows: those of earlier tests, of another release, of a seed.
"""

import os
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from app.main import create_app
from tests.support import postgres
from tests.support.app import serve
from tests.support.settings import settings_for

BASE_URL_SETTING = "API_BASE_URL"


@pytest.fixture(scope="session")
def template_for_the_app(request: pytest.FixtureRequest) -> str | None:
    """The database to clone for the in-process app; None when a running server is tested, so
    that those runs need no PostgreSQL of their own."""
    if os.environ.get(BASE_URL_SETTING):
        return None
    template: str = request.getfixturevalue("migrated_template")
    return template


@pytest.fixture(scope="session")
async def client(template_for_the_app: str | None) -> AsyncIterator[httpx.AsyncClient]:
    if template_for_the_app is None:
        async with httpx.AsyncClient(base_url=os.environ[BASE_URL_SETTING], timeout=30) as remote:
            yield remote
        return
    async with (
        postgres.temporary_database("api", template=template_for_the_app) as url,
        serve(create_app(settings_for(url))) as in_process,
    ):
        yield in_process


@pytest.fixture
def token() -> str:
    """A string no other test, run or release has used: for emails and names."""
    return secrets.token_hex(5)

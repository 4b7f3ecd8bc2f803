"""What a database restart costs the app: with pool_pre_ping off (the default), one 503 per
pooled connection, then fresh connections; with it on, nothing, at three round trips a request.
"""

import asyncio

import pytest
from sqlalchemy.engine import URL

from app.main import create_app
from tests.support import postgres
from tests.support.app import serve
from tests.support.settings import settings_for

APP_CONNECTIONS = "FROM pg_stat_activity WHERE datname = $1 AND application_name = 'app'"


async def drop_app_connections(url: URL) -> None:
    """What a restart or failover does to the app's pooled connections."""
    await postgres.fetchval(
        url, f"SELECT count(pg_terminate_backend(pid)) {APP_CONNECTIONS}", url.database
    )
    for _ in range(100):
        if await postgres.fetchval(url, f"SELECT count(*) {APP_CONNECTIONS}", url.database) == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the app's connections outlived pg_terminate_backend")


@pytest.mark.parametrize(
    ("pre_ping", "expected"), [(False, [503, 404, 404]), (True, [404, 404, 404])]
)
async def test_after_the_database_drops_every_connection_the_app_recovers(
    committed_database: URL, pre_ping: bool, expected: list[int]
) -> None:
    app = create_app(settings_for(committed_database, pool_pre_ping=pre_ping))
    async with serve(app) as client:
        assert (await client.get("/users/1")).status_code == 404  # a pooled connection
        await drop_app_connections(committed_database)

        statuses = [(await client.get("/users/1")).status_code for _ in range(3)]

    # The first error invalidates the whole pool; nothing needs a restart.
    assert statuses == expected

"""Liveness never depends on the database; readiness does, on its reachability and its schema."""

import logging

import httpx
import pytest
from sqlalchemy.engine import URL

from app.main import create_app
from tests.conftest import DatabaseFactory
from tests.support import postgres
from tests.support.alembic import HEAD
from tests.support.app import serve, serve_with_state
from tests.support.processes import entrypoint
from tests.support.proxy import Proxy
from tests.support.settings import settings_for
from tests.support.throwaway import free_port


async def test_ready_names_the_revision_the_database_has(committed_database: URL) -> None:
    async with serve(create_app(settings_for(committed_database))) as client:
        ready = await client.get("/health/ready")

    assert ready.json() == {
        "status": "ok",
        "reason": None,
        "database_revision": HEAD,
        "required_revision": HEAD,
    }


async def test_without_a_database_live_is_200_ready_503_and_requests_503(
    caplog: pytest.LogCaptureFixture,
) -> None:
    nowhere = postgres.database_url("nowhere").set(host="127.0.0.1", port=free_port())
    async with serve(create_app(settings_for(nowhere))) as client:
        live = await client.get("/health/live")
        with caplog.at_level(logging.WARNING, logger="app.api.health"):
            ready = await client.get("/health/ready")
        request = await client.get("/users/1")

    assert live.status_code == 200
    assert ready.status_code == 503
    # The public body says what, the log says why: the driver's message names the host, the
    # port and, when a login fails, the role.
    assert ready.json() == {
        "status": "unavailable",
        "reason": "database unreachable",
        "database_revision": None,
        "required_revision": None,
    }
    assert str(nowhere.port) not in ready.text
    assert "database unreachable" in caplog.text
    assert "refused" in caplog.text.lower()
    assert str(nowhere.port) in caplog.text
    # A database outage is not the client's fault and not a bug: 503, retry later.
    assert request.status_code == 503
    assert request.json() == {"detail": "The database is unavailable; try again shortly."}
    assert request.headers["retry-after"] == "5"


async def test_not_ready_on_an_empty_database(fresh_database: DatabaseFactory) -> None:
    async with serve(create_app(settings_for(await fresh_database()))) as client:
        response = await client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["reason"].startswith("the database has no migrations applied")


async def test_ready_when_a_newer_release_already_migrated(committed_database: URL) -> None:
    """Release N-1 keeps serving after release N's revisions ran: unknown revision = newer."""
    url, newer = committed_database, "9999_from_a_newer_release"
    await postgres.execute(url, f"UPDATE alembic_version SET version_num = '{newer}'")

    async with serve(create_app(settings_for(url))) as client:
        response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["database_revision"] == newer


async def test_ready_while_every_request_connection_is_busy(committed_database: URL) -> None:
    """A replica under load is still ready: the probe has a connection of its own."""
    app = create_app(settings_for(committed_database, pool_size=1, pool_timeout_seconds=30))
    async with serve_with_state(app) as (client, state), state["sessionmaker"]() as busy:
        await busy.connection()  # the request pool's only connection, checked out
        response = await client.get("/health/ready")

    assert response.status_code == 200


def test_an_unknown_minimum_is_refused_at_startup() -> None:
    with pytest.raises(ValueError, match="SCHEMA_MIN_REVISION 'nope' is not a known revision"):
        create_app(settings_for(postgres.database_url("x"), schema_min_revision="nope"))


async def test_readiness_follows_the_database_away_and_back(
    fresh_database: DatabaseFactory,
) -> None:
    """The database goes away under a running server (a failover, a network cut): readiness
    says so, liveness does not, and both recover without a restart."""
    url = await fresh_database()
    target = postgres.SERVER.url
    proxy = Proxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.start()
    through_proxy = url.set(host="127.0.0.1", port=proxy.port)

    try:
        with entrypoint(through_proxy) as server:
            async with httpx.AsyncClient(base_url=server.base_url) as client:
                await server.wait_until_ready(client)

                await proxy.cut()
                away = await client.get("/health/ready")
                live_while_away = await client.get("/health/live")
                await proxy.start()
                await server.wait_until_ready(client)
                back = await client.get("/health/ready")

            assert server.returncode is None  # the same process throughout: no restart
    finally:
        await proxy.cut()

    assert away.status_code == 503
    assert away.json()["reason"].startswith("database unreachable")
    assert live_while_away.status_code == 200
    assert back.status_code == 200

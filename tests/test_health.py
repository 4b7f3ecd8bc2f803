"""Liveness never depends on the database; readiness does, on its reachability and its schema."""

import socket

import httpx
import pytest
from sqlalchemy.engine import URL

from app.main import create_app
from tests.conftest import DatabaseFactory
from tests.support import postgres
from tests.support.alembic import HEAD
from tests.support.app import serve
from tests.support.settings import settings_for


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_live_and_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    live = await client.get("/health/live")
    ready = await client.get("/health/ready")

    assert (live.status_code, live.json()["status"]) == (200, "ok")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "reason": None,
        "database_revision": HEAD,
        "required_revision": HEAD,
    }


async def test_without_a_database_live_is_200_ready_503_and_requests_503() -> None:
    nowhere = postgres.database_url("nowhere").set(host="127.0.0.1", port=unused_port())
    async with serve(create_app(settings_for(nowhere))) as client:
        live = await client.get("/health/live")
        ready = await client.get("/health/ready")
        request = await client.get("/users/1")

    assert live.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["reason"].startswith("database unreachable: ")
    assert "refused" in ready.json()["reason"].lower()
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
    url = committed_database
    await postgres.execute(url, "UPDATE alembic_version SET version_num = '0011_from_the_future'")

    async with serve(create_app(settings_for(url))) as client:
        response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["database_revision"] == "0011_from_the_future"


async def test_ready_while_every_request_connection_is_busy(committed_database: URL) -> None:
    """A replica under load is still ready: the probe has a connection of its own."""
    app = create_app(settings_for(committed_database, pool_size=1, pool_timeout_seconds=30))
    async with serve(app) as client, app.state.sessionmaker() as busy:
        await busy.connection()  # the request pool's only connection, checked out
        response = await client.get("/health/ready")

    assert response.status_code == 200


def test_an_unknown_minimum_is_refused_at_startup() -> None:
    with pytest.raises(ValueError, match="SCHEMA_MIN_REVISION 'nope' is not a known revision"):
        create_app(settings_for(postgres.database_url("x"), schema_min_revision="nope"))

"""Liveness never depends on the database; readiness always does, and says why it fails."""

import socket

import httpx
from asgi_lifespan import LifespanManager

from app.main import create_app
from tests.support import postgres
from tests.support.settings import settings_for


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def unreachable_settings_url() -> object:
    return postgres.database_url("nowhere").set(host="127.0.0.1", port=unused_port())


async def test_live_and_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    live = await client.get("/health/live")
    ready = await client.get("/health/ready")

    assert (live.status_code, live.json()["status"]) == (200, "ok")
    assert (ready.status_code, ready.json()["status"]) == (200, "ok")


async def test_without_a_database_live_is_200_ready_503_and_requests_503() -> None:
    app = create_app(settings_for(unreachable_settings_url()))  # type: ignore[arg-type]
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
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

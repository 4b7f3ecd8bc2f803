"""Liveness and readiness as a probe sees them, on a database the code can serve."""

import httpx

from tests.support.alembic import HEAD


async def test_live_and_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    live = await client.get("/health/live")
    ready = await client.get("/health/ready")

    assert (live.status_code, live.json()["status"]) == (200, "ok")
    assert ready.status_code == 200
    body = ready.json()
    assert (body["status"], body["reason"]) == ("ok", None)
    # What this code needs; the database may be at it or, during a rolling deploy, past it.
    assert body["required_revision"] == HEAD
    assert body["database_revision"]

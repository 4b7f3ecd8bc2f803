"""A change or delete that meets another one on the same row answers 2xx or 404, never a 500,
and answers with the row as it is stored.

Each test holds the other writer's transaction open on a plain connection, starts the request,
waits until PostgreSQL shows the request waiting for that transaction's row lock, then commits:
the moment at which a read-then-write handler would act on a row that changed under it.
tests/api/test_users.py races real requests against each other as well, without the lock.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import URL

from app.main import create_app
from tests.support import postgres
from tests.support.app import serve
from tests.support.settings import settings_for
from tests.support.waiting import eventually

Request = Callable[[httpx.AsyncClient, str], Coroutine[Any, Any, httpx.Response]]


@pytest.fixture
async def client(committed_database: URL) -> AsyncIterator[httpx.AsyncClient]:
    # raise_app_exceptions=False: a bug is seen as the 500 a client would get.
    app = create_app(settings_for(committed_database))
    async with serve(app, raise_app_exceptions=False) as client:
        yield client


async def create(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    response = await client.post("/users", json={"email": f"{name}@example.com", "full_name": name})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def waiting_for_a_lock(url: URL) -> bool:
    waiting = await postgres.fetchval(
        url,
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE application_name = 'app' AND wait_event_type = 'Lock'",
    )
    return waiting == 1


async def while_another_writer_commits(
    url: URL, client: httpx.AsyncClient, statement: str, user_id: int, request: Request
) -> httpx.Response:
    """`request` at /users/<user_id> while another transaction has run `statement` on that
    row; that transaction commits once the request waits for it."""
    other = await postgres.connect_to(url)
    try:
        transaction = other.transaction()
        await transaction.start()
        await other.execute(statement, user_id)
        answer = asyncio.create_task(request(client, f"/users/{user_id}"))
        try:
            await eventually(lambda: waiting_for_a_lock(url), "the request to wait for the row")
        finally:
            await transaction.commit()
        return await asyncio.wait_for(answer, 30)
    finally:
        await other.close()


async def patch_name(client: httpx.AsyncClient, path: str) -> httpx.Response:
    return await client.patch(path, json={"full_name": "Renamed"})


async def delete(client: httpx.AsyncClient, path: str) -> httpx.Response:
    return await client.delete(path)


@pytest.mark.parametrize("request_", [patch_name, delete], ids=["patch", "delete"])
async def test_a_change_of_a_row_deleted_meanwhile_is_404(
    client: httpx.AsyncClient, committed_database: URL, request_: Request
) -> None:
    user = await create(client, "gone")

    response = await while_another_writer_commits(
        committed_database, client, "DELETE FROM users WHERE id = $1", user["id"], request_
    )

    assert response.status_code == 404, response.text
    assert response.json() == {"detail": f"User {user['id']} does not exist."}


async def test_a_patch_answers_with_what_another_patch_committed_meanwhile(
    client: httpx.AsyncClient, committed_database: URL
) -> None:
    user = await create(client, "both")

    response = await while_another_writer_commits(
        committed_database,
        client,
        "UPDATE users SET role = 'admin' WHERE id = $1",
        user["id"],
        patch_name,
    )

    stored = await postgres.fetchval(
        committed_database,
        "SELECT row(full_name, role)::text FROM users WHERE id = $1",
        user["id"],
    )
    assert response.status_code == 200
    assert (response.json()["full_name"], response.json()["role"]) == ("Renamed", "admin")
    assert stored == "(Renamed,admin)"


async def test_the_lock_wait_is_seen_by_the_helper(committed_database: URL) -> None:
    """The tests above are only as good as `waiting_for_a_lock`: it must see a real wait."""
    holder = await postgres.connect_to(committed_database)
    waiter = await postgres.connect_to(committed_database)
    try:
        await holder.execute("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        await waiter.execute("SET application_name = 'app'")
        blocked = asyncio.create_task(waiter.execute("SELECT count(*) FROM users"))
        await eventually(lambda: waiting_for_a_lock(committed_database), "a lock wait")
        await holder.execute("COMMIT")
        await blocked
    finally:
        for connection in (holder, waiter):
            await connection.close()
    assert not await waiting_for_a_lock(committed_database)

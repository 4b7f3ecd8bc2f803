"""The session dependency commits before the response is sent, and a failed commit is an error.

These tests use real commits on a private database (no savepoint wrapper), because what they
check is exactly what happens at COMMIT.
"""

from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import get_session
from app.main import create_app
from app.models import User
from tests.support import postgres
from tests.support.alembic import run_tool
from tests.support.app import serve, serve_with_state
from tests.support.paths import ROOT
from tests.support.settings import settings_for

REJECTED_DOMAIN = "reject-at-commit.example"

# A deferred constraint trigger runs at COMMIT, not at INSERT: the INSERT and the flush succeed
# and only the commit fails, with the SQLSTATE of a unique clash found at commit time.
REJECT_AT_COMMIT = (
    """
    CREATE FUNCTION reject_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE unique_violation
            USING DETAIL = format('Key (email)=(%s) already exists.', NEW.email);
    END $$
    """,
    f"""
    CREATE CONSTRAINT TRIGGER reject_at_commit AFTER INSERT ON users
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (NEW.email LIKE '%@{REJECTED_DOMAIN}')
        EXECUTE FUNCTION reject_at_commit()
    """,
)


@pytest.fixture
async def rejecting_database(committed_database: URL) -> URL:
    await postgres.execute(committed_database, *REJECT_AT_COMMIT)
    return committed_database


async def count_users(url: URL, email: str) -> object:
    return await postgres.fetchval(url, "SELECT count(*) FROM users WHERE email = $1", email)


async def post_user(
    app: FastAPI, path: str, email: str, *, raise_app_exceptions: bool = True
) -> httpx.Response:
    async with serve(app, raise_app_exceptions=raise_app_exceptions) as client:
        return await client.post(path, json={"email": email, "full_name": "Lee"})


async def test_a_write_is_committed_before_the_201(
    committing_client: httpx.AsyncClient, committed_database: URL
) -> None:
    response = await committing_client.post(
        "/users", json={"email": "kim@example.com", "full_name": "Kim"}
    )

    assert response.status_code == 201
    # Read back through another pooled connection, and from another session: both see only
    # committed rows.
    assert (await committing_client.get(f"/users/{response.json()['id']}")).status_code == 200
    assert await count_users(committed_database, "kim@example.com") == 1


async def test_a_commit_that_fails_is_an_error_response_not_a_2xx(
    rejecting_database: URL,
) -> None:
    email = f"lee@{REJECTED_DOMAIN}"

    response = await post_user(create_app(settings_for(rejecting_database)), "/users", email)

    assert response.status_code == 409
    # The trigger's clash names no constraint: the answer says only that it clashed.
    assert response.json() == {"detail": "Conflict: the change clashes with existing data."}
    assert await count_users(rejecting_database, email) == 0


async def test_fastapi_default_scope_would_answer_before_the_commit(
    rejecting_database: URL,
) -> None:
    """Why SessionDep says scope="function".

    With FastAPI's default ("request") scope the code after `yield` runs after the response is
    sent, so the same failing commit reaches the client as a 201 for a row that does not exist.
    If FastAPI changes that default, this test fails and app/db.py's comment needs revisiting.
    """
    email = f"max@{REJECTED_DOMAIN}"
    app = create_app(settings_for(rejecting_database))

    @app.post("/naive-users", status_code=201)
    async def naive_create(
        session: Annotated[AsyncSession, Depends(get_session)],
    ) -> dict[str, str]:
        session.add(User(email=email, full_name="Max"))
        await session.flush()
        return {"status": "created"}

    # The commit's error surfaces after the response started: nothing can turn it into an
    # error response any more, the server can only log it.
    response = await post_user(app, "/naive-users", email, raise_app_exceptions=False)

    assert response.status_code == 201
    assert await count_users(rejecting_database, email) == 0


async def test_reads_run_without_a_transaction(committed_database: URL) -> None:
    """GET requests use the read sessionmaker: each statement commits on its own, so two
    statements see two clocks (in one transaction, now() would repeat the first)."""
    app = create_app(settings_for(committed_database))
    async with serve_with_state(app) as (_, state):
        async with state["read_sessionmaker"]() as session:
            first = await session.scalar(text("SELECT now()"))
            await session.execute(text("SELECT pg_sleep(0.01)"))
            second = await session.scalar(text("SELECT now()"))
        async with state["sessionmaker"]() as session:
            third = await session.scalar(text("SELECT now()"))
            await session.execute(text("SELECT pg_sleep(0.01)"))
            fourth = await session.scalar(text("SELECT now()"))

    assert first != second
    assert third == fourth


def test_a_write_through_the_read_session_is_a_type_error(tmp_path: Path) -> None:
    """ReadSessionDep hands out `app.db.ReadSession`: mypy refuses a write through it."""
    handler = tmp_path / "handler.py"
    handler.write_text(
        "from app.db import ReadSession\n"
        "from app.models import User\n\n\n"
        "async def handler(session: ReadSession) -> None:\n"
        "    session.add(User(email='a@example.com', full_name='A'))\n"
        "    await session.flush()\n"
        "    await session.commit()\n"
    )

    result = run_tool("mypy", "--strict", str(handler), PYTHONPATH=str(ROOT))

    assert result.returncode == 1, result.stdout
    for method in ("add", "flush", "commit"):
        assert f'"ReadSession" has no attribute "{method}"' in result.stdout

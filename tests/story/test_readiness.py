"""Readiness during a rolling deploy, on a database one release behind the code.

The story gives these tests what a project with a single revision lacks: a revision older than
the head (0007, release 6's schema, while the code is release 9's).
"""

from app.main import create_app
from tests.conftest import DatabaseFactory
from tests.support import alembic
from tests.support.alembic import HEAD
from tests.support.app import serve
from tests.support.settings import settings_for


async def test_not_ready_until_the_migrations_ran(fresh_database: DatabaseFactory) -> None:
    url = await fresh_database()
    await alembic.upgrade(url, "0007_drop_user_name")

    async with serve(create_app(settings_for(url))) as client:
        behind = await client.get("/health/ready")
        await alembic.upgrade(url)
        caught_up = await client.get("/health/ready")

    assert behind.status_code == 503
    assert behind.json()["reason"] == (
        f"the database schema is at 0007_drop_user_name; this code needs {HEAD}: "
        "run alembic upgrade head"
    )
    assert behind.json()["database_revision"] == "0007_drop_user_name"
    assert caught_up.status_code == 200


async def test_a_documented_minimum_lets_code_serve_an_older_schema(
    fresh_database: DatabaseFactory,
) -> None:
    url = await fresh_database()
    await alembic.upgrade(url, "0007_drop_user_name")
    settings = settings_for(url, schema_min_revision="0007_drop_user_name")

    async with serve(create_app(settings)) as client:
        response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["required_revision"] == "0007_drop_user_name"

"""The limit: the same three endpoints as bare Starlette on an asyncpg pool.

    uvicorn --factory bench.limit_app:create_app   (bench/api.py starts it like the app)

No FastAPI, no ORM, no pydantic, no transaction around reads: one query on a pooled connection
and a JSON answer. Whatever our app adds on top of this is what bench/api.py measures. It reads
DATABASE_URL and the pool size from the app's own settings, so both servers get the same pool.
tests/test_bench.py checks that it answers what the app answers.
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.settings import Settings, get_settings
from bench.users import CREATE_COLUMNS, READ_COLUMNS

_SELECT = f"SELECT {', '.join(READ_COLUMNS)} FROM users"  # noqa: S608 - constant columns
GET_SQL = f"{_SELECT} WHERE id = $1"
LIST_SQL = f"{_SELECT} WHERE id > $1 ORDER BY id LIMIT $2"
CREATE_SQL = (
    f"INSERT INTO users ({', '.join(CREATE_COLUMNS)}) "  # noqa: S608 - constant columns
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(CREATE_COLUMNS) + 1))}) "
    f"RETURNING {', '.join(READ_COLUMNS)}"
)


def _json(row: asyncpg.Record) -> dict[str, Any]:
    # Timestamps spelled as pydantic spells them, so both servers send the same bytes.
    return {
        key: value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value
        for key, value in row.items()
    }


async def get_user(request: Request) -> Response:
    row = await _pool(request).fetchrow(GET_SQL, request.path_params["user_id"])
    if row is None:
        return JSONResponse({"detail": "not found"}, status_code=404)
    return JSONResponse(_json(row))


async def list_users(request: Request) -> Response:
    limit = int(request.query_params.get("limit", "20"))
    after_id = int(request.query_params.get("after_id", "0"))
    rows = await _pool(request).fetch(LIST_SQL, after_id, limit + 1)
    items = [_json(row) for row in rows[:limit]]
    next_after_id = items[-1]["id"] if len(rows) > limit else None
    return JSONResponse({"items": items, "next_after_id": next_after_id})


async def create_user(request: Request) -> Response:
    body = json.loads(await request.body())
    row = await _pool(request).fetchrow(CREATE_SQL, *(body[column] for column in CREATE_COLUMNS))
    assert row is not None  # INSERT ... RETURNING always returns the row
    return JSONResponse(_json(row), status_code=201)


async def ready(request: Request) -> Response:
    await _pool(request).fetchval("SELECT 1")
    return JSONResponse({"status": "ok"})


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    url = settings.database_url
    async with asyncpg.create_pool(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
        min_size=1,
        # The app's pool may grow to pool_size + overflow connections; so may this one.
        max_size=settings.pool_size + settings.pool_max_overflow,
    ) as pool:
        app.state.pool = pool
        yield


def create_app(settings: Settings | None = None) -> Starlette:
    app = Starlette(
        lifespan=lifespan,
        routes=[
            Route("/users/{user_id:int}", get_user),
            Route("/users", list_users, methods=["GET"]),
            Route("/users", create_user, methods=["POST"]),
            Route("/health/ready", ready),
        ],
    )
    app.state.settings = settings or get_settings()
    return app

"""The app as deployed, served in-process through httpx's ASGI transport, lifespan included."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from app.state import State


@asynccontextmanager
async def serve_with_state(
    app: FastAPI, *, raise_app_exceptions: bool = True
) -> AsyncIterator[tuple[httpx.AsyncClient, State]]:
    """A client of `app`, and the state its lifespan made (its sessionmakers and engines)."""
    state: dict[str, Any] = {}

    async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
        # What uvicorn does: the lifespan fills one mapping, each request gets a copy of it.
        own = state if scope["type"] == "lifespan" else dict(state)
        await app({**scope, "state": own}, receive, send)

    async with LifespanManager(with_state):
        transport = httpx.ASGITransport(app=with_state, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, cast(State, state)


@asynccontextmanager
async def serve(
    app: FastAPI, *, raise_app_exceptions: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_with_state(app, raise_app_exceptions=raise_app_exceptions) as (client, _):
        yield client

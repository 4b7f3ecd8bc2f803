"""The request path stays on the event loop: no endpoint or dependency runs in a worker thread.

FastAPI runs a plain `def` endpoint or dependency in its threadpool, a thread hop on every
request that costs more CPU than the rest of the dependency work together.
"""

import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from app.main import create_app


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        # FastAPI 0.16x keeps an included router behind a wrapper that holds the original.
        elif (included := getattr(route, "original_router", None)) is not None:
            yield from api_routes(included.routes)


def calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from calls(sub)


def test_every_endpoint_and_dependency_is_async() -> None:
    routes = list(api_routes(create_app().routes))
    assert {route.path for route in routes} >= {"/users/{user_id}", "/health/ready"}

    blocking = {
        f"{route.path}: {call.__qualname__}"
        for route in routes
        for call in calls(route.dependant)
        if not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call))
    }

    assert not blocking, "these run in the threadpool on every request"

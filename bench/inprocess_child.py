"""One in-process run of bench.inprocess: GET /users/<id> through the ASGI app, CPU per request.

    python bench/inprocess_child.py REQUESTS ROWS     # with PYTHONPATH=<the tree under test>

Run as a script, with the tree under test first on the import path, so that an older tree
(one without this file) can be measured too. Prints one JSON line.
"""

import json
import sys
import time
from collections.abc import Mapping, MutableMapping
from typing import Any

import uvloop
from starlette.types import ASGIApp

from app.main import create_app

WARM_UP = 300


async def get(app: ASGIApp, path: str, state: Mapping[str, Any]) -> None:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        # What a server hands each request: a copy of what the lifespan yielded.
        "state": dict(state),
    }
    statuses = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    if statuses != [200]:
        sys.exit(f"GET {path} answered {statuses}")


async def main(requests: int, rows: int) -> None:
    app = create_app()
    async with app.router.lifespan_context(app) as state:
        # Trees from before the typed lifespan state yield nothing.
        state = state or {}
        for i in range(WARM_UP):
            await get(app, f"/users/{1 + i % rows}", state)
        started = time.process_time()
        for i in range(requests):
            await get(app, f"/users/{1 + i % rows}", state)
        print(json.dumps({"cpu_us_per_request": (time.process_time() - started) * 1e6 / requests}))


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1]), int(sys.argv[2])))

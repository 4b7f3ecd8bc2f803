"""The live release's traffic during a migration: reads and writes at a fixed rate, open loop.

Each request is what one API request of the live release does to the database, issued with that
release's view of the table (tests/story/releases.py, the views the compatibility tests use):

- get:    GET /users/{id}, a SELECT of the columns the release maps, by primary key;
- update: PATCH /users/{id}, that SELECT, then an UPDATE of the name column(s) it writes;
- insert: POST /users, an INSERT of the columns it writes, RETURNING the new id.

Each runs in a transaction of its own on a pool made by the app's own `app.db.create_engine`,
so it has the app's limits: `pool_size` connections and no overflow, `pool_timeout_seconds` to
get one (the app then answers 503), `db_statement_timeout_ms` per statement (the app then
answers 500). A request that ends in any error counts as failed.

Open loop: request n is due at n / rate seconds, whether or not earlier ones have finished, as
requests from many clients keep arriving while some are stuck. Its latency runs from when it
was due to when it finished, so it includes the wait for a pooled connection. A closed-loop
generator (wrk, a fixed set of workers) would stop sending while its workers wait behind a
lock and so report less waiting than real traffic meets ("coordinated omission").

The sequence of requests (kind and user id) comes from a seeded generator, so two runs with the
same seed send the same requests at the same moments.
"""

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tests.story.releases import Release

# Share of each kind of request; a service reads more than it writes.
MIX = {"get": 0.6, "update": 0.3, "insert": 0.1}

STATEMENT_TIMEOUT = "57014"  # query_canceled: statement_timeout expired


@dataclass(frozen=True)
class Sample:
    """One request: what it was, when it was due, how long it took, and how it ended."""

    kind: str
    release: int
    due: float  # seconds on the run's clock
    latency: float  # seconds from due to finished (or failed)
    error: str | None  # None: it succeeded


Operation = Callable[[Release, AsyncConnection, int, str], Awaitable[None]]


async def _get(release: Release, connection: AsyncConnection, user_id: int, token: str) -> None:
    await release.read(connection, user_id)


async def _update(release: Release, connection: AsyncConnection, user_id: int, token: str) -> None:
    # The ORM loads the row, then flushes the change: two statements in one transaction.
    await release.read(connection, user_id)
    await release.update(connection, user_id, f"Load User {token}")


async def _insert(release: Release, connection: AsyncConnection, user_id: int, token: str) -> None:
    await release.insert(connection, f"load-{token}@example.com", f"Load User {token}")


OPERATIONS: dict[str, Operation] = {"get": _get, "update": _update, "insert": _insert}


def describe(exc: Exception) -> str:
    """A short name for a failure, the same for every request that failed the same way."""
    if isinstance(exc, PoolTimeoutError):
        return "pool timeout"
    if isinstance(exc, DBAPIError):
        state = getattr(exc.orig, "sqlstate", None)
        if state == STATEMENT_TIMEOUT:
            return "statement timeout"
        if state:
            return f"SQLSTATE {state}"
    first_line = (str(exc).strip().splitlines() or [""])[0][:80]
    return f"{type(exc).__name__}: {first_line}".rstrip(": ")


class StoryLoad:
    """Sends `rate` requests a second as `live` (a release, switchable at any time) sends them."""

    def __init__(
        self,
        engine: AsyncEngine,
        live: Release,
        *,
        rate: float,
        max_id: int,
        seed: int,
        started: float,
    ) -> None:
        self.engine = engine
        self.live = live
        self.rate = rate
        self.max_id = max_id
        self.random = random.Random(seed)  # noqa: S311 - a reproducible mix, not a secret
        self.started = started  # time.monotonic() at the run's second 0
        self.samples: list[Sample] = []
        self._in_flight: set[asyncio.Task[None]] = set()
        self._dispatcher: asyncio.Task[None] | None = None

    def clock(self) -> float:
        return time.monotonic() - self.started

    def start(self) -> None:
        self._dispatcher = asyncio.create_task(self._dispatch())

    async def stop(self) -> list[Sample]:
        """Send no more requests; wait for those in flight (bounded by the app's timeouts)."""
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
        await asyncio.gather(*self._in_flight)
        return sorted(self.samples, key=lambda sample: sample.due)

    async def _dispatch(self) -> None:
        kinds, weights = list(MIX), list(MIX.values())
        first_due = self.clock()
        for n in itertools.count():
            due = first_due + n / self.rate
            delay = due - self.clock()
            if delay > 0:
                await asyncio.sleep(delay)
            # Drawn here, in order, so the sequence depends on the seed alone.
            kind = self.random.choices(kinds, weights)[0]
            user_id = self.random.randint(1, self.max_id)
            task = asyncio.create_task(self._request(kind, user_id, str(n), due))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _request(self, kind: str, user_id: int, token: str, due: float) -> None:
        release = self.live
        error = None
        try:
            async with self.engine.begin() as connection:
                await OPERATIONS[kind](release, connection, user_id, token)
        except Exception as exc:  # every failure is a result to count, whatever it is
            error = describe(exc)
        self.samples.append(Sample(kind, release.number, due, self.clock() - due, error))

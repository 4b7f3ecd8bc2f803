"""The live release's queries while a migration runs: each gives up on a lock it waits for
longer than a bound, which no query should ever need to reach."""

import asyncio
import random
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg
from sqlalchemy.engine import URL

from tests.support import postgres


@dataclass
class Traffic:
    answered: int = 0
    gave_up: list[str] = field(default_factory=list)
    slowest_seconds: float = 0.0


@asynccontextmanager
async def live_traffic(
    url: URL,
    statements: Sequence[str],
    *,
    keys: int,
    lock_timeout_ms: int,
    sessions: int = 1,
    pause_seconds: float = 0.0,
) -> AsyncIterator[Traffic]:
    """`sessions` connections, each running `statements` in turn (each takes a key, $1, drawn
    from 1..keys with a seeded generator) until the block ends, every lock wait bounded by
    `lock_timeout_ms`."""
    result, stop = Traffic(), asyncio.Event()

    async def session(seed: int) -> None:
        rng = random.Random(seed)
        connection = await postgres.connect_to(url)
        try:
            await connection.execute(f"SET lock_timeout = {lock_timeout_ms}")
            while not stop.is_set():
                key = rng.randint(1, keys)
                started = time.monotonic()
                try:
                    for statement in statements:
                        await connection.execute(statement, key)
                except asyncpg.LockNotAvailableError as exc:
                    result.gave_up.append(str(exc))
                else:
                    result.answered += 1
                result.slowest_seconds = max(result.slowest_seconds, time.monotonic() - started)
                await asyncio.sleep(pause_seconds)
        finally:
            await connection.close()

    tasks = [asyncio.create_task(session(seed)) for seed in range(sessions)]
    try:
        yield result
    finally:
        stop.set()
        await asyncio.gather(*tasks)

"""Waiting for something another process or session does, with a deadline instead of a hang."""

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

DEADLINE_SECONDS = 60.0


async def eventually(
    condition: Callable[[], bool] | Callable[[], Awaitable[bool]],
    what: str,
    deadline: float = DEADLINE_SECONDS,
) -> None:
    give_up = time.monotonic() + deadline
    while True:
        outcome = condition()
        if await outcome if inspect.isawaitable(outcome) else outcome:
            return
        assert time.monotonic() < give_up, f"waited {deadline:g}s for {what}"
        await asyncio.sleep(0.05)

"""An open-loop HTTP load: request n is due at n / rate seconds, whether or not earlier ones are
done, as requests from many clients keep arriving while some are stuck.

Each request's latency runs from when it was due to when it ended, so it includes any wait for
a connection. A closed loop (a fixed set of workers) would stop sending while its workers wait
and so report less waiting than real traffic meets ("coordinated omission"). The requests and
their mix come from tests/release/traffic.py and a seeded generator: two runs with the same seed
send the same kinds in the same order. Bounded: at most `limit` requests, each at most
`timeout` seconds.
"""

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass

import httpx

from tests.release import traffic


@dataclass(frozen=True)
class Sample:
    kind: str
    due: float  # seconds on the run's clock
    latency: float  # seconds from due to ended (or failed)
    failure: str | None  # None: it worked


class OpenLoop:
    def __init__(self, client: httpx.AsyncClient, rate: float, seed: int = 0) -> None:
        self.client, self.rate = client, rate
        self.rng = random.Random(seed)
        self.seen = traffic.Acknowledged()
        self.samples: list[Sample] = []
        self.started = time.monotonic()

    def clock(self) -> float:
        return time.monotonic() - self.started

    async def run(self, stop: asyncio.Event, limit: int) -> None:
        """Send requests at the rate until `stop` is set or `limit` were sent; then wait for
        those in flight."""
        kinds, weights = list(traffic.MIX), list(traffic.MIX.values())
        in_flight: set[asyncio.Task[None]] = set()
        for n in range(limit):
            due = n / self.rate
            if (wait := due - self.clock()) > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
            if stop.is_set():
                break
            kind = self.rng.choices(kinds, weights)[0]
            task = asyncio.create_task(self._one(kind, due, str(n)))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        await asyncio.gather(*in_flight)

    async def _one(self, kind: str, due: float, n: str) -> None:
        try:
            failure = await traffic.REQUESTS[kind](self.client, self.seen, self.rng, n)
        except httpx.HTTPError as exc:  # refused, reset, timed out: a client sees an error
            failure = type(exc).__name__
        self.samples.append(Sample(kind, due, self.clock() - due, failure))

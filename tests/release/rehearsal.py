"""The rehearsal: a rolling deploy of this tree over the previous release, on this machine.

    uv run python -m tests.release.rehearsal v1.4.0            # 3 replicas, about a minute

As Kubernetes rolls a Deployment with maxSurge 1 and maxUnavailable 0:

1. replicas of the previous release (built from git with its own locked dependencies) start
   through their own entrypoint.sh, the first one migrating a fresh database, behind HAProxy,
   which sends a replica traffic only while its readiness check (/health/ready) passes;
2. an open-loop load of reads and writes (tests/release/traffic.py) runs through HAProxy;
3. one replica at a time, a replica of this tree starts (the first one migrates, under the
   runner lock, while the old ones keep serving) and turns ready; only then is an old one
   drained (no new requests; those in flight finish), given a pre-stop pause, sent SIGTERM and
   waited for;
4. after the last old replica is gone, the load runs on, then every create the service
   acknowledged is read back through the new release.

It reports failed requests (target 0), the longest request, p99 before, during and after the
rollout, acknowledged rows against present ones (target: equal) and each step's timing, as text,
JSON and a plot of every request's latency over time, in --output. Exit status 0 when no request
failed and no row was lost, 1 otherwise, 2 when it cannot run. Everything it starts listens on
127.0.0.1 and is ended when it stops; the load is bounded in time and in count.
"""

import argparse
import asyncio
import json
import signal
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import httpx
from sqlalchemy.engine import URL

from tests.release import haproxy, report, traffic
from tests.release.load import OpenLoop
from tests.release.releases import Release, ReleaseError, checked_out, serving, this_tree
from tests.support.processes import Process
from tests.support.throwaway import Server, server_url

REQUEST_TIMEOUT_SECONDS = 10.0
# A replica's start, migrations included, and its shutdown: longer means the rehearsal stops.
READY_WITHIN_SECONDS = 120.0
STOP_WITHIN_SECONDS = 30.0


async def rehearse(
    old: Release,
    new: Release,
    url: URL,
    *,
    replicas: int,
    rate: float,
    baseline: float,
    tail: float,
    pre_stop: float,
) -> report.Rehearsal:
    run = report.Rehearsal(str(old), str(new), replicas, rate)
    async with haproxy.running(slots=replicas + 1) as proxy:
        with ExitStack() as processes:
            serving_in: dict[int, Process] = {}  # slot -> the replica in it

            async def start(release: Release, slot: int, what: str) -> None:
                started_at = time.monotonic()
                replica = processes.enter_context(serving(release, url))
                await proxy.attach(slot, int(replica.base_url.rsplit(":", 1)[1]))
                try:
                    await proxy.wait_for(slot, "UP", READY_WITHIN_SECONDS)
                except haproxy.HAProxyError:
                    raise haproxy.HAProxyError(
                        f"{what} never turned ready: {replica.output.strip()[-400:]}"
                    ) from None
                serving_in[slot] = replica
                run.steps.append(
                    report.Step(time.monotonic(), f"{what} ready", time.monotonic() - started_at)
                )

            async def stop(slot: int, what: str) -> None:
                await proxy.drain(slot)
                idle = await proxy.wait_idle(slot, STOP_WITHIN_SECONDS)
                run.steps.append(report.Step(time.monotonic(), f"{what} drained", idle))
                await asyncio.sleep(pre_stop)  # Kubernetes' preStop: endpoints catch up
                replica = serving_in.pop(slot)
                stopping = time.monotonic()
                replica.signal(signal.SIGTERM)
                await replica.finished(STOP_WITHIN_SECONDS)
                await proxy.detach(slot)
                run.steps.append(
                    report.Step(time.monotonic(), f"{what} stopped", time.monotonic() - stopping)
                )

            # The first one migrates the empty database; the others then start side by side.
            await start(old, 1, f"{old} replica 1")
            await asyncio.gather(
                *(start(old, slot, f"{old} replica {slot}") for slot in range(2, replicas + 1))
            )
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
            async with httpx.AsyncClient(
                base_url=proxy.url, timeout=REQUEST_TIMEOUT_SECONDS, limits=limits
            ) as client:
                load, halt = OpenLoop(client, rate), asyncio.Event()
                clock = load.clock
                budget = int(rate * (baseline + tail + replicas * READY_WITHIN_SECONDS)) + 1
                sending = asyncio.create_task(load.run(halt, budget))
                try:
                    await asyncio.sleep(baseline)
                    rollout_start = clock()
                    spare = replicas + 1
                    for number, slot in enumerate(range(1, replicas + 1), start=1):
                        await start(new, spare, f"{new} replica {number}")
                        await stop(slot, f"{old} replica {slot}")
                        spare = slot
                    run.rollout = (rollout_start, clock())
                    await asyncio.sleep(tail)
                except (haproxy.HAProxyError, AssertionError) as exc:
                    run.problem = str(exc).splitlines()[0]
                    run.rollout = (run.rollout[0] or clock(), clock())
                finally:
                    halt.set()
                    await sending
                run.samples = sorted(load.samples, key=lambda sample: sample.due)
                # Steps were timed on the monotonic clock: on the load's clock from here on.
                for step in run.steps:
                    step.at -= load.started
                run.acknowledged = len(load.seen.created)
                if run.problem is None:
                    run.lost = await traffic.lost(client, load.seen)
    return run


def publish(run: report.Rehearsal, output: Path) -> list[str]:
    output.mkdir(parents=True, exist_ok=True)
    lines = report.text(run)
    (output / "rehearsal.json").write_text(json.dumps(report.figures(run), indent=2) + "\n")
    (output / "rehearsal.txt").write_text("\n".join(lines) + "\n")
    report.plot(run, output / "rehearsal.png")
    return [*lines, f"  written: {output}/rehearsal.txt, .json and .png"]


def positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.release.rehearsal", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("previous", help="the previous release: a git tag or commit")
    parser.add_argument("--replicas", type=int, choices=range(1, 10), default=3, metavar="N")
    parser.add_argument("--rate", type=positive, default=40.0, help="requests per second")
    parser.add_argument("--baseline", type=positive, default=5.0, help="seconds before")
    parser.add_argument("--tail", type=positive, default=5.0, help="seconds after")
    parser.add_argument(
        "--pre-stop", type=float, default=1.0, help="seconds between drain and SIGTERM"
    )
    parser.add_argument("--output", type=Path, default=Path("rehearsal-results"))
    args = parser.parse_args(argv)
    server = Server(server_url(), prefix="rehearsal")

    async def go() -> report.Rehearsal:
        if (problem := await server.problem()) is not None:
            where = server.url.render_as_string(hide_password=True)
            raise ReleaseError(f"no PostgreSQL at {where} ({problem}); set TEST_POSTGRES_URL")
        with checked_out(args.previous) as old:
            async with server.temporary_database("rehearsal") as url:
                return await rehearse(
                    old,
                    this_tree(),
                    url,
                    replicas=args.replicas,
                    rate=args.rate,
                    baseline=args.baseline,
                    tail=args.tail,
                    pre_stop=args.pre_stop,
                )

    try:
        run = asyncio.run(go())
    except (ReleaseError, haproxy.HAProxyError) as exc:
        print(f"rehearsal: cannot run: {exc}", file=sys.stderr)
        return 2
    print("\n".join(publish(run, args.output)))
    return 0 if run.ok else 1


if __name__ == "__main__":
    sys.exit(main())
